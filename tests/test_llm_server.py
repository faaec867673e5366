"""LLM mode against a real OpenAI-compatible server on 127.0.0.1: xllamacpp serving SmolLM2-135M.

The small model's answers are poor; these tests check the protocol (plain and
streaming chat completions), that citation checking runs on real output, the
removal of out-of-range citations, and the fallback when the server dies.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant
from assistant.llm import OpenAIChatModel
from tests.conftest import SEED, free_port, start_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVER = Path(__file__).with_name("llm_server.py")


def start_llm_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    # /health answers 200 only once the model is loaded
    proc = start_server([sys.executable, str(SERVER), str(port)], port, health=f"http://127.0.0.1:{port}/health", timeout=90)
    return proc, f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    proc, url = start_llm_server()
    yield url
    proc.kill()
    proc.wait()


class GrammarChatModel(OpenAIChatModel):
    """The real client against the real server, with a llama.cpp grammar that fixes what the model writes.

    It makes the test deterministic where it must be (which citations appear)
    while every byte still travels through the server's streaming protocol.
    """

    def __init__(self, settings: Any, text: str) -> None:
        super().__init__(settings)
        self.grammar = "root ::= " + json.dumps(text, ensure_ascii=False)

    def _get(self) -> Any:
        client = super()._get()
        create = client.chat.completions.create
        grammar = self.grammar

        class Completions:
            def create(self, **kwargs: Any) -> Any:
                return create(**kwargs, extra_body={"grammar": grammar})

        class Chat:
            completions = Completions()

        class Client:
            chat = Chat()

        return Client()


def check_spans(answer: Answer) -> None:
    text = SEED.read_text(encoding="utf-8")
    for c in answer.citations:
        assert 1 <= c.n <= len(answer.passages)
        assert text[c.start : c.end] == c.text


def test_real_model_answer_supported_by_its_passage_is_an_llm_answer(server: str, seed_store: Path) -> None:
    with Assistant(store=str(seed_store), llm_model="smollm2", llm_base_url=server, llm_timeout=120, top_k=3) as bot:
        n = 1 + next(i for i, p in enumerate(bot.retrieve("What deadline did the US set?")) if "8 août" in p.text)
        bot._chat_model = GrammarChatModel(bot.settings, f"Les États-Unis ont fixé une date limite au 8 août [{n}].")
        answer = bot.ask("What deadline did the US set?")
    assert answer.mode == "llm" and not answer.unsupported, answer.notice
    assert answer.usage["prompt_tokens"] > 0 and answer.usage["completion_tokens"] > 0, "usage as the server reported it"
    assert [c.n for c in answer.citations] == [n] and "8 août" in answer.citations[0].text
    check_spans(answer)


def test_real_model_answer_its_passages_do_not_support_falls_back_to_extractive(server: str, seed_store: Path) -> None:
    with Assistant(store=str(seed_store), llm_model="smollm2", llm_base_url=server, llm_timeout=120, top_k=3) as bot:
        bot._chat_model = GrammarChatModel(bot.settings, "The moon is made of green cheese [1].")
        answer = bot.ask("What deadline did the US set?")
    assert answer.mode == "extractive"
    assert answer.unsupported == ["The moon is made of green cheese [1]."]
    assert "no sentence of the model's answer is supported" in (answer.notice or "")
    assert "8 août" in answer.text
    check_spans(answer)


def test_streaming_and_out_of_range_citations_on_a_real_server(server: str, seed_store: Path) -> None:
    with Assistant(store=str(seed_store), llm_model="smollm2", llm_base_url=server, top_k=3) as bot:
        bot._chat_model = GrammarChatModel(bot.settings, "Les États-Unis ont fixé une date limite au 8 août [1][2]. Voir aussi [9].")
        events = list(bot.stream("Quelle date limite les États-Unis ont-ils fixée ?"))
    deltas = [e for e in events if isinstance(e, str)]
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert len(deltas) > 5, "text arrives in pieces"
    assert "".join(deltas) == "Les États-Unis ont fixé une date limite au 8 août [1][2]. Voir aussi [9]."
    assert answer.mode == "llm"
    assert answer.removed_citations == [9]
    assert "[9]" not in answer.text
    assert answer.unsupported == ["Voir aussi."]
    assert answer.citations and all(c.n in (1, 2) for c in answer.citations)
    assert any("8 août" in c.text for c in answer.citations)
    check_spans(answer)


def test_cli_json_when_the_model_answer_is_unsupported(seed_store: Path) -> None:
    """``ask --json`` through a scripted OpenAI-compatible server on 127.0.0.1 whose answer no passage supports."""
    port = free_port()
    reply = "The moon is made of green cheese [1]."
    proc = start_server([sys.executable, str(SERVER.with_name("slow_openai_server.py")), str(port), reply, "0"], port, timeout=30)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
        env.update(ASSISTANT_LLM_MODEL="scripted", ASSISTANT_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1", ASSISTANT_STORE=str(seed_store))
        result = subprocess.run([sys.executable, "-m", "assistant", "ask", "What deadline did the US set?", "--json"],
                                capture_output=True, text=True, env=env, timeout=300)
    finally:
        proc.kill()
        proc.wait()
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "extractive" and data["unsupported"] == ["The moon is made of green cheese [1]."]
    assert "no sentence of the model's answer is supported" in data["notice"] and "8 août" in data["answer"]
    text = SEED.read_text(encoding="utf-8")
    assert data["citations"] and all(text[c["start"] : c["end"]] == c["text"] for c in data["citations"])


def test_server_down_gives_the_extractive_answer_with_a_notice(seed_store: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_LLM_MODEL="smollm2", ASSISTANT_LLM_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
               ASSISTANT_LLM_MAX_RETRIES="1", ASSISTANT_STORE=str(seed_store))
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "What deadline did the US set?", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "extractive" and "cannot be reached" in data["notice"]
    assert "8 août" in data["answer"] and "Traceback" not in result.stderr


def answers_once(url: str) -> None:
    """Wait until the server has generated a token (the model loaded and warm), however slow a busy machine makes it."""
    from openai import OpenAI

    reply = OpenAI(base_url=url, api_key="none", timeout=300, max_retries=0).chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": "Bonjour"}], max_tokens=1)
    assert reply.choices[0].message.content is not None


def test_server_killed_mid_answer_falls_back(seed_store: Path) -> None:
    proc, url = start_llm_server()
    try:
        answers_once(url)
        # A generous timeout: on a busy machine the first token may take long; what this test kills is the server, not the clock
        with Assistant(store=str(seed_store), llm_model="smollm2", llm_base_url=url, llm_max_retries=0, llm_timeout=300) as bot:
            long_text = " ".join(["Les États-Unis ont fixé une date limite au 8 août [1]."] * 40)
            bot._chat_model = GrammarChatModel(bot.settings, long_text)
            events = bot.stream("What deadline did the US set?")
            first = next(events)
            assert isinstance(first, str), f"the model's first token never came: {first!r}"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            started = time.monotonic()
            rest = list(events)
            assert time.monotonic() - started < 30, "no hang"
    finally:
        if proc.poll() is None:
            proc.kill()
    answer = rest[-1]
    assert isinstance(answer, Answer)
    assert answer.mode == "extractive" and answer.notice and "showing the extractive answer" in answer.notice
    assert "8 août" in answer.text


DEADLINE = "les États-Unis ayant fixé une date limite au 8 août pour que la Russie fasse des avancées en matière de paix"


def _deadline_passage(seed_store: Path, question: str) -> int:
    with Assistant(store=str(seed_store), top_k=3) as bot:
        return next(n for n, p in enumerate(bot.retrieve(question), start=1) if DEADLINE in p.text)


def _assert_sentence_citation(citations: list[dict[str, Any]], n: int, passages: list[dict[str, Any]]) -> None:
    text = SEED.read_text(encoding="utf-8")
    assert [c["n"] for c in citations] == [n]
    cited = citations[0]
    assert cited["scope"] == "sentence"
    assert text[cited["start"] : cited["end"]] == cited["text"]
    assert DEADLINE in cited["text"] and cited["text"].endswith("sanctions économiques."), "one whole sentence"
    passage = passages[n - 1]
    assert passage["start"] <= cited["start"] and cited["end"] <= passage["end"] and len(cited["text"]) < len(passage["text"]) / 2


def test_llm_citations_narrow_to_the_supporting_sentence_on_a_real_server(server: str, seed_store: Path) -> None:
    question = "Quelle date limite les États-Unis ont-ils fixée ?"
    n = _deadline_passage(seed_store, question)
    reply = f"Les États-Unis ont fixé une date limite au 8 août pour que la Russie fasse des avancées en matière de paix [{n}]."
    with Assistant(store=str(seed_store), llm_model="smollm2", llm_base_url=server, top_k=3) as bot:
        bot._chat_model = GrammarChatModel(bot.settings, reply)
        answer = bot.ask(question)
    assert answer.mode == "llm" and not answer.unsupported, answer.notice
    data = answer.to_dict()
    _assert_sentence_citation(data["citations"], n, data["passages"])


def test_cli_json_in_llm_mode_cites_sentence_spans(seed_store: Path) -> None:
    """``ask --json`` through a scripted OpenAI-compatible server on 127.0.0.1 that answers correctly."""
    question = "What deadline did the US set?"
    n = _deadline_passage(seed_store, question)
    port = free_port()
    reply = f"The US set a deadline of 8 August for Russia to make progress towards peace [{n}]."
    proc = start_server([sys.executable, str(SERVER.with_name("slow_openai_server.py")), str(port), reply, "0"], port, timeout=30)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
        env.update(ASSISTANT_LLM_MODEL="scripted", ASSISTANT_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1", ASSISTANT_STORE=str(seed_store),
                   ASSISTANT_TOP_K="3")
        result = subprocess.run([sys.executable, "-m", "assistant", "ask", question, "--json"], capture_output=True, text=True,
                                env=env, timeout=300)
    finally:
        proc.kill()
        proc.wait()
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "llm" and data["unsupported"] == [] and data["answer"] == reply
    _assert_sentence_citation(data["citations"], n, data["passages"])
