from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import load_settings


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", "http://127.0.0.1:8000")
    settings = load_settings(store="/tmp/x", chunk_size=None)
    assert settings.top_k == 7
    assert settings.store == Path("/tmp/x")
    assert settings.chroma_url == "http://127.0.0.1:8000"
    assert settings.chunk_size == 256  # None means "not given"
    assert load_settings(top_k=3).top_k == 3


def test_unknown_environment_variable_is_named_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOPK", "3")
    with pytest.raises(ConfigError, match=r"ASSISTANT_TOPK.*ASSISTANT_TOP_K"):
        load_settings()


def test_invalid_value_says_which_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CHUNK_SIZE", "lots")
    with pytest.raises(ConfigError, match="chunk_size"):
        load_settings()


def test_overlap_must_be_smaller_than_chunk() -> None:
    with pytest.raises(ConfigError, match="chunk_overlap"):
        load_settings(chunk_size=64, chunk_overlap=64)


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'topk'"):
        load_settings(topk=3)


def test_openai_variables_are_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fallback")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.llm_api_key is not None and settings.llm_api_key.get_secret_value() == "sk-test-fallback"
    assert settings.llm_base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-own")
    assert load_settings().llm_api_key.get_secret_value() == "sk-own"  # type: ignore[union-attr]
    assert "sk-own" not in repr(load_settings())


def test_the_openai_client_never_reads_the_environment_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.llm import OPENAI_API_BASE, openai_client

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings(embedder="openai", embed_model="m")
    assert settings.embed_base_url == "http://127.0.0.1:9/v1", "the fallback is a visible setting"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8/elsewhere")  # changed after the settings were read
    assert str(openai_client(None, None, settings).base_url).rstrip("/") == OPENAI_API_BASE
    assert str(openai_client(None, settings.embed_base_url, settings).base_url).rstrip("/") == "http://127.0.0.1:9/v1"


def test_settings_command_says_where_it_read_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from assistant.interface.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ASSISTANT_TOP_K=7\n", encoding="utf-8")
    out = " ".join(CliRunner().invoke(app, ["settings"], env={"COLUMNS": "250"}).output.split())
    assert "ASSISTANT_TOP_K │ 7 │" in out
    assert f"from {tmp_path / '.env'}" in out and "OPENAI_BASE_URL" in out


def test_settings_command_names_the_tuning_for_the_embedder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from assistant.interface.cli import app
    from assistant.tuning import DEFAULT

    monkeypatch.chdir(tmp_path)
    out = " ".join(CliRunner().invoke(app, ["settings"], env={"COLUMNS": "250"}).output.split())
    assert f"Tuned for the embedder {DEFAULT.embedder}" in out and f"min_support {DEFAULT.min_support}" in out
    remote = {"COLUMNS": "250", "ASSISTANT_EMBEDDER": "openai", "ASSISTANT_EMBED_MODEL": "e5", "ASSISTANT_EMBED_BASE_URL": "http://127.0.0.1:9/v1"}
    out = " ".join(CliRunner().invoke(app, ["settings"], env=remote).output.split())
    assert "No tuning for the embedder openai/e5" in out and f"fitted for {DEFAULT.embedder}" in out


def test_unset_tuned_settings_take_the_embedders_profile(tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant import Assistant
    from assistant.tuning import PROFILES, Tuning
    from tests.conftest import FakeEmbedder

    embedder = FakeEmbedder()
    monkeypatch.setitem(PROFILES, embedder.name, Tuning(embedder.name, "answerer.json", min_support=0.5, depth=1))
    with Assistant(embedder=embedder, store=str(tmp_path / "s")) as bot:
        assert bot.settings.min_support is None and bot.tuning.min_support == 0.5
        bot.ingest([docs])
        assert bot.status().chunks > 2
        assert len(bot._retrieval("cat sleep hours Eiffel volcano", 5).ranked) <= 2, "one dense and one lexical candidate"
