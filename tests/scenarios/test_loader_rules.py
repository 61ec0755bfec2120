"""Every rule of the scenario format: a bad value is rejected and the message names file, YAML path,
value and rule (scenario-format.md, "Errors")."""

from __future__ import annotations

import math

import pytest
from scenario_factory import base

import scenarios
from scenarios.errors import ScenarioError
from scenarios.merge import parse_path, set_path

DELETE = object()

# (path to change, bad value, YAML path the message must name, words of the rule)
CASES = [
    ("format", 2, "format", "2 is not one of 1"),
    ("name", "Bad Name", "name", "'Bad Name' does not match [a-z0-9_-]+"),
    ("name", "x" * 121, "name", "is longer than 120"),
    ("name", DELETE, "name", "is missing (required)"),
    ("description", 5, "description", "5 is not text"),
    ("currency", ["EUR"], "currency", "is not text"),
    ("seed", -1, "seed", "-1 is not >= 0"),
    ("seed", 2**63, "seed", "is not <"),
    ("seed", 7.5, "seed", "7.5 is not a whole number"),
    ("horizon.periods", 0, "horizon.periods", "0 is not >= 1"),
    ("horizon.warmup", -3, "horizon.warmup", "-3 is not >= 0"),
    ("horizon.periods_per_year", 0, "horizon.periods_per_year", "0 is not > 0"),
    ("replications", 0, "replications", "0 is not >= 1"),
    ("replications", 10_001, "replications", "10001 is not <= 10000"),
    ("costs.carrying_rate", -0.2, "costs.carrying_rate", "-0.2 is not >= 0"),
    ("costs.in_transit_rate", -1, "costs.in_transit_rate", "-1 is not >= 0"),
    ("costs.holding_per_unit_period", -1, "costs.holding_per_unit_period", "is not >= 0"),
    ("costs.order_cost", -40, "costs.order_cost", "-40 is not >= 0"),
    ("costs.order_processing", -1, "costs.order_processing", "is not >= 0"),
    ("costs.warehousing.per_unit_period", -1, "costs.warehousing.per_unit_period", "is not >= 0"),
    ("costs.warehousing.capacity_units", 0, "costs.warehousing.capacity_units", "0 is not > 0"),
    ("costs.lost_sale", -5, "costs.lost_sale", "-5 is not >= 0"),
    ("costs.goodwill", float("nan"), "costs.goodwill", "nan is not a finite number"),
    ("costs.backorder_per_unit", float("inf"), "costs.backorder_per_unit", "inf is not a finite number"),
    ("costs.backorder_per_unit_period", -1, "costs.backorder_per_unit_period", "is not >= 0"),
    ("costs.substitution", "cheap", "costs.substitution", "'cheap' is not a number"),
    ("costs.lost_customer", True, "costs.lost_customer", "True is not a number"),
    ("costs.carying_rate", 0.3, "costs.carying_rate", "unknown key 'carying_rate' (did you mean 'carrying_rate'?)"),
    ("costs", 5, "costs", "5 is not a mapping"),
    ("customer_reaction.wait", 1.5, "customer_reaction.wait", "1.5 is not <= 1"),
    ("customer_reaction.substitute", -0.1, "customer_reaction.substitute", "-0.1 is not >= 0"),
    ("customer_reaction.lost_sale", 0.2, "customer_reaction", "wait + substitute + lost_sale = 1.2, must sum to 1"),
    ("customer_reaction.partial_shipments", "maybe", "customer_reaction.partial_shipments", "is not true or false"),
    ("customer_reaction.repeated_stockout", {"window": 0}, "customer_reaction.repeated_stockout.window", "0 is not >= 1"),
    ("customer_reaction.repeated_stockout", {"threshold": 0}, "customer_reaction.repeated_stockout.threshold", "is not >= 1"),
    ("customer_reaction.repeated_stockout", {"defect_probability": 1.5}, "customer_reaction.repeated_stockout.defect_probability", "1.5 is not <= 1"),
    ("order_cycle.transmittal", -1, "order_cycle.transmittal", "-1 is not >= 0"),
    ("order_cycle.processing", {"dist": "compound", "orders": 1, "size": 1}, "order_cycle.processing.dist",
     "'compound' is not a known distribution here"),
    ("order_cycle.promised", -2, "order_cycle.promised", "-2 is not >= 0"),
    ("transport", [], "transport", "has 0 items, needs at least 1"),
    ("transport[0].name", "Truck 1", "transport[0].name", "does not match [a-z0-9_-]+"),
    ("transport[1].name", "truck", "transport[1].name", "'truck' is a duplicate mode name"),
    ("transport[1].lead_time", -1, "transport[1].lead_time", "-1 is not >= 0"),
    ("transport[0].cost_per_shipment", -300, "transport[0].cost_per_shipment", "is not >= 0"),
    ("transport[0].cost_per_unit", -1, "transport[0].cost_per_unit", "is not >= 0"),
    ("transport[0].vehicle_capacity", 0, "transport[0].vehicle_capacity", "0 is not > 0"),
    ("transport[0].capacity_per_period", -1, "transport[0].capacity_per_period", "is not > 0"),
    ("transport[0].lead_time", DELETE, "transport[0].lead_time", "is missing (required)"),
    ("expedite", {"mode": "boat"}, "expedite.mode", "'boat' is not a transport mode"),
    ("service.metric", "speed", "service.metric", "'speed' is not one of"),
    ("service.target", 0, "service.target", "0 is not > 0"),
    ("service.target", 1.5, "service.target", "1.5 is not <= 1"),
    ("service.floors", {"A": 1.2}, "service.floors.A", "1.2 is not <= 1"),
    ("service.sku_floor", 0, "service.sku_floor", "0 is not > 0"),
    ("service.frontier", [0.5, 1.2], "service.frontier[1]", "1.2 is not <= 1"),
    ("service.abc", {"A": 0.9, "B": 0.8}, "service.abc", "B 0.8 is not > A 0.9"),
    ("service.abc", {"A": 1.0}, "service.abc.A", "1.0 is not < 1"),
    ("budget.inventory_value", 0, "budget.inventory_value", "0 is not > 0"),
    ("solver.time_limit", 0, "solver.time_limit", "0 is not > 0"),
    ("solver.mip_gap", 1, "solver.mip_gap", "1 is not < 1"),
    ("policies.families", [], "policies.families", "is empty"),
    ("policies.families", ["sS", "ss"], "policies.families[1]", "'ss' is not one of"),
    ("policies.modes", ["truck", "boat"], "policies.modes[1]", "'boat' is not a transport mode"),
    ("policies.review_periods", [0, -7], "policies.review_periods[1]", "-7 is not >= 0"),
    ("policies.review_periods", [], "policies.review_periods", "is empty"),
    ("policies.moq", -1, "policies.moq", "-1 is not >= 0"),
    ("policies.pack_size", 0, "policies.pack_size", "0 is not >= 1"),
    ("policies.candidates", "all", "policies.candidates", "'all' is not one of 'auto'"),
    ("policies.candidates", {"Ss": [{"s": 1, "S": 2}]}, "policies.candidates.Ss", "'Ss' is not one of"),
    ("skus", [], "skus", "has 0 items, needs at least 1"),
    ("skus[0].id", "", "skus[0].id", "'' is empty"),
    ("skus[1].id", "A-100", "skus[1].id", "'A-100' duplicates skus[0].id"),
    ("skus[0].unit_cost", 0, "skus[0].unit_cost", "0 is not > 0"),
    ("skus[0].price", 10, "skus[0]", "price 10.0 is not >= unit_cost 12.0"),
    ("skus[0].class", 1, "skus[0].class", "1 is not text"),
    ("skus[0].customers", 0, "skus[0].customers", "0 is not >= 1"),
    ("skus[3].demand", DELETE, "skus[3].demand", "missing (required unless demand_history_csv is given)"),
    ("skus[0].current_policy", {"family": "sS", "s": 5}, "skus[0].current_policy", "family sS needs S"),
    ("skus[0].current_policy", {"family": "RS", "S": 50}, "skus[0].current_policy", "family RS needs R >= 1"),
    ("skus[0].current_policy", {"family": "sS", "s": 5, "S": 4}, "skus[0].current_policy", "S 4.0 is not > s 5.0"),
    ("skus[0].current_policy.mode", "boat", "skus[0].current_policy.mode", "'boat' is not a transport mode"),
    ("skus[0].current_policy.R", -1, "skus[0].current_policy.R", "-1 is not >= 0"),
    ("skus[0].demnd", 3, "skus[0].demnd", "unknown key 'demnd' (did you mean 'demand'?)"),
    # distributions
    ("skus[0].demand", {"dist": "poisson", "mean": -1}, "skus[0].demand.mean", "-1 is not >= 0"),
    ("skus[0].demand", {"dist": "negbin", "mean": 4, "cv": 0.2}, "skus[0].demand", "cv 0.2 is not > 1/sqrt(mean) = 0.5"),
    ("skus[0].demand", {"dist": "negbin", "mean": 4, "cv": -0.2}, "skus[0].demand.cv", "-0.2 is not > 0"),
    ("skus[0].demand", {"dist": "normal", "mean": 4, "sd": -1}, "skus[0].demand.sd", "-1 is not >= 0"),
    ("skus[0].demand", {"dist": "gamma", "mean": 4, "cv": 0}, "skus[0].demand.cv", "0 is not > 0"),
    ("skus[0].demand", {"dist": "uniform", "low": 5, "high": 2}, "skus[0].demand", "high 2.0 is not >= low 5.0"),
    ("skus[0].demand", {"dist": "empirical"}, "skus[0].demand", "give exactly one of values or csv"),
    ("skus[0].demand", {"dist": "empirical", "values": []}, "skus[0].demand", "values is empty"),
    ("skus[0].demand", {"dist": "empirical", "values": [1, -2]}, "skus[0].demand.values[1]", "-2 is not >= 0"),
    ("skus[0].demand", {"dist": "poison", "mean": 3}, "skus[0].demand.dist", "'poison' is not a known distribution"),
    ("skus[0].demand", {"mean": 3}, "skus[0].demand.dist", "is missing: a distribution needs dist"),
    ("skus[0].demand", {"dist": "poisson", "mean": 3, "cv": 1}, "skus[0].demand.cv", "unknown key 'cv'"),
    ("skus[0].demand", "poisson", "skus[0].demand", "'poisson' is not a mapping"),
    ("skus[0].demand", -4, "skus[0].demand", "-4 is not >= 0"),
    ("skus[2].demand.orders", {"dist": "poisson", "mean": -0.3}, "skus[2].demand.orders.mean", "-0.3 is not >= 0"),
    ("skus[2].demand.size", {"dist": "compound", "orders": 1, "size": 1}, "skus[2].demand.size.dist", "is not a known distribution"),
    ("transport[0].lead_time", {"dist": "gamma", "mean": 5, "cv": math.inf}, "transport[0].lead_time.cv", "is not a finite number"),
    ("skus_cvs", "x.csv", "skus_cvs", "did you mean 'skus_csv'?"),
    # references that must name something that exists (issue 13, point 5)
    ("service.floors", {"A": 0.98, "Z": 0.9}, "service.floors.Z", "no SKU has class 'Z'"),
    ("service.floors", {"a": 0.98}, "service.floors.a", "did you mean 'A'?"),
    # explicit candidates: every rule of a policy, with the path of the entry and key
    ("policies.candidates", {"sS": [{"s": 10, "S": 5}]}, "policies.candidates.sS[0].S", "S 5 is not > s 10"),
    ("policies.candidates", {"sS": [{"s": 10, "S": 10}]}, "policies.candidates.sS[0].S", "S 10 is not > s 10"),
    ("policies.candidates", {"sS": [{"S": 10}]}, "policies.candidates.sS[0]", "family sS needs s"),
    ("policies.candidates", {"sS": [{"s": -3, "S": -1}]}, "policies.candidates.sS[0].S", "-1 is not >= 0"),
    ("policies.candidates", {"rQ": [{"s": 3}]}, "policies.candidates.rQ[0]", "family rQ needs Q"),
    ("policies.candidates", {"rQ": [{"s": 3, "Q": 0}]}, "policies.candidates.rQ[0].Q", "0 is not > 0"),
    ("policies.candidates", {"rQ": [{"s": 3, "Q": -4}]}, "policies.candidates.rQ[0].Q", "-4 is not > 0"),
    ("policies.candidates", {"rQ": [{"s": 3, "Q": 5, "R": 1.5}]}, "policies.candidates.rQ[0].R", "1.5 is not a whole number >= 0"),
    ("policies.candidates", {"rQ": [{"s": 3, "Q": 5, "R": -7}]}, "policies.candidates.rQ[0].R", "-7 is not a whole number >= 0"),
    ("policies.candidates", {"rQ": [{"s": 3, "Q": 5, "cap": 2}]}, "policies.candidates.rQ[0].cap",
     "is not a parameter of family rQ (it takes s, Q, R)"),
    ("policies.candidates", {"sS": [{"s": 3, "S": 9, "mode": 1}]}, "policies.candidates.sS[0].mode", "is not a parameter of family sS"),
    ("policies.candidates", {"sS": [{"s": 3, "S": "nine"}]}, "policies.candidates.sS[0].S", "'nine' is not a number"),
    ("policies.candidates", {"sS": [{"s": 3, "S": float("nan")}]}, "policies.candidates.sS[0].S", "is not a finite number"),
    ("policies.candidates", {"sS": "all"}, "policies.candidates.sS", "is not a list"),
    ("policies.candidates", {"base_stock": [{"S": 4}]}, "policies.candidates.base_stock",
     "family base_stock is not in policies.families (sS, rQ)"),
    ("policies.candidates", {"sS": [{"s": 3, "S": 9}], "minmax": [{"S": 1}]}, "policies.candidates.minmax", "is not one of"),
]


