"""``assistant`` and ``python -m assistant``: the command line (:mod:`assistant.interface.cli`)."""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    """Run the command line. A one-shot question, once answered and printed, leaves without the interpreter's teardown:
    unloading Chroma's and onnxruntime's runtimes took 0.15 s of a one-shot ask (eval/bench/cold_start.py), and
    nothing is left to write (the store was opened to read, and is closed).

    The cyclic collector runs once per 50,000 new objects, not 700: starting up (our modules, Chroma's, the
    models) makes hundreds of thousands, none of them garbage, and every collection walked them all again
    (0.04-0.14 s of a one-shot ask, eval/bench/cold_start.py). Garbage cycles of a long chat wait a little longer."""
    gc.set_threshold(50_000)  # the older generations keep their defaults (10, 10)
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
