"""The selection problem as arrays: one group (SKU) per candidate, a cost to minimise, and coupling rows
`sum_j coef_j x_j >= rhs` (service target, class floors, inventory budget, warehouse capacity,
vehicles per mode). Built once from an evaluations table; rows for a given target are made on demand so
that a frontier sweep reuses the same (pruned) candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.errors import InfeasibleError
from optimizer.keys import positions
from optimizer.prune import non_dominated
from scenarios.abc import sku_classes
from scenarios.schema import Scenario
from simulation.metrics import POLICY_COLUMNS as _POLICY
from simulation.metrics import tier_column

POLICY_COLUMNS = list(_POLICY)
COST_BUCKETS = ["cost_carrying", "cost_ordering", "cost_order_processing", "cost_transport",
                "cost_warehousing", "cost_shortage"]


@dataclass
class Row:
    """One coupling rule `coef @ x >= rhs`; `name` is the rule as the user knows it (YAML path)."""

    name: str
    coef: np.ndarray
    rhs: float
    kind: str  # "service" (a demand-weighted level) or "limit" (a resource cap, stored negated)


@dataclass
class ParamRows:
    """The coupling rows as affine functions of the aggregate target t: row k reads
    (A0[k] + t * slope[k]) @ x >= b[k]. Only the target row (first, when `has_target`) depends on t;
    the others have a zero slope. One object serves every level of a sweep, so that models built
    from it are built once and re-solved with t as a parameter."""

    names: list[str]
    kinds: list[str]
    A0: np.ndarray  # (K, n)
    slope: np.ndarray  # (K, n)
    b: np.ndarray  # (K,)
    has_target: bool

    @property
    def K(self) -> int:
        return len(self.names)

    def A(self, t: float | None) -> np.ndarray:
        """Row coefficients at level t (K, n)."""
        return self.A0 if not self.has_target else self.A0 + float(t) * self.slope

    def rows(self, t: float | None) -> list[Row]:
        """The rows at level t, as Prepared.coupling_rows gives them."""
        A = self.A(t)
        return [Row(n, A[k], float(self.b[k]), kind) for k, (n, kind) in enumerate(zip(self.names, self.kinds))]


@dataclass
class Prepared:
    """Candidates ready for selection: the evaluation rows kept (after the SKU floor and pruning), their
    SKU index `group`, the objective `cost` per period, demand d and service metric m, and resources."""

    scenario: Scenario
    rows: pd.DataFrame  # evaluation rows (after the SKU floor)
    src: np.ndarray  # position in `rows` of each candidate kept (after pruning)
    group: np.ndarray
    n_groups: int
    cost: np.ndarray
    d: np.ndarray
    m: np.ndarray
    # Each SKU's class (object, n_groups): a candidate's is sku_classes[group] (`classes`), not kept
    # per candidate nor as a column of `rows` (on a large catalogue, the head's memory).
    sku_classes: np.ndarray
    demand_total: float  # sum over SKUs of mean demand per period (scales the service rows)
    objective: str  # "total" or "logistics"
    n_before_prune: int = 0
    extra: dict = field(default_factory=dict)
    # The target row's demand and metric per candidate and its demand scale: the aggregate's (d, m,
    # demand_total) unless the target is one customer tier's level (service.frontier_tier).
    target_d: np.ndarray | None = None
    target_m: np.ndarray | None = None
    target_D: float | None = None

    @property
    def classes(self) -> np.ndarray:
        """Each candidate's class (object)."""
        return self.sku_classes[self.group]

    def by_sku(self) -> Prepared:
        """The same candidates in SKU order (stable: a SKU's candidates keep their order), or self when
        they are in it already. The decomposition sorts candidates by SKU for its pricing; given
        them sorted, it keeps no sorted copies (optimizer.decompose.Pricing)."""
        if in_sku_order(self.group):
            return self
        return _subset(self, np.argsort(self.group, kind="stable"))

    @property
    def td(self) -> np.ndarray:
        return self.d if self.target_d is None else self.target_d

    @property
    def tm(self) -> np.ndarray:
        return self.m if self.target_m is None else self.target_m

    @property
    def tD(self) -> float:
        return self.demand_total if self.target_D is None else self.target_D

    def coupling_rows(self, target: float | None) -> list[Row]:
        """The rules as rows: aggregate target (if any), class floors, then the limits that are set.
        Service rows read sum d_j (m_j - level) x_j / D >= 0, so a unit of slack is one unit of the
        aggregate level (D = total demand per period) and the row's dual is cost per unit of level."""
        sc = self.scenario
        out: list[Row] = []
        D = self.demand_total
        if target is not None:
            out.append(Row("service.target", self.td * (self.tm - target) / self.tD, 0.0, "service"))
        for cls, floor in sc.service.floors.items():
            mask = self.classes == cls
            if not mask.any():
                continue
            Dc = float(self.extra["class_demand"].get(cls, D)) or D
            out.append(Row(f"service.floors.{cls}", np.where(mask, self.d * (self.m - floor), 0.0) / Dc, 0.0, "service"))
        for rule, floor, d_col, m_col in tier_floors(sc):
            d = self.rows[d_col].to_numpy(float)[self.src]
            m = self.rows[m_col].to_numpy(float)[self.src]
            Dt = float(self.extra["tier_demand"].get(rule, D)) or D
            out.append(Row(rule, d * (m - floor) / Dt, 0.0, "service"))
        for name, col, cap in self.limits():
            out.append(Row(name, -col, -cap, "limit"))
        return out

    def parametric_rows(self, with_target: bool) -> ParamRows:
        """coupling_rows as affine functions of the target (see ParamRows): the rows at t = 0 and the
        change per unit of t (read off the rows at t = 1, so the two stay the same definition)."""
        at0 = self.coupling_rows(0.0 if with_target else None)
        n = len(self.cost)
        A0 = np.array([r.coef for r in at0], dtype=float).reshape(len(at0), n)
        slope = np.zeros_like(A0)
        if with_target:
            at1 = self.coupling_rows(1.0)
            slope[0] = at1[0].coef - at0[0].coef
        return ParamRows([r.name for r in at0], [r.kind for r in at0], A0,
                         slope, np.array([r.rhs for r in at0], dtype=float), with_target)

    def limits(self) -> list[tuple[str, np.ndarray, float]]:
        """(rule, resource per candidate, cap) for each limit set in the scenario."""
        return [(name, use[self.src], cap) for name, use, cap in limit_columns(self.scenario, self.rows)]


