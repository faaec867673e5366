from pathlib import Path

import pytest

from assistant.ingest.loaders import UnreadableFile, load_text

FRENCH = "Le président a fixé une date limite au 8 août. Où est l'élève ? Ça coûte 5 €."


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` in Helvetica, with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"])
def test_french_text_in_common_encodings_comes_out_right(tmp_path: Path, encoding: str) -> None:
    text = FRENCH if encoding != "latin-1" else FRENCH.replace("€", "EUR")
    path = tmp_path / "fr.txt"
    path.write_bytes(text.encode(encoding))
    assert load_text(path) == text


def test_windows_newlines_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"one\r\ntwo\rthree")
    assert load_text(path) == "one\ntwo\nthree"


def test_html_drops_scripts_and_styles(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><head><style>.x{}</style><script>alert('x')</script></head>"
                    "<body><h1>Title</h1><p>Body   text</p><script>evil()</script></body></html>")
    text = load_text(path)
    assert text == "Title\nBody text"


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(minimal_pdf("The deadline is August 8."))
    assert "The deadline is August 8." in load_text(path)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t ", "no text"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "PDF"),
        ("image.png", b"\x89PNG", "unsupported file type .png"),
    ],
)
def test_bad_files_raise_a_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnreadableFile, match=reason):
        load_text(path)


def test_a_broken_pdf_says_one_line_and_pypdf_says_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "broken.pdf"
    path.write_bytes(b"junk\n" + minimal_pdf("The deadline is August 8.").rstrip().removesuffix(b"%%EOF"))  # pypdf warns, then fails
    code = "import sys, pathlib\nfrom assistant.ingest.loaders import load_text, UnreadableFile\ntry:\n    load_text(pathlib.Path(sys.argv[1]))\n" \
           "except UnreadableFile as e:\n    print(e)"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)  # logging as in a fresh process
    assert "PDF" in done.stdout
    assert done.stderr == "", "pypdf's own warnings leak next to our reason"
