"""The follow-up rule and the rewrites its README figures are measured on (training/follow_ups.py)."""

from __future__ import annotations

from assistant.answer.conversation import is_follow_up
from training.follow_ups import rewrites


def test_rewrites_make_the_three_kinds_of_follow_up() -> None:
    made = rewrites("squad2", "When did Beyoncé become popular?", "What areas did Beyoncé compete in?", "k")
    assert made["pronoun"].startswith("What areas did ") and "Beyoncé" not in made["pronoun"]
    assert made["elliptic"] == "And what areas compete in ?"
    assert made["short"] == "What about what areas compete ?"


def test_a_question_mark_after_a_space_is_not_a_word() -> None:
    assert is_follow_up("Combien pour les cadres supérieurs ?")  # five words, as French writes its question mark
    assert not is_follow_up("Combien de jours de congé ont les cadres ?")
