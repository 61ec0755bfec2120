"""Issue 17: the same code everywhere. Before any work a Dask run compares every worker with the
machine that started it (tradeoff.fingerprint: the engine's source, Python and the stack) and the
scheduler's Dask stack with its own; a worker that differs is refused with one line naming it and
what differs (exit 1), never a silently different plan. Every task also checks its worker, so a
worker that joins later with other code refuses the work too.

The real case: a `dask worker` process started with another TRADEOFF_FINGERPRINT_SALT (other engine
code, as far as the fingerprint can tell) on a real scheduler (tests/cluster/real_cluster.py).
"""

from __future__ import annotations

import pickle

import pytest
from real_cluster import RealCluster, nothing_written, one_error_line, run, scenario_text, write

from tradeoff import executors
from tradeoff.environment import ClusterMismatchError, describe
from tradeoff.fingerprint import Signature, differences, signature, source_digest

COMMANDS = ("run",)


def square(x: int) -> int:
    return x * x


def test_a_worker_running_other_code_is_refused_by_name(tmp_path):
    path = write(tmp_path, "mid.yaml", scenario_text("mid", 3, periods=40, replications=2))
    salted = {1: {"TRADEOFF_FINGERPRINT_SALT": "previous commit"}}
    with RealCluster(tmp_path / "cluster", workers=2, worker_env=salted) as cluster:
        other = cluster.worker_addresses[1]
        for name in COMMANDS:
            out = tmp_path / f"out-{name}"
            rc, _, stderr = run([name, path, "--out", out, "--executor", "dask", "--scheduler", cluster.address],
                                tmp_path)
            line = one_error_line(rc, stderr, cluster)
            assert line.startswith(f"error: worker {other} runs other code: engine fingerprint "), line
            assert "(here " in line and cluster.worker_addresses[0] not in line, line
            nothing_written(out)


def test_a_task_on_a_worker_with_other_code_refuses_to_run(monkeypatch):
    ours = signature()
    monkeypatch.setattr(executors, "_this_worker", lambda: "tcp://10.0.0.7:40123")
    assert executors._Checked(square, ours.as_dict())(3) == 9
    client = Signature(source_digest(salt="the client's commit"), ours.versions)
    with pytest.raises(ClusterMismatchError) as caught:
        executors._Checked(square, client.as_dict())(3)
    line = describe(caught.value)
    assert line == (f"worker tcp://10.0.0.7:40123 runs other code: {differences(ours, client)[0]}; refused, nothing "
                    "computed there (every machine needs the same engine and libraries: compare `tradeoff version` on "
                    "each)")
    # it travels back from the worker as it is (Dask pickles a task's exception)
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is ClusterMismatchError and str(again) == str(caught.value)


def test_other_library_versions_are_named_as_such():
    ours = signature()
    older = Signature(ours.source, tuple((n, "2.3.1" if n == "numpy" else v) for n, v in ours.versions))
    error = ClusterMismatchError("worker tcp://h:1", differences(older, ours), others=2,
                                 other_addresses=("tcp://h:2", "tcp://h:3"))
    assert str(error).startswith(f"worker tcp://h:1 runs other library versions: numpy 2.3.1 (here "
                                 f"{dict(ours.versions)['numpy']}); 2 more workers differ (tcp://h:2, tcp://h:3)")
