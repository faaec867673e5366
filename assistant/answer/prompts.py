"""Prompt templates, one file each in ``prompts/``, rendered strictly.

Templates use ``str.format`` fields (``{question}``; literal braces doubled).
Each template declares, in code, exactly which fields it takes: a file with a
missing or unknown field is refused when it is loaded, naming the file, so a
typo never ships a prompt with a hole in it. Values are inserted as they are;
they are never parsed as templates themselves.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.errors import ConfigError

_SOURCE_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
PROMPTS_DIR = _SOURCE_PROMPTS if _SOURCE_PROMPTS.is_dir() else Path(__file__).resolve().parents[1] / "_prompts"
"""``prompts/`` of the source tree (editable install), else the copy a wheel installs as ``assistant/_prompts``."""

FIELDS: dict[str, frozenset[str]] = {
    "answer_system": frozenset({"cannot_answer"}),
    "answer_user": frozenset({"passages", "question", "count"}),
    "condense": frozenset({"history", "question"}),
    "judge": frozenset({"question", "answers", "passages", "answer"}),
}


@dataclass(frozen=True)
class Prompt:
    name: str
    path: Path
    template: str
    fields: frozenset[str]

    def render(self, **values: object) -> str:
        given = set(values)
        if given != self.fields:
            raise ConfigError(f"prompt {self.path}: render got {sorted(given)}, the template takes {sorted(self.fields)}")
        return self.template.format(**values)


def parse_fields(template: str, path: Path) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(f"prompt {path}: {exc} (write literal braces as {{{{ and }}}})") from None
    fields = set()
    for _, name, _, _ in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise ConfigError(f"prompt {path}: field {{{name}}} is not a plain name")
        fields.add(name)
    return fields


def load_prompt(name: str, directory: Path | None = None) -> Prompt:
    """Load and check ``prompts/<name>.txt`` against the fields the code will pass."""
    path = (directory or PROMPTS_DIR) / f"{name}.txt"
    expected = FIELDS[name]
    try:
        template = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"prompt {path} cannot be read ({exc.strerror}); reinstall or restore the prompts/ folder") from None
    fields = parse_fields(template, path)
    if fields - expected:
        raise ConfigError(f"prompt {path}: unknown field(s) {sorted(fields - expected)}; it may use {sorted(expected)}")
    if expected - fields:
        raise ConfigError(f"prompt {path}: missing field(s) {sorted(expected - fields)}")
    return Prompt(name, path, template, frozenset(expected))


@cache
def prompt(name: str) -> Prompt:
    return load_prompt(name)
