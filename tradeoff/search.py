"""The per-SKU stages of a run, done inside SKU-chunk tasks on the executor's workers.

A chunk is a run of consecutive SKUs. Its task does everything that concerns those SKUs alone:

- `explore`: initial candidates, their simulation and, in cost-optimal mode (where every SKU's own
  cheapest candidate is the price-optimal one at zero prices), the refine rounds around it;
- `refine`: given the prices of the coupling rules (optimizer.prices.Prices, one set per level: the
  recommended plan's and each exchange-curve level's) and the head's choices, refine rounds around
  each SKU's price-optimal candidates (one-step neighbours, simulated on the same streams, until no
  SKU's choice moves), then the recommended level's contenders re-simulated with more replications;
- `final`: the chunk's candidates with `class` and `chosen` written as one file of the
  candidates.parquet dataset.

Between steps, a chunk's candidates live in its own file in the run's work folder (`store`), not in
the head process: a task returns only the chunk's efficient set (the candidates not dominated in
cost, logistics cost, demand-weighted service and the resources the limits count; those are all the
selection can ever choose). Each SKU's streams are drawn once per task and reused by its rounds
(simulation.kernel_streams.StreamCache).

Every decision here is per SKU (its candidates, its streams keyed by its id, the prices and the head's
choice for it), so the results do not depend on how SKUs are grouped into chunks, on the number of
workers or on the executor.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.prices import Prices
from scenarios.schema import Scenario
from simulation.metrics import POLICY_COLUMNS as _POLICY
from tradeoff.executors import worker_name

MAX_REFINE_ROUNDS = 3  # a backstop: rounds normally stop when no SKU's choice moves
FRONTIER_REFINE_ROUNDS = 1  # rounds around the choices of every exchange-curve level
CONTENDER_REPLICATION_FACTOR = 4  # contenders get this many times the scenario's replications
CONTENDERS_PER_SKU = 5
POLICY_COLUMNS = list(_POLICY)


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive SKUs: ids, their classes as the whole catalogue's ABC gives them, and the
    SKUs themselves (the scenario's scenarios.schema.Sku objects, not copies: the head holds each SKU
    once; sub_scenario sets the classes on the worker), so that a worker gets only its chunk's SKUs
    with each task and the rest of the scenario once (worker memory does not grow with the
    catalogue)."""

    index: int
    skus: tuple[str, ...]
    classes: tuple[str, ...]
    models: tuple = ()

    @property
    def name(self) -> str:  # how executors' messages name the item
        return f"chunk {self.index} (SKUs {self.skus[0]} .. {self.skus[-1]}, {len(self.skus)} SKUs)"

    def without_models(self) -> Chunk:
        """The chunk without its SKU objects, for a step after the explore step (which keeps them in
        the store, chunk_skus_path): pickling them again for every step was most of a task's cost."""
        return Chunk(self.index, self.skus, self.classes)


@dataclass(frozen=True)
class Level:
    """What the head says about one level for a chunk's SKUs: its prices, how many refine rounds to
    spend around its choices, and whether it is the recommended plan's level (its contenders get more
    replications). The levels' chosen policies travel together, as the Task's `choices`."""

    prices: Prices
    rounds: int
    contenders: bool = False


@dataclass(frozen=True)
class Task:
    """One step of one chunk (executors get it as `(scenario or the executor's handle to it, task)`:
    a Dask handle is resolved on the worker only at the top of a task's argument)."""

    chunk: Chunk
    engine: str
    store: str
    step: str  # "explore", "refine" or "final"
    levels: tuple[Level, ...] = ()
    # Refine: every level's chosen policies of the chunk's SKUs (policy columns and `level`, the
    # level's position in `levels`, ascending), one table rather than one per level: a task is pickled
    # to reach its worker, and a table's pickle costs the head a fixed time whatever its size.
    choices: pd.DataFrame | None = None
    generation: int = 0  # the chunk file this step writes (explore 0, refine trip t: t) or, final, reads
    chosen: pd.DataFrame | None = None  # final: the chosen policies of the chunk's SKUs
    out: str | None = None  # final: the folder of the candidates dataset

    @property
    def name(self) -> str:
        return f"{self.step} of {self.chunk.name}"

    def level_choices(self) -> list[pd.DataFrame]:
        """`choices` split by level: the chosen policies of each of `levels`, in their order."""
        if self.choices is None:
            return [pd.DataFrame(columns=list(POLICY_COLUMNS))] * len(self.levels)
        level = self.choices["level"].to_numpy()
        bounds = np.searchsorted(level, np.arange(len(self.levels) + 1))
        policies = self.choices[list(POLICY_COLUMNS)]
        return [policies.iloc[bounds[k]:bounds[k + 1]] for k in range(len(self.levels))]


