"""Chunk vectors in Chroma (embedded, or a Chroma server): one vector per chunk id, our own embeddings only.

The client and collection are opened here; vectors are written, deleted and searched through llama-index's Chroma
integration (:class:`assistant.llama.ChromaVectors`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import ConfigError, StoreError
from assistant.llama import ChromaVectors
from assistant.settings import Settings, prepare_offline


class VectorIndex:
    """Opened on first use; ``damaged(what)`` words the error when it cannot be."""

    def __init__(self, settings: Settings, path: Path, damaged: Callable[[str], str]) -> None:
        self.settings = settings
        self.path = path
        self.damaged = damaged
        self._collection: Any = None
        self._client: Any = None
        self._vectors: ChromaVectors | None = None

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open()
        return self._collection

    def _open(self) -> Any:
        prepare_offline()
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        url = self.settings.chroma_url
        try:
            if url:
                parsed = urlparse(url if "://" in url else f"http://{url}")
                client = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
            else:
                client = chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
            self._client = client
            return client.get_or_create_collection(
                self.settings.collection,
                embedding_function=None,  # never let Chroma's default (downloading) embedder run
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:  # chromadb raises many types; all mean "cannot open"
            if url:
                raise ConfigError(f"Chroma server at {url} does not answer ({type(exc).__name__}); start `chroma run` or unset ASSISTANT_CHROMA_URL") from None
            raise StoreError(self.damaged(f"Chroma cannot open it ({type(exc).__name__}: {exc})")) from None

    @property
    def vectors(self) -> ChromaVectors:
        if self._vectors is None:
            self._vectors = ChromaVectors(self.collection)
        return self._vectors

    def _max_batch(self) -> int:
        try:
            if self._client is None:
                self._collection = self._open()
            return int(self._client.get_max_batch_size())
        except Exception:
            return 5000

    def count(self) -> int:
        return int(self.collection.count())

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The ``n`` nearest chunk ids with cosine similarity, best first."""
        try:
            return self.vectors.nearest(vector.tolist(), n)
        except Exception as exc:
            raise StoreError(self.damaged(f"the vector index failed ({type(exc).__name__}: {exc})")) from None

    def upsert(self, ids: list[str], vectors: np.ndarray, sources: list[str]) -> None:
        step = self._max_batch()
        for i in range(0, len(ids), step):
            self.vectors.write(ids[i : i + step], np.asarray(vectors[i : i + step], dtype=np.float32).tolist(), sources[i : i + step])

    def delete(self, ids: list[str]) -> None:
        step = self._max_batch()
        for i in range(0, len(ids), step):
            self.vectors.delete(ids[i : i + step])

    def ids(self) -> list[str]:
        """Every stored id, read page by page."""
        found: list[str] = []
        step = self._max_batch()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=step, offset=offset)["ids"]
            found += page
            if len(page) < step:
                return found
            offset += step
