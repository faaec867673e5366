"""Chunks to a searchable store: embed them (embed), keep their vectors in Chroma (vectors), their text, spans and
sentence vectors in SQLite (manifest), their words in an FTS5 index (lexical), and keep the three consistent (store).
"""
