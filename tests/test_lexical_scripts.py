"""BM25 in every script: words written without spaces, Hangul, viramas and voicing marks are found by the words of a
question, and a store indexed before (schema 2) is indexed again when it is opened, losing nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.index.fts import register
from assistant.text.lexicon import search_terms, words
from tests.conftest import FakeEmbedder

# per language: three short documents, a question, and the words of the document BM25 must rank first (Chinese, Japanese
# and Korean found nothing before 2026-12-06: a run of characters was one term, kana lost their voicing marks on one
# side only, Hangul was decomposed on one side only; Hindi and Thai found the passage before too)
DOCUMENTS = {
    "zh": (["员工出差前必须通过内部系统提交申请，并获得部门经理的批准。", "乘坐飞机原则上只能购买经济舱机票。如需购买公务舱，必须事先获得财务总监的书面同意。",
            "所有报销必须在出差结束后三十天内提交，逾期不予受理。"], "购买公务舱需要谁同意？", "财务总监"),
    "ja": (["社員食堂は平日の午前十一時半から午後二時まで営業しています。", "ガス料金は毎月の給与から差し引かれます。",
            "アレルギー情報は入口の掲示板に毎朝掲載されます。"],
           "ガス料金はどうやって払いますか？", "給与"),
    "ko": (["도서관은 평일 오전 아홉 시에 문을 엽니다.", "연체료는 책 한 권에 하루 백 원입니다.", "회의실은 이틀 전에 예약해야 합니다."],
           "연체료는 얼마입니까?", "백 원"),
    "hi": (["पुस्तकालय सुबह नौ बजे खुलता है।", "कर्मचारी घर से काम करने के लिए प्रबंधक की अनुमति लेते हैं।", "भोजनालय दोपहर में बंद रहता है।"],
           "घर से काम करने के लिए किसकी अनुमति चाहिए?", "प्रबंधक"),
    "th": (["ห้องสมุดเปิดทุกวันตั้งแต่เก้าโมงเช้า", "ค่าปรับหนังสือเกินกำหนดวันละห้าบาท", "ห้องประชุมต้องจองล่วงหน้าสองวัน"], "ค่าปรับหนังสือเท่าไร", "ห้าบาท"),
}


def _write(folder: Path, language: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(DOCUMENTS[language][0]):
        (folder / f"{language}{i}.txt").write_text(text, encoding="utf-8")


def _first_hit(bot: Assistant, question: str) -> str:
    hits = bot.store.lexical_search(question, 3)
    assert hits, f"BM25 found nothing for {question!r}"
    return bot.store.chunks_by_id([hits[0][0]])[hits[0][0]].text


@pytest.mark.parametrize("language", list(DOCUMENTS))
def test_bm25_finds_a_passage_by_the_words_of_a_question_in_any_script(language: str, fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    _write(tmp_path / "docs", language)
    _, question, expected = DOCUMENTS[language]
    with Assistant(embedder=fake_embedder, store=str(tmp_path / "store")) as bot:
        bot.ingest([tmp_path / "docs"])
        assert expected in _first_hit(bot, question)


def test_words_without_spaces_are_compared_by_pairs_of_characters() -> None:
    asked, sentence = words("国际出差的每日餐费补贴是多少？"), words("国内出差的每日餐费补贴为一百元，国际出差为五十美元。")
    assert {"出差", "餐费", "补贴", "国际"} <= asked & sentence, "the sentence shares the question's words"
    assert words("东京") == {"东京"} and search_terms("东") == ["东"], "a run of one or two characters is kept whole"
    assert words("Le 8 août") == {"8", "aout"}, "spaced scripts as before"


def _as_schema_2(manifest: Path) -> None:
    """The index as schema 2 built it: FTS5 over the raw chunk text."""
    db = sqlite3.connect(manifest)
    db.executescript("""
        DROP TRIGGER chunks_ai; DROP TRIGGER chunks_ad; DROP TABLE fts_vocab; DROP TABLE fts; DROP VIEW chunk_terms;
        CREATE VIRTUAL TABLE fts USING fts5(text, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
        CREATE VIRTUAL TABLE fts_vocab USING fts5vocab(fts, 'row');
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN INSERT INTO fts(rowid, text) VALUES (new.rowid, new.text); END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
            INSERT INTO fts(fts, rowid, text) VALUES ('delete', old.rowid, old.text); END;
        INSERT INTO fts(fts) VALUES ('rebuild');
        UPDATE meta SET value = '2' WHERE key = 'schema_version';
    """)
    db.commit()
    db.close()


def test_a_store_indexed_before_is_indexed_again_when_opened(fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    _write(tmp_path / "docs", "zh")
    (tmp_path / "docs" / "en.txt").write_text("Owls hunt at night.", encoding="utf-8")
    store = tmp_path / "store"
    with Assistant(embedder=fake_embedder, store=str(store)) as bot:
        bot.ingest([tmp_path / "docs"])
        chunks = bot.status().chunks
    _as_schema_2(store / "manifest.sqlite3")
    with Assistant(embedder=fake_embedder, store=str(store)) as bot:
        assert bot.status().chunks == chunks and bot.status().documents == 4, "nothing lost"
        assert "财务总监" in _first_hit(bot, "购买公务舱需要谁同意？"), "the old index held whole runs of characters"
        assert "Owls" in _first_hit(bot, "owls")
        bot.forget([tmp_path / "docs" / "zh0.txt"])
        (tmp_path / "docs" / "zh0.txt").unlink()
    db = sqlite3.connect(store / "manifest.sqlite3")
    register(db)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
    db.execute("INSERT INTO fts(fts) VALUES ('integrity-check')")  # raises if the index and the chunks disagree
    db.close()
