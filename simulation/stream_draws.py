"""numpy's random draws, compiled: every stream of one SKU, for all its replications, in one call.

`simulation.streams` draws each (seed, SKU, replication, purpose) stream from its own
`Generator(PCG64(SeedSequence([seed, sku_key, replication, purpose])))`. This module produces the
same numbers without Python in between: numpy's SeedSequence hashing, the PCG64 seeding and
generator (XSL-RR 128/64) and the samplers the streams use (uniform doubles, Lemire bounded
integers on the buffered 32-bit output, the ziggurat standard normal and exponential, Marsaglia-
Tsang gamma, Poisson by multiplication below a mean of 10 and PTRS above, negative binomial as a
gamma-Poisson mixture) are line-by-line ports of numpy v2.4.6 (numpy/random/src/distributions/
distributions.c, src/pcg64/pcg64.h, _bounded_integers.pyx.in, bit_generator.pyx; BSD licence), the
same operations in the same order, so each value is bit for bit numpy's. The math functions (exp,
log, log1p, pow) are the C library's in both (numba lowers them to the same libm calls; no fast-math,
so no fused multiply-adds). tests/simulation/test_stream_draws.py compares every sampler with numpy
on many parameters, and tests/simulation/test_kernel_streams.py every stream with
`streams.sku_streams`.

Everything compiled lives in this one file on purpose: numba's on-disk cache of a function is
invalidated by a change of the file that defines it only, so a sampler it calls must not live in
another file (the ziggurat tables it freezes are constants, see simulation/ziggurat_tables.py).

A generator is a uint64[6] array: state (high, low 64 bits), increment (high, low), and numpy's
buffered 32-bit half (has_uint32, uinteger).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from simulation.ziggurat_tables import (
    FE_DOUBLE, FI_DOUBLE, KE_DOUBLE, KI_DOUBLE, WE_DOUBLE, WI_DOUBLE, ZIGGURAT_EXP_R, ZIGGURAT_NOR_INV_R,
    ZIGGURAT_NOR_R,
)

_U0, _U1 = np.uint64(0), np.uint64(1)
_S3, _S8, _S11, _S32, _S58, _S63, _S64 = (np.uint64(k) for k in (3, 8, 11, 32, 58, 63, 64))
_M8 = np.uint64(0xFF)
_M32 = np.uint64(0xFFFFFFFF)
_M52 = np.uint64(0x000FFFFFFFFFFFFF)
_MAX64 = np.uint64(0xFFFFFFFFFFFFFFFF)
# The PCG64 default multiplier (high, low 64 bits).
_MULT_HI, _MULT_LO = np.uint64(2549297995355413924), np.uint64(4865540595714422341)

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
def seed_words(base, purposes):
    """SeedSequence(base words + [purpose]).generate_state(8, uint32) for each purpose (as uint64)."""
    out = np.empty((purposes.shape[0], 8), np.uint64)
    for p in range(purposes.shape[0]):
        ent = _with_words(base, purposes[p])
        n = ent.shape[0]
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


# --- PCG64 (numpy/random/src/pcg64/pcg64.h) -------------------------------------------------------


@intrinsic
def _mulhi(typingctx, a, b):
    """High 64 bits of the 128-bit product of two uint64 (one multiplication, as numpy's
    __uint128_t arithmetic)."""
    if a != types.uint64 or b != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(product, ir.Constant(i128, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@njit(cache=True, inline="always")
def _step(g):
    """state = state * MULT + inc (mod 2**128)."""
    hi, lo = g[0], g[1]
    new_hi = _mulhi(lo, _MULT_LO) + lo * _MULT_HI + hi * _MULT_LO
    new_lo = lo * _MULT_LO + g[3]
    g[1] = new_lo
    g[0] = new_hi + g[2] + (_U1 if new_lo < g[3] else _U0)


@njit(cache=True, inline="always")
def next_uint64(g):
    """pcg64_next64: step, then the XSL-RR output of the new state."""
    _step(g)
    hi = g[0]
    x = hi ^ g[1]
    rot = hi >> _S58
    return (x >> rot) | (x << ((_S64 - rot) & _S63))


@njit(cache=True, inline="always")
def next_uint32(g):
    """pcg64_next32: the low half of a fresh 64-bit output, the high half kept for the next call."""
    if g[4] != _U0:
        g[4] = _U0
        return g[5]
    x = next_uint64(g)
    g[4] = _U1
    g[5] = x >> _S32
    return x & _M32


@njit(cache=True, inline="always")
def next_double(g):
    """uint64_to_double: the top 53 bits as a double in [0, 1)."""
    return np.float64(next_uint64(g) >> _S11) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def seed_generator(words, g):
    """Set g to PCG64 seeded with SeedSequence.generate_state(4, uint64) words (uint32 pairs, as
    uint64[8]): pcg_setseq_128_srandom_r(initstate, initseq)."""
    init_hi = words[0] | (words[1] << _S32)
    init_lo = words[2] | (words[3] << _S32)
    seq_hi = words[4] | (words[5] << _S32)
    seq_lo = words[6] | (words[7] << _S32)
    inc_hi = (seq_hi << _U1) | (seq_lo >> _S63)
    inc_lo = (seq_lo << _U1) | _U1
    # state = 0; step (state = inc); state += initstate; step
    lo = inc_lo + init_lo
    g[0] = inc_hi + init_hi + (_U1 if lo < inc_lo else _U0)
    g[1] = lo
    g[2] = inc_hi
    g[3] = inc_lo
    g[4] = _U0
    g[5] = _U0
    _step(g)


# --- samplers (numpy/random/src/distributions/distributions.c) -----------------------------------
#
# The per-draw samplers are inlined (numba inline="always") into one fill loop per distribution
# (_normal_fill, _gamma_fill, ...), which fill_whole / fill_real call: fast loops, and each sampler
# compiled in few places (inlining it everywhere took ~20 s of compilation on a cold cache).


@njit(cache=True, inline="always")
def _standard_normal(g):
    """random_standard_normal (ziggurat)."""
    while True:
        r = next_uint64(g)
        idx = np.int64(r & _M8)
        r >>= _S8
        sign = r & _U1
        rabs = (r >> _U1) & _M52
        x = np.float64(rabs) * WI_DOUBLE[idx]
        if sign != _U0:
            x = -x
        if rabs < KI_DOUBLE[idx]:
            return x
        if idx == 0:
            while True:
                xx = -ZIGGURAT_NOR_INV_R * math.log1p(-next_double(g))
                yy = -math.log1p(-next_double(g))
                if yy + yy > xx * xx:
                    if ((rabs >> _S8) & _U1) != _U0:
                        return -(ZIGGURAT_NOR_R + xx)
                    return ZIGGURAT_NOR_R + xx
        else:
            if ((FI_DOUBLE[idx - 1] - FI_DOUBLE[idx]) * next_double(g) + FI_DOUBLE[idx]) < math.exp(-0.5 * x * x):
                return x


@njit(cache=True, inline="always")
def _standard_exponential(g):
    """random_standard_exponential (ziggurat; its `unlikely` branch's retry as a loop)."""
    while True:
        ri = next_uint64(g)
        ri >>= _S3
        idx = np.int64(ri & _M8)
        ri >>= _S8
        x = np.float64(ri) * WE_DOUBLE[idx]
        if ri < KE_DOUBLE[idx]:
            return x
        if idx == 0:
            return ZIGGURAT_EXP_R - math.log1p(-next_double(g))
        if (FE_DOUBLE[idx - 1] - FE_DOUBLE[idx]) * next_double(g) + FE_DOUBLE[idx] < math.exp(-x):
            return x


@njit(cache=True)
def _standard_gamma_small(g, shape):
    """random_standard_gamma for shape <= 1 (exponential at 1, 0 at 0)."""
    if shape == 1.0:
        return _standard_exponential(g)
    if shape == 0.0:
        return 0.0
    while True:
        U = next_double(g)
        V = _standard_exponential(g)
        if U <= 1.0 - shape:
            X = math.pow(U, 1.0 / shape)
            if X <= V:
                return X
        else:
            Y = -math.log((1 - U) / shape)
            X = math.pow(1.0 - shape + shape * Y, 1.0 / shape)
            if X <= (V + Y):
                return X


@njit(cache=True, inline="always")
def _gamma_mt(g, b, c):
    """random_standard_gamma for shape > 1 (Marsaglia and Tsang; b = shape - 1/3, c = 1 / sqrt(9 b),
    numpy's expressions, computed once per fill)."""
    while True:
        while True:
            X = _standard_normal(g)
            V = 1.0 + c * X
            if V > 0.0:
                break
        V = V * V * V
        U = next_double(g)
        if U < 1.0 - 0.0331 * (X * X) * (X * X):
            return b * V
        if math.log(U) < 0.5 * X * X + b * (1.0 - V + math.log(V)):
            return b * V


@njit(cache=True)
def loggam(x):
    """random_loggam."""
    a0, a1, a2 = 8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04
    a3, a4, a5 = -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03
    a6, a7, a8, a9 = 6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01, -1.39243221690590e+00
    if x == 1.0 or x == 2.0:
        return 0.0
    n = np.int64(7 - x) if x < 7.0 else np.int64(0)
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    lg2pi = 1.8378770664093453e+00
    gl0 = a9
    for a in (a8, a7, a6, a5, a4, a3, a2, a1, a0):  # k = 8 down to 0
        gl0 *= x2
        gl0 += a
    gl = gl0 / x0 + 0.5 * lg2pi + (x0 - 0.5) * math.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@njit(cache=True, inline="always")
def _ptrs_constants(lam):
    """(a, b, vr) of random_poisson_ptrs (its loglam and invalpha are computed where used, in the
    rare final test: the same values, fewer logs and divisions per draw)."""
    slam = math.sqrt(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2)
    return a, b, vr


@njit(cache=True, inline="always")
def _poisson_ptrs(g, lam, a, b, vr):
    """random_poisson_ptrs (transformed rejection, Hoermann 1993), lam >= 10."""
    while True:
        U = next_double(g) - 0.5
        V = next_double(g)
        us = 0.5 - math.fabs(U)
        k = np.int64(np.floor((2 * a / us + b) * U + lam + 0.43))
        if us >= 0.07 and V <= vr:
            return k
        if k < 0 or (us < 0.013 and V > us):
            continue
        loglam = math.log(lam)
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
                -lam + np.float64(k) * loglam - loggam(np.float64(k) + 1)):
            return k


