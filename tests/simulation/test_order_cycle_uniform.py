"""Uniform order-cycle times (issue 15, point 9): `order_cycle.transmittal / processing / delivery`
drawn from `{dist: uniform}` are real numbers of periods in [low, high), not whole periods, in both
engines; lead times and demand from the same distribution are whole. The docs say so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simulation
from simulation.streams import draw_real, draw_whole, sku_streams
from scenarios.schema import Uniform
from tests.simulation.simpy_worlds import policies, scenario

DOCS = Path(__file__).resolve().parents[2] / "docs"


def world():
    return scenario(order_cycle=dict(transmittal={"dist": "uniform", "low": 0.5, "high": 1.5},
                                     processing={"dist": "uniform", "low": 0.0, "high": 0.4},
                                     delivery=0.25, promised=1.6),
                    horizon=dict(periods=400, warmup=10), replications=2)


def test_uniform_order_cycle_elements_are_real_not_whole_periods():
    sc = world()
    st = sku_streams(sc, sc.skus[0], 0)
    for x, lo, hi in ((st.transmittal, 0.5, 1.5), (st.processing, 0.0, 0.4)):
        assert x.size > 300 and x.dtype == np.float64
        assert ((x >= lo) & (x < hi)).all()
        assert (x != np.round(x)).mean() > 0.99  # not rounded to whole periods
        assert x.mean() == pytest.approx((lo + hi) / 2, abs=0.05)
    # the same distribution gives whole numbers where it counts units or lead-time periods
    g = np.random.default_rng(1)
    assert set(np.unique(draw_whole(Uniform(dist="uniform", low=0.5, high=3.5), g, 1000))) == {1, 2, 3}
    assert draw_real(Uniform(dist="uniform", low=2, high=3), g, 5).min() >= 2


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_order_cycle_times_carry_the_fractions(engine):
    # ample stock: every order ships at once, so its cycle time is transmittal + processing + 0.25:
    # mean 1 + 0.2 + 0.25 = 1.45, real-valued; on time (<= 1.6) about 1 - P(T + P > 1.35) of orders
    sc = world()
    out = simulation.evaluate(sc, policies(dict(family="base_stock", S=60, R=1)), engine=engine)
    row = out.iloc[0]
    assert row["fill_rate"] == 1.0
    assert row["order_cycle_mean"] == pytest.approx(1.45, abs=0.03)
    # sd of U(0.5,1.5) + U(0,0.4): sqrt(1/12 + 0.16/12) = 0.311 (whole periods would give 0 or about 0.5)
    assert row["order_cycle_sd"] == pytest.approx(np.sqrt(1 / 12 + 0.16 / 12), abs=0.03)
    # P(U1 + U2 > 1.35): U1 ~ U(0.5,1.5), U2 ~ U(0,0.4); by simulation of the formula
    u = np.random.default_rng(0)
    late = ((u.uniform(0.5, 1.5, 10**6) + u.uniform(0, 0.4, 10**6)) > 1.35).mean()
    assert row["on_time_rate"] == pytest.approx(1 - late, abs=0.04)


def test_the_docs_say_order_cycle_times_are_real():
    ref = (DOCS / "scenario-reference.md").read_text(encoding="utf-8")
    sim = (DOCS / "simulation.md").read_text(encoding="utf-8")
    assert "real numbers, not rounded, for the order cycle's transmittal, processing and delivery times" in ref
    assert "whole numbers drawn when it gives unit counts or periods" not in ref
    assert "real numbers of periods, not rounded" in sim
    # the cycle service level's definition next to the textbook CSL and CSL+
    assert "from one receipt to the next" in sim and "Textbook CSL" in sim and "CSL+" in sim