def tier_floors(scenario: Scenario) -> list[tuple[str, float, str, str]]:
    """(rule, floor, demand column, metric column) of each customer tier with a service floor: the
    tier's demand-weighted service.metric over all SKUs is at least the floor (docs/tiers.md)."""
    if scenario.customer_tiers is None:
        return []
    metric = scenario.service.metric
    return [(f"customer_tiers.tiers[{k}].floor", float(t.floor), tier_column(k, "demand_per_period"),
             tier_column(k, metric)) for k, t in enumerate(scenario.customer_tiers.tiers) if t.floor is not None]


def target_tier(scenario: Scenario) -> tuple[int, str, str] | None:
    """(tier index, demand column, metric column) of service.frontier_tier, or None."""
    ft = scenario.service.frontier_tier
    if ft is None or scenario.customer_tiers is None:
        return None
    k = scenario.customer_tiers.names().index(ft)
    return k, tier_column(k, "demand_per_period"), tier_column(k, scenario.service.metric)


def tier_benefits(scenario: Scenario, rows: pd.DataFrame) -> list[np.ndarray]:
    """d_k m_k and d_k (m_k - 1) per row of `rows` for each tier with a floor and for the tier the
    exchange curve is drawn for: with those kept in the dominance test, pruning keeps every row a
    tier rule at any level may need."""
    out = []
    columns = [(d_col, m_col) for _, _, d_col, m_col in tier_floors(scenario)]
    tt = target_tier(scenario)
    if tt is not None and (tt[1], tt[2]) not in columns:
        columns.append((tt[1], tt[2]))
    for d_col, m_col in columns:
        d, m = rows[d_col].to_numpy(float), rows[m_col].to_numpy(float)
        out += [d * m, d * (m - 1.0)]
    return out


def limit_columns(scenario: Scenario, rows: pd.DataFrame) -> list[tuple[str, np.ndarray, float]]:
    """(rule, resource per row of `rows` (an evaluations table), cap) for each limit the scenario sets:
    budget.inventory_value (average inventory value), costs.warehousing.capacity_units (average
    on-hand units: AVERAGE occupancy, peaks may exceed it), transport[k].capacity_per_period
    (vehicles per period of the rows using mode k)."""
    sc = scenario
    col = lambda name: rows[name].to_numpy(float)  # noqa: E731
    out = []
    if sc.budget.inventory_value is not None:
        out.append(("budget.inventory_value", col("inventory_value"), float(sc.budget.inventory_value)))
    if sc.costs.warehousing.capacity_units is not None:
        out.append(("costs.warehousing.capacity_units", col("avg_on_hand"), float(sc.costs.warehousing.capacity_units)))
    if any(tm.capacity_per_period is not None for tm in sc.transport):
        modes = rows["mode"].astype(object).where(rows["mode"].notna(), sc.transport[0].name).to_numpy()
    for k, tm in enumerate(sc.transport):
        if tm.capacity_per_period is not None:
            use = np.where(modes == tm.name, col("vehicles_per_period"), 0.0)
            out.append((f"transport[{k}].capacity_per_period", use, float(tm.capacity_per_period)))
    return out


def objective_cost(evaluations: pd.DataFrame, objective: str) -> np.ndarray:
    """cost_total per period, or logistics cost (cost_total - cost_shortage)."""
    total = evaluations["cost_total"].to_numpy(float)
    if objective == "total":
        return total
    return total - evaluations["cost_shortage"].to_numpy(float)