@dataclass
class Report:
    """What a chunk step returns to the head: its efficient set and counts."""

    index: int
    efficient: pd.DataFrame | None  # None once the head has taken it (tradeoff.gather)
    candidates: int  # candidates of the chunk so far
    simulated: int  # policy rows simulated by this step
    policy_periods: int  # rows x replications x (warmup + periods) simulated by this step
    rounds: int  # the highest refine round of any of the chunk's SKUs
    seconds: float


def run_step(item: tuple[Scenario, Task]) -> Report | int:
    """The function executors ship to workers: one step of one chunk, item (scenario, task)."""
    scenario, task = item
    if task.step == "final":
        return _final(task)
    return _Chunk(scenario, task).run()


class _Chunk:
    def __init__(self, scenario: Scenario, task: Task):
        from simulation.kernel_streams import StreamCache

        self.task = task
        chunk = task.chunk
        if not chunk.models and chunk_skus_path(task.store, chunk.index).is_file():  # a step after explore
            chunk = Chunk(chunk.index, chunk.skus, chunk.classes, read_skus(chunk_skus_path(task.store, chunk.index)))
        self.scenario = sub_scenario(scenario, chunk)
        # A refine step that ends with contenders re-simulates rows at CONTENDER_REPLICATION_FACTOR
        # times the replications: their streams are drawn once, at that count, for the rounds too.
        more = any(level.contenders for level in task.levels)
        self.streams = StreamCache(self.scenario.replications * CONTENDER_REPLICATION_FACTOR if more else 0)
        self.simulated = 0
        self.policy_periods = 0

    # ---- simulation on the chunk's streams
    def simulate(self, policies: pd.DataFrame, replications: int) -> pd.DataFrame:
        import simulation

        sc = self.scenario
        table = simulation.evaluate(sc, policies[POLICY_COLUMNS].reset_index(drop=True), engine=self.task.engine,
                                    replications=replications, seed=sc.seed, streams=self.streams)
        self.simulated += len(table)
        self.policy_periods += len(table) * int(replications) * (sc.horizon.warmup + sc.horizon.periods)
        return table

    def run(self) -> Report:
        start = time.process_time()
        task = self.task
        if not Path(task.store).is_dir():
            from tradeoff.environment import WorkFolderNotVisible

            raise WorkFolderNotVisible(task.store, worker_name())
        if task.step == "explore":
            from optimizer import initial_candidates

            if task.chunk.models:  # for the chunk's later steps (Chunk.without_models)
                write_skus(task.chunk.models, chunk_skus_path(task.store, task.chunk.index))
            table = self.simulate(initial_candidates(self.scenario), self.scenario.replications).assign(round=0)
            if self.scenario.service.target is None:  # cost-optimal: zero prices are a good start
                zero = Prices("total", self.scenario.service.metric)
                table = self.refine(table, (Level(zero, MAX_REFINE_ROUNDS),), [table.iloc[0:0][POLICY_COLUMNS]])
            table = self.aim(table)
        elif task.step == "refine":
            table = self.refine(self.load(), task.levels, task.level_choices())
            plan_level = next((lv for lv in task.levels if lv.contenders), None)
            if plan_level is not None:
                table = self.contenders(table, plan_level.prices)
        else:
            raise ValueError(f"unknown chunk step {task.step!r}")
        self.save(table)
        efficient = head_table(efficient_set(self.scenario, table)[head_columns(self.scenario)])
        return Report(task.chunk.index, efficient, len(table), self.simulated, self.policy_periods,
                      int(table["round"].max()), time.process_time() - start)

    # ---- the store: one file per step (a step run again after its worker died reads the same input)
    def load(self) -> pd.DataFrame:
        return read_scratch(chunk_path(self.task.store, self.task.chunk.index, self.task.generation - 1))

    def save(self, table: pd.DataFrame) -> None:
        write_scratch(table, chunk_path(self.task.store, self.task.chunk.index, self.task.generation))

    def aim(self, table: pd.DataFrame) -> pd.DataFrame:
        """The candidates aimed at the exchange curve's low levels (optimizer.candidates.
        aimed_at_levels), simulated and added as one more round; the table as it is with
        policies.expand false."""
        from optimizer.candidates import aimed_at_levels

        if not self.scenario.policies.expand:
            return table
        new = aimed_at_levels(self.scenario, table)
        if new.empty:
            return table
        return self.add_round(table, self.simulate(new, self.scenario.replications))

    # ---- refine rounds
    def add_round(self, table: pd.DataFrame, added: pd.DataFrame, codes: np.ndarray | None = None) -> pd.DataFrame:
        """`table` with the `added` rows appended, each in its SKU's next round (its SKU's highest
        round in `table` plus one; 1 for a SKU without rows). `codes`: `table`'s SKU codes
        (codes_and_classes) when the caller has them."""
        done = np.zeros(len(self.task.chunk.skus), np.int64)
        codes = self.codes_and_classes(table)[0] if codes is None else codes
        np.maximum.at(done, codes, table["round"].to_numpy(np.int64))
        added["round"] = done[self.codes_and_classes(added)[0]] + 1
        return pd.concat([table, added], ignore_index=True)

    def codes_and_classes(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Each row's SKU as its position in the chunk (int64) and its class (object)."""
        # The chunk's few SKU ids are looked up once each (factorize first), not once per row.
        values, distinct = pd.factorize(table["sku"])
        where = pd.Index(self.task.chunk.skus).get_indexer(distinct)
        codes = np.where(values >= 0, where[values] if len(where) else values, -1).astype(np.int64)
        if (codes < 0).any():  # -1 would index the chunk's last SKU: never a silent wrong class
            raise ValueError(f"rows of SKUs outside {self.task.chunk.name}")
        return codes, np.array(self.task.chunk.classes, dtype=object)[codes]

    def refine(self, table: pd.DataFrame, levels: tuple[Level, ...], choices: list[pd.DataFrame]) -> pd.DataFrame:
        """Rounds of one-step neighbours around each level's price-optimal candidate of every SKU
        (in the first round also around the head's choice, `choices[k]` for level k, and, at the
        first level's prices, the best candidate of each way of replenishing), simulated and added,
        until no SKU's choice moves or each level's rounds are spent. None with policies.expand false: the explicit candidates are
        then the only ones simulated."""
        from optimizer import refine

        if not self.scenario.policies.expand:
            return table
        previous: list[np.ndarray | None] = [None] * len(levels)
        for r in range(max((lv.rounds for lv in levels), default=0)):
            codes, cls = self.codes_and_classes(table)
            seeds = []
            for k, level in enumerate(levels):
                if r >= level.rounds:
                    continue
                score = level.prices.reduced_cost(self.scenario, table, cls)
                best = refine.cheapest_per_sku(codes, score)
                moved = best if previous[k] is None else best[best != previous[k]]
                previous[k] = best
                seeds.append(_policies_at(table, moved[moved >= 0]))
                if r == 0:
                    seeds.append(choices[k][POLICY_COLUMNS])
                if k == 0 and r == 0:
                    seeds.append(_policies_at(table, refine.cheapest_per_way(table, score)))
            seeds = [s for s in seeds if len(s)]
            if not seeds:
                break
            new = refine.around(self.scenario, table, pd.concat(seeds, ignore_index=True).drop_duplicates(ignore_index=True))
            if new.empty:
                break
            table = self.add_round(table, self.simulate(new, self.scenario.replications), codes)
        return table

    def contenders(self, table: pd.DataFrame, prices: Prices) -> pd.DataFrame:
        """The candidates whose reduced cost lies within noise of each SKU's price-optimal one, and that
        one, re-simulated with CONTENDER_REPLICATION_FACTOR times the replications (common random
        numbers: the same streams, more of them); rows simulated that long already are left as they are."""
        from optimizer import refine

        reps = self.scenario.replications * CONTENDER_REPLICATION_FACTOR
        codes, cls = self.codes_and_classes(table)
        score = prices.reduced_cost(self.scenario, table, cls)
        best = refine.cheapest_per_sku(codes, score)
        rows = refine.close_rivals(codes, best, score, prices.half_width(table, cls), CONTENDERS_PER_SKU)
        rows = rows[table["replications"].to_numpy()[rows] < reps]
        if not len(rows):
            return table
        more = self.simulate(table.iloc[rows], reps)
        table = table.copy()
        for column in more.columns:
            if column not in POLICY_COLUMNS:
                table.iloc[rows, table.columns.get_loc(column)] = more[column].to_numpy()
        return table


def _policies_at(table: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The policy columns of `table`'s rows at positions `rows`, taken at once (not every column of
    those rows, then the policy ones)."""
    return table.iloc[rows, [table.columns.get_loc(c) for c in POLICY_COLUMNS]]


def head_columns(scenario: Scenario) -> list[str]:
    """The columns of a candidate the head reads (selection, frontier, verification, summary): the
    policy, the cost buckets and total with its half-width, the service metric, demand, replications
    and the resources of the limits the scenario sets. The other metrics stay in the chunks' files
    (candidates.parquet)."""
    from optimizer.problem import COST_BUCKETS

    limits = {"budget.inventory_value": ["inventory_value"], "costs.warehousing.capacity_units": ["avg_on_hand"]}
    used = []
    if scenario.budget.inventory_value is not None:
        used += limits["budget.inventory_value"]
    if scenario.costs.warehousing.capacity_units is not None:
        used += limits["costs.warehousing.capacity_units"]
    if any(mode.capacity_per_period is not None for mode in scenario.transport):
        used.append("vehicles_per_period")
    from optimizer.problem import target_tier, tier_floors

    for _, _, d_col, m_col in tier_floors(scenario):
        used += [d_col, m_col]
    tt = target_tier(scenario)
    if tt is not None and tt[1] not in used:
        used += [tt[1], tt[2]]
    return [*POLICY_COLUMNS, *COST_BUCKETS, "cost_total", "cost_total_ci", scenario.service.metric,
            "demand_per_period", "replications", *used]


TEXT_COLUMNS = ("sku", "family", "mode")


def head_table(table: pd.DataFrame) -> pd.DataFrame:
    """`table` as the head keeps it: its text columns as pandas' Arrow-backed `str` (a few bytes per
    row; `mode` comes out of the simulation as Python objects, one string object per row once a
    report is unpickled at the head, several times the size of its text)."""
    return table.astype({c: "str" for c in TEXT_COLUMNS if c in table.columns})


def sub_scenario(scenario: Scenario, chunk: Chunk) -> Scenario:
    """The scenario with the chunk's SKUs only (its models, classes set from the whole catalogue, so
    that a class computed here is the catalogue's, not the chunk's ABC). `scenario` may hold no SKUs
    (the skeleton the run shares with the workers, see `skeleton`)."""
    if chunk.models:  # the catalogue's own SKU objects: the class is set on copies made here
        skus = tuple(m.model_copy(update={"class_": c}) for m, c in zip(chunk.models, chunk.classes))
        return scenario.model_copy(update={"skus": skus})
    wanted = dict(zip(chunk.skus, chunk.classes))
    skus = [s.model_copy(update={"class_": wanted[s.id]}) for s in scenario.skus if s.id in wanted]
    return scenario.model_copy(update={"skus": tuple(skus)})


def skeleton(scenario: Scenario) -> Scenario:
    """The scenario without its SKUs: what every worker gets once (the SKUs travel with their chunks)."""
    return scenario.model_copy(update={"skus": ()})


def chunk_path(store: str | Path, index: int, generation: int) -> Path:
    """The file of chunk `index` written by step `generation` (explore 0, refine trip t: t)."""
    return Path(store) / f"chunk-{index:05d}-{generation}.arrow"


def chunk_skus_path(store: str | Path, index: int) -> Path:
    """The file of chunk `index`'s SKU objects, written by its explore step."""
    return Path(store) / f"chunk-{index:05d}-skus.pickle"


