"""The initial candidate grid per SKU, seeded by analytic approximations.

For every allowed transport mode, review period and family: reorder / order-up-to levels are quantiles
of demand over the protection period (lead time + review period; lead time, at least 1, under
continuous review) across a ladder of cycle service levels that always holds the newsvendor critical
fractile p/(p+h) and the scenario's target and floors; lot sizes are the EOQ with the fixed cost of an
order including one vehicle, half and double it, and full vehicle loads near it. Lot sizes respect MOQ
and pack size. `policies.candidates` given as explicit lists replaces the grid.

Fill-rate levels. With large lots (full trucks, EOQ of several weeks) even a 50 % cycle service level
fills ~99 % of demand, so a ladder of cycle service levels offers no plan of low FILL RATE and the
exchange curve is flat. When service.metric is fill_rate, the lot families (sS, rQ, RsS) and the
periodic order-up-to families (RS, base_stock with R >= 1) also get the textbook fill-rate reorder
points (Silver, Pyke & Peterson): the smallest s with expected shortage per replenishment cycle
E[(X - s)+] <= (1 - beta) x lot, X the demand over the protection period, for beta over the
frontier levels, the target and the floors. Such s is negative when the lot is large (reorder once a
backlog has built); without a backlog (no customer waits, or waits are expedited) the position never
falls below 0, so s is clamped at 0 there. Each level gets the (mode, review period, family, lot)
ways of lowest analytic logistics cost, as many as the budget allows (per_sku + fill_per_sku rows per
SKU in all, at least one per level).

Analytic seeds (optimizer.seeds). EOQ lots miss optima far from the EOQ (high demand per period
against the fixed cost: the optimum orders almost every period). Every way (family, mode, review
period) also gets the exact optimum of the nearest analytic model on its protection-period demand:
Zheng-Federgruen for (s, S) and (R, s, S), Federgruen-Zheng for (r, Q), the minimiser of the expected
holding and shortage cost (the critical fractile for R <= 1) for base stock and RS; the lot families'
cheapest way (by the model's cost) also gets its seed with the reorder level half a protection-demand
standard deviation lower and higher. The seed lots also join the fill-rate ways. These rows come
after the grid and the fill-rate rows (they do not take from their budget).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special  # not scipy.stats at import: see _stats


from optimizer import seeds
from simulation.metrics import POLICY_COLUMNS as _POLICY
from scenarios.schema import Scenario, Sku, dist_mean, dist_var

POLICY_COLUMNS = list(_POLICY)
BASE_LADDER = (0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)
CAP_MULTIPLIERS = (1.0, 1.25, 1.5, 2.0)  # cap per review, in mean demand per review period


@lru_cache(maxsize=65536)
def _quantiles(mean: float, var: float, levels: tuple[float, ...]) -> tuple[int, ...]:
    """Whole-unit quantiles of a demand total with this mean and variance: Poisson when not
    over-dispersed, else negative binomial by moments (normal for huge means). Up to NORMAL_ABOVE
    units they are read off the CDF table the reorder points share (_cdf_table: the smallest k with
    F(k) >= q, scipy's ppf rule; tests/optimizer/test_candidates.py holds it to scipy's ppf); a level beyond the
    table's end, and larger means, go to scipy's ppf."""
    if mean <= 0:
        return tuple(0 for _ in levels)
    q = np.asarray(levels)
    if mean <= NORMAL_ABOVE:
        head = _head_search(_cdf_head(float(mean), float(var)), q, CDF_MARGIN)
        if head is not None:  # all settled inside the head: whole numbers >= 0
            return tuple(head.tolist())
        table = _cdf_table(float(mean), float(var))
        idx = np.searchsorted(table, q, side="left")
        if not len(idx) or idx.max() < len(table):  # all read off the table: whole numbers >= 0
            return tuple(idx.tolist())
        out = idx.astype(float)
        beyond = out >= len(table)
        out[beyond] = _ppf(mean, var, q[beyond])
    else:
        out = _ppf(mean, var, q)
    return tuple(int(max(0, x)) for x in out)


def _stats():
    """scipy.stats, imported on first use: its import costs seconds of CPU, and only quantiles beyond
    the CDF table and huge means need it (simulation.metrics avoids it for the same reason)."""
    from scipy import stats

    return stats


def _ppf(mean: float, var: float, q: np.ndarray) -> np.ndarray:
    """scipy's quantiles of the demand total by moments (Poisson, negative binomial, normal above 1e6)."""
    stats = _stats()
    if var <= mean * (1 + 1e-9):
        return stats.poisson.ppf(q, mean)
    if mean > 1e6:
        return np.ceil(stats.norm.ppf(q, mean, math.sqrt(var)))
    n = mean * mean / (var - mean)
    return stats.nbinom.ppf(q, n, n / (n + mean))


