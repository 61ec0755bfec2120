"""Reference: base stock with backorders, zero order cost, Poisson demand (newsvendor over L+1 periods).

Periodic review every period (R = 1), fixed lead time L, Poisson(lam) demand, holding h per unit on
hand per period, backorder penalty p per unit of backlog per period, no order or transport cost.
The order placed at the review of period t arrives in step 2 of t+L, so the net inventory at the end
of period t+L is  S - X  with  X = D_t + ... + D_{t+L} ~ Poisson(lam (L+1)).  Hence

    C(S) = h E[(S - X)^+] + p E[(X - S)^+]              (exact expected cost per period)
    S*   = min { S : P(X <= S) >= p / (p + h) }         (the critical-fractile quantile)

The test scans S, checks that the simulated argmin is S*, and that every exact C(S) lies inside the
simulation's 95 % interval (Bonferroni-widened over the scanned S). A lead time off by one period
moves X to Poisson(lam L) or Poisson(lam (L+2)): S* moves by ~lam and C(S) by far more than the
interval, which the test also checks, so a wrong model fails here.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

import simulation
from tests.simulation.simpy_worlds import policies, scenario

LAM, L, H, P = 5.0, 2, 1.0, 9.0


def exact_cost(S: int, mean: float) -> float:
    """h E[(S-X)+] + p E[(X-S)+] for X ~ Poisson(mean), summed to a negligible tail."""
    k = np.arange(0, int(mean + 40 * np.sqrt(mean) + 50))
    pmf = stats.poisson.pmf(k, mean)
    return float(H * np.sum(pmf * np.maximum(S - k, 0)) + P * np.sum(pmf * np.maximum(k - S, 0)))


def critical_quantile(mean: float) -> int:
    """Smallest S with P(X <= S) >= p/(p+h)."""
    return int(stats.poisson.ppf(P / (P + H), mean))


def bonferroni(ci: np.ndarray, n_rep: int, k: int) -> np.ndarray:
    """Widen 95 % half-widths to a family-wise 95 % over k intervals."""
    return ci * stats.t.ppf(1 - 0.025 / k, n_rep - 1) / stats.t.ppf(0.975, n_rep - 1)


def test_base_stock_optimum_is_the_critical_fractile_and_costs_are_exact():
    mean = LAM * (L + 1)
    s_star = critical_quantile(mean)
    assert stats.poisson.cdf(s_star, mean) >= P / (P + H) > stats.poisson.cdf(s_star - 1, mean)
    scan = list(range(s_star - 4, s_star + 5))
    reps = 8
    sc = scenario(
        horizon=dict(periods=1500, warmup=10),
        replications=reps,
        transport=[dict(name="truck", lead_time=L)],
        costs=dict(holding_per_unit_period=H, in_transit_rate=0.0, backorder_per_unit_period=P),
        customer_reaction=dict(wait=1.0),
        sku=dict(demand={"dist": "poisson", "mean": LAM}),
    )
    out = simulation.evaluate(sc, policies(*[dict(family="base_stock", S=S, R=1) for S in scan]), engine="simpy")
    cost = out["cost_total"].to_numpy()
    band = bonferroni(out["cost_total_ci"].to_numpy(), reps, len(scan))
    exact = np.array([exact_cost(S, mean) for S in scan])

    assert scan[int(np.argmin(cost))] == s_star
    assert scan[int(np.argmin(exact))] == s_star  # the quantile is the exact minimiser too
    assert np.all(np.abs(cost - exact) <= band), np.c_[scan, cost, exact, band]
    # Only holding and backlog cost arise; in steady state the backlog never coexists with stock.
    assert np.allclose(out["cost_total"], out["cost_carrying"] + out["cost_shortage"])

    # The same data reject a lead time off by one: other quantile, costs outside the interval.
    for wrong in (LAM * L, LAM * (L + 2)):
        assert abs(critical_quantile(wrong) - s_star) >= 3
        wrong_cost = np.array([exact_cost(S, wrong) for S in scan])
        rejected = np.abs(cost - wrong_cost) > band
        assert rejected[scan.index(s_star)] and rejected.sum() >= len(scan) - 2  # the curves cross once
