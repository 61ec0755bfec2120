"""Print how long `scenarios.load` takes on benchmark catalogues (SKUs from CSV and inline YAML).

    python scenarios/bench/time_load.py [--n 1000 20000]

Generates the scenarios in a temporary folder (make_bench.py), loads each three times and prints
the best wall time, so the figure measures the loader rather than a cold disk cache.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_bench import write_bench  # noqa: E402

import scenarios  # noqa: E402
from scenarios.hashing import content_hash  # noqa: E402


def _best(path: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        s = scenarios.load(path)
        content_hash(s)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 20000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            yaml_path, _ = write_bench(n, os.path.join(tmp, f"bench_{n}.yaml"))
            t_csv = _best(yaml_path)
            inline = scenarios.load(yaml_path).model_dump(mode="json", by_alias=True, exclude_none=True)
            inline_path = os.path.join(tmp, f"inline_{n}.yaml")
            with open(inline_path, "w", encoding="utf-8") as fh:
                yaml.safe_dump(inline, fh, sort_keys=False)
            t_inline = _best(inline_path)
            size = os.path.getsize(inline_path) / 1e6
            print(f"{n:>6} SKUs: load+hash from CSV {t_csv:6.2f} s; inline YAML ({size:.1f} MB) {t_inline:6.2f} s")


if __name__ == "__main__":
    main()
