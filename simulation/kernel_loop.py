"""The compiled period loop of the fast engine: all candidates of one SKU, one replication.

Follows docs/simulation.md step by step; each step of a period is one helper:

    0. start of a candidate     _start (state), _zero_counters
    1. periodic review          _place_order (the one order placement; continuous review uses it in 4)
    2. receive                  _receive
    3. backorders, expedites    _serve_backlog, _expedites_arrive
    4. customer orders          _customer_orders -> _customer_order -> _allocate, _react, _note_stockout
    5. end of period            _end_period

A new stream (e.g. per-tier demand) is a field of Draws (and of kernel_streams.KernelStreams); a new
allocation rule changes `_allocate` (what an order gets now) and `_serve_backlog` (who is served
first); a new setting is a field of Settings (filled by kernel.scenario_constants).

Inputs are three records (namedtuples, defined below and built by `simulation.kernel`): Candidates
(the policies), Draws (one replication's streams) and Settings (the scenario's constants for one
SKU). numba passes them as typed tuples (fields resolved at compile time, nothing boxed) and, unlike
jitclasses, they keep `cache=True` working across processes. The candidate being simulated has one
state record (STATE) and one counters record (COUNTS), changed in place by the helpers; each is
reset in one place. Counters of warm-up periods are simply zeroed when period `warmup` starts: every
counter counts an event in the period it happens, except completions, which belong to the period of
their customer order and are therefore filtered by order index (`first_counted`).

Speed (benchmarks/kernel_throughput.py). The helpers are inlined by numba (inline="always") and the
candidate loop `_run_candidates` is compiled without reference counting (numba's `_nrt=False`
option; it allocates nothing, `simulate_candidates` does): with reference counting, each inlined
helper taking a record of arrays increments and decrements every array in it on every call,
hundreds of atomic operations per period, and the loop ran about 60 times slower (measured once at
the refactor, commit b3362c6; no script in benchmarks/ turns reference counting back on). Counters are int64,
float64 only for the two cycle-time sums; keeping the state and counters in memory rather than
registers cost about 5 % of throughput at the refactor (kernel_throughput.py before and after b3362c6).

numba's on-disk cache (cache=True) is invalidated by a change of THIS file or of the argument types
only, so every record the loop reads is defined here: renaming or reordering a field elsewhere,
which keeps the types, would otherwise leave a stale compiled loop in the cache.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit
from numba.extending import overload

from simulation.counters import COUNTERS, N_COUNTERS, N_TIER_COUNTERS, TIER_INDEX
from simulation.start import start_on_hand

# Family codes (simulation.policy_arrays.FAMILY_CODE).
BASE_STOCK, SS, RQ, RS, RSS, CAPPED = 0, 1, 2, 3, 4, 5
# Allocation rules (scenarios.schema.ALLOCATIONS, docs/tiers.md).
FIFO, PRIORITY, CRITICAL_LEVEL = 0, 1, 2
# Per-tier counter positions (simulation.counters.TIER_COUNTERS) in a row of Work.tier_counts.
(
    T_DEMAND, T_FILLED, T_BACKORDERED, T_SUBSTITUTED, T_LOST, T_ORDERS, T_AT_ONCE, T_BO_ORDERS, T_COMPLETED,
    T_CT_SUM, T_CT_SQ, T_ON_TIME, T_CUSTOMERS_LOST, T_BACKLOG,
) = (TIER_INDEX[n] for n in (
    "demand_units", "filled_units", "backordered_units", "substituted_units", "lost_units", "customer_orders",
    "orders_complete_at_once", "backordered_orders", "completed_orders", "cycle_time_sum", "cycle_time_sq_sum",
    "on_time_orders", "customers_lost", "backlog_sum"))

# Counter positions in a row of `out` (simulation.counters.COUNTERS order).
(
    C_DEMAND, C_FILLED, C_BACKORDERED, C_SUBSTITUTED, C_LOST, C_ORDERS, C_AT_ONCE, C_BO_ORDERS,
    C_STOCKOUT_PERIODS, C_CYCLES, C_CYCLES_SO, C_COMPLETED, C_CT_SUM, C_CT_SQ, C_ON_TIME,
    C_CUSTOMERS_LOST, C_ON_HAND, C_IN_TRANSIT, C_BACKLOG, C_REP_ORDERS, C_REP_UNITS, C_VEHICLES,
    C_EXP_SHIPMENTS, C_EXP_UNITS,
) = range(24)

# The candidates of one SKU (simulation.policy_arrays.PolicyArrays), each int64[n], C-contiguous:
# family code, mode index, s, S, Q, review period R (0 = continuous), cap and critical level (the
# lowest tier's, docs/tiers.md; read only under critical_level allocation), in whole units.
Candidates = namedtuple("Candidates", "family mode s S Q R cap crit")

# One replication's draws (simulation.kernel_streams.KernelStreams, same field names and meaning,
# see the stream table of docs/simulation.md). N customer orders, T periods, M transport modes:
#   order_start int64[T+1]; order_size, order_customer int64[N]; u_reaction, u_defect float64[N];
#   transmittal, processing, delivery float64[N] (periods); lead_time int64[M, W] (periods; row m
#   the first W draws of mode m's stream, W <= T+N+1: a candidate never places more than T+N
#   orders, and one that needs a draw past W is reported, see simulate_candidates);
#   expedite_lead_time int64[N] (periods); order_tier int64[N] (0 = top tier; zeros without tiers).
Draws = namedtuple(
    "Draws",
    "order_start order_size order_customer u_reaction u_defect transmittal processing delivery "
    "lead_time expedite_lead_time order_tier",
)

# The scenario's settings for one SKU (simulation.kernel.scenario_constants), all scalars but
# vehicle_capacity (float64[M], units per vehicle, <= 0 = unlimited) and the per-tier arrays
# (float64[K], K = n_tiers, 1 without tiers):
#   warmup, periods (int, periods; `periods` = T includes the warm-up), wait and wait_or_substitute
#   (float64[K], each tier's cumulative reaction shares), partial (bool), defection (bool),
#   customers (all tiers'), window, threshold (int), defect_probability (float), expedite (bool),
#   expedite_capacity (float, units per vehicle, <= 0 = unlimited), moq, pack_size (int, units),
#   promised (float64[K], periods), n_tiers (int), allocation (int, FIFO / PRIORITY / CRITICAL_LEVEL),
#   start_fraction (float: the replication's place in its cycle, simulation.start.replication_start).
_SETTINGS_FIELDS = ("warmup periods wait wait_or_substitute partial defection customers window threshold "
                    "defect_probability expedite expedite_capacity moq pack_size promised vehicle_capacity n_tiers "
                    "allocation start_fraction")
Settings = namedtuple("Settings", _SETTINGS_FIELDS)
# The same fields for a scenario with customer tiers (n_tiers > 1). The record's class tells the
# compiled loop whether there are tiers (`_tiered`), so the untiered loop is compiled without any of
# the tiers' work: no per-order tier look-up, no tier counters, no branch on them.
TieredSettings = namedtuple("TieredSettings", _SETTINGS_FIELDS)


def _tiered(settings):
    """Whether `settings` is a TieredSettings record (in compiled code: a constant of its type)."""
    return isinstance(settings, TieredSettings)


@overload(_tiered, inline="always")
def _tiered_compiled(settings):
    flag = getattr(settings, "instance_class", None) is TieredSettings
    return (lambda settings: True) if flag else (lambda settings: False)

# The counters of one candidate, one field per counter named as in simulation.counters.COUNTERS and
# in its order (position C_x), every field 8 bytes: int64 units / counts / unit-periods, float64 for
# the cycle-time sums (periods, periods²). Written to out[k] position by position (_write_counters).
_FLOAT_COUNTERS = (C_CT_SUM, C_CT_SQ)
COUNTS = np.dtype([(name, np.float64 if k in _FLOAT_COUNTERS else np.int64) for k, name in enumerate(COUNTERS)])
_IS_FLOAT = np.array([k in _FLOAT_COUNTERS for k in range(len(COUNTERS))])

# The state of one candidate in a replication (reset by _start):
#   on_hand, on_order (units received later; in IP), backlog (units owed to the waiting orders; in
#   IP), exp_out (expedited units owed, not yet delivered; NOT in IP), placed (replenishment orders placed so far: the index of its next lead-time draw),
#   short_cycle (a customer order was short since the last receipt), out_of_leads (an order needed
#   a lead-time draw past those in Draws.lead_time: the candidate's counters are void).
STATE = np.dtype([
    ("on_hand", np.int64), ("on_order", np.int64), ("backlog", np.int64), ("exp_out", np.int64),
    ("placed", np.int64), ("short_cycle", np.bool_),
    ("out_of_leads", np.bool_),
], align=True)

# One candidate as the loop reads it: family code, s, S, Q, R, cap, crit (int64 units / periods),
# lead_time int64[W] (its mode's row of Draws.lead_time, periods) and vehicle_capacity (float,
# units per vehicle of its mode, <= 0 = unlimited).
Policy = namedtuple("Policy", "family s S Q R cap crit lead_time vehicle_capacity")

# What a replication knows of each customer order i before any candidate runs (int64/float64[N]):
# its period, the cycle time if completed in its own period (periods), its square, and 1 if that is
# on time; plus first_counted (first order index of a counted period) and on_time_limit
# (float64[K], each tier's promise plus a float tolerance, periods).
OrderTables = namedtuple("OrderTables", "period ct_now ct_now_sq on_time_now first_counted on_time_limit")

# Scratch arrays, allocated once per replication and reset per candidate:
#   arrive int64[T + max lead + 2]: replenishment units due per period;
#   exp_due int64[T + max expedite lead + 2]: expedited units delivered per period;
#   queue_order, queue_owed int64[Qn, max(N, 1)]: the backorder queues (order index, units owed),
#   one (FIFO) or one per tier (priority, critical_level), oldest first from queue_head[q] to
#   queue_tail[q] (int64[Qn]); crit int64[K]: each tier's critical level for the candidate;
#   defected bool[customers]; hist int64[customers, threshold] (periods of the last stockouts, a
#   ring per customer); hist_count int64[customers] (stockouts seen per customer);
#   tier_counts float64[K, N_TIER_COUNTERS]; tier_owed int64[K] (units owed to each tier's waiting
#   orders, expedited included); exp_due_tier int64[len(exp_due), K] (expedited units per tier and
#   period). The per-tier arrays are read only with K > 1.
Work = namedtuple("Work", "arrive exp_due queue_order queue_owed queue_head queue_tail crit defected hist "
                          "hist_count tier_counts tier_owed exp_due_tier")


# ---------------------------------------------------------------------------------------------
# Replenishment orders (steps 1 and 2)


@njit(cache=True, inline="always")
def _vehicles(q, capacity):
    """Vehicles for q units: ceil(q / capacity), one when the capacity is unset (<= 0)."""
    if capacity <= 0.0:
        return 1
    return int(math.ceil(q / capacity))


@njit(cache=True, inline="always")
def _order_quantity(family, ip, s, S, Q, cap):
    """Units the family asks for at inventory position ip (0 = no order)."""
    if family == SS or family == RSS:
        return S - ip if ip <= s else 0
    if family == RQ:
        if ip <= s and Q > 0:
            return Q * ((s - ip) // Q + 1)
        return 0
    if family == CAPPED:
        if ip < S:
            return min(S - ip, cap)
        return 0
    # base_stock, RS
    return S - ip if ip < S else 0


@njit(cache=True, inline="always")
def _place_order(t, min_lead, pol, st, cnt, arrive, settings):
    """A review at period t: order what the policy asks for at the inventory position.

    The quantity is raised to the MOQ and rounded up to the pack size; it arrives in step 2 of
    period t + max(L, min_lead), L the next lead-time draw of the candidate's mode. min_lead is 0
    for the periodic review of step 1 and 1 for continuous review in step 4 (step 2 of this period
    is over by then).
    """
    q = _order_quantity(pol.family, st.on_hand + st.on_order - st.backlog, pol.s, pol.S, pol.Q, pol.cap)
    if q <= 0:
        return
    if q < settings.moq:
        q = settings.moq
    if settings.pack_size > 1:
        q = ((q + settings.pack_size - 1) // settings.pack_size) * settings.pack_size
    if st.placed < pol.lead_time.shape[0]:
        lead = pol.lead_time[st.placed]
    else:  # not drawn: the candidate is run again on more draws (simulate_candidates)
        lead = 0
        st.out_of_leads = True
    st.placed += 1
    arrive[t + (lead if lead > min_lead else min_lead)] += q
    st.on_order += q
    cnt.replenishment_orders += 1
    cnt.replenishment_units += q
    cnt.vehicles += _vehicles(q, pol.vehicle_capacity)


@njit(cache=True, inline="always")
def _end_cycle(st, cnt):
    """Count one replenishment cycle, and whether a customer order was short during it."""
    cnt.cycles += 1
    if st.short_cycle:
        cnt.cycles_with_stockout += 1
    st.short_cycle = False


@njit(cache=True, inline="always")
def _receive(t, st, cnt, arrive):
    """Step 2: replenishments due at t go on hand; a receipt ends a replenishment cycle."""
    a = arrive[t]
    if a > 0:
        st.on_hand += a
        st.on_order -= a
        _end_cycle(st, cnt)


# ---------------------------------------------------------------------------------------------
# Completions (cycle times of customer orders)


@njit(cache=True, inline="always")
def _tier(i, draws, settings):
    """Order i's customer tier (0 without tiers: the order's tier is then not read at all, which
    keeps the untiered loop as fast as it was)."""
    return draws.order_tier[i] if _tiered(settings) else 0


@njit(cache=True, inline="always")
def _complete(cnt, ct, ct_sq, on_time):
    """Count one completed customer order: cycle time ct (periods), ct_sq = ct * ct, on_time 0/1."""
    cnt.completed_orders += 1
    cnt.cycle_time_sum += ct
    cnt.cycle_time_sq_sum += ct_sq
    cnt.on_time_orders += on_time


@njit(cache=True, inline="always")
def _complete_tier(k, work, ct, ct_sq, on_time):
    """_complete for tier k's counters."""
    row = work.tier_counts[k]
    row[T_COMPLETED] += 1.0
    row[T_CT_SUM] += ct
    row[T_CT_SQ] += ct_sq
    row[T_ON_TIME] += on_time


