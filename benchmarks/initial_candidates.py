"""CPU time of `optimizer.initial_candidates` on the 1,000-SKU bench scenario.

Loads scenarios/bench/bench_1000.yaml (scenarios.loader.load) and times one call of
`initial_candidates` with time.process_time around the call only (imports and loading outside), --repeats
times in a fresh subprocess each (so that no lru_cache of an earlier call helps a later one); prints the median:

    initial_candidates_cpu_seconds <median> (min .. max, repeats=N, skus=1000, rows=<n>)
    first_call_with_import_cpu_seconds <median> (min .. max, repeats=N)

The second figure is the CPU time of `import optimizer.candidates` plus the first call (a run's first
chunk pays both), in the same fresh subprocesses; the loader's own imports (pandas, pydantic, ...) are
made before it, since every run pays them anyway.

--before <git rev> also measures that revision (a git worktree in a temporary directory, subprocesses
with PYTHONPATH set to it), alternating before / after runs so that machine load hits both alike,
and checks that both tables are identical (pandas.testing.assert_frame_equal, dtypes and order
included): prints `identical_tables yes/no` and the before figures.

    .venv/bin/python benchmarks/initial_candidates.py
    .venv/bin/python benchmarks/initial_candidates.py --before HEAD~1 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_YAML = ROOT / "scenarios/bench/bench_1000.yaml"

# Runs in the subprocess: loads the scenario (imports made first), then times the import of
# optimizer.candidates with the first call, and the call alone.
_CHILD = r"""
import pickle, sys, time
from scenarios.loader import load
import pandas
sc = load(sys.argv[1])
t0 = time.process_time()
from optimizer.candidates import initial_candidates
t1 = time.process_time()
table = initial_candidates(sc)
t2 = time.process_time()
with open(sys.argv[2], "wb") as f:
    pickle.dump({"call": t2 - t1, "first": t2 - t0, "skus": len(sc.skus), "table": table}, f)
"""


def measure(code_root: Path, out: Path) -> dict:
    """One fresh-process measurement with `code_root` first on the path; the child's pickled result."""
    env = dict(os.environ, PYTHONPATH=str(code_root))
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nc_bench_initial_candidates")
    subprocess.run([sys.executable, "-c", _CHILD, str(BENCH_YAML), str(out)], check=True, cwd=code_root, env=env)
    with open(out, "rb") as f:
        return pickle.load(f)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f} .. {max(values):.3f}, repeats={len(values)}"


def report(label: str, runs: list[dict]) -> None:
    calls, firsts = [r["call"] for r in runs], [r["first"] for r in runs]
    print(f"{label}initial_candidates_cpu_seconds {summary(calls)}, skus={runs[0]['skus']}, rows={len(runs[0]['table'])})")
    print(f"{label}first_call_with_import_cpu_seconds {summary(firsts)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--before", help="git revision to compare with (measured in a temporary worktree)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        roots = {"after": ROOT}
        if args.before:
            roots["before"] = tmp / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(roots["before"]), args.before],
                           check=True)
        try:
            # one untimed warm-up each: numba's on-disk cache and the OS file cache are filled first
            for name, root in roots.items():
                measure(root, tmp / "warm.pkl")
            runs: dict[str, list[dict]] = {name: [] for name in roots}
            for i in range(args.repeats):
                for name, root in roots.items():  # alternating, so load on the machine hits both alike
                    runs[name].append(measure(root, tmp / f"{name}{i}.pkl"))
        finally:
            if args.before:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(roots["before"])], check=True)
    report("", runs["after"])
    if args.before:
        import pandas.testing

        report("before_", runs["before"])
        try:
            pandas.testing.assert_frame_equal(runs["before"][0]["table"], runs["after"][0]["table"])
            same = True
        except AssertionError as e:
            print(e, file=sys.stderr)
            same = False
        print(f"identical_tables {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
