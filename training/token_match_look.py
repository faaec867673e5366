"""A first look, development split only: does token matching pick the answer sentence better than the scorer?

    .venv/bin/python -m training.token_match_look [--combine]

For every answerable development question whose three read passages hold an answer sentence: each candidate
sentence's token-match score (for each question token, its best cosine among the sentence's tokens, averaged;
final states of the question-passage pair, from the reader's cached lower-layer states run through e5's own top
layers) against the scorer's choice and plain sentence cosine. Prints how often each picks a sentence holding the
answer. Needs the cache of ``python -m training.reader_data``. ``--combine`` also fits, on the training split, a
logistic model over the scorer's logit and the token match, and reports its pick on development.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.reader import FROZEN, ReaderInput, pair_windows  # noqa: E402
from assistant.answer.scorer import load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from training.answerer_data import build  # noqa: E402
from training.reader_data import Pair, load_states  # noqa: E402
from training.train_answerer import sentence_rows, shifted  # noqa: E402


def token_match(encoder: E5Encoder, question: str, chunk: Any, found: list[Any], lookup: dict[Any, Any], key: tuple[str, str]) -> np.ndarray:
    """Each found sentence's token-match score over this chunk's cached windows (``-inf``: not in the chunk)."""
    ids = encoder.tokenizer.tokenize(question, "query").ids
    content = min(len(ids), 96)
    scores = np.full(len(found), -np.inf)
    windows = pair_windows(ReaderInput(ids, encoder.tokenizer.tokenize(chunk.text, "passage")), 510, encoder.file.vocabulary)
    for n, window in enumerate(windows):
        cached = lookup.get((*key, chunk.id, n))
        if cached is None:
            continue
        final = encoder.continue_layers(np.asarray(cached, np.float32).copy(), [len(cached)], encoder.layers[FROZEN:])[0]
        final /= np.linalg.norm(final, axis=1, keepdims=True)
        asked = final[4 : 1 + content]  # past <s> and the "query:" prefix
        passage = final[window.passage_at : window.passage_at + len(window.starts)]
        at = chunk.start + window.starts
        for k, sentence in enumerate(found):
            inside = (window.starts >= 0) & (at >= sentence.start) & (at < sentence.end)
            if sentence.chunk_id == chunk.id and inside.any():
                scores[k] = max(scores[k], float((asked @ passage[inside].T).max(axis=1).mean()))
    return scores


def question_rows(split: str, workdir: Path, scorer: Any, encoder: E5Encoder) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per answerable question of ``split`` with an answer sentence among its candidates: (labels, scorer logits,
    token-match scores, sentence cosines), candidates in the scorer's order."""
    folder = workdir / "reader" / (workdir / "reader" / f"latest-frozen{FROZEN}").read_text(encoding="utf-8").strip()
    pairs = [Pair(**p) for p in json.loads((folder / "pairs.json").read_text(encoding="utf-8"))]
    lookup = {(p.question_id, p.kind, p.chunk_id, p.window): s for p, s in zip(pairs, load_states(folder, pairs), strict=True) if p.split == split}
    rows = [e for e in build(workdir, log=False) if e.split == split and e.kind == "answerable" and e.store == "full"]
    shifted(rows, scorer)
    out = []
    for e, retrieval, found, features, labels in sentence_rows(rows, scorer):
        if not found or not labels.any():
            continue
        match = np.full(len(found), -np.inf)
        for candidate in retrieval.ranked[:3]:
            match = np.maximum(match, token_match(encoder, e.question.text, candidate.chunk, found, lookup, (e.question_id, e.kind)))
        out.append((labels.astype(bool), scorer.sentence_logits(features, e.question.vector), match, features[:, 0]))
    return out


def _combined(logits: np.ndarray, match: np.ndarray) -> np.ndarray:
    """Per-candidate inputs of the combination: the scorer's logit and the token match, each also against the question's best."""
    seen = np.where(np.isfinite(match), match, np.nanmin(np.where(np.isfinite(match), match, np.nan)) if np.isfinite(match).any() else 0.0)
    return np.column_stack([logits, logits - logits.max(), seen, seen - seen.max(), np.isfinite(match)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--combine", action="store_true", help="also fit scorer logit + token match on train, report on dev")
    args = parser.parse_args()
    workdir = ROOT / ".cache" / "answerer"
    scorer = load_scorer()
    encoder = E5Encoder()
    began = time.time()
    dev = question_rows("dev", workdir, scorer, encoder)
    picks: dict[str, list[bool]] = defaultdict(list)
    for labels, logits, match, cosines in dev:
        picks["scorer"].append(bool(labels[int(np.argmax(logits))]))
        picks["sentence_cos"].append(bool(labels[int(np.argmax(cosines))]))
        picks["token_match"].append(bool(np.isfinite(match).any() and labels[int(np.argmax(match))]))
    if args.combine:
        from sklearn.linear_model import LogisticRegression

        train = question_rows("train", workdir, scorer, encoder)
        x = np.vstack([_combined(logits, match) for _, logits, match, _ in train])
        y = np.concatenate([labels for labels, _, _, _ in train])
        model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
        for labels, logits, match, _ in dev:
            picks["scorer+token_match (fitted on train)"].append(bool(labels[int(np.argmax(model.decision_function(_combined(logits, match))))]))
        print("coefficients", np.round(model.coef_, 3).tolist(), "train questions", len(train))
    print(json.dumps({name: {"picked_answer_sentence": round(float(np.mean(v)), 3), "questions": len(v)} for name, v in picks.items()}
                     | {"seconds": round(time.time() - began)}))


if __name__ == "__main__":
    main()
