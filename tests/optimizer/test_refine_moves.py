"""The one-step moves of refine (optimizer.refine._around) against a plain loop written from the
rule: for each seed in order, each combination of -1, 0, +1 step per parameter (product order, the
all-zero move left out), step = max(1, round(5 % of max(|value|, mean demand))) (Q's at least the
pack), Q raised to the MOQ and to whole packs, then invalid rows dropped (S < 0, s below 0 without a
backlog, s + Q < 0 for rQ, cap < 1, S <= s for sS / RsS), duplicates and evaluated rows left out.
Seeds are real candidate grids of the example scenarios with all six families allowed."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scenarios
from optimizer.candidates import POLICY_COLUMNS, _backlog_possible, initial_candidates
from optimizer.keys import policy_keys
from optimizer.refine import _PARAMS, _around
from scenarios.schema import dist_mean

ROOT = Path(__file__).resolve().parents[2]


def reference_moves(scenario, evaluations, seeds):
    pack, moq = scenario.policies.pack_size, scenario.policies.moq
    s_min = -np.inf if _backlog_possible(scenario) else 0.0
    mu = {s.id: dist_mean(s.demand) for s in scenario.skus}
    missing = lambda v: v is None or (isinstance(v, float) and math.isnan(v))  # noqa: E731
    out = []
    for row in seeds.itertuples(index=False):
        base = {c: getattr(row, c) for c in POLICY_COLUMNS}
        params = _PARAMS[base["family"]]
        steps = {p: max(1, int(round(0.05 * max(abs(base[p]), mu[base["sku"]])))) for p in params}
        if "Q" in steps:
            steps["Q"] = max(steps["Q"], pack)
        for signs in itertools.product((-1, 0, 1), repeat=len(params)):
            if not any(signs):
                continue
            new = dict(base, **{p: base[p] + k * steps[p] for p, k in zip(params, signs)})
            if not missing(new["Q"]):
                new["Q"] = float(max(math.ceil(max(new["Q"], moq, 1) / pack) * pack, 1))
            if not missing(new["S"]) and new["S"] < 0:
                continue
            if not missing(new["s"]) and new["s"] < s_min:
                continue
            if new["family"] == "rQ" and new["s"] + new["Q"] < 0:
                continue
            if not missing(new["cap"]) and new["cap"] < 1:
                continue
            if new["family"] in ("sS", "RsS") and not new["S"] > new["s"]:
                continue
            out.append(new)
    df = pd.DataFrame(out, columns=POLICY_COLUMNS).drop_duplicates(ignore_index=True)
    seen = set(policy_keys(evaluations).tolist())
    return df[[k not in seen for k in policy_keys(df).tolist()]].reset_index(drop=True)


ALL_FAMILIES = "policies.families=[base_stock, sS, rQ, RS, RsS, capped_base_stock]"


@pytest.mark.parametrize("example", ["retail_dc", "spare_parts", "service_audit"])
def test_moves_equal_the_rule_written_as_a_loop(example):
    sc = scenarios.load(ROOT / f"scenarios/examples/{example}.yaml", overrides=[ALL_FAMILIES])
    grid = initial_candidates(sc)[POLICY_COLUMNS]
    rng = np.random.default_rng(3)
    seeds = grid.iloc[rng.permutation(len(grid))[:300]].reset_index(drop=True)
    evaluated = grid.iloc[: len(grid) // 2]
    got = _around(sc, evaluated, seeds)
    want = reference_moves(sc, evaluated, seeds)
    assert len(got) > 100
    assert set(got["family"]) == set(seeds["family"]) == set(_PARAMS)
    pd.testing.assert_frame_equal(got, want, check_dtype=True)


def test_moves_with_pack_and_moq_on_lots():
    sc = scenarios.load(ROOT / "scenarios/examples/retail_dc.yaml",
                        overrides=[ALL_FAMILIES, "policies.pack_size=6", "policies.moq=30"])
    grid = initial_candidates(sc)[POLICY_COLUMNS]
    seeds = grid[grid["family"] == "rQ"].head(200).reset_index(drop=True)
    got = _around(sc, grid.iloc[:0], seeds)
    assert len(got) > 100
    pd.testing.assert_frame_equal(got, reference_moves(sc, grid.iloc[:0], seeds))
    assert (got["Q"] % 6 == 0).all() and (got["Q"] >= 30).all()


def test_moves_from_arrays_equal_the_moved_copies_of_the_seeds():
    """_one_step builds the moves from arrays (one take of the seeds); _one_step_by_frames, one
    moved copy of the seeds per block, concatenated. Same rows, order, values and types, also with
    critical levels moving, -0.0 and missing levels; seeds with whole-number columns take the copies."""
    from optimizer.refine import _one_step, _one_step_by_frames, _rationing

    def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        for c in ("s", "S", "Q", "cap", "critical_level"):  # -0.0 and 0.0 apart, as the keys tell them
            assert (np.signbit(a[c].to_numpy(float)) == np.signbit(b[c].to_numpy(float))).all()

    tiers = ("customer_tiers={allocation: critical_level, tiers: [{name: key, share: 0.4}, "
             "{name: rest, share: 0.6}]}")
    sc = scenarios.load(ROOT / "scenarios/examples/retail_dc.yaml", overrides=[ALL_FAMILIES, tiers])
    grid = initial_candidates(sc)[POLICY_COLUMNS]
    rng = np.random.default_rng(9)
    seeds = grid.iloc[rng.permutation(len(grid))[:200]].reset_index(drop=True)
    seeds["critical_level"] = rng.integers(0, 4, len(seeds)) * 1.0
    seeds.loc[seeds.index[:20], "s"] = -0.0
    seeds.loc[seeds.index[20:25], "critical_level"] = np.nan
    assert _rationing(sc)
    got = _one_step(sc, seeds)
    assert len(got) > 1000 and np.signbit(got["s"]).any()
    same(got, _one_step_by_frames(sc, seeds))
    whole = seeds.assign(S=seeds["S"].fillna(0).astype(np.int64))
    same(_one_step(sc, whole), _one_step_by_frames(sc, whole))
