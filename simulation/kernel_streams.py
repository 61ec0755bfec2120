"""The random streams of `simulation.streams`, drawn faster for the kernel: same numbers, less overhead.

`streams.sku_streams` builds one `Generator(PCG64(SeedSequence([seed, sku_key, replication,
purpose])))` per purpose and replication and draws each array with a numpy call: ~10 Python-level
calls of a few microseconds each per (SKU, replication); `benchmarks/streams.py --before c9a13f9`
printed 100.2 us against 305 us of loop per (SKU, replication) for it (docs/scaling.md history). Here one compiled call (`simulation.stream_draws.sku_streams`, numba
ports of numpy's SeedSequence, PCG64 and samplers) draws every stream of a SKU for all its
replications: the Python work is done once per SKU and call (the "plan": which distribution and
parameters each stream has), not per replication and purpose.

Streams the kernel will not read for this scenario and these candidates (a mode no candidate uses,
defection draws without defection, a reaction draw when one reaction has share 1) are not drawn
(zeros), and a fixed distribution needs no generator at all. A distribution outside the compiled
samplers' range (a parameter above 1e12, which scenario validation already refuses, or one numpy
would refuse) is drawn by `streams.sku_streams` itself, so results and errors are numpy's in every
case. A SKU whose customer tiers have their own demand models (`scenario.tier_demands`) is drawn
compiled too: one order stream per tier, merged per period as `streams.tier_orders` merges them
(stream_draws.DEMAND_TIERS), each tier's distribution under the same rule. tests/simulation/
test_kernel_streams.py and test_stream_draws.py check every array against `streams.sku_streams`.

Reusing drawn streams across evaluation calls was measured and left out: a run visits the SKUs in
order, round after round (initial candidates, refinements, contenders, verification), so a cache
smaller than all SKUs' streams never hits (hit rates traced once on bench_1000 at commit c3e16e0:
0 % below half of the 1,000 SKUs, 36 % with all of them; not a benchmark), and all of them does
not fit at 100,000 SKUs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scenarios.schema import Compound, Empirical, Fixed, Gamma, NegBin, Normal, Poisson, Scenario, Sku, Uniform
from simulation import stream_draws as sd
from simulation.streams import PURPOSE, assign_tiers, sku_key, sku_streams, tier_customer

# The PCG64 default multiplier.
_PCG_MULT = (2549297995355413924 << 64) | 4865540595714422341
_M32 = 0xFFFFFFFF
_M128 = (1 << 128) - 1

# Parameters up to this size are drawn compiled; larger ones (never seen in practice) by numpy, so
# that a float -> int64 conversion out of range, or a parameter numpy refuses, behaves as numpy does.
_COMPILED_LIMIT = 1e12


def _uint32_words(n: int) -> list[int]:
    """numpy's split of a non-negative int into little-endian uint32 words (0 -> [0])."""
    if n == 0:
        return [0]
    words = []
    while n > 0:
        words.append(n & _M32)
        n >>= 32
    return words


def pcg64_states(seed: int, sku_id: str, replication: int, purposes: list[int]) -> list[tuple[int, int]]:
    """(state, inc) of PCG64(SeedSequence([seed, sku_key(sku_id), replication, purpose])) per purpose
    (the seeding `stream_draws.seed_generator` does compiled, here on Python integers)."""
    base = _uint32_words(int(seed)) + _uint32_words(sku_key(sku_id)) + _uint32_words(int(replication))
    w = sd.seed_words(np.array(base, np.uint64), np.array(purposes, np.int64))
    states = []
    for row in w.tolist():
        initstate = ((row[0] | row[1] << 32) << 64) | (row[2] | row[3] << 32)
        initseq = ((row[4] | row[5] << 32) << 64) | (row[6] | row[7] << 32)
        inc = ((initseq << 1) | 1) & _M128
        state = (inc + initstate) & _M128  # step from state 0, add initstate
        state = (state * _PCG_MULT + inc) & _M128  # step
        states.append((state, inc))
    return states


