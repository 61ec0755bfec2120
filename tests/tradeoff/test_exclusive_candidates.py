"""Issue 15, point 6: `policies.expand: false` makes the explicit `policies.candidates` exclusive.

The definition (docs/scenario-reference.md, policies.expand): with expand false each listed candidate
is simulated for every SKU, allowed mode and review period the family allows, and nothing else; with
expand true (the default) refinement adds neighbours as before. So `base_stock S=100` given alone
comes back as S=100 with expand false, and the candidates hold exactly the rows the definition lists.
"""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from tradeoff.cli import main
from tradeoff.pipeline import run

SCENARIO = """\
format: 1
name: {name}
seed: 5
horizon: {{periods: 120, warmup: 10}}
replications: 3
costs: {{order_cost: 20.0}}
customer_reaction: {{wait: 0.6, lost_sale: 0.4}}
transport:
  - {{name: truck, lead_time: 2, cost_per_shipment: 10, cost_per_unit: 0.1}}
policies:
  families: [base_stock]
  review_periods: [0, 1, 7]
  candidates: {{base_stock: [{{S: 100}}]}}
{expand}
skus:
  - {{id: a, unit_cost: 5, price: 9, demand: {{dist: poisson, mean: 10}}}}
  - {{id: b, unit_cost: 8, price: 12, demand: {{dist: poisson, mean: 30}}}}
"""


def _run(tmp_path, name: str, expand: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, expand=expand))
    result = run(path, out=tmp_path / "out")
    folder = tmp_path / "out" / name
    return result, pd.read_csv(folder / "plan.csv"), pd.read_parquet(folder / "candidates.parquet")


def test_expand_false_simulates_only_the_given_candidates(tmp_path):
    _, plan, cands = _run(tmp_path, "only", "  expand: false")
    # The definition: S=100 for every SKU, mode and review period the family allows, nothing else.
    expected = {(sku, "base_stock", "truck", 100.0, R) for sku in ("a", "b") for R in (0, 1, 7)}
    got = set(zip(cands["sku"], cands["family"], cands["mode"], cands["S"], cands["R"]))
    assert got == expected
    assert len(cands) == len(expected)
    assert plan["S"].tolist() == [100, 100]
    assert set(plan["R"]) <= {0, 1, 7}


def test_expand_true_refines_as_before(tmp_path):
    _, plan, cands = _run(tmp_path, "grown", "  expand: true")
    assert (cands["S"] != 100).any()  # refinement added neighbours of the given candidate
    given = cands[cands["S"] == 100]
    assert len(given) == 6  # the given ones are there too
    # and the default is expand true: the same run without the key gives the same candidates
    _, plan_default, cands_default = _run(tmp_path, "grown", "")
    pd.testing.assert_frame_equal(plan, plan_default)
    assert len(cands_default) == len(cands)


def test_expand_false_without_explicit_candidates_is_refused(tmp_path, monkeypatch, capsys):
    path = tmp_path / "auto.yaml"
    path.write_text(SCENARIO.format(name="auto", expand="  expand: false").replace(
        "candidates: {base_stock: [{S: 100}]}", "candidates: auto"))
    monkeypatch.setattr(sys, "argv", ["tradeoff", "run", str(path), "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "auto.yaml" in err and "policies.expand" in err and "explicit candidates" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