@njit(cache=True, inline="always")
def _complete_after(i, waited, cnt, work, draws, orders, settings):
    """Count order i completed `waited` periods after its own period (a backorder or an expedite)."""
    ct = draws.transmittal[i] + draws.processing[i] + float(waited) + draws.delivery[i]
    on_time = 1 if ct <= orders.on_time_limit[_tier(i, draws, settings)] else 0
    _complete(cnt, ct, ct * ct, on_time)
    if _tiered(settings):
        _complete_tier(draws.order_tier[i], work, ct, ct * ct, on_time)


@njit(cache=True, inline="always")
def _complete_now(i, cnt, work, draws, orders, settings):
    """Count order i completed in its own period (precomputed, same arithmetic as _complete_after)."""
    _complete(cnt, orders.ct_now[i], orders.ct_now_sq[i], orders.on_time_now[i])
    if _tiered(settings):
        _complete_tier(draws.order_tier[i], work, orders.ct_now[i], orders.ct_now_sq[i], orders.on_time_now[i])


# ---------------------------------------------------------------------------------------------
# Step 3: the backorder queue and expedited shipments


@njit(cache=True, inline="always")
def _ship_waiting(i, units, st, work, draws, settings):
    """`units` leave on hand for waiting order i."""
    st.on_hand -= units
    st.backlog -= units
    if _tiered(settings):
        work.tier_owed[draws.order_tier[i]] -= units


