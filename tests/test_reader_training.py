"""Training the reader (the ``train`` extra): the layers it starts from, resuming after a stop, the shipped header's probe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch  # the train extra (scripts/setup.sh installs it)

from assistant.answer.reader import FROZEN, Reader, Window, best_span
from assistant.index.encoder import E5Encoder
from tests.conftest import SHARED_DATASETS
from training import reader_model, reader_probe, train_reader


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    return E5Encoder(threads=1)


def _states(encoder: E5Encoder, n: int, frozen: int = FROZEN) -> list[np.ndarray]:
    texts = [f"query: question {i}</s></s>passage: Le texte numéro {i} parle de Lyon et de {i * 7} habitants." for i in range(n)]
    return [encoder.hidden([encoder.tokenizer.tokenize(t, "passage").ids], encoder.layers[:frozen])[0] for t in texts]


def test_trained_layers_start_as_the_encoder_top_layers(encoder: E5Encoder) -> None:
    lower = _states(encoder, 2)
    model = train_reader.build_model(encoder.layers).eval()
    with torch.no_grad():
        for states in lower:
            x = torch.from_numpy(states[None])
            mask = torch.ones(1, len(states), dtype=torch.bool)
            for layer in model.layers:
                x = layer(x, mask)
            expected = encoder.continue_layers(states.copy(), [len(states)], encoder.layers[FROZEN:])[0]
            assert np.abs(x[0].numpy() - expected).max() < 1e-4


@pytest.mark.parametrize("frozen", [FROZEN, 10])
def test_the_runtime_reader_applies_what_training_exported(encoder: E5Encoder, tmp_path: Path, frozen: int) -> None:
    """Whatever depth it was trained above (the header says), the numpy reader gives the training model's scores."""
    model = train_reader.build_model(encoder.layers, frozen)
    with torch.no_grad():
        model.head.weight.normal_(0, 1.0, generator=torch.Generator().manual_seed(3))
    path = tmp_path / "reader.npz"
    train_reader.export(model, path, {"frozen": frozen, "trained_by": "test"})
    reader = Reader(encoder, path)
    assert reader.frozen == frozen and len(reader.layers) == 12 - frozen
    with np.load(path) as shipped:  # the training model with the numbers as shipped (int8 matrices, float16 rest)
        model.load_state_dict({k: torch.from_numpy(reader_model.unpacked(shipped, k)) for k in model.state_dict()})
    states = _states(encoder, 1, frozen)[0]
    window = Window(np.zeros(len(states) - 2, np.int64), 5, np.arange(len(states) - 5), np.arange(len(states) - 5) + 1)
    ours = reader.readings([_chunk()], [(0, window)], encoder.continue_layers(states.copy(), [len(states)], reader.layers))[0].span
    start, end = train_reader.logits(model, [states.astype(np.float16).astype(np.float32)])[0]
    theirs = best_span(start, end, window)
    assert ours.score == pytest.approx(theirs.score, abs=0.05) and ours.null == pytest.approx(theirs.null, abs=0.05)


def test_packing_keeps_every_number_within_half_a_step_and_halves_the_file(encoder: E5Encoder) -> None:
    """The layers' matrices ship as int8 with a scale per output column: each number within half a step of its
    trained value; the file is about half its float16 size."""
    state = {k: v.numpy() for k, v in train_reader.build_model(encoder.layers).state_dict().items()}
    packed = reader_model.packed(state)
    for name, value in state.items():
        if name.rsplit(".", 1)[-1] in reader_model.QUANTISED:
            assert packed[name].dtype == np.int8 and packed[f"{name}.scale"].shape == (value.shape[1],)
            restored = packed[name].astype(np.float32) * packed[f"{name}.scale"]
            assert np.all(np.abs(restored - value) <= packed[f"{name}.scale"] / 2 + 1e-7)
        else:
            assert packed[name].dtype == np.float16
    size = sum(a.nbytes for a in packed.values())
    assert size < 0.55 * sum(v.astype(np.float16).nbytes for v in state.values())


def _chunk():  # type: ignore[no-untyped-def]
    from assistant.types import Chunk

    return Chunk("c", "d.txt", 0, 400, "x" * 400)


