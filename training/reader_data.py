"""Reader data: (question, passage) pairs from the scorer's rows, labelled with the answer's tokens, and their states.

The passages a question's pairs hold are the ones the reader meets at run time: the top
:data:`assistant.answer.reader.PASSAGES_READ` of the shipped scorer's ranking over the same rows the scorer was fitted on
(:mod:`training.answerer_data`: PIAF and SQuAD 2.0, split by article). On the training split the passages holding
the answer are added when the ranking missed them (the reader must see the answer to learn it), and retrieval-level
negatives (questions whose article is absent) keep their top two only. A pair is labelled with the first and last
token of its answer when its passage holds the whole answer, else with ``<s>`` (no answer), as in SQuAD 2.0.

With ``translated`` (a share, 0 by default), that share of the training questions, picked by a hash of their id, is
asked instead in one of its Apertium translations (:data:`training.translated.ROUTES`: a French question in Spanish
or English, an English one in Spanish or French) over the same passages with the same labels (``beside``: in its own
language as well, so the same-language pairs stay whole and the translated ones are added): the reader then also
learns to read a passage against a question in another language, which no fitting set pairs. Their pairs' question
ids gain ``@LANG``, as in :mod:`training.translated`; development and test pairs are never translated.

A pair is ``<s> query: question </s></s> passage: text </s>``; a passage too long for 512 positions is read in
overlapping windows, each its own pair. States after the encoder's lower :data:`assistant.answer.reader.FROZEN` layers
are cached in ``WORKDIR/reader/`` in shards of float16 (each shard written whole, so an interrupted run resumes at the
first missing shard); the trainer learns the layers above them.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.reader import FROZEN, PASSAGES_READ, ReaderInput, Window, pair_windows  # noqa: E402
from assistant.answer.retrieve import rank  # noqa: E402
from assistant.answer.scorer import Scorer, load_scorer  # noqa: E402
from assistant.index.encoder import E5Encoder  # noqa: E402
from assistant.types import Chunk  # noqa: E402
from training.answerer_data import Example, _hash, build, load_articles  # noqa: E402
from training.no_answer import sentences_holding, swapped, without_answer  # noqa: E402

SHARD = 512
"""Pairs per cached shard."""
ABSENT_READ_IN_TRAINING = 2


@dataclass(frozen=True)
class Pair:
    split: str
    kind: str
    dataset: str
    question_id: str
    example: int
    """Index of its question in :func:`examples`."""
    chunk_id: str
    rank: int
    """Place in the scorer's ranking (``-1``: a passage holding the answer that the ranking left out)."""
    window: int
    length: int
    """Tokens in the pair, ``<s>`` and ``</s>`` included."""
    passage_at: int
    """Where the passage's tokens start in the pair."""
    start: int
    end: int
    """The answer's first and last token in the pair (both 0, ``<s>``, when it holds no answer)."""


def examples(workdir: Path, scorer: Scorer | None = None) -> list[Example]:
    """The scorer's rows with ``scorer``'s ranking applied (candidates re-ordered in place; default: the shipped scorer)."""
    from training.train_answerer import shifted  # it imports this module's cache lookup

    scorer = scorer or load_scorer()
    rows = [e for e in build(workdir, log=False) if e.store == "full"]  # the reader learns from the full store's rankings
    shifted(rows, scorer)
    for e in rows:
        e.candidates = rank(e.question, e.candidates, e.features, scorer).ranked  # type: ignore[arg-type]
    return rows


def _hashed(text: str) -> float:
    """A number in [0, 1) fixed by ``text`` (the splits' hash, scaled): which questions are translated, and into what."""
    return _hash(text) / 16**16


