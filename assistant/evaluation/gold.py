"""Gold question sets for evaluation: loading with precise errors, and answer normalisation.

A gold file is JSON lines, one question each::

    {"id": "q01", "question": "...", "answers": ["August 8", "8 août"],
     "evidence": ["date limite au 8 août"], "unanswerable": false}

``answers`` are acceptable short answers in any language; ``evidence`` are
quotes from the documents (a passage containing one is a correct citation);
``unanswerable: true`` goes with empty ``answers`` and ``evidence``. Optional
``require_all: true`` makes every answer required (multi-fact questions).
Blank lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import GoldFileError
from assistant.text.lexicon import fold

_ARTICLES = re.compile(r"\b(?:a|an|the|le|la|les|un|une|des|du|de)\b|\b[ld]['’]")


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    unanswerable: bool
    require_all: bool = False


_FIELDS: dict[str, type] = {"id": str, "question": str, "answers": list, "evidence": list, "unanswerable": bool}
_KIND_NAMES = {str: "a string", list: "a list", bool: "true or false"}


def parse_gold_line(line: str, where: str) -> GoldQuestion:
    """One line of a gold file; ``where`` ("file:line") prefixes every error."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GoldFileError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise GoldFileError(f"{where}: expected a JSON object, got {type(data).__name__}")
    for name, kind in _FIELDS.items():
        if name not in data:
            raise GoldFileError(f"{where}: field '{name}' is missing")
        if not isinstance(data[name], kind):
            raise GoldFileError(f"{where}: field '{name}' must be {_KIND_NAMES[kind]}, got {type(data[name]).__name__}")
    unknown = set(data) - set(_FIELDS) - {"require_all"}
    if unknown:
        raise GoldFileError(f"{where}: unknown field '{sorted(unknown)[0]}'")
    if not data["id"].strip():
        raise GoldFileError(f"{where}: field 'id' is empty")
    if not data["question"].strip():
        raise GoldFileError(f"{where}: field 'question' is empty")
    for name in ("answers", "evidence"):
        if not all(isinstance(item, str) and item.strip() for item in data[name]):
            raise GoldFileError(f"{where}: field '{name}' must be a list of non-empty strings")
    if data["unanswerable"] and (data["answers"] or data["evidence"]):
        raise GoldFileError(f"{where}: field 'answers'/'evidence' must be empty when 'unanswerable' is true")
    if not data["unanswerable"] and not (data["answers"] and data["evidence"]):
        raise GoldFileError(f"{where}: field '{'answers' if not data['answers'] else 'evidence'}' must not be empty for an answerable question")
    require_all = data.get("require_all", False)
    if not isinstance(require_all, bool):
        raise GoldFileError(f"{where}: field 'require_all' must be true or false")
    return GoldQuestion(data["id"], data["question"], tuple(data["answers"]), tuple(data["evidence"]), data["unanswerable"], require_all)


def load_gold(path: str | Path) -> list[GoldQuestion]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GoldFileError(f"{path}: cannot read gold file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise GoldFileError(f"{path}: gold file is not UTF-8 text") from None
    questions: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        question = parse_gold_line(line, f"{path}:{number}")
        if question.id in seen:
            raise GoldFileError(f"{path}:{number}: field 'id' repeats {question.id!r} from line {seen[question.id]}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise GoldFileError(f"{path}: no questions in gold file")
    return questions


def normalise(text: str) -> str:
    """Compare answers sensibly across English and French.

    >>> normalise("L'envoyé du Président, à  Moscou!")
    'envoye president moscou'
    """
    text = fold(text).replace("’", "'")
    text = _ARTICLES.sub(" ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    predicted, expected = normalise(prediction).split(), normalise(gold).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not predicted or not expected or common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def contains(haystack: str, needle: str) -> bool:
    """Whole-word containment after normalisation."""
    hay, need = f" {normalise(haystack)} ", f" {normalise(needle)} "
    return need.strip() != "" and need in hay


def evidence_in(text: str, evidence: tuple[str, ...]) -> bool:
    """A passage supports the answer when it contains one evidence quote (whitespace and case normalised)."""
    flat = " ".join(text.split()).lower()
    return any(" ".join(e.split()).lower() in flat for e in evidence)


def to_dict(question: GoldQuestion) -> dict[str, Any]:
    return {"id": question.id, "question": question.question, "answers": list(question.answers), "evidence": list(question.evidence)}
