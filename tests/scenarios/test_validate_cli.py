"""`tradeoff validate`: a summary line per valid file, every problem of a broken one, exit 2.
Runs the console entry point in-process (sys.argv), the same path as the installed script."""

from __future__ import annotations

import glob
import os
import sys

from scenario_factory import base, dump

from tradeoff.cli import main

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["tradeoff", "validate", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_examples_and_bench_validate(monkeypatch, capsys):
    files = sorted(glob.glob(os.path.join(ROOT, "scenarios", "examples", "*.yaml")))
    files += sorted(glob.glob(os.path.join(ROOT, "scenarios", "bench", "*.yaml")))
    code, out, err = _run(monkeypatch, capsys, *files)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(files)
    bench = next(line for line in lines if "bench_1000.yaml" in line)
    assert "bench-1000: 1000 SKUs, modes truck, parcel, families sS, RS, base_stock" in bench


def test_broken_file_exits_2_naming_the_path(monkeypatch, capsys, tmp_path):
    data = base()
    data["skus"][3]["demand"] = {"dist": "negbin", "mean": 4, "cv": -0.2}
    data["costs"]["carying_rate"] = 0.3
    bad = tmp_path / "dc-east.yaml"
    bad.write_text(dump(data), encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text(dump(base()), encoding="utf-8")
    code, out, err = _run(monkeypatch, capsys, str(good), str(bad), "--set", "seed=3")
    assert code == 2
    assert f"{good}: ok: mini: 4 SKUs, modes truck, air, families sS, rQ" in out
    assert f"{bad}: skus[3].demand.cv: -0.2 is not > 0" in err
    assert f"{bad}: costs.carying_rate: unknown key 'carying_rate' (did you mean 'carrying_rate'?)" in err


def test_unknown_variant_exits_2(monkeypatch, capsys, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(dump(base()), encoding="utf-8")
    code, _, err = _run(monkeypatch, capsys, str(good), "--variant", "fast")
    assert code == 2 and "unknown variant 'fast' (known: none defined)" in err


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["tradeoff", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    return code, capsys.readouterr().err


def test_a_flag_value_is_named_by_its_flag(monkeypatch, capsys, tmp_path):
    """--target, --time-limit and --mip-gap set scenario paths; a bad value names the flag, not --set."""
    good = tmp_path / "good.yaml"
    good.write_text(dump(base()), encoding="utf-8")
    out = tmp_path / "out"
    code, err = _cli(monkeypatch, capsys, "run", str(good), "--out", str(out), "--target", "1.5",
                     "--time-limit", "-3", "--mip-gap", "2", "--set", "seed=-1")
    assert code == 2, err
    assert "service.target: 1.5 is not <= 1 (set by --target)" in err
    assert "solver.time_limit: -3.0 is not > 0 (set by --time-limit)" in err
    assert "solver.mip_gap: 2.0 is not < 1 (set by --mip-gap)" in err
    assert "seed: -1 is not >= 0 (set by --set)" in err
    assert not out.exists()
    code, err = _cli(monkeypatch, capsys, "audit", str(good), "--out", str(out), "--target", "0")
    assert code == 2 and "service.target: 0.0 is not > 0 (set by --target)" in err


def test_overrides_carry_their_label_through_the_loader(tmp_path):
    import pytest

    import scenarios
    from scenarios.errors import ScenarioError
    from scenarios.loader import Override

    good = tmp_path / "good.yaml"
    good.write_text(dump(base()), encoding="utf-8")
    s = scenarios.load(good, overrides=["seed=4", Override("service.target", 0.9, "--target")])
    assert s.seed == 4 and s.service.target == 0.9
    with pytest.raises(ScenarioError) as info:
        scenarios.load(good, overrides=[Override("service.target", "high", "--target"),
                                        Override("service.tagret", 0.9, "--target")])
    msg = str(info.value)
    assert "service.target: 'high' is not a number (set by --target)" in msg
    assert "--target: service.tagret: unknown key 'tagret' (did you mean 'target'?)" in msg
