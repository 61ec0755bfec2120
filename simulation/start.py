"""Where a replication starts: the stock a candidate has on hand in period 0 (docs/simulation.md,
step 0), the same in both engines.

A replication that starts every candidate at its order-up-to level lives off a full first cycle,
and a cycle longer than the warm-up then biases the counted periods (issue 15, point 4: on
scenarios/examples/retail_dc.yaml the chosen plan cost 688.53 per period on its 364-period horizon
after 28 periods of warm-up, 734.01 after 365 and 730.88 over 3650). The usual cure for this
initialisation bias is to start each replication in a draw from the steady state (Law, Simulation
Modeling and Analysis, 5th ed., 2015, ch. 9, the initial transient): the inventory position of an
(s, S) or (r, Q) policy is spread over s+1 .. S (exactly uniform for (r, Q) under unit demand,
Zipkin, Foundations of Inventory Management, 2000, ch. 6; nearly so for (s, S) when the lot is
large against one period's demand), so replication r starts with s + ceil(f_r x (S - s)) on hand
and nothing on order (the lot Q for (r, Q)), f_r the base-2 van der Corput number
of r + 1 (1/2, 1/4, 3/4, 1/8, ...): the replications a run makes are spread evenly over the
cycle whatever their count, and replication r starts at the same place in every run (common random
numbers across candidates, rounds and runs). Order-up-to policies (base stock, (R, S), capped base
stock) start at S, where every review brings them. A start position below 0 starts with nothing on
hand (no backlog is invented). With nothing on order the on hand is the position, as in steady
state once the lead time has passed: the warm-up covers it (scenarios.planning_rules).

`horizon.start: full` starts every replication at the order-up-to level instead (S, or s + Q: the
fraction FULL), the textbook's first cycle (a newly stocked warehouse; deterministic worlds whose
cycle phase matters).
"""

from __future__ import annotations

import math

FULL = 1.0  # the fraction of horizon.start: full (s + ceil(1 x width) = S, or s + Q)


def replication_start(start: str, replication: int) -> float:
    """The fraction in (0, 1] a replication starts at: start_fraction(replication) under
    horizon.start `spread`, FULL under `full`."""
    return FULL if start == "full" else start_fraction(replication)


def start_fraction(replication: int) -> float:
    """f_r in (0, 1): the base-2 van der Corput number of replication + 1 (replication >= 0)."""
    n, f, base = replication + 1, 0.0, 0.5
    while n:
        if n & 1:
            f += base
        n >>= 1
        base *= 0.5
    return f


def start_on_hand(is_reorder_point_policy: bool, s: int, width: int, S: int, fraction: float) -> int:
    """Units on hand in period 0: for an (s, S) / (R, s, S) / (r, Q) policy (width S - s, or Q),
    max(0, s + ceil(fraction x width)), which is s + 1 .. S for a fraction in (0, 1) and S (s + Q)
    for FULL; for the order-up-to families, S. The kernel's `_start` repeats this arithmetic (numba
    cannot call this module's Python)."""
    if not is_reorder_point_policy:
        return S
    return max(0, s + math.ceil(fraction * width))
