"""The random streams of `simulation.streams`, drawn faster for the kernel: same numbers, less overhead.

`streams.sku_streams` builds one `Generator(PCG64(SeedSequence([seed, sku_key, replication,
purpose])))` per purpose; constructing a SeedSequence and a PCG64 costs ~40 us each, which with ten
purposes dominated the kernel's time for small candidate counts. Here the SeedSequence hashing
(numpy's documented algorithm, reproduced bit for bit) runs compiled for all purposes at once, the
PCG64 seeding step is done on Python integers, and one reusable generator is set to each state.
Streams the kernel will not read for this scenario and these candidates (a mode no candidate uses,
defection draws without defection, a reaction draw when one reaction has share 1) are not drawn,
and a fixed distribution needs no generator at all. tests/simulation/test_kernel_streams.py checks
every array against `streams.sku_streams`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numba import njit

from scenarios.schema import Compound, Fixed, Scenario, Sku
from simulation.streams import PURPOSE, draw_real, draw_whole, orders_from, sku_key

# The PCG64 default multiplier.
_PCG_MULT = (2549297995355413924 << 64) | 4865540595714422341
_M32 = 0xFFFFFFFF
_M128 = (1 << 128) - 1


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx): the hash and mix steps below are
# its `hashmix` and `mix`, so the words are exactly those of SeedSequence.generate_state.
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715


@njit(cache=True, inline="always")
def _hashmix(value, hash_const, mult):
    """(hashed value, next hash constant), 32-bit arithmetic in uint64."""
    m32 = np.uint64(0xFFFFFFFF)
    v = (value ^ hash_const) & m32
    hash_const = (hash_const * np.uint64(mult)) & m32
    v = (v * hash_const) & m32
    return v ^ (v >> np.uint64(16)), hash_const


@njit(cache=True, inline="always")
def _mix(x, y):
    r = (np.uint64(_MIX_MULT_L) * x - np.uint64(_MIX_MULT_R) * y) & np.uint64(0xFFFFFFFF)
    return r ^ (r >> np.uint64(16))


@njit(cache=True)
def _seed_words(base, purposes):
    """SeedSequence(base words + [purpose]).generate_state(8, uint32) for each purpose (as uint64)."""
    out = np.empty((purposes.shape[0], 8), np.uint64)
    m32 = np.uint64(0xFFFFFFFF)
    for p in range(purposes.shape[0]):
        purpose = purposes[p]
        n_p = 1
        x = purpose >> 32
        while x > 0:
            n_p += 1
            x >>= 32
        n = base.shape[0] + n_p
        ent = np.empty(n, np.uint64)
        for i in range(base.shape[0]):
            ent[i] = base[i]
        x = purpose
        for i in range(n_p):
            ent[base.shape[0] + i] = np.uint64(x) & m32
            x >>= 32
        # mix_entropy: hash the first 4 words into the pool, mix the pool into itself, then the rest in.
        hc = np.uint64(_INIT_A)
        pool = np.zeros(4, np.uint64)
        for i in range(4):
            pool[i], hc = _hashmix(ent[i] if i < n else np.uint64(0), hc, _MULT_A)
        for s in range(4):
            for d in range(4):
                if s != d:
                    v, hc = _hashmix(pool[s], hc, _MULT_A)
                    pool[d] = _mix(pool[d], v)
        for s in range(4, n):
            for d in range(4):
                v, hc = _hashmix(ent[s], hc, _MULT_A)
                pool[d] = _mix(pool[d], v)
        # generate_state(8): the pool cycled through the second hash.
        hb = np.uint64(_INIT_B)
        for i in range(8):
            out[p, i], hb = _hashmix(pool[i % 4], hb, _MULT_B)
    return out


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
    """(state, inc) of PCG64(SeedSequence([seed, sku_key(sku_id), replication, purpose])) per purpose."""
    base = _uint32_words(int(seed)) + _uint32_words(sku_key(sku_id)) + _uint32_words(int(replication))
    w = _seed_words(np.array(base, np.uint64), np.array(purposes, np.int64))
    states = []
    for row in w.tolist():
        initstate = ((row[0] | row[1] << 32) << 64) | (row[2] | row[3] << 32)
        initseq = ((row[4] | row[5] << 32) << 64) | (row[6] | row[7] << 32)
        inc = ((initseq << 1) | 1) & _M128
        state = (inc + initstate) & _M128  # step from state 0, add initstate
        state = (state * _PCG_MULT + inc) & _M128  # step
        states.append((state, inc))
    return states


_SHARED = threading.local()  # one PCG64 and its Generator per thread, created on first use


class _Generators:
    """One reusable PCG64 generator, set in turn to the state of each purpose."""

    def __init__(self, states: dict[int, tuple[int, int]]):
        self.states = states
        if not hasattr(_SHARED, "generator"):
            _SHARED.bit_generator = np.random.PCG64(0)
            _SHARED.generator = np.random.Generator(_SHARED.bit_generator)
        self.bit_generator, self.generator = _SHARED.bit_generator, _SHARED.generator

    def __call__(self, purpose: int) -> np.random.Generator:
        state, inc = self.states[purpose]
        self.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": state, "inc": inc}, "has_uint32": 0, "uinteger": 0,
        }
        return self.generator


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


def needs(scenario: Scenario, sku: Sku, modes_used: set[int]) -> dict:
    """Which draws the kernel reads for this SKU and these candidates' modes."""
    cr = scenario.customer_reaction
    wait_or_sub = cr.wait + cr.substitute
    # With a share of 1 (or nothing but lost sales) the reaction draw decides nothing.
    reaction = not (cr.wait == 1.0 or (cr.wait == 0.0 and wait_or_sub in (0.0, 1.0)))
    defection = cr.repeated_stockout is not None and sku.customers is not None
    return dict(reaction=reaction, defection=defection, modes=modes_used, expedite=scenario.expedite is not None)


