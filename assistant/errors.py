"""Errors a user can fix. Each carries a one-line message that says what to do.

The CLI prints them without a traceback and exits with code 2; the Python API
raises them as they are. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``str(error)`` is the whole message shown to the user."""


class ConfigError(AssistantError):
    """A setting is unknown, invalid, or points at something that does not answer."""


class StoreError(AssistantError):
    """The store cannot be opened, is damaged, or is busy."""


class EmbedderMismatchError(StoreError):
    """The store was built with a different embedder than the one configured."""


class QuestionError(AssistantError):
    """The question cannot be asked (empty, only control characters...)."""


class GoldFileError(AssistantError):
    """A gold file for the evaluation harness is malformed."""
