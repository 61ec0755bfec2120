"""A run's results do not depend on how the SKUs are grouped into chunk tasks (tradeoff.search: every
decision is per SKU): plan.csv and frontier.csv are the same bytes, and candidates.parquet holds the
same rows, with one SKU per chunk, two, three and all in one chunk (the default CHUNK_SKUS_MAX).

The scenario has an aggregate service target and a class floor, so the head's prices of the plan and
of the exchange-curve levels go back to the chunks (the refine step) and contenders are re-simulated."""

from __future__ import annotations

import pandas as pd
import pytest

import tradeoff.pipeline as pipeline

SCENARIO = """\
format: 1
name: chunky
seed: {seed}
horizon: {{periods: 60, warmup: 5}}
replications: 2
costs: {{order_cost: 15.0, goodwill: 0.5}}
customer_reaction: {{wait: 0.6, lost_sale: 0.4}}
transport:
  - {{name: truck, lead_time: {{dist: poisson, mean: 2}}, cost_per_shipment: 10, cost_per_unit: 0.1}}
  - {{name: air, lead_time: 1, cost_per_shipment: 30}}
service: {{target: 0.93, floors: {{A: 0.95}}, frontier: [0.9, 0.95]}}
policies: {{families: [base_stock, sS], review_periods: [0, 1]}}
skus:
  - {{id: a, unit_cost: 5, price: 9, demand: {{dist: poisson, mean: 4}}}}
  - {{id: b, unit_cost: 12, price: 20, demand: {{dist: poisson, mean: 2}}}}
  - {{id: c, unit_cost: 3, price: 4, demand: {{dist: negbin, mean: 6, cv: 0.8}}}}
  - {{id: d, unit_cost: 8, price: 11, demand: {{dist: poisson, mean: 7}}}}
  - {{id: e, unit_cost: 20, price: 31, demand: {{dist: negbin, mean: 3, cv: 1.1}}}}
  - {{id: f, unit_cost: 2, price: 3.5, demand: {{dist: poisson, mean: 9}}}}
  - {{id: g, unit_cost: 6, price: 8, demand: {{dist: poisson, mean: 1.5}}}}
  - {{id: h, unit_cost: 15, price: 25, demand: {{dist: negbin, mean: 5, cv: 0.6}}}}
"""
N_SKUS = 8
POLICY = ["sku", "family", "mode", "s", "S", "Q", "R", "cap"]


def _candidates(folder) -> pd.DataFrame:
    table = pd.read_parquet(folder / "candidates.parquet")
    return table.sort_values(POLICY, kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("seed", [7, 2])
def test_results_do_not_depend_on_the_chunks(seed, tmp_path, monkeypatch):
    path = tmp_path / "chunky.yaml"
    path.write_text(SCENARIO.format(seed=seed))
    default = pipeline.CHUNK_SKUS_MAX
    outputs = {}
    for size in (default, 1, 2, 3):
        monkeypatch.setattr(pipeline, "CHUNK_SKUS_MAX", size)
        result = pipeline.run(path, out=tmp_path / f"out-{size}")
        found = result.extras["search"]
        assert len(found.chunks) == -(-N_SKUS // min(size, N_SKUS))  # the chunking asked for
        assert "refine" in [step[0] for step in found.steps]  # the prices went back to the chunks
        assert any(price > 0 for _, _, price in result.extras["selection"].prices.service)
        outputs[size] = tmp_path / f"out-{size}" / "chunky"
    one = outputs.pop(default)
    whole = _candidates(one)
    assert not whole.duplicated(POLICY).any()  # the sort gives one order
    assert whole["replications"].nunique() > 1  # contenders were re-simulated with more replications
    for size, folder in outputs.items():
        for name in ("plan.csv", "frontier.csv"):
            assert (folder / name).read_bytes() == (one / name).read_bytes(), (size, name)
        pd.testing.assert_frame_equal(_candidates(folder), whole, check_exact=True)


@pytest.mark.parametrize("order", ["shuffled", "catalogue"])
@pytest.mark.parametrize("per_chunk", [1, 3, 8])
def test_a_table_is_sliced_into_each_chunks_own_rows_in_table_order(per_chunk, order, tmp_path, monkeypatch):
    """_slice_by_chunk against a filter by set membership: every chunk gets exactly the policy columns
    of the rows of its own SKUs, in the order of the table (shuffled, or in catalogue order as a
    selection's choice is, which is cut into runs instead of gathered); a row of an unknown SKU goes
    to no chunk."""
    import scenarios
    from simulation.metrics import POLICY_COLUMNS

    path = tmp_path / "chunky.yaml"
    path.write_text(SCENARIO.format(seed=3))
    scenario = scenarios.load(path)
    monkeypatch.setattr(pipeline, "CHUNK_SKUS_MAX", per_chunk)
    chunks = pipeline.plan_chunks(scenario, 1)
    ids = ["stranger"] + [s.id for s in scenario.skus]
    table = pd.DataFrame({"sku": ids, "family": "sS", "mode": "truck", "s": range(len(ids)), "S": 50.0,
                          "Q": float("nan"), "R": 0, "cap": float("nan"), "critical_level": 0.0,
                          "cost_total": 1.0})
    if order == "shuffled":
        table = table.sample(frac=1.0, random_state=5).reset_index(drop=True)
    sliced = pipeline._slice_by_chunk(table, chunks)
    assert len(sliced) == len(chunks)
    for chunk, part in zip(chunks, sliced):
        expected = table.loc[table["sku"].isin(chunk.skus), list(POLICY_COLUMNS)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, expected)
