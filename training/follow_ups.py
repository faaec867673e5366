"""How well :func:`assistant.answer.conversation.is_follow_up` tells a follow-up from a question that stands alone.

    .venv/bin/python -m training.follow_ups [--split dev|test] [--out eval/results/follow-ups-DATE.json]

No public conversational set ships with the project, so follow-ups are made from the fitting sets (PIAF, the
SQuAD 2.0 subset), split by article as everywhere (``training.answerer_data``): for two questions about the same
paragraph, the second is rewritten as a user would ask it after the first, three ways —

- *pronoun*: the longest run of words it shares with the first (a name, a topic) becomes a pronoun
  ("What areas did Beyoncé compete in?" after "When did Beyoncé become popular?" -> "What areas did she compete in?");
- *elliptic*: only its words the first lacks, after "and"/"et" ("And what areas compete in?");
- *short*: "what about" + its first three words the first lacks ("What about areas compete in?").

Questions that stand alone are every question of the split as written (SQuAD and PIAF questions are written to be
read alone). A follow-up joined to the question before it is retrieved right; a standalone question joined to an
unrelated one is retrieved worse: so a miss costs a follow-up its context, a false alarm costs a question its focus.
The generator is ours, so these figures bound the rule on such rewrites; they are not a measure of real chats.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from pathlib import Path

from assistant.answer.conversation import is_follow_up
from training.answerer_data import ROOT, load_articles

PRONOUNS = {"squad2": {"she": "she", "he": "he", "it": "it", "they": "they"}, "piaf": {"il": "il", "elle": "elle", "cela": "cela"}}
CONNECTOR = {"squad2": "And", "piaf": "Et"}
ABOUT = {"squad2": "What about", "piaf": "Et pour"}
_WORD = re.compile(r"[\w'’-]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _pick(key: str, options: list[str]) -> str:
    return options[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(options)]


def rewrites(dataset: str, first: str, second: str, key: str) -> dict[str, str]:
    """``second`` rewritten as a follow-up to ``first``, each way that applies."""
    shared = {w.casefold() for w in _words(first)}
    words = _words(second)
    out: dict[str, str] = {}
    best: tuple[int, int] = (0, 0)
    at = 0
    while at < len(words):  # the longest run of shared words that holds a capitalised word or a word of 4+ letters
        end = at
        while end < len(words) and words[end].casefold() in shared:
            end += 1
        if end - at > best[1] - best[0] and any(w[:1].isupper() or len(w) >= 4 for w in words[at:end]):
            best = (at, end)
        at = max(end, at + 1)
    def named(w: str) -> bool:
        return w[:1].isupper() or len(w) >= 4

    while best[1] > best[0] and not named(words[best[0]]):  # "did Beyoncé" -> "Beyoncé": the pronoun takes the name only
        best = (best[0] + 1, best[1])
    while best[1] > best[0] and not named(words[best[1] - 1]):
        best = (best[0], best[1] - 1)
    if best[1] > best[0] and best[0] > 0:
        pronoun = _pick(key, list(PRONOUNS[dataset]))
        out["pronoun"] = " ".join([*words[: best[0]], pronoun, *words[best[1] :]]) + " ?"
    new = [w for w in words if w.casefold() not in shared]
    if new:
        out["elliptic"] = f"{CONNECTOR[dataset]} {' '.join(new).lower()} ?"
        out["short"] = f"{ABOUT[dataset]} {' '.join(new[:3]).lower()} ?"
    return out


def examples(split: str) -> list[tuple[str, str, bool]]:
    """``(kind, text, is a follow-up)`` for every question of ``split`` and the rewrites of consecutive pairs."""
    rows: list[tuple[str, str, bool]] = []
    for article in load_articles():
        if article.split != split:
            continue
        by_paragraph: dict[int, list[str]] = {}
        for qa in article.questions:
            rows.append(("standalone", qa.text, False))
            by_paragraph.setdefault(qa.paragraph, []).append(qa.text)
        for questions in by_paragraph.values():
            for first, second in zip(questions, questions[1:], strict=False):
                for kind, text in rewrites(article.dataset, first, second, f"{article.title}:{second}").items():
                    rows.append((kind, text, True))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"follow-ups-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    rows = examples(args.split)
    said = [(kind, truth, is_follow_up(text)) for kind, text, truth in rows]
    tp = sum(1 for _, t, p in said if t and p)
    fp = sum(1 for _, t, p in said if not t and p)
    fn = sum(1 for _, t, p in said if t and not p)
    result = {"date": time.strftime("%Y-%m-%d"), "split": args.split, "rule": "is_follow_up: <= 5 words or a connector first",
              "precision": round(tp / max(tp + fp, 1), 3), "recall": round(tp / max(tp + fn, 1), 3),
              "standalone_read_as_follow_up": round(fp / max(sum(1 for _, t, _ in said if not t), 1), 3), "by_kind": {}}
    for kind in sorted({k for k, _, _ in said}):
        mine = [p for k, _, p in said if k == kind]
        result["by_kind"][kind] = {"n": len(mine), "read_as_follow_up": round(sum(mine) / len(mine), 3)}  # type: ignore[index]
    print(json.dumps(result, indent=1))
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