def _apply(data: dict, path: str, value) -> dict:
    segs = parse_path(path)
    if value is DELETE:
        parent = data
        for s in segs[:-1]:
            parent = parent[s]
        del parent[segs[-1]]
    else:
        set_path(data, segs, value)
    return data


@pytest.mark.parametrize("path,value,where,rule", CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES])
def test_bad_value_names_file_path_value_and_rule(write, path, value, where, rule):
    p = write(_apply(base(), path, value))
    with pytest.raises(ScenarioError) as info:
        scenarios.load(p)
    lines = str(info.value).splitlines()
    wanted = f"{p}: {where}: "
    hits = [line for line in lines if line.startswith(wanted)]
    assert hits, f"no problem at {where!r} in:\n{info.value}"
    assert any(rule in line for line in hits), f"rule {rule!r} not in:\n{info.value}"


@pytest.mark.parametrize("policies,where,rule", [
    ({"families": ["RS"], "review_periods": [0], "candidates": {"RS": [{"S": 30}]}},
     "policies.candidates.RS[0]", "family RS needs R >= 1: give R here, or a review period >= 1"),
    ({"families": ["RsS"], "review_periods": [0, 7], "candidates": {"RsS": [{"s": 3, "S": 30, "R": 0}]}},
     "policies.candidates.RsS[0].R", "family RsS needs R >= 1 (periodic review)"),
    ({"families": ["capped_base_stock"], "candidates": {"capped_base_stock": [{"S": 30}, {"S": 30, "cap": 0}]}},
     "policies.candidates.capped_base_stock[0]", "family capped_base_stock needs cap"),
    ({"families": ["capped_base_stock"], "candidates": {"capped_base_stock": [{"S": 30, "cap": 0}]}},
     "policies.candidates.capped_base_stock[0].cap", "0 is not > 0"),
])
def test_explicit_candidate_rules_per_family(write, policies, where, rule):
    data = base()
    data["policies"] = policies
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    assert any(line.split(": ", 1)[1].startswith(f"{where}: ") and rule in line
               for line in str(info.value).splitlines()), str(info.value)


