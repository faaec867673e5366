"""The Python API: :class:`Assistant` ties settings, store, embedder and answerer together.

Everything the CLI and the chat do goes through this class. Heavy parts
(Chroma, the embedding model, the LLM client) are created on first use, so
constructing an ``Assistant`` is cheap and never touches the network.

>>> from assistant import Assistant
>>> bot = Assistant(store="/tmp/kb")                 # doctest: +SKIP
>>> bot.ingest(["seeds/"])                           # doctest: +SKIP
>>> print(bot.ask("What deadline did the US set?").text)  # doctest: +SKIP
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.embed import Embedder, make_embedder
from assistant.errors import QuestionError
from assistant.settings import Settings, load_settings
from assistant.types import Answer, IngestReport, Passage, StoreStatus

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Assistant:
    """Answers questions from your documents, citing the passages it used.

    ``settings`` wins over ``overrides``; without either, settings come from
    ``ASSISTANT_*`` environment variables. ``embedder`` replaces the configured
    one (tests pass a deterministic fake).
    """

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None, **overrides: Any) -> None:
        self.settings = settings or load_settings(**overrides)
        self._embedder = embedder
        self._store: Any = None

    # ---- parts, created lazily --------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    def _open_store(self, create: bool) -> Any:
        if self._store is None:
            from assistant.store import Store

            self._store = Store(self.settings, create=create)
        return self._store

    # ---- documents ----------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], *, prune: bool = False, progress: Any = None) -> IngestReport:
        """Add, update (and with ``prune``, remove) documents. See :func:`assistant.ingest.ingest`."""
        from assistant.ingest import ingest

        store = self._open_store(create=True)
        store.acquire_write_lock()
        try:
            return ingest(store, self.embedder, self.settings, paths, prune=prune, progress=progress)
        finally:
            store.release_write_lock()

    def forget(self, paths: Sequence[str | Path]) -> list[str]:
        """Remove documents (files, or every document under a folder) from the store; returns their sources."""
        store = self._open_store(create=False)
        store.acquire_write_lock()
        try:
            known = store.documents()
            targets = []
            for raw in paths:
                path = str(Path(raw).expanduser().resolve())
                targets += [s for s in known if s == path or s.startswith(path.rstrip("/") + "/")]
            store.remove(sorted(set(targets)))
            return sorted(set(targets))
        finally:
            store.release_write_lock()

    def status(self) -> StoreStatus:
        path = Path(self.settings.store).expanduser()
        if not path.exists():
            return StoreStatus(str(path), None, 0, 0)
        return self._open_store(create=False).status()

    # ---- questions ----------------------------------------------------------------------------
    def clean_question(self, question: str) -> str:
        """Strip control characters and surrounding space; refuse empty questions, truncate huge ones."""
        if not isinstance(question, str):
            raise QuestionError(f"a question must be text, not {type(question).__name__}")
        cleaned = " ".join(_CONTROL.sub(" ", question).split())
        if not cleaned:
            raise QuestionError("the question is empty; ask something, e.g. assistant ask \"What deadline did the US set?\"")
        return cleaned[: self.settings.max_question_chars]

    def _retrieval(self, question: str, k: int | None) -> Any:
        from assistant.retrieve import retrieve

        store = self._open_store(create=False)
        store.check_embedder(self.embedder.name)
        return retrieve(store, self.embedder, self.clean_question(question), k or self.settings.top_k)

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The ``k`` passages most relevant to ``question``, best first (hybrid dense + BM25)."""
        return self._retrieval(question, k).passages

    def ask(self, question: str, k: int | None = None) -> Answer:
        """Answer ``question`` from the store, with citations (extractive without an LLM)."""
        from assistant.extractive import answer_extractive

        started = time.perf_counter()
        retrieval = self._retrieval(question, k)
        text, citations, abstained = answer_extractive(self._store, retrieval, self.settings.min_relevance)
        timings = dict(retrieval.timings, total_ms=(time.perf_counter() - started) * 1000)
        return Answer(question, text, citations, retrieval.passages, abstained, "extractive", timings)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
