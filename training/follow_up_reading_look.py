"""A look, not a fit: in a chat without an LLM, which question should the reader read for a follow-up?

A follow-up ("And for international trips?") is retrieved joined to the question before it, and its sentence is
chosen by its own words (``assistant.api``, ``refocus``); the reader reads those words alone, an elliptic question
unlike any it learnt from. Compared here, per policy, on follow-ups made from the development split by
:mod:`training.follow_ups` (its *elliptic*, *short* and *pronoun* rewrites of the second of two questions about one
paragraph, those :func:`is_follow_up` reads as follow-ups), asked over a fitting work folder's full store (every
paragraph, both languages): whether the quote holds the second question's answer, and whether it is abstained on.

- ``own words``: the reader reads the follow-up as asked (as shipped until 2026-12-07);
- ``joined``: the reader reads the joined question the passages were retrieved with;
- ``no reader``: the sentence model and the calibrated abstention alone.

    .venv/bin/python -m training.follow_up_reading_look --workdir DIR [--pairs N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from assistant.answer.conversation import is_follow_up  # noqa: E402
from assistant.answer.conversation import joined as joined_question  # noqa: E402
from training.answerer_data import load_articles  # noqa: E402
from training.follow_ups import rewrites  # noqa: E402

POLICIES = ("own words", "joined", "no reader")


class _Asking:
    """A reader that reads another question than the one it is given (``joined``)."""

    def __init__(self, reader: Any, question: str) -> None:
        self.reader, self.question = reader, question

    def read(self, question: str, chunks: Sequence[Any], focus: Any = None, same: Any = None) -> Any:
        return self.reader.read(self.question, chunks, focus, same)


def follow_ups(split: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """``(kind, first question, follow-up, answers of the second)`` for consecutive answerable questions of a paragraph."""
    out = []
    for article in load_articles():
        if article.split != split:
            continue
        by_paragraph: dict[int, list[Any]] = {}
        for qa in article.questions:
            if qa.answers:
                by_paragraph.setdefault(qa.paragraph, []).append(qa)
        for questions in by_paragraph.values():
            for first, second in zip(questions, questions[1:], strict=False):
                for kind, text in rewrites(article.dataset, first.text, second.text, f"{article.title}:{second.text}").items():
                    if is_follow_up(text):
                        out.append((kind, first.text, text, tuple(a for a, _ in second.answers)))
    return out


def main() -> None:
    from assistant import Assistant
    from assistant.answer.extractive import answer_extractive
    from assistant.answer.features import Question
    from assistant.answer.retrieve import refocus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="a fitting work folder (python -m training.train_answerer)")
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--pairs", type=int, default=600, help="follow-ups drawn (seeded) from the split's")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    found = follow_ups(args.split)
    random.Random(20261207).shuffle(found)
    found = found[: args.pairs]
    counts = {p: {"contained": 0, "abstained": 0} for p in POLICIES}
    by_kind: dict[str, dict[str, int]] = {}
    began = time.time()
    with Assistant(store=str(args.workdir / "stores" / "full")) as bot:
        for kind, first, text, answers in found:
            asked = bot.clean_question(text)
            joined = bot.clean_question(joined_question(bot.clean_question(first), asked))  # as the chat joins it
            retrieval = refocus(bot._retrieval(joined, None), Question.of(asked, bot.embedder.embed_query(asked)))
            for policy in POLICIES:
                readers = {"own words": lambda: bot.reader, "joined": lambda q=joined: _Asking(bot.reader, q), "no reader": None}
                reader = readers[policy]
                said, _, abstained, _ = answer_extractive(retrieval, bot.scorer, bot.embedder, None, reader)
                hit = not abstained and any(a.casefold() in said.casefold() for a in answers)
                counts[policy]["contained"] += hit
                counts[policy]["abstained"] += abstained
                by_kind.setdefault(f"{kind} / {policy}", {"n": 0, "contained": 0})
                by_kind[f"{kind} / {policy}"]["n"] += 1
                by_kind[f"{kind} / {policy}"]["contained"] += hit
    n = len(found)
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "split": args.split, "follow_ups": n, "seconds": round(time.time() - began),
              "policies": {p: {k: round(v / n, 4) for k, v in c.items()} for p, c in counts.items()},
              "by_kind": {k: {"n": v["n"], "contained": round(v["contained"] / v["n"], 4)} for k, v in sorted(by_kind.items())}}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
