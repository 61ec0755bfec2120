"""What the --before benchmarks share: the code of another git revision exported beside this one,
a fresh child process per measurement run on the code of either side, and the two sides alternated
repeat by repeat (both then see the same machine load). Used by load_scenario.py and report_write.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def export(rev: str, into: Path) -> Path:
    """The tracked files of git revision `rev` unpacked into `into` (the repository is left as it is)."""
    archive = into / "code.tar"
    with open(archive, "wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "code", filter="data")
    return into / "code"


def child_figures(code_dir: Path, child: str, args: list[str], numba_cache: str) -> dict:
    """Run the script `child` in a fresh process on the code in `code_dir` (its working folder and
    PYTHONPATH; NUMBA_CACHE_DIR from the environment, else `numba_cache`) and return the JSON object
    on its last line of output. The child reports the file of the package it imported as `code`:
    RuntimeError when that is not inside `code_dir` (the editable install won)."""
    env = {**os.environ, "PYTHONPATH": str(code_dir),
           "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", numba_cache)}
    out = subprocess.run([sys.executable, "-c", child, *args], cwd=code_dir, env=env, check=True,
                         capture_output=True, text=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(found["code"]).resolve().is_relative_to(code_dir.resolve()):
        raise RuntimeError(f"measured {found['code']}, not the code in {code_dir}")
    return found


def alternated(before: str | None, tmp: Path, repeats: int, measure: Callable[[Path], dict]) -> dict[str, list[dict]]:
    """`measure(code_dir)` `repeats` times for this code (label ""), or, with a revision `before`,
    for that revision's code (label "_before", exported into `tmp`) and this code ("_after")
    alternately."""
    sides = {"": ROOT} if not before else {"_before": export(before, tmp), "_after": ROOT}
    runs: dict[str, list[dict]] = {label: [] for label in sides}
    for _ in range(repeats):
        for label, code_dir in sides.items():
            runs[label].append(measure(code_dir))
    return runs
