"""extends chains, named variants, --set overrides, SKU and empirical CSVs, relative paths."""

from __future__ import annotations

import os

import pytest
import yaml
from scenario_factory import base, dump

import scenarios
from scenarios.errors import ScenarioError
from scenarios.merge import deep_merge, parse_path, set_path


# ---------------------------------------------------------------- merge primitives
def test_deep_merge_mappings_merge_lists_and_scalars_replace():
    a = {"costs": {"carrying_rate": 0.2, "order_cost": 40}, "skus": [1, 2, 3], "seed": 1}
    b = {"costs": {"order_cost": 10}, "skus": [9], "seed": 2}
    assert deep_merge(a, b) == {"costs": {"carrying_rate": 0.2, "order_cost": 10}, "skus": [9], "seed": 2}
    assert a["costs"]["order_cost"] == 40  # inputs untouched


def test_parse_path_and_set_path():
    assert parse_path("skus[2].demand.mean") == ("skus", 2, "demand", "mean")
    assert parse_path("a[0][1]") == ("a", 0, 1)
    for bad in ("", "a..b", "a[x]", "a[-1]", "a b"):
        with pytest.raises(ValueError):
            parse_path(bad)
    data = {"skus": [{"id": "a"}]}
    set_path(data, ("skus", 0, "demand", "mean"), 3)
    assert data == {"skus": [{"id": "a", "demand": {"mean": 3}}]}
    with pytest.raises(ValueError, match="out of range"):
        set_path(data, ("skus", 5, "price"), 1)


# ---------------------------------------------------------------- extends
def test_extends_chain_relative_paths_and_merge(write, tmp_path):
    root = base()
    write(root, "lib/root.yaml")
    write({"extends": "root.yaml", "costs": {"order_cost": 99}, "seed": 5}, "lib/mid.yaml")
    leaf = write({"extends": "../lib/mid.yaml", "name": "leaf", "costs": {"carrying_rate": 0.4},
                  "policies": {"families": ["base_stock"]}}, "cases/leaf.yaml")
    s = scenarios.load(leaf)
    assert s.name == "leaf" and s.seed == 5
    assert s.costs.order_cost == 99 and s.costs.carrying_rate == 0.4  # mappings merged across 3 files
    assert s.policies.families == ("base_stock",)  # list replaced
    assert s.policies.review_periods == (0, 7)  # sibling key inherited
    assert len(s.skus) == 4


def test_extends_cycle_is_named(write):
    a = write({**base(), "extends": "b.yaml"}, "a.yaml")
    write({"extends": "c.yaml"}, "b.yaml")
    write({"extends": "a.yaml"}, "c.yaml")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(a)
    msg = str(info.value)
    assert "extends cycle" in msg and "a.yaml -> b.yaml -> c.yaml -> a.yaml" in msg.replace(str(a.parent) + os.sep, "")


def test_extends_self_and_missing_parent(write):
    me = write({**base(), "extends": "me.yaml"}, "me.yaml")
    with pytest.raises(ScenarioError, match="extends cycle"):
        scenarios.load(me)
    lost = write({**base(), "extends": "nowhere/base.yaml"}, "lost.yaml")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(lost)
    assert f"{lost}: extends: 'nowhere/base.yaml' file not found" in str(info.value)


def test_problem_in_parent_names_the_parent_file(write):
    data = base()
    data["costs"]["order_cost"] = -1
    write(data, "parent.yaml")
    child = write({"extends": "parent.yaml", "name": "child"}, "child.yaml")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(child)
    (p,) = info.value.problems
    assert p.file.endswith("parent.yaml") and p.path == "costs.order_cost"


def test_child_skus_csv_replaces_inherited_skus(write, tmp_path):
    write(base(), "parent.yaml")
    (tmp_path / "few.csv").write_text("id,unit_cost,price,demand\nX1,1,2,3\n", encoding="utf-8")
    child = write({"extends": "parent.yaml", "skus_csv": "few.csv"}, "child.yaml")
    s = scenarios.load(child)
    assert [k.id for k in s.skus] == ["X1"]


# ---------------------------------------------------------------- variants and overrides
def _with_variants():
    data = base()
    data["variants"] = {
        "high_service": {"service.target": 0.98},
        "air_only": {"policies.modes": ["air"], "costs.goodwill": 2.0},
        "pricey": {"costs.goodwill": 5.0, "skus[1].price": 30},
    }
    return data


def test_variants_apply_in_order_and_overrides_win(write):
    p = write(_with_variants())
    s = scenarios.load(p, variants="high_service,air_only")
    assert s.service.target == 0.98 and s.policies.modes == ("air",) and s.costs.goodwill == 2.0
    s = scenarios.load(p, variants=["air_only"], overrides={"costs.goodwill": 7.5})
    assert s.costs.goodwill == 7.5
    s = scenarios.load(p, variants=["pricey"])
    assert s.skus[1].price == 30
    assert scenarios.load(p).service.target is None  # no variant: file as written


