"""Errors a user can fix. Each carries a one-line message that says what to do.

The CLI prints them without a traceback and exits with code 2; the Python API
raises them as they are. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.types import IngestReport


class AssistantError(Exception):
    """Base class: ``str(error)`` is the whole message shown to the user."""


class ConfigError(AssistantError):
    """A setting is unknown, invalid, or points at something that does not answer."""


class StoreError(AssistantError):
    """The store cannot be opened, is damaged, or is busy."""


class EmbedderMismatchError(StoreError):
    """The store was built with a different embedder than the one configured."""


class PathError(AssistantError):
    """None of the paths given to ingest exists: nothing to do, and no store is created."""


class QuestionError(AssistantError):
    """The question cannot be asked (empty, only control characters...)."""


class GoldFileError(AssistantError):
    """A gold file for the evaluation harness is malformed."""


class IngestInterrupted(KeyboardInterrupt):
    """Ctrl-C during an ingest. Whole documents stored before it stay stored (the one being written is rolled back).

    A ``KeyboardInterrupt``, so code that stops on Ctrl-C still does; ``report`` says what was stored.
    """

    def __init__(self, report: IngestReport) -> None:
        super().__init__(f"interrupted: {report.files_stored} files stored; run the same command to continue")
        self.report = report
