"""Random streams: every random draw of the simulation, pre-drawn per (seed, sku, replication, purpose).

Both engines read these arrays and nothing else that is random, so candidates are compared under
common random numbers and the SimPy model and the kernel see identical draws (docs/simulation.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from scenarios.schema import (
    Compound,
    Empirical,
    Fixed,
    Gamma,
    NegBin,
    Normal,
    Poisson,
    Scenario,
    Sku,
    Uniform,
)

# Fixed codes: changing one changes every draw of that purpose, so they never change.
PURPOSE = {
    "orders": 1,
    "sizes": 2,
    "customer": 3,
    "reaction": 4,
    "defect": 5,
    "transmittal": 6,
    "processing": 7,
    "delivery": 8,
    "expedite": 9,
    "tier": 10,
    "lead_time": 100,  # + position of the mode in scenario.transport
    # A tier's own demand (customer_tiers.demand own), + the tier's position (0 = top):
    "tier_orders": 1000,
    "tier_sizes": 2000,
    "tier_arrival": 3000,  # where the tier's orders fall among a period's orders
}


def sku_key(sku_id: str) -> int:
    """Stable 63-bit key of a SKU id (independent of the SKU's position in the scenario)."""
    return int.from_bytes(hashlib.blake2b(sku_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def rng(seed: int, sku_id: str, replication: int, purpose: int) -> np.random.Generator:
    """The generator for one (seed, sku, replication, purpose)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, sku_key(sku_id), replication, purpose])))


def _half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=float) + 0.5)


def draw_whole(dist, g: np.random.Generator, n: int) -> np.ndarray:
    """n whole, non-negative draws (units or periods) from a simple distribution, as int64."""
    if n == 0:
        return np.zeros(0, np.int64)
    if isinstance(dist, Fixed):
        x = np.full(n, _half_up(dist.value))
    elif isinstance(dist, Poisson):
        x = g.poisson(dist.mean, n)
    elif isinstance(dist, NegBin):
        m, v = dist.mean, (dist.cv * dist.mean) ** 2
        r = m * m / (v - m)
        x = g.negative_binomial(r, r / (r + m), n)
    elif isinstance(dist, Normal):
        x = np.maximum(0.0, _half_up(g.normal(dist.mean, dist.sd, n)))
    elif isinstance(dist, Gamma):
        x = _half_up(g.gamma(1.0 / dist.cv**2, dist.mean * dist.cv**2, n))
    elif isinstance(dist, Uniform):
        lo, hi = int(np.ceil(dist.low)), int(np.floor(dist.high))
        x = g.integers(lo, hi + 1, n) if lo <= hi else np.full(n, _half_up(dist.low))
    elif isinstance(dist, Empirical):
        x = _half_up(g.choice(np.asarray(dist.values, dtype=float), n))
    else:
        raise TypeError(f"no whole-number sampler for {dist!r}")
    return np.maximum(np.asarray(x), 0).astype(np.int64)


def draw_real(dist, g: np.random.Generator, n: int) -> np.ndarray:
    """n real, non-negative draws (periods) from a simple distribution, as float64 (not rounded)."""
    if n == 0:
        return np.zeros(0)
    if isinstance(dist, Fixed):
        x = np.full(n, float(dist.value))
    elif isinstance(dist, Poisson):
        x = g.poisson(dist.mean, n).astype(float)
    elif isinstance(dist, NegBin):
        x = draw_whole(dist, g, n).astype(float)
    elif isinstance(dist, Normal):
        x = g.normal(dist.mean, dist.sd, n)
    elif isinstance(dist, Gamma):
        x = g.gamma(1.0 / dist.cv**2, dist.mean * dist.cv**2, n)
    elif isinstance(dist, Uniform):
        x = g.uniform(dist.low, dist.high, n)
    elif isinstance(dist, Empirical):
        x = g.choice(np.asarray(dist.values, dtype=float), n)
    else:
        raise TypeError(f"no sampler for {dist!r}")
    return np.maximum(x, 0.0).astype(np.float64)


@dataclass(frozen=True)
class SkuStreams:
    """Pre-drawn random arrays of one SKU and replication (see docs/simulation.md for each)."""

    periods: int  # T = warmup + counted periods
    order_start: np.ndarray  # int64[T+1]
    order_size: np.ndarray  # int64[N]
    order_customer: np.ndarray  # int64[N]
    u_reaction: np.ndarray  # float64[N]
    u_defect: np.ndarray  # float64[N]
    transmittal: np.ndarray  # float64[N]
    processing: np.ndarray  # float64[N]
    delivery: np.ndarray  # float64[N]
    lead_time: dict  # mode name -> int64[T+N+1]
    expedite_lead_time: np.ndarray  # int64[N] (zeros when no expedite)
    order_tier: np.ndarray  # int64[N]: the customer tier of each order (0 = top; zeros without tiers)

    @property
    def n_orders(self) -> int:
        return int(self.order_size.shape[0])


def demand_orders(sku: Sku, seed: int, replication: int, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """Customer orders of `periods` periods: (order_start int64[T+1], order_size int64[N], sizes >= 1)."""
    if sku.demand is None:
        raise ValueError(f"SKU {sku.id} has no demand model")
    return orders_from(sku.demand, rng(seed, sku.id, replication, PURPOSE["orders"]),
                       lambda: rng(seed, sku.id, replication, PURPOSE["sizes"]), periods)


def orders_from(demand, g_orders, sizes_generator, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """(order_start int64[T+1], order_size int64[N]) of `periods` periods of `demand`, drawn from
    g_orders (and, for compound demand, the generator sizes_generator() returns): the one rule both
    engines follow (the kernel passes its own fast generators, with the same states)."""
    if isinstance(demand, Compound):
        counts = draw_whole(demand.orders, g_orders, periods)
        sizes = draw_whole(demand.size, sizes_generator(), int(counts.sum()))
        period_of = np.repeat(np.arange(periods), counts)
        keep = sizes > 0  # an order of size 0 is no order
        sizes, period_of = sizes[keep], period_of[keep]
    elif isinstance(demand, Empirical) and demand.block is not None:
        from scenarios.demand_fit import block_bootstrap  # a history's series, resampled in blocks

        series = block_bootstrap(np.asarray(demand.values, dtype=float), demand.block, periods, g_orders)
        per_period = np.maximum(_half_up(series), 0).astype(np.int64)
        period_of = np.nonzero(per_period > 0)[0]
        sizes = per_period[period_of]
    else:
        per_period = draw_whole(demand, g_orders, periods)
        period_of = np.nonzero(per_period > 0)[0]
        sizes = per_period[period_of]
    order_start = np.searchsorted(period_of, np.arange(periods + 1), side="left").astype(np.int64)
    return order_start, sizes.astype(np.int64)


def tier_orders(models, seed: int, sku_id: str, replication: int, periods: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer orders when each tier has its own demand model (`models`, top tier first):
    (order_start int64[T+1], order_size int64[N], order_tier int64[N]). Tier k's orders are
    orders_from(models[k]) on its own streams (tier_orders + k, tier_sizes + k), so a change in one
    tier's model leaves every other tier's orders unchanged (common random numbers per tier). Each
    order also draws a uniform key (tier_arrival + k); inside a period the orders of all tiers come
    in the order of their keys, so no tier is served first by construction (docs/tiers.md)."""
    periods_of, sizes, tiers, keys = [], [], [], []
    for k, model in enumerate(models):
        start, size = orders_from(model, rng(seed, sku_id, replication, PURPOSE["tier_orders"] + k),
                                  lambda k=k: rng(seed, sku_id, replication, PURPOSE["tier_sizes"] + k), periods)
        periods_of.append(np.repeat(np.arange(periods, dtype=np.int64), np.diff(start)))
        sizes.append(size)
        tiers.append(np.full(size.shape[0], k, np.int64))
        keys.append(rng(seed, sku_id, replication, PURPOSE["tier_arrival"] + k).random(size.shape[0]))
    period_of = np.concatenate(periods_of)
    order = np.lexsort((np.concatenate(tiers), np.concatenate(keys), period_of))  # ties (never in practice): by tier
    order_start = np.searchsorted(period_of[order], np.arange(periods + 1), side="left").astype(np.int64)
    return order_start, np.concatenate(sizes)[order].astype(np.int64), np.concatenate(tiers)[order]


def tier_customers(shares, customers: int) -> np.ndarray:
    """Customers of each tier (int64[K]): max(1, round(share_k x customers)), half up (docs/tiers.md)."""
    shares = np.asarray(shares, dtype=np.float64)
    return np.maximum(np.floor(shares * customers + 0.5), 1).astype(np.int64)


def assign_tiers(u_tier: np.ndarray, shares, customers: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(order_tier int64[N], order_customer int64[N] or None) of orders with tier draws u_tier
    (float64[N] in [0, 1)) and the SKU's tier shares (K, top tier first, sum 1), docs/tiers.md: the
    tier k with cum[k-1] <= u < cum[k]; with `customers` (defection), the order's customer is its
    position inside its tier's interval among the tier's tier_customers(...) customers, numbered
    tier after tier. Both engines call this on the same draws, so they see the same tiers."""
    shares = np.asarray(shares, dtype=np.float64)
    K = shares.shape[0]
    cuts = np.cumsum(shares)[:-1]
    tier = np.searchsorted(cuts, u_tier, side="right").astype(np.int64)
    if not np.all(shares > 0):
        # Rounding can put a draw at the edge of a tier with no share: give it to the nearest tier
        # above with a share (below if none), so a tier with share 0 never has an order.
        positive = np.flatnonzero(shares > 0)
        nearest = np.array([positive[positive <= k].max() if (positive <= k).any() else positive.min()
                            for k in range(K)], np.int64)
        tier = nearest[tier]
    if customers is None:
        return tier, None
    lower = np.concatenate(([0.0], cuts))
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (u_tier - lower[tier]) / shares[tier]  # the draw's position inside its tier's interval
    return tier, tier_customer(tier, inside, shares, customers)


def tier_customer(order_tier: np.ndarray, inside: np.ndarray, shares, customers: int) -> np.ndarray:
    """The customer (int64[N], numbered tier after tier) of orders of tiers `order_tier` whose
    uniform `inside` (float64[N], in [0, 1); NaN counts as 0) picks one of the tier's
    tier_customers(shares, customers) customers: floor(inside x n_k)."""
    shares = np.asarray(shares, dtype=np.float64)
    n_k = tier_customers(shares, customers)
    first = np.concatenate(([0], np.cumsum(n_k)[:-1]))
    position = np.floor(np.nan_to_num(inside, nan=0.0) * n_k[order_tier])
    position = np.clip(position, 0, n_k[order_tier] - 1).astype(np.int64)
    return first[order_tier] + position


def tiered(scenario: Scenario) -> bool:
    """Whether orders carry a tier (the scenario has customer tiers)."""
    return scenario.customer_tiers is not None


def sku_streams(scenario: Scenario, sku: Sku, replication: int, seed: int | None = None) -> SkuStreams:
    """All random arrays of one SKU and replication; `seed` defaults to the scenario's seed."""
    seed = scenario.seed if seed is None else int(seed)
    T = scenario.horizon.warmup + scenario.horizon.periods
    own = scenario.tier_demands(sku)
    if own is None:
        order_start, order_size = demand_orders(sku, seed, replication, T)
    else:
        order_start, order_size, own_tier = tier_orders(own, seed, sku.id, replication, T)
    n = int(order_size.shape[0])
    customers = sku.customers or 1
    order_customer = rng(seed, sku.id, replication, PURPOSE["customer"]).integers(0, customers, n).astype(np.int64)
    u_reaction = rng(seed, sku.id, replication, PURPOSE["reaction"]).random(n)
    u_defect = rng(seed, sku.id, replication, PURPOSE["defect"]).random(n)
    oc = scenario.order_cycle
    transmittal = draw_real(oc.transmittal, rng(seed, sku.id, replication, PURPOSE["transmittal"]), n)
    processing = draw_real(oc.processing, rng(seed, sku.id, replication, PURPOSE["processing"]), n)
    delivery = draw_real(oc.delivery, rng(seed, sku.id, replication, PURPOSE["delivery"]), n)
    lead_time = {
        m.name: draw_whole(m.lead_time, rng(seed, sku.id, replication, PURPOSE["lead_time"] + k), T + n + 1)
        for k, m in enumerate(scenario.transport)
    }
    if scenario.expedite is not None:
        mode = scenario.mode(scenario.expedite.mode)
        expedite_lead_time = draw_whole(mode.lead_time, rng(seed, sku.id, replication, PURPOSE["expedite"]), n)
    else:
        expedite_lead_time = np.zeros(n, np.int64)
    order_tier = np.zeros(n, np.int64)
    if tiered(scenario):
        u_tier = rng(seed, sku.id, replication, PURPOSE["tier"]).random(n)
        defection = scenario.customer_reaction.repeated_stockout is not None and sku.customers is not None
        if own is None:  # the draw picks the tier, and the customer by its position inside the tier
            order_tier, by_tier = assign_tiers(u_tier, scenario.tier_shares(sku), sku.customers if defection else None)
        else:  # the tier is the order's own; the draw picks only the customer
            order_tier = own_tier
            by_tier = tier_customer(own_tier, u_tier, scenario.tier_shares(sku), sku.customers) if defection else None
        if by_tier is not None:
            order_customer = by_tier
    return SkuStreams(
        periods=T,
        order_start=order_start,
        order_size=order_size,
        order_customer=order_customer,
        u_reaction=u_reaction,
        u_defect=u_defect,
        transmittal=transmittal,
        processing=processing,
        delivery=delivery,
        lead_time=lead_time,
        expedite_lead_time=expedite_lead_time,
        order_tier=order_tier,
    )