def translated_asking(rows: Sequence[Example], share: float) -> dict[str, tuple[str, str]]:
    """Question id -> (language, translated text) for ``share`` of the training split's questions.

    >>> _hashed("piaf-1") < 1 and translated_asking([], 0.5) == {}
    True
    """
    from training.translated import ROUTES, translate

    chosen: dict[tuple[str, str], list[Example]] = {}
    for e in {e.question_id: e for e in rows if e.split == "train"}.values():
        if _hashed(f"translated:{e.question_id}") < share:
            languages = sorted(ROUTES[e.dataset])
            language = languages[int(_hashed(f"language:{e.question_id}") * len(languages))]
            chosen.setdefault((e.dataset, language), []).append(e)
    out: dict[str, tuple[str, str]] = {}
    for (dataset, language), asked in sorted(chosen.items()):
        for e, text in zip(asked, translate([e.question.text for e in asked], ROUTES[dataset][language]), strict=True):  # type: ignore[attr-defined]
            out[e.question_id] = (language, text)
    return out


def pairs(rows: list[Example], encoder: E5Encoder, asked: dict[str, tuple[str, str]] | None = None,
          beside: bool = False, cut: float = 0.0, swap: float = 0.0) -> tuple[list[Pair], list[np.ndarray]]:
    """Every pair of every split with its content token ids (``<s>``/``</s>`` not included); ``asked``: the training
    questions asked in a translation (:func:`translated_asking`), instead of in their own language or (``beside``) as well.

    ``cut``: for that share of the answerable training questions (picked by a hash of their id), the passage holding
    the answer is also read with the answer's sentences taken out (:func:`without_answer`), labelled no answer
    (kind ``cut``, chunk id ``ID#cut``): a passage on the question's subject that does not answer it, as SQuAD 2.0's
    impossible questions are. ``swap``: for that share, the question is also asked with a name or a number swapped
    for another its passage holds outside the answer's sentences (:mod:`training.no_answer`) over that passage, labelled
    no answer (kind ``swapped``, question id ``ID#swap``): the entity swaps SQuAD 2.0's impossible questions hold."""
    spans = {qa.id: qa.answers for article in load_articles() for qa in article.questions}
    asked = asked or {}
    out: list[Pair] = []
    ids: list[np.ndarray] = []
    for n, e in enumerate(rows):
        read = e.candidates[: ABSENT_READ_IN_TRAINING if e.split == "train" and e.kind == "absent" else PASSAGES_READ]
        extra = [c for c in e.candidates[PASSAGES_READ:] if c.chunk.id in e.positive_chunks] if e.split == "train" else []
        original: str = e.question.text  # type: ignore[attr-defined]
        askings = [("", original)]
        if e.split == "train" and e.question_id in asked:
            askings = [*askings, asked[e.question_id]] if beside else [asked[e.question_id]]
        for language, text in askings:
            question = encoder.tokenizer.tokenize(text, "query")
            pair_id = f"{e.question_id}@{language}" if language else e.question_id
            for rank_, candidate in [*enumerate(read), *((-1, c) for c in extra)]:
                chunk = candidate.chunk
                answers = [(s - chunk.start, s - chunk.start + len(t)) for t, s in spans[e.question_id]
                           if e.kind == "answerable" and chunk.source == e.gold_source and chunk.start <= s and s + len(t) <= chunk.end]
                readings = [(e.kind, pair_id, question, chunk.id, chunk.text, answers[0] if answers else None)]
                if cut and answers and e.split == "train" and _hashed(f"cut:{e.question_id}") < cut:
                    if (left := without_answer(chunk, answers[0], [t for t, _ in spans[e.question_id]])) is not None:
                        readings.append(("cut", pair_id, question, f"{chunk.id}#cut", left, None))
                if swap and answers and not language and e.split == "train" and _hashed(f"swap:{e.question_id}") < swap:
                    if (other := swapped(text, chunk.text, sentences_holding(chunk, answers[0]), _hashed(f"which:{e.question_id}"))):
                        readings.append(("swapped", f"{pair_id}#swap", encoder.tokenizer.tokenize(other, "query"), chunk.id, chunk.text, None))
                for kind, asked_id, asking, chunk_id, passage_text, answer in readings:
                    item = ReaderInput(asking.ids, encoder.tokenizer.tokenize(passage_text, "passage"))
                    for w, window in enumerate(pair_windows(item, encoder.window, encoder.file.vocabulary)):
                        start, end = window.label(answer) if answer else (0, 0)
                        out.append(Pair(e.split, kind, e.dataset, asked_id, n, chunk_id, rank_, w, len(window.ids) + 2, window.passage_at,
                                        start, end))
                        ids.append(window.ids)
    return out, ids


