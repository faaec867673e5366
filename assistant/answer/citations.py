"""Citation checking: parse ``[n]`` markers in a model's answer and test each sentence against what it cites.

The cited ids are computed from the answer text, never trusted: markers that
point at no passage are removed (and recorded). Each remaining sentence is
*supported* when

- it cites at least one passage,
- its embedding is close to one of the cited passages' sentences (paraphrase
  or translation of what the passage says), and
- every number in it (dates, amounts, counts) appears in a cited passage, and
- every name in it appears there too (same-language answers only: names
  change form across languages).

Sentences that fail are returned in ``unsupported``. The test is offline and
cheap: one embedding per answer sentence.

Each ``[n]`` is then narrowed to what carries it: the sentence of passage n
closest to the answer sentence when it is close enough and holds the answer
sentence's numbers and names, else that sentence with a neighbour, else the
sentence holding the reader's answer phrase for the question when the answer
sentence says that phrase (:func:`by_phrase`; the reader read the question
against the passage), else (no sentence carries it alone) the whole passage.

>>> parse_markers("Yes [1]. No [2, 3][4].")
[(4, 7, [1]), (12, 18, [2, 3]), (18, 21, [4])]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.text.language import language
from assistant.text.lexicon import fold
from assistant.types import CANNOT_ANSWER

MARKER = re.compile(r"\[\s*(\d{1,4}(?:\s*[,;]\s*\d{1,4})*)\s*\]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def parse_markers(text: str) -> list[tuple[int, int, list[int]]]:
    """Every ``[n]``/``[n, m]`` marker as ``(start, end, numbers)``; never raises."""
    found = []
    for match in MARKER.finditer(text):
        numbers = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1).strip())]
        found.append((match.start(), match.end(), numbers))
    return found


Support = tuple[int, int] | None
"""First and last index of the passage sentences that carry an answer sentence; ``None``: the passage as a whole."""
Phrases = Sequence[tuple[int, str]]
"""The reader's answer phrase in sentences of one passage, best sentence first: ``(sentence index, phrase)``."""


@dataclass
class CheckedSentence:
    text: str
    cited: list[int]
    supported: bool
    similarity: float = 0.0
    reason: str = ""
    support: dict[int, Support] = field(default_factory=dict)
    """For each cited passage n, the sentences of n that carry this sentence."""


@dataclass
class CheckResult:
    text: str
    sentences: list[CheckedSentence]
    removed: list[int] = field(default_factory=list)
    abstained: bool = False

    @property
    def cited(self) -> list[int]:
        return sorted({n for s in self.sentences for n in s.cited})

    @property
    def unsupported(self) -> list[str]:
        return [s.text for s in self.sentences if not s.supported]

    @property
    def any_supported(self) -> bool:
        return any(s.supported for s in self.sentences)


