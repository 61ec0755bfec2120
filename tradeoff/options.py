"""How a run (or a batch) is executed, as one validated model: the simulation engine, the number of
jobs, the executor and the Dask scheduler. Checked once, before any work, by tradeoff.pipeline.run
and tradeoff.batch.run_batch.

A bad option is the user's mistake, so it is the engine's own ScenarioError (exit 2) with one
Problem per flag in the engine's words (`--jobs: 0 is not a whole number >= 1`): pydantic's
ValidationError is mapped by the field it names and its error type, and pydantic's own wording never
reaches the user.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, ValidationInfo, field_validator

Engine = Literal["kernel", "simpy"]
Executor = Literal["local", "dask"]

_SCHEDULER_NEEDS_DASK = "scheduler_needs_dask"


class RunOptions(BaseModel):
    """The execution options of `tradeoff run` / `tradeoff batch` (none of them changes a number)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: Engine = "kernel"
    """The simulation engine: "kernel" (fast, the default) or "simpy" (the reference); same numbers."""

    jobs: StrictInt = Field(1, ge=1)
    """Worker processes (run: simulation chunks in parallel; batch: scenarios at once); a whole number >= 1."""

    executor: Executor = "local"
    """Where the work runs: "local" (a process pool on this machine) or "dask" (a Dask cluster)."""

    scheduler: StrictStr | None = None
    """A Dask scheduler address (tcp://host:8786); only with executor "dask" (None: a local cluster)."""

    @field_validator("scheduler")
    @classmethod
    def _scheduler_needs_dask(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Checked here rather than after the model, so that a bad executor and a scheduler given
        # with it are both reported (executor is then absent from info.data).
        if value is not None and info.data.get("executor") != "dask":
            raise ValueError(_SCHEDULER_NEEDS_DASK)
        return value

    @classmethod
    def checked(cls, **options: Any) -> RunOptions:
        """The options as a RunOptions; raises scenarios.errors.ScenarioError with one Problem per
        bad flag (`--engine`, `--jobs`, `--executor`, `--scheduler`), in the engine's words."""
        try:
            return cls(**options)
        except ValidationError as exc:
            from scenarios.errors import ScenarioError

            raise ScenarioError(problems(exc, options)) from None


_RULES = {
    "engine": f"is not one of {', '.join(get_args(Engine))}",
    "jobs": "is not a whole number >= 1",
    "executor": f"is not one of {', '.join(get_args(Executor))}",
    "scheduler": "is not a scheduler address (text such as tcp://host:8786)",
}


def _rule(field: str, error: dict) -> str:
    if field == "scheduler" and error.get("type") == "value_error" and _SCHEDULER_NEEDS_DASK in str(error.get("msg", "")):
        return "applies to --executor dask only"
    return _RULES.get(field, "is not a valid option")


def problems(exc: ValidationError, given: dict[str, Any]) -> list:
    """The engine's Problems for a RunOptions ValidationError: one per flag (the first error of each
    field), naming the flag and quoting the value given, never pydantic's message."""
    from scenarios.errors import Problem

    out, seen = [], set()
    for error in exc.errors():
        loc = error.get("loc") or ("options",)
        field = str(loc[0])
        if field in seen:
            continue
        seen.add(field)
        flag = f"--{field}"
        if field in given:
            out.append(Problem(flag, "", _rule(field, error), given[field], True))
        else:
            out.append(Problem(flag, "", _rule(field, error)))
    return out