@dataclass(frozen=True)
class KernelStreams:
    """The arrays the kernel reads (docs/simulation.md); lead_time rows follow scenario.transport
    (rows of modes no candidate uses are zeros)."""

    order_start: np.ndarray
    order_size: np.ndarray
    order_customer: np.ndarray
    u_reaction: np.ndarray
    u_defect: np.ndarray
    transmittal: np.ndarray
    processing: np.ndarray
    delivery: np.ndarray
    lead_time: np.ndarray  # int64[n_modes, T+N+1]
    expedite_lead_time: np.ndarray
    order_tier: np.ndarray  # int64[N] (streams.assign_tiers)


def needs(scenario: Scenario, sku: Sku, modes_used: set[int]) -> dict:
    """Which draws the kernel reads for this SKU and these candidates' modes."""
    cr = scenario.customer_reaction
    wait_or_sub = cr.wait + cr.substitute
    # With a share of 1 (or nothing but lost sales) the reaction draw decides nothing.
    reaction = not (cr.wait == 1.0 or (cr.wait == 0.0 and wait_or_sub in (0.0, 1.0)))
    defection = cr.repeated_stockout is not None and sku.customers is not None
    if scenario.customer_tiers is not None:  # a tier's own shares may need the draw
        reaction = any(not (w == 1.0 or (w == 0.0 and ws in (0.0, 1.0))) for w, ws in scenario.tier_reactions())
    return dict(reaction=reaction, defection=defection, modes=modes_used, expedite=scenario.expedite is not None,
                tier=scenario.customer_tiers is not None)


def _small(*xs: float) -> bool:
    return all(math.isfinite(x) and abs(x) <= _COMPILED_LIMIT for x in xs)


def _whole_constant(value: float) -> int:
    """draw_whole's value of a constant: np.maximum(np.floor(value + 0.5), 0).astype(np.int64) (the
    same float operations; exact below 2**53)."""
    return max(math.floor(float(value) + 0.5), 0)


def _max0(x: float) -> float:
    """np.maximum(x, 0.0) (0.0 for -0.0, as numpy gives)."""
    return x if x > 0.0 else 0.0


def _slot(dist, whole: bool):
    """(kind, float parameters[4], int parameters[2], empirical values) of one stream's distribution,
    the parameters computed by the same expressions as streams.draw_whole / draw_real; None when
    the compiled samplers do not take it (then numpy draws the SKU's streams)."""
    fp, ip, values = [0.0] * 4, [0, 0], ()
    if isinstance(dist, Fixed):
        if not _small(float(dist.value)):
            return None
        if whole:
            ip[0] = _whole_constant(dist.value)
        else:
            fp[0] = _max0(float(dist.value))
        return sd.FIXED, fp, ip, values
    if isinstance(dist, Poisson):
        if not _small(dist.mean):
            return None
        fp[0] = float(dist.mean)
        return sd.POISSON, fp, ip, values
    if isinstance(dist, NegBin):
        m, v = dist.mean, (dist.cv * dist.mean) ** 2
        if not _small(m, v) or not v > m:
            return None
        r = m * m / (v - m)
        p = r / (r + m)
        if not (r > 0 and 0 < p <= 1 and _small(r, (1 - p) / p * (r + 10 * math.sqrt(r)))):
            return None  # numpy's own checks (or a Poisson mean too large for the compiled path)
        fp[0], fp[1] = float(r), float(p)
        return sd.NEGBIN, fp, ip, values
    if isinstance(dist, Normal):
        if not _small(dist.mean, dist.sd):
            return None
        fp[0], fp[1] = float(dist.mean), float(dist.sd)
        return sd.NORMAL, fp, ip, values
    if isinstance(dist, Gamma):
        if not _small(dist.mean, dist.cv):
            return None
        shape, scale = 1.0 / dist.cv**2, dist.mean * dist.cv**2
        if not _small(shape, scale) or shape < 0 or scale < 0:
            return None
        fp[0], fp[1] = float(shape), float(scale)
        return sd.GAMMA, fp, ip, values
    if isinstance(dist, Uniform):
        if not _small(dist.low, dist.high):
            return None
        if not whole:
            fp[0], fp[1] = float(dist.low), float(dist.high) - float(dist.low)
            return sd.UNIFORM_REAL, fp, ip, values
        lo, hi = int(np.ceil(dist.low)), int(np.floor(dist.high))
        if lo <= hi:
            ip[0], ip[1] = lo, hi - lo
            return sd.UNIFORM_INT, fp, ip, values
        ip[0] = _whole_constant(dist.low)  # an empty whole range: low, rounded
        return sd.FIXED, fp, ip, values
    if isinstance(dist, Empirical):
        values = tuple(float(x) for x in dist.values or ())
        if not values or not _small(*values):
            return None
        return sd.EMPIRICAL, fp, ip, values
    return None


