"""`run`: the whole job of `tradeoff run`, from a scenario file to a written result folder.

Stages (timed): load the scenario (variants, --set, target and solver overrides applied before
validation) -> simulate (the SKU chunks explore: initial candidates, simulation, cost-optimal refine
rounds) -> select (the head, over the chunks' efficient sets) -> refine (prices of the plan and of
every exchange-curve level sent to the chunks, which refine around each SKU's price-optimal
candidates and re-simulate the contenders; select again; until the plan's gain is inside its noise)
-> frontier -> out-of-sample verification (and tightening) -> audit -> candidates (each chunk writes
its part of candidates.parquet) -> result files (written atomically under --out, or not at all).
docs/architecture.md draws the data flow; tradeoff/search.py holds the chunks' side.

Work goes through an executor in chunks of whole SKUs: streams are keyed by SKU and every decision
in a chunk is per SKU, so the numbers do not depend on the chunking, the number of jobs or the
executor.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.keys import add_new, policy_keys  # noqa: F401  (add_new: part of this module's API)
from optimizer.keys import positions as sku_positions
from scenarios.schema import Scenario
from tradeoff.result import Result
from scenarios.heap import release_free_heap
from tradeoff.gather import ColumnGather
from optimizer.candidates import policy_part

CHUNKS_PER_JOB = 4  # several chunks per worker so that uneven SKUs still balance
CHUNK_SKUS_MAX = 250  # SKUs per chunk at most: what one worker holds at a time

Progress = Callable[[str, int, int], None]  # (stage, done, total)


# --------------------------------------------------------------------------- loading
def _with_changes(overrides: Any, extra: dict[str, tuple[Any, str]]) -> Any:
    """`overrides` (a mapping, "PATH=VALUE" strings as `--set` gives, or scenarios.loader.Override
    objects) plus the `extra` paths (path -> (value, label)), each labelled with the argument that set
    it, so that a bad value is reported as "(set by the target argument)", not as a --set."""
    if not extra:
        return overrides
    from scenarios.loader import Override

    if overrides is None:
        items: list = []
    elif isinstance(overrides, Mapping):
        items = [Override(str(k), v) for k, v in overrides.items()]
    elif isinstance(overrides, (str, Override)):
        items = [overrides]
    else:
        items = list(overrides)
    return items + [Override(path, value, label) for path, (value, label) in extra.items()]


def _variant_list(variants: Any) -> list[str]:
    if variants is None:
        return []
    if isinstance(variants, str):
        variants = [variants]
    return [n.strip() for v in variants for n in str(v).split(",") if n.strip()]


def _argument_changes(target: float | None, time_limit: float | None, mip_gap: float | None) -> dict:
    """The run arguments that stand for scenario paths: path -> (value, label)."""
    return {path: (value, f"the {name} argument") for path, value, name in (
        ("service.target", target, "target"), ("solver.time_limit", time_limit, "time_limit"),
        ("solver.mip_gap", mip_gap, "mip_gap")) if value is not None}


def load_scenario(path_or_scenario: str | Path | Scenario, overrides: Any = None, variants: Any = None,
                  target: float | None = None, time_limit: float | None = None,
                  mip_gap: float | None = None) -> Scenario:
    """The validated scenario of a run: a file loaded with its variants and overrides, or a Scenario
    given directly (its variants and the overrides then re-applied through the loader's rules).
    `target`, `time_limit`, `mip_gap` set service.target, solver.time_limit, solver.mip_gap."""
    changes = _with_changes(overrides, _argument_changes(target, time_limit, mip_gap))
    if isinstance(path_or_scenario, Scenario):
        if not changes and not variants:
            return path_or_scenario
        return _changed_scenario(path_or_scenario, changes, _variant_list(variants))
    import scenarios

    return scenarios.load(path_or_scenario, overrides=changes, variants=_variant_list(variants) or None)


def check_plannable(scenario: Scenario, path_or_scenario: str | Path | Scenario, overrides: Any = None,
                    variants: Any = None, target: float | None = None, time_limit: float | None = None,
                    mip_gap: float | None = None) -> None:
    """Refuse (ScenarioError, exit 2) a loaded scenario the engine cannot plan honestly
    (scenarios.planning_rules: shortage that costs nothing in cost-optimal mode, a horizon shorter
    than the dynamics), once its service target (--target included) is known. Each problem names
    the file that gave the value at its path."""
    from scenarios.planning_rules import check_plannable as check

    if isinstance(path_or_scenario, Scenario):
        check(scenario)
        return
    changes = _with_changes(overrides, _argument_changes(target, time_limit, mip_gap))
    check(scenario, path_or_scenario, changes, _variant_list(variants) or None)


def _changed_scenario(scenario: Scenario, changes: Any, variants: list[str]) -> Scenario:
    """A Scenario object with variants and overrides applied: written to a temporary YAML file and
    loaded, so the same merging and validation rules (and error messages) apply as for a file."""
    import tempfile

    import yaml

    import scenarios

    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{scenario.name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        try:
            return scenarios.load(path, overrides=changes, variants=variants or None)
        except scenarios.ScenarioError as exc:  # name the scenario, not the temporary file
            temporary = {str(path), os.path.relpath(path)}
            raise scenarios.ScenarioError([
                dataclasses.replace(p, file=f"scenario {scenario.name}") if p.file in temporary else p
                for p in exc.problems
            ]) from None


def result_folder_name(scenario: Scenario, variants: Any = None) -> str:
    """`<name>` or `<name>+<variant>[+<variant>...]`: the folder of this run under --out."""
    return "+".join([scenario.name, *_variant_list(variants)])


# --------------------------------------------------------------------------- evaluation in chunks
def evaluate_chunk(task: tuple) -> pd.DataFrame:
    """Simulate one chunk of policies (all rows of some SKUs): the function executors ship to workers.
    task: (the scenario without its SKUs, shared once per worker; the chunk's SKUs; policies; engine;
    replications; seed)."""
    import simulation

    shared, skus, policies, engine, replications, seed = task
    scenario = shared.model_copy(update={"skus": tuple(skus)})
    return simulation.evaluate(scenario, policies, engine=engine, replications=replications, seed=seed)


def _with_dtypes(table: pd.DataFrame, policies: pd.DataFrame) -> pd.DataFrame:
    """`table` with its numeric policy columns in the dtypes of `policies` (a concat of two policy
    tables may have widened one, e.g. an int64 review period to float64 beside NaN-capable ones).
    Text columns keep the simulation's dtypes, as a call without the concat gives them (the head's
    tables hold text as Arrow strings, tradeoff.search.head_table)."""
    for column in policies.columns:
        if (column in table.columns and table[column].dtype != policies[column].dtype
                and pd.api.types.is_numeric_dtype(policies[column].dtype)):
            table[column] = table[column].astype(policies[column].dtype)
    return table


def sku_chunks(skus: list[str], n_chunks: int) -> list[list[str]]:
    """`skus` split into at most `n_chunks` consecutive groups of near-equal size."""
    n_chunks = max(1, min(n_chunks, len(skus)))
    bounds = np.linspace(0, len(skus), n_chunks + 1).round().astype(int)
    return [skus[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


@dataclass
class Evaluator:
    """Simulates policies table -> evaluations table through an executor, in chunks of whole SKUs
    (at least `chunks`, none of more than CHUNK_SKUS_MAX SKUs); rows come back in the input order.
    Each chunk task carries its own SKUs and a handle to the scenario without SKUs (`shared`, or
    one made with `executor.share` on first use), so a worker's memory does not grow with the
    catalogue. Counts the candidate rows it simulated and tells `progress` (chunks done, chunks)."""

    scenario: Scenario
    engine: str
    executor: Any
    chunks: int
    progress: Callable[[int, int], None] | None = None  # (chunks done, chunks)
    simulated: int = 0
    shared: Any = None
    # (replications, seed, policies): policies simulated along with the next call at exactly these
    # replications and seed, and kept for a later call with exactly these policies (the audit's
    # current policies ride with the verification).
    prefetch: tuple[int, int, pd.DataFrame] | None = None
    _models: dict = field(default_factory=dict, init=False, repr=False)
    _memo: dict = field(default_factory=dict, init=False, repr=False)

    def __call__(self, policies: pd.DataFrame, replications: int, seed: int) -> pd.DataFrame:
        policies = policy_part(policies).reset_index(drop=True)
        if policies.empty:
            raise ValueError("no policies to evaluate")
        key = (int(replications), int(seed))
        held = self._memo.get(key)
        if held is not None and held[0].equals(policies):
            return held[1].copy()
        if self.prefetch is None or self.prefetch[:2] != key or self.prefetch[2].empty:
            return self.simulate(policies, replications, seed)
        # The prefetched policies ride along (each candidate is simulated on its own, so its figures
        # do not depend on the others simulated with it) and are kept for their own call.
        extra = self.prefetch[2]
        self.prefetch = None
        table = self.simulate(pd.concat([policies, extra], ignore_index=True), replications, seed)
        self._memo[key] = (extra, _with_dtypes(table.iloc[len(policies):].reset_index(drop=True), extra))
        return _with_dtypes(table.iloc[:len(policies)].reset_index(drop=True), policies)

    def simulate(self, policies: pd.DataFrame, replications: int, seed: int) -> pd.DataFrame:
        """The evaluations of `policies` (policy columns, index 0..n-1) through the executor."""
        skus = list(dict.fromkeys(policies["sku"]))
        handle = self._shared_scenario()
        if not self._models:
            for sku in self.scenario.skus:
                self._models.setdefault(sku.id, sku)
        missing = [s for s in skus if s not in self._models]
        if missing:
            raise ValueError(f"policies name SKUs the scenario does not have: {missing[:5]}")
        positions, tasks = [], []
        n = max(self.chunks, -(-len(skus) // CHUNK_SKUS_MAX))
        groups = sku_chunks(skus, n)
        # Each row's group by one lookup of its SKU, then each group's rows in the table's order.
        owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups])[sku_positions(policies["sku"], skus)]
        order = np.argsort(owner, kind="stable")
        bounds = np.searchsorted(owner[order], np.arange(len(groups) + 1))
        for k, group in enumerate(groups):
            rows = order[bounds[k]:bounds[k + 1]]
            positions.append(rows)
            tasks.append((handle, tuple(self._models[s] for s in group), policies.iloc[rows].reset_index(drop=True),
                          self.engine, int(replications), int(seed)))
        parts: list[Any] = [None] * len(tasks)
        for done, (k, part) in enumerate(self.executor.iter_completed(evaluate_chunk, tasks), start=1):
            parts[k] = part
            if self.progress is not None:
                self.progress(done, len(tasks))
        table = pd.concat(parts, ignore_index=True)
        table.index = np.concatenate(positions)
        self.simulated += len(policies)
        return table.sort_index().reset_index(drop=True)

    def _shared_scenario(self) -> Any:
        """The handle to the scenario without SKUs (`executor.share`), made once per Evaluator."""
        if self.shared is None:
            from tradeoff.search import skeleton

            share = getattr(self.executor, "share", None)
            bare = skeleton(self.scenario)
            self.shared = share(bare) if share is not None else bare
        return self.shared


# --------------------------------------------------------------------------- timing and progress
@dataclass
class Stages:
    """Wall-clock seconds per stage; `progress(stage, 0, 1)` is told when a stage starts and
    `progress(stage, 1, 1)` when it ends. `current` names the running stage."""

    progress: Progress | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    current: str = ""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.current = name
        self._tell(name, 0)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            release_free_heap()  # a stage's dropped tables: its freed pages are not the next stage's peak
        self._tell(name, 1)

    def _tell(self, name: str, done: int) -> None:
        if self.progress is not None:
            self.progress(name, done, 1)

    def chunk_progress(self, done: int, total: int) -> None:
        """Chunk-level progress of the simulation inside the running stage."""
        if self.progress is not None:
            self.progress(self.current, done, total)


# --------------------------------------------------------------------------- the run's work folder
class WorkFolder:
    """Where the chunk tasks keep their candidates between steps and write candidates.parquet's parts.

    With --out: a hidden staging folder inside it (`.tmp-<folder>-<pid>-<hex>`, like the result's
    staging: same file system, so the finished dataset is renamed into the result, and a batch
    removes what a killed run left); without: a temporary folder that lives as long as the Result
    whose candidates it holds. `out` is made when missing, and removed again (when still empty) if
    the run fails."""

    def __init__(self, out: str | Path | None, folder: str):
        import shutil
        import tempfile
        import weakref

        self.made_out: Path | None = None
        if out is None:
            self.path = Path(tempfile.mkdtemp(prefix="tradeoff-run-"))
        else:
            from tradeoff.results_io import _staging_folder

            out = Path(out)
            if not out.exists():
                out.mkdir(parents=True)
                self.made_out = out
            self.path = _staging_folder(out, folder)
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def remove(self) -> None:
        self._cleanup()
        if self.made_out is not None:
            try:
                self.made_out.rmdir()  # only when empty
            except OSError:
                pass


@contextmanager
def work_folder(out: str | Path | None, folder: str) -> Iterator[WorkFolder]:
    """A WorkFolder, removed when the run fails and, with --out, when it ends (the dataset moved out)."""
    work = WorkFolder(out, folder)
    try:
        yield work
    except BaseException:
        work.remove()
        raise


# --------------------------------------------------------------------------- the search over chunks
PRICE_ROUNDS = 2  # round trips head -> chunks with prices; a backstop: they stop once the plan settles


@dataclass
class Searched:
    """What the chunked search gives the head: the plan, the union of the chunks' efficient sets (all
    the selection can choose), and counts for summary.json."""

    plan: Any
    efficient: pd.DataFrame  # emptied (its columns kept) once the run's frontier and candidates are done
    chunks: list
    candidates: int = 0  # candidates simulated (rows of candidates.parquet)
    simulated: int = 0  # policy rows simulated, contenders' re-simulation included
    policy_periods: int = 0
    rounds: int = 0
    generation: int = 0  # the chunk files of the last step
    steps: list = field(default_factory=list)  # (step, policy rows simulated, policy-periods, CPU s) in order
    infeasible: Any = None  # the optimizer.InfeasibleError of the selection (plan None), or None


def plan_chunks(scenario: Scenario, jobs: int) -> list:
    """The scenario's SKUs in consecutive chunks: CHUNKS_PER_JOB per job with more than one job (so
    that uneven SKUs still balance), and none larger than CHUNK_SKUS_MAX SKUs (a worker's memory then
    does not grow with the catalogue)."""
    from scenarios.abc import sku_classes
    from tradeoff.search import Chunk

    ids = [s.id for s in scenario.skus]
    classes = sku_classes(scenario)
    models = {s.id: s for s in scenario.skus}
    n = max(int(jobs) * CHUNKS_PER_JOB if int(jobs) > 1 else 1, -(-len(ids) // CHUNK_SKUS_MAX))
    return [Chunk(k, tuple(group), tuple(classes[i] for i in group), tuple(models[i] for i in group))
            for k, group in enumerate(sku_chunks(ids, n))]


def _map_chunks(pool: Any, tasks: list, stages: Stages, take: Callable[[int, Any], Any] | None = None) -> list:
    """Run chunk steps on the executor; results in chunk order. `take(k, result)`, when given, is
    applied to each result as it arrives, and what it returns is kept."""
    from tradeoff.search import run_step

    out: list[Any] = [None] * len(tasks)
    for done, (k, report) in enumerate(pool.iter_completed(run_step, tasks), start=1):
        out[k] = report if take is None else take(k, report)
        stages.chunk_progress(done, len(tasks))
    return out


def _stacked_choices(plans: list) -> pd.DataFrame:
    """The plans' chosen policies in one table (policy columns and `level`, the plan's position)."""
    from optimizer.candidates import policy_part

    return pd.concat([policy_part(p.choice).assign(level=i) for i, p in enumerate(plans)], ignore_index=True)


def _slice_by_chunk(table: pd.DataFrame, chunks: list) -> list[pd.DataFrame]:
    """The policy columns (and `level`, when `table` has it) of the rows of `table` of each chunk, in
    the table's order. One pass over the table: a boolean mask per chunk was chunks x SKUs work at the head."""
    from optimizer.candidates import POLICY_COLUMNS, policy_part

    skus = [sku for chunk in chunks for sku in chunk.skus]
    owner_of = np.repeat(np.arange(len(chunks)), [len(chunk.skus) for chunk in chunks])
    codes = sku_positions(table["sku"], skus)  # -1: no chunk's SKU
    owner = np.where(codes >= 0, owner_of[codes], -1)
    policies = policy_part(table) if "level" not in table.columns else table[[*POLICY_COLUMNS, "level"]]
    if np.all(owner[1:] >= owner[:-1]):  # a selection's choice: SKUs in catalogue order, so runs, not a gather
        bounds = np.searchsorted(owner, np.arange(len(chunks) + 1))
        return [policies.iloc[bounds[k]:bounds[k + 1]].reset_index(drop=True) for k in range(len(chunks))]
    order = np.argsort(owner, kind="stable")  # stable: each chunk's rows stay in the table's order
    bounds = np.searchsorted(owner[order], np.arange(len(chunks) + 1))
    return [policies.iloc[order[bounds[k]:bounds[k + 1]]].reset_index(drop=True) for k in range(len(chunks))]