@njit(cache=True, inline="always")
def _serve_backlog(t, st, cnt, work, draws, orders, settings):
    """Step 3: ship to waiting orders while stock lasts: queue by queue (one FIFO queue, or the tiers'
    from the top), oldest first, each tier from the units on hand above its critical level.

    With partial shipments the head order takes what there is; without, serving stops at the
    first order whose whole owed quantity is not available (no overtaking). Completions count only
    for orders of counted periods (index >= first_counted).
    """
    if st.backlog == 0:  # nobody waits (always so under lost sales): the common case, decided at once
        return
    for q in range(work.queue_head.shape[0]):
        reserve = work.crit[q]
        while work.queue_head[q] < work.queue_tail[q] and st.on_hand > reserve:
            h = work.queue_head[q]
            owed = work.queue_owed[q, h]
            available = st.on_hand - reserve
            i = work.queue_order[q, h]
            if owed <= available:
                _ship_waiting(i, owed, st, work, draws, settings)
                work.queue_head[q] = h + 1
                if i >= orders.first_counted:
                    _complete_after(i, t - orders.period[i], cnt, work, draws, orders, settings)
            elif settings.partial:
                work.queue_owed[q, h] = owed - available
                _ship_waiting(i, available, st, work, draws, settings)
            else:
                return