def kernel_streams(scenario: Scenario, sku: Sku, replication: int, seed: int, modes_used: set[int]) -> KernelStreams:
    """The streams of `streams.sku_streams(scenario, sku, replication, seed)` that the kernel reads
    (identical values); draws it does not read are zeros."""
    T = scenario.horizon.warmup + scenario.horizon.periods
    need = needs(scenario, sku, modes_used)
    demand = sku.demand
    if demand is None:
        raise ValueError(f"SKU {sku.id} has no demand model")
    oc = scenario.order_cycle
    purposes = [PURPOSE["orders"]]
    if isinstance(demand, Compound) and not isinstance(demand.size, Fixed):
        purposes.append(PURPOSE["sizes"])
    if need["defection"]:
        purposes += [PURPOSE["customer"], PURPOSE["defect"]]
    if need["reaction"]:
        purposes.append(PURPOSE["reaction"])
    for name in ("transmittal", "processing", "delivery"):
        if not isinstance(getattr(oc, name), Fixed):
            purposes.append(PURPOSE[name])
    for k in sorted(need["modes"]):
        if not isinstance(scenario.transport[k].lead_time, Fixed):
            purposes.append(PURPOSE["lead_time"] + k)
    exp_mode = scenario.mode(scenario.expedite.mode) if need["expedite"] else None
    if exp_mode is not None and not isinstance(exp_mode.lead_time, Fixed):
        purposes.append(PURPOSE["expedite"])
    g = _Generators(dict(zip(purposes, pcg64_states(seed, sku.id, replication, purposes))))

    def gen(purpose: int):
        return g(purpose) if purpose in g.states else None  # a Fixed draw never touches it

    # Customer orders: the rule of streams.demand_orders, on the kernel's generators.
    order_start, sizes = orders_from(demand, gen(PURPOSE["orders"]), lambda: gen(PURPOSE["sizes"]), T)
    n = int(sizes.shape[0])
    if need["defection"]:
        order_customer = gen(PURPOSE["customer"]).integers(0, sku.customers, n).astype(np.int64)
        u_defect = gen(PURPOSE["defect"]).random(n)
    else:
        order_customer = np.zeros(n, np.int64)
        u_defect = np.zeros(n)
    u_reaction = gen(PURPOSE["reaction"]).random(n) if need["reaction"] else np.zeros(n)
    cycle = [draw_real(getattr(oc, name), gen(PURPOSE[name]), n) for name in ("transmittal", "processing", "delivery")]
    lead_time = np.zeros((len(scenario.transport), T + n + 1), np.int64)
    for k in need["modes"]:
        lead_time[k] = draw_whole(scenario.transport[k].lead_time, gen(PURPOSE["lead_time"] + k), T + n + 1)
    if exp_mode is not None:
        expedite_lead_time = draw_whole(exp_mode.lead_time, gen(PURPOSE["expedite"]), n)
    else:
        expedite_lead_time = np.zeros(n, np.int64)
    return KernelStreams(order_start, sizes.astype(np.int64), order_customer, u_reaction, u_defect,
                         cycle[0], cycle[1], cycle[2], lead_time, expedite_lead_time)
