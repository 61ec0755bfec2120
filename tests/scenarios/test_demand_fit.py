"""Demand models from history: the ADI/CV² classifier, the choice rule, and the fitted models
simulated through the engines' own sampler (simulation.streams) against the history's moments."""

import math

import numpy as np
import pytest
from scipy import stats

from scenarios.demand_fit import adi_cv2, block_bootstrap, chi2_gof, classify, fit_demand
from scenarios.schema import Compound, Empirical, NegBin, Poisson, Sku
from simulation.streams import demand_orders


# ----------------------------------------------------------------- classifier on series of known class
@pytest.mark.parametrize(
    "series, adi, cv2, pattern",
    [
        # every period, sizes 9/10/11: ADI 1, CV² = (2/3)/100
        ([9, 10, 11] * 20, 1.0, (2 / 3) / 100, "smooth"),
        # every period, sizes 1/20: mean 10.5, var 90.25 -> CV² 0.8186
        ([1, 20] * 30, 1.0, 90.25 / 110.25, "erratic"),
        # every third period, size 5: ADI 3, CV² 0
        ([0, 0, 5] * 20, 3.0, 0.0, "intermittent"),
        # every third period, sizes 1/20: ADI 3, CV² 0.8186
        ([0, 0, 1, 0, 0, 20] * 10, 3.0, 90.25 / 110.25, "lumpy"),
        # demand in 3 of 4 periods: ADI 4/3 = 1.333 >= 1.32 -> intermittent, not smooth
        ([0, 4, 4, 4] * 15, 4 / 3, 0.0, "intermittent"),
        # 100 of 131 periods: ADI 1.31 < 1.32 -> smooth
        ([4] * 100 + [0] * 31, 1.31, 0.0, "smooth"),
    ],
)
def test_classifier_on_series_of_known_class(series, adi, cv2, pattern):
    a, c = adi_cv2(np.array(series))
    assert a == pytest.approx(adi)
    assert c == pytest.approx(cv2)
    assert classify(a, c) == pattern
    assert fit_demand(np.array(series), "fit").pattern == pattern


def test_syntetos_boylan_cutoffs():
    assert classify(1.31, 0.48) == "smooth"
    assert classify(1.31, 0.49) == "erratic"
    assert classify(1.32, 0.48) == "intermittent"
    assert classify(1.32, 0.49) == "lumpy"


# ----------------------------------------------------------------- the choice rule
def test_rule_poisson_negbin_compound_empirical():
    g = np.random.default_rng(11)
    assert fit_demand(g.poisson(6.0, 730)).model_name == "poisson"
    over = g.negative_binomial(2.0, 2.0 / (2.0 + 6.0), 730)  # mean 6, var 24
    assert fit_demand(over).model_name == "negbin"
    interm = (g.random(730) < 0.2) * (1 + g.poisson(2.0, 730))
    f = fit_demand(interm)
    assert f.model_name == "compound" and f.pattern == "intermittent"
    # promotions: a two-level mixture no negbin of the same mean and variance fits -> empirical
    promo = np.where(g.random(730) < 0.1, g.poisson(60.0, 730), g.poisson(5.0, 730))
    f = fit_demand(promo)
    assert f.model_name == "empirical" and "rejected" in f.reason
    assert f.fit_test == "chi2_negbin_rejected" and f.fit_p < 0.01
    assert fit_demand(promo, "fit").model_name == "negbin"
    assert fit_demand(over, "empirical").model_name == "empirical"


def test_no_demand_is_refused():
    with pytest.raises(ValueError):
        fit_demand(np.zeros(50))


# ----------------------------------------------------------------- goodness of fit vs scipy's chisquare
def test_chi2_gof_matches_scipy_when_no_cells_merge():
    g = np.random.default_rng(5)
    v = g.integers(0, 4, 1000)  # uniform on 0..3: every cell expects 250
    stat, p = chi2_gof(v, lambda k: 0.25, n_params=0)
    obs = np.bincount(v, minlength=4)
    ref = stats.chisquare(obs, np.full(4, 250.0))
    assert stat == pytest.approx(ref.statistic)
    assert p == pytest.approx(ref.pvalue)


def test_chi2_gof_merges_sparse_tail():
    # Poisson(1) sample of 60: cells beyond 3 expect < 5 periods and are merged into the tail
    v = np.array([0] * 22 + [1] * 22 + [2] * 11 + [3] * 4 + [5])
    stat, p = chi2_gof(v, lambda k: stats.poisson.pmf(k, 1.0), n_params=0)
    e = 60 * np.array([stats.poisson.pmf(0, 1), stats.poisson.pmf(1, 1), stats.poisson.sf(1, 1)])
    o = np.array([22, 22, 16])
    assert stat == pytest.approx(((o - e) ** 2 / e).sum())
    assert p == pytest.approx(stats.chi2.sf(stat, 2))