def clean_markers(text: str, count: int) -> tuple[str, list[int]]:
    """Drop numbers outside ``1..count`` from markers (and markers left empty); return text and removed numbers."""
    removed: list[int] = []

    def keep(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1).strip())]
        good = [n for n in numbers if 1 <= n <= count]
        removed.extend(n for n in numbers if not 1 <= n <= count)
        return f"[{', '.join(str(n) for n in good)}]" if good else ""

    cleaned = MARKER.sub(keep, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip(), removed


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into sentences, each with the passage numbers its markers cite.

    A marker that opens a sentence ("Paris. [1] It is...") belongs to the one before.
    """
    from assistant.ingest.chunking import sentence_spans
    from assistant.text.language import language

    out: list[tuple[str, list[int]]] = []
    for span in sentence_spans(text, 0, language(text)):  # cut as the passages it cites were
        sentence = text[span.start : span.end]
        leading = re.match(r"^(\s*\[[^\]]*\])+", sentence)
        if leading and out:
            prev_text, prev_cited = out[-1]
            out[-1] = (prev_text + " " + leading.group(0).strip(), prev_cited + _numbers(leading.group(0)))
            sentence = sentence[leading.end() :].strip()
        if sentence and re.search(r"\w", MARKER.sub("", sentence)):
            out.append((sentence, _numbers(sentence)))
    return out


def _numbers(text: str) -> list[int]:
    return list(dict.fromkeys(n for _, _, numbers in parse_markers(text) for n in numbers))


def unknown_names(sentence: str, cited_text: str) -> list[str]:
    """Capitalised words (not opening the sentence) with no close match in the cited text.

    Only when both are in the same language: across languages names change form
    (Putin, Poutine) and common nouns get capitals (United States, États-Unis).

    >>> unknown_names("The talks with Macron went well.", "The talks with Putin went well.")
    ['Macron']
    """
    if language(sentence) != language(cited_text):
        return []
    words = re.findall(r"\w[\w-]*", sentence)
    names = [w for w in words[1:] if w[0].isupper() and len(w) >= 4]
    known = {fold(w) for w in re.findall(r"\w[\w-]*", cited_text)}
    return [n for n in dict.fromkeys(names) if fold(n) not in known and not difflib.get_close_matches(fold(n), known, n=1, cutoff=0.75)]


def is_cannot_answer(text: str) -> bool:
    return fold(CANNOT_ANSWER).rstrip(".") in fold(MARKER.sub("", text))


def _lacks(plain: str, cited_text: str) -> tuple[list[str], list[str]]:
    """Numbers, then names, of ``plain`` that ``cited_text`` does not hold."""
    missing = [num for num in NUMBER.findall(plain) if not re.search(rf"(?<![\d.,]){re.escape(num)}(?![\d])", cited_text)]
    return missing, unknown_names(plain, cited_text)


def carrying(plain: str, vector: np.ndarray, sentences: Sequence[str], matrix: np.ndarray | None, threshold: float) -> Support:
    """The sentence (or two neighbouring sentences) of one passage that carry ``plain``, if any.

    >>> m = np.eye(3, dtype=np.float32)
    >>> carrying("It costs 5 euros.", m[1], ["Hello.", "It costs 5 euros.", "Bye."], m, 0.9)
    (1, 1)
    >>> carrying("It costs 5 euros, paid on 3 May.", m[1], ["Hello.", "It costs 5 euros.", "Paid on 3 May."], m, 0.9)
    (1, 2)
    >>> carrying("It costs 5 euros, paid on 3 May.", m[1], ["Hello.", "It costs 5 euros.", "Paid in June."], m, 0.9) is None
    True
    """
    if matrix is None or len(matrix) != len(sentences) or not len(matrix):
        return None
    similarities = matrix @ vector
    best = int(np.argmax(similarities))
    if similarities[best] < threshold:
        return None
    for first, last in ((best, best), (best - 1, best), (best, best + 1)):
        if 0 <= first and last < len(sentences) and not any(_lacks(plain, " ".join(sentences[first : last + 1]))):
            return first, last
    return None


def by_phrase(plain: str, sentences: Sequence[str], phrases: Phrases) -> Support:
    """The first sentence of ``phrases`` whose phrase the answer sentence ``plain`` says (whole words, case and
    accents aside) and which holds every number and name of ``plain``; ``None``: none does.

    >>> said = ["Talks began in Moscow.", "Washington set 8 August as the deadline."]
    >>> by_phrase("The deadline was 8 August, set by Washington.", said, [(0, "Moscow"), (1, "8 August")])
    (1, 1)
    >>> by_phrase("The deadline was 18 August.", said, [(1, "8 August")]) is None
    True
    """
    folded = fold(plain)
    for i, phrase in phrases:
        wanted = fold(phrase).strip()
        if 0 <= i < len(sentences) and wanted and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", folded) and not any(_lacks(plain, sentences[i])):
            return i, i
    return None


def check_answer(
    text: str,
    passages: Sequence[str],
    passage_sentence_vectors: Sequence[np.ndarray | None],
    embed: Callable[[list[str]], np.ndarray],
    threshold: float,
    passage_sentences: Sequence[Sequence[str]] | None = None,
    phrases: Callable[[int], Phrases] | None = None,
) -> CheckResult:
    """Check ``text`` against ``passages`` (numbered from 1) and their sentences' vectors.

    With ``passage_sentences`` (the text of each row of the vectors), every
    supported sentence also records which sentences of each cited passage carry it.
    ``phrases(n)``: the reader's phrases in passage n (:data:`Phrases`), asked for only when no sentence of n is
    close enough to an answer sentence citing it (:func:`by_phrase`).
    """
    cleaned, removed = clean_markers(text, len(passages))
    if is_cannot_answer(cleaned):
        return CheckResult(cleaned, [], removed, abstained=True)
    sentences = answer_sentences(cleaned)
    if not sentences:
        return CheckResult(cleaned, [], removed)
    bare = [MARKER.sub("", s).strip() for s, _ in sentences]
    vectors = embed(bare)
    checked = []
    for (sentence, cited), plain, vector in zip(sentences, bare, vectors, strict=True):
        if not cited:
            checked.append(CheckedSentence(sentence, [], False, reason="cites no passage"))
            continue
        best = 0.0
        for n in cited:
            matrix = passage_sentence_vectors[n - 1]
            if matrix is not None and len(matrix):
                best = max(best, float(np.max(matrix @ vector)))
        missing, strangers = _lacks(plain, " ".join(passages[n - 1] for n in cited))
        if missing:
            checked.append(CheckedSentence(sentence, cited, False, best, f"numbers not in the cited passages: {', '.join(missing)}"))
        elif strangers:
            checked.append(CheckedSentence(sentence, cited, False, best, f"names not in the cited passages: {', '.join(strangers)}"))
        elif best < threshold:
            checked.append(CheckedSentence(sentence, cited, False, best, "says something the cited passages do not"))
        else:
            support: dict[int, Support] = {}
            for n in cited:
                found = carrying(plain, vector, passage_sentences[n - 1], passage_sentence_vectors[n - 1], threshold) if passage_sentences else None
                if found is None and passage_sentences and phrases is not None:
                    found = by_phrase(plain, passage_sentences[n - 1], phrases(n))
                support[n] = found
            checked.append(CheckedSentence(sentence, cited, True, best, support=support))
    return CheckResult(cleaned, checked, removed)