def share_skeleton(pool: Any, scenario: Scenario) -> Any:
    """The executor's handle to the scenario without its SKUs (tradeoff.search.skeleton), sent to
    every worker once; chunk tasks carry their own SKUs."""
    from tradeoff.search import skeleton

    bare = skeleton(scenario)
    share = getattr(pool, "share", None)
    return share(bare) if share is not None else bare


def search(scenario: Scenario, pool: Any, stages: Stages, engine: str, jobs: int, store: Path,
           shared: Any = None) -> Searched:
    """Explore every chunk (candidates, simulation, cost-optimal refine), select at the head over the
    efficient sets, then send the prices of the plan and of every exchange-curve level back to the
    chunks (refine around the price-optimal choices, contenders), until the plan settles.

    When the service rules cannot be met, the selection's optimizer.InfeasibleError is kept in
    `infeasible` (plan None, no price rounds) with the explored efficient set, so that the run can
    still draw what is reachable."""
    import optimizer
    from optimizer import InfeasibleError
    from optimizer import refine
    from optimizer.frontier import clear_memo
    from tradeoff.search import FRONTIER_REFINE_ROUNDS, MAX_REFINE_ROUNDS, Level, Task, chunk_path

    chunks = plan_chunks(scenario, jobs)
    handle = shared if shared is not None else share_skeleton(pool, scenario)
    found = Searched(plan=None, efficient=pd.DataFrame(), chunks=chunks)

    def step(name: str, levels: tuple = (), choices: list | None = None) -> None:
        generation = len(found.steps)
        # A chunk's SKUs travel with its first step only: the explore step keeps them in the store.
        tasks = [(handle, Task(c if not generation else c.without_models(), engine, str(store), name, levels,
                               choices[k] if choices is not None else None, generation))
                 for k, c in enumerate(chunks)]
        found.efficient = None  # the tasks carry what they need of it: not held beside the new sets
        gather = ColumnGather(len(tasks))

        def take(k: int, report):  # the report's table goes into the gather as it arrives
            gather.add(k, report.efficient)
            report.efficient = None
            return report

        reports = _map_chunks(pool, tasks, stages, take)
        found.generation = generation
        if generation:  # the step before's files are read by no task any more
            for c in chunks:
                chunk_path(store, c.index, generation - 1).unlink(missing_ok=True)
        found.steps.append((name, sum(r.simulated for r in reports), sum(r.policy_periods for r in reports),
                            sum(r.seconds for r in reports)))
        found.efficient = gather.frame()
        found.candidates = sum(r.candidates for r in reports)
        found.simulated += sum(r.simulated for r in reports)
        found.policy_periods += sum(r.policy_periods for r in reports)
        found.rounds = max(r.rounds for r in reports)

    target = scenario.service.target
    with stages("simulate"):
        step("explore")
    with stages("select"):
        try:
            found.plan = optimizer.select(scenario, found.efficient, target=target)
        except InfeasibleError as exc:
            found.infeasible = exc
            return found
    with stages("refine"):
        for _ in range(PRICE_ROUNDS):
            # Each level's prices and price-optimal choices are what the chunks refine around: no
            # finishing MILPs for them (the final curve is solved whole, on the refined sets).
            plans = [found.plan] + [p for p in optimizer.frontier_plans(scenario, found.efficient, finish=False)
                                    if p is not None]
            rounds = [MAX_REFINE_ROUNDS] + [FRONTIER_REFINE_ROUNDS] * (len(plans) - 1)
            levels = tuple(Level(p.prices, n, contenders=(i == 0)) for i, (p, n) in enumerate(zip(plans, rounds)))
            choices = _slice_by_chunk(_stacked_choices(plans), chunks)
            # The levels' whole rows (a table per level) are not sent, and the sweep is of no use once
            # the efficient set changes: free both before the chunks' new sets arrive, where the
            # head's memory peaks.
            del plans
            clear_memo()
            step("refine", levels, choices)
            del choices
            try:
                previous, found.plan = found.plan, optimizer.select(scenario, found.efficient, target=target)
            except InfeasibleError as exc:  # the refined efficient set no longer meets the rules
                found.plan, found.infeasible = None, exc
                break
            if refine.gain_within_noise(previous, found.plan):
                break
    return found


