"""Reference: exact seeds (optimizer.seeds) and growing refine steps (optimizer.refine._pattern) on
textbook (s,S) and (r,Q) instances with Poisson demand, backorders and a fixed order cost, the engine's
timing (docs/simulation.md, R = 1: an order placed at the start of period t arrives before the demand
of t+L; costs on the end-of-period position, so G(y) is over L+1 periods of demand, as SsExact).

The exact costs are computed here, not by the code under test:
- (s,S): SsExact.cost, the renewal formula of Zheng & Federgruen 1991;
- (r,Q): RQExact below. The engine orders k lots at once when the position is at or below r (one
  fixed cost whatever k), so the position after ordering is uniform on r+1..r+Q and an order is
  placed in a period with probability E[min(D, Q)] / Q: C(r,Q) = [K E[min(D,Q)] + sum_{y=r+1}^{r+Q}
  G(y)] / Q (Federgruen & Zheng's (1) with the order rate of periodic review;
  test_rq_exact_cost_is_the_engines checks it against the simulation).
Optima are found by brute force over grids that hold them. The engine's plan comes from its own
loop (initial candidates, exact evaluations, select, neighbours until no gain, as
test_optimizer_sS.py) and must be within 0.5 % of the optimum on every instance.

Run with -s to see the table of instances and gaps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimizer import select
from optimizer.candidates import POLICY_COLUMNS, initial_candidates
from optimizer.refine import _around, gain_within_noise, neighbours
from optimizer.seeds import federgruen_zheng, renewal_density, solve_way, zheng_federgruen
from optimizer_exact import SsExact, evaluation_row
from scenarios.schema import Scenario

# (family, lam, L, h, p, K): high demand per period against the fixed cost (EOQ below one period's
# demand: the optimum orders almost every period) and classic ones
INSTANCES = [
    ("sS", 30.0, 1, 1.0, 9.0, 10.0),
    ("sS", 50.0, 2, 1.0, 19.0, 20.0),
    ("sS", 20.0, 0, 2.0, 18.0, 8.0),
    ("sS", 40.0, 3, 0.5, 4.5, 5.0),
    ("sS", 25.0, 1, 1.0, 9.0, 40.0),
    ("sS", 45.0, 1, 2.0, 18.0, 20.0),
    ("sS", 50.0, 1, 1.0, 19.0, 30.0),
    ("sS", 6.0, 0, 1.0, 4.0, 5.0),  # Snyder & Shen, Fundamentals of Supply Chain Theory, Example 4.7
    ("rQ", 30.0, 1, 1.0, 9.0, 10.0),
    ("rQ", 50.0, 2, 1.0, 19.0, 20.0),
    ("rQ", 25.0, 0, 1.0, 9.0, 4.0),
    ("rQ", 40.0, 1, 0.5, 9.5, 30.0),
    ("rQ", 8.0, 2, 1.0, 9.0, 50.0),
    ("rQ", 20.0, 1, 1.0, 9.0, 40.0),
    ("rQ", 35.0, 2, 0.5, 9.5, 60.0),
]


class RQExact(SsExact):
    """Exact long-run cost per period of the engine's (r,Q) (order k lots, k the least with the
    position above r, when the position is <= r), Poisson demand, backorders, fixed cost K per order."""

    def __init__(self, lam: float, L: int, h: float, p: float, K: float, y_min: int = -60, y_max: int = 400):
        super().__init__(lam, L, h, p, K, y_min, y_max)
        sf = 1.0 - np.cumsum(self.p1)  # sf[i] = P(D > i)
        self.a = np.r_[0.0, np.cumsum(sf)]  # a[Q] = E[min(D, Q)] = sum_{i<Q} P(D > i)

    def cost(self, r: int, Q: int) -> float:
        return float((self.K * self.a[Q] + self._G(np.arange(r + 1, r + Q + 1)).sum()) / Q)

    def figures(self, r: int, Q: int) -> dict:
        ys = np.arange(r + 1, r + Q + 1)
        i = ys - self.y_min
        k = self.k
        e = np.r_[0.0, np.cumsum(1 - np.cumsum(self.p1))[: len(k) - 1]]  # E[min(z, D)]
        filled = np.mean([float(self.pL @ e[np.maximum(y - k, 0)]) for y in ys])
        carrying = float(self.G_h[i].mean())
        return dict(carrying=carrying, shortage=float(self.G_p[i].mean()), ordering=self.K * self.a[Q] / Q,
                    fill_rate=filled / self.lam, on_hand=carrying / self.h)

    def optimum(self, r_range, q_max: int) -> tuple[float, int, int]:
        """Brute force over r in r_range, 1 <= Q <= q_max; returns (cost, r, Q)."""
        r0, nr = min(r_range), len(r_range)
        G = self._G(np.arange(r0 + 1, r0 + nr + q_max))  # positions r0+1 .. r_max + q_max
        cs = np.r_[0.0, np.cumsum(G)]  # cs[i] = G(r0+1) + .. + G(r0+i)
        best = (np.inf, 0, 0)
        for Q in range(1, q_max + 1):
            c = (self.K * self.a[Q] + cs[Q: Q + nr] - cs[:nr]) / Q  # r = r0 .. r0 + nr - 1
            j = int(np.argmin(c))
            if c[j] < best[0]:
                best = (float(c[j]), r0 + j, Q)
        return best


def scenario(family, lam, L, h, p, K) -> Scenario:
    return Scenario.model_validate({
        "format": 1, "name": "textbook",
        "costs": {"holding_per_unit_period": h, "backorder_per_unit_period": p, "order_cost": K},
        "transport": [{"name": "truck", "lead_time": L}],
        "policies": {"families": [family], "review_periods": [1]},
        "solver": {"mip_gap": 0.0},
        "skus": [{"id": "x", "unit_cost": 10.0, "price": 20.0, "demand": {"dist": "poisson", "mean": lam}}]})


def model_of(family, lam, L, h, p, K):
    span = int(lam * (L + 1) + 8 * np.sqrt(lam * (L + 1)) + 4 * np.sqrt(2 * K * lam / h) + 2 * lam + 30)
    cls = RQExact if family == "rQ" else SsExact
    return cls(lam, L, h, p, K, y_min=-span, y_max=2 * span)


def proven_optimum(model, family, lam, L, h, K):
    """The brute-force optimum over a grid, checked to hold it strictly inside."""
    lo, hi = int(lam * (L + 1) * 0.2) - 20, int(lam * (L + 1) * 1.6) + 20
    d_max = int(4 * np.sqrt(2 * K * lam / h) + lam) + 10
    if family == "rQ":
        cost, r, Q = model.optimum(range(lo, hi), d_max)
        assert lo < r < hi - 1 and Q < d_max, "the optimum must lie inside the searched grid"
        return cost, r, r + Q
    cost, s, S = model.optimum(range(lo, hi), d_max)
    assert lo < s < hi - 1 and S - s < d_max, "the optimum must lie inside the searched grid"
    return cost, s, S


def exact_rows(model, family, cands: pd.DataFrame, lam: float, rnd: int = 0) -> pd.DataFrame:
    """Evaluation rows with exact figures (round `rnd`, as tradeoff.search numbers its refine rounds);
    a policy beyond the model's grid gets a prohibitive cost (a long way off any optimum here)."""
    rows = []
    top = len(model.m) - 1
    for r in cands.itertuples(index=False):
        extra = dict(s=r.s, Q=r.Q) if family == "rQ" else dict(s=r.s, S=r.S)
        lot = r.Q if family == "rQ" else r.S - r.s
        if r.s + lot - model.y_min > len(model.G_h) - 1 or r.s - model.y_min < 1 or lot > top:
            f = dict(carrying=1e9, shortage=0.0, ordering=0.0, fill_rate=1.0, on_hand=1e9)
        else:
            f = model.figures(int(r.s), int(r.Q)) if family == "rQ" else model.figures(int(r.s), int(r.S))
        rows.append(evaluation_row(r.sku, family, lam, R=r.R, mode=r.mode, carrying=f["carrying"],
                                   ordering=f["ordering"], shortage=f["shortage"], fill_rate=f["fill_rate"],
                                   on_hand=f["on_hand"], **extra))
    return pd.DataFrame(rows).assign(round=rnd)