@njit(cache=True, inline="always")
def _expedites_arrive(t, st, work, settings):
    """Step 3, last: expedited units due at t reach their customers (never through on hand)."""
    e = work.exp_due[t]
    if e > 0:
        st.exp_out -= e
        if _tiered(settings):
            for k in range(settings.n_tiers):
                work.tier_owed[k] -= work.exp_due_tier[t, k]


# ---------------------------------------------------------------------------------------------
# Step 4: customer orders


@njit(cache=True, inline="always")
def _allocate(size, on_hand, reserve, partial):
    """The allocation rule: units of an order of `size` shipped now from the units on hand above
    `reserve` (its tier's critical level): all of it if there, else what there is with partial
    shipments, else nothing. (Without a reserve, a negative on hand, possible only at the start of
    an rQ candidate with s + Q < 0, is "what there is", as it always was.)"""
    available = on_hand - reserve
    if available >= size:
        return size
    if partial and (reserve == 0 or available > 0):
        return available
    return 0


@njit(cache=True, inline="always")
def _backorder(i, short, st, work, draws, settings):
    """Order i waits for `short` units at the tail of its queue (the FIFO queue, or its tier's;
    owed, in IP)."""
    q = draws.order_tier[i] if _tiered(settings) and settings.allocation != FIFO else 0
    tail = work.queue_tail[q]
    work.queue_order[q, tail] = i
    work.queue_owed[q, tail] = short
    work.queue_tail[q] = tail + 1
    st.backlog += short
    if _tiered(settings):
        work.tier_owed[draws.order_tier[i]] += short


