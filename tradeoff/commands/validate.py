"""`tradeoff validate FILE...`: load and check scenarios, print a summary line or every problem."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import typer

from tradeoff.commands import options as opt


def validate_files(files: list[str], sets: list[str] | None = None, variant: str | None = None) -> tuple[int, list[str], list[str]]:
    """Load each scenario file; return (exit status, summary lines, problem lines).
    Exit status 2 when any file is invalid, else 0."""
    from scenarios.errors import ScenarioError
    from scenarios.hashing import content_hash
    from scenarios.loader import is_template, load, summary
    from scenarios.history import history_warnings

    ok_lines: list[str] = []
    bad_lines: list[str] = []
    for f in files:
        if is_template(f):  # only for extends: checked through the files that extend it
            ok_lines.append(f"{f}: template (only for extends): not checked on its own")
            continue
        try:
            scenario = load(f, overrides=sets or None, variants=variant)
        except ScenarioError as exc:
            n = len(exc.problems)
            bad_lines.append(f"{f}: INVALID ({n} problem{'s' if n != 1 else ''})")
            bad_lines.extend(f"  {p}" for p in exc.problems)
            continue
        variants = f"; variants {', '.join(scenario.variants)}" if scenario.variants else ""
        ok_lines.append(f"{f}: ok: {summary(scenario)}{variants}; hash {content_hash(scenario)}")
        ok_lines.extend(f"{f}: warning: {w}" for w in history_warnings(scenario))
    return (2 if bad_lines else 0), ok_lines, bad_lines


def register(app: typer.Typer) -> None:
    """Add the `validate` command to the app."""

    @app.command("validate")
    def validate(
        files: List[Path] = typer.Argument(..., help="Scenario YAML files."),
        set_: opt.Sets = None,
        variant: opt.Variant = None,
    ) -> None:
        """Load and check scenarios: one summary line per valid file, every problem of an invalid one
        (file, YAML path, value, rule). Exit status 2 if any file is invalid."""
        status, ok_lines, bad_lines = validate_files([str(f) for f in files], list(set_ or []), variant)
        for line in ok_lines:
            typer.echo(line)
        for line in bad_lines:
            typer.echo(line, err=True)
        if status:
            sys.exit(status)  # not typer.Exit: the dispatcher runs typer with standalone_mode=False
