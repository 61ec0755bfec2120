"""ABC classes: each SKU's own `class`, or A/B/C by cumulative annual demand value."""

from __future__ import annotations

import weakref

from scenarios.schema import Scenario, dist_mean


def annual_demand_value(scenario: Scenario) -> dict[str, float]:
    """Annual demand value per SKU id: mean demand per period x periods per year x unit cost."""
    ppy = scenario.horizon.periods_per_year
    return {
        sku.id: (dist_mean(sku.demand) if sku.demand is not None else 0.0) * ppy * sku.unit_cost
        for sku in scenario.skus
    }


# sku_classes of the scenarios alive, by id(): a run asks for them several times (chunks, the
# selection, the report) and a scenario is frozen, so they cannot change. The weak reference makes
# an entry match only its own scenario (an id is reused once its object is gone) and drops it then.
_CLASSES: dict[int, tuple[weakref.ref, dict[str, str]]] = {}


def sku_classes(scenario: Scenario) -> dict[str, str]:
    """Class per SKU id. A SKU with `class` keeps it; the others are ranked by annual demand value
    (highest first, ties by id) and get A while the cumulative share of value before them is below
    `service.abc.A`, B while below `service.abc.B`, else C (so the top SKU is always A).
    A new dict on every call (the caller may change it); computed once per scenario object."""
    key = id(scenario)
    entry = _CLASSES.get(key)
    if entry is None or entry[0]() is not scenario:
        entry = (weakref.ref(scenario, lambda ref: _forget(key, ref)), _classify(scenario))
        _CLASSES[key] = entry
    return dict(entry[1])


def _forget(key: int, ref: weakref.ref) -> None:
    """Drop the entry of a scenario that is gone (unless a newer scenario holds its id already)."""
    entry = _CLASSES.get(key)
    if entry is not None and entry[0] is ref:
        _CLASSES.pop(key, None)


def _classify(scenario: Scenario) -> dict[str, str]:
    value = annual_demand_value(scenario)
    unclassed = [s.id for s in scenario.skus if s.class_ is None]
    total = sum(value[i] for i in unclassed)
    classes = {s.id: s.class_ for s in scenario.skus if s.class_ is not None}
    cum = 0.0
    for sku_id in sorted(unclassed, key=lambda i: (-value[i], i)):
        share_before = cum / total if total > 0 else 0.0
        if share_before < scenario.service.abc.A:
            classes[sku_id] = "A"
        elif share_before < scenario.service.abc.B:
            classes[sku_id] = "B"
        else:
            classes[sku_id] = "C"
        cum += value[sku_id]
    return classes


def abc_table(scenario: Scenario):
    """One row per SKU (in scenario order) for plan.csv and the report: sku, class, class_source
    (given: the scenario's `class`; abc: from annual demand value), annual_demand_value (currency per
    year, from the SKU's demand model, history-derived when the demand came from history),
    value_share (of all SKUs' value) and cumulative_share (in descending value order, this SKU included)."""
    import pandas as pd

    value = annual_demand_value(scenario)
    classes = sku_classes(scenario)
    total = sum(value.values())
    cum, running = {}, 0.0
    for sku_id in sorted(value, key=lambda i: (-value[i], i)):
        running += value[sku_id]
        cum[sku_id] = running / total if total > 0 else 0.0
    return pd.DataFrame(
        [
            {
                "sku": s.id,
                "class": classes[s.id],
                "class_source": "given" if s.class_ is not None else "abc",
                "annual_demand_value": value[s.id],
                "value_share": value[s.id] / total if total > 0 else 0.0,
                "cumulative_share": cum[s.id],
            }
            for s in scenario.skus
        ],
        columns=["sku", "class", "class_source", "annual_demand_value", "value_share", "cumulative_share"],
    )