def _spread(values: tuple[int, ...], n: int) -> list[int]:
    """The distinct quantiles, topped up with whole numbers between (then above) them up to n values:
    low-demand SKUs give few distinct quantiles, and the grid should still offer n levels."""
    out = sorted(set(values))
    if len(out) >= n:
        return out
    lo, hi = out[0], out[-1]
    taken = set(out)
    gaps = [v for v in range(lo, hi + 1) if v not in taken]
    if gaps:
        out = sorted(taken | {gaps[i] for i in _even_picks(len(gaps), min(n - len(out), len(gaps)))})
    extra = hi + 1
    while len(out) < n:
        out.append(extra)
        extra += 1
    return out


@lru_cache(maxsize=4096)  # the picks depend on the two counts alone, which repeat across SKUs
def _even_picks(size: int, n: int) -> tuple[int, ...]:
    """The distinct indices round(linspace(0, size - 1, n)) into a sorted pool of `size` values,
    ascending: n picks spread evenly from the first to the last."""
    return tuple(np.unique(np.round(np.linspace(0, size - 1, n)).astype(int)).tolist())


def critical_fractile(scenario: Scenario, sku: Sku) -> float:
    """p / (p + h): p the expected shortage cost per unit short (reactions weighted), h holding per
    unit per period. The newsvendor's optimal cycle service level."""
    p = seeds.shortage_cost(scenario, sku)
    h = scenario.holding_per_unit_period(sku)
    return p / (p + h) if p + h > 0 else 0.5


def _ladder_extra(scenario: Scenario) -> tuple[float, ...]:
    """The scenario's own cycle service levels every ladder holds: target, SKU floor, class floors."""
    svc = scenario.service
    extra = {x for x in (svc.target, svc.sku_floor) if x is not None} | set(svc.floors.values())
    return tuple(sorted(extra))


@lru_cache(maxsize=4096)  # SKUs of one scenario share few (fractile, n) pairs
def _ladder_of(extra: tuple[float, ...], cf: float, n: int) -> tuple[float, ...]:
    """n service levels spread over the base ladder and the scenario's own (`extra`, _ladder_extra),
    always holding the critical fractile cf."""
    fractile = min(max(cf, 0.01), 0.9999)
    pool = sorted(x for x in set(BASE_LADDER) | set(extra) | {fractile} if 0 < x < 1)
    if n >= len(pool):
        return tuple(pool)
    picked = {pool[i] for i in _even_picks(len(pool), n)} | {fractile}
    return tuple(sorted(picked))


def _lots(scenario: Scenario, sku: Sku, mode, mu: float, n: int) -> list[int]:
    """Lot sizes: EOQ (order cost + one vehicle), x0.5, x2, and full vehicle loads near the EOQ; at
    least the MOQ, multiples of the pack size."""
    h = scenario.holding_per_unit_period(sku)
    K = scenario.costs.order_cost + mode.cost_per_shipment
    eoq = math.sqrt(2 * K * mu / h) if h > 0 and K > 0 else max(mu, 1.0)
    raw = [eoq, eoq / 2, eoq * 2]
    if mode.vehicle_capacity is not None:
        v = mode.vehicle_capacity
        raw += [k * v for k in (1, 2, 3) if eoq / 3 <= k * v <= 3 * eoq]
    pack, moq = scenario.policies.pack_size, scenario.policies.moq
    out = []
    for q in raw:
        q = max(q, moq, 1)
        out.append(int(math.ceil(q / pack - 1e-9) * pack))
    uniq = sorted(set(out), key=lambda q: abs(math.log(q / max(eoq, 1))))
    return sorted(uniq[:n])


def _cdf(k: np.ndarray, mean: float, var: float) -> np.ndarray:
    """CDF at whole k >= 0 of a demand total by moments, as _quantiles: Poisson when not
    over-dispersed, else negative binomial. The ufuncs scipy.stats' poisson.cdf and nbinom.cdf
    evaluate inside the support (scipy 1.17, scipy/stats/_discrete_distns.py: pdtr(floor(k), mu) and
    _nbinom_cdf(floor(k), n, p), clipped to [0, 1] by rv_discrete.cdf), called directly: the same
    numbers without scipy.stats' import and per-call argument handling. Arguments outside the
    distributions' domains (mu < 0; n <= 0 or p outside (0, 1]) go to scipy.stats itself."""
    k = np.floor(np.asarray(k, dtype=float))
    if var <= mean * (1 + 1e-9):
        if not mean >= 0 or not np.all(k >= 0):
            return _stats().poisson.cdf(k, mean)
        return np.clip(special.pdtr(k, mean), 0, 1)
    n = mean * mean / (var - mean)
    p = n / (n + mean)
    if not (n > 0 and 0 < p <= 1) or not np.all(k >= 0):
        return _stats().nbinom.cdf(k, n, p)
    return np.clip(special._ufuncs._nbinom_cdf(k, n, p), 0, 1)


