"""A first look, development split only: does token matching pick the answer sentence better than the scorer?

    .venv/bin/python -m training.token_match_look

For every answerable development question whose three read passages hold an answer sentence: each candidate
sentence's token-match score (for each question token, its best cosine among the sentence's tokens, averaged;
final states of the question-passage pair, from the reader's cached lower-layer states run through e5's own top
layers) against the scorer's choice and plain sentence cosine. Prints how often each picks a sentence holding the
answer. Needs the cache of ``python -m training.reader_data``. Nothing is fitted.
"""

from __future__ import annotations

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


def main() -> None:
    workdir = ROOT / ".cache" / "answerer"
    folder = workdir / "reader" / (workdir / "reader" / f"latest-frozen{FROZEN}").read_text(encoding="utf-8").strip()
    pairs = [Pair(**p) for p in json.loads((folder / "pairs.json").read_text(encoding="utf-8"))]
    lookup = {(p.question_id, p.kind, p.chunk_id, p.window): s for p, s in zip(pairs, load_states(folder, pairs), strict=True) if p.split == "dev"}
    scorer = load_scorer()
    rows = [e for e in build(workdir, log=False) if e.split == "dev" and e.kind == "answerable"]
    shifted(rows, scorer)
    encoder = E5Encoder()
    picks: dict[str, list[bool]] = defaultdict(list)
    began = time.time()
    for e, retrieval, found, features, labels in sentence_rows(rows, scorer):
        if not found or not labels.any():
            continue
        match = np.full(len(found), -np.inf)
        for candidate in retrieval.ranked[:3]:
            match = np.maximum(match, token_match(encoder, e.question.text, candidate.chunk, found, lookup, (e.question_id, e.kind)))
        picks["scorer"].append(bool(labels[int(np.argmax(scorer.sentence_logits(features, e.question.vector)))]))
        picks["sentence_cos"].append(bool(labels[int(np.argmax(features[:, 0]))]))
        picks["token_match"].append(bool(np.isfinite(match).any() and labels[int(np.argmax(match))]))
    print(json.dumps({name: {"picked_answer_sentence": round(float(np.mean(v)), 3), "questions": len(v)} for name, v in picks.items()}
                     | {"seconds": round(time.time() - began)}))


if __name__ == "__main__":
    main()
