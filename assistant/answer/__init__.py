"""Question to cited answer: gather and rank passages (retrieve, features, scorer), then answer by quoting their
sentences (extractive) or through an LLM whose sentences are checked against the passages they cite (generate,
citations, prompts); follow-up questions in a conversation (conversation).
"""