def test_two_variants_setting_the_same_path_is_an_error(write):
    p = write(_with_variants())
    with pytest.raises(ScenarioError) as info:
        scenarios.load(p, variants=["air_only", "pricey"])
    assert "variants.pricey.costs.goodwill" in str(info.value) and "also set by variant 'air_only'" in str(info.value)


def test_unknown_variant_names_the_known_ones(write):
    p = write(_with_variants())
    with pytest.raises(ScenarioError) as info:
        scenarios.load(p, variants="hgh_service")
    assert "unknown variant 'hgh_service' (known: air_only, high_service, pricey)" in str(info.value)


def test_variant_with_misspelt_path_is_reported_even_when_not_applied(write):
    data = _with_variants()
    data["variants"]["typo"] = {"costs.carying_rate": 0.3}
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    assert "variants.typo.costs.carying_rate: unknown key 'carying_rate' (did you mean 'carrying_rate'?)" in str(info.value)


def test_inline_variants_on_list_paths(write):
    # Issue 15: variants written inline (flow style, as the format's own example) on paths with list
    # indexes; plain YAML ends a key at `[` inside {...}, so these keys were a syntax error.
    text = dump({k: v for k, v in base().items() if k != "skus"}) + (
        "variants:\n"
        "  slow_air: {transport[1]: {name: air, lead_time: 4, cost_per_shipment: 950}, skus[0].demand: {dist: poisson, mean: 3}}\n"
        "  cheap_b: {skus[1].price: 7.5, transport[0].lead_time.mean: 6}\n"
        "skus:\n" + "".join(f"  - {yaml_flow(s)}\n" for s in base()["skus"]))
    p = write(text)
    s = scenarios.load(p, variants="slow_air")
    # the definition: the variant's values at those places, nothing else changed
    assert s.transport[1].model_dump(include={"name", "cost_per_shipment", "cost_per_unit"}) == \
        {"name": "air", "cost_per_shipment": 950.0, "cost_per_unit": 0.0}  # the whole item replaced
    assert s.transport[1].lead_time.value == 4
    assert s.skus[0].demand.dist == "poisson" and s.skus[0].demand.mean == 3
    plain = scenarios.load(p)
    assert plain.transport[1].cost_per_shipment == 900 and plain.skus[0].demand.mean == 8
    assert plain.transport[0] == s.transport[0] and plain.skus[1:] == s.skus[1:]
    cheap = scenarios.load(p, variants=["cheap_b"])
    assert cheap.skus[1].price == 7.5 and cheap.transport[0].lead_time.mean == 6
    # a path key that is still wrong is reported with its variant path; YAML errors keep their columns
    bad = write(text.replace("skus[1].price", "skus[9].price"), "bad.yaml")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(bad, variants="cheap_b")
    assert "skus[9].price" in str(info.value) and "out of range" in str(info.value)
    broken = write("a: 1\nv: {x[1]: 2, y: [z[0]]}\n", "broken.yaml")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(broken)
    assert "line 2 column 19: YAML syntax error" in str(info.value)  # the column as written (z's '[')


def yaml_flow(data) -> str:
    return yaml.safe_dump(data, default_flow_style=True, width=10_000).strip()


def test_set_strings_are_yaml_typed_and_list_indices_work(write):
    p = write(base())
    s = scenarios.load(p, overrides=["costs.carrying_rate=0.3", "skus[2].price=90", "policies.modes=[air]",
                                     "service.target=0.95", "skus[0].demand={dist: negbin, mean: 8, cv: 0.7}"])
    assert s.costs.carrying_rate == 0.3 and s.skus[2].price == 90.0 and s.policies.modes == ("air",)
    assert s.service.target == 0.95 and s.skus[0].demand.dist == "negbin"


def test_set_problems_name_the_path(write):
    p = write(base())
    with pytest.raises(ScenarioError) as info:
        scenarios.load(p, overrides=["costs.carrying_rate=abc", "skus[9].price=3", "costs.oder_cost=1", "nonsense"])
    msg = str(info.value)
    assert "costs.carrying_rate: 'abc' is not a number (set by --set)" in msg
    assert "skus[9]" in msg and "out of range" in msg
    assert "costs.oder_cost: unknown key 'oder_cost' (did you mean 'order_cost'?)" in msg
    assert "--set: nonsense: is not of the form PATH=VALUE" in msg