NORMAL_ABOVE = 1e5  # units of protection-period demand above which reorder points use the normal loss


@lru_cache(maxsize=256)  # a SKU's few (mode, review) ways; SKUs come one after another
def _cdf_table(mean: float, var: float) -> np.ndarray:
    """F(k) for whole k = 0 .. mean + 12 sd + 10 of the demand total (mean, var) by moments (_cdf)."""
    top = int(mean + 12 * math.sqrt(max(var, mean)) + 10)
    return _cdf(np.arange(top + 1), mean, var)


@lru_cache(maxsize=256)
def _loss_table(mean: float, var: float) -> np.ndarray:
    """E[(X - r)+] for whole r = 0, 1, ..., X the demand total (mean, var) by moments (Poisson /
    negative binomial; mean > 0): mean - r + sum_{k<r} F(k) (the loss function via the CDF), up to a
    level beyond which it is ~0."""
    return _loss_of(mean, _cdf_table(mean, var))


def _loss_of(mean: float, cdf: np.ndarray) -> np.ndarray:
    """The loss table over len(cdf) + 1 levels from a CDF table (or its head: np.cumsum adds in
    order, so a head's losses are the first entries of the whole table's, bit for bit)."""
    loss = mean - np.arange(len(cdf) + 1) + np.concatenate(([0.0], np.cumsum(cdf)))
    return np.maximum(loss, 0.0)


# The head of the CDF table: most searches (quantiles up to 0.999, fill-rate reorder points) end
# within mean + HEAD_SD sd, and the CDF's special functions are the cost of a table, so the head is
# computed first and the whole table only when it does not settle a search (_head_search;
# benchmarks/initial_candidates.py measures the candidates).
HEAD_SD = 5
# How far past a key the head's last entry must be for the entries after the head to be on the
# same side. CDF: F(k) is non-decreasing; scipy's pdtr / _nbinom_cdf are accurate to ~1e-15, far
# inside 1e-9. Loss: exact arithmetic on the computed F (each in [0, 1]) gives a non-increasing loss;
# the rounding of np.cumsum over N entries is at most ~N^2 x 2^-53 and that of mean - r and the sum
# ~3N x 2^-53 (_loss_margin).
CDF_MARGIN = 1e-9


@lru_cache(maxsize=256)
def _cdf_head(mean: float, var: float) -> np.ndarray:
    """F(k) for whole k = 0 .. mean + HEAD_SD sd + 10 (at most _cdf_table's end): the first entries of
    _cdf_table(mean, var), the same bits (_cdf is elementwise in k)."""
    sd = math.sqrt(max(var, mean))
    top = min(int(mean + HEAD_SD * sd + 10), _table_length(mean, var) - 1)
    return _cdf(np.arange(top + 1), mean, var)


def _table_length(mean: float, var: float) -> int:
    """len(_cdf_table(mean, var)), without building it."""
    return int(mean + 12 * math.sqrt(max(var, mean)) + 10) + 1


def _loss_margin(n: int) -> float:
    """Bound (with room) on how far the rounding can lift a loss table entry of n levels above an
    earlier one: 2 x (n^2 + 3n) x 2^-52."""
    return 2.0 * (float(n) * n + 3.0 * n) * 2.0**-52


def _head_search(head: np.ndarray, keys: np.ndarray, margin: float) -> np.ndarray | None:
    """np.searchsorted(table, keys, side="left") of the whole table whose first entries are `head`,
    or None when the head does not settle it. Settled: the head is non-decreasing (so for every key
    the search's answer is where head >= key switches to true, whatever the rest) and its last entry
    passes every key by `margin` (so every later entry, within margin of a larger one, is >= the key
    too). NaN anywhere (head or keys) fails these comparisons: not settled."""
    keys = np.asarray(keys, dtype=float)
    if not len(keys) or not len(head) or not head[-1] >= keys.max() + margin:
        return None
    if not (head[1:] >= head[:-1]).all():
        return None
    return np.searchsorted(head, keys, side="left")


def _normal_reorder_point(mean: float, var: float, b: float) -> int:
    """Huge means: the smallest whole r with the continuous normal loss sd * L((r - mean) / sd) <= b."""
    sd = math.sqrt(var)
    stats = _stats()
    loss = lambda r: sd * (stats.norm.pdf((r - mean) / sd) - (r - mean) / sd * stats.norm.sf((r - mean) / sd))  # noqa: E731
    lo, hi = mean - b - 1.0, mean + 40 * sd
    while hi - lo > 0.5:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if loss(mid) <= b else (mid, hi)
    return int(math.ceil(hi))