@njit(cache=True, inline="always")
def _poisson_mult(g, enlam):
    """random_poisson_mult, lam < 10 (enlam = exp(-lam))."""
    X = np.int64(0)
    prod = 1.0
    while True:
        U = next_double(g)
        prod *= U
        if prod > enlam:
            X += 1
        else:
            return X


@njit(cache=True, inline="always")
def _poisson(g, lam):
    """random_poisson: multiplication below 10, PTRS from 10."""
    if lam >= 10:
        a, b, vr = _ptrs_constants(lam)
        return _poisson_ptrs(g, lam, a, b, vr)
    if lam == 0:
        return np.int64(0)
    return _poisson_mult(g, math.exp(-lam))


@njit(cache=True)
def bounded(g, off, rng):
    """One integer of random_bounded_uint64_fill(off, rng) (use_masked False): off + [0, rng] by
    Lemire's method, on the buffered 32-bit output when rng fits in 32 bits. int64 off, uint64 rng."""
    if rng == _U0:
        return off
    if rng <= _M32:
        if rng == _M32:
            return np.int64(np.uint64(off) + next_uint32(g))
        rng_excl = rng + _U1
        m = next_uint32(g) * rng_excl
        leftover = m & _M32
        if leftover < rng_excl:
            threshold = (_M32 - rng) % rng_excl
            while leftover < threshold:
                m = next_uint32(g) * rng_excl
                leftover = m & _M32
        return np.int64(np.uint64(off) + (m >> _S32))
    if rng == _MAX64:
        return np.int64(np.uint64(off) + next_uint64(g))
    rng_excl = rng + _U1
    x = next_uint64(g)
    leftover = x * rng_excl
    if leftover < rng_excl:
        threshold = (_MAX64 - rng) % rng_excl
        while leftover < threshold:
            x = next_uint64(g)
            leftover = x * rng_excl
    return np.int64(np.uint64(off) + _mulhi(x, rng_excl))


