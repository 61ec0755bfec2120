"""The fast engine: every candidate and replication of a SKU simulated by one compiled call.

Reads the same pre-drawn streams as the SimPy model (`simulation.streams`, drawn by the faster
`simulation.kernel_streams`, which gives identical values, all replications of a SKU in one
compiled call) and follows the same period order (docs/simulation.md), so both engines return
equal raw counters. This module turns the scenario, SKU and streams into the records (Candidates,
Draws, Settings) that `simulation.kernel_loop.simulate_candidates` reads.
"""

from __future__ import annotations

import numpy as np

from scenarios.schema import Scenario, Sku
from simulation.counters import counter_width
from simulation.kernel_loop import (RQ, RSS, SS, Candidates, Draws, Settings, TieredSettings, simulate_batch,
                                    simulate_candidates)
from simulation.kernel_streams import StreamBatch, StreamCache, stream_batch
from simulation.streams import tier_customers
from simulation.policy_arrays import PolicyArrays
from simulation.start import FULL, replication_start


def candidates_of(arrays: PolicyArrays) -> Candidates:
    """The candidates as C-contiguous int64 arrays (the layout the cached loop was compiled for)."""
    c = np.ascontiguousarray
    return Candidates(c(arrays.family), c(arrays.mode), c(arrays.s), c(arrays.S), c(arrays.Q), c(arrays.R),
                      c(arrays.cap), c(arrays.crit))


def scenario_constants(scenario: Scenario, sku: Sku) -> Settings:
    """The scenario's simulation settings for one SKU as plain numbers (what the compiled loop reads).

    Each field has one Python type whatever the scenario (int, float, bool, float64 array), so every
    scenario runs the same compiled (and cached) specialisation of the loop."""
    cr = scenario.customer_reaction
    rs = cr.repeated_stockout
    defection = rs is not None and sku.customers is not None
    reactions = np.array(scenario.tier_reactions(), np.float64)
    customers = int(sku.customers) if defection else 1
    if defection and scenario.customer_tiers is not None:  # each tier's own customers (docs/tiers.md)
        customers = int(tier_customers(scenario.tier_shares(sku), customers).sum())
    exp_capacity = 0.0
    if scenario.expedite is not None:
        cap = scenario.mode(scenario.expedite.mode).vehicle_capacity
        exp_capacity = float(cap) if cap is not None else 0.0
    record = TieredSettings if scenario.tier_count() > 1 else Settings
    return record(
        vehicle_capacity=np.array(
            [float(m.vehicle_capacity) if m.vehicle_capacity is not None else 0.0 for m in scenario.transport]
        ),
        warmup=int(scenario.horizon.warmup),
        periods=int(scenario.horizon.warmup + scenario.horizon.periods),
        wait=np.ascontiguousarray(reactions[:, 0]),
        wait_or_substitute=np.ascontiguousarray(reactions[:, 1]),
        partial=bool(cr.partial_shipments),
        defection=bool(defection),
        customers=customers,
        window=int(rs.window) if defection else 1,
        threshold=int(rs.threshold) if defection else 1,
        defect_probability=float(rs.defect_probability) if defection else 0.0,
        expedite=scenario.expedite is not None,
        expedite_capacity=exp_capacity,
        moq=int(scenario.policies.moq),
        pack_size=int(scenario.policies.pack_size),
        promised=np.array(scenario.tier_promised(), np.float64),
        n_tiers=int(scenario.tier_count()),
        allocation=int(scenario.allocation_code()),
        start_fraction=FULL,  # simulate_sku sets each replication's (simulation.start)
    )