def _reorder_points(ltd_mean: float, ltd_var: float, shortages: np.ndarray) -> np.ndarray:
    """fill_rate_reorder_point for an array of allowed expected shortages per cycle (units)."""
    b = np.maximum(np.asarray(shortages, dtype=float), 0.0)
    if ltd_mean <= 0:
        return np.zeros(len(b), dtype=np.int64)
    out = np.ceil(ltd_mean - b - 1e-9).astype(np.int64)  # r <= 0: E[(X - r)+] = mean - r exactly
    pos = b < ltd_mean
    if pos.any():
        if ltd_mean > NORMAL_ABOVE:
            # The exact loss table has ~mean entries (a billion for a huge Poisson mean): use the
            # normal loss function, which is accurate at these means whatever the dispersion.
            out[pos] = [_normal_reorder_point(ltd_mean, max(ltd_var, ltd_mean), x) for x in b[pos]]
        else:
            keys = -(b[pos] + 1e-12)
            mean, var = float(ltd_mean), float(ltd_var)
            head = _head_search(-_loss_of(mean, _cdf_head(mean, var)), keys, _loss_margin(_table_length(mean, var) + 1))
            if head is not None:  # the first level with loss <= b, inside the head (< the clamp below)
                out[pos] = head
            else:
                loss = _loss_table(mean, var)  # non-increasing in r, ends ~0
                out[pos] = np.minimum(np.searchsorted(-loss, keys, side="left"), len(loss) - 1)
    return out


def fill_rate_reorder_point(ltd_mean: float, ltd_var: float, lot: float, beta: float) -> int:
    """Textbook fill-rate reorder point (Silver, Pyke & Peterson): the smallest whole s such that the
    expected shortage per replenishment cycle, E[(X - s)+] with X the demand over the protection period
    (lead time, plus the review period under periodic review; mean and variance in units, Poisson /
    negative binomial / normal by moments as for the quantiles), is at most (1 - beta) x lot (units per
    replenishment). Negative when the lot alone covers the allowed shortage (reorder once a backlog of
    -s units has built): for s <= 0, E[(X - s)+] = mean - s exactly since X >= 0."""
    return int(_reorder_points(ltd_mean, ltd_var, np.array([(1.0 - beta) * lot]))[0])


def fill_levels(scenario: Scenario) -> tuple[float, ...]:
    """The fill rates candidates are built for when service.metric is fill_rate: the frontier levels,
    the target, the class floors and the SKU floor (strictly between 0 and 1); empty for other metrics
    (the cycle-service-level ladder already serves cycle_service_level)."""
    svc = scenario.service
    if svc.metric != "fill_rate":
        return ()
    pool = set(svc.frontier or ()) | {x for x in (svc.target, svc.sku_floor) if x is not None} | set(svc.floors.values())
    return tuple(sorted(float(x) for x in pool if 0 < x < 1))


def _backlog_possible(scenario: Scenario) -> bool:
    """Whether the inventory position can fall below 0 (some customers wait for stock, not expedited)."""
    return scenario.customer_reaction.wait > 0 and getattr(scenario, "expedite", None) is None


def _undershoot(family: str, R: int, mu: float, var: float) -> float:
    """Mean units by which the position is below s when an (s, S) order is placed, so the order is
    S - s plus this: the stationary excess of one period's demand (E[D^2] / 2E[D]) under continuous
    review, plus half a review period's demand under periodic review; 0 for rQ (whole lots) and RS."""
    if family not in ("sS", "RsS") or mu <= 0:
        return 0.0
    return (var + mu * mu) / (2 * mu) + (mu * (R - 1) / 2 if R >= 1 else 0.0)


