"""Small scenario builders shared by the SimPy model's tests (plain dicts -> validated Scenario)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.schema import Scenario


def scenario(**overrides) -> Scenario:
    """A one-SKU scenario: Poisson(5) demand, one mode with lead time 2, no costs but holding;
    keyword arguments replace top-level sections (sku=... replaces fields of the SKU). Replications
    start at the order-up-to level (horizon.start full) unless the horizon says otherwise: the
    worlds are traced by hand from a full start."""
    sku = dict(id="x", unit_cost=10.0, price=20.0, demand={"dist": "poisson", "mean": 5})
    sku.update(overrides.pop("sku", {}))
    base = dict(
        format=1, name="t", seed=11, replications=4,
        horizon=dict(periods=200, warmup=10),
        costs=dict(holding_per_unit_period=1.0, in_transit_rate=0.0),
        transport=[dict(name="truck", lead_time=2)],
        skus=[sku],
    )
    base.update(overrides)
    base["horizon"] = {"start": "full", **base["horizon"]}
    return Scenario.model_validate(base)


def policies(*rows, sku="x") -> pd.DataFrame:
    """A policies frame from dicts (missing parameters NaN, R 0)."""
    full = []
    for r in rows:
        row = dict(sku=sku, family=None, mode=np.nan, s=np.nan, S=np.nan, Q=np.nan, R=0, cap=np.nan)
        row.update(r)
        full.append(row)
    return pd.DataFrame(full, columns=["sku", "family", "mode", "s", "S", "Q", "R", "cap"])
