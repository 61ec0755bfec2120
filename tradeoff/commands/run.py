"""`tradeoff run FILE`: the whole job on one scenario, result files under --out."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from tradeoff.commands import options as opt


@contextmanager
def terminal_progress() -> Iterator:
    """A progress callback drawing a rich bar on the terminal; None (quiet) when stderr is not a
    terminal (CI, logs, pipes)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description:<12}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("load", total=1)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=max(total, 1))

        yield update


def flag_overrides(target: float | None = None, time_limit: float | None = None,
                   mip_gap: float | None = None) -> list:
    """The options that stand for a scenario path, as overrides labelled with their flag, so that a
    bad value is reported as "service.target: 1.5 is not <= 1 (set by --target)". Applied after
    --set (a flag wins over --set on the same path)."""
    from scenarios.loader import Override

    flags = (("service.target", target, opt.TARGET_FLAG), ("solver.time_limit", time_limit, opt.TIME_LIMIT_FLAG),
             ("solver.mip_gap", mip_gap, opt.MIP_GAP_FLAG))
    return [Override(path, value, flag) for path, value, flag in flags if value is not None]


def run_and_report(file: Path, out: Path, sets: list[str], variant: str | None, target: float | None, engine: str,
                   jobs: int, executor: str, scheduler: str | None, time_limit: float | None,
                   mip_gap: float | None, audit: bool | None) -> None:
    """Run one scenario with the command line's options and print where the result went, the cost,
    the service achieved out of sample and any rule missed out of sample (on stderr)."""
    from tradeoff.pipeline import run

    changes = list(sets) + flag_overrides(target=target, time_limit=time_limit, mip_gap=mip_gap)
    if executor == "dask":
        # The chunk tasks write in the run's work folder inside --out, on the workers: a relative
        # path would be taken from each worker's own working folder (another one on every machine).
        out = Path(os.path.abspath(out))
    from optimizer import InfeasibleError

    try:
        with terminal_progress() as progress:
            result = run(str(file), out=out, overrides=changes or None, variants=variant, engine=engine,
                         jobs=jobs, executor=executor, scheduler=scheduler, progress=progress, audit=audit)
    except InfeasibleError as exc:
        # The rules cannot be met: what is reachable was written (no plan.csv); the error's own line
        # (the rule and its best achievable level) follows on stderr and the exit status is 3.
        written = getattr(getattr(exc, "result", None), "out_dir", None)
        if written is not None:
            levels = int(exc.result.summary.get("frontier_levels") or 0)
            typer.echo(f"{written}: infeasible: no plan written; frontier.csv ({levels} reachable "
                       f"level{'s' if levels != 1 else ''}), summary.json, report.html")
        raise
    s = result.summary
    service = s["service"]
    # The report's headline figures, in its units (money per year; both out of sample), so that the
    # console and the report say the same thing (issue 15, point 3).
    ppy = float(result.scenario.horizon.periods_per_year)
    cost = s["totals"]["cost_total"]
    target = service["target"]
    typer.echo(f"{result.out_dir}: {len(result.plan)} SKUs, total cost {cost * ppy:,.0f} {result.scenario.currency} per "
               f"year ({cost:,.2f} per period), {service['metric']} {100 * service['achieved']:.1f} % out of sample "
               f"({'target ' + format(100 * target, '.4g') + ' %' if target is not None else 'cost-optimal: no target'})")
    if s.get("audit"):
        a = s["audit"]
        typer.echo(f"audit: {a['skus_audited']} SKUs with a current policy, saving {a['saving']:.2f} "
                   f"{result.scenario.currency}/period")
        missing = a["skus_without_current_policy"]
        if missing:  # a few names, then how many more: a catalogue can leave thousands unaudited
            more = f" and {len(missing) - 20} more (audit.csv lists them)" if len(missing) > 20 else ""
            typer.echo(f"audit: no current policy for {', '.join(missing[:20])}{more}")
    for warning in s.get("warnings") or []:  # e.g. SKUs in the history that the scenario does not plan
        typer.echo(f"warning: {warning}", err=True)
    for rule in result.extras.get("rules", []):
        if not rule.met:
            typer.echo(f"warning: {rule.rule} missed out of sample: {rule.metric} {rule.achieved:.6g} "
                       f"(rule: {rule.required:.6g})", err=True)


def run_command(audit: bool | None, file_help: str) -> Callable[..., None]:
    """The command function of `run` (audit=None: audit when SKUs carry a current policy) or
    `audit` (audit=True): one parameter list for both, so they cannot drift apart."""

    def command(
        file: Path = typer.Argument(..., help=file_help),  # a default, not Annotated: evaluated here, where file_help is known
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
        run_and_report(file, out, list(set_ or []), variant, target, engine, jobs, executor, scheduler,
                       time_limit, mip_gap, audit=audit)

    return command


def register(app: typer.Typer) -> None:
    """Add the `run` command to the app."""
    app.command("run", help=(
        "The whole job: candidates, simulation, optimisation, out-of-sample verification, frontier, "
        "report. Writes plan.csv, frontier.csv, candidates.parquet, summary.json, report.html (and "
        "audit.csv when SKUs carry a current policy). Exit 2: invalid input; 3: infeasible (frontier.csv, "
        "summary.json and report.html still show what can be met; no plan.csv)."
    ))(run_command(audit=None, file_help="Scenario YAML file."))