def _ways_fixed(scenario: Scenario, sku: Sku, ways: list[tuple], mu: float, var: float) -> tuple[np.ndarray, np.ndarray]:
    """(units per order, cost per period that does not depend on the level), each of shape (W,), of
    the ways (family, mode, R, lot, ...) of delivering fill rates: ordering and vehicles per order (lot
    plus the undershoot of (s, S) orders) over the orders per period (at most one per review),
    transport per unit and pipeline carrying. Elementwise the same floating-point operations, in the
    same order, as the scalar formula max(lot + u, mu R, 1e-9) etc. would make per way."""
    lot = np.array([float(w[3]) + _undershoot(w[0], w[2], mu, var) for w in ways])
    R = np.array([w[2] for w in ways], dtype=np.int64)
    capacity = np.array([w[1].vehicle_capacity or 0 for w in ways], dtype=float)
    per_shipment = np.array([w[1].cost_per_shipment for w in ways], dtype=float)
    per_unit = np.array([w[1].cost_per_unit for w in ways], dtype=float)
    lead = np.array([dist_mean(w[1].lead_time) for w in ways], dtype=float)
    per_order = np.maximum(np.maximum(lot, mu * R), 1e-9)
    orders = mu / per_order
    # one vehicle when the mode has no capacity
    vehicles = np.where(capacity > 0, np.ceil(per_order / np.where(capacity > 0, capacity, 1.0)), 1.0)
    return per_order, (orders * (scenario.costs.order_cost + vehicles * per_shipment) + mu * per_unit
                       + scenario.in_transit_per_unit_period(sku) * mu * lead)


def _way_costs(scenario: Scenario, sku: Sku, per_order: np.ndarray, fixed: np.ndarray, level: np.ndarray,
               ltd_mean: np.ndarray, shortage: np.ndarray) -> np.ndarray:
    """Analytic logistics cost per period (W, L) of W ways at L fill-rate levels: the way's fixed part
    (_ways_fixed) plus carrying + warehousing of the average on hand ~ per order / 2 + level -
    protection demand + expected shortage per cycle (a ranking device only: the simulation gives the
    real numbers). per_order, fixed, ltd_mean: (W,) in units, cost per period, units; level and
    shortage: (W, L) in units."""
    h = scenario.holding_per_unit_period(sku) + scenario.costs.warehousing.per_unit_period
    on_hand = np.maximum(0.0, per_order[:, None] / 2 + level - ltd_mean[:, None] + shortage)
    return fixed[:, None] + h * on_hand


def _way_levels(ways: list[tuple], shortage: np.ndarray, clamp: bool) -> np.ndarray:
    """Fill-rate reorder points (W, L) of the ways (family, mode, R, lot, protection mean, var) for the
    allowed shortages per cycle (W, L), one _reorder_points call per distinct protection-period
    demand (the families and lots of a (mode, R) share it; the points are elementwise)."""
    groups: dict[tuple[float, float], list[int]] = {}
    for w, way in enumerate(ways):
        groups.setdefault((float(way[4]), float(way[5])), []).append(w)
    level = np.empty(shortage.shape, dtype=np.int64)
    for (ltd_mean, ltd_var), idx in groups.items():
        level[idx] = _reorder_points(ltd_mean, ltd_var, shortage[idx].ravel()).reshape(len(idx), -1)
    # S >= 0 (Policy); no backlog: the position never goes below 0
    low = np.array([clamp or way[0] in ("RS", "base_stock") for way in ways])
    level[low] = np.maximum(level[low], 0)
    return level


def _fill_rate_rows(scenario: Scenario, sku: Sku, ways: list[tuple], betas: tuple[float, ...], budget: int) -> list[tuple]:
    """Candidate rows at the fill-rate reorder points, at most `budget` (at least one per level): the
    ways (family, mode, R, lot) ranked per level beta by analytic logistics cost, then taken round
    robin, the best way of every level first, then the second best of every level, and so on."""
    if not betas or not ways or budget <= 0:
        return []
    mu, var = dist_mean(sku.demand), dist_var(sku.demand)
    beta = np.asarray(betas, dtype=float)
    lots = np.array([float(way[3]) for way in ways])
    shortage = (1.0 - beta)[None, :] * lots[:, None]  # (W, L) units per cycle
    level = _way_levels(ways, shortage, not _backlog_possible(scenario))
    per_order, fixed = _ways_fixed(scenario, sku, ways, mu, var)
    costs = _way_costs(scenario, sku, per_order, fixed, level, np.array([float(way[4]) for way in ways]), shortage)
    # order[i]: the ways for level i, cheapest first (ties: the order of `ways`).
    order = np.argsort(costs, axis=0, kind="stable").T.tolist()
    level = level.tolist()
    rows: list[tuple] = []
    seen: set[tuple] = set()  # rows hold the one np.nan object, so equal rows hash and compare equal
    cap = max(budget, len(betas))
    for depth in range(len(ways)):
        for i in range(len(betas)):
            if len(rows) >= cap:
                return rows
            w = order[i][depth]
            family, mode, R, lot = ways[w][:4]
            row = _fill_row(sku.id, family, mode.name, R, lot, level[w][i])
            if row not in seen:
                seen.add(row)
                rows.append(row)
    return rows


