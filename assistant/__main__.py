"""``python -m assistant``: the same command line as ``assistant``."""

from assistant.interface.cli import main

main()
