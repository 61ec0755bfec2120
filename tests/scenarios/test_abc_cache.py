"""sku_classes is computed once per scenario object: the same classes as computing them anew, never
another scenario's (a changed copy, an id reused after a scenario is gone), and a dict of the caller's own."""

from __future__ import annotations

import gc

from scenarios import abc
from scenarios.abc import _classify, sku_classes
from scenarios.schema import Scenario


def _scenario(demands: list[float], name: str = "abc-cache") -> Scenario:
    return Scenario.model_validate({
        "format": 1, "name": name, "transport": [{"name": "truck", "lead_time": 1}],
        "skus": [{"id": f"S{i}", "unit_cost": 1, "price": 2, "demand": d} for i, d in enumerate(demands)],
    })


def test_classes_are_those_computed_anew_on_every_call():
    sc = _scenario([50, 30, 10, 5, 3, 2])
    first = sku_classes(sc)
    assert first == _classify(sc) == {"S0": "A", "S1": "A", "S2": "B", "S3": "B", "S4": "C", "S5": "C"}
    assert sku_classes(sc) == first


def test_the_caller_may_change_the_dict_it_gets():
    sc = _scenario([50, 30, 10])
    sku_classes(sc)["S0"] = "Z"
    assert sku_classes(sc)["S0"] == "A"


def test_a_changed_copy_has_its_own_classes():
    sc = _scenario([50, 30, 10, 5])
    assert sku_classes(sc)["S3"] == "B"
    skus = tuple(s.model_copy(update={"class_": "K"}) if s.id == "S3" else s for s in sc.skus)
    copy = sc.model_copy(update={"skus": skus})
    assert sku_classes(copy)["S3"] == "K" and sku_classes(sc)["S3"] == "B"
    abc_changed = sc.model_copy(update={"service": sc.service.model_copy(
        update={"abc": sc.service.abc.model_copy(update={"A": 0.5, "B": 0.6})})})
    assert sku_classes(abc_changed) == _classify(abc_changed) != sku_classes(sc)


def test_a_scenario_gone_leaves_no_entry_and_its_id_no_answer():
    for k in range(50):  # new scenarios often reuse the id of one just freed
        sc = _scenario([50, 30, 10 + k], name=f"s{k}")
        key = id(sc)
        assert sku_classes(sc) == _classify(sc)
        del sc
        gc.collect()
        assert key not in abc._CLASSES