def write_skus(models: tuple, path: Path) -> None:
    """A chunk's SKU objects as a pickle at `path` (whole or not at all), for its later steps. The
    file is the run's own work, read by the run's own workers, as the tasks' pickles are."""
    import io
    import pickle

    write_whole(io.BytesIO(pickle.dumps(models, protocol=pickle.HIGHEST_PROTOCOL)), path)


def read_skus(path: Path) -> tuple:
    """The SKU objects write_skus wrote."""
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def efficient_set(scenario: Scenario, table: pd.DataFrame) -> pd.DataFrame:
    """The rows the selection can ever choose: per SKU (and, with a SKU floor, separately among the
    rows that meet it and those that do not), those no other row beats or equals in cost_total,
    logistics cost, d * metric, d * (metric - 1) and every resource a limit counts
    (optimizer.prune.non_dominated; a row dominated in all of them is never needed, whatever the
    target, floors or level)."""
    from optimizer.problem import limit_columns, tier_benefits
    from optimizer.prune import non_dominated

    metric = scenario.service.metric
    group = pd.factorize(table["sku"])[0].astype(np.int64)
    m = table[metric].to_numpy(float)
    if scenario.service.sku_floor is not None:
        group = group * 2 + (m >= scenario.service.sku_floor - 1e-12)
    d = table["demand_per_period"].to_numpy(float)
    total = table["cost_total"].to_numpy(float)
    logistics = total - table["cost_shortage"].to_numpy(float)
    benefits = [-logistics, d * m, d * (m - 1.0)] + tier_benefits(scenario, table)
    benefits += [-use for _, use, _ in limit_columns(scenario, table)]
    keep = non_dominated(group, total, benefits)
    return table[keep].reset_index(drop=True)