def write_candidates(pool: Any, found: Searched, chosen: pd.DataFrame, engine: str, store: Path, shared: Any) -> Path:
    """The candidates.parquet dataset (one part per chunk, written by the chunk tasks) in `store`.
    `shared`: the handle share_skeleton gave."""
    from tradeoff.search import Task, run_step

    out = store / "candidates.parquet"
    out.mkdir(exist_ok=True)
    handle = shared
    picks = _slice_by_chunk(chosen, found.chunks)
    tasks = [(handle, Task(c, engine, str(store), "final", chosen=picks[k], out=str(out), generation=found.generation))
             for k, c in enumerate(found.chunks)]
    pool.map(run_step, tasks)
    return out


DEMAND_MODEL_COLUMNS = ("demand_source", "demand_model", "demand_pattern", "demand_reason")


def with_demand_models(scenario: Scenario, plan: pd.DataFrame) -> pd.DataFrame:
    """plan.csv with, for a scenario whose demand comes from history, each SKU's demand_source,
    demand_model, demand_pattern and demand_reason appended (docs/demand-from-history.md)."""
    if scenario.demand_history_csv is None:
        return plan
    from scenarios.history import demand_model_table

    models = demand_model_table(scenario)
    if models is None:
        return plan
    out = plan.merge(models[["sku", *DEMAND_MODEL_COLUMNS]], on="sku", how="left", validate="one_to_one")
    # A SKU without demand in its history gets demand 0: the cheapest plan holds no stock, unless no
    # candidate holds none (sS, RsS, rQ with s >= 0 keep a unit; explicit candidates): then say so.
    from scenarios.history import NO_DEMAND_REASON

    holds = (out["demand_reason"] == NO_DEMAND_REASON) & ((out["avg_on_hand"] > 0) | (out["avg_in_transit"] > 0))
    for k in np.flatnonzero(holds.to_numpy()):
        units = float(out["avg_on_hand"].iat[k])
        out.loc[out.index[k], "demand_reason"] = (
            f"no demand in the history, but no candidate holds no stock: this plan keeps {units:.4g} "
            f"unit{'' if units == 1 else 's'} on hand on average (sS, RsS and rQ with s >= 0 keep at least "
            "one unit; base_stock or RS with S = 0 hold none)")
    return out


