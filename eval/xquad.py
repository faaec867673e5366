"""XQuAD cross-lingual benchmark: German paragraphs as documents, English questions (joined by id).

Each German paragraph becomes one ``.txt`` file ingested through the real
pipeline. For every English question we retrieve passages and rank the
distinct source paragraphs: hit@1, hit@5 and MRR (over the top 10) for hybrid
retrieval, and for dense-only and BM25-only as ablations; answer containment
is the share of extractive answers containing the German gold answer.

    .venv/bin/python eval/xquad.py [--limit N] [--workdir DIR] [--out eval/results/xquad-DATE.json]

Reference (see ../shared/datasets/README.md): dense-only multilingual-e5-small,
one vector per paragraph: hit@1 0.839, hit@5 0.975. Target: hit@1 >= 0.90, hit@5 >= 0.99.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.gold import contains  # noqa: E402
from eval.corpus import workspace, write_corpus  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "xquad"


def load(limit: int | None) -> tuple[list[str], list[tuple[str, int, str]]]:
    """German paragraphs, and (English question, paragraph index, German answer) triples."""
    de = json.loads((DATA / "xquad.de.json").read_text(encoding="utf-8"))
    en = json.loads((DATA / "xquad.en.json").read_text(encoding="utf-8"))
    english = {qa["id"]: qa["question"] for article in en["data"] for p in article["paragraphs"] for qa in p["qas"]}
    paragraphs, questions = [], []
    for article in de["data"]:
        for paragraph in article["paragraphs"]:
            index = len(paragraphs)
            paragraphs.append(paragraph["context"])
            for qa in paragraph["qas"]:
                questions.append((english[qa["id"]], index, qa["answers"][0]["text"]))
    if limit:
        questions = [q for q in questions if q[1] < limit]
        paragraphs = paragraphs[:limit]
    return paragraphs, questions


def ranks(sources: list[str], gold: str) -> int | None:
    distinct = list(dict.fromkeys(sources))
    return distinct.index(gold) + 1 if gold in distinct else None


def summary(found: list[int | None]) -> dict[str, float]:
    n = len(found)
    return {
        "hit_at_1": round(sum(1 for r in found if r == 1) / n, 4),
        "hit_at_5": round(sum(1 for r in found if r is not None and r <= 5) / n, 4),
        "mrr": round(sum(1 / r for r in found if r is not None) / n, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N paragraphs (and their questions)")
    parser.add_argument("--workdir", type=Path, help="keep the corpus files and the store here (re-runs skip unchanged files)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"xquad-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"XQuAD not found at {DATA}: this benchmark needs ../shared/datasets beside the project")
    paragraphs, questions = load(args.limit)
    with workspace(args.workdir) as work:
        paths = write_corpus(work / "docs", {f"p{i:04d}.txt": text for i, text in enumerate(paragraphs)})
        with Assistant(store=str(work / "store"), top_k=10) as bot:
            started = time.perf_counter()
            report = bot.ingest([work / "docs"], prune=True)
            ingest_s = time.perf_counter() - started
            store = bot._open_store(create=False)
            hybrid, dense, lexical, contained = [], [], [], 0
            started = time.perf_counter()
            for question, index, answer in questions:
                gold = paths[f"p{index:04d}.txt"]
                result = bot.ask(question)
                hybrid.append(ranks([p.source for p in result.passages], gold))
                contained += contains(result.text, answer)
                vector = bot.embedder.embed_query(question)
                by_id = store.chunks_by_id([cid for cid, _ in store.dense_search(vector, 20)])
                dense.append(ranks([by_id[c].source for c, _ in store.dense_search(vector, 20) if c in by_id], gold))
                lexical_hits = store.lexical_search(question, 20)
                by_id = store.chunks_by_id([cid for cid, _ in lexical_hits])
                lexical.append(ranks([by_id[c].source for c, _ in lexical_hits if c in by_id], gold))
            query_s = time.perf_counter() - started
            settings = bot.settings.model_dump(mode="json", exclude={"llm_api_key", "embed_api_key", "store"})
    result = {
        "benchmark": "xquad de-paragraphs/en-questions",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "paragraphs": len(paragraphs),
        "chunks_embedded_this_run": report.chunks_embedded,
        "questions": len(questions),
        "hybrid": summary(hybrid),
        "dense_only": summary(dense),
        "bm25_only": summary(lexical),
        "answer_containment": round(contained / len(questions), 4),
        "ingest_seconds": round(ingest_s, 1),
        "ask_ms_mean": round(query_s / len(questions) * 1000, 1),
        "settings": settings,
        "targets": {"hit_at_1": 0.90, "hit_at_5": 0.99},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "settings"}, indent=2))


if __name__ == "__main__":
    main()