# The fill loops: out[i] for i < len(out), each exactly what numpy's Generator method writes.


@njit(cache=True)
def _unit_fill(g, out):
    """g.random(n)."""
    for i in range(out.shape[0]):
        out[i] = next_double(g)


@njit(cache=True)
def _normal_fill(g, loc, scale, out):
    """g.normal(loc, scale, n): loc + scale * standard normal."""
    for i in range(out.shape[0]):
        out[i] = loc + scale * _standard_normal(g)


@njit(cache=True)
def _gamma_fill(g, shape, scale, out):
    """g.gamma(shape, scale, n): scale * standard gamma."""
    if shape > 1.0:
        b = shape - 1.0 / 3.0
        c = 1.0 / math.sqrt(9 * b)
        for i in range(out.shape[0]):
            out[i] = scale * _gamma_mt(g, b, c)
    else:
        for i in range(out.shape[0]):
            out[i] = scale * _standard_gamma_small(g, shape)


@njit(cache=True)
def _uniform_fill(g, low, rng, out):
    """g.uniform(low, high, n): low + (high - low) * uniform."""
    for i in range(out.shape[0]):
        out[i] = low + rng * next_double(g)


@njit(cache=True)
def _choice_fill(g, values, out):
    """g.choice(values, n): values[g.integers(0, len(values), n)]."""
    rng = np.uint64(values.shape[0] - 1)
    for i in range(out.shape[0]):
        out[i] = values[bounded(g, 0, rng)]


