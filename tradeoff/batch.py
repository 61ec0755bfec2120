"""`run_batch`: many scenario files, each run in its own worker process, none able to stop the others.

1. Expand the inputs (a folder means its `*.yaml` / `*.yml` files, not recursive) and validate every
   file first, in this process: each invalid file is reported with all its problems and gets an
   `invalid` row; the valid ones go on. A template (`template: true`, a file only for `extends`)
   gets a `skipped` row: not run, not counted invalid.
2. Skip the finished ones (tradeoff.results_io.finished, the definition compare uses too): the
   folder's `summary.json` holds the same `scenario_hash` (and engine) and every file the folder's
   manifest names has the size and sha256 recorded when it was written. The result writer
   (tradeoff.results_io) stages every file in a hidden `.tmp-<folder>-...` folder and renames it into
   place, so a run killed at any moment (even kill -9) leaves either a finished folder or one this
   test rejects; a result damaged since (a truncated, emptied, modified or deleted file) is rejected
   too, and its row's message says so ("previous result damaged (plan.csv: size ...): rerun").
   Before an unfinished scenario runs, its leftover staging folders and its stale result files (an
   older result of a changed scenario, or a half-replaced or damaged one) are removed, so the new
   result lands with one atomic rename.
3. Run the rest through an executor (tradeoff.executors): locally one new process per scenario
   (memory cannot grow over a long batch, a crash takes only its scenario); on Dask one task per
   scenario. A scenario's failure becomes its row: `infeasible` (optimizer.InfeasibleError),
   `invalid` (ScenarioError), `failed` (anything else, or a worker that died twice).
4. After every scenario, `OUT/batch.csv` is rewritten atomically: one row per input file (COLUMNS),
   `pending` for those not finished yet.
5. When the batch stops before the end (a cluster fault, a full disk, Ctrl-C, SIGTERM: anything
   raised out of the run), every scenario not finished gets `interrupted` and batch.csv is written
   once more on the way out; then the error goes up (the command line prints it as one line, exit 1).
   A batch killed outright (SIGKILL) cannot do that: the next batch on the same OUT reads the rows it
   left `pending` and says, in their message, that an earlier batch was interrupted there. An
   executor that cannot start (no scheduler, no worker, a worker running other code) stops the batch
   before batch.csv is written: nothing is written, as for `run`.

On a worker, a scenario checks first that it sees every file it needs at the same path as the
batch process (the files its loading opened there, recorded by an audit hook, and OUT): otherwise its
row is `failed`, "<path>: not visible from worker W: the inputs must be on a file system every worker
sees". A scenario whose Dask task is no longer wanted (the batch process is gone, so the scheduler
cancelled it, or the worker lost its scheduler) stops at its next stage and writes nothing: no
result folder appears after the batch has gone.

The outcome's exit status: 0 all ok; 4 some scenario not ok (invalid, infeasible, failed); 2 when no
file was valid (nothing to run).
"""

from __future__ import annotations

import csv
import enum
import functools
import logging
import os
import re
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeoff.environment import EnvironmentFailure
from tradeoff.progress import BatchProgress, open_channel

log = logging.getLogger(__name__)

STATUSES = ("ok", "invalid", "infeasible", "failed", "interrupted", "skipped")
SKIPPED = "skipped"  # a template (`template: true`, only for extends): listed, not run, not invalid
PENDING = "pending"  # only while the batch runs (or if it was killed outright): not finished yet
INTERRUPTED = "interrupted"  # not finished when the batch stopped (written on the way out)
COLUMNS = (
    "file", "scenario", "folder", "status", "message", "reused", "scenario_hash", "skus",
    "seconds_validate", "seconds_run", "service_metric", "service_target", "service_achieved",
    "cost_total", "cost_logistics", "solver_status", "rules_missed",
)
BATCH_CSV = "batch.csv"
SCENARIO_SUFFIXES = (".yaml", ".yml")


# --------------------------------------------------------------------------- inputs and validation


