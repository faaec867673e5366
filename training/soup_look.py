"""A look, not a fit: does the average of reader files trained from the same start (a uniform "model soup",
Wortsman et al. 2022) read better on development pairs than each of them?

Two runs of the same recipe from the same encoder layers differ most in their no-answer score (README, *One command,
end to end, measured*: absent articles abstained 0.691 against 0.648 at 5% false abstention). Averaging their
weights costs nothing at ask time. Each file, and the average of all of them, is scored as the reader's header is
(:func:`training.reader_eval.development`) on the development pairs of a pair cache (``--pairs``: a folder under
``WORKDIR/reader``). A file stored as a delta (the across-language reader) is given as ``FILE@BASE``.

    .venv/bin/python -m training.soup_look --pairs DIR READER.npz OTHER.npz [ACROSS.npz@READER.npz ...] [--write SOUP.npz]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from assistant.answer.reader_file import header_of, whole_arrays  # noqa: E402
from training.reader_model import build_model, export, unpacked  # noqa: E402


def full_arrays(spec: str) -> dict[str, np.ndarray]:
    """A reader file's arrays; ``FILE@BASE``: a delta file's added back onto its base's, as the app reads it
    (:func:`assistant.answer.reader_file.whole_arrays`; tests/test_reader_training.py)."""
    path, _, base = spec.partition("@")
    return whole_arrays(Path(path), Path(base) if base else None)


def state(arrays: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    """The trained tensors in float32 (int8 matrices times their scales)."""
    return {k: unpacked(arrays, k) for k in names}


def averaged(states: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The uniform average of several readers' tensors.

    >>> averaged([{"w": np.array([1.0, 3.0])}, {"w": np.array([3.0, 5.0])}])["w"].tolist()
    [2.0, 4.0]
    """
    return {k: np.mean([s[k] for s in states], axis=0).astype(np.float32) for k in states[0]}


def main() -> None:
    import torch

    from assistant.index.encoder import E5Encoder
    from training.answerer_data import header as provenance
    from training.reader_data import Pair, examples, load_states
    from training.reader_eval import development
    from training.train_answerer import ROOT as PROJECT
    from training.train_reader import logits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="reader files (FILE or FILE@BASE for a delta)")
    parser.add_argument("--workdir", type=Path, default=PROJECT / ".cache" / "answerer")
    parser.add_argument("--pairs", type=Path, required=True, help="a pair cache folder (WORKDIR/reader/frozen6-...)")
    parser.add_argument("--write", type=Path, help="also write the average as a reader file")
    parser.add_argument("--out", type=Path, help="the figures as JSON")
    parser.add_argument("--average-only", action="store_true", help="score only the average (the members' figures: their headers)")
    args = parser.parse_args()
    found = [Pair(**p) for p in json.loads((args.pairs / "pairs.json").read_text(encoding="utf-8"))]
    rows = examples(args.workdir)
    states = load_states(args.pairs, found)
    dev = [i for i, p in enumerate(found) if p.split == "dev"]
    frozen = int(args.pairs.name.split("-")[0].removeprefix("frozen"))
    model = build_model(E5Encoder().layers, frozen)
    names = list(model.state_dict())
    each = [state(full_arrays(spec), names) for spec in args.files]
    figures: dict[str, Any] = {}
    looked = [] if args.average_only else list(zip(args.files, each, strict=True))
    for label, tensors in [*looked, ("average of all", averaged(each))]:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
        figures[label] = development([found[i] for i in dev], logits(model, [states[i] for i in dev]), rows)
        print(json.dumps({label: figures[label]}), flush=True)
    if args.write:
        members = [header_of(full_arrays(spec)) for spec in args.files]
        commit = provenance({})["commit"]
        made = {"commit": commit} | ({"init": commit} if "init" in members[0] else {})  # the average of readers averaged here
        first = {k: v for k, v in members[0].items() if k not in ("stored", "train_seconds_this_run", "precision")}  # the first member's own
        header = first | made | {"date": time.strftime("%Y-%m-%d %H:%M"), "trained_by": "python -m training.soup_look (the members' weights averaged)",
                               "development": figures["average of all"], "pairs_development": args.pairs.name,
                               "members": [{k: m.get(k) for k in ("commit", "trained_by", "precision", "epochs", "lr", "seed", "init", "translated",
                                                                  "date", "development")} | {"file": spec}
                                           for spec, m in zip(args.files, members, strict=True)]}
        model.load_state_dict({k: torch.from_numpy(v) for k, v in averaged(each).items()})
        export(model, args.write, header)
    if args.out:
        args.out.write_text(json.dumps({"pairs": args.pairs.name, "development": figures}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
