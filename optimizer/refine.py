"""Helpers for refinement: new candidates one step around given policies (`around`; `neighbours` and
`frontier_neighbours` seed it from Plans), each SKU's price-optimal candidate and close rivals (the
SKU-chunk tasks of tradeoff.search use them with optimizer.prices), and the stopping test.

Ranking and selection: replications are spent where they decide something. A rival is a candidate
of the same SKU whose reduced cost (optimizer.prices) lies within the sum of the two 95 %
half-widths of the price-optimal one's. Re-simulating rivals (and the chosen row) with more
replications on the same random streams (common random numbers) sharpens exactly the comparisons
that can change the plan; the test is conservative because the table holds unpaired half-widths.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from optimizer.candidates import POLICY_COLUMNS, policy_part
from optimizer.keys import add_new
from optimizer.plan import Plan
from scenarios.schema import Scenario

_PARAMS = {"base_stock": ("S",), "RS": ("S",), "sS": ("s", "S"), "RsS": ("s", "S"), "rQ": ("s", "Q"),
           "capped_base_stock": ("S", "cap")}


def neighbours(scenario: Scenario, evaluations: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """New candidates (policy columns only) around each chosen policy and around the best candidate of
    each other family/mode/review period of its SKU: every parameter moved one step down and up, both levels of (s, S) moved together (keeping the lot), lot sizes kept at least the
    MOQ and multiples of the pack size; rows already in `evaluations` are left out."""
    return _around(scenario, evaluations, _seeds(evaluations, plan))


def frontier_neighbours(scenario: Scenario, evaluations: pd.DataFrame, plans) -> pd.DataFrame:
    """New candidates (policy columns only) around the policies chosen at the frontier's levels
    (`plans`: the Plans of optimizer.frontier_plans, or any Plans): each parameter of each chosen
    policy moved one step down and up, as `neighbours` does, so the exchange curve is refined where
    it is drawn and not only at the recommended plan. Rows already in `evaluations` (and repeats
    across levels) are left out."""
    seeds = [policy_part(p.choice) for p in plans if p is not None and len(p.choice)]
    if not seeds:
        return pd.DataFrame(columns=POLICY_COLUMNS)
    return _around(scenario, evaluations, pd.concat(seeds, ignore_index=True).drop_duplicates(ignore_index=True))


def _around(scenario: Scenario, evaluations: pd.DataFrame, seeds: pd.DataFrame) -> pd.DataFrame:
    """Every one-step move (diagonals included) of every seed policy, valid and not yet evaluated,
    seed by seed in the seeds' order and, per seed, the moves in the order of
    itertools.product((-1, 0, 1), ...). A negative reorder point s is kept when customers can wait
    (a backlog lets the position fall below 0); without a backlog s stops at 0."""
    from optimizer.candidates import _backlog_possible
    from scenarios.schema import dist_mean

    pack, moq = scenario.policies.pack_size, scenario.policies.moq
    s_min = -np.inf if _backlog_possible(scenario) else 0.0
    mu_of = {s.id: dist_mean(s.demand) if s.demand is not None else 1.0 for s in scenario.skus}
    seeds = policy_part(seeds).reset_index(drop=True)
    parts, seed_pos, move_pos = [], [], []
    # Vectorised per family: one block of rows per move (arrays over that family's seeds).
    for family, params in _PARAMS.items():
        rows = np.flatnonzero((seeds["family"] == family).to_numpy())
        if not len(rows):
            continue
        sub = seeds.iloc[rows].reset_index(drop=True)
        mu = sub["sku"].map(mu_of).to_numpy(dtype=float)
        base = {p: sub[p].to_numpy(dtype=float) for p in params}
        steps = {p: _steps(base[p], mu) for p in params}
        if "Q" in steps:
            steps["Q"] = np.maximum(steps["Q"], pack)
        # Every combination of -1, 0, +1 step in each parameter (diagonals included: in (S, cap) or
        # (s, S) the better point often lies along a diagonal of the grid).
        signs = [sg for sg in itertools.product((-1, 0, 1), repeat=len(params)) if any(sg)]
        for m, sg in enumerate(signs):
            parts.append(sub.assign(**{p: base[p] + k * steps[p] for p, k in zip(params, sg)}))
            seed_pos.append(rows)
            move_pos.append(np.full(len(rows), m))
    if _rationing(scenario) and len(seeds):
        # The critical level moves on its own axis (not in the diagonals: that would triple the moves).
        crit = seeds["critical_level"].to_numpy(dtype=float)
        step = _steps(crit, seeds["sku"].map(mu_of).to_numpy(dtype=float))
        for m, sign in enumerate((-1, 1)):
            parts.append(seeds.assign(critical_level=crit + sign * step))
            seed_pos.append(np.arange(len(seeds)))
            move_pos.append(np.full(len(seeds), 3**6 + m))  # after every family move of its seed
    if not parts:
        return pd.DataFrame(columns=POLICY_COLUMNS)
    df = pd.concat(parts, ignore_index=True)
    df = df.iloc[np.lexsort((np.concatenate(move_pos), np.concatenate(seed_pos)))].reset_index(drop=True)
    num = {c: df[c].to_numpy(dtype=float) for c in ("s", "S", "Q", "cap")}
    q = num["Q"]
    has_q = ~np.isnan(q)
    if has_q.any():  # lot sizes at least the MOQ (and 1), whole packs
        q = np.where(has_q, np.maximum(np.ceil(np.maximum(np.maximum(q, moq), 1) / pack) * pack, 1), q)
        df["Q"] = q
    s, S, cap, fam = num["s"], num["S"], num["cap"], df["family"].to_numpy(dtype=object)
    drop = (S < 0) | (s < s_min) | (cap < 1)  # NaN compares false: a missing level is no reason
    drop |= df["critical_level"].to_numpy(dtype=float) < 0
    drop |= (fam == "rQ") & (s + q < 0)  # the replication starts with s + Q on hand
    drop |= np.isin(fam, ("sS", "RsS")) & ~(S > s)
    return add_new(evaluations, df[~drop])


def _rationing(scenario: Scenario) -> bool:
    """Whether candidates carry critical levels (critical_level allocation, docs/tiers.md)."""
    return scenario.customer_tiers is not None and scenario.customer_tiers.allocation == "critical_level"


def _steps(values: np.ndarray, mean_demand: np.ndarray) -> np.ndarray:
    """Neighbour distance per row: 5 % of the parameter's scale (its value, or the mean demand per
    period when larger), rounded to whole units (half to even), at least one unit."""
    return np.maximum(1.0, np.rint(0.05 * np.maximum(np.abs(values), mean_demand)))


def _seeds(evaluations: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The chosen rows, and for each SKU the best row (by the score the selection trades off) of every
    other (family, mode, R): a family whose grid point lost narrowly may win one step away."""
    score, _ = _lagrangian(evaluations, plan)
    ev = evaluations.assign(rk_score=score)
    best = ev.loc[ev.groupby(["sku", "family", "mode", "R"], dropna=False)["rk_score"].idxmin()]
    return pd.concat([policy_part(plan.choice), policy_part(best)], ignore_index=True)


