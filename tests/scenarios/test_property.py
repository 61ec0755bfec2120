"""Property tests: random valid scenarios load (and hash the same however written); random
mutations of them either load or fail with ScenarioError, never another exception."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from scenario_factory import dump
from scenario_strategies import mutated, scenario_data

import scenarios
from scenarios.errors import ScenarioError



def ci(n: int) -> settings:
    """Repeatable in CI (derandomized), no per-example deadline on a shared 2-core machine."""
    return settings(max_examples=n, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def _reversed_keys(x):
    if isinstance(x, dict):
        return {k: _reversed_keys(x[k]) for k in reversed(list(x))}
    if isinstance(x, list):
        return [_reversed_keys(v) for v in x]
    return x


@ci(60)
@given(data=scenario_data())
def test_random_valid_scenarios_load(data, tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(dump(data), encoding="utf-8")
    b.write_text(yaml.safe_dump(_reversed_keys(data), default_flow_style=True), encoding="utf-8")
    s = scenarios.load(a)
    assert len(s.skus) == len(data["skus"])
    assert [m.name for m in s.transport] == [m["name"] for m in data["transport"]]
    assert scenarios.content_hash(s) == scenarios.content_hash(scenarios.load(b))


@ci(100)
@given(data=mutated())
def test_mutations_load_or_raise_scenario_error(data, tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        s = scenarios.load(p)
    except ScenarioError as exc:
        assert exc.problems and all(str(x) for x in exc.problems)
    else:
        scenarios.content_hash(s)