def refine_loop(sc, model, family, ev, lam, moves=neighbours, rounds=30):
    """select, then moves around the plan until a round gains nothing (exact figures: no noise)."""
    plan = select(sc, ev)
    for k in range(rounds):
        new = moves(sc, ev, plan)
        if new.empty:
            return plan, k
        ev = pd.concat([ev, exact_rows(model, family, new, lam, k + 1)], ignore_index=True)
        previous, plan = plan, select(sc, ev)
        if gain_within_noise(previous, plan):
            return plan, k + 1
    return plan, rounds


def plan_cost(model, family, plan) -> float:
    c = plan.choice.iloc[0]
    return model.cost(int(c["s"]), int(c["Q"])) if family == "rQ" else model.cost(int(c["s"]), int(c["S"]))


GAPS: dict = {}


@pytest.mark.parametrize("inst", INSTANCES, ids=[f"{i[0]}-lam{i[1]:g}-L{i[2]}-K{i[5]:g}" for i in INSTANCES])
def test_refined_plan_within_half_a_percent_of_the_proven_optimum(inst):
    family, lam, L, h, p, K = inst
    sc = scenario(*inst)
    model = model_of(*inst)
    opt_cost, lo, hi = proven_optimum(model, family, lam, L, h, K)
    cands = initial_candidates(sc)
    plan, rounds = refine_loop(sc, model, family, exact_rows(model, family, cands, lam), lam)
    cost = plan_cost(model, family, plan)
    assert cost == pytest.approx(plan.objective, rel=1e-9)
    gap = cost / opt_cost - 1
    GAPS[inst] = gap
    c = plan.choice.iloc[0]
    got = (int(c["s"]), int(c["Q"])) if family == "rQ" else (int(c["s"]), int(c["S"]))
    want = (lo, hi - lo) if family == "rQ" else (lo, hi)
    print(f"\n{family} lam={lam:g} L={L} h={h:g} p={p:g} K={K:g}: optimum {want} cost {opt_cost:.4f}; "
          f"plan {got} cost {cost:.4f}; gap {100 * gap:.3f} %; {len(cands)} initial candidates, {rounds} rounds")
    assert gap <= 0.005


