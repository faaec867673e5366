"""The manifest's BM25 index: FTS5 over the chunks as :func:`assistant.text.lexicon.index_text` writes them.

The SQL lives here, the tables it indexes in :mod:`assistant.index.manifest`, the search in :mod:`assistant.index.lexical`.
"""

from __future__ import annotations

import sqlite3

from assistant.text.lexicon import index_text

INDEX = (
    "CREATE VIEW IF NOT EXISTS chunk_terms AS SELECT rowid AS rid, lexical_text(text) AS text FROM chunks",
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(text, content='chunk_terms', content_rowid='rid',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row')",
    "CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN"
    " INSERT INTO fts(rowid, text) VALUES (new.rowid, lexical_text(new.text)); END",
    "CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN"
    " INSERT INTO fts(fts, rowid, text) VALUES ('delete', old.rowid, lexical_text(old.text)); END",
)
"""The BM25 index: FTS5 over the chunks as :func:`assistant.text.lexicon.index_text` writes them (folded as questions
are; Chinese, Japanese, Thai, ... cut into pairs of characters), kept in step by triggers."""
LEXICAL_TEXT = "lexical_text"
"""The SQL function the BM25 index reads chunks through (:func:`assistant.text.lexicon.index_text`): a connection
that writes chunks, or checks the index, registers it (:func:`register`)."""
OLD_INDEX = ("DROP TRIGGER IF EXISTS chunks_ai", "DROP TRIGGER IF EXISTS chunks_ad", "DROP TABLE IF EXISTS fts_vocab",
             "DROP TABLE IF EXISTS fts")
"""What a store of schema 1 or 2 indexed its chunks with (FTS5 over their raw text): dropped before :data:`INDEX`."""


def register(db: sqlite3.Connection) -> None:
    """Give a connection to a manifest the function its BM25 index reads chunks through (:data:`LEXICAL_TEXT`)."""
    db.create_function(LEXICAL_TEXT, 1, index_text, deterministic=True)
