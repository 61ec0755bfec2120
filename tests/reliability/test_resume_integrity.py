"""Resume trusts only intact results: a result folder counts as finished only when every file of its
manifest has the size and sha256 recorded when it was written (tradeoff.results_io.finished, the one
definition batch and compare both use). A truncated plan.csv, an emptied frontier.csv, a flipped byte
in report.html, a deleted candidates.parquet: batch runs that scenario again and its batch.csv row
says why; compare runs it again too; an intact folder is reused."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from small_scenario import small_scenario

from tradeoff.results_io import MANIFEST, finished, read_manifest, write_result

# How a planner's disk or hand damages a result (the file, and what happens to it).
DAMAGE = {
    "truncated": ("plan.csv", lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])),
    "emptied": ("frontier.csv", lambda p: p.write_bytes(b"")),
    "flipped": ("report.html", lambda p: p.write_bytes(_flip(p.read_bytes()))),  # same size, other content
    # a run's candidates.parquet is a folder of parts (one per SKU chunk): one part deleted
    "deleted": ("candidates.parquet", lambda p: (next(p.iterdir()) if p.is_dir() else p).unlink()),
}
WORDS = {"truncated": "size", "emptied": "size 0 bytes", "flipped": "content changed", "deleted": "missing"}


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def stand_in_run(path, out=None, overrides=None, variants=None, engine="kernel", jobs=1, progress=None):
    """A cheap stand-in for tradeoff.run (batch's `runner`): writes the file set of a run (plan.csv,
    frontier.csv, candidates.parquet, summary.json, report.html) through the engine's writer, with
    contents that depend only on the scenario."""
    from scenarios.hashing import content_hash
    from tradeoff.pipeline import load_scenario, result_folder_name
    from tradeoff.results_io import csv_text

    scenario = load_scenario(path, overrides, variants)
    plan = pd.DataFrame({"sku": [s.id for s in scenario.skus], "cost_total": [float(s.unit_cost) for s in scenario.skus]})
    summary = {"scenario_hash": content_hash(scenario), "engine": engine, "service": {"metric": "fill_rate"},
               "totals": {"cost_total": float(plan["cost_total"].sum())}, "solver": {"status": "optimal"}}
    folder = write_result(out, result_folder_name(scenario, variants), {
        "plan.csv": csv_text(plan),
        "frontier.csv": "target,achieved,cost_total\n0.9,0.91,12.5\n,0.95,13\n",
        "candidates.parquet": lambda p: plan.to_parquet(p, index=False),
        "summary.json": json.dumps(summary, indent=2),
        "report.html": "<!doctype html><p>" + "report " * 200 + "</p>\n",
    })
    return SimpleNamespace(summary=summary, out_dir=folder)


def read_rows(out: Path) -> dict[str, dict]:
    with open(out / "batch.csv", newline="", encoding="utf-8") as f:
        return {r["folder"]: r for r in csv.DictReader(f)}


# --------------------------------------------------------------------------- the definition


@pytest.fixture
def written(tmp_path):
    """A folder as the writer leaves it, and its scenario hash."""
    files = {"plan.csv": "sku,s\n'-12,-3\n", "frontier.csv": "target,achieved\n0.9,0.91\n",
             "candidates.parquet": b"PAR1\x00\x01\x02PAR1", "report.html": "<p>" + "x" * 100 + "</p>",
             "summary.json": json.dumps({"scenario_hash": "abc", "engine": "kernel"})}
    return write_result(tmp_path, "demo", files), files


def test_the_manifest_records_name_size_and_sha256_of_every_file(written):
    folder, files = written
    entries = read_manifest(folder)
    assert sorted(entries) == sorted(files)
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        assert entries[name] == (len(data), hashlib.sha256(data).hexdigest())
    check = finished(folder, "abc", "kernel")
    assert check and check.summary == {"scenario_hash": "abc", "engine": "kernel"} and check.state == "finished"


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_file_makes_the_result_unfinished_and_says_which(written, kind):
    folder, _ = written
    name, damage = DAMAGE[kind]
    damage(folder / name)
    check = finished(folder, "abc", "kernel")
    assert not check and check.summary is None and check.state == "damaged"
    assert name in check.reason and WORDS[kind] in check.reason
    assert check.rerun_message.startswith("previous result damaged (") and name in check.rerun_message


@pytest.mark.parametrize("case", ["summary edited", "summary deleted", "manifest deleted", "names-only manifest",
                                  "file swapped for a folder"])
def test_other_damage_and_older_manifests_are_not_taken_for_finished(written, case):
    folder, _ = written
    if case == "summary edited":  # same length, another hash: still not trusted
        (folder / "summary.json").write_text(json.dumps({"scenario_hash": "abd", "engine": "kernel"}))
    elif case == "summary deleted":  # a rewrite interrupted between its renames
        (folder / "summary.json").unlink()
    elif case == "manifest deleted":
        (folder / MANIFEST).unlink()
    elif case == "names-only manifest":  # written by an older tradeoff: cannot be verified, so run again
        (folder / MANIFEST).write_text("".join(f"{n}\n" for n in sorted(read_manifest(folder))))
    else:
        (folder / "report.html").unlink()
        (folder / "report.html").mkdir()
    check = finished(folder, "abc", "kernel")
    assert not check and check.state == "damaged" and check.reason


def test_another_scenario_or_engine_or_no_result_is_not_finished_either(written, tmp_path):
    folder, _ = written
    assert finished(folder, "other", "kernel").state == "other"
    assert finished(folder, "abc", "simpy").state == "other"
    assert finished(tmp_path / "nothing", "abc").state == "absent"
    assert finished(tmp_path / "nothing", "abc").rerun_message == ""


# --------------------------------------------------------------------------- batch


def test_batch_reruns_a_damaged_result_says_so_and_reuses_the_intact_one(tmp_path):
    from tradeoff.batch import run_batch

    src = tmp_path / "in"
    src.mkdir()
    names = ["intact", *sorted(DAMAGE)]
    for i, name in enumerate(names):
        (src / f"{name}.yaml").write_text(small_scenario(name, 1 + i % 3), encoding="utf-8")
    out = tmp_path / "out"
    assert run_batch([src], out, jobs=2, runner=stand_in_run).exit_status == 0
    before = {n: {f.name: f.read_bytes() for f in (out / n).iterdir()} for n in names}
    for kind, (file, damage) in DAMAGE.items():
        damage(out / kind / file)

    outcome = run_batch([src], out, jobs=2, runner=stand_in_run)
    assert outcome.exit_status == 0
    rows = read_rows(out)
    assert rows["intact"]["reused"] == "true" and rows["intact"]["message"] == "already finished"
    for kind, (file, _) in DAMAGE.items():
        row = rows[kind]
        assert row["status"] == "ok" and row["reused"] == "false", row
        assert row["message"].startswith("previous result damaged (") and row["message"].endswith(": rerun")
        assert file in row["message"] and WORDS[kind] in row["message"]
    # every folder holds a complete, verified result again: the very files of the first run
    for n in names:
        assert finished(out / n, rows[n]["scenario_hash"], "kernel")
        assert {f.name: f.read_bytes() for f in (out / n).iterdir()} == before[n]


def test_batch_reruns_a_result_from_an_older_names_only_manifest(tmp_path):
    from tradeoff.batch import run_batch

    src = tmp_path / "in"
    src.mkdir()
    (src / "old.yaml").write_text(small_scenario("old", 2), encoding="utf-8")
    out = tmp_path / "out"
    run_batch([src], out, runner=stand_in_run)
    (out / "old" / MANIFEST).write_text("".join(f"{n}\n" for n in sorted(read_manifest(out / "old"))))
    outcome = run_batch([src], out, runner=stand_in_run)
    row = outcome.rows[0]
    assert row["status"] == "ok" and row["reused"] is False and "older tradeoff" in row["message"]
    assert finished(out / "old", row["scenario_hash"], "kernel")


# --------------------------------------------------------------------------- compare (the real engine)


def test_compare_reruns_a_damaged_result_and_reuses_an_intact_one(tmp_path):
    from tradeoff.compare import compare

    scenario = tmp_path / "cmp.yaml"
    scenario.write_text(small_scenario("cmp", 1), encoding="utf-8")
    out = tmp_path / "out"
    (first,), csv_path, _ = compare([scenario], out)
    assert not first.extras["reused"]
    reference = csv_path.read_bytes()
    (again,), _, _ = compare([scenario], out)
    assert again.extras["reused"]  # intact: reused
    for kind, (file, damage) in DAMAGE.items():
        damage(out / "cmp" / file)
        (rerun,), _, _ = compare([scenario], out)
        assert not rerun.extras["reused"], kind
        assert file in rerun.extras["rerun_reason"] and WORDS[kind] in rerun.extras["rerun_reason"]
        assert csv_path.read_bytes() == reference  # the rerun gives the same comparison
    (last,), _, _ = compare([scenario], out)
    assert last.extras["reused"]