def test_the_seeds_are_the_proven_optima():
    # the engine's analytic model is these instances' model exactly (Poisson, R = 1, backorders,
    # u = 1): its seed is the optimum itself (cost equal; the policy equal up to ties)
    for inst in INSTANCES:
        family, lam, L, h, p, K = inst
        model = model_of(*inst)
        opt_cost, lo, hi = proven_optimum(model, family, lam, L, h, K)
        way = solve_way(lam, lam, float(L), 0.0, 1, h, p, K, np.sqrt(2 * K * lam / h))
        assert way["unit"] == 1
        if family == "rQ":
            assert way["cost_rQ"] == pytest.approx(opt_cost, rel=1e-9)
            assert model.cost(way["r"], way["Q"]) == pytest.approx(opt_cost, rel=1e-9)
        else:
            assert way["cost_sS"] == pytest.approx(opt_cost, rel=1e-9)
            assert model.cost(way["s"], way["S"]) == pytest.approx(opt_cost, rel=1e-9)
        seeds = initial_candidates(scenario(*inst))
        exact = (seeds["s"] == way["s"]) & (seeds["S"] == way["S"]) if family == "sS" else \
            (seeds["s"] == way["r"]) & (seeds["Q"] == way["Q"])
        assert exact.any(), "the seed is among the initial candidates"


# --------------------------------------------------------------------------- the algorithms alone
def random_instances(n: int, seed: int):
    g = np.random.default_rng(seed)
    for _ in range(n):
        lam = float(np.round(g.uniform(0.3, 25.0), 2))
        yield lam, int(g.integers(0, 4)), float(g.uniform(0.2, 2.0)), float(g.uniform(1.0, 20.0)), float(g.uniform(0.5, 120.0))


def test_renewal_density_is_the_recursion():
    for lam in (0.3, 4.0, 22.0):
        model = SsExact(lam, 1, 1.0, 9.0, 10.0, y_min=-10, y_max=120)
        m = renewal_density(model.p1, 200)
        np.testing.assert_allclose(m, model.m[:200], rtol=1e-10)


def test_zheng_federgruen_equals_brute_force_on_random_instances():
    for k, (lam, L, h, p, K) in enumerate(random_instances(20, seed=5)):
        p = p * h
        span = int(lam * (L + 1) + 10 * np.sqrt(lam * (L + 1)) + 3 * np.sqrt(2 * K * lam / h) + 3 * K / h + 30)
        model = SsExact(lam, L, h, p, K, y_min=-span, y_max=2 * span)
        ys = np.arange(-span, 2 * span + 1)
        s, S, c = zheng_federgruen(model._G(ys), -span, model.p1, K)
        d_max = int(3 * np.sqrt(2 * K * lam / h) + 2 * lam + 10)
        lo, hi = int(lam * (L + 1) * 0.3) - 40, int(lam * (L + 1) * 1.5) + 25
        best, bs, bS = model.optimum(range(lo, hi), d_max)
        assert lo < bs < hi - 1 and bS - bs < d_max, (k, "grid too small")
        assert c == pytest.approx(best, rel=1e-9), (k, lam, L, h, p, K, (s, S), (bs, bS))
        assert model.cost(s, S) == pytest.approx(c, rel=1e-9)