def _check_options(engine: str, jobs: int, executor: str, scheduler: str | None) -> None:
    """Refuse bad run options as invalid input (exit 2) before any work (tradeoff.options.RunOptions:
    a ScenarioError naming each bad flag)."""
    from tradeoff.options import RunOptions

    RunOptions.checked(engine=engine, jobs=jobs, executor=executor, scheduler=scheduler)


def run(path_or_scenario: str | Path | Scenario, out: str | Path | None = None, overrides: Any = None,
        variants: Any = None, target: float | None = None, engine: str = "kernel", jobs: int = 1,
        executor: str = "local", scheduler: str | None = None, progress: Progress | None = None,
        audit: bool | None = None, time_limit: float | None = None, mip_gap: float | None = None) -> Result:
    """Run the whole job on one scenario and return its Result (plan out of sample, frontier,
    candidates, summary, audit); with `out`, also write the result files to `out/<folder>/`
    (folder: the scenario name, `+variant` per variant) atomically.

    overrides: `--set` values (mapping of YAML path -> value, or "PATH=VALUE" strings); variants:
    names ("a,b" or a list); target: the aggregate service target (overrides service.target);
    time_limit / mip_gap override scenario.solver; engine "kernel" or "simpy"; jobs, executor
    ("local" or "dask"), scheduler: where the simulation runs; progress(stage, done, total) is told
    as each stage starts; audit: True to compare current policies (audit.csv), False not to, None
    to audit when any SKU has a current policy. Raises ScenarioError (invalid input, nothing
    written) or optimizer.InfeasibleError (a service rule cannot be met: its `result` attribute is
    the Result of what can be met, written with `out` as a finished folder: frontier.csv, summary.json
    with status "infeasible", report.html, no plan.csv; plan None);
    tradeoff.environment.ResultNotWritten (an OSError) when the disk, a file size limit or
    permissions stop the write (nothing in the folder changed)."""
    from tradeoff import environment, results_io

    _check_options(engine, jobs, executor, scheduler)
    stages = Stages(progress)
    with stages("load"):
        scenario = load_scenario(path_or_scenario, overrides, variants, target, time_limit, mip_gap)
        check_plannable(scenario, path_or_scenario, overrides, variants, target, time_limit, mip_gap)
        folder = result_folder_name(scenario, variants)
        if out is not None:
            results_io.check_target(out, folder, results_io.RUN_FILES)  # refuse before any work
    if audit is None:
        audit = any(s.current_policy is not None for s in scenario.skus)

    try:
        comparison = None
        if scenario.customer_tiers is not None and scenario.customer_tiers.allocation != "fifo":
            with stages("fifo comparison"):
                comparison = allocation_comparison(scenario, engine, jobs, executor, scheduler)
        result = _run_in(scenario, out, folder, variants, engine, jobs, executor, scheduler, progress, audit, stages,
                         comparison)
    except environment.ResultNotWritten:
        raise
    except OSError as exc:
        # The work folder lives in --out: a full disk or a size limit there is the run's result not
        # written (one line naming the folder, exit 1); nothing in the result folder changed.
        if out is None or environment.meaning(exc) is None:
            raise
        raise environment.ResultNotWritten.from_error(Path(out) / folder, exc) from exc
    return result


