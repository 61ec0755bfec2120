"""User-caused problems with a scenario: each names the file, the YAML path, the value and the rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One broken rule: `file: path: value rule` (value may be omitted when there is none)."""

    file: str
    path: str
    rule: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        if self.has_value:
            return f"{where}: {self.value!r} {self.rule}"
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
