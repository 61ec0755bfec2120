"""Where a replication starts: the stock a candidate has on hand in period 0 (docs/simulation.md,
step 0), one compiled rule that both engines call.

A replication that starts every candidate at its order-up-to level lives off a full first cycle,
and a cycle longer than the warm-up then biases the counted periods (issue 15, point 4):
`benchmarks/long_run.py scenarios/examples/retail_dc.yaml` printed, at commit 956a244 (the full
start), an in-run cost of 688.53 per period against 730.88 over 3,650 periods. The usual cure for
this initialisation bias is to start each replication in a draw from the steady state (Law,
Simulation Modeling and Analysis, 5th ed., 2015, ch. 9, the initial transient). The inventory
position of a reorder-point policy is spread over its cycle, s + 1 .. s + W with W the lot it
places (exactly uniform for (r, Q) with unit orders, Zipkin, Foundations of Inventory Management,
2000, ch. 6; nearly so for (s, S) when the lot is large against one period's demand). So
replication r of n starts with s + ceil(f x W) on hand and nothing on order, f = (r + 1/2) / n:
the n replications are stratified over the cycle, centred on its middle whatever n is, and every
candidate of a SKU starts replication r at the same point of its own cycle (common random numbers).

W is the lot the buyer places (simulation.kernel_loop._place_order): S - s for (s, S) and
(R, s, S), Q for (r, Q), raised to policies.moq and rounded up to policies.pack_size. The
order-up-to families (base stock, (R, S), capped base stock) sit at S after every review; with an
MOQ or a pack size their position runs over S .. S - 1 + W (W = the MOQ, at least 1, in whole
packs), which the same rule covers with s = S - 1. A start below 0 starts with nothing on hand (no
backlog is invented). With nothing on order the on hand is the position, as in the long run once a
lead time has passed: the warm-up covers it (scenarios.planning_rules).

`horizon.start: full` starts every replication at the order-up-to level instead (S, or s + Q;
at least 0), the textbook's first cycle (a newly stocked warehouse; deterministic worlds whose
cycle phase matters).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# simulation.policy_arrays.FAMILY_CODE (not imported: this module is imported by the compiled loop)
_SS, _RQ, _RSS = 1, 2, 4
FULL = -1.0  # the fraction of horizon.start: full


def replication_start(start: str, replication: int, replications: int) -> float:
    """The fraction a replication starts at: (replication + 1/2) / replications under horizon.start
    `spread`, FULL under `full`."""
    return FULL if start == "full" else (replication + 0.5) / replications


@njit(cache=True)
def start_on_hand(family, s, S, Q, moq, pack_size, fraction):
    """Units on hand in period 0 of a candidate (family code as simulation.policy_arrays.FAMILY_CODE;
    s, S, Q, moq, pack_size whole units) at `fraction` of its cycle (replication_start): see the
    module docstring. int64."""
    reorder_point = family == _SS or family == _RQ or family == _RSS
    if fraction < 0.0:  # FULL
        top = s + Q if family == _RQ else S
        return max(np.int64(0), np.int64(top))
    if reorder_point:
        low, lot = s, (Q if family == _RQ else S - s)
    else:
        low, lot = S - 1, 1
    lot = max(lot, moq, 1)
    if pack_size > 1:
        lot = ((lot + pack_size - 1) // pack_size) * pack_size
    if not reorder_point and lot == 1:
        return max(np.int64(0), np.int64(S))
    return max(np.int64(0), np.int64(low + np.int64(np.ceil(fraction * lot))))