def expand_inputs(inputs: Sequence[str | os.PathLike]) -> list[str]:
    """The scenario files named by `inputs`: files as given, folders replaced by their `*.yaml` and
    `*.yml` files (sorted, not recursive); the same file named twice is kept once. A folder without
    scenario files stays in the list (it gets an `invalid` row)."""
    files: list[str] = []
    seen: set[str] = set()
    for item in inputs:
        path = Path(item)
        found = (
            sorted(str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() in SCENARIO_SUFFIXES)
            if path.is_dir()
            else [str(item)]
        )
        for name in found or [str(item)]:
            key = os.path.realpath(name)
            if key not in seen:
                seen.add(key)
                files.append(name)
    return files


def variant_names(variants: Any) -> list[str]:
    """`--variant a,b` (a string, or a list of them) as a list of names.

    With the scenario's name, they make the result folder `<name>+a+b` as tradeoff.pipeline's
    result_folder_name does; repeated here so that validating a batch does not import the engine
    (run_scenario checks that each result lands in the folder expected)."""
    if variants is None:
        return []
    if isinstance(variants, str):
        variants = [variants]
    return [n.strip() for v in variants for n in str(v).split(",") if n.strip()]


@dataclass
class Planned:
    """A valid scenario file of the batch: where its result goes and how it is recognised."""

    index: int
    file: str
    name: str
    folder: str
    scenario_hash: str
    skus: int
    seconds_validate: float
    inputs: tuple[str, ...] = ()  # absolute paths of the files its loading read


