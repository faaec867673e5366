"""Real documents for the format tests, written with real writers (fpdf2, python-docx, python-pptx, ebooklib, odfpy).

Each writer takes plain content and writes a file the way an office suite or a
publisher's tool would; the loaders are then tested on files they did not make.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def write_pdf(path: Path, pages: list[list[str]], user_password: str | None = None) -> Path:
    """A PDF with one page per item; each paragraph wrapped over several lines at the page width."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5, paragraph)
            pdf.ln(3)
    if user_password is not None:
        pdf.set_encryption(owner_password="owner-" + user_password, user_password=user_password)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF whose pages hold only drawings, as a scan without a text layer does."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


def write_docx(path: Path, heading: str, paragraphs: list[str], table: list[list[str]], after: str) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    document.add_paragraph(after)
    document.save(str(path))
    return path


def write_pptx(path: Path, slides: list[tuple[str, list[str], str]], tables: dict[int, list[list[str]]] | None = None) -> Path:
    """Slides of (title, bullet lines, speaker notes); ``tables``: slide index -> a table below its bullets."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for i, (title, bullets, notes) in enumerate(slides):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
        table = (tables or {}).get(i)
        if table:
            grid = slide.shapes.add_table(len(table), len(table[0]), Inches(1), Inches(4), Inches(8), Inches(2)).table
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    grid.cell(r, c).text = value
    deck.save(str(path))
    return path


def write_epub(path: Path, chapters: list[tuple[str, list[str]]]) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("A test book")
    book.set_language("en")
    items = []
    for i, (title, paragraphs) in enumerate(chapters, start=1):
        chapter = epub.EpubHtml(title=title, file_name=f"chap_{i}.xhtml", lang="en")
        chapter.content = f"<h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)
        book.add_item(chapter)
        items.append(chapter)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


def write_odt(path: Path, heading: str, paragraphs: list[str], table: list[list[str]]) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=heading))
    for paragraph in paragraphs:
        document.text.addElement(P(text=paragraph))
    grid = Table(name="Table1")
    grid.addElement(TableColumn(numbercolumnsrepeated=len(table[0])))
    for row in table:
        line = TableRow()
        for value in row:
            cell = TableCell()
            cell.addElement(P(text=value))
            line.addElement(cell)
        grid.addElement(line)
    document.text.addElement(grid)
    document.save(str(path))
    return path


def write_odp(path: Path, slides: list[tuple[str, str, str]]) -> Path:
    """Slides of (title, body, speaker notes)."""
    from odf.draw import Frame, Page, TextBox
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="layout")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="master", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    for title, body, notes in slides:
        page = Page(masterpagename=master)
        for kind, text in (("title", title), ("outline", body)):
            frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
            frame.setAttrNS(PRESENTATIONNS, "class", kind)
            box = TextBox()
            box.addElement(P(text=text))
            frame.addElement(box)
            page.addElement(frame)
        if notes:
            note = Notes()
            frame = Frame(width="20cm", height="10cm", x="1cm", y="1cm")
            frame.setAttrNS(PRESENTATIONNS, "class", "notes")
            box = TextBox()
            box.addElement(P(text=notes))
            frame.addElement(box)
            note.addElement(frame)
            page.addElement(note)
        document.presentation.addElement(page)
    document.save(str(path))
    return path


def encrypt_office(source: Path, target: Path, password: str) -> Path:
    """Password-protect an Office file the way Word does (ECMA-376 agile encryption), with msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with source.open("rb") as plain, target.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return target


def zip_without(path: Path, members: dict[str, str]) -> Path:
    """A real zip archive holding ``members`` (name -> text): a file that only looks like an Office document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return path


def with_drm(source: Path, target: Path) -> Path:
    """Copy an EPUB and declare its first chapter encrypted (as DRM schemes do in META-INF/encryption.xml)."""
    encryption = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">'
        '<enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
        '<enc:CipherData><enc:CipherReference URI="EPUB/chap_1.xhtml"/></enc:CipherData></enc:EncryptedData></encryption>'
    )
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        new.writestr("META-INF/encryption.xml", encryption)
    return target
