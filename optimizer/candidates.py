"""The initial candidate grid per SKU, seeded by analytic approximations.

For every allowed transport mode, review period and family: reorder / order-up-to levels are quantiles
of demand over the protection period (lead time + review period; lead time, at least 1, under
continuous review) across a ladder of cycle service levels that always holds the newsvendor critical
fractile p/(p+h) and the scenario's target and floors; lot sizes are the EOQ with the fixed cost of an
order including one vehicle, half and double it, and full vehicle loads near it. Lot sizes respect MOQ
and pack size. `policies.candidates` given as explicit lists replaces the grid.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from scenarios.schema import Scenario, Sku, dist_mean, dist_var

POLICY_COLUMNS = ["sku", "family", "mode", "s", "S", "Q", "R", "cap"]
BASE_LADDER = (0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)
CAP_MULTIPLIERS = (1.0, 1.25, 1.5, 2.0)  # cap per review, in mean demand per review period


@lru_cache(maxsize=65536)
def _quantiles(mean: float, var: float, levels: tuple[float, ...]) -> tuple[int, ...]:
    """Whole-unit quantiles of a demand total with this mean and variance: Poisson when not
    over-dispersed, else negative binomial by moments (normal for huge means)."""
    if mean <= 0:
        return tuple(0 for _ in levels)
    q = np.asarray(levels)
    if var <= mean * (1 + 1e-9):
        out = stats.poisson.ppf(q, mean)
    elif mean > 1e6:
        out = np.ceil(stats.norm.ppf(q, mean, math.sqrt(var)))
    else:
        n = mean * mean / (var - mean)
        out = stats.nbinom.ppf(q, n, n / (n + mean))
    return tuple(int(max(0, x)) for x in out)


def _spread(values: tuple[int, ...], n: int) -> list[int]:
    """The distinct quantiles, topped up with whole numbers between (then above) them up to n values:
    low-demand SKUs give few distinct quantiles, and the grid should still offer n levels."""
    out = sorted(set(values))
    if len(out) >= n:
        return out
    lo, hi = out[0], out[-1]
    gaps = [v for v in range(lo, hi + 1) if v not in out]
    if gaps:
        idx = np.unique(np.round(np.linspace(0, len(gaps) - 1, min(n - len(out), len(gaps)))).astype(int))
        out = sorted(set(out) | {gaps[i] for i in idx})
    extra = hi + 1
    while len(out) < n:
        out.append(extra)
        extra += 1
    return out


def critical_fractile(scenario: Scenario, sku: Sku) -> float:
    """p / (p + h): p the expected shortage cost per unit short (reactions weighted), h holding per
    unit per period. The newsvendor's optimal cycle service level."""
    c, r = scenario.costs, scenario.customer_reaction
    p = (r.wait * (c.backorder_per_unit + c.backorder_per_unit_period)
         + r.substitute * scenario.substitution_per_unit(sku) + r.lost_sale * scenario.lost_sale_per_unit(sku))
    h = scenario.holding_per_unit_period(sku)
    return p / (p + h) if p + h > 0 else 0.5


def _ladder(scenario: Scenario, cf: float, n: int) -> tuple[float, ...]:
    """n service levels spread over the base ladder, always holding the critical fractile."""
    svc = scenario.service
    pool = set(BASE_LADDER) | {x for x in (svc.target, svc.sku_floor) if x is not None} | set(svc.floors.values())
    pool = sorted(x for x in pool | {min(max(cf, 0.01), 0.9999)} if 0 < x < 1)
    if n >= len(pool):
        return tuple(pool)
    idx = np.unique(np.round(np.linspace(0, len(pool) - 1, n)).astype(int))
    picked = {pool[i] for i in idx} | {min(max(cf, 0.01), 0.9999)}
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


def _valid_r(family: str, review_periods) -> list[int]:
    return [r for r in review_periods if r >= 1] if family in ("RS", "RsS") else list(review_periods)


def initial_candidates(scenario: Scenario, per_sku: int = 60) -> pd.DataFrame:
    """Candidate policies for every SKU (columns sku, family, mode, s, S, Q, R, cap; NaN where a family
    has no such parameter; whole units), about `per_sku` per SKU, from policies.families, modes,
    review_periods, moq and pack_size, or the explicit policies.candidates lists."""
    pol = scenario.policies
    if pol.candidates != "auto":
        return _explicit(scenario)
    modes = [scenario.mode(m) for m in scenario.allowed_modes()]
    combos = [(f, m, r) for f in pol.families for m in modes for r in _valid_r(f, pol.review_periods)]
    n_combo = max(2, int(round(per_sku / max(len(combos), 1))))
    rows: list[tuple] = []
    for sku in scenario.skus:
        if sku.demand is None:
            raise ValueError(f"SKU {sku.id} has no demand model (load the scenario through scenarios.load)")
        mu, var = dist_mean(sku.demand), dist_var(sku.demand)
        cf = critical_fractile(scenario, sku)
        for family, mode, R in combos:
            lt_mean, lt_var = dist_mean(mode.lead_time), dist_var(mode.lead_time)
            P = max(lt_mean, 1.0) if R == 0 else lt_mean + R
            ltd_mean, ltd_var = mu * P, var * P + mu * mu * lt_var
            if family in ("base_stock", "RS"):
                for S in _spread(_quantiles(ltd_mean, ltd_var, _ladder(scenario, cf, n_combo)), n_combo):
                    rows.append((sku.id, family, mode.name, np.nan, S, np.nan, R, np.nan))
            elif family in ("sS", "RsS", "rQ"):
                lots = _lots(scenario, sku, mode, mu, 3 if n_combo >= 9 else 2)
                n_s = max(2, n_combo // len(lots))
                for s in _spread(_quantiles(ltd_mean, ltd_var, _ladder(scenario, cf, n_s)), n_s):
                    for Q in lots:
                        if family == "rQ":
                            rows.append((sku.id, family, mode.name, s, np.nan, Q, R, np.nan))
                        else:
                            rows.append((sku.id, family, mode.name, s, s + Q, np.nan, R, np.nan))
            elif family == "capped_base_stock":
                per_review = mu * max(R, 1)
                caps = sorted({max(1, int(math.ceil(k * per_review))) for k in CAP_MULTIPLIERS})
                caps = caps[:: max(1, len(caps) // max(1, n_combo // 3))][:4]
                n_S = max(2, n_combo // len(caps))
                # A cap slows the refill, so the useful S sit higher than plain base stock's.
                for S in _spread(_quantiles(ltd_mean * 1.1, ltd_var * 1.5, _ladder(scenario, cf, n_S)), n_S):
                    for cap in caps:
                        rows.append((sku.id, family, mode.name, np.nan, S, np.nan, R, cap))
    return _frame(rows)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=POLICY_COLUMNS)
    for c in ("s", "S", "Q", "cap"):
        df[c] = df[c].astype(float)
    df["R"] = df["R"].astype(np.int64)
    return df.drop_duplicates(ignore_index=True)


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
