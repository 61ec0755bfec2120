"""User-caused problems with a scenario: each names the file, the YAML path, the value and the rule.

Nothing a user wrote is echoed at length: `excerpt` and `show` cut a value or a piece of file content
to at most `EXCERPT_CHARS` characters with control characters escaped, and every Problem passes its
path, rule and value through them, so that a message can never dump a file (a `/proc` file, a
binary blob, a 10 MB key) into a terminal, a log or batch.csv.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

EXCERPT_CHARS = 80  # the most characters of user content a message quotes
PATH_CHARS = 400  # a YAML path may hold user keys: each is cut like an excerpt, the whole capped too
RULE_CHARS = 2000  # a last guard on the whole rule (lists of known keys are the longest legitimate ones)

_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _escape_char(ch: str) -> str:
    if ch in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def escape(text: str) -> str:
    """`text` with control, format, separator and unassigned characters written as escapes (\\x07, \\u202e)."""
    if text.isprintable():
        return text
    return "".join(_escape_char(c) if unicodedata.category(c) in _INVISIBLE else c for c in text)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of `text` (escaped), with `...` and the full length when cut."""
    text = str(text)
    if len(text) <= limit:
        return escape(text)
    return f"{escape(text[:limit])}... ({len(text):,} characters)"


def show(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A value as a message quotes it: text in quotes (cut and escaped as `excerpt`), anything else
    by its repr, cut to `limit` characters."""
    if isinstance(value, str):
        if len(value) <= limit and value.isprintable():
            return repr(value)
        cut = value[:limit]
        quoted = repr(cut) if cut.isprintable() else "'" + escape(cut).replace("'", "\\'") + "'"
        return quoted if len(value) <= limit else f"{quoted}... ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _cut_segments(path: str) -> str:
    """A YAML path with every over-long part (a user's key) cut like an excerpt."""
    if len(path) <= EXCERPT_CHARS:
        return path
    return ".".join(excerpt(seg) if len(seg) > EXCERPT_CHARS else seg for seg in path.split("."))


def _guard(text: str, limit: int) -> str:
    text = escape(text)
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class Problem:
    """One broken rule: `file: path: value rule` (value may be omitted when there is none)."""

    file: str
    path: str
    rule: str
    value: Any = None
    has_value: bool = False

    def __post_init__(self) -> None:
        # last guard: whatever a caller put in, a Problem never carries long or invisible user text
        object.__setattr__(self, "file", _guard(str(self.file), PATH_CHARS * 4))
        object.__setattr__(self, "path", _guard(_cut_segments(str(self.path)), PATH_CHARS))
        object.__setattr__(self, "rule", _guard(str(self.rule), RULE_CHARS))

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        if self.has_value:
            return f"{where}: {show(self.value)} {self.rule}"
        return f"{where}: {self.rule}"


class ScenarioError(ValueError):
    """Invalid input (exit status 2). `problems` lists every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | Problem | str, file: str = "<scenario>"):
        if isinstance(problems, str):
            problems = [Problem(file=file, path="", rule=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
