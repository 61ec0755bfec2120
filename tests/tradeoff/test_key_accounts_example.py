"""The shipped example of customer tiers (scenarios/examples/key_accounts.yaml: three tiers ranked
from a sales history with a customer column, critical-level rationing, a floor for the key accounts)
runs end to end: tiers.csv, the tier figures and the FIFO comparison in summary.json, and the report
showing both."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from tradeoff.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "key_accounts.yaml"


def test_key_accounts_runs_end_to_end_and_shows_the_tiers_and_the_saving(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["tradeoff", "run", str(EXAMPLE), "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None)
    folder = next(tmp_path.iterdir())
    plan = pd.read_csv(folder / "plan.csv")
    tiers = pd.read_csv(folder / "tiers.csv")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert "critical_level" in plan.columns and (plan["critical_level"] >= 0).all()
    assert len(tiers) == 3 * len(plan) and list(tiers["tier"].unique()) == ["key", "medium", "small"]
    # The tiers' demand adds up to the SKU's (every order belongs to one tier), SKU by SKU.
    per_sku = tiers.groupby("sku", sort=False)["demand_per_period"].sum()
    assert per_sku.to_numpy() == pytest.approx(plan.set_index("sku").loc[per_sku.index, "demand_per_period"].to_numpy(),
                                                               rel=1e-6)
    key = summary["tiers"][0]
    assert key["tier"] == "key" and key["floor"] == 0.99 and key["floor_met"] is True and key["fill_rate"] >= 0.99
    comparison = summary["allocation_comparison"]
    assert comparison["allocation_used"] == "critical_level" and comparison["status"] == "optimal"
    assert comparison["saving_per_period"] == pytest.approx(
        comparison["cost_per_period"] - comparison["cost_per_period_used"])
    # each tier's demand is its own model, fitted to its customers' sales (KA-11's medium tier bought none)
    models = tiers.set_index(["sku", "tier"])["demand_model"]
    assert models["KA-11", "medium"] == "fixed" and (models.drop(("KA-11", "medium")) == "compound").all()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Service by customer tier" in page and "Against FIFO allocation" in page
    assert "each tier&#39;s demand is its own model" in page or "each tier's demand is its own model" in page
