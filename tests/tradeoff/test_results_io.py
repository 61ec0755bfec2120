"""Result files are written atomically, only under --out, and never over files the engine did not write."""

from __future__ import annotations

import os

import pytest

from scenarios.errors import ScenarioError
import hashlib

from tradeoff.results_io import MANIFEST, OutputError, read_manifest, result_dir, write_file_atomic, write_result


def _listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_writes_every_file_and_no_staging_left(tmp_path):
    target = write_result(tmp_path, "demo", {"plan.csv": "a,b\n1,2\n", "raw.bin": b"\x00\x01"})
    assert target == tmp_path / "demo"
    assert (target / "plan.csv").read_text() == "a,b\n1,2\n"
    assert (target / "raw.bin").read_bytes() == b"\x00\x01"
    # the manifest records each file's name, size and sha256 as written
    assert read_manifest(target) == {"plan.csv": (8, hashlib.sha256(b"a,b\n1,2\n").hexdigest()),
                                      "raw.bin": (2, hashlib.sha256(b"\x00\x01").hexdigest())}
    assert _listing(tmp_path) == ["demo", f"demo/{MANIFEST}", "demo/plan.csv", "demo/raw.bin"]


def test_failure_mid_write_leaves_no_result_file(tmp_path):
    def boom(path):
        path.write_text("half a file")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_result(tmp_path, "demo", {"plan.csv": "complete\n", "candidates.parquet": boom, "z.csv": "x\n"})
    assert _listing(tmp_path) == []


def test_failure_when_rewriting_keeps_the_previous_complete_result(tmp_path):
    write_result(tmp_path, "demo", {"plan.csv": "old plan\n", "summary.json": "{}"})

    def boom(path):
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_result(tmp_path, "demo", {"plan.csv": "new plan\n", "summary.json": boom})
    assert (tmp_path / "demo" / "plan.csv").read_text() == "old plan\n"
    assert _listing(tmp_path) == ["demo", f"demo/{MANIFEST}", "demo/plan.csv", "demo/summary.json"]


def test_rewrite_replaces_own_files_removes_stale_ones_keeps_unrelated(tmp_path):
    write_result(tmp_path, "demo", {"plan.csv": "old\n", "audit.csv": "old audit\n"})
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    (tmp_path / "other.txt").write_text("also mine")
    write_result(tmp_path, "demo", {"plan.csv": "new\n"})
    assert (tmp_path / "demo" / "plan.csv").read_text() == "new\n"
    assert not (tmp_path / "demo" / "audit.csv").exists()  # a stale audit would not match the new plan
    assert (tmp_path / "demo" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "other.txt").read_text() == "also mine"
    assert list(read_manifest(tmp_path / "demo")) == ["plan.csv"]


def test_refuses_to_overwrite_a_file_it_did_not_write(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "plan.csv").write_text("someone's own plan")
    with pytest.raises(OutputError, match="not written by tradeoff"):
        write_result(tmp_path, "demo", {"plan.csv": "new\n"})
    assert (tmp_path / "demo" / "plan.csv").read_text() == "someone's own plan"
    assert _listing(tmp_path) == ["demo", "demo/plan.csv"]


def test_refuses_a_file_where_the_folder_should_be(tmp_path):
    (tmp_path / "demo").write_text("a file")
    with pytest.raises(OutputError):
        write_result(tmp_path, "demo", {"plan.csv": "x"})
    assert (tmp_path / "demo").read_text() == "a file"


@pytest.mark.parametrize("name", ["../escape", "..", ".", "a/b", "/abs", ".hidden", "", "a\\b", "x/../y"])
def test_names_cannot_escape_out(tmp_path, name):
    out = tmp_path / "out"
    with pytest.raises(OutputError):
        write_result(out, name, {"plan.csv": "x"})
    with pytest.raises(OutputError):
        write_result(out, "ok", {name or "": "x"})
    assert _listing(tmp_path) in ([], ["out"])


def test_output_error_is_invalid_input():
    assert issubclass(OutputError, ScenarioError)  # exit status 2 in the CLI


def test_variant_folder_names_are_accepted(tmp_path):
    assert result_dir(tmp_path, "retail_dc+high_service+air_only") == tmp_path / "retail_dc+high_service+air_only"


def test_symlinked_folder_pointing_outside_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "demo")
    with pytest.raises(OutputError):
        write_result(out, "demo", {"plan.csv": "x"})
    assert _listing(outside) == []


def test_write_file_atomic(tmp_path):
    path = write_file_atomic(tmp_path / "sub" / "index.csv", "a\n")
    assert path.read_text() == "a\n"
    assert _listing(tmp_path) == ["sub", "sub/index.csv"]


def test_rewrite_of_a_folder_holding_only_a_result_swaps_whole_folders(tmp_path, monkeypatch):
    write_result(tmp_path, "demo", {"plan.csv": "old\n", "summary.json": "{}"})
    renames = []
    real_rename = os.rename
    monkeypatch.setattr(os, "rename", lambda a, b: (renames.append((os.path.basename(a), os.path.basename(b))), real_rename(a, b)))
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append(b), real_replace(a, b)))
    write_result(tmp_path, "demo", {"plan.csv": "new\n", "summary.json": "{\"a\": 1}"})
    assert replaced == []  # no file-by-file mixing of old and new
    assert renames[0][0] == "demo" and renames[1][1] == "demo"
    assert (tmp_path / "demo" / "plan.csv").read_text() == "new\n"
    assert _listing(tmp_path) == ["demo", f"demo/{MANIFEST}", "demo/plan.csv", "demo/summary.json"]


def test_rewrite_beside_user_files_moves_summary_last_and_drops_the_old_one_first(tmp_path, monkeypatch):
    """Beside a planner's own file, result files are replaced one by one; a crash between two of
    those renames must never leave a NEW summary.json (the mark of a finished result) beside OLD files."""
    write_result(tmp_path, "s", {"plan.csv": "old\n", "summary.json": "old\n", "report.html": "old\n"})
    (tmp_path / "s" / "notes.txt").write_text("mine\n")
    import tradeoff.results_io as rio

    real_replace = os.replace
    moved = []

    def crash_after_two(src, dst):
        real_replace(src, dst)
        moved.append(os.path.basename(dst))
        if len(moved) == 2:
            raise OSError("disk gone")

    monkeypatch.setattr(rio.os, "replace", crash_after_two)
    with pytest.raises(OSError):
        write_result(tmp_path, "s", {"summary.json": "new\n", "plan.csv": "new\n", "report.html": "new\n"})
    assert "summary.json" not in moved
    assert not (tmp_path / "s" / "summary.json").exists()  # unfinished: batch will redo it
    assert (tmp_path / "s" / "notes.txt").read_text() == "mine\n"


def test_files_outside_a_result_folder_get_the_usual_mode_not_mkstemps_0600(tmp_path):
    """batch.csv and compare.* live on shared volumes: readable by the group like any new file."""
    old = os.umask(0o022)
    try:
        path = write_file_atomic(tmp_path / "batch.csv", "a\n1\n")
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o644


def test_a_write_error_without_a_file_name_is_given_the_path(tmp_path):
    """ENOSPC from write() names no file; the one-line report needs one."""
    import errno

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as info:
        write_result(tmp_path, "demo", {"candidates.parquet": full})
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename is not None and "candidates.parquet" in info.value.filename