# ----------------------------------------------------------------- simulated moments vs history
def _simulate(model, periods: int) -> np.ndarray:
    """Per-period demand the engines would see for this model (via simulation.streams)."""
    sku = Sku(id="X-1", unit_cost=1.0, price=2.0, demand=model)
    start, size = demand_orders(sku, seed=123, replication=0, periods=periods)
    per = np.zeros(periods)
    counts = np.diff(start)
    np.add.at(per, np.repeat(np.arange(periods), counts), size)
    return per


@pytest.mark.parametrize("kind", ["poisson", "negbin", "compound", "empirical"])
def test_fitted_model_simulates_history_mean_and_variance(kind):
    g = np.random.default_rng(7)
    history = {
        "poisson": g.poisson(9.0, 730),
        "negbin": g.negative_binomial(1.5, 1.5 / (1.5 + 9.0), 730),
        "compound": (g.random(730) < 0.25) * g.negative_binomial(2.0, 2.0 / 14.0, 730),
        "empirical": np.where(g.random(730) < 0.1, g.poisson(70.0, 730), g.poisson(6.0, 730)),
    }[kind]
    fit = fit_demand(history)
    assert fit.model_name == kind
    sim = _simulate(fit.model, 200_000)
    m, v = history.mean(), history.var()
    # standard errors of the simulated mean and variance (200k periods): well under 2 %
    assert sim.mean() == pytest.approx(m, rel=0.02)
    assert sim.var() == pytest.approx(v, rel=0.04)
    assert (sim == 0).mean() == pytest.approx((history == 0).mean(), abs=0.01)


def test_compound_orders_have_the_history_demand_share_exactly():
    x = np.array([0, 0, 3, 0, 7, 0, 0, 0, 2, 0, 0, 5])  # 4 of 12 periods
    f = fit_demand(x, "fit")
    assert isinstance(f.model, Compound)
    assert isinstance(f.model.orders, Empirical)
    assert np.mean(f.model.orders.values) == pytest.approx(1 / 3)
    assert sorted(f.model.size.values) == [2, 3, 5, 7]


def test_negbin_is_method_of_moments():
    g = np.random.default_rng(3)
    x = g.negative_binomial(3.0, 0.25, 500)
    f = fit_demand(x, "fit")
    assert isinstance(f.model, NegBin)
    assert f.model.mean == pytest.approx(x.mean())
    assert (f.model.cv * f.model.mean) ** 2 == pytest.approx(x.var())


def test_poisson_when_not_over_dispersed():
    f = fit_demand(np.array([5, 6, 4, 5, 5, 6, 4, 5] * 20), "fit")  # under-dispersed
    assert isinstance(f.model, Poisson) and f.model.mean == pytest.approx(5.0)


# ----------------------------------------------------------------- zero fraction and runs of zeros
def test_engine_resampling_preserves_zero_fraction():
    g = np.random.default_rng(9)
    x = (g.random(365) < 0.3) * g.integers(1, 12, 365)  # ~70 % zero periods
    zf = (x == 0).mean()
    for method in ("auto", "empirical"):
        sim = _simulate(fit_demand(x, method).model, 100_000)
        assert (sim == 0).mean() == pytest.approx(zf, abs=0.006)  # 4 standard errors


def _mean_zero_run(x: np.ndarray) -> float:
    z = np.concatenate([[0], (x == 0).astype(int), [0]])
    d = np.diff(z)
    runs = np.nonzero(d == -1)[0] - np.nonzero(d == 1)[0]
    return float(runs.mean())


def test_block_bootstrap_keeps_zero_fraction_and_runs():
    # 10 zero periods then 5 demand periods, repeated: zero fraction 2/3, zero runs of 10
    x = np.array(([0] * 10 + [4] * 5) * 40, dtype=float)
    g = np.random.default_rng(2)
    b = block_bootstrap(x, block=30, n=60_000, g=g)
    assert (b == 0).mean() == pytest.approx(2 / 3, abs=0.01)
    # i.i.d. resampling would give runs of mean 1/(1-2/3) = 3; blocks of 30 keep most of the 10
    assert _mean_zero_run(b) > 7.0
    iid = g.choice(x, 60_000)
    assert _mean_zero_run(iid) == pytest.approx(3.0, rel=0.05)


def test_reason_names_the_rule():
    f = fit_demand(np.array([0, 0, 5] * 30))
    assert "ADI 3.00 >= 1.32" in f.reason and "intermittent" in f.reason
    assert not math.isnan(f.adi)


def test_week_variance_ratio_theory():
    from scenarios.demand_fit import window_variance_ratio

    g = np.random.default_rng(4)
    assert window_variance_ratio(g.poisson(5.0, 20_000)) == pytest.approx(1.0, abs=0.06)
    weekly = np.tile([1, 1, 2, 3, 5, 8, 2], 50)  # a pure weekday profile: every 7-day sum is 22
    assert window_variance_ratio(weekly) == pytest.approx(0.0, abs=1e-12)
    # level constant over 28-day blocks: 7-day sums inside a block are 7x the level -> ratio ~ 7
    levels = np.repeat(g.poisson(20.0, 500).astype(float), 28)
    assert window_variance_ratio(levels) == pytest.approx(7.0, rel=0.1)
