"""Solver faults: a missing or crashing HiGHS is a clear error and loses nothing; a solve stopped
early returns its incumbent with an honest gap; a stop without any incumbent is reported.

The faults are injected from the test (no optimizer file is changed): HiGHS's availability check
and its `solve` are replaced on pyomo's `Highs` class, and `optimizer.solver.run` (the one call that
starts HiGHS for every model the optimizer builds) is wrapped to pass HiGHS a solution limit.
Infeasible rules (exit 3 with the best achievable level) are tested in tests/tradeoff/test_run.py
and tests/optimizer/test_select.py.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from pyomo.contrib.solver.common.base import Availability
from pyomo.contrib.solver.solvers.highs import Highs

import optimizer
from optimizer.errors import SolverUnavailableError
from optimizer.plan import SolveStatus
from small_scenario import small_scenario  # tests/reliability/small_scenario.py
from tradeoff.pipeline import run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "optimizer"))
import synthetic  # noqa: E402  (tests/optimizer/synthetic.py: evaluations without simulating)

SOLVER = sys.modules["optimizer.solver"]  # the module (optimizer exports a function named like some modules)

SMALL = small_scenario("small", 2)


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A scenario and an --out folder holding its complete earlier result (name -> bytes)."""
    root = tmp_path_factory.mktemp("solver")
    path = root / "small.yaml"
    path.write_text(SMALL)
    out = root / "out"
    run(path, out=out)
    return path, out, snapshot(out)


def snapshot(out) -> dict:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_missing_solver_is_a_clear_error_and_the_earlier_result_stays(previous, monkeypatch):
    path, out, before = previous
    monkeypatch.setattr(Highs, "available", lambda self, *a, **k: Availability.NotFound)
    with pytest.raises(SolverUnavailableError) as info:
        run(path, out=out)
    assert "HiGHS is not available" in str(info.value) and "highspy" in str(info.value)
    assert snapshot(out) == before  # nothing written, nothing removed, no staging folder left


def test_missing_solver_on_the_command_line_is_one_clear_line_exit_1(previous, monkeypatch, capsys):
    """`tradeoff run` / `tradeoff audit` without HiGHS: one line naming the solver and the fix,
    exit status 1 (an environment failure), no traceback, nothing written."""
    from tradeoff.cli import main

    path, out, before = previous
    monkeypatch.setattr(Highs, "available", lambda self, *a, **k: Availability.NotFound)
    for command in ("run", "audit"):
        monkeypatch.setattr(sys, "argv", ["tradeoff", command, str(path), "--out", str(out)])
        with pytest.raises(SystemExit) as info:
            main()
        assert info.value.code == 1
        err = capsys.readouterr().err
        assert "the MILP solver HiGHS is not available" in err and "highspy" in err
        assert len(err.strip().splitlines()) == 1
        assert "Traceback" not in err
    assert snapshot(out) == before


@pytest.mark.parametrize("crash_at", [1, 2])
def test_solver_crash_propagates_and_loses_nothing(previous, monkeypatch, crash_at):
    """HiGHS dying on the first solve, or later (in refinement or the frontier sweep): the run stops
    with the solver's own error (never a plan from a half-finished solve) and --out is untouched."""
    path, out, before = previous
    real = Highs.solve
    calls = []

    def crashing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) >= crash_at:
            raise OSError("HiGHS crashed: segmentation fault")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Highs, "solve", crashing)
    with pytest.raises(OSError, match="HiGHS crashed"):
        run(path, out=out)
    assert len(calls) == crash_at
    assert snapshot(out) == before


def _stop_at_first_incumbent(monkeypatch):
    """Make every MILP stop at its first feasible solution (HiGHS `mip_max_improving_sols` = 1): a
    deterministic stand-in for a time limit that strikes after the first incumbent."""
    def run_limited(solver, model, options, mip=True):
        kw = dict(tee=False, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                  time_limit=max(options.time_limit, 1e-3))
        if mip:
            kw.update(rel_gap=options.mip_gap, solver_options={"mip_max_improving_sols": 1})
        results = solver.solve(model, **kw)
        return SOLVER.status_of(results), results

    monkeypatch.setattr(SOLVER, "run", run_limited)


