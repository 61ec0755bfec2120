"""`tradeoff compare FILE...`: scenarios side by side (one table, one page), reusing finished runs."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add the `compare` command to the app."""

    @app.command("compare")
    def compare_command(
        files: List[Path] = typer.Argument(..., help="Scenario YAML files."),
        out: Path = typer.Option(Path("results"), "--out", help="Runs go to OUT/<scenario name>[+variant]/; "
                                 "the comparison to OUT/compare.csv and OUT/compare.html."),
        variant: Optional[str] = typer.Option(None, "--variant", help="NAME[,NAME] applied to every file, or 'all': "
                                              "each file's base and each of its variants."),
        engine: str = typer.Option("kernel", "--engine", help="Simulation engine: kernel or simpy."),
        jobs: int = typer.Option(1, "--jobs", help="Worker processes for the simulation."),
    ) -> None:
        """Run (or reuse, when OUT/<name>/summary.json has the same scenario hash) each scenario and
        put them side by side: total cost per year by bucket, aggregate metrics, exchange curves
        overlaid. Exit 2: invalid input; 3: a scenario is infeasible."""
        from tradeoff.commands.run import terminal_progress
        from tradeoff.compare import compare

        with terminal_progress() as progress:
            results, csv_path, html_path = compare(list(files), out, variant=variant, engine=engine, jobs=jobs,
                                                   progress=progress)
        for r in results:
            how = "reused" if r.extras.get("reused") else "ran"
            typer.echo(f"{how} {r.out_dir}")
        typer.echo(f"{csv_path}\n{html_path}")
