"""The command-line options `run` and `audit` share (and `validate` its --set and --variant): one
definition each, so the commands cannot drift apart in names, defaults or help."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

Out = Annotated[Path, typer.Option("--out", help="Results go to OUT/<scenario name>[+variant]/.")]
Sets = Annotated[Optional[List[str]], typer.Option("--set", help="PATH=VALUE override (YAML value), repeatable.")]
Variant = Annotated[Optional[str], typer.Option("--variant", help="Named variants to apply: NAME[,NAME].")]
TARGET_FLAG, TIME_LIMIT_FLAG, MIP_GAP_FLAG = "--target", "--time-limit", "--mip-gap"  # named in errors ("set by --target")
Target = Annotated[Optional[float], typer.Option(TARGET_FLAG, help="Aggregate service target (overrides service.target).")]
Engine = Annotated[str, typer.Option("--engine", help="Simulation engine: kernel or simpy.")]
Jobs = Annotated[int, typer.Option("--jobs", help="Worker processes for the simulation.")]
Executor = Annotated[str, typer.Option("--executor", help="local or dask.")]
Scheduler = Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786).")]
TimeLimit = Annotated[Optional[float], typer.Option(TIME_LIMIT_FLAG, help="Solver time limit, seconds (overrides solver.time_limit).")]
MipGap = Annotated[Optional[float], typer.Option(MIP_GAP_FLAG, help="Relative MIP gap (overrides solver.mip_gap).")]
