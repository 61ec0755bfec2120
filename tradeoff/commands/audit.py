"""`tradeoff audit FILE`: the customer service audit, current policies vs the recommended plan."""

from __future__ import annotations

from pathlib import Path

import typer

from tradeoff.commands import options as opt
from tradeoff.commands.run import run_and_report


def register(app: typer.Typer) -> None:
    """Add the `audit` command to the app."""

    @app.command("audit")
    def audit_command(
        file: Path = typer.Argument(..., help="Scenario YAML file (SKUs with current_policy)."),
        out: opt.Out = Path("results"),
        set_: opt.Sets = None,
        variant: opt.Variant = None,
        target: opt.Target = None,
        engine: opt.Engine = "kernel",
        jobs: opt.Jobs = 1,
        executor: opt.Executor = "local",
        scheduler: opt.Scheduler = None,
        time_limit: opt.TimeLimit = None,
        mip_gap: opt.MipGap = None,
    ) -> None:
        """Evaluate every SKU's current_policy on the same random streams as the recommended plan and
        write audit.csv (current vs recommended: policy, metrics, costs, saving) with the plan's
        files. SKUs without a current policy are listed. Exit 2: invalid input; 3: infeasible."""
        run_and_report(file, out, list(set_ or []), variant, target, engine, jobs, executor, scheduler,
                       time_limit, mip_gap, audit=True)