def _fill_row(sku_id: str, family: str, mode_name: str, R: int, lot, level: int) -> tuple:
    """The candidate row (sku, family, mode, s, S, Q, R, cap) of a way at a fill-rate reorder level."""
    if family in ("RS", "base_stock"):
        return (sku_id, family, mode_name, np.nan, level, np.nan, R, np.nan)
    if family == "rQ":
        return (sku_id, family, mode_name, level, np.nan, lot, R, np.nan)
    return (sku_id, family, mode_name, level, level + lot, np.nan, R, np.nan)


def _valid_r(family: str, review_periods) -> list[int]:
    return [r for r in review_periods if r >= 1] if family in ("RS", "RsS") else list(review_periods)


class _Grid(NamedTuple):
    """What every SKU's candidates share: the scenario, its (family, mode, R) combinations, grid sizes,
    fill-rate levels, whether a backlog can build, the ladder's own levels, and per mode name the
    lead time's (mean, variance) in periods."""
    scenario: Scenario
    combos: list[tuple]
    n_combo: int
    per_sku: int
    betas: tuple[float, ...]
    fill_per_sku: int
    backlog: bool
    extra: tuple[float, ...]
    lead: dict[str, tuple[float, float]]


def initial_candidates(scenario: Scenario, per_sku: int = 60, fill_per_sku: int | None = None) -> pd.DataFrame:
    """Candidate policies for every SKU (columns sku, family, mode, s, S, Q, R, cap; NaN where a family
    has no such parameter; whole units), about `per_sku` per SKU from the cycle-service-level grid,
    topped up to per_sku + fill_per_sku (fill_per_sku default per_sku // 3; at least one row per level)
    with fill-rate reorder points when service.metric is fill_rate (see fill_levels); from policies.families, modes, review_periods, moq and pack_size, or the explicit
    policies.candidates lists."""
    pol = scenario.policies
    if pol.candidates != "auto":
        return with_critical_levels(scenario, _explicit(scenario))
    modes = [scenario.mode(m) for m in scenario.allowed_modes()]
    combos = [(f, m, r) for f in pol.families for m in modes for r in _valid_r(f, pol.review_periods)]
    grid = _Grid(scenario, combos, max(2, int(round(per_sku / max(len(combos), 1)))), per_sku, fill_levels(scenario),
                 per_sku // 3 if fill_per_sku is None else fill_per_sku, _backlog_possible(scenario),
                 _ladder_extra(scenario), {m.name: (dist_mean(m.lead_time), dist_var(m.lead_time)) for m in modes})
    rows: list[tuple] = []
    for sku in scenario.skus:
        rows += _sku_rows(grid, sku)
    return with_critical_levels(scenario, _frame(rows))


def _sku_rows(g: _Grid, sku: Sku) -> list[tuple]:
    """One SKU's candidate rows: the grid of every combination, the fill-rate rows, then the seeds."""
    if sku.demand is None:
        raise ValueError(f"SKU {sku.id} has no demand model (load the scenario through scenarios.load)")
    scenario = g.scenario
    rows: list[tuple] = []
    ways: list[tuple] = []  # (family, mode, R, lot, protection-demand mean, var) for fill-rate levels
    seeded: list[tuple] = []  # the analytic optima (optimizer.seeds), added after the fill-rate rows
    optima: dict[tuple[str, int], dict | None] = {}  # per (mode, R): shared by the families
    hedge: dict[str, tuple] = {}  # lot family -> (model cost, mode, R, spread) of its cheapest way
    lots_of: dict[tuple[str, int], list[int]] = {}  # per (mode, count): the lots depend on neither R nor family
    mu, var = dist_mean(sku.demand), dist_var(sku.demand)
    cf = float(critical_fractile(scenario, sku))
    for family, mode, R in g.combos:
        lt_mean, lt_var = g.lead[mode.name]
        P = max(lt_mean, 1.0) if R == 0 else lt_mean + R
        ltd_mean, ltd_var = mu * P, var * P + mu * mu * lt_var
        way_seeds: list[tuple] = []
        if family != "capped_base_stock":
            if (mode.name, R) not in optima:
                optima[mode.name, R] = seeds.way_optimum(scenario, sku, mode, R)
            way_seeds = seeds.seed_rows(scenario, sku, family, mode, R, optima[mode.name, R], g.backlog)
            seeded += way_seeds
            if family in ("sS", "RsS", "rQ"):
                cost = seeds.way_cost(scenario, sku, family, mode, optima[mode.name, R])
                if cost < hedge.get(family, (math.inf,))[0]:
                    hedge[family] = (cost, mode, R, 0.5 * math.sqrt(max(ltd_var, 0.0)))
        if family in ("base_stock", "RS"):
            if R >= 1:  # one replenishment per review: the lot is the demand of a review period
                ways.append((family, mode, R, mu * R, ltd_mean, ltd_var))
            rows += _base_stock_rows(g, sku.id, family, mode.name, R, cf, ltd_mean, ltd_var)
        elif family in ("sS", "RsS", "rQ"):
            n_lots = 3 if g.n_combo >= 9 else 2
            if (mode.name, n_lots) not in lots_of:
                lots_of[mode.name, n_lots] = _lots(scenario, sku, mode, mu, n_lots)
            lots = lots_of[mode.name, n_lots]
            ways += [(family, mode, R, Q, ltd_mean, ltd_var) for Q in lots]
            if way_seeds:  # the analytic optimum's lot at the fill-rate levels too
                exact = int(way_seeds[0][5]) if family == "rQ" else int(way_seeds[0][4] - way_seeds[0][3])
                if exact not in lots:
                    ways.append((family, mode, R, exact, ltd_mean, ltd_var))
            rows += _lot_rows(g, sku.id, family, mode.name, R, cf, ltd_mean, ltd_var, lots)
        elif family == "capped_base_stock":
            rows += _capped_rows(g, sku.id, mode.name, R, cf, mu, ltd_mean, ltd_var)
    if g.fill_per_sku > 0:  # the fill-rate rows top the SKU up to per_sku + fill_per_sku
        budget = max(len(g.betas), g.per_sku + g.fill_per_sku - len(rows))
        rows += _fill_rate_rows(scenario, sku, ways, g.betas, budget)
    for family, (_, mode, R, spread) in hedge.items():  # around the most promising way's seed
        seeded += seeds.seed_rows(scenario, sku, family, mode, R, optima[mode.name, R], g.backlog, spread)
    return rows + seeded


