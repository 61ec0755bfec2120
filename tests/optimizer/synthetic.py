"""Synthetic evaluations tables for optimizer tests: a convex-ish cost/service trade-off per SKU with
noise, drawn from a local generator (no simulation needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.schema import Scenario

METRICS = ["fill_rate", "cycle_service_level", "order_fill_rate", "stockout_frequency", "order_cycle_mean",
           "order_cycle_sd", "on_time_rate", "backorder_rate", "substitution_rate", "lost_sales_rate",
           "customers_lost", "avg_on_hand", "avg_in_transit"]
COSTS = ["cost_carrying", "cost_ordering", "cost_order_processing", "cost_transport", "cost_warehousing",
         "cost_shortage", "cost_total"]


def scenario(n_skus: int, **service) -> Scenario:
    """A scenario with n SKUs (ids s0000..), two modes, and the given service/budget/etc. sections."""
    data = {
        "format": 1, "name": "synthetic",
        "transport": [{"name": "truck", "lead_time": 3, "cost_per_shipment": 100, "vehicle_capacity": 500},
                      {"name": "air", "lead_time": 1, "cost_per_shipment": 300}],
        "skus": [{"id": f"s{i:04d}", "unit_cost": 10.0 + i % 7, "price": 25.0 + i % 5,
                  "demand": {"dist": "poisson", "mean": 5.0 + (i % 11)}} for i in range(n_skus)],
    }
    for key, value in service.items():
        data[key] = value
    return Scenario.model_validate(data)


def evaluations(sc: Scenario, per_sku: int, seed: int = 0) -> pd.DataFrame:
    """per_sku candidates per SKU: base-stock-like levels S, fill rate rising and concave in S, carrying
    cost linear in S, shortage cost falling, plus noise so that ties are rare."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, sku in enumerate(sc.skus):
        mu = 5.0 + (i % 11)
        for j in range(per_sku):
            S = int(mu * (0.5 + 3.0 * j / per_sku)) + j
            mode = "truck" if j % 2 == 0 else "air"
            fill = 1.0 - np.exp(-S / (mu * (1.0 + 0.3 * rng.random()))) * (0.9 + 0.1 * rng.random())
            on_hand = max(S - mu * 1.5, 0.2 * S) * (1 + 0.05 * rng.random())
            carrying = 0.02 * sku.unit_cost * on_hand
            transport = (2.0 if mode == "truck" else 5.0) * (1 + 0.1 * rng.random())
            shortage = (1 - fill) * mu * (sku.price - sku.unit_cost)
            rec = dict(sku=sku.id, family="base_stock", mode=mode, s=np.nan, S=float(S), Q=np.nan, R=1.0, cap=np.nan)
            rec.update({k: 0.0 for k in METRICS + COSTS})
            rec.update(fill_rate=fill, cycle_service_level=fill ** 2, avg_on_hand=on_hand,
                       cost_carrying=carrying, cost_transport=transport, cost_shortage=shortage,
                       cost_total=carrying + transport + shortage, cost_total_ci=0.01 * (carrying + transport),
                       fill_rate_ci=0.001, demand_per_period=mu, orders_per_period=mu,
                       vehicles_per_period=(0.2 if mode == "truck" else 0.5) * (1 + rng.random()),
                       inventory_value=on_hand * sku.unit_cost, replications=10)
            rows.append(rec)
    return pd.DataFrame(rows)