@njit(cache=True, inline="always")
def _expedite(t, i, short, st, cnt, work, draws, orders, settings):
    """The `short` units of waiting order i ship by the expedite mode with lead time L: owed (not
    in IP) until step 3 of t + L. A delivery inside the horizon is a completion known now, counted
    in this order's period."""
    lead = draws.expedite_lead_time[i]
    cnt.expedite_shipments += _vehicles(short, settings.expedite_capacity)
    cnt.expedite_units += short
    if t + lead < settings.periods:
        _complete_after(i, lead, cnt, work, draws, orders, settings)
    if lead > 0:
        work.exp_due[t + lead] += short
        st.exp_out += short
        if _tiered(settings):
            k = draws.order_tier[i]
            work.exp_due_tier[t + lead, k] += short
            work.tier_owed[k] += short


@njit(cache=True, inline="always")
def _react(t, i, short, st, cnt, work, draws, orders, settings):
    """The customer of order i, `short` units short, waits (backorder, or expedite when set),
    substitutes (complete now) or is lost, by the order's reaction draw and its tier's shares."""
    u = draws.u_reaction[i]
    k = _tier(i, draws, settings)
    tiers = _tiered(settings)
    if u < settings.wait[k]:
        cnt.backordered_units += short
        cnt.backordered_orders += 1
        if tiers:
            work.tier_counts[k, T_BACKORDERED] += short
            work.tier_counts[k, T_BO_ORDERS] += 1.0
        if settings.expedite:
            _expedite(t, i, short, st, cnt, work, draws, orders, settings)
        else:
            _backorder(i, short, st, work, draws, settings)
    elif u < settings.wait_or_substitute[k]:
        cnt.substituted_units += short
        if tiers:
            work.tier_counts[k, T_SUBSTITUTED] += short
        _complete_now(i, cnt, work, draws, orders, settings)
    else:
        cnt.lost_units += short
        if tiers:
            work.tier_counts[k, T_LOST] += short


@njit(cache=True, inline="always")
def _note_stockout(t, i, cnt, work, draws, settings):
    """Remember a stockout at t of order i's customer; they defect (by the order's defection draw)
    when their last `threshold` stockouts all lie inside the last `window` periods."""
    c = draws.order_customer[i]
    threshold = settings.threshold
    h = work.hist_count[c]
    work.hist[c, h % threshold] = t
    h += 1
    work.hist_count[c] = h
    # The ring's oldest entry (the one the next stockout overwrites) is the first of the last
    # `threshold`; entries <= t - window are forgotten.
    if h >= threshold and work.hist[c, h % threshold] > t - settings.window:
        if draws.u_defect[i] < settings.defect_probability:
            work.defected[c] = True
            cnt.customers_lost += 1
            if _tiered(settings):
                work.tier_counts[draws.order_tier[i], T_CUSTOMERS_LOST] += 1.0


