"""The result of one run: the tables of docs/outputs.md plus the scenario and summary they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios.schema import Scenario


@dataclass
class Result:
    """Everything `tradeoff run` produces.

    plan: one row per SKU (plan.csv columns, out-of-sample figures, money per period);
    frontier: one row per service level (frontier.csv columns);
    candidates: every candidate simulated with its metrics and costs (candidates.parquet);
    audit: current vs recommended per SKU (audit.csv columns) or None when not audited;
    summary: the content of summary.json (totals, aggregated metrics, solver status, timings,
    scenario_hash, seed, versions); out_dir: the folder the files were written to, or None.
    """

    scenario: Scenario
    plan: pd.DataFrame
    frontier: pd.DataFrame
    candidates: pd.DataFrame
    summary: dict[str, Any]
    audit: pd.DataFrame | None = None
    out_dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)