def test_negative_s_is_refused_only_when_no_backlog_can_form(write):
    data = base()
    data["policies"]["candidates"] = {"sS": [{"s": -5, "S": 20}]}
    data["skus"][0]["current_policy"] = {"family": "sS", "s": -2, "S": 20}
    assert scenarios.load(write(data)).policies.candidates["sS"][0]["s"] == -5  # customers wait: a backlog forms
    for change in ({"customer_reaction": {"wait": 0, "lost_sale": 1}}, {"expedite": {"mode": "air"}}):
        with pytest.raises(ScenarioError) as info:
            scenarios.load(write({**data, **change}))
        msg = str(info.value)
        assert "policies.candidates.sS[0].s: -5 is below 0, but no customer waits for stock" in msg
        assert "skus[0].current_policy.s: -2 is below 0" in msg


def test_candidate_problems_come_with_the_other_problems(write):
    """Cross rules on raw data: a bad candidate is reported together with a bad field elsewhere."""
    data = base()
    data["costs"]["order_cost"] = -1
    data["service"]["floors"] = {"Q": 0.9}
    data["policies"]["candidates"] = {"sS": [{"s": 9, "S": 3}]}
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    msg = str(info.value)
    for words in ("costs.order_cost: -1 is not >= 0", "policies.candidates.sS[0].S: S 3 is not > s 9",
                  "service.floors.Q: no SKU has class 'Q'"):
        assert words in msg, msg