@njit(cache=True, inline="always")
def _customer_order(t, i, st, cnt, work, draws, orders, settings):
    """Order i (of an active customer) in period t: ship what the allocation rule gives; the
    shortfall goes to the customer's reaction. Returns True when the order was short."""
    size = draws.order_size[i]
    k = _tier(i, draws, settings)
    cnt.demand_units += size
    cnt.customer_orders += 1
    filled = _allocate(size, st.on_hand, work.crit[k] if _tiered(settings) and settings.allocation == CRITICAL_LEVEL else 0,
                       settings.partial)
    st.on_hand -= filled
    cnt.filled_units += filled
    short = size - filled
    if _tiered(settings):
        row = work.tier_counts[k]
        row[T_DEMAND] += size
        row[T_ORDERS] += 1.0
        row[T_FILLED] += filled
        if short == 0:
            row[T_AT_ONCE] += 1.0
    if short == 0:
        cnt.orders_complete_at_once += 1
        _complete_now(i, cnt, work, draws, orders, settings)
        return False
    st.short_cycle = True
    _react(t, i, short, st, cnt, work, draws, orders, settings)
    if settings.defection:
        _note_stockout(t, i, cnt, work, draws, settings)
    return True


@njit(cache=True, inline="always")
def _customer_orders(t, pol, st, cnt, work, draws, orders, settings):
    """Step 4: the orders of period t in stream order; under continuous review (R = 0) the policy
    reviews after each. Orders of defected customers are dropped (no demand, no review)."""
    stockout = False
    for i in range(draws.order_start[t], draws.order_start[t + 1]):
        if settings.defection and work.defected[draws.order_customer[i]]:
            continue
        if _customer_order(t, i, st, cnt, work, draws, orders, settings):
            stockout = True
        if pol.R == 0:
            _place_order(t, 1, pol, st, cnt, work.arrive, settings)
    if stockout:
        cnt.stockout_periods += 1


# ---------------------------------------------------------------------------------------------
# Step 5, one period, one candidate


@njit(cache=True, inline="always")
def _end_period(st, cnt, work, settings):
    """Step 5: stock levels at the end of the period (unit-periods)."""
    cnt.on_hand_sum += st.on_hand
    cnt.in_transit_sum += st.on_order
    cnt.backlog_sum += st.backlog + st.exp_out
    if _tiered(settings):
        for k in range(settings.n_tiers):
            work.tier_counts[k, T_BACKLOG] += work.tier_owed[k]


@njit(cache=True, inline="always")
def _period(t, pol, st, cnt, work, draws, orders, settings):
    """Steps 1 to 5 of period t for one candidate."""
    if pol.R >= 1 and t % pol.R == 0:
        _place_order(t, 0, pol, st, cnt, work.arrive, settings)
    _receive(t, st, cnt, work.arrive)
    _serve_backlog(t, st, cnt, work, draws, orders, settings)
    if settings.expedite:
        _expedites_arrive(t, st, work, settings)
    _customer_orders(t, pol, st, cnt, work, draws, orders, settings)
    _end_period(st, cnt, work, settings)


@njit(cache=True, inline="always")
def _start(pol, st, work, settings):
    """Step 0 for a new candidate: its start stock (simulation.start.start_on_hand at the
    replication's settings.start_fraction), nothing on order or owed, every customer active,
    nothing due; the tiers' critical levels of its `crit` (docs/tiers.md: tier k's is
    round(crit * k / (K - 1)), half up), under critical_level allocation only."""
    st.on_hand = start_on_hand(pol.family, pol.s, pol.S, pol.Q, settings.moq, settings.pack_size,
                               settings.start_fraction)
    st.on_order = 0
    st.backlog = 0
    st.exp_out = 0
    work.queue_head[:] = 0
    work.queue_tail[:] = 0
    st.placed = 0
    st.short_cycle = False
    st.out_of_leads = False
    work.arrive[:] = 0
    if settings.expedite:
        work.exp_due[:] = 0
    if settings.defection:
        work.defected[:] = False
        work.hist_count[:] = 0
    if _tiered(settings) and settings.allocation == CRITICAL_LEVEL:
        K = settings.n_tiers
        for k in range(K):
            work.crit[k] = (2 * pol.crit * k + (K - 1)) // (2 * (K - 1)) if pol.crit > 0 else 0
    if _tiered(settings):
        work.tier_owed[:] = 0
        if settings.expedite:
            work.exp_due_tier[:, :] = 0


@njit(cache=True, inline="always")
def _zero_counters(counts, work, settings):
    """Every counter of the record in counts (COUNTS[1]) to 0 (all-zero bits are 0 and 0.0), and the
    tiers' counters."""
    counts.view(np.int64)[:] = 0
    if _tiered(settings):
        work.tier_counts[:, :] = 0.0


