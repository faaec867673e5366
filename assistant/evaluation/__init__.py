"""Scoring the assistant against gold answers: the gold file format (gold), the harness with its metrics and
regression gate (harness), and the optional LLM judge (judge).
"""
