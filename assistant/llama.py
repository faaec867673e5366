"""The one place llama-index is imported: its types never cross this module's functions.

What it does for us: the sentence-first chunk splitter and the Punkt sentence tokenizer (chunking), hit rate and
MRR (the evaluation harness), and the Chroma integration (``llama-index-vector-stores-chroma``) through which every
chunk vector is written, deleted and searched. Each is imported on first use, after :func:`prepare_offline`, so
importing the package stays cheap and nothing downloads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from assistant.settings import prepare_offline


def sentence_splitter(chunk_size: int, chunk_overlap: int, tokenize: Callable[[str], list[int]]) -> Callable[[str], list[str]]:
    """``split(text)``: llama-index's ``SentenceSplitter`` pieces (sentences first, ``chunk_size`` tokens at most)."""
    prepare_offline()
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, tokenizer=tokenize).split_text


PUNKT_MODELS = {"cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish", "et": "estonian",
                "fi": "finnish", "fr": "french", "it": "italian", "ml": "malayalam", "nb": "norwegian", "nl": "dutch", "no": "norwegian",
                "pl": "polish", "pt": "portuguese", "ru": "russian", "sl": "slovene", "sv": "swedish", "tr": "turkish"}
"""Languages cut by their own trained Punkt model (llama-index-core bundles them): it knows that German's "am 7.
Januar" or "im 19. Jahrhundert" goes on, and English's "St. John's" or "the U.S. market", which the untrained
Punkt cut (in 48 of XQuAD's 240 German paragraphs, 77 of SQuAD's 694, 10 of PIAF's 761). Other languages are cut by
sentencex (:func:`assistant.text.sentences.sentence_bounds`)."""


@lru_cache(maxsize=32)
def _punkt(model: str | None = None) -> Any:
    """llama-index's Punkt (untrained: no abbreviations known), or the bundled trained ``model``."""
    prepare_offline()
    from llama_index.core.utils import globals_helper

    untrained = globals_helper.punkt_tokenizer  # also puts the bundled models on NLTK's data path
    if model is None:
        return untrained
    from nltk.tokenize.punkt import PunktTokenizer

    try:
        return PunktTokenizer(model)
    except LookupError:  # not bundled by this llama-index-core: cut as before
        return untrained


def punkt_bounds(text: str, language: str | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence Punkt finds in ``text``, with the trained model of ``language`` (ISO 639-1)
    when :data:`PUNKT_MODELS` names one.

    >>> text = "Tesla starb am 7. Januar 1943. Er war 86."
    >>> [text[a:b] for a, b in punkt_bounds(text, "de")], len(punkt_bounds(text))
    (['Tesla starb am 7. Januar 1943.', 'Er war 86.'], 3)
    """
    return [(int(start), int(end)) for start, end in _punkt(PUNKT_MODELS.get(language or "")).span_tokenize(text)]


def hit_rate(expected: list[str], retrieved: list[str]) -> float:
    """1.0 when any expected id is among ``retrieved`` (llama-index ``HitRate``)."""
    from llama_index.core.evaluation.retrieval.metrics import HitRate

    return float(HitRate().compute(expected_ids=expected, retrieved_ids=retrieved).score)


def reciprocal_rank(expected: list[str], retrieved: list[str]) -> float:
    """1 / rank of the first expected id in ``retrieved``, 0 when absent (llama-index ``MRR``)."""
    from llama_index.core.evaluation.retrieval.metrics import MRR

    return float(MRR().compute(expected_ids=expected, retrieved_ids=retrieved).score)


class ChromaVectors:
    """A Chroma collection seen through llama-index's ``ChromaVectorStore``: ids, vectors and a source name.

    Each vector is written as a text-less ``TextNode`` (the chunk's text lives in our SQLite manifest, not twice),
    so a collection written here is also readable by any llama-index ``VectorStoreIndex`` over Chroma. Rows written
    before (a plain ``{"source": ...}`` metadata) are read through the integration's legacy path.
    """

    def __init__(self, collection: Any) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self._store = ChromaVectorStore(chroma_collection=collection)

    def write(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], sources: Sequence[str]) -> None:
        """Insert or replace: ids already stored are deleted first (the integration only adds)."""
        from llama_index.core.schema import BaseNode, TextNode

        rows = zip(ids, vectors, sources, strict=True)
        nodes: list[BaseNode] = [TextNode(id_=i, text="", embedding=list(v), metadata={"source": s}) for i, v, s in rows]
        self._store.delete_nodes(node_ids=list(ids))
        self._store.add(nodes)

    def delete(self, ids: Sequence[str]) -> None:
        self._store.delete_nodes(node_ids=list(ids))

