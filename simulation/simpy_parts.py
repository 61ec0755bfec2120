"""The actors of the SimPy reference model: ledger, customer base, customer orders, warehouse, buyer.

These are plain objects holding state; `simulation.simpy_model` moves them through time with SimPy
processes. Every rule here is one sentence of docs/simulation.md, named the way a warehouse would
name it (on hand, on order, backorder queue, replenishment cycle, ...).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from simulation.counters import INDEX, N_COUNTERS, N_TIER_COUNTERS, TIER_INDEX
from simulation.policy_arrays import FAMILY_CODE
from simulation.start import start_on_hand

BASE_STOCK, SS, RQ, RS, RSS, CAPPED = (
    FAMILY_CODE[f] for f in ("base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock")
)
ON_TIME_SLACK = 1e-9  # a cycle time equal to the promise (up to float noise) is on time


def vehicles_for(units: int, capacity: float | None) -> int:
    """Vehicles needed to carry `units`: ceil(units / capacity), one when the capacity is unlimited."""
    if capacity is None:
        return 1
    return int(math.ceil(units / capacity))


class Ledger:
    """The raw counters of one replication; an event is booked only in counted periods (t >= warmup).
    With customer tiers (n_tiers > 1) each tier has its own counters as well (TIER_COUNTERS)."""

    def __init__(self, warmup: int, n_tiers: int = 1):
        self.warmup = warmup
        self.values = [0.0] * N_COUNTERS  # plain floats: far cheaper to add to than numpy scalars
        self.tiers = [[0.0] * N_TIER_COUNTERS for _ in range(n_tiers)] if n_tiers > 1 else None

    def book(self, name: str, amount: float, period: int, tier: int | None = None) -> None:
        """Add `amount` to counter `name` for an event of period `period` (warm-up events are ignored),
        and to tier `tier`'s counter of that name when given (and there are tiers)."""
        if period >= self.warmup:
            self.values[INDEX[name]] += amount
            if tier is not None and self.tiers is not None:
                self.tiers[tier][TIER_INDEX[name]] += amount

    def book_tier(self, tier: int, name: str, amount: float, period: int) -> None:
        """Add to one tier's counter only (a per-tier split of a SKU counter booked otherwise)."""
        if period >= self.warmup and self.tiers is not None:
            self.tiers[tier][TIER_INDEX[name]] += amount

    def counters(self) -> np.ndarray:
        """The counters as float64[counter_width(n_tiers)]: COUNTERS order, then each tier's."""
        flat = list(self.values)
        for row in self.tiers or ():
            flat.extend(row)
        return np.asarray(flat, dtype=np.float64)



class CustomerOrder:
    """One customer order and its order cycle: transmittal + processing + wait for stock + delivery."""

    __slots__ = ("index", "period", "customer", "size", "owed", "transmittal", "processing", "delivery", "tier")

    def __init__(self, index, period, customer, size, transmittal, processing, delivery, tier=0):
        self.tier = tier  # customer tier (0 = top)
        self.index = index
        self.period = period
        self.customer = customer
        self.size = size
        self.owed = size  # units not yet shipped
        self.transmittal = transmittal
        self.processing = processing
        self.delivery = delivery

    def cycle_time(self, completion_period: int) -> float:
        """Order cycle time in periods when the last unit leaves the warehouse in `completion_period`."""
        return self.transmittal + self.processing + float(completion_period - self.period) + self.delivery

    def complete(self, completion_period: int, ledger: Ledger, promised) -> None:
        """The last unit has shipped: book the completion and its cycle time (in the order's period)
        against its tier's promise (`promised`: periods, one per tier)."""
        ct = self.cycle_time(completion_period)
        k = self.tier
        ledger.book("completed_orders", 1, self.period, k)
        ledger.book("cycle_time_sum", ct, self.period, k)
        ledger.book("cycle_time_sq_sum", ct * ct, self.period, k)
        if ct <= promised[k] + ON_TIME_SLACK:
            ledger.book("on_time_orders", 1, self.period, k)


class CustomerBase:
    """The SKU's customers; with a repeated-stockout rule, a customer who meets `threshold` stockouts
    within `window` periods defects with probability `defect_probability` and orders no more."""

    def __init__(self, customers: int, rule):
        self.active = [True] * customers
        self.rule = rule  # scenario RepeatedStockout, or None (no defection)
        self.history = [deque() for _ in range(customers)] if rule is not None else None

    def is_active(self, customer: int) -> bool:
        return self.active[customer]

    def met_stockout(self, customer: int, period: int, u_defect: float) -> bool:
        """Record a stockout met by `customer`; return True when the customer defects now."""
        if self.rule is None:
            return False
        h = self.history[customer]
        h.append(period)
        while h and h[0] <= period - self.rule.window:  # stockouts older than the window are forgotten
            h.popleft()
        if len(h) >= self.rule.threshold and u_defect < self.rule.defect_probability:
            self.active[customer] = False
            return True
        return False