def test_set_on_shared_yaml_alias_changes_one_place_only(write):
    text = dump(base()).replace("demand:\n    dist: poisson\n    mean: 8", "demand: &d\n    dist: poisson\n    mean: 8")
    text += "- id: E-500\n  unit_cost: 1\n  price: 2\n  demand: *d\n"
    s = scenarios.load(write(text), overrides={"skus[0].demand.mean": 3})
    assert s.skus[0].demand.mean == 3 and s.skus[4].demand.mean == 8


# ---------------------------------------------------------------- CSV inputs
CSV = (
    "id,unit_cost,price,class,customers,demand.dist,demand.mean,demand.cv,demand.orders.dist,demand.orders.mean,"
    "demand.size.dist,demand.size.low,demand.size.high,current_policy.family,current_policy.s,current_policy.S,current_policy.mode,demand\n"
    "A-100,12,20,A,40,poisson,8,,,,,,,sS,20,60,truck,\n"
    "B-200,5,9,,,negbin,4,0.9,,,,,,,,,,\n"
    "C-300,50,80,,,compound,,,poisson,0.3,uniform,1,4,,,,,\n"
    "D-400,2,3,,,,,,,,,,,,,,,6\n"
)


def test_skus_csv_equals_inline_skus_and_hash(write, tmp_path):
    inline = scenarios.load(write(base(), "inline.yaml"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "skus.csv").write_text(CSV, encoding="utf-8")
    data = base()
    del data["skus"]
    data["skus_csv"] = "data/skus.csv"
    from_csv = scenarios.load(write(data, "csv.yaml"))
    assert from_csv.skus == inline.skus
    assert scenarios.content_hash(from_csv) == scenarios.content_hash(inline)
    s = scenarios.load(tmp_path / "csv.yaml", overrides={"skus[2].price": 99})  # --set reaches CSV rows
    assert s.skus[2].price == 99


def test_skus_csv_problems_name_file_column_and_line(write, tmp_path):
    (tmp_path / "bad.csv").write_text("id,unit_cost,price,demand.mean,demnd.dist\nA,1,2,3,poisson\n", encoding="utf-8")
    data = base()
    del data["skus"]
    data["skus_csv"] = "bad.csv"
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    assert "bad.csv: column 'demnd.dist': unknown column 'demnd.dist' (did you mean 'demand.dist'?)" in str(info.value)
    (tmp_path / "bad.csv").write_text("id,unit_cost,price,demand\nA,1,2,3\nB,-1,2,3\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(tmp_path / "s.yaml")
    assert "bad.csv: skus[1].unit_cost: -1 is not > 0 (CSV line 3)" in str(info.value)


def test_skus_and_skus_csv_together_is_an_error(write, tmp_path):
    (tmp_path / "k.csv").write_text("id,unit_cost,price,demand\nA,1,2,3\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="give either skus or skus_csv, not both"):
        scenarios.load(write({**base(), "skus_csv": "k.csv"}))


def test_empirical_csv_is_read_relative_to_the_declaring_file(write, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "lt.csv").write_text("lead_time\n3\n4\n4\n9\n", encoding="utf-8")
    data = base()
    data["transport"][0]["lead_time"] = {"dist": "empirical", "csv": "lt.csv"}
    write(data, "lib/base.yaml")
    s = scenarios.load(write({"extends": "lib/base.yaml", "name": "child"}, "child.yaml"))
    assert s.transport[0].lead_time.values == (3, 4, 4, 9) and s.transport[0].lead_time.csv is None
    inline = base()
    inline["transport"][0]["lead_time"] = {"dist": "empirical", "values": [3, 4, 4, 9]}
    inline["name"] = "child"
    assert scenarios.content_hash(s) == scenarios.content_hash(scenarios.load(write(inline, "inline.yaml")))


def test_missing_empirical_csv_names_the_path(write):
    data = base()
    data["skus"][1]["demand"] = {"dist": "empirical", "csv": "gone.csv"}
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    assert ": skus[1].demand.csv: " in str(info.value) and "not found" in str(info.value)


def test_demand_history_csv_missing_file(write):
    data = base()
    data["demand_history_csv"] = "hist.csv"
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(data))
    assert ": demand_history_csv: file not found" in str(info.value)


def test_python_overrides_may_use_tuples_and_paths(write, tmp_path):
    (tmp_path / "k.csv").write_text("id,unit_cost,price,demand\nK1,1,2,3\n", encoding="utf-8")
    s = scenarios.load(write(base()), overrides={"policies.modes": ("air",), "skus_csv": tmp_path / "k.csv"})
    assert s.policies.modes == ("air",) and [k.id for k in s.skus] == ["K1"]


def test_non_text_keys_are_named(write):
    with pytest.raises(ScenarioError) as info:
        scenarios.load(write(dump(base()) + "1: 2\n"))
    assert ": 1: key 1 is not text (YAML read it as int; quote it)" in str(info.value)
