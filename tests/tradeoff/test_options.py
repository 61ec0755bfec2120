"""Run options are one pydantic model (tradeoff.options.RunOptions) with Literal choices, used by
`tradeoff run` and `tradeoff batch`; a bad option is the engine's ScenarioError naming the flag in
the engine's words, never pydantic's."""

from __future__ import annotations

from typing import get_args

import pytest

from scenarios.errors import ScenarioError
from tradeoff.batch import check_options
from tradeoff.executors import KINDS
from tradeoff.options import Engine, Executor, RunOptions
from tradeoff.pipeline import _check_options

PYDANTIC_WORDS = ("validation error", "Input should", "pydantic", "type=", "errors.pydantic.dev", "Value error")


def message(**options) -> str:
    with pytest.raises(ScenarioError) as info:
        RunOptions.checked(**options)
    text = str(info.value)
    assert not any(w in text for w in PYDANTIC_WORDS), text
    return text


def test_good_options_and_defaults():
    assert RunOptions.checked() == RunOptions(engine="kernel", jobs=1, executor="local", scheduler=None)
    o = RunOptions.checked(engine="simpy", jobs=4, executor="dask", scheduler="tcp://h:8786")
    assert (o.engine, o.jobs, o.executor, o.scheduler) == ("simpy", 4, "dask", "tcp://h:8786")
    assert get_args(Executor) == KINDS and get_args(Engine) == ("kernel", "simpy")


@pytest.mark.parametrize("options, expected", [
    ({"jobs": 0}, "--jobs: 0 is not a whole number >= 1"),
    ({"jobs": -3}, "--jobs: -3 is not a whole number >= 1"),
    ({"jobs": 2.5}, "--jobs: 2.5 is not a whole number >= 1"),
    ({"jobs": "2"}, "--jobs: '2' is not a whole number >= 1"),
    ({"jobs": True}, "--jobs: True is not a whole number >= 1"),
    ({"engine": "fast"}, "--engine: 'fast' is not one of kernel, simpy"),
    ({"executor": "ray"}, "--executor: 'ray' is not one of local, dask"),
    ({"scheduler": "tcp://h:1"}, "--scheduler: 'tcp://h:1' applies to --executor dask only"),
    ({"executor": "dask", "scheduler": 8786}, "--scheduler: 8786 is not a scheduler address"),
])
def test_each_bad_option_in_the_engines_words(options, expected):
    assert message(**options).startswith(expected)


def test_every_bad_flag_is_reported_once():
    text = message(engine="fast", jobs=0, executor="ray", scheduler="tcp://h:1")
    assert text.splitlines() == ["--engine: 'fast' is not one of kernel, simpy", "--jobs: 0 is not a whole number >= 1",
                                 "--executor: 'ray' is not one of local, dask",
                                 "--scheduler: 'tcp://h:1' applies to --executor dask only"]


def test_run_and_batch_check_through_the_model():
    for check in (lambda: _check_options("kernel", 0, "local", None), lambda: check_options(0, "local", None, "kernel")):
        with pytest.raises(ScenarioError, match=r"--jobs: 0 is not a whole number >= 1"):
            check()
    _check_options("simpy", 2, "dask", "tcp://h:1")
    check_options(2, "dask", None, "kernel")


def test_options_are_frozen():
    o = RunOptions.checked(jobs=2)
    with pytest.raises(Exception):
        o.jobs = 3  # type: ignore[misc]