@njit(cache=True)
def _integers_fill(g, low, rng, out):
    """g.integers(low, low + rng + 1, n) (int64)."""
    r = np.uint64(rng)
    for i in range(out.shape[0]):
        out[i] = bounded(g, low, r)


@njit(cache=True)
def _poisson_fill(g, lam, out):
    """g.poisson(lam, n) (int64), the constants of lam computed once."""
    if lam >= 10:
        a, b, vr = _ptrs_constants(lam)
        for i in range(out.shape[0]):
            out[i] = _poisson_ptrs(g, lam, a, b, vr)
    elif lam == 0:
        for i in range(out.shape[0]):
            out[i] = 0
    else:
        enlam = math.exp(-lam)
        for i in range(out.shape[0]):
            out[i] = _poisson_mult(g, enlam)


@njit(cache=True)
def _negative_binomial_fill(g, n, p, out):
    """g.negative_binomial(n, p, size) (int64): Poisson of a gamma(n, (1 - p) / p) mean."""
    scale = (1 - p) / p
    b = n - 1.0 / 3.0
    c = 1.0 / math.sqrt(9 * b) if n > 1.0 else 0.0
    for i in range(out.shape[0]):
        Y = scale * (_gamma_mt(g, b, c) if n > 1.0 else _standard_gamma_small(g, n))
        out[i] = _poisson(g, Y)


# --- the streams of one SKU ------------------------------------------------------------------------

# Kinds of a stream slot (simulation.kernel_streams builds them from the scenario's distributions):
NONE, FIXED, POISSON, NEGBIN, NORMAL, GAMMA, UNIFORM_INT, UNIFORM_REAL, EMPIRICAL, UNIT = range(10)
# Slots (rows of the kind / parameter arrays): the demand's orders (or per-period units) and sizes,
# the per-order streams, then one lead-time slot per transport mode; with customer tiers that have
# their own demand (streams.tier_orders), then three slots per tier k, from S_LEAD + n_modes + 3 k:
# its orders (or per-period units), its sizes and its orders' arrival keys (TIER_ORDERS, TIER_SIZES,
# TIER_ARRIVAL offsets).
(S_ORDERS, S_SIZES, S_CUSTOMER, S_DEFECT, S_REACTION, S_TRANSMITTAL, S_PROCESSING, S_DELIVERY,
 S_EXPEDITE, S_TIER, S_LEAD) = range(11)
TIER_ORDERS, TIER_SIZES, TIER_ARRIVAL = range(3)
# Demand: draws per period, compound (orders per period, each with a size), or a history resampled
# in blocks (streams.orders_from); DEMAND_TIERS: one order stream per customer tier, each one of the
# other three kinds, merged per period (streams.tier_orders; S_ORDERS and S_SIZES not drawn).
DEMAND_SIMPLE, DEMAND_COMPOUND, DEMAND_BLOCK, DEMAND_TIERS = range(4)


@njit(cache=True, inline="always")
def _max0(x):
    """np.maximum(x, 0.0) of a float (0.0 for -0.0, as numpy gives)."""
    return x if (x > 0.0 or x != x) else 0.0


