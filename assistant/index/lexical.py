"""BM25 over the manifest's FTS5 index, reading a bounded number of postings per question."""

from __future__ import annotations

from assistant.index.manifest import Manifest
from assistant.text.lexicon import search_terms

MAX_TERMS = 6
MAX_POSTINGS = 10_000
"""Lexical search reads at most about this many index entries: its cost stays bounded as the store grows."""
TIE_MARGIN = 16
"""Rows fetched beyond the n asked for, so ties with the n-th best are decided by chunk id, not by write order."""


class LexicalIndex:
    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._frequency: dict[str, int] = {}
        self._frequency_key = (-1, -1)

    def search(self, question: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids with BM25 scores (higher is better), best first."""
        terms = self.selective_terms(search_terms(question))
        if not terms:
            return []
        query = " OR ".join(f'"{t}"' for t in terms)
        # Rank in FTS5 alone and join only the best rows (joining every match first is 3x slower at 100k chunks),
        # fetching a few more than n so that rows tied with the n-th are all seen: ordered by (score, chunk id),
        # the same content then gives the same hits whatever order its rows were written in (rowids differ
        # after an interrupted ingest). A tie run longer than the margin takes the exact, slower query.
        rows = self.manifest.db.execute(
            "SELECT chunks.id, hit.s FROM (SELECT rowid, bm25(fts) AS s FROM fts WHERE fts MATCH ? ORDER BY s LIMIT ?) AS hit "
            "JOIN chunks ON chunks.rowid = hit.rowid ORDER BY hit.s, chunks.id",
            (query, n + TIE_MARGIN),
        ).fetchall()
        if len(rows) == n + TIE_MARGIN and rows[n - 1][1] == rows[-1][1]:
            rows = self.manifest.db.execute(
                "SELECT chunks.id, hit.s FROM (SELECT rowid, bm25(fts) AS s FROM fts WHERE fts MATCH ?) AS hit "
                "JOIN chunks ON chunks.rowid = hit.rowid ORDER BY hit.s, chunks.id LIMIT ?",
                (query, n),
            ).fetchall()
        rows = rows[:n]
        return [(cid, -float(score)) for cid, score in rows]

    def selective_terms(self, terms: list[str]) -> list[str]:
        """The rarest terms: at most MAX_TERMS, none in over a tenth of the chunks, MAX_POSTINGS in all.

        Common terms barely change BM25 ranks but make FTS5 score most of the index:
        on a 100k-chunk store they made a long question's lexical search ~10x slower.
        The postings budget only binds past about 17k chunks (6 terms x a tenth).
        """
        if not terms:
            return []
        frequency = self.frequencies(terms)
        limit = max(50, self.manifest.chunk_count() // 10)
        present = sorted((frequency[t], t) for t in terms if t in frequency and frequency[t] <= limit)
        chosen: list[str] = []
        postings = 0
        for count, term in present[:MAX_TERMS]:
            if chosen and postings + count > MAX_POSTINGS:
                break
            chosen.append(term)
            postings += count
        return chosen

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each term (absent terms left out), cached until the store changes.

        fts5vocab counts a term's documents by reading its whole posting list, and it
        answers ``term IN (...)`` by scanning the vocabulary: 11 ms per question at 100k
        chunks, most of it spent on the same common words question after question.
        """
        key = self.manifest.state()
        if self._frequency_key != key:
            self._frequency, self._frequency_key = {}, key
        for term in terms:
            if term not in self._frequency:
                row = self.manifest.db.execute("SELECT doc FROM fts_vocab WHERE term = ?", (term,)).fetchone()
                self._frequency[term] = int(row[0]) if row else 0
        return {t: self._frequency[t] for t in terms if self._frequency[t]}
