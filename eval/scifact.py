"""SciFact benchmark: retrieval recall@10 of gold abstracts for the validation claims, and sentence-level citations.

Each abstract becomes one ``.txt`` file (title, blank line, sentences one per
line) ingested through the real pipeline. For every validation claim with
evidence: recall@10 = share of its gold abstracts among the distinct sources
of the top 40 passages, first ten (hybrid, and BM25-only as the reference point), and the
extractive answer's citations are checked at sentence level: a citation is
correct when it overlaps a gold evidence sentence of a gold abstract.

    .venv/bin/python eval/scifact.py [--docs N] [--workdir DIR] [--out eval/results/scifact-DATE.json]

Reference (../shared/datasets/README.md): BM25 over whole abstracts recall@10 about 0.885; target >= 0.92.
``--docs N`` keeps every gold abstract plus the first others up to N (a smaller, easier corpus).
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
from eval.corpus import workspace, write_corpus  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "scifact"


def load(limit: int | None) -> tuple[list[dict], list[dict]]:
    corpus = [json.loads(line) for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    claims = [json.loads(line) for line in (DATA / "claims_validation.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    claims = [c for c in claims if c["evidence"]]
    if limit:
        gold = {e["doc_id"] for c in claims for e in c["evidence"]}
        keep = [d for d in corpus if d["doc_id"] in gold]
        keep += [d for d in corpus if d["doc_id"] not in gold][: max(0, limit - len(keep))]
        corpus = keep
    return corpus, claims


def document_text(doc: dict) -> tuple[str, list[tuple[int, int]]]:
    """The file text and the character span of each abstract sentence in it."""
    text = doc["title"].strip() + "\n\n"
    spans = []
    for sentence in doc["sentences"]:
        sentence = sentence.strip()
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence + "\n"
    return text, spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, help="corpus size: gold abstracts plus others up to N (default: all 5,183)")
    parser.add_argument("--workdir", type=Path, help="keep the corpus files and the store here (re-runs skip unchanged files)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"scifact-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"SciFact not found at {DATA}: this benchmark needs ../shared/datasets beside the project")
    corpus, claims = load(args.docs)
    spans, files = {}, {}
    for doc in corpus:
        files[f"{doc['doc_id']}.txt"], spans[doc["doc_id"]] = document_text(doc)
    with workspace(args.workdir) as work:
        paths = write_corpus(work / "docs", files)
        path_of = {doc["doc_id"]: paths[f"{doc['doc_id']}.txt"] for doc in corpus}
        with Assistant(store=str(work / "store"), top_k=10) as bot:
            started = time.perf_counter()
            report = bot.ingest([work / "docs"], prune=True)
            ingest_s = time.perf_counter() - started
            store = bot.store
            hybrid, lexical, cited, citations_total, citations_good = [], [], 0, 0, 0
            started = time.perf_counter()
            for claim in claims:
                gold_paths = {path_of[e["doc_id"]] for e in claim["evidence"] if e["doc_id"] in path_of}
                # recall@10 counts ten distinct abstracts: an abstract may have several chunks among the passages
                top = list(dict.fromkeys(p.source for p in bot.retrieve(claim["claim"], k=40)))[:10]
                hybrid.append(len(gold_paths & set(top)) / len(gold_paths))
                hits = store.lexical_search(claim["claim"], 40)
                by_id = store.chunks_by_id([cid for cid, _ in hits])
                top_lex = list(dict.fromkeys(by_id[c].source for c, _ in hits if c in by_id))[:10]
                lexical.append(len(gold_paths & set(top_lex)) / len(gold_paths))
                answer = bot.ask(claim["claim"])
                evidence = {(path_of[e["doc_id"]], i) for e in claim["evidence"] for i in e["sentences"] if e["doc_id"] in path_of}
                good = 0
                for citation in answer.citations:
                    doc_id = Path(citation.source).stem
                    overlap = any(
                        (citation.source, i) in evidence and citation.start < b and a < citation.end
                        for i, (a, b) in enumerate(spans.get(doc_id, []))
                    )
                    good += overlap
                citations_total += len(answer.citations)
                citations_good += good
                cited += good > 0
            query_s = time.perf_counter() - started
            settings = bot.settings.model_dump(mode="json", exclude={"llm_api_key", "embed_api_key", "store"})
    result = {
        "benchmark": "scifact validation claims with evidence",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "documents": len(corpus),
        "chunks_embedded_this_run": report.chunks_embedded,
        "claims": len(claims),
        "recall_at_10_hybrid": round(sum(hybrid) / len(hybrid), 4),
        "recall_at_10_bm25_only": round(sum(lexical) / len(lexical), 4),
        "citation_sentence_precision": round(citations_good / citations_total, 4) if citations_total else 0.0,
        "claims_with_a_gold_sentence_cited": round(cited / len(claims), 4),
        "ingest_seconds": round(ingest_s, 1),
        "seconds_per_claim": round(query_s / len(claims), 3),
        "settings": settings,
        "targets": {"recall_at_10": 0.92},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "settings"}, indent=2))


if __name__ == "__main__":
    main()
