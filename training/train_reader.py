"""Train the reader: the encoder's top layers fine-tuned, with a span head, on the cached pairs of :mod:`training.reader_data`.

    .venv/bin/python -m training.train_reader [--workdir DIR] [--out assistant/weights/reader.npz]
    .venv/bin/python -m training.train_reader --across   # the second reader, for passages in another language

The layers above :data:`assistant.answer.reader.FROZEN` start from the encoder's own weights; a linear head gives
each token a start and an end logit; the loss is SQuAD 2.0's (cross-entropy of the answer's first and last token,
``<s>`` for pairs without the answer). AdamW, linear warm-up and decay, batches of pairs of similar length, seeded
order. The reader written is the mean of the weights at the checkpoints of the last two epochs of three
(:data:`AVERAGE_FROM`). PyTorch (CPU build, the ``train`` extra) runs it; the shipped file holds numbers that
:mod:`assistant.answer.reader` applies with numpy.

A checkpoint (model, optimiser, schedule, step) is written every :data:`CHECKPOINT_EVERY` steps and at the end of
every epoch; a re-run with the same settings resumes from it, so a stopped session loses minutes, not the run.
Development pairs choose the epoch count and learning rate (``--lr``, ``--epochs``); test pairs are never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.reader import FROZEN  # noqa: E402
from training.reader_model import PRECISIONS, SEED, RunningAverage, bf16_wanted, build_model, export, load_torch, pack_across, padded, sentence_loss, unpacked  # noqa: E402

CHECKPOINT_EVERY = 200
BATCH_TOKENS = 6144
AVERAGE_FROM = 1 / 3
"""The reader ends as the mean of its weights at the checkpoints of its last two epochs of three (README, *The reader*,
"Weights averaged along the run"); the across-language reader (one epoch) is not averaged."""


def batches(lengths: np.ndarray, order_seed: int, budget: int | None = None) -> list[np.ndarray]:
    """Pair indices in batches of similar length (padded size within ``budget``), in a seeded shuffled order.

    >>> [b.tolist() for b in batches(np.array([5, 6, 50, 51]), 0, budget=102)]
    [[1, 0], [2, 3]]
    """
    budget = budget or BATCH_TOKENS
    rng = np.random.default_rng(order_seed)
    order = np.argsort(lengths + rng.uniform(0, 8, len(lengths)), kind="stable")
    out: list[list[int]] = [[]]
    for i in order:
        if out[-1] and (len(out[-1]) + 1) * max(lengths[i], lengths[out[-1][-1]]) > budget:
            out.append([])
        out[-1].append(int(i))
    arrays = [np.array(b) for b in out]
    return [arrays[j] for j in rng.permutation(len(arrays))]


def epoch_batches(lengths: np.ndarray, answerless: np.ndarray, parts: int, epoch: int, seed: int = SEED) -> list[np.ndarray]:
    """One epoch's batches (:func:`batches`): every pair, or with ``parts`` > 1 the pairs holding the answer and the
    ``epoch``-th of ``parts`` seeded parts of the ``answerless`` ones, in ``seed``'s order (README *Two readers averaged*).

    >>> [sorted(np.concatenate(epoch_batches(np.full(6, 9), np.array([0, 1, 1, 1, 1, 0], bool), 2, e)).tolist()) for e in (0, 1, 2)]
    [[0, 3, 4, 5], [0, 1, 2, 5], [0, 3, 4, 5]]
    >>> one, other = (np.concatenate(epoch_batches(np.arange(40) % 7 + 5, np.zeros(40, bool), 1, 0, s)) for s in (SEED, SEED + 1))
    >>> sorted(one.tolist()) == sorted(other.tolist()) == list(range(40)), one.tolist() != other.tolist()
    (True, True)
    """
    if parts <= 1:
        return batches(lengths, seed + epoch)
    part = np.zeros(len(lengths), dtype=int)
    part[answerless] = np.random.default_rng(seed).permutation(int(answerless.sum())) % parts
    kept = np.flatnonzero(~answerless | (part == epoch % parts))
    return [kept[b] for b in batches(lengths[kept], seed + epoch)]


def train(model: Any, states: Sequence[np.ndarray], targets: np.ndarray, checkpoint: Path, epochs: int, lr: float,
          log: bool = True, steps: int | None = None, checkpoints: bool = True,
          sentences: Sequence[np.ndarray] | None = None, sentence_weight: float = 0.0, bf16: bool = False,
          negative_parts: int = 1, order_seed: int = SEED, average_from: float = 0.0) -> list[float]:
    """Fit ``model`` (resuming from ``checkpoint`` when it holds a run with the same settings); the losses seen.

    ``sentences`` (per pair, each token's sentence number, ``-1`` outside the passage) with ``sentence_weight`` adds
    a sentence-level term: minus the log-probability that the answer starts in its own sentence, for pairs that hold one.
    ``bf16``: the forward pass in bfloat16 where PyTorch's CPU autocast allows (matrix products), the weights, their
    updates and the loss in float32 (1.4-1.9x faster a step on a CPU with AVX512-BF16; README, *The reader*).
    ``negative_parts``: the pairs without the answer (labelled ``<s>``) split into that many seeded parts, one read per
    epoch in turn (every pair holding the answer is read every epoch). ``order_seed``: :func:`epoch_batches`' seed.
    ``average_from`` > 0: the model ends as the mean of its weights at the checkpoint steps from that share of the run on.
    """
    torch = load_torch()
    lengths = np.array([len(s) for s in states])
    plan = [epoch_batches(lengths, targets[:, 0] == 0, negative_parts, epoch, order_seed) for epoch in range(epochs)]
    total = sum(len(p) for p in plan) if steps is None else steps
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    done, average = 0, RunningAverage(model, int(total * average_from)) if average_from else None
    if checkpoints and checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        if saved["total"] == total and saved["lr"] == lr:
            model.load_state_dict(saved["model"])
            optimiser.load_state_dict(saved["optimiser"])
            schedule.load_state_dict(saved["schedule"])
            done = saved["step"]
            if average is not None:
                average.load(saved["average"])
            if log:
                print(f"resumed at step {done}/{total}", flush=True)
    losses: list[float] = []
    began = time.time()
    model.train()
    for step, index in enumerate(_flat(plan)):
        if step >= total:
            break
        if step < done:
            continue
        x, mask = padded(states, index)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            start_logits, end_logits = model(x, mask)
        start_logits, end_logits = start_logits.float(), end_logits.float()
        target = torch.from_numpy(targets[index])
        loss = (torch.nn.functional.cross_entropy(start_logits, target[:, 0]) + torch.nn.functional.cross_entropy(end_logits, target[:, 1])) / 2
        if sentences is not None and sentence_weight:
            loss = loss + sentence_weight * sentence_loss(start_logits, sentences, index, target[:, 0])
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if (step + 1) % CHECKPOINT_EVERY == 0 or step + 1 == total:
            if average is not None:
                average.add(step + 1, model)
            if checkpoints:
                _save(checkpoint, model, optimiser, schedule, step + 1, total, lr, average)
            if log:
                print(f"step {step + 1}/{total} loss {np.mean(losses[-CHECKPOINT_EVERY:]):.3f} ({time.time() - began:.0f} s)", flush=True)
    if average is not None:
        average.apply(model)
    return losses


def _flat(plan: list[list[np.ndarray]]) -> Iterator[np.ndarray]:
    for epoch in plan:
        yield from epoch


def _save(path: Path, model: Any, optimiser: Any, schedule: Any, step: int, total: int, lr: float, average: RunningAverage | None) -> None:
    torch = load_torch()
    partial = path.with_suffix(".part")
    torch.save({"model": model.state_dict(), "optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(),
                "step": step, "total": total, "lr": lr, "average": average.state() if average else None}, partial)
    partial.replace(path)


def logits(model: Any, states: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Start and end logits of every pair (evaluation: no gradients)."""
    torch = load_torch()
    model.eval()
    out: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(states)
    with torch.no_grad():
        for index in batches(np.array([len(s) for s in states]), 0, budget=4 * BATCH_TOKENS):
            x, mask = padded(states, index)
            s, e = model(x, mask)
            for row, i in enumerate(index):
                n = len(states[i])
                out[i] = (s[row, :n].numpy(), e[row, :n].numpy())
    return out


def settings_key(**values: Any) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


def fit_reader(workdir: Path, out: Path, epochs: int, lr: float, scorer: Any = None, log: bool = True, frozen: int = FROZEN,
               init: Path | None = None, sentence_weight: float = 0.0, translated: float = 0.0, beside: bool = False,
               cut: float = 0.0, swap: float = 0.0, bf16: bool = False, negative_parts: int = 1, order_seed: int = SEED,
               average_from: float = AVERAGE_FROM) -> dict[str, Any]:
    """Cache the pairs, train (resuming), score on development pairs, write ``out``; its header.

    ``translated``: the share of training questions asked in an Apertium translation, ``beside`` their own language or
    instead of it (:mod:`training.reader_data`); ``cut``: the share of answerable training questions whose passage is
    also read without its answer sentence, labelled no answer; ``swap``: the share also asked with a name or a number
    swapped (:mod:`training.no_answer`), labelled no answer; ``bf16``, ``negative_parts``, ``order_seed``, ``average_from``: see :func:`train`.

    ``init``: a reader weights file to start from instead of the encoder's layers and a fresh head (further training).
    """
    import torch

    from assistant.index.encoder import E5Encoder
    from training.answerer_data import header as provenance
    from training.reader_data import cache, load_states, sentence_numbers
    from training.reader_eval import development
    from training.reader_probe import probe

    rows, pairs, folder = cache(workdir, scorer, log=log, frozen=frozen, translated=translated, beside=beside, cut=cut, swap=swap)
    states = load_states(folder, pairs)
    train_index = [i for i, p in enumerate(pairs) if p.split == "train"]
    targets = np.array([[pairs[i].start, pairs[i].end] for i in train_index], dtype=np.int64)
    encoder = E5Encoder()
    model = build_model(encoder.layers, frozen)
    further = {}
    if init is not None:
        with np.load(init) as data:
            model.load_state_dict({k: torch.from_numpy(unpacked(data, k)) for k in model.state_dict()})
            further = {"init": json.loads(data["header"].tobytes().decode()).get("commit"), "init_file": init.name}
    further |= {name: value for name, value in (("sentence_weight", sentence_weight), ("translated", translated), ("beside", beside),
                                                ("cut", cut), ("swap", swap), ("precision", "bf16" if bf16 else ""),
                                                ("negative_parts", negative_parts if negative_parts > 1 else 0),
                                                ("order_seed", order_seed if order_seed != SEED else 0), ("average_from", average_from)) if value}
    run = folder / f"run-{settings_key(epochs=epochs, lr=lr, seed=SEED, **further)}"
    run.mkdir(exist_ok=True)
    began = time.time()
    sentences = sentence_numbers(rows, [pairs[i] for i in train_index]) if sentence_weight else None
    train(model, [states[i] for i in train_index], targets, run / "checkpoint.pt", epochs, lr, log=log,
          sentences=sentences, sentence_weight=sentence_weight, bf16=bf16, negative_parts=negative_parts, order_seed=order_seed,
          average_from=average_from)
    dev_index = [i for i, p in enumerate(pairs) if p.split == "dev"]
    dev = development([pairs[i] for i in dev_index], logits(model, [states[i] for i in dev_index]), rows)
    counts = {split: sum(p.split == split for p in pairs) for split in ("train", "dev", "test")}
    header = provenance({}) | {
        "trained_by": "python -m training.train_reader", "model": f"e5-small layers {frozen + 1}-12 fine-tuned + span head (PyTorch {torch.__version__}, CPU)",
        "frozen": frozen, "epochs": epochs, "lr": lr, "seed": SEED, **further, "pairs": counts, "train_seconds_this_run": round(time.time() - began),
        "development": dev, "probe": probe(encoder, frozen),
    }
    for key in ("passage_features", "sentence_features", "answerable_features"):
        header.pop(key, None)
    export(model, out, header)
    if log:
        print(json.dumps(dev, indent=1))
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return header


ACROSS_RECIPE = {"epochs": 1, "lr": 1e-4, "translated": 0.5}
"""The across-language reader: the shipped reader one epoch further at a third of the rate, half its training
questions asked in an Apertium translation (README, The reader, "A second reader for passages in another language")."""


def fit_across(workdir: Path, base: Path, out: Path, frozen: int = FROZEN, epochs: int | None = None, lr: float | None = None,
               translated: float | None = None, log: bool = True, bf16: bool = False) -> None:
    """The across-language reader: ``base`` trained further by :data:`ACROSS_RECIPE` (or the values given), written
    to ``out`` as a delta of ``base``."""
    trained = workdir / "reader-across-full.npz"
    fit_reader(workdir, trained, int(ACROSS_RECIPE["epochs"] if epochs is None else epochs), ACROSS_RECIPE["lr"] if lr is None else lr,
               log=log, frozen=frozen, init=base, translated=ACROSS_RECIPE["translated"] if translated is None else translated, bf16=bf16,
               average_from=0.0)
    pack_across(trained, base, out)
    if log:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, a delta of {base})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--out", type=Path, help="default: assistant/weights/reader.npz (reader-across.npz with --across)")
    parser.add_argument("--epochs", type=int, help="default 3 (1 with --across)")
    parser.add_argument("--lr", type=float, help="default 3e-4 (1e-4 with --across)")
    parser.add_argument("--frozen", type=int, default=FROZEN, help="encoder layers run as they ship; the ones above are trained")
    parser.add_argument("--init", type=Path, help="a reader weights file to train further (default: from the encoder's layers)")
    parser.add_argument("--sentence-weight", type=float, default=0.0, help="weight of the sentence-level term of the loss")
    parser.add_argument("--translated", type=float, help="share of training questions asked in an Apertium translation (default 0; 0.5 with --across)")
    parser.add_argument("--beside", action="store_true", help="ask them in their own language as well (default: instead)")
    parser.add_argument("--cut", type=float, default=0.0, help="share of answerable training questions also read without their answer sentence")
    parser.add_argument("--swap", type=float, default=0.0, help="share of answerable training questions also asked with a name or number swapped")
    parser.add_argument("--across", action="store_true", help="the across-language reader: --init (default: the shipped reader) "
                        "trained further with translated questions, written as a delta of it")
    parser.add_argument("--negative-parts", type=int, default=1, help="read each pair without the answer in one epoch of this many")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="the forward pass's precision (auto: bf16 where the CPU has it)")
    parser.add_argument("--order-seed", type=int, default=SEED, help="the batches' order (a run to average with another: another order)")
    parser.add_argument("--average-from", type=float, default=AVERAGE_FROM, help="end as the mean of the checkpoints' weights from this share "
                        "of the run on (0: the last step's; not with --across)")
    args = parser.parse_args()
    bf16 = bf16_wanted(args.precision)
    weights = ROOT / "assistant" / "weights"
    if args.across:
        fit_across(args.workdir, args.init or weights / "reader.npz", args.out or weights / "reader-across.npz", args.frozen,
                   args.epochs, args.lr, args.translated, bf16=bf16)
        return
    fit_reader(args.workdir, args.out or weights / "reader.npz", args.epochs or 3, args.lr or 3e-4, frozen=args.frozen, init=args.init,
               sentence_weight=args.sentence_weight, translated=args.translated or 0.0, beside=args.beside, cut=args.cut,
               swap=args.swap, bf16=bf16, negative_parts=args.negative_parts, order_seed=args.order_seed, average_from=args.average_from)


if __name__ == "__main__":
    main()
