"""Special files and echoed content (issue 13, point 6): every input path (scenario, `extends` parent,
`skus_csv`, `demand_history_csv`, empirical `csv`) that is not a regular file, a directory, a FIFO
(which must not hang the reader), a device, or a /proc or /sys pseudo-file (which stat() calls a
regular file of size 0), is refused before it is read, with the path and the rule; and no message
quotes more than a short, escaped excerpt of a file's content or a user's value."""

from __future__ import annotations

import os
import sys

import pytest
from scenario_factory import base, dump

import scenarios
from scenarios.errors import EXCERPT_CHARS, ScenarioError

NOT_REGULAR = "not a regular file"


def _message(path, **kw) -> str:
    with pytest.raises(ScenarioError) as info:
        scenarios.load(path, **kw)
    assert all(p.file for p in info.value.problems)
    return str(info.value)


def _scenario_pointing_to(write, where: str, target: str):
    """A scenario whose `where` input (extends, skus_csv, demand_history_csv, csv) is `target`."""
    data = base()
    if where == "extends":
        data["extends"] = target
    elif where == "skus_csv":
        del data["skus"]
        data["skus_csv"] = target
    elif where == "demand_history_csv":
        del data["skus"][0]["demand"]
        data["demand_history_csv"] = target
    else:
        data["transport"][0]["lead_time"] = {"dist": "empirical", "csv": target}
    return write(data)


INPUTS = ["scenario", "extends", "skus_csv", "demand_history_csv", "csv"]


def _load_with(write, tmp_path, where: str, target: str) -> str:
    if where == "scenario":
        return _message(target)
    return _message(_scenario_pointing_to(write, where, target))


@pytest.mark.timeout(10)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("where", INPUTS)
def test_fifo_is_refused_without_hanging(write, tmp_path, where):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would block forever
    msg = _load_with(write, tmp_path, where, str(fifo))
    assert "named pipe (FIFO), not a regular file" in msg, msg


@pytest.mark.parametrize("where", INPUTS)
def test_directory_is_refused(write, tmp_path, where):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    msg = _load_with(write, tmp_path, where, str(folder))
    assert "is a directory, not a regular file" in msg, msg


DEVICES = [d for d in ("/dev/zero", "/dev/urandom", "/dev/null", "/dev/stdin") if os.path.exists(d)]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("where", INPUTS)
def test_devices_are_refused_before_reading(write, tmp_path, where, device):
    msg = _load_with(write, tmp_path, where, device)
    assert NOT_REGULAR in msg or "pseudo-file under /dev/" in msg, msg


PSEUDO = [p for p in ("/proc/self/environ", "/proc/self/status", "/proc/cpuinfo", "/sys/kernel/uevent_seqnum")
          if os.path.exists(p)]


@pytest.mark.parametrize("pseudo", PSEUDO)
@pytest.mark.parametrize("where", INPUTS)
def test_proc_and_sys_files_are_refused(write, tmp_path, where, pseudo):
    msg = _load_with(write, tmp_path, where, pseudo)
    assert "pseudo-file under /" in msg and "refused before reading" in msg, msg


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="the link's target is Linux's /proc/self/environ")
def test_symlink_to_a_proc_file_is_refused(write, tmp_path):
    link = tmp_path / "sales.csv"
    link.symlink_to("/proc/self/environ")
    msg = _load_with(write, tmp_path, "demand_history_csv", str(link))
    assert "pseudo-file under /proc/" in msg


def test_trust_case_c24_environment_is_never_echoed(write, tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEOFF_SECRET_PROBE", "s3cr3t-value-never-to-print")
    msg = _load_with(write, tmp_path, "demand_history_csv", "/proc/self/environ")
    assert "s3cr3t" not in msg and "TRADEOFF_SECRET_PROBE" not in msg and "PATH=" not in msg.upper()
    assert "demand_history_csv: demand history CSV path is a system pseudo-file under /proc/" in msg


def test_a_file_larger_than_its_size_is_refused(write, monkeypatch):
    """What /proc and /sys files do (size 0 in stat, content when read), on any pseudo file system."""
    import scenarios.yaml_io as yio

    real_fstat = os.fstat

    def lying_fstat(fd):
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 0,
                               int(st.st_atime), int(st.st_mtime), int(st.st_ctime)))

    p = write(base())
    monkeypatch.setattr(yio.os, "fstat", lying_fstat)
    msg = _message(p)
    assert "gives more bytes than its size (0): a pseudo-file" in msg


# --------------------------------------------------------------------------- no echo of content
def _longest_run(msg: str, ch: str) -> int:
    best = run = 0
    for c in msg:
        run = run + 1 if c == ch else 0
        best = max(best, run)
    return best


def test_history_header_of_a_huge_line_is_quoted_as_an_excerpt(write, tmp_path):
    (tmp_path / "sales.csv").write_text("x" * 100_000 + ",y\n1,2\n", encoding="utf-8")
    msg = _load_with(write, tmp_path, "demand_history_csv", str(tmp_path / "sales.csv"))
    assert "misses column(s) sku, quantity" in msg
    assert _longest_run(msg, "x") <= EXCERPT_CHARS


def test_sku_csv_unknown_column_and_bad_cell_are_quoted_as_excerpts(write, tmp_path):
    (tmp_path / "skus.csv").write_text("id,unit_cost,price," + "c" * 10_000 + "\nA,1,2,3\n", encoding="utf-8")
    msg = _load_with(write, tmp_path, "skus_csv", str(tmp_path / "skus.csv"))
    assert "unknown column" in msg and _longest_run(msg, "c") <= EXCERPT_CHARS
    (tmp_path / "skus.csv").write_text("id,unit_cost,price\nA,1," + "9" * 5000 + "x\n", encoding="utf-8")
    msg = _load_with(write, tmp_path, "skus_csv", str(tmp_path / "skus.csv"))
    assert "is not a number (CSV line 2)" in msg and _longest_run(msg, "9") <= EXCERPT_CHARS


def test_long_values_keys_and_set_paths_are_cut_and_controls_escaped(write):
    data = base()
    data["skus"][0]["id"] = "\x1b[2J" + "i" * 5000 + " "
    data["k" * 3000] = 1
    data["name"] = "n" * 4000
    msg = _message(write(data), overrides=["costs." + "p" * 2000 + "=1", "seed=" + "7" * 3000 + "x"])
    for ch in "iknp7":
        assert _longest_run(msg, ch) <= EXCERPT_CHARS, ch
    assert "\x1b" not in msg and "\\x1b[2J" in msg
    assert "(5,005 characters)" in msg


def test_yaml_syntax_error_quotes_no_long_content(write):
    text = dump(base()) + "bad: 'never closed " + "q" * 5000 + "\n"
    msg = _message(write(text))
    assert "YAML syntax error" in msg and _longest_run(msg, "q") <= EXCERPT_CHARS


def test_every_problem_escapes_control_characters(write):
    data = base()
    data["costs"]["order_cost"] = "ten\x07\x1b[31m"
    data["variants"] = {"v\x1b": {"seed": 1}}
    msg = _message(write(data), variants="v\x1b")
    assert not any(ord(c) < 32 and c != "\n" for c in msg), repr(msg)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_validate_cli_refuses_a_fifo_scenario_without_hanging(tmp_path, monkeypatch, capsys):
    from tradeoff.cli import main

    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    monkeypatch.setattr(sys, "argv", ["tradeoff", "validate", str(fifo)])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    assert "named pipe (FIFO), not a regular file" in capsys.readouterr().err
