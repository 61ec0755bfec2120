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

# Per customer tier (docs/tiers.md): with K > 1 tiers an engine's rows have N_COUNTERS + K x
# N_TIER_COUNTERS columns, tier k's block at N_COUNTERS + k x N_TIER_COUNTERS, each counter defined
# as the SKU's counter of the same name restricted to the tier's orders (backlog_sum: units owed to
# the tier's waiting orders, expedited ones included, at the end of each period). The SKU's own
# counters stay the sums over the tiers.
TIER_COUNTERS = (
    "demand_units",
    "filled_units",
    "backordered_units",
    "substituted_units",
    "lost_units",
    "customer_orders",
    "orders_complete_at_once",
    "backordered_orders",
    "completed_orders",
    "cycle_time_sum",
    "cycle_time_sq_sum",
    "on_time_orders",
    "customers_lost",
    "backlog_sum",
)
TIER_INDEX = {name: k for k, name in enumerate(TIER_COUNTERS)}
N_TIER_COUNTERS = len(TIER_COUNTERS)


def counter_width(n_tiers: int) -> int:
    """Columns of an engine's counter rows for a scenario with n_tiers tiers (1 = no tiers)."""
    return N_COUNTERS + (n_tiers * N_TIER_COUNTERS if n_tiers > 1 else 0)