def test_trust_cases_y16_and_y31(write):
    data = base()
    data["service"]["floors"] = {"Z": 0.99}
    data["policies"] = {"families": ["sS", "base_stock"], "review_periods": [0],
                        "candidates": {"sS": [{"s": 10, "S": 5}], "base_stock": [{"S": -4}]}}
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    msg = str(info.value)
    for words in ("service.floors.Z: no SKU has class 'Z'", "policies.candidates.sS[0].S: S 5 is not > s 10",
                  "policies.candidates.base_stock[0].S: -4 is not >= 0"):
        assert words in msg, msg


def test_base_scenario_is_valid(write):
    s = scenarios.load(write(base()))
    assert [k.id for k in s.skus] == ["A-100", "B-200", "C-300", "D-400"]
    assert s.skus[3].demand.dist == "fixed" and s.skus[3].demand.value == 6


def test_every_problem_is_reported_at_once(write):
    data = base()
    data["costs"]["carrying_rate"] = -1  # field rule
    data["skus"][1]["unit_cost"] = 0  # field rule in a list item
    data["skus"][2]["id"] = "A-100"  # cross rule (duplicate id) while fields are also broken
    data["policies"]["modes"] = ["boat"]  # cross rule
    data["skus"][3]["price"] = 1.0  # model rule (price < unit_cost) of a SKU
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    paths = {p.path for p in info.value.problems}
    assert {"costs.carrying_rate", "skus[1].unit_cost", "skus[2].id", "policies.modes[0]", "skus[3]"} <= paths
    assert len(info.value.problems) == 5, str(info.value)


def test_scenario_is_frozen(write):
    s = scenarios.load(write(base()))
    with pytest.raises(Exception):
        s.name = "other"  # type: ignore[misc]
    with pytest.raises(Exception):
        s.skus[0].unit_cost = 1.0  # type: ignore[misc]
    assert isinstance(s.skus, tuple) and isinstance(s.transport, tuple)


def test_scenario_mappings_are_read_only_too(write):
    import copy
    import pickle

    data = base()
    data["variants"] = {"v": {"policies.modes": ["air"]}}
    data["policies"]["candidates"] = {"sS": [{"s": 1, "S": 5}]}
    s = scenarios.load(write(data))
    for mapping in (s.service.floors, s.variants, s.variants["v"], s.policies.candidates):
        with pytest.raises(TypeError):
            mapping["x"] = 1  # type: ignore[index]
        with pytest.raises(TypeError):
            mapping.update({"x": 1})
    assert s.service.floors == {"A": 0.98}
    assert pickle.loads(pickle.dumps(s)) == s == copy.deepcopy(s)