def cache(workdir: Path, scorer: Scorer | None = None, log: bool = True, frozen: int = FROZEN,
          translated: float = 0.0, beside: bool = False, cut: float = 0.0, swap: float = 0.0) -> tuple[list[Example], list[Pair], Path]:
    """Build the pairs (``translated``: the share of training questions asked in a translation, ``beside`` their own
    language or instead of it; ``cut``: the share read without their answer sentence too, ``swap``: with a name or number
    swapped) and cache their states after
    ``frozen`` layers; the rows, the pairs and the shard folder.

    A pair some earlier cache at the same depth holds (same question id, passage, window and length) is copied from it,
    not run through the encoder again."""
    encoder = E5Encoder(threads=2)
    rows = examples(workdir, scorer)
    found, ids = pairs(rows, encoder, translated_asking(rows, translated) if translated else None, beside, cut, swap)
    digest = hashlib.sha256(json.dumps([asdict(p) for p in found]).encode()).hexdigest()[:16]
    folder = workdir / "reader" / f"frozen{frozen}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pairs.json").write_text(json.dumps([asdict(p) for p in found]), encoding="utf-8")
    shards = range(0, len(found), SHARD)
    earlier = None
    began = time.time()
    for k, at in enumerate(shards):
        path = folder / f"{k:05d}.npy"
        if path.exists():
            continue
        if earlier is None:
            earlier = _earlier_states(workdir / "reader", frozen, but=folder)
        known = [earlier.get((p.question_id, p.kind, p.chunk_id, p.window, p.length)) for p in found[at : at + SHARD]]
        missing = [i for i, s in enumerate(known) if s is None]
        run = iter(encoder.hidden([ids[at + i] for i in missing], encoder.layers[:frozen]) if missing else [])
        states = [s if s is not None else next(run) for s in known]
        partial = path.with_suffix(".part.npy")
        np.save(partial, np.concatenate(states).astype(np.float16))
        partial.rename(path)
        if log:
            print(f"shard {k + 1}/{len(shards)} ({time.time() - began:.0f} s)", flush=True)
    (workdir / "reader" / f"latest-frozen{frozen}").write_text(folder.name, encoding="utf-8")
    return rows, found, folder


def _earlier_states(folder: Path, frozen: int, but: Path) -> dict[tuple[str, str, str, int, int], np.ndarray]:
    """Every pair's states in the finished caches at depth ``frozen`` under ``folder`` other than ``but`` (memory-mapped)."""
    out: dict[tuple[str, str, str, int, int], np.ndarray] = {}
    for other in sorted(folder.glob(f"frozen{frozen}-*")):
        known = [Pair(**p) for p in json.loads((other / "pairs.json").read_text(encoding="utf-8"))] if (other / "pairs.json").exists() else []
        if other == but or not known or not (other / f"{(len(known) - 1) // SHARD:05d}.npy").exists():
            continue
        for p, states in zip(known, load_states(other, known), strict=True):
            out[(p.question_id, p.kind, p.chunk_id, p.window, p.length)] = states
    return out