@pytest.mark.parametrize("orders", ["paper", "engine"])
def test_federgruen_zheng_equals_brute_force_on_random_instances(orders):
    for k, (lam, L, h, p, K) in enumerate(random_instances(20, seed=9)):
        p = p * h
        span = int(lam * (L + 1) + 10 * np.sqrt(lam * (L + 1)) + 3 * np.sqrt(2 * K * lam / h) + 3 * K / h + 30)
        model = RQExact(lam, L, h, p, K, y_min=-span, y_max=2 * span)
        if orders == "paper":  # Federgruen & Zheng's (1): K lambda / Q, a constant order rate
            model.a = np.r_[0.0, np.full(len(model.a) - 1, lam)]
        ys = np.arange(-span, 2 * span + 1)
        r, Q, c = federgruen_zheng(model._G(ys), -span, model.a, K)
        q_max = int(3 * np.sqrt(2 * K * lam / h) + 2 * lam + 10)
        lo, hi = -span // 2, int(lam * (L + 1) * 1.5) + 25
        best, br, bQ = model.optimum(range(lo, hi), q_max)
        assert lo < br < hi - 1 and bQ < q_max, (k, "grid too small")
        assert c == pytest.approx(best, rel=1e-9), (k, lam, L, h, p, K, (r, Q), (br, bQ))
        assert model.cost(r, Q) == pytest.approx(c, rel=1e-9)


def test_negative_binomial_seed_equals_brute_force():
    # over-dispersed demand: the model's G and renewal density from negative binomial totals
    # (mean and variance add over periods), brute force over the same renewal formula
    mean, var, L, h, p, K = 12.0, 40.0, 1, 1.0, 9.0, 30.0
    way = solve_way(mean, var, float(L), 0.0, 1, h, p, K)
    r_ = mean * mean / (var - mean)
    k = np.arange(0, 400)
    d1 = stats.nbinom.pmf(k, r_, r_ / (r_ + mean))
    dP = stats.nbinom.pmf(k, r_ * (L + 1), r_ / (r_ + mean))
    ys = np.arange(-100, 300)
    G = np.array([h * np.sum(np.maximum(y - k, 0) * dP) + p * np.sum(np.maximum(k - y, 0) * dP) for y in ys])
    m = [1 / (1 - d1[0])]
    for j in range(1, 200):
        m.append(sum(d1[i] * m[j - i] for i in range(1, j + 1)) / (1 - d1[0]))
    m = np.array(m)
    M = np.r_[0.0, np.cumsum(m)]
    best = min(((K + m[:S - s] @ G[S - np.arange(S - s) + 100]) / M[S - s], s, S)
               for s in range(-20, 60) for S in range(s + 1, s + 120))
    assert way["cost_sS"] == pytest.approx(best[0], rel=1e-7)
    assert (way["s"], way["S"]) == best[1:]


# --------------------------------------------------------------------------- growing steps
@pytest.mark.parametrize("start", [(0.0, 250.0), (-40.0, 0.0)])
def test_growing_steps_walk_far_from_a_bad_start(start):
    # one (s,S) candidate far from the optimum (16, 51): refine with growing steps reaches the
    # optimum's cost within 0.5 % in a dozen rounds; one-step moves alone need more than twice as
    # many rounds and after as many rounds are still far away
    inst = ("sS", 10.0, 1, 1.0, 9.0, 64.0)
    family, lam, L, h, p, K = inst
    sc = scenario(*inst)
    model = model_of(*inst)
    opt_cost, *_ = proven_optimum(model, family, lam, L, h, K)
    first = pd.DataFrame([dict(sku="x", family="sS", mode="truck", s=start[0], S=start[1], Q=np.nan, R=1,
                               cap=np.nan, critical_level=0.0)])[POLICY_COLUMNS]
    ev = exact_rows(model, family, first, lam)
    plan, rounds = refine_loop(sc, model, family, ev, lam, rounds=60)
    assert plan_cost(model, family, plan) <= 1.005 * opt_cost
    one_step = lambda sc_, ev_, plan_: _around(sc_, ev_, plan_.choice)  # noqa: E731
    slow, _ = refine_loop(sc, model, family, ev, lam, moves=one_step, rounds=rounds)
    assert plan_cost(model, family, slow) > 1.5 * opt_cost
    slow, slow_rounds = refine_loop(sc, model, family, ev, lam, moves=one_step, rounds=200)
    assert plan_cost(model, family, slow) <= 1.005 * opt_cost and slow_rounds > 2 * rounds
    print(f"\nfrom {start}: growing steps {rounds} rounds, one-step moves {slow_rounds} rounds")


