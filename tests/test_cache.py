"""Derived files kept between runs: the language identifier read from its decompressed copy is the stock one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cache
from assistant.text import language as lang

TEXTS = ["What deadline did the US set?", "Qui est le porte-parole du Kremlin ?", "Wie lange dauerte das Treffen?",
         "¿Cuánto duró la reunión?", "東京は日本の首都です。", "2025", ""]


@pytest.fixture
def fresh() -> Iterator[None]:
    lang._identifier.cache_clear()
    yield
    cache.use(None)
    lang._identifier.cache_clear()


def test_the_cached_model_identifies_as_the_stock_one(tmp_path: Path, fresh: None) -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    stock = LanguageIdentifier.from_model_file(MODEL_FILE)
    cache.use(tmp_path)
    built = lang._identifier()
    kept = list(tmp_path.glob("langid-model-*.npz"))
    assert len(kept) == 1 and kept[0].stat().st_size > 50_000_000, "decompressed once, into the cache"
    lang._identifier.cache_clear()
    reread = lang._identifier()  # from the file now
    assert kept[0].stat().st_mtime_ns == list(tmp_path.glob("langid-model-*.npz"))[0].stat().st_mtime_ns
    for text in TEXTS:
        assert built.classify(text) == reread.classify(text) == stock.classify(text), text


def test_an_unwritable_cache_falls_back_to_the_packed_model(tmp_path: Path, fresh: None) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    cache.use(blocker / "cache")
    assert lang._identifier().classify("What deadline did the US set?")[0] == "en"
    assert not list(tmp_path.glob("**/*.part")), "nothing half-written left behind"


def test_an_empty_setting_keeps_nothing() -> None:
    from assistant.settings import load_settings

    assert load_settings(cache_dir="").cache_dir is None
    assert load_settings().cache_dir is not None


def test_a_damaged_cached_model_is_dropped_and_the_packed_one_used(tmp_path: Path, fresh: None) -> None:
    cache.use(tmp_path)
    lang._identifier()
    (kept,) = tmp_path.glob("langid-model-*.npz")
    kept.write_bytes(kept.read_bytes()[:1000])  # cut short, as a full disk might leave it
    lang._identifier.cache_clear()
    assert lang._identifier().classify("Qui est le porte-parole du Kremlin ?")[0] == "fr"
    assert not kept.exists(), "the damaged copy is gone; the next start rebuilds it"
