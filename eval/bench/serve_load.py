"""`assistant serve` under load, beside a writer: latency and throughput against asking in-process.

    .venv/bin/python eval/bench/serve_load.py [--base 100] [--more 200] [--questions 25]

A store of ``--base`` SciFact abstracts is built first; the server answers from it. The same ``--questions``
SciFact validation claims (their gold abstracts in the store) are asked: in-process, one after another (the
baseline); then over HTTP by 1, 4 and 16 concurrent clients, each asking every question; then by 16 clients
while ``assistant ingest`` of ``--more`` other abstracts writes the same store from another process. Every
answer's citations are checked against the files (the quoted span is the file's text). Writes
eval/results/serve-load-DATE.json: p50/p95 latency, requests/s, 5xx count, ratios to the in-process baseline.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scaleout import free_port, start  # noqa: E402
from workers import write_corpus  # noqa: E402

BIN = Path(sys.executable).parent


def summary(latencies: list[float], seconds: float, failures: int) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {"requests": len(latencies), "failed_5xx": failures, "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1),
            "requests_per_s": round(len(latencies) / seconds, 2)}


def cited_spans_hold(answer: dict[str, Any]) -> bool:
    return all(Path(c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["text"] for c in answer["citations"])


def load(url: str, questions: list[str], clients: int) -> tuple[dict[str, Any], int]:
    """``clients`` threads, each asking every question once; returns the summary and how many citations failed."""
    latencies: list[float] = []
    errors: list[str] = []
    failures = bad_citations = 0

    def client(offset: int) -> None:
        nonlocal failures, bad_citations
        with httpx.Client(timeout=600) as http:
            for n in range(len(questions)):
                question = questions[(n + offset) % len(questions)]
                began = time.perf_counter()
                reply = http.post(f"{url}/v1/chat/completions", json={"model": "assistant", "messages": [{"role": "user", "content": question}]})
                latencies.append(time.perf_counter() - began)
                if reply.status_code >= 500:
                    failures += 1
                    errors.append(reply.text[:400])
                elif not cited_spans_hold(reply.json()["assistant"]):
                    bad_citations += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return summary(latencies, time.perf_counter() - began, failures) | ({"errors": errors[:3]} if errors else {}), bad_citations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=100)
    parser.add_argument("--more", type=int, default=200)
    parser.add_argument("--questions", type=int, default=25)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="serve-load-"))
    claims = write_corpus(work / "all", args.base + args.more)
    files = sorted((work / "all").iterdir())
    gold = {p for paths in claims.values() for p in paths}
    base = [f for f in files if str(f.resolve()) in gold][: args.base // 2]
    base += [f for f in files if f not in base][: args.base - len(base)]
    (work / "base").mkdir()
    (work / "more").mkdir()
    for f in files:
        f.rename(work / ("base" if f in base else "more") / f.name)
    stored = {f.name for f in base}
    questions = [c for c, paths in claims.items() if all(Path(p).name in stored for p in paths)][: args.questions]
    store = work / "store"
    subprocess.run([str(BIN / "assistant"), "ingest", str(work / "base"), "--store", str(store), "--json"], check=True, capture_output=True)

    from assistant import Assistant

    with Assistant(store=str(store)) as bot:
        bot.ask(questions[0])  # warm, as the server is warm once it has answered
        latencies = []
        began = time.perf_counter()
        for question in questions:
            t = time.perf_counter()
            bot.ask(question)
            latencies.append(time.perf_counter() - t)
        in_process = summary(latencies, time.perf_counter() - began, 0)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start([str(BIN / "assistant"), "serve", "--store", str(store), "--port", str(port)], f"{url}/healthz")
    rows: dict[str, Any] = {"in-process, 1 at a time": in_process}
    try:
        httpx.post(f"{url}/v1/ask", json={"question": questions[0]}, timeout=600)  # warm the workers' models
        for clients in (1, 4, 16):
            rows[f"HTTP, {clients} clients"], bad = load(url, questions, clients)
            rows[f"HTTP, {clients} clients"]["citations_not_in_their_file"] = bad
        writer = subprocess.Popen([str(BIN / "assistant"), "ingest", str(work / "more"), "--store", str(store), "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)  # the writer has opened the store and started embedding
        row, bad = load(url, questions, 16)
        row |= {"citations_not_in_their_file": bad, "writer_still_running_at_end": writer.poll() is None}
        rows["HTTP, 16 clients, while an ingest writes"] = row
        writer.wait(timeout=3600)
        row["writer_exit"] = writer.returncode
    finally:
        server.terminate()
        server.wait(timeout=60)
    for row in rows.values():
        row["p50_vs_in_process"] = round(row["p50_ms"] / in_process["p50_ms"], 2)
        row["requests_per_s_vs_in_process"] = round(row["requests_per_s"] / in_process["requests_per_s"], 2)
    result = {"date": datetime.date.today().isoformat(), "command": "python eval/bench/serve_load.py " + " ".join(sys.argv[1:]),
              "base_abstracts": len(base), "ingested_during_load": args.more, "questions": len(questions), "rows": rows}
    out = ROOT / "eval" / "results" / f"serve-load-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
