"""The content hash ignores how a scenario is written and changes when what it says changes;
a loaded scenario written back out loads to the same thing."""

from __future__ import annotations

import glob
import os

import pytest
import yaml
from scenario_factory import base, dump

import scenarios
from scenarios.hashing import content_hash
from scenarios.schema import Scenario

HERE = os.path.dirname(__file__)
EXAMPLES = sorted(
    p for p in glob.glob(os.path.join(HERE, "..", "..", "scenarios", "examples", "*.yaml"))
    if not os.path.basename(p).startswith("retail_history")  # history-driven: H8's tests cover it
)


def _reversed_keys(x):
    if isinstance(x, dict):
        return {k: _reversed_keys(x[k]) for k in reversed(list(x))}
    if isinstance(x, list):
        return [_reversed_keys(v) for v in x]
    return x


def _h(write, data, name="s.yaml", **kw):
    return content_hash(scenarios.load(write(data, name), **kw))


def test_same_scenario_written_differently_hashes_the_same(write):
    h = _h(write, base())
    assert _h(write, _reversed_keys(base()), "reordered.yaml") == h
    flow = yaml.safe_dump(base(), default_flow_style=True)
    assert _h(write, flow, "flow.yaml") == h
    spelled = base()
    spelled["skus"][3]["demand"] = {"dist": "fixed", "value": 6.0}
    spelled["transport"][1]["lead_time"] = {"dist": "fixed", "value": 1}
    spelled["costs"].update({"order_processing": 0.0, "goodwill": 0, "lost_sale": None})
    spelled["horizon"] = {"periods": 365, "warmup": 0, "periods_per_year": 365}
    spelled["replications"] = 10
    spelled["variants"] = {"unused": {"seed": 3}}  # a variant not applied changes nothing
    assert _h(write, spelled, "spelled.yaml") == h


def test_hash_changes_when_the_scenario_changes(write):
    h = _h(write, base())
    changed = base()
    changed["costs"]["carrying_rate"] = 0.26
    assert _h(write, changed, "c1.yaml") != h
    swapped = base()
    swapped["skus"][0], swapped["skus"][1] = swapped["skus"][1], swapped["skus"][0]
    assert _h(write, swapped, "c2.yaml") != h  # SKU order keys the random streams
    assert _h(write, base(), "c3.yaml", overrides={"seed": 1}) != h


def test_demand_history_path_is_hashed_by_content(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "h.csv").write_text("sku,period,quantity\nA-100,0,3\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("sku,period,quantity\nA-100,0,4\n", encoding="utf-8")

    def scen(path):
        data = base()
        data["demand_history_csv"] = str(path)
        return Scenario.model_validate(data)

    ha, hb, hc = (content_hash(scen(tmp_path / p)) for p in ("a/h.csv", "b/h.csv", "c.csv"))
    assert ha == hb != hc


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_examples_round_trip(path, tmp_path):
    s = scenarios.load(path)
    dumped = s.model_dump(mode="json", by_alias=True)
    out = tmp_path / "rt.yaml"
    out.write_text(dump(dumped), encoding="utf-8")
    back = scenarios.load(out)
    assert back == s
    assert content_hash(back) == content_hash(s)


def test_examples_are_small_enough_to_run_quickly():
    for path in EXAMPLES:
        s = scenarios.load(path)
        assert s.horizon.periods <= 365 and 5 <= s.replications <= 10 and len(s.skus) <= 60, path
        assert len(s.policies.review_periods) <= 3 and len(s.policies.families) <= 3, path
        with open(path, encoding="utf-8") as fh:
            assert fh.readline().startswith("# "), f"{path}: needs a comment header"