def _row(file: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update({"file": file, "reused": False, **values})
    return row


MESSAGE_CHARS = 500


def _one_line(text: str) -> str:
    """A message as one batch.csv cell: its lines joined, cut to MESSAGE_CHARS (control characters
    escaped), so an exception quoting a whole file cannot flood the index or the terminal."""
    from scenarios.errors import excerpt

    return excerpt(" | ".join(part.strip() for part in str(text).splitlines() if part.strip()), MESSAGE_CHARS)


# --------------------------------------------------------------------------- the files a scenario reads

_recording: dict[int, list[str]] = {}  # thread id -> paths opened for reading while recorded
_hook_installed = False


def _on_audit(event: str, args: tuple) -> None:
    """sys.addaudithook hook: while a thread records (`_reads`), the paths it opens for reading."""
    if event != "open" or not _recording:
        return
    paths = _recording.get(threading.get_ident())
    if paths is None:
        return
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(mode, str):
        reading = not any(c in mode for c in "wax+")
    else:
        reading = isinstance(flags, int) and (flags & os.O_ACCMODE) == os.O_RDONLY
    if reading and isinstance(path, str | bytes):
        paths.append(os.fsdecode(path))


SYSTEM_ROOTS = ("/etc", "/usr", "/proc", "/sys", "/dev", "/run", "/lib", "/lib64", "/bin", "/sbin")
CODE_SUFFIXES = (".py", ".pyc", ".so", ".pth", ".nbi", ".nbc")


def _engine_roots() -> tuple[str, ...]:
    """Where the interpreter, the libraries, the engine's own packages, the system and this user's
    configuration live: files opened there while a scenario loads (imports, time zones, settings)
    are not the scenario's inputs, and need not be on a shared file system."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *SYSTEM_ROOTS}
    for package in ("scenarios", "tradeoff", "optimizer", "simulation"):
        module = sys.modules.get(package)
        if module is not None and getattr(module, "__file__", None):
            roots.add(os.path.dirname(os.path.abspath(module.__file__)))
    home = os.path.expanduser("~")
    if home != "~":
        roots.update(os.path.join(home, name) for name in (".config", ".cache", ".local"))
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


class _reads:
    """Context manager: the regular files this thread opened for reading inside it (`.files`,
    absolute, in order, once each), outside the interpreter's and the engine's own folders."""

    def __enter__(self) -> _reads:
        global _hook_installed
        if not _hook_installed:
            sys.addaudithook(_on_audit)  # cannot be removed; idle (one dict test) when nothing records
            _hook_installed = True
        self.files: tuple[str, ...] = ()
        _recording[threading.get_ident()] = []
        return self

    def __exit__(self, *exc: object) -> None:
        opened = _recording.pop(threading.get_ident(), [])
        roots = _engine_roots()
        found: dict[str, None] = {}
        for path in opened:
            full = os.path.abspath(path)
            if full.endswith(CODE_SUFFIXES) or "__pycache__" in full:
                continue
            if not os.path.realpath(full).startswith(roots) and os.path.isfile(full):
                found[full] = None
        self.files = tuple(found)


def validate_files(
    files: Sequence[str], out: Path, overrides: Any = None, variants: Any = None
) -> tuple[list[Planned], dict[int, dict], dict[int, list[str]]]:
    """Load every file (with the batch's variants and `--set` overrides) and check that its result
    folder is a safe name used by no other file of the batch.

    Returns (valid scenarios, rows of the invalid ones by input index, their problem lines)."""
    import scenarios
    from scenarios.errors import ScenarioError
    from scenarios.hashing import content_hash
    from scenarios.loader import is_template
    from tradeoff import results_io

    planned: list[Planned] = []
    rows: dict[int, dict] = {}
    problems: dict[int, list[str]] = {}
    folders: dict[str, str] = {}
    for index, file in enumerate(files):
        start = time.perf_counter()
        if os.path.isdir(file):
            lines = [f"{file}: no scenario files (*.yaml, *.yml) in this folder"]
            rows[index], problems[index] = _row(file, status="invalid", message=lines[0]), lines
            continue
        if is_template(file):
            rows[index] = _row(file, status=SKIPPED, message="template (template: true), only for extends: not run")
            continue
        try:
            with _reads() as reads:
                scenario = scenarios.load(file, overrides=overrides, variants=variant_names(variants) or None)
            folder = "+".join([scenario.name, *variant_names(variants)])
            results_io.result_dir(out, folder)
        except ScenarioError as exc:
            lines = [str(p) for p in exc.problems]
            rows[index] = _row(file, status="invalid", message=_one_line("; ".join(lines)))
            problems[index] = lines
            continue
        except Exception as exc:  # noqa: BLE001 - a bug while loading one file must not stop the batch
            message = f"{type(exc).__name__} while loading: {exc}"
            rows[index] = _row(file, status="failed", message=_one_line(message))
            problems[index] = [message]
            log.debug("loading %s failed", file, exc_info=True)
            continue
        if folder in folders:
            message = f"{file}: results would go to {folder}/, which {folders[folder]} already uses (rename the scenario)"
            rows[index] = _row(file, scenario=scenario.name, folder=folder, status="invalid", message=message)
            problems[index] = [message]
            continue
        folders[folder] = file
        inputs = tuple(dict.fromkeys((os.path.abspath(file), *reads.files)))
        planned.append(Planned(index, file, scenario.name, folder, content_hash(scenario), len(scenario.skus),
                               round(time.perf_counter() - start, 3), inputs))
        del scenario  # keep only what the batch needs: a 100,000-SKU scenario is large
    return planned, rows, problems


# --------------------------------------------------------------------------- finished results


def _staging_pattern(folder: str) -> re.Pattern:
    # tradeoff.results_io stages `<folder>` in `.tmp-<folder>-<pid>-<8 hex>`
    return re.compile(rf"^\.tmp-{re.escape(folder)}-(\d+)-[0-9a-f]{{8}}$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_unfinished(out: Path, folder: str) -> None:
    """Remove what an interrupted or outdated run left for `folder`: staging folders of writers
    that are gone, and the result files (those in the manifest) of an unfinished or stale result.
    Files the engine did not write are left alone; an emptied folder is removed."""
    pattern = _staging_pattern(folder)
    if out.is_dir():
        for entry in out.iterdir():
            match = pattern.match(entry.name)
            if match and entry.is_dir() and not _alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
    from tradeoff.results_io import MANIFEST, manifest_names, manifest_parts

    target = out / folder
    if not target.is_dir():
        return
    for name in manifest_names(target) + manifest_parts(target):
        (target / name).unlink(missing_ok=True)
    for dataset in sorted({name.split("/")[0] for name in manifest_parts(target)}):
        try:
            (target / dataset).rmdir()  # only when empty: files a user put there stay
        except OSError:
            pass
    (target / MANIFEST).unlink(missing_ok=True)
    try:
        target.rmdir()  # only when empty: the writer then renames the new result in, in one step
    except OSError:
        pass


# --------------------------------------------------------------------------- one scenario (worker side)


@dataclass(frozen=True)
class BatchJob:
    """One scenario to run: what a worker process receives (plain, picklable data)."""

    key: int
    path: str
    out: str
    folder: str
    scenario_hash: str
    overrides: Any = None
    variants: Any = None
    engine: str = "kernel"
    runner: Callable | None = None  # tradeoff.pipeline.run unless a test injects another
    reporter: Callable | None = None  # progress channel back to the batch process
    inputs: tuple[str, ...] = ()  # the files the scenario's loading read in the batch process (absolute)


def _plain(value: Any) -> Any:
    """An enum by its value (a str-based enum's str() is `SolveStatus.optimal`, not `optimal`)."""
    return value.value if isinstance(value, enum.Enum) else value


def headline(summary: dict) -> dict[str, Any]:
    """The batch.csv figures of a finished result, from its summary.json content."""
    service = summary.get("service") or {}
    totals = summary.get("totals") or {}
    solver = summary.get("solver") or {}
    values = {
        "scenario_hash": summary.get("scenario_hash"),
        "service_metric": service.get("metric"),
        "service_target": service.get("target"),
        "service_achieved": service.get("achieved"),
        "cost_total": totals.get("cost_total"),
        "cost_logistics": totals.get("cost_logistics"),
        "solver_status": solver.get("status"),
        # the rules missed out of sample, ";"-joined (empty: none), visible without opening summary.json
        "rules_missed": ";".join(str(r) for r in service.get("rules_missed") or []),
    }
    return {k: _plain(v) for k, v in values.items()}


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""


class Abandoned(Exception):
    """The batch this scenario runs for is gone (its Dask task was cancelled, or the worker lost its
    scheduler): the scenario stops at its next stage, before writing anything."""


def _dask_task_state() -> tuple[str, str] | None:
    """(worker address, why the task is no longer wanted) on a Dask worker whose current task was
    cancelled or released (the client that submitted it is gone or cancelled it) or which is closing
    (it lost its scheduler); None when the task is still wanted or this is no Dask worker."""
    try:
        from distributed import get_worker
        from distributed.core import Status

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    try:
        if worker.status in (Status.closing, Status.closed, Status.failed):
            return worker.address, "the worker lost its scheduler"
        key = worker.get_current_task()
        if key is None:  # not called from the task's own thread: cannot tell, so go on
            return None
        task = worker.state.tasks.get(key)
        if task is None or task.state not in ("executing", "long-running"):
            return worker.address, "the batch that submitted it is gone"
    except Exception:  # noqa: BLE001 - Dask's internals moved: never stop a wanted scenario over it
        return None
    return None


def _guard(report: Callable | None) -> Callable:
    """The progress callback given to the runner: stops the scenario (Abandoned) at its next stage
    once its batch is gone, then passes the progress on."""

    def progress(stage: str, done: int, total: int) -> None:
        gone = _dask_task_state()
        if gone is not None:
            raise Abandoned(f"worker {gone[0]}: {gone[1]}; stopped before the {stage} stage, nothing written")
        if report is not None:
            report(stage, done, total)

    return progress


def _on_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def not_visible(job: BatchJob) -> str | None:
    """On a Dask worker: the message for the first input of `job` (or its OUT folder) this worker
    cannot see at the path the batch process saw it, or None when it sees them all. (A local worker
    shares the batch process's file system: a file missing there was deleted, and loading says so.)"""
    if not _on_dask_worker():
        return None
    from tradeoff.executors import worker_name

    for path in job.inputs:
        if not os.path.isfile(path):
            return f"{path}: not visible from {worker_name()}: the inputs must be on a file system every worker sees"
    if not os.path.isdir(job.out):
        return (f"{job.out}: not visible from {worker_name()}: the inputs and --out must be on a file system every "
                "worker sees")
    return None


def run_scenario(job: BatchJob) -> dict[str, Any]:
    """Run one scenario of a batch and return its batch.csv figures; never raises for the
    scenario's own problems (they become the status and message)."""
    from optimizer.errors import InfeasibleError
    from scenarios.errors import ScenarioError

    start = time.perf_counter()
    report = functools.partial(job.reporter, job.key) if job.reporter is not None else None
    unseen = not_visible(job)
    if unseen is not None:
        return {"status": "failed", "message": _one_line(unseen), "seconds_run": round(time.perf_counter() - start, 3)}
    guarded = _guard(report)
    if job.runner is None:
        from tradeoff.pipeline import run as runner
    else:
        runner = job.runner
    values: dict[str, Any]
    try:
        guarded("load", 0, 1)  # the display learns the scenario started before its first stage ends
        result = runner(job.path, out=job.out, overrides=job.overrides, variants=job.variants,
                        engine=job.engine, jobs=1, progress=guarded)
        values = {"status": "ok", "message": "", **headline(result.summary)}
        written = getattr(result, "out_dir", None)
        if written is None or Path(written).name != job.folder:
            values.update(status="failed", message=f"result went to {written}, expected {job.folder}/")
        elif values["scenario_hash"] != job.scenario_hash:
            values["message"] = "the scenario file changed while the batch ran; the result is of the new content"
    except Abandoned as exc:  # nobody reads this row any more; it says why nothing was written
        values = {"status": INTERRUPTED, "message": _one_line(str(exc))}
    except ScenarioError as exc:
        values = {"status": "invalid", "message": _one_line("; ".join(str(p) for p in exc.problems))}
    except InfeasibleError as exc:
        values = {"status": "infeasible", "message": _one_line(str(exc))}
    except Exception as exc:  # noqa: BLE001 - one scenario's bug must not stop the batch
        from tradeoff.environment import describe

        if describe(exc) is not None:  # a full disk, a file size limit, permissions: not this scenario's
            raise  # failure but every one's; the batch stops, one line, exit 1 (tradeoff.environment)
        values = {"status": "failed", "message": _one_line(f"{type(exc).__name__}: {exc}{_where(exc)}")}
        log.error("scenario %s failed", job.path, exc_info=True)
    values["seconds_run"] = round(time.perf_counter() - start, 3)
    return values


# --------------------------------------------------------------------------- batch.csv


def write_batch_csv(path: Path, rows: Sequence[dict]) -> Path:
    """Write batch.csv (COLUMNS, one row per input file) atomically: temporary file, then rename.
    Cells go through tradeoff.csv_safe (a file name or message a spreadsheet could take for a
    formula is neutralised); booleans are written `true` / `false`."""
    from tradeoff.csv_safe import rows_text
    from tradeoff.results_io import write_file_atomic

    return write_file_atomic(path, rows_text(COLUMNS, rows, bools=("true", "false")))


# --------------------------------------------------------------------------- the batch


@dataclass
class BatchOutcome:
    """What a batch did: one row per input file (batch.csv), where batch.csv is, the exit status."""

    rows: list[dict]
    csv_path: Path
    exit_status: int
    counts: dict[str, int] = field(default_factory=dict)


def exit_status(rows: Sequence[dict]) -> int:
    """0 all ok; 2 when no file was valid; 4 when some scenario is not ok (partly done). Skipped
    templates count for neither."""
    statuses = [r["status"] for r in rows if r["status"] != SKIPPED]
    if statuses and all(s == "invalid" for s in statuses):
        return 2
    return 0 if all(s == "ok" for s in statuses) else 4


def check_options(jobs: Any, executor: str, scheduler: str | None, engine: str) -> None:
    """Refuse bad batch options as invalid input (ScenarioError, exit 2) before anything runs
    (tradeoff.options.RunOptions: one Problem per bad flag)."""
    from tradeoff.options import RunOptions

    RunOptions.checked(engine=engine, jobs=jobs, executor=executor, scheduler=scheduler)


def _workers_text(executor) -> str:
    where = getattr(executor, "scheduler", None)
    return f"{executor.workers} {executor.kind} worker{'s' if executor.workers != 1 else ''}" + (f" at {where}" if where else "")


EARLIER_INTERRUPTED = "interrupted in an earlier batch (it stopped before this scenario finished): run again"


class BatchStopped(EnvironmentFailure):
    """The batch stopped on an environment failure (`line`, as tradeoff.environment.describe gives
    it) with `unfinished` scenarios marked `interrupted` in batch.csv. An EnvironmentFailure for the
    command line (one line, exit 1); the original error is its __cause__."""

    def __init__(self, line: str, unfinished: int):
        self.line = line
        self.unfinished = unfinished
        super().__init__(line, unfinished)

    def __str__(self) -> str:
        if not self.unfinished:
            return self.line
        n = self.unfinished
        return (f"{self.line}; batch.csv marks the {n} unfinished scenario{'s' if n != 1 else ''} interrupted "
                "(finished ones are kept): run the same batch again to finish them")


def _interrupt(csv_path: Path, rows: list[dict], exc: BaseException) -> Exception | None:
    """On the way out of a batch stopped by `exc`: every row still pending becomes `interrupted`
    (with why) and batch.csv is written once more (best effort: the disk may be what failed).
    Returns the BatchStopped to raise for an environment failure, None to re-raise `exc` as it is
    (a bug keeps its traceback, Ctrl-C stays a KeyboardInterrupt)."""
    from tradeoff.environment import describe

    line = describe(exc) if isinstance(exc, Exception) else None
    why = line or ("interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}")
    unfinished = 0
    for row in rows:
        if row is not None and row.get("status") == PENDING:
            row["status"] = INTERRUPTED
            row["message"] = _one_line(f"the batch stopped before this scenario finished: {why}")
            unfinished += 1
    try:
        write_batch_csv(csv_path, rows)
    except OSError:
        log.warning("batch.csv could not be written on the way out", exc_info=True)
    return None if line is None else BatchStopped(line, unfinished)


def _left_unfinished(csv_path: Path) -> set[str]:
    """The files (real paths) an earlier batch.csv at `csv_path` left `pending` or `interrupted`: a
    batch killed outright (SIGKILL) could not mark them on its way out."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            return {os.path.realpath(r["file"]) for r in csv.DictReader(f)
                    if r.get("status") in (PENDING, INTERRUPTED) and r.get("file")}
    except (OSError, ValueError, KeyError, csv.Error):
        return set()


def run_batch(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    jobs: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    overrides: Any = None,
    variants: Any = None,
    engine: str = "kernel",
    progress: BatchProgress | None = None,
    runner: Callable | None = None,
) -> BatchOutcome:
    """Run every scenario file in `inputs` (files or folders) into `out/<folder>/`; see the module doc.

    jobs: scenarios running at once (local processes, or LocalCluster workers for dask); executor:
    "local" or "dask"; scheduler: a Dask scheduler address; overrides / variants: as `--set` /
    `--variant`, applied to every file; engine: "kernel" or "simpy"; progress: a display from
    tradeoff.progress; runner: replaces tradeoff.pipeline.run (tests). Raises ScenarioError only for
    bad batch options or when no input names a file."""
    from scenarios.errors import Problem, ScenarioError
    from tradeoff.executors import LostItem, get_executor
    from tradeoff.results_io import finished

    check_options(jobs, executor, scheduler, engine)
    progress = progress or BatchProgress()
    files = expand_inputs(inputs)
    if not files:
        raise ScenarioError(Problem("batch", "", "no scenario files given"))
    out = Path(out).resolve()
    made_out = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    for entry in out.glob(f".tmp-{BATCH_CSV}-*"):  # a batch.csv rewrite a kill interrupted
        entry.unlink(missing_ok=True)
    csv_path = out / BATCH_CSV

    planned, invalid_rows, problems = validate_files(files, out, overrides, variants)
    rows: list[dict] = [invalid_rows.get(i) for i in range(len(files))]  # type: ignore[misc]
    for index in sorted(problems):
        progress.invalid_file(files[index], problems[index])

    earlier = _left_unfinished(csv_path)
    to_run: list[Planned] = []
    notes: dict[int, str] = {}  # why a previous result is run again (damaged, another scenario's)
    for p in planned:
        base = {"scenario": p.name, "folder": p.folder, "scenario_hash": p.scenario_hash, "skus": p.skus,
                "seconds_validate": p.seconds_validate}
        check = finished(out / p.folder, p.scenario_hash, engine)
        if check:
            summary = check.summary
            timings = summary.get("timings") or {}
            seconds = sum(v for v in timings.values() if isinstance(v, int | float)) or None
            # A finished result whose rules cannot be met (issue 15: written, no plan) stays infeasible.
            status, message = (("infeasible", _one_line(f"{summary.get('message') or 'infeasible'} (already finished)"))
                               if summary.get("status") == "infeasible" else ("ok", "already finished"))
            rows[p.index] = _row(p.file, **{**base, **headline(summary)}, status=status, message=message,
                                 reused=True, seconds_run=round(seconds, 3) if seconds else None)
        else:
            notes[p.index] = check.rerun_message
            if os.path.realpath(p.file) in earlier:  # its batch was killed outright (SIGKILL, a reboot)
                notes[p.index] = "; ".join(m for m in (EARLIER_INTERRUPTED, notes[p.index]) if m)
            if notes[p.index]:
                log.warning("%s: %s", p.folder, notes[p.index])
            rows[p.index] = _row(p.file, **base, status=PENDING, message=notes[p.index])
            to_run.append(p)

    pool = None
    if to_run:
        # An unreachable scheduler, a cluster without workers or with a worker running other code, a
        # pool that cannot start: an environment failure, reported by the command line as one line,
        # exit 1 (tradeoff.environment), as for `run`; raised before batch.csv is written, so that,
        # as for `run`, nothing is written.
        preload = (runner.__module__,) if getattr(runner, "__module__", None) else ()
        try:
            pool = get_executor(executor, jobs, scheduler, fresh_process_per_item=True, preload=preload)
        except BaseException:
            if made_out:
                try:
                    out.rmdir()  # only when empty
                except OSError:
                    pass
            raise
    write_batch_csv(csv_path, rows)

    if pool is not None:
        with pool:
            progress.batch_started(len(to_run), len(planned) - len(to_run), len(problems), _workers_text(pool))
            labels = {p.index: p.folder for p in to_run}

            def on_stage(key: Any, stage: str, done: int, total: int) -> None:
                progress.scenario_stage(key, labels.get(key, str(key)), stage, done, total)

            channel = open_channel(pool, on_stage)
            try:
                # Largest first: a big scenario started last would leave the other workers idle.
                order = sorted(to_run, key=lambda p: -p.skus)
                batch_jobs = [
                    BatchJob(p.index, os.path.abspath(p.file), str(out), p.folder, p.scenario_hash, overrides,
                             variants, engine, runner, channel.reporter, p.inputs)
                    for p in order
                ]
                for p in order:
                    clear_unfinished(out, p.folder)
                for position, values in pool.iter_completed(run_scenario, batch_jobs, lost="return"):
                    p = order[position]
                    if isinstance(values, LostItem):
                        values = {"status": "failed", "message": values.reason}
                    if notes.get(p.index):
                        values = {**values, "message": "; ".join(m for m in (notes[p.index], values.get("message")) if m)}
                    row = rows[p.index]
                    row.update(values)
                    write_batch_csv(csv_path, rows)
                    progress.scenario_finished(p.index, p.folder, row)
            except BaseException as exc:
                stopped = _interrupt(csv_path, rows, exc)
                if stopped is None:
                    raise
                raise stopped from exc
            finally:
                channel.close()
    else:
        progress.batch_started(0, len(planned), len(problems), "nothing to run")

    counts = {s: sum(1 for r in rows if r["status"] == s) for s in (*STATUSES, PENDING)}
    counts["reused"] = sum(1 for r in rows if r.get("reused"))
    return BatchOutcome(rows=rows, csv_path=csv_path, exit_status=exit_status(rows), counts=counts)