def critical_levels(crit: int, n_tiers: int, allocation: str) -> list[int]:
    """Each tier's critical level (units kept for the tiers above) for a candidate whose lowest tier's
    is `crit`: round(crit * k / (K - 1)), half up, under critical_level allocation; 0 otherwise
    (docs/tiers.md)."""
    if allocation != "critical_level" or crit <= 0:
        return [0] * n_tiers
    return [(2 * crit * k + (n_tiers - 1)) // (2 * (n_tiers - 1)) for k in range(n_tiers)]


class Warehouse:
    """Stock of one SKU: on hand, the backorder queues (one FIFO queue, or one per customer tier
    served from the top under priority and critical_level allocation), expedited units still on
    their way, and the replenishment cycle in progress (did it see a stockout?). Each tier is served
    only from the units on hand above its critical level (`reserve`, all 0 but under critical_level)."""

    def __init__(self, on_hand: int, partial_shipments: bool, reserve: list[int] | None = None,
                 per_tier_queues: bool = False):
        self.on_hand = on_hand
        self.partial = partial_shipments
        self.reserve = reserve or [0]
        n_queues = len(self.reserve) if per_tier_queues else 1
        self.queues: list[deque[CustomerOrder]] = [deque() for _ in range(n_queues)]
        self.backlog = 0  # units owed to waiting orders (part of inventory position)
        self.expedited_owed = 0  # expedited units not yet delivered (owed, but covered: not in IP)
        self.tier_owed = [0] * len(self.reserve)  # units owed to each tier's orders, expedited included
        self.received_now = False
        self.stockout_in_cycle = False

    def receive(self, units: int) -> None:
        """A carrier unloads a replenishment into on hand."""
        self.on_hand += units
        self.received_now = True

    def pick(self, order: CustomerOrder) -> int:
        """Ship what the rules allow from on hand above the order's tier's reserve to a new order;
        return the units filled. (Without a reserve, a negative on hand, possible only at the start
        of an rQ candidate with s + Q < 0, is what there is.)"""
        reserve = self.reserve[order.tier]
        available = self.on_hand - reserve
        if available >= order.size:
            filled = order.size
        elif self.partial and (reserve == 0 or available > 0):
            filled = available
        else:
            filled = 0
        self.on_hand -= filled
        order.owed -= filled
        return filled

    def wait(self, order: CustomerOrder) -> None:
        """A short order joins the tail of its queue (the FIFO queue, or its tier's)."""
        self.queues[order.tier if len(self.queues) > 1 else 0].append(order)
        self.backlog += order.owed
        self.tier_owed[order.tier] += order.owed

    def serve_backorders(self):
        """Ship to waiting orders while stock lasts, queue by queue from the top tier, oldest first,
        each from the units above its tier's reserve; yield each order completed."""
        for q, queue in enumerate(self.queues):
            reserve = self.reserve[q] if len(self.queues) > 1 else 0
            while queue and self.on_hand > reserve:
                order = queue[0]
                available = self.on_hand - reserve
                if available >= order.owed:
                    ship = order.owed
                elif self.partial:
                    ship = available
                else:
                    return  # a complete-only order that cannot ship blocks those behind it (no overtaking)
                self.on_hand -= ship
                self.backlog -= ship
                self.tier_owed[order.tier] -= ship
                order.owed -= ship
                if order.owed == 0:
                    queue.popleft()
                    yield order


class Buyer:
    """The replenishment buyer of one candidate policy: computes the order at a review and hands it
    to a carrier of the candidate's transport mode."""

    def __init__(self, family, s, S, Q, R, cap, moq, pack_size, lead_times, vehicle_capacity):
        self.family, self.s, self.S, self.Q, self.R, self.cap = family, s, S, Q, R, cap
        self.moq, self.pack_size = moq, pack_size
        self.lead_times = lead_times  # lead time of the j-th order placed, whole periods
        self.vehicle_capacity = vehicle_capacity
        self.placed = 0  # orders placed so far this replication (warm-up included)
        self.on_order = 0  # units placed, not yet received

    def initial_on_hand(self, fraction: float) -> int:
        """Start of a replication at `fraction` of its cycle (simulation.start, the kernel's rule)."""
        return int(start_on_hand(self.family, self.s, self.S, self.Q, self.moq, self.pack_size, fraction))

    def quantity(self, position: int) -> int:
        """Units to order at inventory position `position` (0: no order), after MOQ and pack size."""
        f = self.family
        if f in (SS, RSS):
            q = self.S - position if position <= self.s else 0
        elif f == RQ:
            # k, the smallest integer with position + Q*k > s
            q = self.Q * ((self.s - position) // self.Q + 1) if position <= self.s and self.Q > 0 else 0
        elif f == CAPPED:
            q = min(self.S - position, self.cap) if position < self.S else 0
        else:  # base_stock, RS
            q = self.S - position if position < self.S else 0
        if q <= 0:
            return 0
        q = max(q, self.moq)
        return -(-q // self.pack_size) * self.pack_size  # round up to whole packs

    def next_lead_time(self) -> int:
        """Lead time of the next order placed with the candidate's mode (j-th draw of its stream)."""
        lead = int(self.lead_times[self.placed])
        self.placed += 1
        return lead