def prepare(scenario: Scenario, evaluations: pd.DataFrame, objective: str, with_service: bool,
            prune: bool = True, tier_target: bool = False) -> Prepared:
    """Check the evaluations, apply the SKU floor (InfeasibleError when a SKU has no candidate left),
    attach classes and prune dominated candidates. `with_service`: keep service attributes in the
    dominance test (needed when a target or a floor applies). `tier_target`: the target (and the
    achieved level) is service.frontier_tier's demand-weighted metric, not the aggregate's."""
    metric = scenario.service.metric
    ids = [s.id for s in scenario.skus]
    # SKU index per row by one hash lookup (-1: not a SKU of the scenario); a Python-level map over
    # 10^5-10^6 rows would take seconds. (Categorical codes did the same, but pandas deprecates
    # values outside the categories.)
    codes = positions(evaluations["sku"], ids)
    # Copies only where rows go: the table can be most of the head's memory on a large catalogue.
    known = codes >= 0
    ev = evaluations.reset_index(drop=True) if known.all() else evaluations[known].reset_index(drop=True)
    group = codes[known]
    missing = [ids[k] for k in np.flatnonzero(np.bincount(group, minlength=len(ids)) == 0)]
    if missing:
        raise ValueError(f"evaluations have no candidate for SKUs {missing[:5]}")
    bad = ev[["cost_total", "cost_shortage", metric, "demand_per_period"]].isna().any(axis=1)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} evaluation rows have NaN cost, {metric} or demand_per_period")
    floor = scenario.service.sku_floor
    if floor is not None:
        ok = ev[metric].to_numpy(float) >= floor - 1e-12
        has = ev.assign(_ok=ok).groupby("sku", sort=False)["_ok"].any()
        for sku_id in has.index[~has.to_numpy()]:
            sel = (ev["sku"] == sku_id).to_numpy()
            best = float(ev.loc[sel, metric].max())
            raise InfeasibleError("service.sku_floor", best,
                                  f"service.sku_floor {floor:g} cannot be met for SKU {sku_id}: its best "
                                  f"candidate reaches {metric} {best:.6g}")
        ev = ev[ok].reset_index(drop=True)
        group = group[ok]
    cls_of = sku_classes(scenario)
    cls_by_index = np.array([cls_of[i] for i in ids], dtype=object)
    cost = objective_cost(ev, objective)
    d = ev["demand_per_period"].to_numpy(float)
    m = ev[metric].to_numpy(float)
    # Scale of the service rows: mean demand per period of each SKU over its candidates.
    per_sku_d = np.bincount(group, weights=d, minlength=len(ids)) / np.maximum(np.bincount(group, minlength=len(ids)), 1)
    sku_d = {i: float(per_sku_d[k]) for k, i in enumerate(ids)}
    D = sum(sku_d.values()) or 1.0
    class_demand: dict[str, float] = {}
    for i in ids:
        class_demand[cls_of[i]] = class_demand.get(cls_of[i], 0.0) + sku_d[i]
    tier_demand = {}
    for rule, _, d_col, _ in tier_floors(scenario):  # each tier's demand per period (SKU means), the row's scale
        dt = ev[d_col].to_numpy(float)
        tier_demand[rule] = float((np.bincount(group, weights=dt, minlength=len(ids))
                                   / np.maximum(np.bincount(group, minlength=len(ids)), 1)).sum())
    prep = Prepared(scenario, ev, np.arange(len(ev)), group, len(ids), cost, d, m, cls_by_index, D, objective,
                    n_before_prune=len(ev), extra={"class_demand": class_demand, "tier_demand": tier_demand})
    tt = target_tier(scenario) if tier_target else None
    if tt is not None:
        prep.target_d, prep.target_m = ev[tt[1]].to_numpy(float), ev[tt[2]].to_numpy(float)
        prep.target_D = float((np.bincount(group, weights=prep.target_d, minlength=len(ids))
                               / np.maximum(np.bincount(group, minlength=len(ids)), 1)).sum()) or D
        prep.extra["target_columns"] = (tt[1], tt[2])
    if prune:
        benefits = []
        if with_service or scenario.service.floors:
            # d*m and d*(m-1) cover d*(m - level) for every level in [0, 1]: one pruning serves a sweep.
            benefits += [d * m, d * (m - 1.0)]
        benefits += tier_benefits(scenario, ev)
        benefits += [-col for _, col, _ in prep.limits()]
        keep = non_dominated(group, cost, benefits)
        del benefits
        prep = _subset(prep, keep)
    return prep


def in_sku_order(group: np.ndarray) -> bool:
    """Whether candidates with SKU index `group` are in SKU order (each SKU's candidates together,
    SKUs ascending)."""
    return bool(np.all(group[1:] >= group[:-1]))


def _subset(p: Prepared, keep: np.ndarray) -> Prepared:
    """The candidates `keep` selects (a mask, or positions in the order wanted)."""
    sub = lambda a: None if a is None else a[keep]  # noqa: E731
    return Prepared(p.scenario, p.rows, p.src[keep], p.group[keep], p.n_groups, p.cost[keep],
                    p.d[keep], p.m[keep], p.sku_classes, p.demand_total, p.objective, p.n_before_prune, p.extra,
                    sub(p.target_d), sub(p.target_m), p.target_D)