def lead_guess(arrays: PolicyArrays, periods: int) -> tuple[int, int, bool]:
    """(lead_periodic, lead_divisor, lead_per_order) of stream_draws.sku_streams: how many lead times
    per mode these candidates will likely read in a replication of `periods` periods (T), N customer
    orders. A periodic candidate orders at most once per review, ceil(T / R) times; a continuous one
    at most once per customer order, N times. A continuous sS one orders when the inventory position
    is at most s and brings it to S or more, so also at most 1 + D / (S - s) times, D the
    replication's demand units; an rQ one likely about D / Q times (a guess: a candidate that needs
    more is run again on all T+N+1 draws). Any other continuous candidate: N (lead_per_order)."""
    family, R = np.asarray(arrays.family), np.asarray(arrays.R)
    periodic = R >= 1
    lead_periodic = int((-(-periods // R[periodic])).max()) if periodic.any() else 0
    cont = ~periodic
    if not cont.any():
        return lead_periodic, 0, False
    f = family[cont]
    step = np.where((f == SS) | (f == RSS), np.asarray(arrays.S)[cont] - np.asarray(arrays.s)[cont],
                    np.where(f == RQ, np.asarray(arrays.Q)[cont], 0))
    per_order = bool((step <= 0).any())
    step = step[step > 0]
    return lead_periodic, int(step.min()) if step.size else 0, per_order


def simulate_sku(scenario: Scenario, sku: Sku, arrays: PolicyArrays, replications: int, seed: int,
                 streams: StreamCache | None = None) -> np.ndarray:
    """Raw counters float64[candidates, replications, N_COUNTERS] of one SKU; replication r reads
    `streams.sku_streams(scenario, sku, r, seed)` (same draws as the SimPy model). `streams`: a
    StreamCache that keeps the SKU's drawn streams for its next candidates (same numbers)."""
    n = len(arrays)
    width = counter_width(scenario.tier_count())
    result = np.zeros((n, replications, width))
    if n == 0:
        return result
    settings = scenario_constants(scenario, sku) if streams is None else streams.settings(scenario, sku,
                                                                                           scenario_constants)
    candidates = candidates_of(arrays)
    modes_used = set(arrays.mode.tolist())
    # Every replication's streams in one compiled call: the same values as
    # streams.sku_streams(scenario, sku, r, seed), drawn only where read (lead times: as many as the
    # candidates likely read; a candidate that needs more is run again on all of them). The guess is
    # made only when the streams are drawn, not when a StreamCache holds them already.
    batch = streams.held(sku.id, replications, seed, modes_used) if streams is not None else None
    if batch is None:
        guess = lead_guess(arrays, settings.periods)
        batch = (streams.batch(scenario, sku, replications, seed, modes_used, guess) if streams is not None
                 else stream_batch(scenario, sku, 0, replications, seed, modes_used, lead_guess=guess))
    starts = np.array([replication_start(scenario.horizon.start, r, replications) for r in range(replications)])
    if isinstance(batch, StreamBatch):
        short = np.zeros((n, replications), np.bool_)
        if simulate_batch(candidates, batch.order_start, batch.order_offset, batch.order_size, batch.order_customer,
                          batch.u_reaction, batch.u_defect, batch.transmittal, batch.processing, batch.delivery,
                          batch.lead_time, batch.lead_offset, batch.n_modes, batch.expedite_lead_time,
                          batch.order_tier, settings, starts, result, short):
            for r in np.flatnonzero(short.any(axis=0)):  # again on all T+N+1 lead times
                _replication(candidates, short[:, r].copy(), batch, r, settings, starts[r], result, full=True)
        return result
    for r in range(replications):
        _replication(candidates, np.ones(n, np.bool_), batch, r, settings, starts[r], result, full=False)
    return result


def _replication(candidates: Candidates, todo: np.ndarray, batch, r: int, settings: Settings, start: float,
                 result: np.ndarray, full: bool) -> None:
    """Replication r of the candidates with todo[k] into result[:, r] (counters of the others kept);
    full: on every lead-time draw (batch.full_lead) from the start."""
    settings = settings._replace(start_fraction=start)
    draws = batch.arrays(r)
    out = result[:, r, :].copy()
    if full or simulate_candidates(candidates, todo, Draws(*draws), settings, out):
        draws = draws[:8] + (batch.full_lead(r),) + draws[9:]
        if simulate_candidates(candidates, todo, Draws(*draws), settings, out):
            raise AssertionError("a candidate read past T+N+1 lead times")
    result[:, r, :] = out
