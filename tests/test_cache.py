"""Derived files kept between runs: the language identifier read from its decompressed copy is the stock one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
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
    reread = lang._identifier()  # from the file now, mapped: a start reads the pages it uses, not 68 MB
    assert kept[0].stat().st_mtime_ns == list(tmp_path.glob("langid-model-*.npz"))[0].stat().st_mtime_ns
    assert isinstance(reread.nb_ptc, np.memmap) and isinstance(reread.tk_nextmove, memoryview)
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


def test_the_kept_vocabulary_and_dequantised_layers_are_the_ones_built_from_the_file(tmp_path: Path) -> None:
    import numpy as np

    from assistant.index.e5_weights import WeightsFile

    built = WeightsFile()  # no cache: decoded and dequantised in memory
    assert built._dequantised is None
    cache.use(tmp_path)
    try:
        WeightsFile().layer_matrices(0)  # writes both files
        kept = WeightsFile()
        assert kept._dequantised is not None and isinstance(kept._dequantised, np.memmap), "mapped from the cache"
        for i in (0, 5, 11):
            for a, b in zip(kept.layer_matrices(i), built.layer_matrices(i), strict=True):
                assert a.shape == b.shape and np.array_equal(a, b), i
        ours, theirs = kept.vocabulary, built.vocabulary
    finally:
        cache.use(None)
    assert ours.pieces == theirs.pieces and ours.reach == theirs.reach and ours.normalise == theirs.normalise
    assert (ours.bos, ours.eos, ours.unk, ours.max_piece_chars) == (theirs.bos, theirs.eos, theirs.unk, theirs.max_piece_chars)
    assert np.array_equal(ours.scores, theirs.scores)
    assert sorted(p.name.split("-")[1] for p in tmp_path.iterdir()) == ["layers", "vocabulary"]


def test_damaged_kept_weights_are_dropped_and_the_file_read_again(tmp_path: Path) -> None:
    import numpy as np

    from assistant.index.e5_weights import WeightsFile

    cache.use(tmp_path)
    try:
        first = WeightsFile()
        expected = [m.copy() for m in first.layer_matrices(3)]
        pieces = len(first.vocabulary.pieces)
        (layers,) = tmp_path.glob("e5-layers-*.npy")
        (tables,) = tmp_path.glob("e5-vocabulary-*.marshal")
        layers.write_bytes(layers.read_bytes()[:4096])  # cut short, as a full disk might leave them
        tables.write_bytes(tables.read_bytes()[:4096])
        again = WeightsFile()
        for a, b in zip(again.layer_matrices(3), expected, strict=True):
            assert np.array_equal(a, b)
        assert len(again.vocabulary.pieces) == pieces
        assert not layers.exists() and not tables.exists(), "the damaged copies are gone; the next start rebuilds them"
    finally:
        cache.use(None)
