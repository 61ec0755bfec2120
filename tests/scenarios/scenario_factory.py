"""A small valid scenario (as YAML data) for the loader tests, and a YAML writer."""

from __future__ import annotations

import copy

import yaml

BASE = {
    "format": 1,
    "name": "mini",
    "transport": [
        {"name": "truck", "lead_time": {"dist": "gamma", "mean": 5, "cv": 0.3}, "cost_per_shipment": 300,
         "vehicle_capacity": 2000},
        {"name": "air", "lead_time": 1, "cost_per_shipment": 900, "cost_per_unit": 3.0},
    ],
    "costs": {"carrying_rate": 0.25, "order_cost": 40.0},
    "service": {"floors": {"A": 0.98}},
    "policies": {"families": ["sS", "rQ"], "review_periods": [0, 7]},
    "skus": [
        {"id": "A-100", "unit_cost": 12.0, "price": 20.0, "class": "A", "demand": {"dist": "poisson", "mean": 8},
         "customers": 40, "current_policy": {"family": "sS", "s": 20, "S": 60, "mode": "truck"}},
        {"id": "B-200", "unit_cost": 5.0, "price": 9.0, "demand": {"dist": "negbin", "mean": 4, "cv": 0.9}},
        {"id": "C-300", "unit_cost": 50.0, "price": 80.0,
         "demand": {"dist": "compound", "orders": {"dist": "poisson", "mean": 0.3}, "size": {"dist": "uniform", "low": 1, "high": 4}}},
        {"id": "D-400", "unit_cost": 2.0, "price": 3.0, "demand": 6},
    ],
}


def base() -> dict:
    """A fresh deep copy of the small valid scenario."""
    return copy.deepcopy(BASE)


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