def _final(task: Task) -> int:
    """Write the chunk's candidates (with `class` and `chosen`) as its part of candidates.parquet; the
    number of rows written."""
    from optimizer.keys import matches

    if not Path(task.store).is_dir():
        from tradeoff.environment import WorkFolderNotVisible

        raise WorkFolderNotVisible(task.store, worker_name())
    table = read_scratch(chunk_path(task.store, task.chunk.index, task.generation))
    table.insert(1, "class", table["sku"].map(dict(zip(task.chunk.skus, task.chunk.classes))))
    table["chosen"] = matches(table, task.chosen)
    # Dictionaries for the text columns only (their values repeat); numbers as they are.
    write_parquet(table, Path(task.out) / part_name(task.chunk.index), use_dictionary=["sku", "class", "family", "mode"])
    return len(table)


def write_parquet(table: pd.DataFrame, path: Path, **options: Any) -> None:
    """`table` as a parquet file at `path`, whole or not at all (write_whole)."""
    import io

    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False, **options)
    write_whole(buffer, path)


def write_scratch(table: pd.DataFrame, path: Path) -> None:
    """A chunk's table between its steps, read back once by read_scratch: an uncompressed Arrow IPC
    (Feather) file: no encoding to do, unlike parquet, for a file read back once (the work folder is
    not a user file; candidates.parquet stays parquet). Whole or not at all (write_whole)."""
    import io

    buffer = io.BytesIO()
    table.reset_index(drop=True).to_feather(buffer, compression="uncompressed")
    write_whole(buffer, path)


def read_scratch(path: Path) -> pd.DataFrame:
    """A chunk's table as write_scratch wrote it. Read on this thread: Arrow's threads only add CPU
    time for a table of this size, and a worker runs one task per core anyway."""
    return pd.read_feather(path, use_threads=False)


def write_whole(buffer, path: Path) -> None:
    """The bytes of `buffer` (io.BytesIO) as the file `path`, whole or not at all: written by
    Python's own file calls (so a full disk or a size limit is an OSError naming the file, as the
    run reports environment failures) to a temporary name and renamed."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(buffer.getbuffer())
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        tmp.unlink(missing_ok=True)
        raise