def _remove_work(result: Result | None) -> None:
    """Remove the temporary work folder of a run made without --out (the FIFO comparison's) now,
    not when the garbage collector gets to it."""
    work = getattr(result, "extras", {}).get("work") if result is not None else None
    if work is not None:
        work.remove()


def allocation_comparison(scenario: Scenario, engine: str, jobs: int, executor: str, scheduler: str | None) -> dict:
    """The same scenario planned with FIFO allocation (every tier served alike, so the tier floors
    hold only by serving everybody at the top tier's level), for summary.json's
    `allocation_comparison`: its cost and tier fill rates, out of sample; `status` "infeasible"
    when FIFO cannot meet the rules (docs/tiers.md)."""
    from optimizer import InfeasibleError

    tiers = scenario.customer_tiers.model_copy(update={"allocation": "fifo"})
    fifo = scenario.model_copy(update={"customer_tiers": tiers})
    try:
        result = _run_in(fifo, None, result_folder_name(fifo), None, engine, jobs, executor, scheduler, None, False,
                         Stages(None))
    except InfeasibleError as exc:
        _remove_work(getattr(exc, "result", None))
        return {"allocation": "fifo", "status": "infeasible", "rule": getattr(exc, "rule", None)}
    _remove_work(result)
    return {"allocation": "fifo", "status": "optimal",
            "cost_per_period": float(result.plan["cost_total"].sum()),
            "logistics_cost_per_period": float((result.plan["cost_total"] - result.plan["cost_shortage"]).sum()),
            "avg_on_hand": float(result.plan["avg_on_hand"].sum()),
            "tiers": [{"tier": t["tier"], "fill_rate": t["fill_rate"]} for t in result.summary.get("tiers") or []]}


