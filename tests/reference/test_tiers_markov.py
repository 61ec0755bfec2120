"""Reference: two customer tiers with critical-level rationing (docs/tiers.md), lost sales, base stock S
reviewed every period, fixed lead time L = 0 or 1, Poisson(lam) orders of one unit, tier 0 (the top
tier) with probability p. The exact long-run figures come from the Markov chain of tiers_exact.py
(stationary distribution of the period-start state, a DP over the period's orders for the joint of
the units served per tier); the simulation engines must reproduce them.

The exact chain is checked first on its own: against a small numpy Monte Carlo of the same rules
(figures and their standard errors), against the newsvendor (L = 0, FIFO), and, for every (S, c) of
the brute-force optimum, against an independent evaluation (a phase formula for the period's served
units instead of the order-by-order DP, the reduced chain a' = S - served instead of the enumerated
state space, and the long-run average by power iteration from the start state instead of a linear
solve).

Engine tolerances: each figure's asymptotic standard deviation per period `sd` is exact
(tiers_exact.exact_tiers); an engine run of P counted periods x n replications estimates it with a
standard error sd / sqrt(P n) (the 200-period warm-up removes the start transient, which decays
geometrically within a few periods; the ratio estimators' bias is O(1/P), below 1e-4 of the
standard error's scale). A figure passes when it is within Z = 4.5 standard errors: about 7e-6 per
comparison, under 1e-3 over every comparison of this module. The same band must be narrower than
the gap to the exact figure of the neighbouring critical level, so that a wrong rule fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulation
from scenarios.schema import Scenario
from tiers_exact import best_policy, exact_cost, exact_tiers, order_count_pmf, period_table, tier_chain

LAM, P_TOP = 3.0, 0.3
H, LOST_SALE, GOODWILL_TOP = 1.0, 10.0, 5.0  # tier 0 loses 15 per unit, tier 1 loses 10
LOST = (LOST_SALE + GOODWILL_TOP, LOST_SALE)
Z = 4.5

# ----------------------------------------------------------------------------------------------
# the exact chain on its own


def monte_carlo(S: int, c: int, L: int, *, reps: int, periods: int, warmup: int, seed: int) -> dict:
    """Per-replication estimates (arrays over reps) of the tiered lost-sales base-stock system,
    simulated order by order with numpy, replications side by side."""
    rng = np.random.default_rng(seed)
    x = np.full(reps, S, dtype=np.int64)
    pipe = np.zeros((reps, L), dtype=np.int64)
    sums = {k: np.zeros(reps) for k in ("s0", "s1", "d0", "d1", "l0", "l1", "on_hand", "ordered")}
    for t in range(warmup + periods):
        q = np.maximum(S - x - pipe.sum(axis=1), 0)
        if L == 0:
            a = x + q
        else:
            a = x + pipe[:, 0]
            pipe = np.concatenate([pipe[:, 1:], q[:, None]], axis=1)
        n = rng.poisson(LAM, reps)
        y = a.copy()
        s0, s1, d0 = (np.zeros(reps, dtype=np.int64) for _ in range(3))
        for j in range(int(n.max(initial=0))):
            active = j < n
            top = rng.random(reps) < P_TOP
            serve = active & np.where(top, y > 0, y > c)
            s0 += serve & top
            s1 += serve & ~top
            d0 += active & top
            y -= serve
        x = y
        if t >= warmup:
            d1 = n - d0
            for k, v in (("s0", s0), ("s1", s1), ("d0", d0), ("d1", d1), ("l0", d0 - s0), ("l1", d1 - s1),
                         ("on_hand", y), ("ordered", q > 0)):
                sums[k] += v
    return dict(
        t0_fill_rate=sums["s0"] / sums["d0"], t1_fill_rate=sums["s1"] / sums["d1"],
        fill_rate=(sums["s0"] + sums["s1"]) / (sums["d0"] + sums["d1"]),
        avg_on_hand=sums["on_hand"] / periods, orders_per_period=sums["ordered"] / periods,
        cost_total=(H * sums["on_hand"] + LOST[0] * sums["l0"] + LOST[1] * sums["l1"]) / periods,
    )


@pytest.mark.parametrize("S,c,L", [(5, 0, 0), (5, 2, 0), (5, 0, 1), (5, 2, 1), (6, 3, 2)])
def test_exact_chain_matches_monte_carlo(S, c, L):
    reps, periods = 48, 3000
    mc = monte_carlo(S, c, L, reps=reps, periods=periods, warmup=50, seed=1000 * S + 10 * c + L)
    ex = exact_tiers(S, c, LAM, P_TOP, L, h=H, lost_sale=LOST)
    for name, per_rep in mc.items():
        se = ex["sd"][name] / np.sqrt(periods)  # one replication's standard error
        mean_se = se / np.sqrt(reps)
        assert abs(per_rep.mean() - ex[name]) <= Z * mean_se, (name, per_rep.mean(), ex[name], mean_se)
        # the exact asymptotic sd predicts the spread between replications (sd of a sample sd of
        # 48 values: about 10 %, so 0.65-1.45 is beyond 3.5 of its standard deviations)
        ratio = per_rep.std(ddof=1) / se
        assert 0.65 <= ratio <= 1.45, (name, ratio)


def test_zero_lead_time_fifo_is_the_newsvendor():
    # L = 0: the review tops up to S before demand, so every period starts with S on hand; with c = 0
    # both tiers are served alike: fill = E[min(N, S)] / lam for each tier
    n = np.arange(200)
    pmf = stats.poisson.pmf(n, LAM)
    for S in (2, 5, 8):
        ex = exact_tiers(S, 0, LAM, P_TOP, 0, h=H, lost_sale=LOST)
        fill = float(np.sum(np.minimum(n, S) * pmf)) / LAM
        on_hand = float(np.sum(np.maximum(S - n, 0) * pmf))
        assert abs(ex["t0_fill_rate"] - fill) < 1e-10 and abs(ex["t1_fill_rate"] - fill) < 1e-10
        assert abs(ex["avg_on_hand"] - on_hand) < 1e-10
        assert abs(ex["orders_per_period"] - (1 - np.exp(-LAM))) < 1e-10
        assert abs(ex["cost_total"] - (H * on_hand + (LOST[0] * P_TOP + LOST[1] * (1 - P_TOP)) * LAM * (1 - fill))) < 1e-9


def test_truncation_tail_is_below_1e_12():
    pmf = order_count_pmf(LAM)
    assert stats.poisson.sf(len(pmf) - 1, LAM) < 1e-12 and abs(pmf.sum() - 1) < 1e-15


def phase_joint(a: int, c: int, lam: float, p: float) -> np.ndarray:
    """P(s0, s1) of a period with a on hand, without the order-by-order DP. If a <= c, tier 1 is never
    served and tier 0 gets min(N0, a), N0 ~ Poisson(lam p). Else every order is served while the on
    hand is above c: the first m = a - c orders (all of them when N < m), of which Binomial(m, p) are
    tier 0; after them only tier 0 is served, min(R0, c) of the R0 ~ Binomial(N - m, p) tier-0 orders
    among the rest."""
    J = np.zeros((a + 1, a + 1))
    if a <= c:
        k = np.arange(a)
        J[k, 0] = stats.poisson.pmf(k, lam * p)
        J[a, 0] = stats.poisson.sf(a - 1, lam * p)
        return J
    m = a - c
    for n in range(m):  # N < m: all served
        k = np.arange(n + 1)
        J[k, n - k] += stats.poisson.pmf(n, lam) * stats.binom.pmf(k, n, p)
    # N >= m: N - m = r ~ P(N = m + r); K0 ~ Bin(m, p) in the first m, R0 ~ Bin(r, p) after them
    r = np.arange(0, 400)
    w = stats.poisson.pmf(m + r, lam)
    keep = w > 0
    r, w = r[keep], w[keep]
    tail0 = np.zeros(c + 1)  # P(min(R0, c) = j)
    for j in range(c + 1):
        tail0[j] = np.sum(w * (stats.binom.pmf(j, r, p) if j < c else stats.binom.sf(c - 1, r, p)))
    for k0 in range(m + 1):
        pk = stats.binom.pmf(k0, m, p)
        for j in range(c + 1):
            J[k0 + j, m - k0] += pk * tail0[j]
    return J


def test_period_dp_equals_phase_formula():
    for a in range(0, 9):
        for c in range(0, 9):
            for p in (0.3, 0.8):
                dp = period_table(a, c, LAM, p).mass
                assert np.abs(dp - phase_joint(a, c, LAM, p)).max() < 1e-11, (a, c, p)


def cost_by_power_iteration(S: int, c: int, L: int, lost0: float, lost1: float, steps: int = 5000) -> float:
    """The independent evaluation: the period's served units from phase_joint, the expected lost units
    lam p_k - E[s_k] (tier demand does not depend on the state), the chain of step-4 on hand a
    (L = 0: a = S every period; L = 1: a' = S - s0 - s1), the distribution of a pushed `steps` periods
    from a = S and the cost of that period (the chain forgets its start geometrically; slowest with
    S = 1, almost periodic: |second eigenvalue| = 1 - e^-3 - ..., 0.95^5000 ~ 1e-111)."""
    joints = [phase_joint(a, c, LAM, P_TOP) for a in range(S + 1)]
    cost_at = np.zeros(S + 1)
    T = np.zeros((S + 1, S + 1))
    for a, J in enumerate(joints):
        k = np.arange(a + 1)
        s0, s1 = float(np.sum(J * k[:, None])), float(np.sum(J * k[None, :]))
        cost_at[a] = H * (a - s0 - s1) + lost0 * (LAM * P_TOP - s0) + lost1 * (LAM * (1 - P_TOP) - s1)
        for i in range(a + 1):
            for j in range(a + 1 - i):
                T[a, S if L == 0 else S - i - j] += J[i, j]
    dist = np.zeros(S + 1)
    dist[S] = 1.0
    for _ in range(steps):
        dist = dist @ T
    return float(dist @ cost_at)


@pytest.mark.parametrize("L,lost0,lost1", [(0, 40.0, 5.0), (1, 40.0, 5.0), (1, 12.0, 12.0), (1, 60.0, 2.0)])
def test_best_policy_equals_independent_enumeration(L, lost0, lost1):
    S_max = 11
    table = {}
    for S in range(S_max + 1):
        for c in range(S + 1):
            table[S, c] = cost_by_power_iteration(S, c, L, lost0, lost1)
            assert abs(exact_cost(S, c, LAM, P_TOP, L, H, lost0, lost1) - table[S, c]) < 1e-9, (S, c)
    S, c, cost = best_policy(LAM, P_TOP, L, H, lost0, lost1, S_max)
    (S_ref, c_ref), cost_ref = min(table.items(), key=lambda kv: (kv[1], kv[0]))
    assert (S, c) == (S_ref, c_ref) and abs(cost - cost_ref) < 1e-9
    assert S < S_max  # the optimum is inside the enumerated range


def test_best_policy_rations_when_the_top_tier_is_dear():
    # equal lost-sale costs: rationing only moves losses around, so the optimum is FIFO; a dear top
    # tier and a cheap lower one: rationing pays
    assert best_policy(LAM, P_TOP, 1, H, 12.0, 12.0, 11)[1] == 0
    assert best_policy(LAM, P_TOP, 1, H, 60.0, 2.0, 11)[1] > 0


@pytest.mark.parametrize("L", [0, 1, 2])
def test_exact_top_tier_fill_rate_never_falls_with_c(L):
    for S in (3, 5, 8):
        ex = [exact_tiers(S, c, LAM, P_TOP, L) for c in range(S + 1)]
        f0, f1 = [e["t0_fill_rate"] for e in ex], [e["t1_fill_rate"] for e in ex]
        assert np.all(np.diff(f0) >= -1e-12), (S, f0)
        assert np.all(np.diff(f1) <= 1e-12), (S, f1)
        assert f1[S] == 0.0  # c = S: the lower tier is never served
        assert abs(f0[0] - f1[0]) < 1e-12  # FIFO: each order's tier plays no part in its service


def test_chain_of_lead_time_one_is_on_hand_after_receipt():
    # L = 1: the enumerated state (x, p_0) has x + p_0 = a and a' = S - served (module docstring)
    for c in (0, 2):
        ch = tier_chain(5, c, LAM, P_TOP, 1)
        for i, (x, p0) in enumerate(ch.states):
            assert ch.a[i] == x + p0 <= 5
            for s, j in enumerate(ch.successor[i]):
                nx, np0 = ch.states[j]
                assert nx + np0 == 5 - s


# ----------------------------------------------------------------------------------------------
# the engines against the exact chain

PERIODS, WARMUP, REPS = 20000, 200, 8
CANDIDATES = [(5, 0), (5, 1), (5, 2), (8, 3)]  # (S, critical level)


def own_tier_demand() -> dict:
    """Each tier's own demand (customer_tiers.demand own): Poisson(LAM p) and Poisson(LAM (1 - p)) unit
    orders, merged in random order inside the period: the same process as thinning Poisson(LAM)
    orders by p, so the exact chain holds for it too."""
    return {"key": {"dist": "compound", "orders": {"dist": "poisson", "mean": LAM * P_TOP}, "size": 1},
            "rest": {"dist": "compound", "orders": {"dist": "poisson", "mean": LAM * (1 - P_TOP)}, "size": 1}}


def tier_scenario(L: int, allocation: str = "critical_level", *, periods: int = PERIODS, warmup: int = WARMUP,
                  reps: int = REPS, seed: int = 2024, own: bool = False) -> Scenario:
    sku = {"id": "x", "unit_cost": 10.0, "price": 20.0,
           "demand": {"dist": "compound", "orders": {"dist": "poisson", "mean": LAM}, "size": 1}}
    if own:
        sku["tier_demand"] = own_tier_demand()
    return Scenario.model_validate({
        "format": 1, "name": "tiers-markov", "seed": seed, "replications": reps,
        "horizon": {"periods": periods, "warmup": warmup},
        "costs": {"holding_per_unit_period": H, "in_transit_rate": 0.0, "lost_sale": LOST_SALE,
                  "goodwill": 0.0, "order_cost": 0.0},
        "transport": [{"name": "truck", "lead_time": L}],
        "customer_reaction": {"wait": 0.0, "substitute": 0.0, "lost_sale": 1.0},
        "customer_tiers": {"allocation": allocation, "tiers": [
            {"name": "key", "share": P_TOP, "goodwill": GOODWILL_TOP},
            {"name": "rest", "share": 1 - P_TOP}]},
        "skus": [sku],
    })


def tier_policies(candidates) -> pd.DataFrame:
    return pd.DataFrame([dict(sku="x", family="base_stock", mode="truck", s=np.nan, S=float(S), Q=np.nan, R=1,
                              cap=np.nan, critical_level=float(c)) for S, c in candidates],
                        columns=["sku", "family", "mode", "s", "S", "Q", "R", "cap", "critical_level"])


_RUNS: dict = {}


def engine_run(L: int, allocation: str = "critical_level", candidates=tuple(CANDIDATES), own: bool = False
               ) -> pd.DataFrame:
    key = (L, allocation, tuple(candidates), own)
    if key not in _RUNS:
        _RUNS[key] = simulation.evaluate(tier_scenario(L, allocation, own=own), tier_policies(candidates),
                                         engine="kernel")
    return _RUNS[key]


def band(ex: dict, name: str) -> float:
    return Z * ex["sd"][name] / np.sqrt(PERIODS * REPS)


@pytest.mark.parametrize("own", [False, True], ids=["thinned", "own_demand"])
@pytest.mark.parametrize("L", [0, 1])
def test_engine_tier_fill_rates_and_cost_are_exact(L, own):
    out = engine_run(L, own=own)
    assert len(out) == len(CANDIDATES)
    for row, (S, c) in zip(out.itertuples(index=False), CANDIDATES):  # rows in input order
        assert row.S == S and getattr(row, "critical_level", c) == c
        ex = exact_tiers(S, c, LAM, P_TOP, L, h=H, lost_sale=LOST)
        for name in ("t0_fill_rate", "t1_fill_rate", "fill_rate", "cost_total", "cost_carrying", "cost_shortage",
                     "avg_on_hand"):
            got = getattr(row, name)
            assert abs(got - ex[name]) <= band(ex, name), (L, S, c, name, got, ex[name], band(ex, name))
        # power: the exact figures of critical level c - 1 and c + 1 lie outside the band
        for wrong in (c - 1, c + 1):
            if 0 <= wrong <= S:
                off = exact_tiers(S, wrong, LAM, P_TOP, L, h=H, lost_sale=LOST)
                assert abs(row.t1_fill_rate - off["t1_fill_rate"]) > band(ex, "t1_fill_rate"), (L, S, c, wrong)


@pytest.mark.parametrize("L", [0, 1])
def test_engine_critical_level_zero_is_fifo(L):
    cands = [(5, 0), (8, 0)]
    rationed = engine_run(L, "critical_level", tuple(cands))
    fifo = engine_run(L, "fifo", tuple(cands))
    pd.testing.assert_frame_equal(rationed, fifo, check_exact=True)
    for row, (S, c) in zip(rationed.itertuples(index=False), cands):
        ex = exact_tiers(S, 0, LAM, P_TOP, L, h=H, lost_sale=LOST)
        for name in ("t0_fill_rate", "t1_fill_rate"):
            got = getattr(row, name)
            assert abs(got - ex[name]) <= band(ex, name), (L, S, name, got, ex[name])


@pytest.mark.parametrize("L", [0, 1])
def test_engine_rationing_never_lowers_the_top_tier(L):
    out = engine_run(L)  # one seed: common random numbers across the candidates
    by = dict(zip(CANDIDATES, out.itertuples(index=False)))
    base = by[5, 0].t0_fill_rate
    for c in (1, 2):
        assert by[5, c].t0_fill_rate >= base, (L, c, by[5, c].t0_fill_rate, base)
        assert by[5, c].t1_fill_rate <= by[5, 0].t1_fill_rate


@pytest.mark.parametrize("own", [False, True], ids=["thinned", "own_demand"])
def test_simpy_equals_kernel_on_tiers(own):
    sc = tier_scenario(1, periods=300, warmup=20, reps=2, seed=5, own=own)
    pol = tier_policies([(5, 0), (5, 2), (6, 6), (3, 1)])
    kernel = simulation.evaluate(sc, pol, engine="kernel")
    simpy = simulation.evaluate(sc, pol, engine="simpy")
    assert "t0_fill_rate" in kernel.columns and "t1_fill_rate" in kernel.columns
    pd.testing.assert_frame_equal(simpy, kernel, check_exact=True)