@pytest.fixture(scope="module")
def big():
    """A selection HiGHS cannot finish at once: 300 SKUs x 30 candidates, aggregate target 0.95,
    and its proven optimum (mip_gap 0)."""
    sc = synthetic.scenario(300, service={"target": 0.95})
    ev = synthetic.evaluations(sc, 30)
    best = optimizer.select(sc, ev, mip_gap=0.0, method="milp")
    assert best.status == SolveStatus.optimal
    return sc, ev, best


def assert_honest_incumbent(plan, best, target):
    """An early-stopped plan: feasible (meets the target), its cost is no better than the proven
    optimum, its bound no better than the optimum, and gap = (cost - bound) / cost."""
    assert plan.achieved >= target - 1e-9
    assert plan.objective >= best.objective - 1e-6 * abs(best.objective)
    assert plan.bound <= best.objective + 1e-6 * abs(best.objective)
    assert plan.gap == pytest.approx((plan.objective - plan.bound) / abs(plan.objective), rel=1e-9, abs=1e-12)
    assert len(plan.choice) == 300 and plan.choice["sku"].is_unique


def test_stopped_early_returns_the_incumbent_with_its_gap(big, monkeypatch):
    sc, ev, best = big
    _stop_at_first_incumbent(monkeypatch)
    plan = optimizer.select(sc, ev, mip_gap=0.0, method="milp")
    assert plan.status == SolveStatus.time_limit
    assert plan.gap > 0  # the first incumbent is not optimal here, and says so
    assert_honest_incumbent(plan, best, 0.95)


def test_a_real_time_limit_returns_an_incumbent_or_the_optimum(big):
    """Wall-clock limits growing from 0.2 s: the first solve that returns a plan is either stopped
    by the limit (status time_limit, honest gap) or proven optimal (the optimum's cost). A limit too
    short for any incumbent ends in an error (see the test below), never in a plan."""
    sc, ev, best = big
    for limit in (0.2, 0.4, 0.8, 1.6, 3.2, 6.4):
        try:
            plan = optimizer.select(sc, ev, mip_gap=0.0, method="milp", time_limit=limit)
        except RuntimeError:
            continue
        break
    else:
        pytest.fail("no plan even with 6.4 s")
    if plan.status == SolveStatus.time_limit:
        assert_honest_incumbent(plan, best, 0.95)
    else:
        assert plan.status == SolveStatus.optimal
        assert plan.objective == pytest.approx(best.objective, rel=1e-9)


def test_stopped_early_reaches_summary_json(tmp_path, monkeypatch):
    """Through `tradeoff.run`: the status and gap of the final selection are what summary.json says."""
    _stop_at_first_incumbent(monkeypatch)
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    result = run(path, out=tmp_path / "out", target=0.95)
    selection = result.extras["selection"]
    solver = result.summary["solver"]
    assert solver["status"] == selection.status.value
    assert solver["gap"] == pytest.approx(selection.gap, abs=0)
    assert np.isfinite(solver["gap"]) and solver["gap"] >= 0


def test_time_limit_without_any_incumbent_names_the_limit(big):
    """A limit too short for any plan: a SolverTimeLimitError that names solver.time_limit and
    --time-limit, the value, and the fix (raise it); a ScenarioError, so the command line exits 2."""
    from optimizer.errors import SolverTimeLimitError
    from scenarios.errors import ScenarioError

    sc, ev, _ = big
    with pytest.raises(SolverTimeLimitError) as info:
        optimizer.select(sc, ev, mip_gap=0.0, method="milp", time_limit=0.001)
    msg = str(info.value)
    assert "solver.time_limit" in msg and "--time-limit" in msg and "0.001" in msg and "raise" in msg
    assert isinstance(info.value, ScenarioError) and isinstance(info.value, RuntimeError)
    assert info.value.time_limit == 0.001
