"""The audit: current policies simulated on the plan's streams, compared SKU by SKU; none skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulation
from scenarios.schema import Scenario
from tradeoff.audit import NO_CURRENT_POLICY, audit, audit_columns, audit_summary, current_policies
from tradeoff.verify import verification_seed, verify


def scenario_with_current_policies() -> Scenario:
    return Scenario.model_validate({
        "format": 1, "name": "audit-tiny", "seed": 3,
        "horizon": {"periods": 200, "warmup": 10}, "replications": 3,
        "costs": {"order_cost": 20.0},
        "customer_reaction": {"wait": 0.5, "lost_sale": 0.5},
        "transport": [{"name": "truck", "lead_time": 2, "cost_per_shipment": 5}, {"name": "air", "lead_time": 0, "cost_per_shipment": 50}],
        "skus": [
            # same as the recommendation below: the audit must show no difference at all
            {"id": "same", "unit_cost": 5, "price": 9, "demand": {"dist": "poisson", "mean": 3},
             "current_policy": {"family": "sS", "s": 6, "S": 20, "mode": "truck"}},
            # a poorer policy, no mode given: runs on the first mode
            {"id": "worse", "unit_cost": 5, "price": 9, "demand": {"dist": "poisson", "mean": 3},
             "current_policy": {"family": "base_stock", "S": 4, "R": 1}},
            {"id": "none", "unit_cost": 5, "price": 9, "demand": {"dist": "poisson", "mean": 2}},
        ],
    })


def recommended():
    return pd.DataFrame({
        "sku": ["same", "worse", "none"], "family": ["sS", "sS", "sS"], "mode": ["truck"] * 3,
        "s": [6.0, 6.0, 5.0], "S": [20.0, 20.0, 15.0], "Q": np.nan, "R": 0.0, "cap": np.nan,
    })


def setup():
    scenario = scenario_with_current_policies()
    calls = []

    def evaluate(p, replications, seed):
        calls.append((len(p), replications, seed))
        return simulation.evaluate(scenario, p, engine="kernel", replications=replications, seed=seed)

    choice = evaluate(recommended(), 3, scenario.seed).assign(**{"class": ["A", "B", "C"]})
    plan, _ = verify(scenario, choice, evaluate, replications=6, target=None)
    return scenario, evaluate, plan, calls


def test_current_policy_table_fills_the_first_mode():
    table = current_policies(scenario_with_current_policies())
    assert table["sku"].tolist() == ["same", "worse"]
    assert table["mode"].tolist() == ["truck", "truck"]
    assert table.loc[1, "R"] == 1.0 and np.isnan(table.loc[1, "s"])


def test_audit_compares_on_the_plans_streams_and_lists_skus_without_policy():
    scenario, evaluate, plan, calls = setup()
    table = audit(scenario, plan, evaluate, replications=6)
    assert list(table.columns) == audit_columns()
    assert table["sku"].tolist() == ["same", "worse", "none"]
    # one simulation of the current policies, on the verification streams and replications
    assert calls[-1] == (2, 6, verification_seed(scenario))

    same = table.set_index("sku").loc["same"]
    # identical policy on identical streams: every figure identical, saving exactly 0
    for name in ("fill_rate", "avg_on_hand", "cost_total", "cost_shortage"):
        assert same[f"current_{name}"] == same[f"recommended_{name}"]
    assert same["saving"] == 0.0

    worse = table.set_index("sku").loc["worse"]
    direct = simulation.evaluate(scenario, current_policies(scenario).iloc[[1]], replications=6,
                                 seed=scenario.seed + 1_000_003).iloc[0]
    assert worse["current_cost_total"] == direct["cost_total"]
    assert worse["current_fill_rate"] == direct["fill_rate"]
    assert worse["current_family"] == "base_stock" and worse["recommended_family"] == "sS"
    assert worse["saving"] == pytest.approx(direct["cost_total"] - plan.set_index("sku").loc["worse", "cost_total"])
    assert worse["current_fill_rate"] < worse["recommended_fill_rate"]  # S = 4 with lead time 2 and review 1

    none = table.set_index("sku").loc["none"]
    assert not none["has_current_policy"] and none["note"] == NO_CURRENT_POLICY
    assert np.isnan(none["current_cost_total"]) and np.isnan(none["saving"])
    assert none["recommended_cost_total"] == plan.set_index("sku").loc["none", "cost_total"]

    summary = audit_summary(table, plan, "fill_rate")
    assert summary["skus_without_current_policy"] == ["none"]
    assert summary["skus_audited"] == 2
    assert summary["saving"] == pytest.approx(worse["saving"])


def test_audit_without_any_current_policy_lists_every_sku():
    scenario, evaluate, plan, calls = setup()
    bare = scenario.model_copy(update={"skus": tuple(s.model_copy(update={"current_policy": None}) for s in scenario.skus)})
    n_calls = len(calls)
    table = audit(bare, plan, evaluate, replications=6)
    assert len(calls) == n_calls  # nothing to simulate
    assert table["note"].tolist() == [NO_CURRENT_POLICY] * 3
    assert audit_summary(table, plan, "fill_rate")["skus_without_current_policy"] == ["same", "worse", "none"]


def test_a_run_simulates_the_current_policies_with_the_verification_and_reports_their_own_figures(monkeypatch):
    # tradeoff.pipeline simulates the audit's current policies along with the plan's verification
    # (Evaluator.prefetch) and hands them to the audit: each side must carry its own policies'
    # figures, the ones a separate simulation on the verification streams gives, in one simulation
    # call on the verification streams, and the plan must be the one a run without the audit gives.
    from tradeoff import pipeline

    sc = scenario_with_current_policies()
    seed = verification_seed(sc)
    calls = []
    simulate = pipeline.Evaluator.simulate

    def counted(evaluator, policies, replications, seed_):
        calls.append((len(policies), seed_))
        return simulate(evaluator, policies, replications, seed_)

    monkeypatch.setattr(pipeline.Evaluator, "simulate", counted)
    result = pipeline.run(sc, audit=True)
    current = current_policies(sc)
    assert [n for n, s in calls if s == seed] == [len(result.plan) + len(current)]  # one call, both sides
    reps = result.summary["verification"]["replications"]
    alone = simulation.evaluate(sc, current, replications=reps, seed=seed).set_index("sku")
    table = result.audit.set_index("sku")
    for sku in current["sku"]:
        for name in ("cost_total", "fill_rate", "avg_on_hand"):
            assert table.loc[sku, f"current_{name}"] == alone.loc[sku, name]
    without = pipeline.run(sc, audit=False).plan
    pd.testing.assert_frame_equal(result.plan, without)  # same figures, same dtypes
