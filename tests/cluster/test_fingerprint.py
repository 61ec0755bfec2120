"""The engine fingerprint and `tradeoff version` (issue 17): what two machines compare before they
share work. The fingerprint covers every source file and report template of the engine and the
versions of Python and the stack; one byte of source, one version or the test salt changes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradeoff import fingerprint
from tradeoff.fingerprint import LIBRARIES, SALT_ENV, Signature, differences, signature, source_digest, source_files

ROOT = Path(__file__).resolve().parents[2]


def test_the_fingerprint_covers_the_engine_source_and_templates_only():
    names = [relative for relative, _ in source_files()]
    assert names == sorted(names)
    for expected in ("tradeoff/cli.py", "tradeoff/executors.py", "optimizer/__init__.py", "simulation/kernel.py",
                     "scenarios/loader.py", "tradeoff/report/templates/report.html.j2"):
        assert expected in names
    on_disk = {p.relative_to(ROOT).as_posix() for package in fingerprint.PACKAGES for p in (ROOT / package).rglob("*.py")
               if "__pycache__" not in p.parts}
    assert on_disk <= set(names)
    assert not [n for n in names if not n.endswith((".py", ".j2"))]  # no example scenarios, CSVs, caches


def test_one_byte_of_source_changes_it(tmp_path, monkeypatch):
    files = []
    for name in ("tradeoff/a.py", "optimizer/b.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x = 1\n")
        files.append((name, path))
    monkeypatch.setattr(fingerprint, "source_files", lambda: files)
    before = source_digest(salt="")
    assert source_digest(salt="") == before  # the same bytes, the same digest
    files[1][1].write_bytes(b"x = 2\n")
    assert source_digest(salt="") != before
    files[1][1].write_bytes(b"x = 1\n")
    assert source_digest(salt="") == before
    assert source_digest(salt="other") != before  # the test salt makes a process look like other code


def test_the_salt_and_every_version_change_the_fingerprint():
    ours = signature()
    assert len(ours.fingerprint) == 64 and ours.fingerprint == signature().fingerprint
    assert [name for name, _ in ours.versions] == ["python", *LIBRARIES]
    salted = Signature(source_digest(salt="x"), ours.versions)
    assert salted.fingerprint != ours.fingerprint
    assert differences(salted, ours) == [f"engine fingerprint {salted.fingerprint[:12]} (here {ours.fingerprint[:12]})"]
    older = Signature(ours.source, tuple((n, "1.0" if n == "numpy" else v) for n, v in ours.versions))
    assert older.fingerprint != ours.fingerprint
    assert differences(older, ours) == [f"numpy 1.0 (here {dict(ours.versions)['numpy']})"]
    assert differences(ours, ours) == []
    assert Signature.from_dict(ours.as_dict()) == ours


def test_tradeoff_version_prints_the_fingerprint_and_the_stack():
    env = {k: v for k, v in os.environ.items() if k != SALT_ENV}
    done = subprocess.run([sys.executable, "-m", "tradeoff.cli", "version"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("tradeoff ")
    assert lines[1] == f"fingerprint {signature().fingerprint}"
    assert [line.split(" ", 1)[0] for line in lines[2:]] == ["python", *LIBRARIES]
    salted = subprocess.run([sys.executable, "-m", "tradeoff.cli", "version"], capture_output=True, text=True,
                            env={**env, SALT_ENV: "test"}, cwd=ROOT, timeout=60)
    assert salted.stdout.splitlines()[1] != lines[1] and salted.stdout.splitlines()[2:] == lines[2:]


@pytest.mark.parametrize("name", ["python", "numpy", "dask", "distributed", "cloudpickle", "msgpack", "numba"])
def test_the_stack_issue_17_names_is_in_it(name):
    assert name in dict(signature().versions)
