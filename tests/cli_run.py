"""Running the `tradeoff` command line inside a test process (shared by the CLI tests)."""

from __future__ import annotations

import sys

from tradeoff.cli import main


def run_cli(monkeypatch, *args) -> int:
    """`tradeoff <args>` in this process; its exit status (0 when it returns without exiting)."""
    monkeypatch.setattr(sys, "argv", ["tradeoff", *map(str, args)])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