def windows_of(rows: list[Example], found: Sequence[Pair]) -> list[tuple[Chunk, Window]]:
    """Each pair's passage and window, tokenised again from the rows (the cache keeps states, not windows)."""
    from assistant.index.e5_tokenizer import Tokenizer
    from assistant.index.e5_weights import WeightsFile

    file = WeightsFile()
    tokenizer = Tokenizer(file.vocabulary)
    built: dict[tuple[int, str], list[Window]] = {}
    out = []
    for pair in found:
        if pair.kind in ("cut", "swapped"):
            raise ValueError(f"{pair.question_id}: a {pair.kind} pair is not tokenised again here (build without --cut and --swap)")
        if "@" in pair.question_id:
            raise ValueError(f"{pair.question_id}: a pair asked in a translation is not tokenised again here (build without --translated)")
        row = rows[pair.example] if pair.example < len(rows) else None
        chunk = next((c.chunk for c in row.candidates if c.chunk.id == pair.chunk_id), None) if row and row.question_id == pair.question_id else None
        if chunk is None:
            raise ValueError(f"pair {pair.question_id} (passage {pair.chunk_id}) is not in these rows: the pair cache was built from "
                             "other rows (they are rebuilt when the code that shapes them changes); use the cache the last run built "
                             "(WORKDIR/reader/latest-frozenN names it) or build the pairs again")
        key = (pair.example, pair.chunk_id)
        if key not in built:
            item = ReaderInput(tokenizer.tokenize(row.question.text, "query").ids, tokenizer.tokenize(chunk.text, "passage"))  # type: ignore[attr-defined]
            built[key] = pair_windows(item, file.positions - 2, file.vocabulary)
        out.append((chunk, built[key][pair.window]))
    return out


def sentence_numbers(rows: list[Example], found: list[Pair]) -> list[np.ndarray]:
    """Per pair, each token's sentence in its passage (``-1``: ``<s>``, the question, separators, the prefix)."""
    out: list[np.ndarray] = []
    for pair, (chunk, window) in zip(found, windows_of(rows, found), strict=True):
        starts = np.array([x.start for x in chunk.sentences])
        number = np.where(window.starts >= 0, np.searchsorted(starts, chunk.start + window.starts, side="right") - 1, -1)
        ids = np.full(pair.length, -1, np.int64)
        ids[pair.passage_at : pair.passage_at + len(number)] = number
        out.append(ids)
    return out


Key = tuple[str, str, str, int]
"""(question id, kind, chunk id, window): one pair."""


def cached_lower(workdir: Path, frozen: int = FROZEN) -> dict[Key, np.ndarray]:
    """The states after ``frozen`` layers of every cached pair of the last :func:`cache` run at that depth (empty: none)."""
    marker = workdir / "reader" / f"latest-frozen{frozen}"
    if not marker.exists():
        return {}
    folder = workdir / "reader" / marker.read_text(encoding="utf-8").strip()
    found = [Pair(**p) for p in json.loads((folder / "pairs.json").read_text(encoding="utf-8"))]
    return {(p.question_id, p.kind, p.chunk_id, p.window): s for p, s in zip(found, load_states(folder, found), strict=True)}


def load_states(folder: Path, found: list[Pair]) -> list[np.ndarray]:
    """Each pair's cached states, ``[length, 384]`` float16."""
    out: list[np.ndarray] = []
    for k, at in enumerate(range(0, len(found), SHARD)):
        block = np.load(folder / f"{k:05d}.npy", mmap_mode="r")
        offset = 0
        for p in found[at : at + SHARD]:
            out.append(block[offset : offset + p.length])
            offset += p.length
    return out


if __name__ == "__main__":
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--frozen", type=int, default=FROZEN, help="encoder layers run as they ship (the reader trains the rest)")
    parser.add_argument("--translated", type=float, default=0.0, help="share of training questions asked in an Apertium translation")
    parser.add_argument("--beside", action="store_true", help="ask them in their own language as well (default: instead)")
    parser.add_argument("--cut", type=float, default=0.0, help="share of answerable training questions also read without their answer sentence")
    parser.add_argument("--swap", type=float, default=0.0, help="share of answerable training questions also asked with a name or number swapped")
    args = parser.parse_args()
    _, built, where = cache(args.workdir, frozen=args.frozen, translated=args.translated, beside=args.beside, cut=args.cut, swap=args.swap)
    print(where, Counter((p.split, p.start > 0) for p in built), sum(p.length for p in built), "tokens")