@dataclass(frozen=True)
class StreamPlan:
    """What the compiled call needs of one SKU, whatever the seed and replication: per slot
    (stream_draws.S_*) its purpose code, sampler kind and parameters."""

    periods: int
    demand: int  # stream_draws.DEMAND_*
    block: int
    purposes: np.ndarray  # int64[slots]
    kinds: np.ndarray  # int64[slots]
    fparams: np.ndarray  # float64[slots, 4]
    iparams: np.ndarray  # int64[slots, 2]
    value_start: np.ndarray  # int64[slots + 1]
    values: np.ndarray  # float64[...]
    n_modes: int
    tiers: np.ndarray  # int64[K, 2]: each tier's own DEMAND_* kind and block (demand DEMAND_TIERS), else [0, 2]


_UNIT = (sd.UNIT, [0.0] * 4, [0, 0], ())  # g.random(n)


def _demand_slots(demand, orders_purpose: int, sizes_purpose: int):
    """(DEMAND_* kind, block, orders slot, sizes slot or None) of one demand model drawn by
    streams.orders_from from the generators of these purposes (a slot: (purpose, _slot(...)));
    None when numpy must draw it (a block length block_bootstrap refuses)."""
    if isinstance(demand, Compound):
        return (sd.DEMAND_COMPOUND, 1, (orders_purpose, _slot(demand.orders, True)),
                (sizes_purpose, _slot(demand.size, True)))
    if isinstance(demand, Empirical) and demand.block is not None:
        if int(demand.block) < 1:
            return None  # block_bootstrap's error
        return sd.DEMAND_BLOCK, int(demand.block), (orders_purpose, _slot(demand, True)), None
    return sd.DEMAND_SIMPLE, 1, (orders_purpose, _slot(demand, True)), None