def _lagrangian(df: pd.DataFrame, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Per-row score the selection trades off (cost minus implied value of service) and its half-width."""
    cost = df["cost_total"].to_numpy(float)
    ci = df["cost_total_ci"].to_numpy(float) if "cost_total_ci" in df else np.zeros(len(df))
    if plan.target is not None:
        cost = cost - df["cost_shortage"].to_numpy(float)
        price = plan.implied_shortage_cost or 0.0
        d = df["demand_per_period"].to_numpy(float)
        m = df[plan.metric].to_numpy(float)
        cost = cost - price * d * m
        m_ci = df[f"{plan.metric}_ci"].to_numpy(float) if f"{plan.metric}_ci" in df else np.zeros(len(df))
        ci = ci + price * d * np.nan_to_num(m_ci)
    return cost, np.nan_to_num(ci)


def gain_within_noise(previous_plan: Plan | None, plan: Plan) -> bool:
    """True when the new plan's objective improves on the previous one by no more than the 95 %
    half-width of the new plan's total cost (SKUs have independent streams, so half-widths add in
    quadrature): refining further would chase noise. False when there is no previous plan."""
    if previous_plan is None:
        return False
    gain = previous_plan.objective - plan.objective
    ci = plan.choice["cost_total_ci"].to_numpy(float) if "cost_total_ci" in plan.choice else np.zeros(1)
    noise = float(np.sqrt(np.sum(np.nan_to_num(ci) ** 2)))
    return gain <= noise


# --------------------------------------------------------------------------- by price (SKU-chunk tasks)
def around(scenario: Scenario, evaluations: pd.DataFrame, seeds: pd.DataFrame) -> pd.DataFrame:
    """New candidates (policy columns only): every one-step move of every seed policy (as
    `neighbours` makes them), valid and not already in `evaluations`."""
    if seeds is None or seeds.empty:
        return pd.DataFrame(columns=POLICY_COLUMNS)
    return _around(scenario, evaluations, seeds)


def cheapest_per_sku(sku_codes: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row position of each SKU's least `score` (first in ties), SKUs in order of their codes
    (0 .. max code; a SKU without rows gets -1). `sku_codes`: integer SKU code per row."""
    n = int(sku_codes.max()) + 1 if len(sku_codes) else 0
    least = np.full(n, np.inf)
    np.minimum.at(least, sku_codes, score)
    rows = len(score)
    first = np.full(n, rows, dtype=np.int64)
    np.minimum.at(first, sku_codes, np.where(score <= least[sku_codes], np.arange(rows), rows))
    return np.where(first < rows, first, -1)


def cheapest_per_way(evaluations: pd.DataFrame, score: np.ndarray) -> np.ndarray:
    """Row position of the least `score` of each (sku, family, mode, R) (first in ties): the best of
    every way of replenishing, seeds for refinement (a family whose grid point lost narrowly may win
    one step away)."""
    ways = evaluations.groupby(["sku", "family", "mode", "R"], dropna=False, sort=False).ngroup().to_numpy()
    best = cheapest_per_sku(ways, score)
    return best[best >= 0]


def close_rivals(sku_codes: np.ndarray, chosen: np.ndarray, score: np.ndarray, ci: np.ndarray,
                 per_sku: int = 5) -> np.ndarray:
    """Row positions worth more replications: for each SKU, the rows (at most `per_sku`, the closest
    first, ties in row order) whose score interval overlaps the chosen row's (|score - chosen's| <=
    the sum of the two half-widths), and the chosen row itself when it has any. `chosen`: the chosen
    row per SKU code (-1: none). The test is conservative (unpaired half-widths)."""
    pick = chosen[sku_codes]
    has = pick >= 0
    dist = np.where(has, np.abs(score - score[np.where(has, pick, 0)]), np.inf)
    near = has & (np.arange(len(score)) != pick) & (dist <= ci + ci[np.where(has, pick, 0)])
    rows = np.flatnonzero(near)
    if not len(rows):
        return rows
    order = rows[np.lexsort((rows, dist[rows], sku_codes[rows]))]
    codes = sku_codes[order]
    rank = np.arange(len(order)) - np.searchsorted(codes, codes)  # position within its SKU
    close = order[rank < per_sku]
    return np.unique(np.concatenate([close, chosen[np.unique(sku_codes[close])]]))
