"""`tradeoff audit FILE`: the customer service audit, current policies vs the recommended plan."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from tradeoff.commands.run import run_and_report


def register(app: typer.Typer) -> None:
    """Add the `audit` command to the app."""

    @app.command("audit")
    def audit_command(
        file: Path = typer.Argument(..., help="Scenario YAML file (SKUs with current_policy)."),
        out: Path = typer.Option(Path("results"), "--out", help="Results go to OUT/<scenario name>[+variant]/."),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="PATH=VALUE override (YAML value), repeatable."),
        variant: Optional[str] = typer.Option(None, "--variant", help="Named variants to apply: NAME[,NAME]."),
        target: Optional[float] = typer.Option(None, "--target", help="Aggregate service target (overrides service.target)."),
        engine: str = typer.Option("kernel", "--engine", help="Simulation engine: kernel or simpy."),
        jobs: int = typer.Option(1, "--jobs", help="Worker processes for the simulation."),
        executor: str = typer.Option("local", "--executor", help="local or dask."),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786)."),
        time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Solver time limit, seconds."),
        mip_gap: Optional[float] = typer.Option(None, "--mip-gap", help="Relative MIP gap."),
    ) -> None:
        """Evaluate every SKU's current_policy on the same random streams as the recommended plan and
        write audit.csv (current vs recommended: policy, metrics, costs, saving) with the plan's
        files. SKUs without a current policy are listed. Exit 2: invalid input; 3: infeasible."""
        run_and_report(file, out, list(set_ or []), variant, target, engine, jobs, executor, scheduler,
                       time_limit, mip_gap, audit=True)
