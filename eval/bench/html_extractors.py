"""Which HTML text extractor: main content kept in whole sentences, boilerplate dropped, speed.

    .venv/bin/python eval/bench/html_extractors.py [--pages 80] [--root DIR]

Real pages: mdBook/rustdoc pages found under ``--root`` (default: the Rust toolchain's bundled
documentation, ``~/.rustup``), whose article is the ``<main>`` element and whose boilerplate
(sidebar table of contents, menu bar, navigation) is everything else. For each extractor:

- sentence recall: share of the prose sentences of ``<main>`` (``<p>``/``<li>`` text with inline
  elements kept in place, at least 5 words) found whole, whitespace-normalised, in its output;
- boilerplate leak: share of the text lines outside ``<main>`` (at least 2 words) found in its output;
- milliseconds per page.

Prints one table and writes eval/results/html-extractors-DATE.json. Needs the candidates installed:
``pip install trafilatura inscriptis html-text resiliparse``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def norm(text: str) -> str:
    return " ".join(text.split())


def truth(html: str) -> tuple[list[str], list[str]] | None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main")
    if main is None:
        return None
    sentences = []
    for block in main.find_all(["p", "li"]):
        if block.find(["p", "li", "pre"]):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", norm(block.get_text(""))):
            if len(sentence.split()) >= 5:
                sentences.append(sentence)
    main_text = norm(main.get_text(" "))
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    main.decompose()
    outside = [norm(line) for line in soup.get_text("\n").splitlines()]
    outside = [line for line in dict.fromkeys(outside) if len(line.split()) >= 2 and line not in main_text]
    return sentences, outside


def soup_text(html: str) -> str:
    """What the loader did before 2026-11-26: beautifulsoup4's ``get_text`` with a line break at every tag."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head", "svg", "iframe"]):
        tag.decompose()
    return soup.get_text(separator="\n")


def extractors() -> dict[str, Callable[[str], str]]:
    from assistant.ingest.loaders.markup import load_html

    found: dict[str, Callable[[str], str]] = {
        "beautifulsoup4 (before)": soup_text,
        "assistant load_html (now)": lambda h: load_html(h.encode("utf-8")).text,
    }
    try:
        import trafilatura

        found["trafilatura"] = lambda h: trafilatura.extract(h, include_tables=True, include_comments=False, favor_recall=True) or ""
    except ImportError:
        pass
    try:
        from inscriptis import get_text

        found["inscriptis"] = get_text
    except ImportError:
        pass
    try:
        import html_text as ht

        found["html-text"] = ht.extract_text
    except ImportError:
        pass
    try:
        from resiliparse.extract.html2text import extract_plain_text

        found["resiliparse (main_content)"] = lambda h: extract_plain_text(h, main_content=True)
    except ImportError:
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=80)
    parser.add_argument("--root", type=Path, default=Path.home() / ".rustup")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"html-extractors-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    files = sorted(p for p in args.root.rglob("*.html") if "/book/" in str(p) or "/rustdoc/" in str(p) or "/cargo/" in str(p))
    random.Random(0).shuffle(files)
    pages = []
    for file in files:
        html = file.read_text(encoding="utf-8", errors="replace")
        t = truth(html)
        if t and len(t[0]) >= 3 and t[1]:
            pages.append((file, html, *t))
        if len(pages) == args.pages:
            break
    rows = []
    print(f"{len(pages)} pages from {args.root}")
    print(f"{'extractor':<28} {'sentence recall':>16} {'boilerplate leak':>17} {'ms/page':>8}")
    for name, extract in extractors().items():
        recall, leak, ms = [], [], []
        for _, html, sentences, outside in pages:
            t0 = time.perf_counter()
            text = norm(extract(html))
            ms.append((time.perf_counter() - t0) * 1000)
            recall.append(sum(s in text for s in sentences) / len(sentences))
            leak.append(sum(o in text for o in outside) / len(outside))
        row = {"extractor": name, "sentence_recall": round(statistics.mean(recall), 3), "boilerplate_leak": round(statistics.mean(leak), 3),
               "ms_per_page": round(statistics.median(ms), 1)}
        rows.append(row)
        print(f"{name:<28} {row['sentence_recall']:>16.3f} {row['boilerplate_leak']:>17.3f} {row['ms_per_page']:>8.1f}")
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "pages": len(pages),
                                    "root": str(args.root), "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
