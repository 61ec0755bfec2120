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
