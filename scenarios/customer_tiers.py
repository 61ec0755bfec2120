"""Customer tiers from the sales history's `customer` column (docs/tiers.md, docs/demand-from-history.md).

When the scenario has `customer_tiers` whose tiers give no `share`, the customers of the history
are ranked by annual spend over all SKUs (units x the SKU's price, scaled to a year by
`horizon.periods_per_year` / the history's number of periods) and cut into tiers by each tier's
`spend_share`, the cumulative share of annual spend the tiers down to it cover (every tier but the
last gives one; the last takes the rest). As in ABC, a customer goes to the first tier whose cut-off
is above the cumulative share of the customers ranked before it, so the top customer is always in
the top tier. Without any `spend_share`, exactly three tiers take `service.abc`'s A and B cut-offs
(0.80 / 0.95 by default); other numbers of tiers are refused.

Each SKU without an explicit `tier_shares` then gets the shares of its units bought by each tier's
customers (0 for a tier that bought none of it). `customer_ranking(scenario)` gives the ranking for
the report: customer, annual_spend, cumulative_share, tier.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from scenarios.errors import Problem, ScenarioError, show
from scenarios.schema import Scenario, freeze

if TYPE_CHECKING:  # scenarios.history imports this module
    from scenarios.history import History

RANKING_COLUMNS = ("customer", "annual_spend", "cumulative_share", "tier")
SHARE_EPS = 1e-12  # cumulative shares this close to a cut-off count as on it
MAX_SKU_PROBLEMS = 20  # then one line says how many more SKUs share the problem


def tiers_from_history(scenario: Scenario) -> bool:
    """True when the scenario's tiers take their shares from the history's customer column:
    it has `customer_tiers` and no tier gives a `share`."""
    ct = getattr(scenario, "customer_tiers", None)
    return ct is not None and all(t.share is None for t in ct.tiers)


def _needs_shares(scenario: Scenario) -> list[int]:
    """Indices of the SKUs whose tier_shares must come from the history."""
    if not tiers_from_history(scenario):
        return []
    return [i for i, s in enumerate(scenario.skus) if s.tier_shares is None]


def spend_cutoffs(scenario: Scenario, file: str) -> tuple[tuple[float, ...], list[Problem]]:
    """The cumulative spend cut-offs of every tier but the last (rising, below 1), and the problems
    that leave them unknown (no spend_share on a scenario with other than 3 tiers). Empty, without
    problems, when the tiers are cut by min_annual_spend thresholds instead."""
    tiers = scenario.customer_tiers.tiers
    if tiers[0].min_annual_spend is not None:
        return (), []
    given = [t.spend_share for t in tiers[:-1]]
    if all(x is not None for x in given):
        return tuple(float(x) for x in given), []
    if len(tiers) == 3:
        abc = scenario.service.abc
        return (float(abc.A), float(abc.B)), []
    return (), [Problem(file, f"customer_tiers.tiers[{i}].spend_share",
                        f"missing: tiers are cut from the history's customers by cumulative share of annual spend; "
                        f"give spend_share on every tier but the last (only 3 tiers default to service.abc's A and "
                        f"B cut-offs), or give every tier a share")
                for i in range(len(tiers) - 1)]


def rank_customers(units: pd.DataFrame, prices: dict[str, float], scale: float, cutoffs: tuple[float, ...],
                   names: tuple[str, ...], thresholds: tuple[float, ...] = ()) -> pd.DataFrame:
    """The ranking (RANKING_COLUMNS, largest annual spend first, ties by customer id) of the
    customers in `units` (columns sku, customer, quantity; one row per pair or more). `scale`
    turns the history's total into a year (periods_per_year / periods of the history). With
    `thresholds` (each tier's least annual spend but the last's, falling) a customer goes to the
    first tier whose threshold its annual spend reaches, instead of by the cumulative `cutoffs`."""
    spend = (units["quantity"].to_numpy(dtype=float) * units["sku"].map(prices).to_numpy(dtype=float))
    per = pd.Series(spend, index=units["customer"].to_numpy()).groupby(level=0).sum()
    order = sorted(per.index, key=lambda c: (-per[c], c))
    amount = per.reindex(order).to_numpy(dtype=float)  # over the history; shares do not need the scale
    total = float(amount.sum())
    cum = np.cumsum(amount)
    before = np.concatenate(([0.0], cum[:-1])) / total if total > 0 else np.zeros(len(amount))
    # a share before it equal to a cut-off (up to rounding) has reached it: the customer goes below
    tier_idx = np.searchsorted(np.asarray(cutoffs, dtype=float), before + SHARE_EPS, side="right")
    if thresholds:
        yearly = amount * scale
        tier_idx = np.array([next((k for k, t in enumerate(thresholds) if y >= t), len(thresholds)) for y in yearly],
                            dtype=np.int64)
    return pd.DataFrame({
        "customer": pd.Series(order, dtype=object),
        "annual_spend": amount * scale,
        "cumulative_share": cum / total if total > 0 else np.zeros(len(amount)),
        "tier": pd.Series([names[k] for k in tier_idx], dtype=object),
    }, columns=list(RANKING_COLUMNS))


def sku_tier_shares(units: pd.DataFrame, ranking: pd.DataFrame, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per SKU with units: {tier: its units bought by the tier's customers / all its units}, every
    tier named (0 for a tier that bought none)."""
    tier_of = dict(zip(ranking["customer"], ranking["tier"]))
    frame = pd.DataFrame({"sku": units["sku"].to_numpy(), "tier": units["customer"].map(tier_of).to_numpy(),
                          "q": units["quantity"].to_numpy(dtype=float)})
    table = frame.pivot_table(index="sku", columns="tier", values="q", aggfunc="sum", fill_value=0.0)
    table = table.reindex(columns=list(names), fill_value=0.0)
    out: dict[str, dict[str, float]] = {}
    for sku, row in table.iterrows():
        total = float(row.sum())
        if total > 0:
            out[sku] = {name: float(row[name]) / total for name in names}
    return out