def test_training_resumes_from_its_checkpoint_after_a_stop(encoder: E5Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    states = [s.astype(np.float16) for s in _states(encoder, 6)]
    targets = np.array([[len(s) - 3, len(s) - 2] for s in states], dtype=np.int64)
    monkeypatch.setattr(train_reader, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(train_reader, "BATCH_TOKENS", 70)  # a few pairs per batch: several steps per epoch

    whole = train_reader.build_model(encoder.layers)
    losses = train_reader.train(whole, states, targets, tmp_path / "whole.pt", 2, 1e-3, log=False, average_from=0.5)
    assert len(losses) >= 4

    real_padded = train_reader.padded
    calls = {"n": 0}

    def crash_on_third(*args: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_padded(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(train_reader, "padded", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        train_reader.train(train_reader.build_model(encoder.layers), states, targets, tmp_path / "stopped.pt", 2, 1e-3, log=False,
                           average_from=0.5)
    monkeypatch.setattr(train_reader, "padded", real_padded)
    resumed = train_reader.build_model(encoder.layers)
    rest = train_reader.train(resumed, states, targets, tmp_path / "stopped.pt", 2, 1e-3, log=False, average_from=0.5)
    assert rest == pytest.approx(losses[2:], abs=1e-5), "the resumed run continues the same steps"
    for name, value in whole.state_dict().items():  # the weights averaged over the same checkpoints, before and after the stop
        assert torch.allclose(value, resumed.state_dict()[name], atol=1e-6), name


def test_a_run_averaged_from_a_share_of_its_steps_ends_as_the_mean_of_those_checkpoints(encoder: E5Encoder, tmp_path: Path,
                                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    states = [s.astype(np.float16) for s in _states(encoder, 6)]
    targets = np.array([[len(s) - 3, len(s) - 2] for s in states], dtype=np.int64)
    monkeypatch.setattr(train_reader, "CHECKPOINT_EVERY", 1)
    monkeypatch.setattr(train_reader, "BATCH_TOKENS", 70)
    seen: dict[int, dict[str, torch.Tensor]] = {}
    real_save = train_reader._save

    def recording(path: Path, model: torch.nn.Module, *args: object) -> None:
        seen[int(args[2])] = {k: v.detach().clone() for k, v in model.state_dict().items()}  # type: ignore[call-overload]
        real_save(path, model, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(train_reader, "_save", recording)
    model = train_reader.build_model(encoder.layers)
    steps = len(train_reader.train(model, states, targets, tmp_path / "run.pt", 2, 1e-3, log=False, average_from=0.5))
    kept = [seen[s] for s in sorted(seen) if s >= steps // 2]
    assert sorted(seen) == list(range(1, steps + 1)) and 1 < len(kept) < steps
    for name, value in model.state_dict().items():
        assert torch.allclose(value, sum(k[name] for k in kept) / len(kept), atol=1e-6), name
    assert not torch.allclose(model.state_dict()["head.weight"], seen[steps]["head.weight"]), "not the last step's weights"


def test_negative_parts_read_each_answerless_pair_once_in_so_many_epochs(encoder: E5Encoder, monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    """``negative_parts=2``: every pair holding the answer is read every epoch, the ones labelled ``<s>`` each in one
    epoch of two, so two epochs take 2 x 2 + 4 pair reads instead of 12."""
    states = _states(encoder, 6)
    targets = np.array([[5, 7], [0, 0], [0, 0], [6, 8], [0, 0], [0, 0]], dtype=np.int64)
    monkeypatch.setattr(train_reader, "BATCH_TOKENS", 1)  # one pair a step
    read: list[int] = []
    real_padded = train_reader.padded
    monkeypatch.setattr(train_reader, "padded", lambda states, index: (read.extend(index.tolist()), real_padded(states, index))[1])
    for parts, expected in ((1, [0, 1, 2, 3, 4, 5] * 2), (2, [0, 3] * 2 + [1, 2, 4, 5])):
        read.clear()
        model = train_reader.build_model(encoder.layers)
        train_reader.train(model, states, targets, tmp_path / f"{parts}.pt", 2, 1e-3, log=False, checkpoints=False, negative_parts=parts)
        assert sorted(read) == sorted(expected), parts


def test_bfloat16_training_follows_the_float32_run(encoder: E5Encoder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``--precision bf16`` runs the forward pass in bfloat16 (where autocast allows) and keeps the weights float32: the same
    steps, losses within bfloat16's precision of float32's, weights of the same dtype, and different numbers (it ran)."""
    states = _states(encoder, 6)
    targets = np.array([[5, 7], [6, 8], [0, 0], [5, 9], [4, 4], [0, 0]], dtype=np.int64)
    monkeypatch.setattr(train_reader, "BATCH_TOKENS", 70)
    runs = {}
    for bf16 in (False, True):
        model = train_reader.build_model(encoder.layers)
        losses = train_reader.train(model, states, targets, tmp_path / f"{bf16}.pt", 2, 1e-3, log=False, checkpoints=False, bf16=bf16)
        runs[bf16] = (losses, model.state_dict())
    assert len(runs[True][0]) == len(runs[False][0]) >= 4
    assert runs[True][0] == pytest.approx(runs[False][0], rel=0.05)
    assert runs[True][0] != runs[False][0], "the bfloat16 pass rounds differently"
    assert all(value.dtype == torch.float32 for value in runs[True][1].values())


@pytest.mark.parametrize(("native", "wanted"), [((True, False), True), ((False, True), True), ((False, False), False)])
def test_precision_auto_trains_in_bfloat16_only_where_the_cpu_multiplies_it(monkeypatch: pytest.MonkeyPatch,
                                                                            native: tuple[bool, bool], wanted: bool) -> None:
    """``--precision auto`` (the default) picks bfloat16 on a CPU with AVX512-BF16 or AMX, float32 elsewhere (where
    bfloat16 is emulated and slower); the explicit choices override it, and a misspelt one is refused."""
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native[0], raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: native[1], raising=False)
    assert reader_model.bf16_wanted("auto") is wanted
    assert reader_model.bf16_wanted("bf16") and not reader_model.bf16_wanted("float32")
    with pytest.raises(ValueError, match="use one of auto, bf16, float32"):
        reader_model.bf16_wanted("fp16")


@pytest.mark.integration
def test_the_training_probe_is_deterministic(encoder: E5Encoder) -> None:
    """The short piece of training a weights header records (``probe``) gives the same losses on every run."""
    if not (SHARED_DATASETS / "piaf").exists():
        pytest.skip(f"training data not found at {SHARED_DATASETS}: put ../shared/datasets beside the project to re-train")
    first = reader_probe.probe(encoder)
    assert len(first) == reader_probe.PROBE_STEPS and first[-1] < first[0], "three steps on one batch lower its loss"
    assert reader_probe.probe(encoder) == first
    from assistant.answer.reader import Reader

    shipped = Reader(encoder).header
    assert reader_probe.probe(encoder, shipped["frozen"]) == pytest.approx(shipped["probe"], rel=1e-3), (
        "the shipped reader's header records the probe this code gives at its depth"
    )


def test_the_across_language_reader_ships_as_a_delta_of_the_shipped_reader(encoder: E5Encoder, tmp_path: Path) -> None:
    """``train_reader --across`` writes what it trained as int8 deltas of the reader it started from; the shipped
    pair is such a pair, made by the recipe the header records."""
    from assistant.answer.reader_file import load_stack, sha256

    first = train_reader.build_model(encoder.layers)
    further = train_reader.build_model(encoder.layers)
    with torch.no_grad():
        for p in further.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(5)) * 1e-3)
    base, trained = tmp_path / "reader.npz", tmp_path / "full.npz"
    train_reader.export(first, base, {"frozen": FROZEN})
    train_reader.export(further, trained, {"frozen": FROZEN})
    train_reader.pack_across(trained, base, tmp_path / "reader-across.npz")
    assert (tmp_path / "reader-across.npz").stat().st_size < 0.5 * trained.stat().st_size
    packed, whole = load_stack(tmp_path / "reader-across.npz", base), load_stack(trained)
    assert all(np.array_equal(a.up, b.up) for a, b in zip(packed.layers, whole.layers, strict=True))

    shipped = Reader(encoder)
    assert shipped.across_path is not None and shipped.across is not None
    header = shipped.across.header
    assert header["base_sha256"] == sha256(Path(str(shipped.across_path)).with_name("reader.npz"))
    assert header["init"] == shipped.header["commit"] and header["frozen"] == shipped.frozen
    assert {k: header[k] for k in train_reader.ACROSS_RECIPE} == train_reader.ACROSS_RECIPE
    made_by = "python -m training.soup_look" if header.get("members") else "python -m training.train_reader --across"
    assert header["trained_by"].startswith(made_by), "an average of readers says so, not the recipe of one member"


def test_an_average_of_readers_holds_the_mean_of_their_numbers_and_reads_deltas_back(encoder: E5Encoder, tmp_path: Path) -> None:
    """``training.soup_look`` averages reader files trained from the same start; an across-language file, stored as
    int8 deltas of its own reader, is added back onto that reader before averaging."""
    from training.soup_look import averaged, full_arrays, state

    first, second = (train_reader.build_model(encoder.layers) for _ in range(2))
    with torch.no_grad():
        for p in second.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(7)) * 1e-3)
    names = list(first.state_dict())
    a, b, across = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "b-across.npz"
    train_reader.export(first, a, {"frozen": FROZEN})
    train_reader.export(second, b, {"frozen": FROZEN})
    train_reader.pack_across(b, a, across)  # b stored as a delta of a
    assert any(k.endswith(".delta") for k in np.load(across).files)
    assert all(np.array_equal(x, y) for x, y in zip(state(full_arrays(f"{across}@{a}"), names).values(),
                                                    state(full_arrays(str(b)), names).values(), strict=True))
    mean = averaged([state(full_arrays(str(a)), names), state(full_arrays(f"{across}@{a}"), names)])
    key = next(k for k in names if k.endswith("up"))
    shipped_a, shipped_b = reader_model.unpacked(np.load(a), key), reader_model.unpacked(np.load(b), key)
    assert np.allclose(mean[key], (shipped_a + shipped_b) / 2) and not np.allclose(mean[key], shipped_a)