def _run_in(scenario: Scenario, out: str | Path | None, folder: str, variants: Any, engine: str, jobs: int,
            executor: str, scheduler: str | None, progress: Progress | None, audit: bool, stages: Stages,
            comparison: dict | None = None) -> Result:
    """The run after loading: search, frontier, verification, audit, candidates, summary, files."""
    import scenarios
    from tradeoff.audit import audit as audit_table
    from tradeoff.audit import audit_summary
    from tradeoff.executors import get_executor
    from tradeoff.summary import build_summary
    from tradeoff.tiers import tier_table, without_tier_columns
    from tradeoff.verify import verification_seed

    with work_folder(out, folder) as work, get_executor(kind=executor, jobs=jobs, scheduler=scheduler) as pool:
        store = work.path
        shared = share_skeleton(pool, scenario)
        evaluate = Evaluator(scenario, engine, pool, chunks=max(1, int(jobs)) * CHUNKS_PER_JOB,
                             progress=stages.chunk_progress if progress is not None else None, shared=shared)
        found = search(scenario, pool, stages, engine, jobs, store, shared)
        if found.infeasible is not None:  # no plan: draw what can be met, write it, then raise (exit 3)
            with stages("frontier"):
                frontier = reachable_frontier(scenario, found.efficient, found.infeasible)
                alone = rules_failing_alone(scenario, found.efficient)
        else:
            plan, plan_table, checks, tightened, reps_verify, frontier = _verified(scenario, found, evaluate, stages,
                                                                                   audit)
            plan_table = with_demand_models(scenario, plan_table)
            tiers = tier_table(scenario, plan_table)
            plan_table = without_tier_columns(scenario, plan_table)
            audit_rows = None
            if audit:
                with stages("audit"):
                    audit_rows = audit_table(scenario, plan_table, evaluate, reps_verify)
            with stages("candidates"):
                candidates = write_candidates(pool, found, plan.choice, engine, store, shared)
            # Nothing reads the efficient set after this (the head's largest table): not kept while
            # the files are written, where the head's memory peaks otherwise.
            found.efficient = found.efficient.iloc[:0]

    if found.infeasible is not None:
        _infeasible_result(scenario, out, folder, variants, engine, found, frontier, alone, stages, work)
    summary = build_summary(
        scenario=scenario, scenario_hash=scenarios.content_hash(scenario), variants=_variant_list(variants),
        engine=engine, selection=plan, plan=plan_table, in_sample=plan.choice, checks=checks,
        verification={"seed": verification_seed(scenario), "replications": reps_verify,
                      "seed_rule": "scenario seed + 1000003", "rules_missed_first_plan": tightened.first_missed,
                      "tightening": tightened.rounds},
        candidates=found.candidates, simulations=found.simulated + evaluate.simulated, refine_rounds=found.rounds,
        frontier=frontier,
        audit=audit_summary(audit_rows, plan_table, scenario.service.metric) if audit_rows is not None else None,
        timings=stages.seconds,
    )
    _summary_additions(summary, scenario, plan_table, tiers, checks, comparison)
    result = Result(scenario=scenario, plan=plan_table, frontier=frontier, candidates=candidates,
                    summary=summary, audit=audit_rows,
                    extras={"selection": plan, "rules": checks, "folder": folder, "search": found,
                            "work": work, "tiers": tiers})
    _write(result, out, folder, work, stages)
    return result