def stream_plan(scenario: Scenario, sku: Sku, modes_used: set[int]) -> StreamPlan | None:
    """The plan of this SKU's streams for these candidates' modes; None when one of its
    distributions is outside the compiled samplers (then `streams.sku_streams` draws them)."""
    own = scenario.tier_demands(sku)
    if own is None and sku.demand is None:
        raise ValueError(f"SKU {sku.id} has no demand model")
    need = needs(scenario, sku, modes_used)
    oc = scenario.order_cycle
    n_modes = len(scenario.transport)
    # (purpose, (kind, fp, ip, values)) per slot; None = not drawn. With own tier demand, three
    # slots per tier after the lead times (stream_draws.TIER_*), and S_ORDERS, S_SIZES not drawn.
    slots: list = [None] * (sd.S_LEAD + n_modes + (3 * len(own) if own is not None else 0))
    tiers = np.zeros((0, 2), np.int64)
    if own is None:
        demand = _demand_slots(sku.demand, PURPOSE["orders"], PURPOSE["sizes"])
        if demand is None:
            return None
        kind, block, slots[sd.S_ORDERS], slots[sd.S_SIZES] = demand
    else:  # streams.tier_orders: tier k's orders, sizes and arrival keys on purposes tier_* + k
        kind, block, rows = sd.DEMAND_TIERS, 1, []
        for k, model in enumerate(own):
            demand = _demand_slots(model, PURPOSE["tier_orders"] + k, PURPOSE["tier_sizes"] + k)
            if demand is None:
                return None
            first = sd.S_LEAD + n_modes + 3 * k
            rows.append(demand[:2])
            slots[first + sd.TIER_ORDERS], slots[first + sd.TIER_SIZES] = demand[2:]
            slots[first + sd.TIER_ARRIVAL] = (PURPOSE["tier_arrival"] + k, _UNIT)
        tiers = np.array(rows, np.int64).reshape(len(own), 2)
    if need["tier"] and (own is None or need["defection"]):  # with own tiers it picks only the customer
        slots[sd.S_TIER] = (PURPOSE["tier"], _UNIT)
    if need["defection"]:
        if not 1 <= sku.customers <= _COMPILED_LIMIT:
            return None
        slots[sd.S_CUSTOMER] = (PURPOSE["customer"], (sd.UNIFORM_INT, [0.0] * 4, [0, int(sku.customers) - 1], ()))
        slots[sd.S_DEFECT] = (PURPOSE["defect"], _UNIT)
    if need["reaction"]:
        slots[sd.S_REACTION] = (PURPOSE["reaction"], _UNIT)
    for slot, name in ((sd.S_TRANSMITTAL, "transmittal"), (sd.S_PROCESSING, "processing"), (sd.S_DELIVERY, "delivery")):
        slots[slot] = (PURPOSE[name], _slot(getattr(oc, name), False))
    for k in need["modes"]:
        slots[sd.S_LEAD + k] = (PURPOSE["lead_time"] + k, _slot(scenario.transport[k].lead_time, True))
    if need["expedite"]:
        slots[sd.S_EXPEDITE] = (PURPOSE["expedite"], _slot(scenario.mode(scenario.expedite.mode).lead_time, True))
    purposes, kinds, fparams, iparams, value_start, values = [], [], [], [], [0], []
    for entry in slots:
        purpose, spec = entry if entry is not None else (0, (sd.NONE, [0.0] * 4, [0, 0], ()))
        if spec is None:
            return None
        purposes.append(purpose)
        kinds.append(spec[0])
        fparams.append(spec[1])
        iparams.append(spec[2])
        values.extend(spec[3])
        value_start.append(len(values))
    i64 = np.int64
    return StreamPlan(int(scenario.horizon.warmup + scenario.horizon.periods), kind, block, np.array(purposes, i64),
                      np.array(kinds, i64), np.array(fparams, np.float64), np.array(iparams, i64),
                      np.array(value_start, i64), np.array(values, np.float64), n_modes, tiers)


