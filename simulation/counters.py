"""The raw counters both engines return, in a fixed order (definitions in docs/simulation.md).

An engine returns float64[n_candidates, n_replications, len(COUNTERS)]; integers are stored exactly.
`simulation.metrics` turns these into metrics, cost buckets and half-widths, so equal counters mean
equal results in both engines.
"""

COUNTERS = (
    "demand_units",
    "filled_units",
    "backordered_units",
    "substituted_units",
    "lost_units",
    "customer_orders",
    "orders_complete_at_once",
    "backordered_orders",
    "stockout_periods",
    "cycles",
    "cycles_with_stockout",
    "completed_orders",
    "cycle_time_sum",
    "cycle_time_sq_sum",
    "on_time_orders",
    "customers_lost",
    "on_hand_sum",
    "in_transit_sum",
    "backlog_sum",
    "replenishment_orders",
    "replenishment_units",
    "vehicles",
    "expedite_shipments",
    "expedite_units",
)
INDEX = {name: k for k, name in enumerate(COUNTERS)}
N_COUNTERS = len(COUNTERS)
