"""Short reader trainings on the cached pairs, to choose a learning rate on development pairs (nothing is written).

    .venv/bin/python -m training.reader_sweep [--steps 250] [--positives-only] LR:HEAD_MULT [LR:HEAD_MULT ...]

Each configuration trains the model of :mod:`training.train_reader` from the encoder's weights for ``--steps``
batches of training pairs (the layers at ``LR``, the span head at ``LR x HEAD_MULT``, no schedule), then reports
on 800 development pairs (400 holding an answer with ``--positives-only``): how often the most likely start token
is the answer's first token (``start_acc``) or within 3 tokens of it, and how often ``<s>`` wins on pairs without
the answer (``null_acc``). ``--positives-only``: train and score on pairs holding an answer, the span restricted to
the passage's tokens. Needs the cache of ``python -m training.reader_data``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.reader import FROZEN  # noqa: E402
from training import train_reader as tr  # noqa: E402
from training.reader_data import Pair, load_states  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="LR:HEAD_MULT, e.g. 1e-4:10")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--positives-only", action="store_true")
    parser.add_argument("--frozen", type=int, default=FROZEN, help="which cached depth (python -m training.reader_data --frozen N)")
    args = parser.parse_args()
    import torch

    from assistant.index.encoder import E5Encoder

    folder = args.workdir / "reader" / (args.workdir / "reader" / f"latest-frozen{args.frozen}").read_text(encoding="utf-8").strip()
    pairs = [Pair(**p) for p in json.loads((folder / "pairs.json").read_text(encoding="utf-8"))]
    states = load_states(folder, pairs)
    rng = np.random.default_rng(0)
    keep = (lambda p: p.start > 0) if args.positives_only else (lambda p: True)
    train = np.array([i for i, p in enumerate(pairs) if p.split == "train" and keep(p)])
    dev_all = [i for i, p in enumerate(pairs) if p.split == "dev" and keep(p)]
    dev = dev_all[:400] if args.positives_only else [int(i) for i in rng.choice(dev_all, 800, replace=False)]
    encoder = E5Encoder()
    for config in args.configs:
        lr, mult = (float(x) for x in config.split(":"))
        model = tr.build_model(encoder.layers, args.frozen)
        body = [p for n, p in model.named_parameters() if not n.startswith("head")]
        optimiser = torch.optim.AdamW([{"params": body, "lr": lr}, {"params": list(model.head.parameters()), "lr": lr * mult}], weight_decay=0.01)
        order = rng.permutation(train)
        began, losses = time.time(), []
        for batch in tr.batches(np.array([len(states[i]) for i in order]), 0)[: args.steps]:
            ids = order[batch]
            x, mask = tr.padded(states, ids)
            start_logits, end_logits = model(x, mask)
            if args.positives_only:
                passage = mask.clone()
                for row, i in enumerate(ids):
                    passage[row, : pairs[i].passage_at] = False
                start_logits, end_logits = start_logits.masked_fill(~passage, -1e4), end_logits.masked_fill(~passage, -1e4)
            target = torch.from_numpy(np.array([[pairs[i].start, pairs[i].end] for i in ids]))
            loss = (torch.nn.functional.cross_entropy(start_logits, target[:, 0]) + torch.nn.functional.cross_entropy(end_logits, target[:, 1])) / 2
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            losses.append(float(loss.detach()))
        out = tr.logits(model, [states[i] for i in dev])
        first = [pairs[i].passage_at if args.positives_only else 0 for i in dev]
        guess = [int(np.argmax(out[k][0][first[k]:])) + first[k] for k in range(len(dev))]
        answered = [k for k, i in enumerate(dev) if pairs[i].start > 0]
        report = {
            "config": config, "steps": args.steps, "positives_only": args.positives_only, "seconds": round(time.time() - began),
            "loss_last_50": round(float(np.mean(losses[-50:])), 3), "answered_pairs": len(answered),
            "start_acc": round(float(np.mean([guess[k] == pairs[dev[k]].start for k in answered])), 3),
            "start_within_3": round(float(np.mean([abs(guess[k] - pairs[dev[k]].start) <= 3 for k in answered])), 3),
        }
        if not args.positives_only:
            report["null_acc"] = round(float(np.mean([guess[k] == 0 for k, i in enumerate(dev) if pairs[i].start == 0])), 3)
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
