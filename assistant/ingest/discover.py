"""Which files an ingest looks at: folders walked recursively (hidden entries skipped, symlink loops cut),
unsupported types reported with a hint; and which stored documents lie under given paths."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from assistant.ingest.loaders import SUPPORTED_SUFFIXES, unsupported
from assistant.types import IngestReport, Skipped


def discover(paths: Sequence[str | Path], report: IngestReport, exclude: Path | None = None) -> list[Path]:
    """Files to consider, in a stable order. Missing paths and loops land in ``report.skipped``."""
    found: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw).expanduser().absolute()  # every path the report names is absolute, as the stored ones are
        if not os.path.lexists(path):
            report.skipped.append(Skipped(str(path), "no such file or directory"))
        elif path.is_dir():
            for file in _walk(path, report, exclude):
                found.setdefault(str(file), file)
        elif path.is_file():
            resolved = path.resolve()
            found.setdefault(str(resolved), resolved)
        else:
            report.skipped.append(Skipped(str(path), "not a regular file (broken link, loop or device)"))
    return list(found.values())


def _walk(root: Path, report: IngestReport, exclude: Path | None) -> Iterator[Path]:
    seen: set[str] = set()
    for directory, subdirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen or (exclude is not None and Path(real) == exclude):
            if real in seen:
                report.skipped.append(Skipped(directory, "symlink loop; directory already visited"))
            subdirs[:] = []
            continue
        seen.add(real)
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            file = Path(directory, name)
            if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                report.skipped.append(Skipped(str(file), unsupported(file.suffix.lower())))
                continue
            if not file.is_file():
                report.skipped.append(Skipped(str(file), "not a regular file (broken link, loop or device)"))
                continue
            yield file.resolve()


def under(sources: Iterable[str], paths: Sequence[str | Path]) -> set[str]:
    """The stored ``sources`` that are one of ``paths`` or inside one of them (paths resolved like ingest's).

    >>> sorted(under(["/d/a.txt", "/d/sub/b.txt", "/dx/c.txt"], ["/d"]))
    ['/d/a.txt', '/d/sub/b.txt']
    """
    found: set[str] = set()
    for raw in paths:
        path = str(Path(raw).expanduser().resolve())
        prefix = path.rstrip("/") + "/"
        found.update(s for s in sources if s == path or s.startswith(prefix))
    return found