class StreamBatch:
    """The kernel streams of one SKU for replications first .. first+count-1, drawn together;
    `arrays(r)` gives replication first+r's arrays in KernelStreams (= kernel_loop.Draws) field
    order, views of a few shared arrays (nothing copied). With a lead_guess (stream_batch), the
    lead-time rows hold only the first draws of each stream; `full_lead(r)` draws the rest."""

    def __init__(self, drawn: tuple, plan: StreamPlan, tiers: tuple | None = None):
        (self.order_start, self.order_offset, self.order_size, self.order_customer, self.u_reaction,
         self.u_defect, self.transmittal, self.processing, self.delivery, self.expedite_lead_time,
         self.lead_offset, self.lead_time, self.lead_state, u_tier, self.order_tier) = drawn
        if tiers is not None and plan.demand == sd.DEMAND_TIERS:
            # each order has its own tier (drawn compiled); u_tier picks only the customer, under defection
            if tiers[1] is not None:
                self.order_customer = tier_customer(self.order_tier, u_tier, *tiers)
        elif tiers is not None:  # (shares, customers or None): streams.assign_tiers on every order at once
            self.order_tier, by_tier = assign_tiers(u_tier, *tiers)
            if by_tier is not None:
                self.order_customer = by_tier
        self.plan = plan
        self.periods, self.n_modes = plan.periods, plan.n_modes
        self.count = self.order_start.shape[0]
        self._full: dict[int, np.ndarray] = {}

    def _lead(self, r: int) -> np.ndarray:
        lead = self.lead_time[self.lead_offset[r]:self.lead_offset[r + 1]]
        return lead.reshape(self.n_modes, lead.shape[0] // self.n_modes if self.n_modes else 0)

    def arrays(self, r: int) -> tuple:
        a, b = int(self.order_offset[r]), int(self.order_offset[r + 1])
        return (self.order_start[r], self.order_size[a:b], self.order_customer[a:b], self.u_reaction[a:b],
                self.u_defect[a:b], self.transmittal[a:b], self.processing[a:b], self.delivery[a:b],
                self._lead(r), self.expedite_lead_time[a:b], self.order_tier[a:b])

    def full_lead(self, r: int) -> np.ndarray:
        """Replication first+r's lead times int64[n_modes, T+N+1]: every draw of
        streams.sku_streams (those of arrays(r) continued from their generators), drawn once."""
        lead = self._lead(r)
        full = self.periods + int(self.order_offset[r + 1] - self.order_offset[r]) + 1
        if lead.shape[1] == full:
            return lead
        if r not in self._full:
            p = self.plan
            self._full[r] = sd.extend_lead(p.kinds, p.fparams, p.iparams, p.value_start, p.values, lead,
                                           self.lead_state[r], full)
        return self._full[r]

    def streams(self, r: int) -> KernelStreams:
        return KernelStreams(*self.arrays(r))


class _NumpyBatch:
    """The same interface on streams drawn by `streams.sku_streams` (distributions the compiled
    samplers do not take), unread streams zeroed as the compiled path leaves them."""

    def __init__(self, scenario: Scenario, sku: Sku, first: int, count: int, seed: int, modes_used: set[int]):
        need = needs(scenario, sku, modes_used)
        self._arrays = []
        for r in range(first, first + count):
            st = sku_streams(scenario, sku, r, seed)
            n = st.n_orders
            lead = np.zeros((len(scenario.transport), st.periods + n + 1), np.int64)
            for k in need["modes"]:
                lead[k] = st.lead_time[scenario.transport[k].name]
            zi, zf = np.zeros(n, np.int64), np.zeros(n)
            self._arrays.append((
                st.order_start, st.order_size,
                st.order_customer if need["defection"] else zi,
                st.u_reaction if need["reaction"] else zf,
                st.u_defect if need["defection"] else zf,
                st.transmittal, st.processing, st.delivery, lead,
                st.expedite_lead_time if need["expedite"] else zi,
                st.order_tier,
            ))
        self.count = count

    def arrays(self, r: int) -> tuple:
        return self._arrays[r]

    def full_lead(self, r: int) -> np.ndarray:
        return self._arrays[r][8]

    def streams(self, r: int) -> KernelStreams:
        return KernelStreams(*self._arrays[r])


def key_words(seed: int, sku_id: str) -> np.ndarray:
    """The SeedSequence entropy words of [seed, sku_key(sku_id)] (those of the replication follow)."""
    return np.array(_uint32_words(int(seed)) + _uint32_words(sku_key(sku_id)), np.uint64)


def stream_batch(scenario: Scenario, sku: Sku, first: int, count: int, seed: int, modes_used: set[int],
                 plan: StreamPlan | None = None, lead_guess: tuple[int, int, bool] | None = None):
    """The kernel streams of replications first .. first+count-1 of one SKU (each the values of
    `streams.sku_streams(scenario, sku, r, seed)` the kernel reads), in one compiled call. `plan`:
    stream_plan(scenario, sku, modes_used), when the caller has it already.

    lead_guess: None draws every lead time (T+N+1 per mode); (lead_periodic, lead_divisor,
    lead_per_order) (kernel.lead_guess) only as many as the candidates are expected to read (stream_draws.
    sku_streams), the rest on demand (StreamBatch.full_lead)."""
    if plan is None:
        plan = stream_plan(scenario, sku, modes_used)
    if plan is None:
        return _NumpyBatch(scenario, sku, first, count, seed, modes_used)
    drawn = sd.sku_streams(key_words(seed, sku.id), int(first), int(count), plan.periods, plan.demand, plan.block,
                           plan.purposes, plan.kinds, plan.fparams, plan.iparams, plan.value_start, plan.values,
                           plan.n_modes, *((0, -1, False) if lead_guess is None else
                                           (int(lead_guess[0]), int(lead_guess[1]), bool(lead_guess[2]))),
                           plan.tiers)
    return StreamBatch(drawn, plan, _tier_spec(scenario, sku))


def _tier_spec(scenario: Scenario, sku: Sku) -> tuple | None:
    """(shares, customers or None) for streams.assign_tiers, or None without tiers."""
    if scenario.customer_tiers is None:
        return None
    defection = scenario.customer_reaction.repeated_stockout is not None and sku.customers is not None
    return scenario.tier_shares(sku), (int(sku.customers) if defection else None)


def kernel_streams(scenario: Scenario, sku: Sku, replication: int, seed: int, modes_used: set[int]) -> KernelStreams:
    """The streams of `streams.sku_streams(scenario, sku, replication, seed)` that the kernel reads
    (identical values); draws it does not read are zeros."""
    return stream_batch(scenario, sku, replication, 1, seed, modes_used).streams(0)


class StreamCache:
    """The stream batches of the SKUs a task works on, kept between its calls: a SKU simulated again
    (the refine rounds of a SKU-chunk task: new candidates on the same common random numbers) reads
    the streams drawn the first time instead of drawing them again. The numbers are those of
    stream_batch: a batch drawn for fewer lead times than later candidates read is extended on
    demand (StreamBatch.full_lead), and one drawn for fewer modes is drawn again for all of them.

    It also keeps each SKU's kernel settings (`settings`), which depend on the scenario and the SKU
    only. Memory grows with the SKUs cached: `forget(sku_id)` drops a SKU, `clear()` all."""

    def __init__(self, draw_at_least: int = 0) -> None:
        self.draw_at_least = int(draw_at_least)
        # (sku id, seed) -> (modes drawn, replications drawn, batch)
        self._batches: dict[tuple[str, int], tuple[frozenset[int], int, object]] = {}
        self._settings: dict[str, tuple[Scenario, object]] = {}

    def settings(self, scenario: Scenario, sku: Sku, make):
        """`make(scenario, sku)` (kernel.scenario_constants), made once per SKU."""
        held = self._settings.get(sku.id)
        if held is None or held[0] is not scenario:  # made for this very scenario object only
            held = self._settings[sku.id] = (scenario, make(scenario, sku))
        return held[1]

    def held(self, sku_id: str, replications: int, seed: int, modes_used: set[int]):
        """The batch `batch` would return without drawing anything, or None when it would draw."""
        held = self._batches.get((sku_id, int(seed)))
        if held is not None and set(modes_used) <= held[0] and held[1] >= replications:
            return held[2]
        return None

    def batch(self, scenario: Scenario, sku: Sku, replications: int, seed: int, modes_used: set[int],
              lead_guess: tuple[int, int, bool] | None = None):
        """A batch holding replications 0 .. replications-1 of `sku` (stream_batch's values), maybe
        more: replication r of a SKU is the same whatever the count drawn, so a batch drawn for more
        replications serves fewer, and one drawn for fewer is drawn again for the larger count.
        `draw_at_least` (the constructor's) raises the count drawn: a task that will want 20
        replications of its SKUs after 5 draws the 20 once."""
        held = self.held(sku.id, replications, seed, modes_used)
        if held is not None:
            return held
        before = self._batches.get((sku.id, int(seed)))
        modes = frozenset(modes_used) | (before[0] if before is not None else frozenset())
        count = max(int(replications), self.draw_at_least, before[1] if before is not None else 0)
        batch = stream_batch(scenario, sku, 0, count, seed, set(modes), lead_guess=lead_guess)
        self._batches[(sku.id, int(seed))] = (modes, count, batch)
        return batch

    def forget(self, sku_id: str) -> None:
        for key in [k for k in self._batches if k[0] == sku_id]:
            del self._batches[key]
        self._settings.pop(sku_id, None)

    def clear(self) -> None:
        self._batches.clear()
        self._settings.clear()
