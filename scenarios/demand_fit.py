"""Demand models from a demand history: the ADI/CV² pattern, the stated choice rule and its fit statistics.

One SKU's history is a series of units demanded per period (zeros included). The rule
(docs/demand-from-history.md) picks one of the schema's distributions, so both simulation engines
run it without change:

1. ADI = periods / periods with demand, CV² = squared coefficient of variation of the non-zero
   quantities; pattern by Syntetos, Boylan & Croston (2005): smooth (ADI < 1.32, CV² < 0.49),
   erratic (ADI < 1.32, CV² >= 0.49), intermittent (ADI >= 1.32, CV² < 0.49), lumpy (both high).
2. intermittent or lumpy -> `compound`: Bernoulli order arrivals with P(order) = 1/ADI (an
   `empirical` of 0/1 with that exact share) and sizes resampled from the non-zero quantities.
3. smooth or erratic -> `poisson` unless the index-of-dispersion test says over-dispersed
   (p < 0.05), then `negbin` by the method of moments (same mean and variance as the history).
   If that model fails a chi-square goodness-of-fit test (p < 0.01), the history shows something
   the model cannot (promotion spikes, mixtures), so -> `empirical` resampling of the series.
Method "empirical" skips the rule and always resamples the series; method "fit" never falls back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from scenarios.schema import Compound, Empirical, NegBin, Poisson

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
DISPERSION_ALPHA = 0.05  # over-dispersion test level: below it, negbin instead of poisson
FIT_ALPHA = 0.01  # goodness-of-fit level: below it, the fitted model is rejected -> empirical
MIN_EXPECTED = 5.0  # chi-square bins are merged until each expects at least this many periods
METHODS = ("auto", "fit", "empirical")
BLOCK = 14  # periods per block when an empirical model resamples a history (block bootstrap)


@dataclass(frozen=True)
class DemandFit:
    """A SKU's demand model from its history, with the statistics that chose it.

    `mean`, `variance` (population), `zero_fraction` are those of the history per period;
    `week_variance_ratio` is the variance of 7-period sums over 7 x the per-period variance (1 for
    independent periods; above 1, consecutive periods move together and an i.i.d. model, which all
    format-1 models are, understates demand over a lead time);
    `fit_test`/`fit_stat`/`fit_p` are the goodness-of-fit check of the chosen model (NaN when the
    history is too short for one; for an empirical fallback, the rejected model's test, e.g.
    "chi2_negbin_rejected"); `reason` says in words why this model was chosen."""

    model: object  # a scenarios.schema demand distribution
    model_name: str
    pattern: str
    periods: int
    demand_periods: int
    adi: float
    cv2: float
    mean: float
    variance: float
    dispersion: float
    zero_fraction: float
    dispersion_p: float
    week_variance_ratio: float
    fit_test: str
    fit_stat: float
    fit_p: float
    reason: str


def classify(adi: float, cv2: float) -> str:
    """Demand pattern by the ADI/CV² scheme: smooth, erratic, intermittent or lumpy."""
    if adi < ADI_CUTOFF:
        return "smooth" if cv2 < CV2_CUTOFF else "erratic"
    return "intermittent" if cv2 < CV2_CUTOFF else "lumpy"


def adi_cv2(series: np.ndarray) -> tuple[float, float]:
    """(ADI, CV²) of a per-period demand series: periods per demand period, and the squared
    coefficient of variation (population) of the non-zero quantities. ADI is inf with no demand."""
    x = np.asarray(series, dtype=float)
    nz = x[x > 0]
    if nz.size == 0:
        return math.inf, 0.0
    m = float(nz.mean())
    return x.size / nz.size, float(nz.var() / (m * m))


def dispersion_test(series: np.ndarray) -> float:
    """p-value of the index-of-dispersion test against Poisson, one-sided for over-dispersion:
    sum((x - mean)²) / mean is chi-square with n - 1 degrees of freedom under Poisson."""
    x = np.asarray(series, dtype=float)
    m = float(x.mean())
    if x.size < 2 or m <= 0:
        return math.nan
    index = float(((x - m) ** 2).sum() / m)
    return float(stats.chi2.sf(index, x.size - 1))


def chi2_gof(values: np.ndarray, pmf, n_params: int, support_min: int = 0) -> tuple[float, float]:
    """Chi-square goodness of fit of whole-number observations to a pmf on support_min, +1, ...
    (`pmf` maps an int array to probabilities).

    Cells k = support_min .. max(values)-1 and a tail cell (>= max) are merged left to right until
    each expects >= MIN_EXPECTED; degrees of freedom = cells - 1 - n_params. (stat, p); NaN when
    fewer than two degrees of freedom would remain."""
    v = np.asarray(values, dtype=np.int64)
    n = v.size
    if n == 0:
        return math.nan, math.nan
    top = int(v.max())
    ks = np.arange(support_min, top + 1)
    probs = np.broadcast_to(np.asarray(pmf(ks[:-1]), dtype=float), ks[:-1].shape)  # pmf takes an array
    probs = np.append(probs, max(0.0, 1.0 - probs.sum()))  # tail: P(X >= top)
    observed = np.bincount(v - support_min, minlength=ks.size)[: ks.size].astype(float)
    expected = probs * n
    obs_cells, exp_cells = [], []
    o_acc = e_acc = 0.0
    for o, e in zip(observed, expected):
        o_acc += o
        e_acc += e
        if e_acc >= MIN_EXPECTED:
            obs_cells.append(o_acc)
            exp_cells.append(e_acc)
            o_acc = e_acc = 0.0
    if e_acc > 0 or o_acc > 0:
        if exp_cells:
            obs_cells[-1] += o_acc
            exp_cells[-1] += e_acc
        else:
            obs_cells.append(o_acc)
            exp_cells.append(e_acc)
    dof = len(obs_cells) - 1 - n_params
    if dof < 1:
        return math.nan, math.nan
    o, e = np.asarray(obs_cells), np.asarray(exp_cells)
    stat = float(((o - e) ** 2 / np.maximum(e, 1e-300)).sum())
    return stat, float(stats.chi2.sf(stat, dof))


def negbin_pmf(mean: float, variance: float):
    """pmf of the negative binomial with this mean and variance (variance > mean), as the streams draw it."""
    r = mean * mean / (variance - mean)
    return lambda k: stats.nbinom.pmf(k, r, r / (r + mean))


def _bernoulli_orders(demand_periods: int, periods: int) -> Empirical:
    """Orders per period: 1 with probability demand_periods/periods exactly, as a reduced 0/1 sample."""
    g = math.gcd(demand_periods, periods)
    ones, total = demand_periods // g, periods // g
    return Empirical(dist="empirical", values=(1.0,) * ones + (0.0,) * (total - ones))


def _fmt_p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def window_variance_ratio(series: np.ndarray, window: int = 7) -> float:
    """Variance of the rolling `window`-period sums / (window x variance per period); NaN when the
    series is shorter than 2 windows or constant. About 1 when periods are independent."""
    x = np.asarray(series, dtype=float)
    v = float(x.var())
    if x.size < 2 * window or v <= 0:
        return math.nan
    sums = np.convolve(x, np.ones(window), mode="valid")
    return float(sums.var() / (window * v))


def fit_demand(series: np.ndarray, method: str = "auto") -> DemandFit:
    """The demand model of one SKU from its per-period demand history (units, zeros included),
    chosen by the module's rule (`method` "auto"), the rule without the empirical fallback ("fit"),
    or always empirical resampling ("empirical"). Raises ValueError when the history has no demand."""
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {METHODS}")
    x = np.asarray(series, dtype=float)
    if x.size == 0 or not (x > 0).any():
        raise ValueError("the history has no period with positive demand")
    T = int(x.size)
    nz = x[x > 0]
    adi, cv2 = adi_cv2(x)
    pattern = classify(adi, cv2)
    mean, var = float(x.mean()), float(x.var())
    dispersion = var / mean
    zero_fraction = 1.0 - nz.size / T
    disp_p = dispersion_test(x)
    wvr = window_variance_ratio(x)
    whole = np.floor(x + 0.5).astype(np.int64)  # the engines draw whole units (half up)
    head = f"ADI {adi:.2f} {'<' if adi < ADI_CUTOFF else '>='} {ADI_CUTOFF}, CV² {cv2:.2f} " \
        f"{'<' if cv2 < CV2_CUTOFF else '>='} {CV2_CUTOFF}: {pattern}"
    base = dict(
        pattern=pattern, periods=T, demand_periods=int(nz.size), adi=adi, cv2=cv2, mean=mean,
        variance=var, dispersion=dispersion, zero_fraction=zero_fraction, dispersion_p=disp_p,
        week_variance_ratio=wvr,
    )
    tail = "" if math.isnan(wvr) or wvr <= 1.5 else (
        f"; 7-period sums vary {wvr:.1f}x more than independent periods give, so simulated lead-time "
        "demand is too smooth")

    # Resample in blocks so runs of zeros and promotion weeks survive (BLOCK periods, at most a
    # quarter of the history so that blocks still mix).
    block = max(1, min(BLOCK, T // 4))

    def empirical(why: str, test: str = "none", stat: float = math.nan, p: float = math.nan) -> DemandFit:
        # After a rejected fit, the fit columns keep the rejected model's test: they are the why.
        return DemandFit(
            model=Empirical(dist="empirical", values=tuple(float(v) for v in x), block=block),
            model_name="empirical", fit_test=test, fit_stat=stat, fit_p=p,
            reason=f"{head}; {why}{tail}", **base,
        )

    if method == "empirical":
        return empirical(f"method empirical: resample the {T} periods of history in blocks of {block}")

    if adi >= ADI_CUTOFF:
        # Compound: one order in a demand period, so its size is the period's quantity. The check
        # is that demand periods arrive independently: gaps between them are geometric(1/ADI).
        p = nz.size / T
        gaps = np.diff(np.nonzero(x > 0)[0])
        stat, fit_p = chi2_gof(gaps, lambda k: (1 - p) ** (k - 1) * p, n_params=1, support_min=1) \
            if gaps.size >= 2 else (math.nan, math.nan)
        model = Compound(
            dist="compound",
            orders=_bernoulli_orders(int(nz.size), T),
            size=Empirical(dist="empirical", values=tuple(float(v) for v in nz)),
        )
        note = "" if math.isnan(fit_p) or fit_p >= FIT_ALPHA else \
            "; zero runs are longer than independent arrivals give (gaps not geometric), " \
            "so lead-time demand may be more lumpy than simulated"
        return DemandFit(
            model=model, model_name="compound", fit_test="gaps_geometric_chi2", fit_stat=stat,
            fit_p=fit_p, reason=f"{head}; demand in {p:.0%} of periods: Bernoulli orders (p = 1/ADI), "
            f"sizes resampled from {nz.size} non-zero periods (gap test p {_fmt_p(fit_p)}){note}{tail}",
            **base,
        )

    if disp_p < DISPERSION_ALPHA and var > mean * (1 + 1e-9):
        cv = math.sqrt(var) / mean
        model = NegBin(dist="negbin", mean=mean, cv=cv)
        stat, fit_p = chi2_gof(whole, negbin_pmf(mean, var), n_params=2)
        why = f"variance/mean {dispersion:.2f}, over-dispersed (p {_fmt_p(disp_p)}): negbin"
        name = "negbin"
    else:
        model = Poisson(dist="poisson", mean=mean)
        stat, fit_p = chi2_gof(whole, lambda k: stats.poisson.pmf(k, mean), n_params=1)
        why = f"variance/mean {dispersion:.2f}, not over-dispersed (p {_fmt_p(disp_p)}): poisson"
        name = "poisson"
    if method == "auto" and not math.isnan(fit_p) and fit_p < FIT_ALPHA:
        return empirical(f"{why} rejected by chi-square fit (p {_fmt_p(fit_p)}): resample the {T} periods in blocks of {block}",
                         f"chi2_{name}_rejected", stat, fit_p)
    return DemandFit(
        model=model, model_name=name, fit_test="chi2", fit_stat=stat, fit_p=fit_p,
        reason=f"{head}; {why} (fit p {_fmt_p(fit_p)}){tail}", **base,
    )


def block_bootstrap(series: np.ndarray, block: int, n: int, g: np.random.Generator) -> np.ndarray:
    """n periods resampled from the history in circular blocks of `block` consecutive periods
    (moving block bootstrap): runs of zeros and short-term correlation up to the block length are
    kept. simulation.streams uses it for `empirical {values, block}` demand."""
    x = np.asarray(series, dtype=float)
    if block < 1:
        raise ValueError("block must be >= 1")
    k = -(-n // block)
    starts = g.integers(0, x.size, k)
    idx = (starts[:, None] + np.arange(block)[None, :]) % x.size
    return x[idx.ravel()[:n]]
