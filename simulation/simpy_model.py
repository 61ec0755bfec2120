"""The SimPy reference model: one SKU's order cycles, stockouts and replenishments, period by period.

Each candidate policy and replication is its own SimPy world. Time is measured in periods; the steps
of period t (docs/simulation.md, "One period t") happen at fixed fractional offsets so SimPy runs
them in exactly the documented order:

    t + 0.000  the buyer reviews (periodic review, t % R == 0)
    t + 0.125  carriers unload replenishments due in t
    t + 0.250  when anything arrived, the warehouse closes receiving (a replenishment cycle ends)
               and ships backorders FIFO
    t + 0.375  expedite carriers hand their units to waiting customers
    t + 0.500  customers place the period's orders, one at a time; the warehouse picks each one,
               the customer reacts to a stockout, and a continuous-review buyer reviews after it
    t + 0.875  the bookkeeper closes the period (on hand, in transit, backlog)

The offsets are exact binary fractions, so `t + offset` never drifts. Every draw comes from
`simulation.streams` (common random numbers, identical to the kernel's).
"""

from __future__ import annotations

import numpy as np
import simpy

from scenarios.schema import Scenario, Sku
from simulation.counters import counter_width
from simulation.policy_arrays import PolicyArrays
from simulation.simpy_parts import Buyer, CustomerBase, CustomerOrder, Ledger, Warehouse, critical_levels, vehicles_for
from simulation.start import FULL, replication_start
from simulation.streams import SkuStreams, sku_streams, tier_customers

REVIEW, RECEIVE, BACKORDERS, EXPEDITED, CUSTOMERS, CLOSE = 0.0, 0.125, 0.25, 0.375, 0.5, 0.875