@njit(cache=True, inline="always")
def _write_counters(counts, work, settings, row):
    """The counters record in counts (COUNTS[1]) into row[:N_COUNTERS], position by position, then
    each tier's counters (K > 1) into its block after them."""
    ints = counts.view(np.int64)
    floats = counts.view(np.float64)
    for c in range(N_COUNTERS):
        row[c] = floats[c] if _IS_FLOAT[c] else ints[c]
    if _tiered(settings):
        for k in range(settings.n_tiers):
            for j in range(N_TIER_COUNTERS):
                row[N_COUNTERS + k * N_TIER_COUNTERS + j] = work.tier_counts[k, j]


@njit(cache=True, _nrt=False)
def _run_candidates(candidates, todo, draws, settings, orders, work, state, counts, out):
    """Every candidate k with todo[k] over all periods; counters into out[k], todo[k] set to whether
    it ran out of lead-time draws; returns how many did. Allocates nothing (see module doc)."""
    st = state[0]
    cnt = counts[0]
    short = 0
    for k in range(candidates.family.shape[0]):
        if not todo[k]:
            continue
        m = candidates.mode[k]
        pol = Policy(candidates.family[k], candidates.s[k], candidates.S[k], candidates.Q[k], candidates.R[k],
                     candidates.cap[k], candidates.crit[k], draws.lead_time[m], settings.vehicle_capacity[m])
        _start(pol, st, work, settings)
        _zero_counters(counts, work, settings)
        for t in range(settings.periods):
            if t == settings.warmup:
                _zero_counters(counts, work, settings)  # everything before counted only warm-up events
            _period(t, pol, st, cnt, work, draws, orders, settings)
        _end_cycle(st, cnt)  # the open replenishment cycle counts as one more
        _write_counters(counts, work, settings, out[k])
        todo[k] = st.out_of_leads
        if st.out_of_leads:
            short += 1
    return short


# ---------------------------------------------------------------------------------------------
# One replication


@njit(cache=True)
def _order_tables(draws, settings):
    """OrderTables of this replication (shared by all candidates)."""
    n_orders = draws.order_size.shape[0]
    T = settings.periods
    first_counted = draws.order_start[settings.warmup] if settings.warmup <= T else n_orders
    on_time_limit = settings.promised + 1e-9  # per tier
    ct_now = np.empty(n_orders)
    ct_now_sq = np.empty(n_orders)
    on_time_now = np.empty(n_orders, np.int64)
    for i in range(n_orders):
        # The sum of _complete_after with waited = 0, so both give identical floats.
        ct = draws.transmittal[i] + draws.processing[i] + 0.0 + draws.delivery[i]
        ct_now[i] = ct
        ct_now_sq[i] = ct * ct
        on_time_now[i] = 1 if ct <= on_time_limit[_tier(i, draws, settings)] else 0
    period = np.empty(n_orders, np.int64)
    for t in range(T):
        for i in range(draws.order_start[t], draws.order_start[t + 1]):
            period[i] = t
    return OrderTables(period, ct_now, ct_now_sq, on_time_now, first_counted, on_time_limit)


@njit(cache=True)
def _work_arrays(draws, settings):
    """Work arrays sized for the longest lead times of this replication's draws."""
    T = settings.periods
    n_orders = draws.order_size.shape[0]
    max_lead = 0
    for m in range(draws.lead_time.shape[0]):
        for j in range(draws.lead_time.shape[1]):
            if draws.lead_time[m, j] > max_lead:
                max_lead = draws.lead_time[m, j]
    max_exp = 0
    for i in range(n_orders):
        if draws.expedite_lead_time[i] > max_exp:
            max_exp = draws.expedite_lead_time[i]
    n_customers = settings.customers if settings.defection else 1
    K = settings.n_tiers
    n_queues = K if settings.allocation != FIFO else 1
    tiers = K > 1
    return Work(
        np.zeros(T + max_lead + 2, np.int64),
        np.zeros(T + max_exp + 2, np.int64),
        np.empty((n_queues, max(n_orders, 1)), np.int64),
        np.empty((n_queues, max(n_orders, 1)), np.int64),
        np.zeros(n_queues, np.int64),
        np.zeros(n_queues, np.int64),
        np.zeros(K, np.int64),
        np.zeros(n_customers, np.bool_),
        np.zeros((n_customers, max(settings.threshold, 1)), np.int64),
        np.zeros(n_customers, np.int64),
        np.zeros((K if tiers else 1, N_TIER_COUNTERS), np.float64),
        np.zeros(K if tiers else 1, np.int64),
        np.zeros(((T + max_exp + 2) if tiers and settings.expedite else 1, K if tiers else 1), np.int64),
    )