def _verified(scenario: Scenario, found: Searched, evaluate: Evaluator, stages: Stages, audit: bool) -> tuple:
    """The search's plan verified out of sample, chosen again where it missed a rule
    (tradeoff.tightening), and the exchange curve of the rules it was finally chosen at: (plan with
    the user's target, plan table, rule checks, Tightened, verification replications, frontier).
    With `audit`, the current policies are simulated with the verification (Evaluator.prefetch)."""
    import optimizer
    from optimizer.frontier import clear_memo
    from tradeoff.tightening import tighten
    from tradeoff.verify import verification_replications, verification_seed, verify

    plan = found.plan
    with stages("verify"):
        reps_verify = verification_replications(scenario, int(found.efficient["replications"].max()))
        if audit:
            from tradeoff.audit import current_policies

            evaluate.prefetch = (reps_verify, verification_seed(scenario), policy_part(current_policies(scenario)))
        plan_table, checks = verify(scenario, plan.choice, evaluate, reps_verify, plan.target)
        # A rule missed out of sample: choose again with it tightened by the plan's optimism.
        tightened = tighten(
            scenario, plan, plan_table, checks,
            select=lambda sc, level: optimizer.select(sc, found.efficient, target=level),
            verify=lambda choice: verify(scenario, choice, evaluate, reps_verify, plan.target))
    with stages("frontier"):  # after the tightening: the curve of the rules the plan was chosen at
        if tightened.levels is not None:
            frontier = tightened_frontier(scenario, found.efficient, tightened.levels, tightened.plan)
        else:
            frontier = optimizer.frontier(scenario, found.efficient)
        clear_memo()  # nothing in the run sweeps these sets again
    plan = dataclasses.replace(tightened.plan, target=plan.target)  # the user's target, as asked
    return plan, tightened.plan_table, tightened.checks, tightened, reps_verify, frontier


def _summary_additions(summary: dict, scenario: Scenario, plan_table: pd.DataFrame, tiers, checks,
                       comparison: dict | None) -> None:
    """summary.json's parts beyond build_summary: tiers, warnings (history, never-ordered plans),
    the frontier's tier and the FIFO comparison."""
    from tradeoff.tiers import tier_summary
    from tradeoff.verify import never_ordered_warning

    if tiers is not None:
        summary["tiers"] = tier_summary(scenario, tiers, checks)
    if scenario.demand_history_csv is not None:
        from scenarios.history import history_warnings

        warnings = history_warnings(scenario)
        if warnings:  # e.g. SKUs in the history that the scenario does not plan (ignored)
            summary["warnings"] = warnings
    never_ordered = never_ordered_warning(plan_table)
    if never_ordered is not None:  # a plan that never orders is not reported as full service without a word
        summary["warnings"] = [*summary.get("warnings", []), never_ordered]
    if scenario.service.frontier_tier is not None:
        summary["frontier_tier"] = scenario.service.frontier_tier  # frontier.csv's levels are this tier's
    if comparison is not None:
        cost = float(plan_table["cost_total"].sum())
        comparison = dict(comparison, allocation_used=scenario.customer_tiers.allocation, cost_per_period_used=cost,
                          avg_on_hand_used=float(plan_table["avg_on_hand"].sum()))
        if comparison.get("status") == "optimal":
            comparison["saving_per_period"] = comparison["cost_per_period"] - cost
        summary["allocation_comparison"] = comparison


def _write(result: Result, out: str | Path | None, folder: str, work: WorkFolder, stages: Stages) -> None:
    """Write a run's result folder (feasible or not) when `out` is given, then remove its work folder."""
    from tradeoff import environment, results_io

    if out is None:
        return
    with stages("write"):
        try:
            result.out_dir = results_io.write_run(result, out, folder)
        except OSError as exc:
            # A full disk, a file size limit, a folder this user may not write in: name the result
            # folder (the OS names at most a staged file); nothing there was changed.
            if environment.meaning(exc) is None:
                raise
            raise environment.ResultNotWritten.from_error(Path(out) / folder, exc) from exc
        finally:
            work.remove()


