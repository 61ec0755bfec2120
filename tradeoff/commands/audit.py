"""`tradeoff audit FILE`: the customer service audit, current policies vs the recommended plan."""

from __future__ import annotations

import typer

from tradeoff.commands.run import run_command


def register(app: typer.Typer) -> None:
    """Add the `audit` command to the app: `run` with the audit always on."""
    app.command("audit", help=(
        "Evaluate every SKU's current_policy on the same random streams as the recommended plan and "
        "write audit.csv (current vs recommended: policy, metrics, costs, saving) with the plan's "
        "files. SKUs without a current policy are listed. Exit 2: invalid input; 3: infeasible."
    ))(run_command(audit=True, file_help="Scenario YAML file (SKUs with current_policy)."))
