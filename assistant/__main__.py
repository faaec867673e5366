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
    unchecked_overrides()
    from assistant.interface import cli

    try:
        cli.app()
    except SystemExit as done:
        if cli.answered and done.code in (0, None):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        raise


def unchecked_overrides() -> None:
    """Mark methods with ``overrides``' ``@override`` without checking them, in this process only.

    Chroma's modules decorate about 120 methods with it, and at import each one is checked against its base class:
    the caller's bytecode disassembled to find the bases, then the two signatures compared type by type. These are
    checks for Chroma's own developers (a wrong override raises ``TypeError`` at import, which a released Chroma
    never does); they took 0.17 s of the 0.86 s `import chromadb` cost here (README, Performance, cold start).
    The mark (``__override__``) is kept. The API leaves the user's process alone; if ``overrides`` changes its
    internals, nothing is skipped.
    """
    try:
        import overrides  # noqa: F401  (its submodule of the same name is shadowed by the function)
    except ImportError:
        return
    module = sys.modules.get("overrides.overrides")
    if module is None or not callable(getattr(module, "_overrides", None)):
        return

    def mark(method: object, check_signature: bool, check_at_runtime: bool) -> object:
        method.__override__ = True  # type: ignore[attr-defined]
        return method

    setattr(module, "_overrides", mark)  # noqa: B010  (a private name mypy does not see)


if __name__ == "__main__":
    main()