@njit(cache=True)
def _draw_float(kind, fp, values, g, out):
    """The raw float draws of a NORMAL, GAMMA, UNIFORM_REAL or EMPIRICAL slot (before rounding or
    np.maximum)."""
    if kind == NORMAL:
        _normal_fill(g, fp[0], fp[1], out)
    elif kind == GAMMA:
        _gamma_fill(g, fp[0], fp[1], out)
    elif kind == UNIFORM_REAL:
        _uniform_fill(g, fp[0], fp[1], out)
    else:
        _choice_fill(g, values, out)


@njit(cache=True)
def _draw_int(kind, fp, ip, g, out):
    """The int64 draws of a FIXED (whole), POISSON, NEGBIN or UNIFORM_INT slot."""
    if kind == FIXED:
        for i in range(out.shape[0]):
            out[i] = ip[0]
    elif kind == POISSON:
        _poisson_fill(g, fp[0], out)
    elif kind == NEGBIN:
        _negative_binomial_fill(g, fp[0], fp[1], out)
    else:
        _integers_fill(g, ip[0], ip[1], out)


@njit(cache=True)
def fill_whole(kind, fp, ip, values, g, out):
    """streams.draw_whole into out (int64[n]) for one slot: kind, fp float64[4], ip int64[2] (its
    parameters), values float64[:] (empirical), g the slot's generator. np.maximum(x, 0) changes no
    Poisson, negative binomial or integers draw (all >= 0 here)."""
    n = out.shape[0]
    if kind == NONE:
        for i in range(n):
            out[i] = 0
    elif kind in (FIXED, POISSON, NEGBIN, UNIFORM_INT):
        _draw_int(kind, fp, ip, g, out)
    else:
        x = np.empty(n)
        _draw_float(kind, fp, values, g, x)
        for i in range(n):
            y = np.floor(x[i] + 0.5)  # _half_up
            if kind == NORMAL:
                y = max(0.0, y)
            out[i] = np.int64(y if y > 0.0 else 0.0)


@njit(cache=True)
def fill_real(kind, fp, ip, values, g, out):
    """streams.draw_real into out (float64[n]) for one slot (UNIT: g.random(n))."""
    n = out.shape[0]
    if kind == NONE:
        for i in range(n):
            out[i] = 0.0
    elif kind == FIXED:
        for i in range(n):
            out[i] = fp[0]
    elif kind == UNIT:
        _unit_fill(g, out)
    elif kind in (POISSON, NEGBIN):  # the int64 draws as floats (>= 0)
        k = np.empty(n, np.int64)
        _draw_int(kind, fp, ip, g, k)
        for i in range(n):
            out[i] = np.float64(k[i])
    else:
        _draw_float(kind, fp, values, g, out)
        for i in range(n):
            out[i] = _max0(out[i])


@njit(cache=True)
def _with_words(words, value):
    """SeedSequence entropy `words` followed by the non-negative integer `value` split into uint32
    words, least significant first, as numpy splits an entropy integer (0 -> [0]); e.g. the words
    of [seed, sku_key] followed by a replication or a purpose."""
    n_v = 1
    x = value >> 32
    while x > 0:
        n_v += 1
        x >>= 32
    out = np.empty(words.shape[0] + n_v, np.uint64)
    for i in range(words.shape[0]):
        out[i] = words[i]
    x = value
    for i in range(n_v):
        out[words.shape[0] + i] = np.uint64(x) & _M32
        x >>= 32
    return out


@njit(cache=True)
def _grow(a, need):
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), a.dtype)
    for i in range(a.shape[0]):
        b[i] = a[i]
    return b


@njit(cache=True)
def _slot_whole(s, states, spec, g, out):
    """Slot s's whole draws into out (int64), its generator seeded from states[s] (SeedSequence
    words); spec = (kinds, fparams, iparams, value_start, values) of sku_streams."""
    kinds, fparams, iparams, value_start, values = spec
    if kinds[s] != NONE and kinds[s] != FIXED:
        seed_generator(states[s], g)
    fill_whole(kinds[s], fparams[s], iparams[s], values[value_start[s]:value_start[s + 1]], g, out)


@njit(cache=True)
def _slot_real(s, states, spec, g, out):
    """Slot s's real draws into out (float64), as _slot_whole."""
    kinds, fparams, iparams, value_start, values = spec
    if kinds[s] != NONE and kinds[s] != FIXED:
        seed_generator(states[s], g)
    fill_real(kinds[s], fparams[s], iparams[s], values[value_start[s]:value_start[s + 1]], g, out)


