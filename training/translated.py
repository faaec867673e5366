"""Questions of the fitting sets asked in another language than their paragraphs: a cross-language set made here.

No fitting set pairs a question with a passage in another language (PIAF is French over French, SQuAD English
over English), so nothing could check reading or abstaining across languages. This module machine-translates the
fitting sets' own questions with Apertium (rule-based, Debian's ``apertium``, ``apertium-fr-es`` and
``apertium-eng-spa``; GPL data used at training time only, never shipped nor imported at run time):

- PIAF's French questions into Spanish (``fr-es``) and, through Spanish, into English (``fr-es`` then ``spa-eng``);
- SQuAD's English questions into Spanish (``eng-spa``) and, through Spanish, into French (``eng-spa`` then ``es-fr``).

Each translated question is asked over the same stores as its original (:mod:`training.stores`, the plan the
row builder follows: the full store for answerable and impossible questions, its article's ``minus-F`` store for
every other question as an absent one, and the small stores of its split the same way), with the same gold paragraph and answers; its id
gains ``@LANG``. Splits are the originals' (by
article): development for choices, test for reporting. Rule-based translation is rougher than a person's
("Combien de personnes travaillent au ministère des sports" → "Cuanto de personas trabajan al ministerio de los
deportes"), so these figures are a floor for human-written questions, not an estimate of them.

    .venv/bin/python -m training.translated [--split dev] [--workdir DIR]   # builds and caches, prints counts
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.index.store import Store  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from eval.corpus import CachingEmbedder, write_corpus  # noqa: E402
from training.answerer_data import QA, Example, _data_digest, _example, load_articles, load_rows, save_rows  # noqa: E402
from training.stores import plan  # noqa: E402

ROUTES = {"piaf": {"es": ("fr-es",), "en": ("fr-es", "spa-eng")}, "squad2": {"es": ("eng-spa",), "fr": ("eng-spa", "es-fr")}}
"""Per fitting set, the target languages and the Apertium modes that lead there."""


NO_APERTIUM = "apertium not found: apt-get install apertium apertium-fr-es apertium-eng-spa (training time only)"


def _cache(workdir: Path, split: str) -> Path:
    return workdir / f"translated-{split}.pkl"


def check_apertium(workdir: Path, split: str) -> None:
    """Stop at once (``SystemExit``) if ``split``'s translated questions are not cached in ``workdir`` and Apertium
    cannot make them: the trainer calls this before building its rows (about 40 minutes from nothing), not after."""
    if not _cache(workdir, split).exists() and shutil.which("apertium") is None:
        raise SystemExit(NO_APERTIUM)


def translate(texts: list[str], modes: tuple[str, ...]) -> list[str]:
    """``texts`` through each Apertium mode in turn, one line each (unknown words kept as they are, unmarked):
    "Qui est mort en juillet ?" gives "Que está muerto en julio ?" through ``fr-es``."""
    if shutil.which("apertium") is None:
        raise SystemExit(NO_APERTIUM)
    lines = [" ".join(t.split()) for t in texts]
    for mode in modes:
        done = subprocess.run(["apertium", "-u", mode], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
        out = done.stdout.split("\n")[: len(lines)]
        if len(out) != len(lines):
            raise RuntimeError(f"apertium {mode} returned {len(out)} lines for {len(lines)}")
        lines = [" ".join(line.split()) for line in out]
    return lines


def translated_examples(workdir: Path, split: str, log: bool = True) -> list[Example]:
    """The translated questions of ``split``'s articles over the builder's stores (cached in ``workdir``)."""
    articles = [a for a in load_articles() if a.split == split]
    digest = hashlib.sha256(f"{_data_digest()}:{sorted(ROUTES.items())}:{Path(__file__).read_bytes().hex()}".encode()).hexdigest()
    cached = _cache(workdir, split)
    if (rows := load_rows(cached, digest)) is not None:
        return rows
    texts: dict[str, dict[str, str]] = {}
    for dataset, routes in ROUTES.items():
        asked = [qa for a in articles if a.dataset == dataset for qa in a.questions]
        for lang, modes in routes.items():
            for qa, text in zip(asked, translate([qa.text for qa in asked], modes), strict=True):
                texts.setdefault(qa.id, {})[lang] = text
    embedder = CachingEmbedder(workdir / "embeddings.npz")
    paths = write_corpus(workdir / "docs", {a.name(i): p for a in articles for i, p in enumerate(a.paragraphs)})  # as the builder named them
    examples: list[Example] = []
    interned: dict[str, object] = {}
    for planned in plan(articles):  # the builder's stores, asking the split's questions as the builder does
        if not planned.asked:
            continue
        with Store(load_settings(store=str(workdir / "stores" / planned.name)), create=False) as store:
            for article, questions, kind in planned.asked:
                for qa in questions:
                    gold = paths[article.name(qa.paragraph)]
                    for lang, text in texts[qa.id].items():
                        question = QA(f"{qa.id}@{lang}", text, qa.paragraph, qa.answers)
                        chosen = kind or ("answerable" if qa.answers else "impossible")
                        examples.append(_example(store, embedder, article, question, chosen, gold, interned, planned.where))  # type: ignore[arg-type]
        if log:
            print(f"translated questions asked over {planned.name}: {len(examples)} examples so far", flush=True)
    embedder.save()
    save_rows(cached, digest, examples)
    return examples


if __name__ == "__main__":
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "answerer")
    parser.add_argument("--split", default="dev", choices=("train", "dev", "test"))
    args = parser.parse_args()
    from training import translated  # pickled rows name training.answerer_data.Example either way

    built = translated.translated_examples(args.workdir, args.split)
    for (lang, kind), count in sorted(Counter((e.question_id.rsplit("@", 1)[1], e.kind) for e in built).items()):
        print(f"{lang} {kind:11} {count}")