def _base_stock_rows(g: _Grid, sku_id: str, family: str, mode_name: str, R: int, cf: float, ltd_mean: float,
                     ltd_var: float) -> list[tuple]:
    """Base stock / RS rows: order-up-to levels S at the ladder's quantiles of protection demand."""
    nan = np.nan
    levels = _spread(_quantiles(ltd_mean, ltd_var, _ladder_of(g.extra, cf, g.n_combo)), g.n_combo)
    return [(sku_id, family, mode_name, nan, S, nan, R, nan) for S in levels]


def _lot_rows(g: _Grid, sku_id: str, family: str, mode_name: str, R: int, cf: float, ltd_mean: float, ltd_var: float,
              lots: list[int]) -> list[tuple]:
    """sS / RsS / rQ rows: every reorder level s (the ladder's quantiles) with every lot."""
    nan = np.nan
    n_s = max(2, g.n_combo // len(lots))
    levels = _spread(_quantiles(ltd_mean, ltd_var, _ladder_of(g.extra, cf, n_s)), n_s)
    if family == "rQ":
        return [(sku_id, family, mode_name, s, nan, Q, R, nan) for s in levels for Q in lots]
    return [(sku_id, family, mode_name, s, s + Q, nan, R, nan) for s in levels for Q in lots]


def _capped_rows(g: _Grid, sku_id: str, mode_name: str, R: int, cf: float, mu: float, ltd_mean: float,
                 ltd_var: float) -> list[tuple]:
    """Capped base stock rows: caps per review in multiples of the review period's mean demand
    (CAP_MULTIPLIERS), each with every S."""
    nan = np.nan
    per_review = mu * max(R, 1)
    caps = sorted({max(1, int(math.ceil(k * per_review))) for k in CAP_MULTIPLIERS})
    caps = caps[:: max(1, len(caps) // max(1, g.n_combo // 3))][:4]
    n_S = max(2, g.n_combo // len(caps))
    # A cap slows the refill, so the useful S sit higher than plain base stock's.
    levels = _spread(_quantiles(ltd_mean * 1.1, ltd_var * 1.5, _ladder_of(g.extra, cf, n_S)), n_S)
    return [(sku_id, "capped_base_stock", mode_name, nan, S, nan, R, cap) for S in levels for cap in caps]


def policy_part(table: pd.DataFrame) -> pd.DataFrame:
    """The policy columns of a candidates table (POLICY_COLUMNS); a table without critical levels
    (one made before tiers, or by hand) has them all 0."""
    if "critical_level" not in table.columns:
        table = table.assign(critical_level=0.0)
    return table[POLICY_COLUMNS]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Policy rows (sku, family, mode, s, S, Q, R, cap) as a policies table, critical level 0."""
    df = pd.DataFrame(rows, columns=POLICY_COLUMNS[:-1])
    for c in ("s", "S", "Q", "cap"):
        df[c] = df[c].astype(float)
    df["R"] = df["R"].astype(np.int64)
    df["critical_level"] = 0.0
    return df.drop_duplicates(ignore_index=True)


# Critical levels tried first under critical_level allocation, as shares of each policy's order-up-to
# level (S, or s + Q): refine then walks them one step at a time (optimizer.refine).
CRITICAL_SHARES = (0.0, 0.15, 0.3)


def with_critical_levels(scenario: Scenario, table: pd.DataFrame) -> pd.DataFrame:
    """Every policy of `table` at each critical level of CRITICAL_SHARES under critical_level
    allocation (docs/tiers.md); the table as it is under any other rule."""
    if scenario.customer_tiers is None or scenario.customer_tiers.allocation != "critical_level" or table.empty:
        return table
    top = table["S"].where(table["S"].notna(), table["s"] + table["Q"]).to_numpy(dtype=float)
    parts = [table.assign(critical_level=np.floor(np.maximum(np.nan_to_num(top), 0.0) * share + 0.5))
             for share in CRITICAL_SHARES]
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def _explicit(scenario: Scenario) -> pd.DataFrame:
    """policies.candidates: each listed parameter set for every SKU and allowed mode; R from the entry,
    else every review period the family allows. Values are rounded to whole units (half up)."""
    whole = lambda x: np.nan if x is None else float(math.floor(float(x) + 0.5))  # noqa: E731
    rows = []
    for family, entries in scenario.policies.candidates.items():
        for e in entries:
            Rs = [int(e["R"])] if "R" in e else _valid_r(family, scenario.policies.review_periods)
            for sku in scenario.skus:
                for mode in scenario.allowed_modes():
                    for R in Rs:
                        rows.append((sku.id, family, mode, whole(e.get("s")), whole(e.get("S")),
                                     whole(e.get("Q")), R, whole(e.get("cap"))))
    return _frame(rows)


def _least_logistics(table: pd.DataFrame) -> pd.DataFrame:
    """Each SKU's row of least logistics cost (cost_total - cost_shortage; the first in ties, NaN
    last), SKUs in order of that cost, with only the columns aimed_at_levels reads: row positions
    found on the cost alone, so the table's other columns are neither sorted nor copied."""
    logistics = table["cost_total"].to_numpy(float) - table["cost_shortage"].to_numpy(float)
    order = np.argsort(logistics, kind="stable")  # as sort_values(kind="stable"): NaN last, ties in row order
    first = order[~table["sku"].take(order).duplicated().to_numpy()]
    return table[["sku", "family", "mode", "s", "S", "Q", "R", "fill_rate"]].iloc[first]


AIMED_GAP = 0.005  # levels this far below a SKU's least-logistics candidate get candidates of their own


def aimed_at_levels(scenario: Scenario, table: pd.DataFrame) -> pd.DataFrame:
    """Candidates aimed at the fill-rate levels below each SKU's cheapest way of replenishing
    (issue 15, point 1): for the SKU's candidate of least logistics cost (cost_total - cost_shortage)
    in the evaluated `table`, the same family, mode, review period and lot at the fill-rate reorder
    point (fill_rate_reorder_point) of every level of fill_levels more than AIMED_GAP below its
    achieved fill rate. Without these the low levels of the exchange curve all come back as the
    least-logistics plan, which serves more than they ask (its lot is rarely on the grid of levels).
    Policies already in `table` are left out; empty unless service.metric is fill_rate."""
    from optimizer.keys import add_new

    betas = np.array(fill_levels(scenario))
    if not len(betas) or table.empty or scenario.policies.candidates != "auto":
        return table.iloc[0:0][POLICY_COLUMNS]
    best = _least_logistics(table)
    by_id = {s.id: s for s in scenario.skus}
    rows: list[tuple] = []
    for r in best.itertuples(index=False):
        wanted = tuple(float(b) for b in betas if b < float(r.fill_rate) - AIMED_GAP)
        sku = by_id.get(r.sku)
        if not wanted or sku is None or sku.demand is None or r.family == "capped_base_stock":
            continue
        mode = scenario.mode(r.mode)
        R = int(r.R)
        mu, var = dist_mean(sku.demand), dist_var(sku.demand)
        lt_mean, lt_var = dist_mean(mode.lead_time), dist_var(mode.lead_time)
        P = max(lt_mean, 1.0) if R == 0 else lt_mean + R
        if r.family in ("sS", "RsS"):
            lot = float(r.S) - float(r.s)
        elif r.family == "rQ":
            lot = float(r.Q)
        else:
            lot = mu * max(R, 1)
        way = (r.family, mode, R, lot, mu * P, var * P + mu * mu * lt_var)
        rows += _fill_rate_rows(scenario, sku, [way], wanted, len(wanted))
    if not rows:
        return table.iloc[0:0][POLICY_COLUMNS]
    return add_new(table, _frame(rows))
