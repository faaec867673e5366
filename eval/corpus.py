"""Shared by the benchmark runners: a work folder holding the corpus as files and the store.

With ``--workdir DIR`` the folder persists between runs: files are rewritten
only when their text changed, so the second run's ingest skips every unchanged
file and a retrieval change can be measured in minutes instead of re-embedding
the corpus.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path


@contextlib.contextmanager
def workspace(workdir: Path | None) -> Iterator[Path]:
    """``workdir`` created if needed, or a temporary folder removed afterwards."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        yield workdir.resolve()
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def write_corpus(folder: Path, files: Mapping[str, str]) -> dict[str, str]:
    """Write each ``name -> text`` into ``folder`` unless already identical; name -> resolved path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths[name] = str(path.resolve())
    return paths
