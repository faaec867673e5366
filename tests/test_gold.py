"""Gold files: precise errors for malformed lines, every valid line accepted, normalisation."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.errors import GoldFileError
from assistant.evaluation.gold import contains, load_gold, normalise, parse_gold_line, token_f1

VALID = {"id": "q1", "question": "When?", "answers": ["8 août"], "evidence": ["le 8 août"], "unanswerable": False}


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"gold.jsonl:2: not valid JSON"),
        ("[1, 2]", r"gold.jsonl:2: expected a JSON object"),
        (json.dumps({**VALID, "id": "q2", "question": 5}), r"gold.jsonl:2: field 'question' must be a string"),
        (json.dumps({k: v for k, v in VALID.items() if k != "evidence"} | {"id": "q2"}), r"gold.jsonl:2: field 'evidence' is missing"),
        (json.dumps({**VALID, "id": "q2", "answers": "8 août"}), r"gold.jsonl:2: field 'answers' must be a list"),
        (json.dumps({**VALID, "id": "q2", "unanswerable": "no"}), r"gold.jsonl:2: field 'unanswerable' must be true or false"),
        (json.dumps({**VALID, "id": "q2", "unanswerable": True}), r"gold.jsonl:2: field 'answers'/'evidence' must be empty"),
        (json.dumps({**VALID, "id": "q2", "answers": []}), r"gold.jsonl:2: field 'answers' must not be empty"),
        (json.dumps({**VALID, "id": "q2", "answers": [""]}), r"gold.jsonl:2: field 'answers' must be a list of non-empty strings"),
        (json.dumps({**VALID, "id": "q2", "colour": "red"}), r"gold.jsonl:2: unknown field 'colour'"),
        (json.dumps(VALID), r"gold.jsonl:2: field 'id' repeats 'q1' from line 1"),
    ],
)
def test_malformed_lines_name_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, json.dumps(VALID, ensure_ascii=False), line)
    with pytest.raises(GoldFileError, match=message):
        load_gold(path)


def test_blank_and_comment_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "# a comment", "", json.dumps(VALID))
    assert [q.id for q in load_gold(path)] == ["q1"]


def test_the_committed_seed_gold_set_is_valid_and_broad() -> None:
    questions = load_gold(Path(__file__).resolve().parent.parent / "eval" / "gold" / "seeds.jsonl")
    assert len(questions) >= 25
    assert sum(q.unanswerable for q in questions) >= 4
    french = [q for q in questions if any(w in q.question.split() for w in ("Qui", "Quelle", "Quand", "Combien", "Selon", "Quel"))]
    assert 5 <= len(french) < len(questions)


answers = st.lists(st.text(min_size=1).filter(str.strip), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1).filter(str.strip), st.text(min_size=1).filter(str.strip), answers, answers, st.booleans())
def test_every_valid_line_is_accepted(qid: str, question: str, golds: list[str], evidence: list[str], unanswerable: bool) -> None:
    row = {"id": qid, "question": question, "answers": [] if unanswerable else golds,
           "evidence": [] if unanswerable else evidence, "unanswerable": unanswerable}
    parsed = parse_gold_line(json.dumps(row), "f:1")
    assert parsed.id == qid and parsed.unanswerable is unanswerable and list(parsed.answers) == row["answers"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.dictionaries(st.text(), st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))))
def test_malformed_lines_are_rejected_with_a_message_never_a_crash(data: object) -> None:
    line = data if isinstance(data, str) else json.dumps(data)  # random text and random objects: never a valid gold line
    with pytest.raises(GoldFileError) as error:
        parse_gold_line(line, "f:7")
    assert str(error.value).startswith("f:7: ") and len(str(error.value)) > len("f:7: ")


def test_normalisation_for_english_and_french() -> None:
    assert normalise("Le 8 Août!") == "8 aout"
    assert normalise("The United States") == normalise("united states")
    assert normalise("l'envoyé d'Amérique") == "envoye amerique"
    assert contains("“…une date limite au 8 août pour…” [1]", "8 août")
    assert not contains("le 18 août", "8 août")
    assert token_f1("trois heures", "environ trois heures") == pytest.approx(0.8)
