"""Files derived from installed packages, kept between runs so that a one-shot command does not rebuild them.

Today one: py3langid's model, which ships LZMA-compressed (4.5 MB) and takes 0.4 s to
decompress on every start; kept decompressed (68 MB) in ``Settings.cache_dir``. A derived file is
named by what it comes from (path, size, modification time), written aside and renamed into place
(two processes building it at once both succeed), and rebuilt when its source changes. Without a
cache directory, or when it cannot be written, callers build in memory as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

_directory: Path | None = None


def use(directory: Path | None) -> None:
    """Keep derived files in ``directory`` (``None``: keep none). Set from the settings by :class:`assistant.Assistant`."""
    global _directory
    _directory = Path(directory).expanduser() if directory is not None else None


def derived(name: str, source: Path, build: Callable[[Path], None]) -> Path | None:
    """The cached file ``name`` made from ``source`` by ``build(path)``; built now if missing; ``None`` without a cache."""
    if _directory is None:
        return None
    stat = source.stat()
    key = hashlib.sha256(f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    stem, dot, suffix = name.partition(".")
    path = _directory / f"{stem}-{key}{dot}{suffix}"
    if path.exists():
        return path
    aside = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        _directory.mkdir(parents=True, exist_ok=True)
        build(aside)
        os.replace(aside, path)
    except OSError:
        with contextlib.suppress(OSError):
            aside.unlink(missing_ok=True)
        return None
    for old in _directory.glob(f"{stem}-*{dot}{suffix}"):  # versions made from an earlier source
        if old != path:
            old.unlink(missing_ok=True)
    return path