@njit(cache=True)
def _demand_orders(demand, block, s_orders, s_sizes, st, spec, g, per_period, size, n, start):
    """streams.orders_from for one demand model: DEMAND_SIMPLE, _COMPOUND or _BLOCK `demand` (block:
    its block length), its per-period draws from slot s_orders and, compound, its sizes from slot
    s_sizes (generators seeded from st, the replication's SeedSequence words per slot; spec as
    _slot_whole). The sizes of its orders in the T periods are written to size[n:] (size grown as needed) and
    start[t] (int64[T+1]) is the number of them before period t. Returns (size, n + orders)."""
    T = per_period.shape[0]
    values, value_start = spec[4], spec[3]
    n0 = n
    if demand == DEMAND_BLOCK:  # block_bootstrap of the history in slot s_orders
        seed_generator(st[s_orders], g)
        ov = values[value_start[s_orders]:value_start[s_orders + 1]]
        k = -(-T // block)
        starts = np.empty(k, np.int64)
        rng = np.uint64(ov.shape[0] - 1)
        for i in range(k):
            starts[i] = bounded(g, 0, rng)
        for t in range(T):
            x = np.floor(ov[(starts[t // block] + t % block) % ov.shape[0]] + 0.5)
            per_period[t] = np.int64(x if x > 0.0 else 0.0)
    else:
        _slot_whole(s_orders, st, spec, g, per_period)
    if demand == DEMAND_COMPOUND:
        total = 0
        for t in range(T):
            total += per_period[t]
        sizes = np.empty(total, np.int64)
        _slot_whole(s_sizes, st, spec, g, sizes)
        size = _grow(size, n + total)
        j = 0
        for t in range(T):
            start[t] = n - n0
            for _ in range(per_period[t]):
                if sizes[j] > 0:  # an order of size 0 is no order
                    size[n] = sizes[j]
                    n += 1
                j += 1
    else:
        size = _grow(size, n + T)
        for t in range(T):
            start[t] = n - n0
            if per_period[t] > 0:
                size[n] = per_period[t]
                n += 1
    start[T] = n - n0
    return size, n


@njit(cache=True)
def _tier_orders(tiers, first_slot, st, spec, g, per_period, size, order_tier, n, start):
    """streams.tier_orders: each tier's own orders (tiers int64[K, 2]: tier k's DEMAND_* kind and
    block length; its slots from first_slot + 3 k), appended to size[n:] and order_tier[n:] (both
    grown as needed) in the order of (period, arrival key, tier) of np.lexsort, start[t]
    (int64[T+1]) the number of them before period t. Returns (size, order_tier, n + orders)."""
    T = per_period.shape[0]
    K = tiers.shape[0]
    n0 = n
    tier_start = np.empty((K, T + 1), np.int64)
    tier_first = np.empty(K + 1, np.int64)  # tier k's orders are size[tier_first[k]:tier_first[k+1]]
    for k in range(K):
        tier_first[k] = n
        s = first_slot + 3 * k
        size, n = _demand_orders(tiers[k, 0], tiers[k, 1], s + TIER_ORDERS, s + TIER_SIZES, st, spec, g, per_period,
                                 size, n, tier_start[k])
    tier_first[K] = n
    m = n - n0
    when = np.empty(m, np.int64)  # the period of each order, tier after tier (np.concatenate's order)
    tier = np.empty(m, np.int64)
    keys = np.empty(m)
    for k in range(K):
        a = tier_first[k] - n0
        for t in range(T):
            for i in range(tier_start[k, t], tier_start[k, t + 1]):
                when[a + i] = t
        for i in range(a, tier_first[k + 1] - n0):
            tier[i] = k
        _slot_real(first_slot + 3 * k + TIER_ARRIVAL, st, spec, g, keys[a:tier_first[k + 1] - n0])
    order = merge_order(when, keys, start)
    merged_size = np.empty(m, np.int64)
    for p in range(m):
        merged_size[p] = size[n0 + order[p]]
    order_tier = _grow(order_tier, n)
    for p in range(m):
        size[n0 + p] = merged_size[p]
        order_tier[n0 + p] = tier[order[p]]
    return size, order_tier, n


@njit(cache=True)
def merge_order(when, keys, start):
    """The merged order of orders concatenated tier after tier (when int64[m]: each one's period in
    0 .. T-1, keys float64[m]: its arrival key): the permutation int64[m] that np.lexsort((tier, keys,
    when)) gives, with start (int64[T+1]) set to the number of merged orders before period t.

    np.lexsort is stable, so orders equal in (period, key, tier) keep their concatenated order; and
    as the concatenation is by tier, the order is by period, then key, then position in the
    concatenation. A stable sort by key followed by a stable counting sort by period gives exactly
    that (ties in key between PCG64 doubles are all but impossible, but would fall the same way)."""
    m, T = when.shape[0], start.shape[0] - 1
    by_key = np.argsort(keys, kind="mergesort")  # numba's mergesort is stable, as numpy's
    for t in range(T + 1):
        start[t] = 0
    for i in range(m):
        start[when[i] + 1] += 1
    for t in range(T):
        start[t + 1] += start[t]
    place = start[:T].copy()
    order = np.empty(m, np.int64)
    for j in range(m):
        i = by_key[j]
        order[place[when[i]]] = i
        place[when[i]] += 1
    return order


@njit(cache=True)
def sku_streams(key_words, first, count, periods, demand, block, purposes, kinds, fparams, iparams,
                value_start, values, n_modes, lead_periodic, lead_divisor, lead_per_order, tiers):
    """Every stream of one SKU for replications first .. first+count-1 (simulation.kernel_streams
    documents the slot arrays: purposes, kinds int64[slots]; fparams float64[slots, 4]; iparams
    int64[slots, 2]; slot s's empirical values are values[value_start[s]:value_start[s+1]]).
    tiers: int64[K, 2], each customer tier's own DEMAND_* kind and block length when demand is
    DEMAND_TIERS (streams.tier_orders; its slots follow the lead-time slots), else int64[0, 2].

    Returns (order_start int64[count, T+1], order_offset int64[count+1], order_size,
    order_customer int64[N total], u_reaction, u_defect, transmittal, processing, delivery
    float64[N total], expedite_lead_time int64[N total], lead_offset int64[count+1], lead_time
    int64[...], lead_state uint64[count, n_modes, 6], u_tier float64[N total], order_tier
    int64[N total]): replication r's orders are order_offset[r]:order_offset[r+1] of the
    per-order arrays, its lead times
    lead_time[lead_offset[r]:lead_offset[r+1]] as [n_modes, W_r], the first W_r draws of each
    mode's stream, and lead_state[r, m] mode m's generator after them (extend_lead draws on).
    order_tier is each order's own tier under DEMAND_TIERS, zeros otherwise (then the tier, if
    any, comes from u_tier: streams.assign_tiers).

    W_r = T+N_r+1 (every draw streams.sku_streams makes) when lead_divisor < 0; otherwise the
    lead times the candidates are expected to read, at most T+N_r+1: the largest of lead_periodic,
    min(D_r // lead_divisor + 2, N_r + 1) (D_r the replication's demand units; left out when
    lead_divisor is 0) and, when lead_per_order, N_r + 1. A candidate that reads past W_r is run
    again (kernel_loop.simulate_candidates)."""
    T = periods
    n_slots = kinds.shape[0]
    drawn = np.zeros(n_slots, np.bool_)  # slots that need a generator
    for s in range(n_slots):
        drawn[s] = kinds[s] != NONE and kinds[s] != FIXED
    drawn_slots = np.nonzero(drawn)[0]
    drawn_purposes = purposes[drawn_slots]
    slot = np.arange(n_slots)  # slot numbers as run-time ints: one compiled _slot_whole, not one per constant
    spec = (kinds, fparams, iparams, value_start, values)
    g = np.zeros(6, np.uint64)
    order_start = np.zeros((count, T + 1), np.int64)
    order_offset = np.zeros(count + 1, np.int64)
    size = np.empty(max(count * T, 1), np.int64)
    own_tier = np.zeros(size.shape[0] if demand == DEMAND_TIERS else 0, np.int64)
    per_period = np.empty(T, np.int64)
    states = np.zeros((count, n_slots, 8), np.uint64)
    for r in range(count):
        words = seed_words(_with_words(key_words, first + r), drawn_purposes)
        for j in range(drawn_slots.shape[0]):
            for i in range(8):
                states[r, drawn_slots[j], i] = words[j, i]
        # Customer orders (streams.orders_from, or streams.tier_orders).
        if demand == DEMAND_TIERS:
            size, own_tier, n = _tier_orders(tiers, S_LEAD + n_modes, states[r], spec, g, per_period, size, own_tier,
                                             order_offset[r], order_start[r])
        else:
            size, n = _demand_orders(demand, block, slot[S_ORDERS], slot[S_SIZES], states[r], spec, g, per_period,
                                     size, order_offset[r], order_start[r])
        order_offset[r + 1] = n
    N = order_offset[count]
    order_size = size[:N].copy()
    order_tier = own_tier[:N].copy() if demand == DEMAND_TIERS else np.zeros(N, np.int64)
    order_customer, expedite_lead_time = np.zeros(N, np.int64), np.zeros(N, np.int64)
    u_reaction, u_defect, u_tier = np.zeros(N), np.zeros(N), np.zeros(N)
    transmittal, processing, delivery = np.zeros(N), np.zeros(N), np.zeros(N)
    lead_offset = np.zeros(count + 1, np.int64)
    for r in range(count):
        full = T + order_offset[r + 1] - order_offset[r] + 1
        width = full
        if lead_divisor >= 0:
            n_r = order_offset[r + 1] - order_offset[r]
            width = lead_periodic
            if lead_divisor > 0:
                units = 0
                for i in range(order_offset[r], order_offset[r + 1]):
                    units += order_size[i]
                width = max(width, min(units // lead_divisor + 2, n_r + 1))
            if lead_per_order:
                width = max(width, n_r + 1)
            width = min(width, full)
        lead_offset[r + 1] = lead_offset[r] + n_modes * width
    lead_time = np.zeros(lead_offset[count], np.int64)
    lead_state = np.zeros((count, n_modes, 6), np.uint64)
    for r in range(count):
        a, b = order_offset[r], order_offset[r + 1]
        st = states[r]
        _slot_whole(slot[S_CUSTOMER], st, spec, g, order_customer[a:b])
        _slot_whole(slot[S_EXPEDITE], st, spec, g, expedite_lead_time[a:b])
        _slot_real(slot[S_REACTION], st, spec, g, u_reaction[a:b])
        _slot_real(slot[S_DEFECT], st, spec, g, u_defect[a:b])
        _slot_real(slot[S_TIER], st, spec, g, u_tier[a:b])
        _slot_real(slot[S_TRANSMITTAL], st, spec, g, transmittal[a:b])
        _slot_real(slot[S_PROCESSING], st, spec, g, processing[a:b])
        _slot_real(slot[S_DELIVERY], st, spec, g, delivery[a:b])
        width = (lead_offset[r + 1] - lead_offset[r]) // n_modes if n_modes > 0 else 0
        for m in range(n_modes):
            start = lead_offset[r] + m * width
            _slot_whole(slot[S_LEAD + m], st, spec, lead_state[r, m], lead_time[start:start + width])
    return (order_start, order_offset, order_size, order_customer, u_reaction, u_defect, transmittal, processing,
            delivery, expedite_lead_time, lead_offset, lead_time, lead_state, u_tier, order_tier)


@njit(cache=True)
def extend_lead(kinds, fparams, iparams, value_start, values, lead, state, width):
    """Lead times int64[n_modes, width]: lead (int64[n_modes, w], w <= width, drawn by
    sku_streams) followed by the next draws of each mode's stream, drawn from a copy of its
    generator state[m] (uint64[n_modes, 6], sku_streams' lead_state; not changed). Draw k of a
    stream does not depend on how many are drawn, so these are sku_streams' first `width` draws."""
    n_modes, w = lead.shape
    out = np.empty((n_modes, width), np.int64)
    g = np.zeros(6, np.uint64)
    more = np.empty(width - w, np.int64)
    for m in range(n_modes):
        s = S_LEAD + m
        for i in range(6):
            g[i] = state[m, i]
        fill_whole(kinds[s], fparams[s], iparams[s], values[value_start[s]:value_start[s + 1]], g, more)
        for j in range(w):
            out[m, j] = lead[m, j]
        for j in range(width - w):
            out[m, w + j] = more[j]
    return out