@njit(cache=True)
def simulate_candidates(candidates, todo, draws, settings, out):
    """Simulate the candidates k with todo[k] (bool[n]) over `settings.periods` periods on the same
    draws.

    candidates: Candidates (int64[n] each); draws: Draws (one replication's streams); settings:
    Settings; out: float64[n, counters.counter_width(settings.n_tiers)], row k receives candidate
    k's raw counters (simulation.counters order, then each tier's; integer counts are exact).
    Returns how many candidates needed more lead-time draws than draws.lead_time holds: those keep
    todo[k] True and their rows are void; run them again on draws with the longer rows (the same
    stream continued, so every other row is unchanged). None does with rows of T+N+1 draws.
    """
    return _run_candidates(candidates, todo, draws, settings, _order_tables(draws, settings),
                           _work_arrays(draws, settings), np.zeros(1, STATE), np.zeros(1, COUNTS), out)


@njit(cache=True)
def simulate_replication(candidates, draws, settings, out):
    """simulate_candidates on every candidate; returns how many ran out of lead-time draws (0 when
    draws.lead_time has T+N+1 columns)."""
    return simulate_candidates(candidates, np.ones(candidates.family.shape[0], np.bool_), draws, settings, out)


# ---------------------------------------------------------------------------------------------
# Every replication of a SKU in one call


def with_start(settings, fraction):
    """`settings` with start_fraction = fraction (the same record class)."""
    return settings._replace(start_fraction=fraction)


@overload(with_start, inline="always")
def _with_start_compiled(settings, fraction):
    record = settings.instance_class

    def impl(settings, fraction):
        return record(settings.warmup, settings.periods, settings.wait, settings.wait_or_substitute,
                      settings.partial, settings.defection, settings.customers, settings.window,
                      settings.threshold, settings.defect_probability, settings.expedite,
                      settings.expedite_capacity, settings.moq, settings.pack_size, settings.promised,
                      settings.vehicle_capacity, settings.n_tiers, settings.allocation, fraction)
    return impl


@njit(cache=True)
def simulate_batch(candidates, order_start, order_offset, order_size, order_customer, u_reaction, u_defect,
                   transmittal, processing, delivery, lead_time, lead_offset, n_modes, expedite_lead_time,
                   order_tier, settings, starts, result, short):
    """simulate_candidates on every candidate for each replication r < len(starts), on the streams of
    a kernel_streams.StreamBatch (its fields as stream_draws.sku_streams returns them: replication
    r's orders order_offset[r]:order_offset[r+1], its lead times lead_time[lead_offset[r]:
    lead_offset[r+1]] as [n_modes, W_r]), replication r starting at fraction starts[r]
    (simulation.start.replication_start). One call per SKU instead of one per replication: the
    Python work of a call (records built, arguments unboxed) is paid once.

    result: float64[n, len(starts), width], result[k, r] receives candidate k's counters of
    replication r; short: bool[n, len(starts)], short[k, r] set when candidate k ran out of
    replication r's lead-time draws (its result row is then void: run it again on the full lead
    times). Returns how many (k, r) did."""
    n = candidates.family.shape[0]
    todo = np.empty(n, np.bool_)
    out = np.zeros((n, result.shape[2]))
    missing = 0
    for r in range(starts.shape[0]):
        a, b = order_offset[r], order_offset[r + 1]
        lead = lead_time[lead_offset[r]:lead_offset[r + 1]]
        width = lead.shape[0] // n_modes if n_modes > 0 else 0
        draws = Draws(order_start[r], order_size[a:b], order_customer[a:b], u_reaction[a:b], u_defect[a:b],
                      transmittal[a:b], processing[a:b], delivery[a:b], lead.reshape((n_modes, width)),
                      expedite_lead_time[a:b], order_tier[a:b])
        todo[:] = True
        missing += simulate_candidates(candidates, todo, draws, with_start(settings, starts[r]), out)
        result[:, r, :] = out
        short[:, r] = todo
    return missing
