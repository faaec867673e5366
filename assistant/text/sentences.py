"""Where sentences end, in any language.

Languages with a trained Punkt model bundled by llama-index-core (:data:`assistant.llama.PUNKT_MODELS`: English,
French, German and sixteen more) are cut by it: it learnt their abbreviations and ordinals from text. Every other
language is cut by sentencex (Wikimedia, MIT), whose rules know the full stops Punkt does not: Chinese and Japanese
``。！？`` with no space after them, Hindi and Bengali ``।``, Arabic ``؟``, Urdu ``۔``, Amharic ``።``, and the
abbreviations of about 300 languages. Until 2026-12-06 these went through the untrained Punkt, which ends a sentence
only at ``.``, ``?`` or ``!`` followed by a space, so a Chinese or Japanese paragraph was one "sentence".
"""

from __future__ import annotations

from assistant.llama import PUNKT_MODELS, punkt_bounds


def sentence_bounds(text: str, language: str | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text`` in ``language`` (ISO 639-1; ``None``: the untrained Punkt).

    >>> text = "公司差旅报销制度。国内出差的每日餐费补贴为一百元！"
    >>> [text[a:b] for a, b in sentence_bounds(text, "zh")]
    ['公司差旅报销制度。', '国内出差的每日餐费补贴为一百元！']
    """
    if language is None or language in PUNKT_MODELS:
        return punkt_bounds(text, language)
    from sentencex import get_sentence_boundaries

    return [(int(s["start_index"]), int(s["end_index"])) for s in get_sentence_boundaries(language, text) if not s["is_paragraph_break"]]