def _ranking_of(scenario: Scenario, hist: "History", file: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    cutoffs, problems = spend_cutoffs(scenario, file)
    if problems:
        return None, problems
    prices = {s.id: float(s.price) for s in scenario.skus}
    scale = float(scenario.horizon.periods_per_year) / max(hist.periods, 1)
    tiers = scenario.customer_tiers.tiers
    thresholds = tuple(float(t.min_annual_spend) for t in tiers[:-1]) if tiers[0].min_annual_spend is not None else ()
    return rank_customers(hist.customer_units, prices, scale, cutoffs, scenario.customer_tiers.names(), thresholds), []


def tier_problems_and_shares(scenario: Scenario, hist: "History", history_name: str, file: str,
                             partial: bool = False) -> tuple[dict[int, dict[str, float]], list[Problem]]:
    """The tier_shares to set, by SKU index, and the problems that leave some unknown (`file`: the
    scenario file's name; `history_name`: the CSV's). `partial`: the history has bad rows (already
    reported), so a SKU without units is not reported again."""
    need = _needs_shares(scenario)
    if not need:
        return {}, []
    problems: list[Problem] = []
    if hist.customer_units is None:
        for i in need[:MAX_SKU_PROBLEMS]:
            problems.append(Problem(file, f"skus[{i}].tier_shares", f"missing (customer_tiers.tiers have no share and "
                                    f"{history_name} has no customer column to take them from: give every tier a "
                                    "share, the SKU its tier_shares, or the history a customer column)"))
        if len(need) > MAX_SKU_PROBLEMS:
            problems.append(Problem(file, "skus", f"... and {len(need) - MAX_SKU_PROBLEMS} more SKUs without tier_shares"))
        return {}, problems
    ranking, problems = _ranking_of(scenario, hist, file)
    if ranking is None:
        return {}, problems
    shares = sku_tier_shares(hist.customer_units, ranking, scenario.customer_tiers.names())
    out: dict[int, dict[str, float]] = {}
    missing = []
    names = scenario.customer_tiers.names()
    for i in need:
        sku = scenario.skus[i]
        x = hist.series.get(sku.id)
        if sku.id in shares:
            out[i] = shares[sku.id]
        elif sku.demand is None and x is not None and not (x > 0).any():
            # rows but no sale: demand 0 (scenarios.history), so the shares never act; equal ones
            # keep the SKU complete instead of refusing the scenario
            out[i] = {name: 1.0 / len(names) for name in names}
        else:
            missing.append(i)
    if partial:
        missing = []
    for i in missing[:MAX_SKU_PROBLEMS]:
        problems.append(Problem(file, f"skus[{i}].tier_shares", f"missing, and {history_name} has no units of SKU "
                                f"{show(scenario.skus[i].id)} bought by a customer to take them from (give tier_shares)"))
    if len(missing) > MAX_SKU_PROBLEMS:
        problems.append(Problem(file, "skus", f"... and {len(missing) - MAX_SKU_PROBLEMS} more SKUs without units "
                                "in the history and without tier_shares"))
    return out, problems


def sku_tier_series(periods_frame: pd.DataFrame, ranking: pd.DataFrame, names: tuple[str, ...],
                    periods: int) -> dict[str, np.ndarray]:
    """Per SKU: its units per period bought by each tier's customers, float64[K, periods] (rows in
    `names` order; periods_frame: columns sku, customer, t, quantity)."""
    tier_of = {c: names.index(t) for c, t in zip(ranking["customer"], ranking["tier"])}
    k = periods_frame["customer"].map(tier_of).to_numpy(dtype=np.int64)
    t = periods_frame["t"].to_numpy(dtype=np.int64)
    q = periods_frame["quantity"].to_numpy(dtype=float)
    out: dict[str, np.ndarray] = {}
    for sku, rows in periods_frame.groupby("sku", sort=True).indices.items():
        x = np.zeros((len(names), periods))
        np.add.at(x, (k[rows], t[rows]), q[rows])
        out[sku] = x
    return out


def tier_demand_from_history(scenario: Scenario, hist: "History", fit: Callable[[np.ndarray], object]
                             ) -> dict[int, dict[str, object]]:
    """The tier_demand to set, by SKU index: each tier's own demand model, `fit` (the history's rule
    for a SKU's series) applied to the units the tier's customers bought per period, for every SKU
    whose demand comes from the history, when the tiers come from the history and have their own
    demand (customer_tiers.demand own). A SKU without sales keeps none (it has demand 0)."""
    ct = scenario.customer_tiers
    if not tiers_from_history(scenario) or ct.demand != "own" or hist.customer_periods is None:
        return {}
    todo = [i for i, s in enumerate(scenario.skus) if s.demand is None and s.tier_demand is None]
    if not todo:
        return {}
    ranking, problems = _ranking_of(scenario, hist, "<scenario>")
    if ranking is None:  # tier_problems_and_shares reports the same problems first
        return {}
    names = ct.names()
    series = sku_tier_series(hist.customer_periods, ranking, names, hist.periods)
    out: dict[int, dict[str, object]] = {}
    for i in todo:
        x = series.get(scenario.skus[i].id)
        if x is not None and (x > 0).any():
            out[i] = {name: fit(x[k]) for k, name in enumerate(names)}
    return out


def with_sku_field(scenario: Scenario, field: str, values: dict[int, dict]) -> Scenario:
    """The scenario with the SKU mapping `field` (tier_shares, tier_demand) set on the SKUs of
    `values`, by SKU index (the others untouched)."""
    if not values:
        return scenario
    skus = tuple(s.model_copy(update={field: freeze(dict(values[i]))}) if i in values else s
                 for i, s in enumerate(scenario.skus))
    return scenario.model_copy(update={"skus": skus})


def customer_ranking(scenario: Scenario, csv_path: Path | None = None, file: str = "<scenario>") -> pd.DataFrame | None:
    """For the report: which customer went to which tier, largest annual spend first (RANKING_COLUMNS:
    customer, annual_spend in currency per year, cumulative_share of all customers' spend with this
    customer included, tier). None when the tiers do not come from the history (the scenario has
    no customer_tiers, or its tiers give shares, or there is no history or it has no customer
    column). Raises ScenarioError when the tiers' spend cut-offs are unknown."""
    from scenarios.history import read_history

    path = csv_path if csv_path is not None else scenario.demand_history_csv
    if path is None or not tiers_from_history(scenario):
        return None
    hist = read_history(Path(path), scenario, file)
    if hist.customer_units is None:
        return None
    ranking, problems = _ranking_of(scenario, hist, file)
    if problems:
        raise ScenarioError(problems)
    return ranking
