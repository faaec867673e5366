"""No-answer pairs made from answerable training questions, for the reader to learn no-answer: the answer's passage
read without the answer's sentences (:func:`without_answer`), or the question asked with a name or a number swapped
(:func:`swapped`).

SQuAD 2.0's impossible questions were written against a paragraph that holds a plausible answer. One of the kinds its
paper names is the entity swap: an entity, a number or a date of an answerable question replaced by another (Rajpurkar,
Jia and Liang, 2018, table 2). The reader learnt no-answer from 480 such training questions and from passages of other
articles, and abstains on few of them (README, *Targets missed*). Any answerable training question can make one more
(:func:`swapped`): a name or number of the question that its passage holds is replaced by another of the same kind
that the passage holds *outside the answer's sentence* (a year by a year, a number by a number, a run of capitalised
words by another, of as many words when there is one), so the question still reads as being about the passage, and
what it now asks is not what the answer's sentence says.

It knows nothing of grammar: no word list, the same rules in every script with capitals. A swap can make a question
the passage answers elsewhere; that noise is part of what the development figures measure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.types import Chunk

_WORD = re.compile(r"\w+(?:['’.-]\w+)*")
_YEAR = re.compile(r"1[0-9]{3}|20[0-9]{2}")


def _units(text: str, skip_sentence_starts: bool) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each name (a run of capitalised words), year and number in ``text``.

    A capitalised word opening ``text`` or a sentence is an ordinary word written with a capital, not a name.

    >>> t = "In 1998 Kelly Rowland joined Destiny's Child. They sold 60 million records."
    >>> [(t[a:b], k) for a, b, k in _units(t, True)]
    [('1998', 'year'), ('Kelly Rowland', 'name'), ("Destiny's Child", 'name'), ('60', 'number')]
    """
    out: list[tuple[int, int, str]] = []
    for m in _WORD.finditer(text):
        word, start = m.group(), m.start()
        before = text[:start].rstrip(" \t\"'«“‘(")
        if any(c.isdigit() for c in word):
            out.append((start, m.end(), "year" if _YEAR.fullmatch(word) else "number"))
        elif word[0].isupper() and before and not (skip_sentence_starts and before[-1] in ".!?:\n"):
            if out and out[-1][2] == "name" and text[out[-1][1] : start] == " ":
                out[-1] = (out[-1][0], m.end(), "name")
            else:
                out.append((start, m.end(), "name"))
    return out


def swapped(question: str, passage: str, answer_sentences: tuple[int, int], pick: float) -> str | None:
    """``question`` with one of its names or numbers that ``passage`` holds replaced by another of the same kind that
    ``passage`` holds outside ``answer_sentences`` (characters of ``passage``) and the question does not; ``None``
    when there is none. ``pick`` (in [0, 1)) chooses which, so the same question always gets the same swap.

    >>> p = "Beyoncé joined Destiny's Child in 1990. In 1993 Kelly Rowland joined; she left in 2005."
    >>> swapped("Which group did Beyoncé join in 1990?", p, (0, 40), 0.0)
    'Which group did Kelly Rowland join in 1990?'
    >>> swapped("Which group did Beyoncé join in 1990?", p, (0, 40), 0.9)
    'Which group did Beyoncé join in 2005?'
    >>> swapped("Which group did Beyoncé join in 1990?", p, (0, 40), 0.5)
    'Which group did Beyoncé join in 1993?'
    >>> swapped("Which group did Beyoncé join?", "Beyoncé joined a group.", (0, 23), 0.5) is None
    True
    """
    low, high = answer_sentences
    folded_question, folded_answer = question.casefold(), passage[low:high].casefold()
    outside: dict[str, list[str]] = {}
    for a, b, kind in _units(passage, True):
        text = passage[a:b]
        if (b <= low or a >= high) and text.casefold() not in folded_question and text.casefold() not in folded_answer:
            outside.setdefault(kind, [])
            if text not in outside[kind]:
                outside[kind].append(text)
    folded_passage = passage.casefold()
    choices = [(a, b, other) for a, b, kind in _units(question, False) if question[a:b].casefold() in folded_passage
               for other in _alike(question[a:b], outside.get(kind, []))]
    if not choices:
        return None
    a, b, other = choices[int(pick * len(choices))]
    return question[:a] + other + question[b:]


def _alike(name: str, others: list[str]) -> list[str]:
    """``others`` of as many words as ``name`` ("Kelly Rowland" for "Destiny's Child"), else all of them."""
    same = [o for o in others if len(o.split()) == len(name.split())]
    return same or others


def without_answer(chunk: Chunk, answer: tuple[int, int], texts: Sequence[str]) -> str | None:
    """The chunk's text with the sentences holding ``answer`` (chunk characters) taken out, or ``None`` when an answer
    text is still in what is left (it would not be a passage without the answer).

    >>> from assistant.types import Span as Range
    >>> c = Chunk("c", "d", 10, 40, "It rained. Paris won. Then.", (Range(10, 20), Range(21, 31), Range(32, 37)))
    >>> without_answer(c, (11, 16), ["Paris"]), without_answer(c, (11, 16), ["rained"])
    ('It rained. Then.', None)
    """
    cut_from, cut_to = sentences_holding(chunk, answer)
    if cut_from == cut_to:
        return None
    while cut_to < len(chunk.text) and chunk.text[cut_to].isspace():
        cut_to += 1
    left = chunk.text[:cut_from] + chunk.text[cut_to:]
    return None if not left.strip() or any(t.casefold() in left.casefold() for t in texts) else left


def sentences_holding(chunk: Chunk, answer: tuple[int, int]) -> tuple[int, int]:
    """Where the chunk's sentences overlapping ``answer`` begin and end (chunk characters; ``(0, 0)``: none does)."""
    holding = [(x.start - chunk.start, x.end - chunk.start) for x in chunk.sentences
               if x.start - chunk.start < answer[1] and x.end - chunk.start > answer[0]]
    return (holding[0][0], holding[-1][1]) if holding else (0, 0)
