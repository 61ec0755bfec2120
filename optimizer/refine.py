"""Helpers for refinement: new candidates one step around given policies (`around`; `neighbours` and
`frontier_neighbours` seed it from Plans), each SKU's price-optimal candidate and close rivals (the
SKU-chunk tasks of tradeoff.search use them with optimizer.prices), and the stopping test.

Growing steps (a pattern search, `_pattern`): besides the one-step moves, a seed that was reached by
a move of k steps in some direction from a row evaluated in an earlier round (and so beat that row)
gets the move of 2k steps on in that direction; the next round, if that one wins, 4k, and so on.
Refine can so walk far from the initial grid and the analytic seeds in a few rounds, and the one-step
moves still settle the last units. Which row led to which is read from the evaluations table: its
`round` column (tradeoff.search writes it), else its row order (rows are appended as they are
evaluated).

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
from optimizer.keys import JointCodes, add_new, shared_codes
from optimizer.plan import Plan
from scenarios.schema import Scenario

_PARAMS = {"base_stock": ("S",), "RS": ("S",), "sS": ("s", "S"), "RsS": ("s", "S"), "rQ": ("s", "Q"),
           "capped_base_stock": ("S", "cap")}


def neighbours(scenario: Scenario, evaluations: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """New candidates (policy columns only) around each chosen policy and around the best candidate of
    each other family/mode/review period of its SKU: every parameter moved one step down and up, both levels of (s, S) moved together (keeping the lot), lot sizes kept at least the
    MOQ and multiples of the pack size; rows already in `evaluations` are left out."""
    return _moves(scenario, evaluations, _seeds(evaluations, plan))


def frontier_neighbours(scenario: Scenario, evaluations: pd.DataFrame, plans) -> pd.DataFrame:
    """New candidates (policy columns only) around the policies chosen at the frontier's levels
    (`plans`: the Plans of optimizer.frontier_plans, or any Plans): each parameter of each chosen
    policy moved one step down and up, as `neighbours` does, so the exchange curve is refined where
    it is drawn and not only at the recommended plan. Rows already in `evaluations` (and repeats
    across levels) are left out."""
    seeds = [policy_part(p.choice) for p in plans if p is not None and len(p.choice)]
    if not seeds:
        return pd.DataFrame(columns=POLICY_COLUMNS)
    return _moves(scenario, evaluations, pd.concat(seeds, ignore_index=True).drop_duplicates(ignore_index=True))


def _around(scenario: Scenario, evaluations: pd.DataFrame, seeds: pd.DataFrame) -> pd.DataFrame:
    """Every one-step move (diagonals included) of every seed policy, valid and not yet evaluated,
    seed by seed in the seeds' order and, per seed, the moves in the order of
    itertools.product((-1, 0, 1), ...). A negative reorder point s is kept when customers can wait
    (a backlog lets the position fall below 0); without a backlog s stops at 0."""
    return add_new(evaluations, _one_step(scenario, seeds))


_NUMBERS = ("s", "S", "Q", "cap", "critical_level")


def _one_step(scenario: Scenario, seeds: pd.DataFrame) -> pd.DataFrame:
    """The valid one-step moves of `_around`, evaluated or not (repeats kept)."""
    from scenarios.schema import dist_mean

    seeds = policy_part(seeds).reset_index(drop=True)
    if not all(seeds[c].dtype == np.float64 for c in _NUMBERS):
        return _one_step_by_frames(scenario, seeds)
    mu_of = {s.id: dist_mean(s.demand) if s.demand is not None else 1.0 for s in scenario.skus}
    mu = seeds["sku"].map(mu_of).to_numpy(dtype=float)
    numbers = {c: seeds[c].to_numpy() for c in _NUMBERS}
    blocks = list(_move_blocks(scenario, seeds, mu, numbers))  # (seed rows, move number, moved columns)
    if not blocks:
        return pd.DataFrame(columns=POLICY_COLUMNS)
    # One take of the seeds' rows, in the order (seed, move), and the moved columns set from arrays:
    # the rows and values a concat of one moved copy of the seeds per block gives, without the copies.
    seed_pos = np.concatenate([rows for rows, _, _ in blocks])
    move_pos = np.concatenate([np.full(len(rows), m) for rows, m, _ in blocks])
    order = np.lexsort((move_pos, seed_pos))
    df = seeds.iloc[seed_pos[order]].reset_index(drop=True)
    for c in _NUMBERS:
        if any(c in values for _, _, values in blocks):
            column = np.concatenate([values.get(c, numbers[c][rows]) for rows, _, values in blocks])
            df[c] = column[order]
    return _valid(scenario, df)


def _move_blocks(scenario: Scenario, seeds: pd.DataFrame, mu: np.ndarray, numbers: dict[str, np.ndarray]):
    """The one-step moves as blocks (seed rows, move number, {moved column: its new float values}),
    a block per family and combination of signs, then (under critical_level allocation) the two
    critical-level moves; move numbers order each seed's moves (itertools.product's order, critical
    levels last). A moved parameter is base + k * step for k in (-1, 0, 1), k = 0 included (-0.0 + 0.0
    is 0.0, as the per-block copies always gave)."""
    pack = scenario.policies.pack_size
    codes, names = pd.factorize(seeds["family"])
    names = names.tolist()
    for family, params in _PARAMS.items():
        rows = np.flatnonzero(codes == names.index(family)) if family in names else np.zeros(0, np.int64)
        if not len(rows):
            continue
        base = {p: numbers[p][rows] for p in params}
        steps = {p: _steps(base[p], mu[rows]) for p in params}
        if "Q" in steps:
            steps["Q"] = np.maximum(steps["Q"], pack)
        # Every combination of -1, 0, +1 step in each parameter (diagonals included: in (S, cap) or
        # (s, S) the better point often lies along a diagonal of the grid).
        signs = [sg for sg in itertools.product((-1, 0, 1), repeat=len(params)) if any(sg)]
        for m, sg in enumerate(signs):
            yield rows, m, {p: base[p] + k * steps[p] for p, k in zip(params, sg)}
    if _rationing(scenario) and len(seeds):
        # The critical level moves on its own axis (not in the diagonals: that would triple the moves).
        crit = numbers["critical_level"]
        step = _steps(crit, mu)
        for m, sign in enumerate((-1, 1)):
            yield np.arange(len(seeds)), 3**6 + m, {"critical_level": crit + sign * step}  # after every family move


def _one_step_by_frames(scenario: Scenario, seeds: pd.DataFrame) -> pd.DataFrame:
    """_one_step for seeds whose numbers are not all float64: one moved copy of the seeds per block,
    concatenated (pandas then decides the columns' types, as it always did)."""
    from scenarios.schema import dist_mean

    pack = scenario.policies.pack_size
    mu_of = {s.id: dist_mean(s.demand) if s.demand is not None else 1.0 for s in scenario.skus}
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
    return _valid(scenario, df)


def _lots(q: np.ndarray, moq: float, pack: float) -> np.ndarray:
    """Lot sizes as moves make them: at least the MOQ (and 1), whole packs; NaN stays NaN."""
    return np.where(np.isnan(q), q, np.maximum(np.ceil(np.maximum(np.maximum(q, moq), 1) / pack) * pack, 1))


def _valid(scenario: Scenario, df: pd.DataFrame) -> pd.DataFrame:
    """Moved policies with their lots rounded (_lots) and the invalid ones dropped: S < 0, s below 0
    without a backlog, cap < 1, a negative critical level, s + Q < 0 for rQ, S <= s for sS / RsS."""
    from optimizer.candidates import _backlog_possible

    s_min = -np.inf if _backlog_possible(scenario) else 0.0
    num = {c: df[c].to_numpy(dtype=float) for c in ("s", "S", "Q", "cap")}
    q = num["Q"]
    if (~np.isnan(q)).any():
        q = _lots(q, scenario.policies.moq, scenario.policies.pack_size)
        df["Q"] = q
    s, S, cap, fam = num["s"], num["S"], num["cap"], df["family"].to_numpy(dtype=object)
    drop = (S < 0) | (s < s_min) | (cap < 1)  # NaN compares false: a missing level is no reason
    drop |= df["critical_level"].to_numpy(dtype=float) < 0
    drop |= (fam == "rQ") & (s + q < 0)  # the replication starts with s + Q on hand
    drop |= np.isin(fam, ("sS", "RsS")) & ~(S > s)
    return df[~drop]


def _pattern(scenario: Scenario, evaluations: pd.DataFrame, seeds: pd.DataFrame) -> pd.DataFrame:
    """Growing steps (a pattern search): for each seed x, a row z evaluated in an earlier round of the
    same way (sku, family, mode, R, critical level) from which x is a move of k steps in one direction
    d (x = z + k d step(z), steps and lot rounding as `_around` makes them, k >= 1). x is the seed
    because it beat z, so d is a direction that paid: the new row is x + 2k d step(x), twice the step
    that led to x. Rounds are the table's `round` column when it has one (tradeoff.search writes it),
    else its row order (rows are appended as they are evaluated); of several such z the one of the
    latest round, then the nearest, then the last leads (rows of x's own round are its siblings,
    moves of the same seed, not its origin). A seed no earlier row moves to (a grid point, an
    analytic seed) gets none; nor does a critical-level move (its own axis). The new rows are valid
    (`_valid`), evaluated or not (`_moves` leaves the evaluated ones out)."""
    from scenarios.schema import dist_mean

    empty = pd.DataFrame(columns=POLICY_COLUMNS)
    if seeds is None or seeds.empty or evaluations is None or evaluations.empty:
        return empty
    pack = float(scenario.policies.pack_size)
    moq = float(scenario.policies.moq)
    sd = policy_part(seeds).drop_duplicates(ignore_index=True)
    n, m = len(evaluations), len(sd)
    if "round" in evaluations.columns and pd.api.types.is_numeric_dtype(evaluations["round"]):
        order = evaluations["round"].to_numpy(dtype=float)
    else:
        order = np.arange(n, dtype=float)
    # one integer per way (sku, family, mode, R, critical level), shared by the table and the seeds
    joint = JointCodes(n + m)
    for c in ("sku", "family", "mode", "R", "critical_level"):
        col = evaluations[c] if c in evaluations.columns else pd.Series(0.0, index=evaluations.index)
        codes, uniq = shared_codes(col, sd[c])
        joint.add(codes + 1, len(uniq) + 1)  # missing (-1) is a value of its own
    ev_ids, sd_ids = joint.ids[:n], joint.ids[n:]
    # the pairs (seed, row of its way): the table's rows sorted by way, a slice per seed
    by_way = np.argsort(ev_ids, kind="stable")
    first = np.searchsorted(ev_ids[by_way], sd_ids, side="left")
    count = np.searchsorted(ev_ids[by_way], sd_ids, side="right") - first
    if not count.sum():
        return empty
    seed = np.repeat(np.arange(m), count)
    z = by_way[np.repeat(first, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)]
    family = sd["family"].to_numpy(dtype=object)
    mu_of = {s.id: dist_mean(s.demand) if s.demand is not None else 1.0 for s in scenario.skus}
    mu = sd["sku"].map(mu_of).to_numpy(dtype=float)[seed]
    used = {p: np.isin(family, [f for f, ps in _PARAMS.items() if p in ps])[seed] for p in ("s", "S", "Q", "cap")}
    xv = {p: sd[p].to_numpy(dtype=float)[seed] for p in used}
    zv = {p: evaluations[p].to_numpy(dtype=float)[z] for p in used}
    # the seed's own row: the last row of its way with its parameters
    same = np.ones(len(seed), dtype=bool)
    for p in used:
        same &= ~used[p] | (xv[p] == zv[p])
    x_pos = np.full(m, -1, dtype=np.int64)
    np.maximum.at(x_pos, seed[same], z[same])
    x_order = np.where(x_pos >= 0, order[np.maximum(x_pos, 0)], -np.inf)
    step_z = {p: _steps(zv[p], mu) if p != "Q" else np.maximum(_steps(zv[p], mu), pack) for p in used}
    k = np.zeros(len(seed))
    for p in used:
        k = np.maximum(k, np.where(used[p], np.abs(xv[p] - zv[p]) / step_z[p], 0.0))
    k = np.rint(k)
    ok = (order[z] < x_order[seed]) & (k >= 1)
    for p in used:  # x must be exactly the move (sign, k) of z
        moved = zv[p] + np.sign(xv[p] - zv[p]) * k * step_z[p]
        if p == "Q":
            moved = _lots(moved, moq, pack)
        ok &= ~used[p] | (moved == xv[p])
    if not ok.any():
        return empty
    rows = np.flatnonzero(ok)
    # per seed: the latest round, then the smallest k, then the last row
    rows = rows[np.lexsort((-z[rows], k[rows], -order[z[rows]], seed[rows]))]
    rows = rows[np.r_[True, seed[rows][1:] != seed[rows][:-1]]]
    new = sd.iloc[seed[rows]].reset_index(drop=True)
    for p in used:
        x = xv[p][rows]
        step = _steps(x, mu[rows]) if p != "Q" else np.maximum(_steps(x, mu[rows]), pack)
        new[p] = np.where(used[p][rows], x + np.sign(x - zv[p][rows]) * 2 * k[rows] * step, x)
    return _valid(scenario, new[POLICY_COLUMNS])


def _moves(scenario: Scenario, evaluations: pd.DataFrame, seeds: pd.DataFrame) -> pd.DataFrame:
    """The one-step moves of the seeds (as `_around` orders them), then their growing steps
    (`_pattern`), valid and not yet evaluated, without repeats."""
    near = _one_step(scenario, seeds)
    far = _pattern(scenario, evaluations, seeds)
    return add_new(evaluations, pd.concat([near, far], ignore_index=True) if len(far) else near)


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
    return _moves(scenario, evaluations, seeds)


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
