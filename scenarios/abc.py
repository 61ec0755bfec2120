"""ABC classes: each SKU's own `class`, or A/B/C by cumulative annual demand value."""

from __future__ import annotations

from scenarios.schema import Scenario, dist_mean


def annual_demand_value(scenario: Scenario) -> dict[str, float]:
    """Annual demand value per SKU id: mean demand per period x periods per year x unit cost."""
    ppy = scenario.horizon.periods_per_year
    return {
        sku.id: (dist_mean(sku.demand) if sku.demand is not None else 0.0) * ppy * sku.unit_cost
        for sku in scenario.skus
    }


def sku_classes(scenario: Scenario) -> dict[str, str]:
    """Class per SKU id. A SKU with `class` keeps it; the others are ranked by annual demand value
    (highest first, ties by id) and get A while the cumulative share of value before them is below
    `service.abc.A`, B while below `service.abc.B`, else C (so the top SKU is always A)."""
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
