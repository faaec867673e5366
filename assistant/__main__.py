"""``assistant`` and ``python -m assistant``: the command line (:mod:`assistant.interface.cli`)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run the command line. A one-shot question, once answered and printed, leaves without the interpreter's teardown:
    unloading Chroma's and onnxruntime's runtimes took 0.15 s of a one-shot ask (eval/bench/cold_start.py), and
    nothing is left to write (the store was opened to read, and is closed)."""
    from assistant.interface import cli

    try:
        cli.app()
    except SystemExit as done:
        if cli.answered and done.code in (0, None):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        raise


if __name__ == "__main__":
    main()
