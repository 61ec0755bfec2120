"""Issue 15, point 7: a history that does not match the SKU list, through `tradeoff run`.

- SKUs in the history that the scenario does not plan: one warning line on the console (and in
  summary.json `warnings`), their rows ignored; the run goes on (exit 0).
- A SKU whose history has no sale: demand 0, and its plan row holds no stock (S = 0, nothing on hand
  or in transit, no cost) with demand_reason "no demand in the history: no stock". When no candidate
  can hold none (only sS with s >= 0), the row says what it keeps instead of claiming no stock.
"""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from tradeoff.cli import main

HISTORY = """\
sku,period,quantity
a,1,3
a,2,5
a,3,0
a,4,4
gone,2,7
a,5,6
a,6,2
z,1,0
z,6,0
gone,3,1
a,7,4
a,8,3
"""

SCENARIO = """\
format: 1
name: {name}
seed: 5
horizon: {{periods: 400, warmup: 10}}  # 120 periods: a's cheapest plan lived off its starting stock (never ordered)
replications: 3
costs: {{order_cost: 20.0}}
customer_reaction: {reaction}
transport:
  - {{name: truck, lead_time: 2, cost_per_shipment: 10, cost_per_unit: 0.1}}
policies: {{families: {families}}}
demand_history_csv: h.csv
skus:
  - {{id: a, unit_cost: 5, price: 9}}
  - {{id: z, unit_cost: 5, price: 9}}
"""


def _run(tmp_path, monkeypatch, capsys, name, families, reaction="{wait: 0.6, lost_sale: 0.4}"):
    (tmp_path / "h.csv").write_text(HISTORY)
    path = tmp_path / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, families=families, reaction=reaction))
    monkeypatch.setattr(sys, "argv", ["tradeoff", "run", str(path), "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as exc:
        main()
    out, err = capsys.readouterr()
    folder = tmp_path / "out" / name
    return exc.value.code, out, err, pd.read_csv(folder / "plan.csv").set_index("sku"), \
        json.loads((folder / "summary.json").read_text())


def test_unplanned_skus_warn_once_and_no_sale_means_no_stock(tmp_path, monkeypatch, capsys):
    code, out, err, plan, summary = _run(tmp_path, monkeypatch, capsys, "mismatch", "[sS, base_stock]")
    assert code == 0
    warning = "h.csv: 1 SKU in the history is not planned by the scenario and ignored: 'gone' (2 rows)"
    assert err.count("warning: h.csv") == 1 and f"warning: {warning}" in err
    assert summary["warnings"] == [warning]
    assert list(plan.index) == ["a", "z"]  # 'gone' is not planned
    z = plan.loc["z"]
    assert z["demand_reason"] == "no demand in the history: no stock"
    assert (z["demand_source"], z["demand_model"], z["demand_pattern"]) == ("history", "fixed", "none")
    assert z["demand_per_period"] == 0
    # no stock: nothing on hand, nothing ordered, no cost (base_stock S = 0, or sS that never orders)
    assert z["avg_on_hand"] == 0 and z["avg_in_transit"] == 0 and z["cost_total"] == 0
    assert z["S"] == 0


def test_no_sale_with_no_zero_stock_candidate_says_what_it_keeps(tmp_path, monkeypatch, capsys):
    # lost sales only (no backlog): sS needs s >= 0 and S > s, so every candidate keeps >= 1 unit
    code, _, _, plan, _ = _run(tmp_path, monkeypatch, capsys, "keeps", "[sS]", "{wait: 0, lost_sale: 1}")
    assert code == 0
    z = plan.loc["z"]
    assert z["avg_on_hand"] >= 1
    assert z["demand_reason"].startswith("no demand in the history, but no candidate holds no stock: this plan "
                                         f"keeps {z['avg_on_hand']:.4g} unit")