def test_pattern_move_doubles_the_step_that_paid():
    from optimizer.refine import around

    sc = scenario("sS", 10.0, 1, 1.0, 9.0, 64.0)
    row = dict(sku="x", family="sS", mode="truck", Q=np.nan, R=1, cap=np.nan, critical_level=0.0)
    # below 20 the step is 1 unit (5 % of max(value, mean demand 10), at least 1): (5, 12) -> (6, 13)
    # paid, one step
    ev = pd.DataFrame([dict(row, s=5.0, S=12.0, round=0), dict(row, s=6.0, S=13.0, round=1),
                       dict(row, s=4.0, S=11.0, round=1)])
    new = around(sc, ev, ev.iloc[[1]][POLICY_COLUMNS])
    assert ((new["s"] == 8.0) & (new["S"] == 15.0)).any()  # two steps on
    # a sibling of the same round is not an origin: (4, 11) is no reason to jump from (6, 13) by 4
    assert not ((new["s"] == 10.0) & (new["S"] == 17.0)).any()
    assert len(new) == 8 - 1 + 1  # the one-step moves not evaluated yet, and the growing step
    # the next round: (8, 15) won, reached by two steps: four steps on
    ev = pd.concat([ev, pd.DataFrame([dict(row, s=8.0, S=15.0, round=2)])], ignore_index=True)
    new = around(sc, ev, ev.iloc[[3]][POLICY_COLUMNS])
    assert ((new["s"] == 12.0) & (new["S"] == 19.0)).any()
    # one-step moves are still there, and a seed with no origin gets none beyond them
    assert len(around(sc, ev.iloc[[0]], ev.iloc[[0]][POLICY_COLUMNS])) == 8


# --------------------------------------------------------------------------- the exact (r,Q) is the engine's
def test_rq_exact_cost_is_the_engines():
    import simulation

    lam, L, h, p, K = 20.0, 1, 1.0, 9.0, 10.0
    pairs = [(38, 1), (30, 8), (25, 20), (15, 45)]
    reps = 8
    sc = Scenario.model_validate({
        "format": 1, "name": "rq", "seed": 3, "replications": reps,
        "horizon": {"periods": 2000, "warmup": 50},
        "costs": {"holding_per_unit_period": h, "in_transit_rate": 0.0, "backorder_per_unit_period": p, "order_cost": K},
        "customer_reaction": {"wait": 1.0},
        "transport": [{"name": "truck", "lead_time": L}],
        "skus": [{"id": "x", "unit_cost": 10.0, "price": 20.0, "demand": {"dist": "poisson", "mean": lam}}]})
    pol = pd.DataFrame([dict(sku="x", family="rQ", mode="truck", s=float(r), S=np.nan, Q=float(Q), R=1, cap=np.nan)
                        for r, Q in pairs])
    out = simulation.evaluate(sc, pol, engine="kernel")
    widen = stats.t.ppf(1 - 0.025 / len(pairs), reps - 1) / stats.t.ppf(0.975, reps - 1)
    band = widen * out["cost_total_ci"].to_numpy()
    model = RQExact(lam, L, h, p, K, y_min=-100, y_max=300)
    exact = np.array([model.cost(r, Q) for r, Q in pairs])
    assert np.all(np.abs(out["cost_total"].to_numpy() - exact) <= band), np.c_[out["cost_total"], exact, band]
    # the continuous-review order rate lam / Q (one fixed cost per lot) is not the engine's
    paper = exact + K * (lam - model.a[[Q for _, Q in pairs]]) / np.array([Q for _, Q in pairs])
    assert (np.abs(out["cost_total"].to_numpy() - paper) > band).sum() >= 2
