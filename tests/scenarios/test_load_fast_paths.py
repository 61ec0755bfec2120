"""The loader's fast paths (benchmarks/load_scenario.py) give what the plain rules give: identifier
checks, CSV numbers, SKU CSV cells placed in their mappings, and the collector's state after a load."""

from __future__ import annotations

import gc
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scenarios
from scenarios.errors import ScenarioError, show
from scenarios.merge import PathError, set_path
from scenarios.schema import (Compound, Empirical, Fixed, Gamma, NegBin, Normal, Poisson, Uniform,
                              _hidden_character, _hidden_character_by_walk, _identifier, _identifier_by_rule,
                              demand_size, dist_mean, dist_var, id_problems, normal_id)
from scenarios.skus_csv import _parent, number


@pytest.mark.parametrize("allowed", ["", "\n\t"])
def test_hidden_character_agrees_with_the_walk_for_every_code_point(allowed):
    for cp in range(0x110000):
        for value in (chr(cp), f"ab{chr(cp)}d"):
            assert _hidden_character(value, allowed) == _hidden_character_by_walk(value, allowed), hex(cp)


def _outcome(fn, value):
    try:
        return "ok", fn(value)
    except ValueError as exc:
        return "refused", str(exc)


def test_identifier_agrees_with_the_rule_for_every_code_point():
    for cp in range(0x110000):
        for value in (chr(cp), f"A{chr(cp)}1", f" {chr(cp)}"):
            assert _outcome(_identifier, value) == _outcome(_identifier_by_rule, value), hex(cp)
    for value in ("", " ", "A1 ", "e\u0301", "B000123"):
        assert _outcome(_identifier, value) == _outcome(_identifier_by_rule, value)


_WHOLE = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number_by_two_patterns(text: str):
    """CSV number rule as first written: a whole number is an int, any other CSV number a float."""
    text = text.strip(" \t")
    if _WHOLE.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        value = float(text)
        return value if math.isfinite(value) else None
    return None


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789+-.eE _\t,x١２", max_size=8))
def test_number_is_int_exactly_when_written_whole(text):
    got, want = number(text), _number_by_two_patterns(text)
    assert type(got) is type(want) and repr(got) == repr(want)


def _put(sku: dict, segs: tuple[str, ...], value) -> None:
    """How _skus places a cell."""
    _parent(sku, segs[:-1], segs[-1])[segs[-1]] = value


@pytest.mark.parametrize("first, second", [
    (("demand",), ("demand", "dist")),
    (("demand", "orders"), ("demand", "orders", "dist")),
    (("current_policy",), ("current_policy", "s")),
])
def test_csv_cell_behind_a_number_gets_set_paths_message(first, second):
    fast, plain = {}, {}
    _put(fast, first, 5)
    set_path(plain, first, 5)
    with pytest.raises(PathError) as got:
        _put(fast, second, "poisson")
    with pytest.raises(PathError) as want:
        set_path(plain, second, "poisson")
    assert str(got.value) == str(want.value)
    assert fast == plain


def test_csv_cells_make_the_mappings_set_path_makes():
    fast, plain = {}, {}
    for segs, value in [(("id",), "A"), (("demand", "dist"), "compound"), (("demand", "orders", "mean"), 0.5),
                        (("demand", "orders", "dist"), "poisson"), (("demand", "size"), 2)]:
        _put(fast, segs, value)
        set_path(plain, segs, value)
    assert fast == plain


SCENARIO = """\
format: 1
name: gc-state
transport: [{name: truck, lead_time: 2}]
skus: [{id: A, unit_cost: 1, price: 2, demand: 3}]
"""


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("text", [SCENARIO, SCENARIO.replace("price: 2", "price: -2")])
def test_load_leaves_the_collector_as_it_found_it(write, enabled, text):
    path = write(text)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        try:
            scenarios.load(path)
        except ScenarioError:
            pass
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def _id_problems_by_walk(items: list[tuple[str, str]]) -> list[str]:
    """id_problems without its fast path: the pairwise bookkeeping over every id."""
    out: list[str] = []
    seen: dict[str, tuple[str, str]] = {}
    folded: dict[str, tuple[str, str]] = {}
    for path, raw in items:
        value = normal_id(raw)
        if value in seen:
            same = "" if value.isascii() else " (ids are compared once Unicode-normalised, NFC)"
            out.append(f"{path}: {show(raw)} duplicates {seen[value][0]}{same}")
            continue
        key = value.casefold()
        if key in folded:
            first_path, first_raw = folded[key]
            out.append(f"{path}: {show(raw)} differs from {first_path} {show(first_raw)} only by letter case "
                       "(ids that differ only by case are refused: Excel and case-insensitive file systems "
                       "treat them as one)")
        seen[value] = (path, raw)
        folded.setdefault(key, (path, raw))
    return out


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "A", "b", "é", "e\u0301", "É", "ß", "SS"]), min_size=1, max_size=3)
                .map("".join), max_size=8))
def test_id_problems_agree_with_the_walk(ids):
    items = [(f"skus[{i}].id", raw) for i, raw in enumerate(ids)]
    assert id_problems(items) == _id_problems_by_walk(items)


@pytest.mark.parametrize("model, mean, var, size", [
    (Poisson(dist="poisson", mean=4), 4.0, 4.0, 24.0),
    (NegBin(dist="negbin", mean=4, cv=1), 4.0, 16.0, 44.0),
    (Normal(dist="normal", mean=10, sd=2), 10.0, 4.0, 30.0),
    (Gamma(dist="gamma", mean=2, cv=0.5), 2.0, 1.0, 12.0),
    (Fixed(value=3), 3.0, 0.0, 3.0),
    (Uniform(dist="uniform", low=1, high=5), 3.0, 16 / 12, 5.0),
    (Empirical(dist="empirical", values=(0, 2, 4)), 2.0, 8 / 3, 4.0),
    (Compound(dist="compound", orders=Poisson(dist="poisson", mean=0.5), size=Fixed(value=4)), 2.0, 8.0, (0.5 + 10 * 0.5**0.5) * 4),
])
def test_moments_of_every_family(model, mean, var, size):
    assert dist_mean(model) == pytest.approx(mean)
    assert dist_var(model) == pytest.approx(var)
    assert demand_size(model) == pytest.approx(size)


def test_moments_refuse_what_is_no_distribution():
    for fn in (dist_mean, dist_var):
        with pytest.raises(TypeError):
            fn(None)


def test_sku_csv_names_empirical_files_relative_to_its_own_folder(write, tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("3\n4\n", encoding="utf-8")
    (tmp_path / "data" / "skus.csv").write_text(
        "id,unit_cost,price,demand.dist,demand.csv,demand.orders.dist,demand.orders.csv,demand.size\n"
        "A,1,2,empirical,a.csv,,,\n"
        "B,1,2,compound,,empirical,a.csv,2\n", encoding="utf-8")
    path = write(SCENARIO.replace("skus: [{id: A, unit_cost: 1, price: 2, demand: 3}]", "skus_csv: data/skus.csv"))
    monkeypatch.chdir("/")  # the working folder is not where the paths are read from
    s = scenarios.load(path)
    assert s.skus[0].demand.values == (3, 4) and s.skus[1].demand.orders.values == (3, 4)