def tightened_frontier(scenario: Scenario, efficient: pd.DataFrame, levels: dict[str, float], plan) -> pd.DataFrame:
    """The exchange curve under the rules the recommended plan was chosen at after tightening
    (tradeoff.tightening: `levels` by rule path), with the plan itself as its row at the target it
    was selected at (optimizer.frontier.with_plan), so that the plan sits on the curve it is drawn
    against (issue 15, point 3); in cost-optimal mode the plan is the curve's cost-optimal row. That
    row's note says so. A curve of one tier's level (service.frontier_tier) is left as drawn: it has
    no row at the aggregate target."""
    import optimizer
    from optimizer.frontier import with_plan
    from tradeoff.tightening import scenario_with_levels

    rules = {k: v for k, v in levels.items() if k != "service.target"}
    sc = scenario_with_levels(scenario, rules) if rules else scenario
    target = levels.get("service.target") if scenario.service.frontier_tier is None else None
    asked = sorted(set(float(x) for x in scenario.service.frontier or ()) | ({float(target)} if target else set()))
    frontier = optimizer.frontier(sc, efficient, levels=asked)
    if scenario.service.frontier_tier is not None:
        return frontier
    moved = ", ".join(f"{k} {100 * v:.4g} %" if k.startswith(("service.", "customer_tiers.")) else f"{k} {v:.6g}"
                      for k, v in sorted(levels.items()))
    return with_plan(frontier, plan, float(target) if target else None, f"the recommended plan: chosen with {moved} "
                     "in sample, to meet the rules on fresh demand (summary.json verification.tightening)")


# --------------------------------------------------------------------------- an infeasible selection
def reachable_frontier(scenario: Scenario, efficient: pd.DataFrame, error: Any = None) -> pd.DataFrame:
    """frontier.csv of a run whose rules cannot be met: the exchange curve over the levels that can be
    met (optimizer.frontier: the target's unreachable levels listed in attrs["infeasible"]), with one
    more level at the best achievable aggregate level (rounded down to 0.01 point) when `error` is the
    aggregate target's, so that the curve reaches the top of what can be met; or an empty table with
    frontier.csv's columns when floors or limits fail at every level."""
    import math

    import optimizer
    from optimizer.frontier import EXTRA_COLUMNS, FRONTIER_COLUMNS

    levels = None
    best = getattr(error, "best_achievable", float("nan"))
    if (getattr(error, "rule", None) == "service.target" and scenario.service.frontier_tier is None
            and math.isfinite(best) and best > 0):
        top = math.floor(best * 1e4) / 1e4
        levels = sorted({float(x) for x in scenario.service.frontier} | {top})
    try:
        return optimizer.frontier(scenario, efficient, levels=levels)
    except optimizer.InfeasibleError:
        empty = pd.DataFrame({c: pd.Series(dtype=bool if c == "cost_optimal" else object if c in ("status", "method")
                                           else float) for c in FRONTIER_COLUMNS + EXTRA_COLUMNS})
        empty.attrs["infeasible"] = []
        return empty


def rules_failing_alone(scenario: Scenario, efficient: pd.DataFrame) -> list[dict]:
    """Each rule no plan meets even on its own (every other rule dropped), with the best level the
    candidates allow for it alone: {rule, best_achievable, message}. Cheap (no solve): one rule alone
    is met exactly when every SKU taking its best candidate for that rule meets it
    (optimizer.select's check of rows alone); the SKU floor is checked per SKU by the preparation."""
    from optimizer import InfeasibleError
    from optimizer.problem import prepare
    from optimizer.select import _check_rows_alone

    out: list[dict] = []

    def note(exc: InfeasibleError) -> None:
        out.append({"rule": exc.rule, "best_achievable": exc.best_achievable, "message": str(exc)})

    if scenario.service.sku_floor is not None:
        try:
            prepare(scenario, efficient, "logistics", with_service=True, prune=False)
        except InfeasibleError as exc:
            note(exc)
            service = scenario.service.model_copy(update={"sku_floor": None})
            scenario = scenario.model_copy(update={"service": service})
    prepared = prepare(scenario, efficient, "logistics", with_service=True, prune=False)
    for row in prepared.coupling_rows(scenario.service.target):
        try:
            _check_rows_alone(prepared, [row])
        except InfeasibleError as exc:
            note(exc)
    return out


def _infeasible_result(scenario: Scenario, out: str | Path | None, folder: str, variants: Any, engine: str,
                       found: Searched, frontier: pd.DataFrame, alone: list[dict], stages: Stages,
                       work: WorkFolder) -> None:
    """The result of a run whose rules cannot be met, written with `out` (frontier.csv, summary.json
    with status "infeasible", report.html; no plan.csv: no plan meets the rules, and none is shown as
    if it did), then the selection's InfeasibleError raised again (exit 3) with `result` set to it."""
    import scenarios
    from tradeoff.summary import build_infeasible_summary

    exc = found.infeasible
    summary = build_infeasible_summary(
        scenario=scenario, scenario_hash=scenarios.content_hash(scenario), variants=_variant_list(variants),
        engine=engine, error=exc, rules_alone=alone, candidates=found.candidates, simulations=found.simulated,
        frontier=frontier, timings=stages.seconds)
    result = Result(scenario=scenario, plan=None, frontier=frontier, candidates=None, summary=summary,
                    extras={"folder": folder, "search": found, "work": work, "infeasible": exc})
    _write(result, out, folder, work, stages)
    exc.result = result
    raise exc