class World:
    """One candidate policy in one replication: the warehouse, its buyer, the customer base, the
    draws of the replication and the ledger of raw counters."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, sku: Sku, streams: SkuStreams, arrays: PolicyArrays, k: int,
                 start: float = FULL):
        self.env = env
        self.streams = streams
        self.T = streams.periods
        self.warmup = scenario.horizon.warmup
        n_tiers = scenario.tier_count()
        self.ledger = Ledger(self.warmup, n_tiers)
        mode = scenario.transport[int(arrays.mode[k])]
        self.buyer = Buyer(
            family=int(arrays.family[k]), s=int(arrays.s[k]), S=int(arrays.S[k]), Q=int(arrays.Q[k]),
            R=int(arrays.R[k]), cap=int(arrays.cap[k]),
            moq=int(scenario.policies.moq), pack_size=int(scenario.policies.pack_size),
            lead_times=streams.lead_time[mode.name], vehicle_capacity=mode.vehicle_capacity,
        )
        reaction = scenario.customer_reaction
        self.partial = reaction.partial_shipments
        allocation = scenario.customer_tiers.allocation if scenario.customer_tiers is not None else "fifo"
        self.warehouse = Warehouse(self.buyer.initial_on_hand(start), reaction.partial_shipments,
                                   critical_levels(int(arrays.crit[k]), n_tiers, allocation),
                                   per_tier_queues=allocation != "fifo")
        self.reactions = scenario.tier_reactions()  # (wait, wait + substitute) per tier
        defection = reaction.repeated_stockout if sku.customers is not None else None
        customers = sku.customers or 1
        if defection is not None and scenario.customer_tiers is not None:  # each tier's own customers
            customers = int(tier_customers(scenario.tier_shares(sku), customers).sum())
        self.customer_base = CustomerBase(customers, defection)
        self.promised = scenario.tier_promised()
        self.expedite_capacity = None
        self.expedite = scenario.expedite is not None
        if self.expedite:
            self.expedite_capacity = scenario.mode(scenario.expedite.mode).vehicle_capacity

    # ------------------------------------------------------------------ the buyer
    def review(self, t: int, continuous: bool) -> None:
        """The buyer looks at the inventory position and, if the policy says so, orders."""
        w, b = self.warehouse, self.buyer
        position = w.on_hand + b.on_order - w.backlog
        q = b.quantity(position)
        if q <= 0:
            return
        lead = b.next_lead_time()
        # An order placed after the day's customers (continuous review) cannot arrive before tomorrow.
        arrival = t + (max(lead, 1) if continuous else lead)
        b.on_order += q
        self.ledger.book("replenishment_orders", 1, t)
        self.ledger.book("replenishment_units", q, t)
        self.ledger.book("vehicles", vehicles_for(q, b.vehicle_capacity), t)
        self.env.process(carrier(self, q, arrival))

    # ------------------------------------------------------------------ a customer order
    def customer_order(self, i: int, t: int) -> bool:
        """Customer order i arrives in period t; return True when it met a stockout."""
        st, ledger, w = self.streams, self.ledger, self.warehouse
        c = int(st.order_customer[i])
        if not self.customer_base.is_active(c):
            return False  # a defected customer's order never comes
        k = int(st.order_tier[i])
        order = CustomerOrder(
            i, t, c, int(st.order_size[i]), float(st.transmittal[i]), float(st.processing[i]), float(st.delivery[i]), k
        )
        ledger.book("demand_units", order.size, t, k)
        ledger.book("customer_orders", 1, t, k)
        ledger.book("filled_units", w.pick(order), t, k)
        short = order.owed
        if short == 0:
            ledger.book("orders_complete_at_once", 1, t, k)
            order.complete(t, ledger, self.promised)
        else:
            w.stockout_in_cycle = True
            u = float(st.u_reaction[i])
            wait_share, wait_or_substitute = self.reactions[k]
            if u < wait_share:
                self.customer_waits(order, t)
            elif u < wait_or_substitute:
                # the rest ships now as another of our products: the sale is kept, the margin is not
                ledger.book("substituted_units", short, t, k)
                order.owed = 0
                order.complete(t, ledger, self.promised)
            else:
                ledger.book("lost_units", short, t, k)  # the customer buys elsewhere
            if self.customer_base.met_stockout(c, t, float(st.u_defect[i])):
                ledger.book("customers_lost", 1, t, k)
        if self.buyer.R == 0:
            self.review(t, continuous=True)
        return short > 0

    def customer_waits(self, order: CustomerOrder, t: int) -> None:
        """The customer waits for the short units: a backorder, or an expedite shipment when allowed."""
        short, ledger, w = order.owed, self.ledger, self.warehouse
        ledger.book("backordered_units", short, t, order.tier)
        ledger.book("backordered_orders", 1, t, order.tier)
        if not self.expedite:
            w.wait(order)
            return
        ledger.book("expedite_shipments", vehicles_for(short, self.expedite_capacity), t)
        ledger.book("expedite_units", short, t)
        lead = int(self.streams.expedite_lead_time[order.index])
        if lead == 0:
            order.owed = 0
            order.complete(t, ledger, self.promised)
        else:
            w.expedited_owed += short
            w.tier_owed[order.tier] += short
            self.env.process(expedite_carrier(self, order, t + lead))

    def run(self) -> np.ndarray:
        """Simulate all T periods; return the raw counters of this candidate and replication."""
        env = self.env
        if self.buyer.R >= 1:
            env.process(buyer_reviews(self))
        env.process(customers(self))
        env.process(bookkeeper(self))
        env.run(until=self.T)
        # The replenishment cycle still open at the end counts as one more.
        self.ledger.book("cycles", 1, self.T - 1)
        if self.warehouse.stockout_in_cycle:
            self.ledger.book("cycles_with_stockout", 1, self.T - 1)
        return self.ledger.counters()


# ---------------------------------------------------------------------- processes
def at(world: World, period: int, offset: float) -> simpy.Timeout:
    """A timeout until step `offset` of `period`."""
    return world.env.timeout(period + offset - world.env.now)


def buyer_reviews(world: World):
    """Periodic review: every R periods, at the start of the period, the buyer reviews."""
    for t in range(0, world.T, world.buyer.R):
        yield at(world, t, REVIEW)
        world.review(t, continuous=False)


def carrier(world: World, units: int, arrival: int):
    """A replenishment travels for its lead time and is unloaded into on hand (orders may cross)."""
    yield at(world, arrival, RECEIVE)
    if not world.warehouse.received_now:  # the first truck of the day calls the warehouse crew
        world.env.process(warehouse_morning(world, arrival))
    world.buyer.on_order -= units
    world.warehouse.receive(units)


def expedite_carrier(world: World, order: CustomerOrder, arrival: int):
    """An expedite shipment goes straight to its waiting customer (never through on hand)."""
    yield at(world, arrival, EXPEDITED)
    world.warehouse.expedited_owed -= order.owed
    world.warehouse.tier_owed[order.tier] -= order.owed
    order.owed = 0
    order.complete(arrival, world.ledger, world.promised)


def warehouse_morning(world: World, t: int):
    """After the carriers of period t unloaded: close receiving (a replenishment cycle ends), then ship
    backorders, oldest first. Only a receipt can free stock for waiting orders (after step 3 either
    no one waits, or on hand is short of the first owed order), so no receipt, no morning work."""
    w, ledger = world.warehouse, world.ledger
    yield at(world, t, BACKORDERS)
    ledger.book("cycles", 1, t)
    if w.stockout_in_cycle:
        ledger.book("cycles_with_stockout", 1, t)
    w.stockout_in_cycle = False
    w.received_now = False
    for order in w.serve_backorders():
        order.complete(t, ledger, world.promised)


def customers(world: World):
    """Each period the customers' orders of that period arrive, one at a time, in stream order
    (periods without orders are skipped: nobody calls)."""
    start = world.streams.order_start
    for t in np.flatnonzero(np.diff(start)).tolist():
        yield at(world, t, CUSTOMERS)
        stockout = False
        for i in range(int(start[t]), int(start[t + 1])):
            stockout |= world.customer_order(i, t)
        if stockout:
            world.ledger.book("stockout_periods", 1, t)


def bookkeeper(world: World):
    """End of each counted period: add on hand, in transit and backlog owed to their sums."""
    w, b, ledger = world.warehouse, world.buyer, world.ledger
    for t in range(world.T):
        yield at(world, t, CLOSE)
        ledger.book("on_hand_sum", w.on_hand, t)
        ledger.book("in_transit_sum", b.on_order, t)
        ledger.book("backlog_sum", w.backlog + w.expedited_owed, t)
        if ledger.tiers is not None:
            for k, owed in enumerate(w.tier_owed):
                ledger.book_tier(k, "backlog_sum", owed, t)


def simulate_sku(scenario: Scenario, sku: Sku, arrays: PolicyArrays, replications: int, seed: int) -> np.ndarray:
    """Raw counters float64[candidates, replications, N_COUNTERS] of one SKU (COUNTERS order);
    replication r reads `streams.sku_streams(scenario, sku, r, seed)`, shared by every candidate."""
    result = np.zeros((len(arrays), replications, counter_width(scenario.tier_count())))
    for r in range(replications):
        streams = sku_streams(scenario, sku, r, seed)
        for k in range(len(arrays)):
            start = replication_start(scenario.horizon.start, r, replications)
            result[k, r] = World(simpy.Environment(), scenario, sku, streams, arrays, k, start).run()
    return result
