"""Environment failures are one line: a full disk, a file size limit, permission denied on --out and
an unreachable Dask scheduler stop `run`, `audit`, `compare` and `batch` with exit status 1 and ONE
line on stderr naming what failed (the path or the scheduler address, and what the error means in
the engine's words), no traceback, nothing half-written, and an earlier complete result in --out
byte-identical afterwards.

Every command runs as a subprocess (`python -m tradeoff.cli`), so exit status and stderr are the
real ones. The earlier result is made once for the module by `tradeoff.run`; `compare` and `batch`
are given it (reused, unchanged) and a second scenario that has to run and write.

How each failure is made (real, not mocked, wherever the machine allows):
- Full disk: as root, --out is a small tmpfs mounted for the test, holding the earlier result and a
  filler file that leaves FREE_BYTES free (a real ENOSPC from the kernel). Where mounting is not
  allowed (not root, or a container without CAP_SYS_ADMIN), ENOSPC is injected instead at the
  write boundary of every process of the command: a `sitecustomize` on PYTHONPATH makes writes
  through `open()` under --out fail with ENOSPC once FREE_BYTES are used.
- File size limit: RLIMIT_FSIZE set in the child (preexec_fn) below the size of a result file; a
  write past it fails with EFBIG (SIGXFSZ is ignored, as the engine's entry point ensures).
- Permission denied: --out is made read-only (0555). Root ignores file modes, so as root the child
  drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from its capability bounding set
  before exec (prctl PR_CAPBSET_DROP): it stays uid 0, owner of everything it must read, but the
  modes of --out now apply to it.
- Unreachable scheduler: `--executor dask --scheduler tcp://127.0.0.1:<port>` on a port just bound
  and closed; the default timeout must give the line within 10 s.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from small_scenario import small_scenario  # tests/reliability/small_scenario.py

from scenarios.errors import ScenarioError
from tradeoff import environment
from tradeoff.environment import ResultNotWritten, SchedulerUnreachableError, describe
from tradeoff.pipeline import run

ROOT = Path(__file__).resolve().parents[2]
FREE_BYTES = 32 * 1024  # left free on the "full" disk: batch.csv fits, a result (~140 kB) does not
FILE_SIZE_LIMIT = 20 * 1024  # candidates.parquet and report.html are larger
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")  # batch's progress lines when stderr is no terminal


# --------------------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """A folder with small.yaml (3 SKUs), other.yaml (1 SKU) and out/small/, small's complete result."""
    base = tmp_path_factory.mktemp("earlier")
    (base / "small.yaml").write_text(small_scenario("small", 3), encoding="utf-8")
    (base / "other.yaml").write_text(small_scenario("other", 1), encoding="utf-8")
    run(base / "small.yaml", out=base / "out")
    return base


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _inputs(tmp_path: Path, earlier: Path) -> tuple[Path, Path]:
    for name in ("small.yaml", "other.yaml"):
        shutil.copy(earlier / name, tmp_path / name)
    return tmp_path / "small.yaml", tmp_path / "other.yaml"


def _place_earlier_result(earlier: Path, out: Path) -> dict[str, bytes]:
    shutil.copytree(earlier / "out" / "small", out / "small")
    return _files(out / "small")


def _command(kind: str, small: Path, other: Path, out: Path) -> list[str]:
    """`run`/`audit` re-run small (same folder); `compare`/`batch` reuse small and must run other."""
    if kind in ("run", "audit"):
        return [kind, str(small), "--out", str(out)]
    return [kind, str(small), str(other), "--out", str(out)]


def _cli(args: list[str], cwd: Path, env: dict | None = None, preexec_fn=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tradeoff.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, preexec_fn=preexec_fn, timeout=240)


def _one_error_line(done: subprocess.CompletedProcess, kind: str) -> str:
    """The command's single `error:` line, after checking exit 1, no traceback and no other output on
    stderr (batch may log its progress lines)."""
    assert done.returncode == 1, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr and not any(line.lstrip().startswith(("File \"", "│", "╭")) for line in lines), \
        done.stderr[-3000:]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    others = [line for line in lines if line not in errors and not (kind == "batch" and LOG_LINE.match(line))]
    assert others == [], done.stderr
    return errors[0]


def _assert_nothing_half_written(out: Path, before: dict[str, bytes]) -> None:
    after = _files(out / "small")
    assert after.keys() == before.keys()
    assert after["plan.csv"] == before["plan.csv"]  # byte-identical
    assert after == before
    assert not (out / "other").exists() or not any((out / "other").iterdir())
    assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp-")]  # no staging left behind


INJECT_ENOSPC = '''\
"""Test helper (tests/reliability/test_environment_failures.py): writes through open() under
$TRADEOFF_TEST_FULL_DISK fail with ENOSPC once $TRADEOFF_TEST_FREE_BYTES are used, in every process."""
import builtins, errno, os

_ROOT = os.environ.get("TRADEOFF_TEST_FULL_DISK")
if _ROOT:
    _ROOT = os.path.realpath(_ROOT)
    _FREE = [int(os.environ["TRADEOFF_TEST_FREE_BYTES"])]
    _open = builtins.open

    class _OnAFullDisk:
        def __init__(self, f):
            self._f = f

        def write(self, data):
            if len(data) > _FREE[0]:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            _FREE[0] -= len(data)
            return self._f.write(data)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self._f.__exit__(*exc)

        def __getattr__(self, name):
            return getattr(self._f, name)

    def open(file, mode="r", *args, **kwargs):
        f = _open(file, mode, *args, **kwargs)
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
            path = os.path.realpath(os.fsdecode(file))
            if path.startswith(_ROOT + os.sep):
                return _OnAFullDisk(f)
        return f

    builtins.open = open
'''


def _mount_tmpfs(path: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None or os.environ.get("TRADEOFF_TEST_NO_MOUNT"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(path)],
                          capture_output=True, text=True)
    return done.returncode == 0


def _fill(out: Path, free: int) -> None:
    """Fill the file system of `out` but for about `free` bytes (a real ENOSPC comes after them)."""
    filler = out / "filler.bin"
    chunk = b"\0" * 65536
    # Unbuffered: a buffered file keeps the bytes the full disk refused and raises ENOSPC again when
    # it closes (whether it does depends on how the earlier result's size falls against the chunks).
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - free))


@contextlib.contextmanager
def _nearly_full(out: Path, earlier: Path) -> Iterator[tuple[dict, dict[str, bytes]]]:
    """--out on a disk with FREE_BYTES left, holding the earlier result: (env for the child, its files)."""
    out.mkdir()
    mounted = _mount_tmpfs(out)
    try:
        before = _place_earlier_result(earlier, out)
        if mounted:
            _fill(out, FREE_BYTES)
            yield {}, before
        else:
            helper = out.parent / "inject_enospc"
            helper.mkdir()
            (helper / "sitecustomize.py").write_text(INJECT_ENOSPC, encoding="utf-8")
            path = os.pathsep.join([str(helper), *filter(None, [os.environ.get("PYTHONPATH")])])
            yield {"PYTHONPATH": path, "TRADEOFF_TEST_FULL_DISK": str(out),
                   "TRADEOFF_TEST_FREE_BYTES": str(FREE_BYTES)}, before
    finally:
        if mounted and subprocess.run(["umount", str(out)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(out)], capture_output=True)


COMMANDS = ["run", "audit", "compare", "batch"]


# --------------------------------------------------------------------------- the failures
@pytest.mark.parametrize("kind", COMMANDS)
def test_a_full_disk_is_one_line_exit_1_and_the_earlier_result_stays(tmp_path, earlier, kind):
    small, other = _inputs(tmp_path, earlier)
    out = tmp_path / "out"
    with _nearly_full(out, earlier) as (env, before):
        done = _cli(_command(kind, small, other, out), tmp_path, env)
        line = _one_error_line(done, kind)
        assert "no space left on the device" in line and "[ENOSPC]" in line, line
        assert str(out) in line or f"out{os.sep}" in line, line  # names where
        _assert_nothing_half_written(out, before)


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


@pytest.mark.parametrize("kind", ["run", "compare", "batch"])
def test_a_file_size_limit_is_one_line_exit_1_and_the_earlier_result_stays(tmp_path, earlier, kind):
    small, other = _inputs(tmp_path, earlier)
    out = tmp_path / "out"
    out.mkdir()
    before = _place_earlier_result(earlier, out)
    done = _cli(_command(kind, small, other, out), tmp_path, preexec_fn=_limit_file_size)
    assert done.returncode != -signal.SIGXFSZ, "killed by SIGXFSZ: the engine must ignore it"
    line = _one_error_line(done, kind)
    assert "file size limit" in line and "[EFBIG]" in line, line
    assert str(out) in line or f"out{os.sep}" in line, line
    _assert_nothing_half_written(out, before)


PR_CAPBSET_DROP = 24
FILE_PERMISSION_OVERRIDES = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER


def _obey_file_modes() -> None:
    """preexec_fn: as root, lose the capabilities that let root ignore file modes (kept across exec
    only if in the bounding set, so they are dropped from it)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in FILE_PERMISSION_OVERRIDES:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap})")


@pytest.mark.parametrize("kind", COMMANDS)
def test_permission_denied_on_out_is_one_line_exit_1_and_the_earlier_result_stays(tmp_path, earlier, kind):
    small, other = _inputs(tmp_path, earlier)
    out = tmp_path / "out"
    out.mkdir()
    before = _place_earlier_result(earlier, out)
    out.chmod(0o555)
    try:
        done = _cli(_command(kind, small, other, out), tmp_path, preexec_fn=_obey_file_modes)
    finally:
        out.chmod(0o755)
    line = _one_error_line(done, kind)
    assert "permission denied" in line and "[EACCES]" in line, line
    assert str(out) in line or line.startswith("error: out:"), line  # names --out itself
    _assert_nothing_half_written(out, before)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["run", "batch"])
def test_an_unreachable_scheduler_is_one_line_exit_1_within_10_s(tmp_path, earlier, kind):
    small, other = _inputs(tmp_path, earlier)
    out = tmp_path / "out"
    out.mkdir()
    before = _place_earlier_result(earlier, out)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    env = {environment.SCHEDULER_TIMEOUT_ENV: ""}  # the default timeout
    start = time.monotonic()
    done = _cli([*_command(kind, small, other, out), "--executor", "dask", "--scheduler", address], tmp_path, env)
    seconds = time.monotonic() - start
    line = _one_error_line(done, kind)
    assert f"cannot reach the Dask scheduler at {address}" in line, line
    assert seconds < 10, f"{seconds:.1f} s"
    after = _files(out / "small")
    assert after == before


# --------------------------------------------------------------------------- the mapping itself
def test_environment_failures_are_recognised_by_type_and_errno_not_by_wording():
    full = OSError(errno.ENOSPC, "whatever the library says")
    assert describe(full) == "no space left on the device (the disk is full) [ENOSPC]"
    assert describe(PermissionError(errno.EACCES, "x", "/r/out")) == "/r/out: permission denied for this user [EACCES]"
    assert describe(OSError(errno.EFBIG, "x", "/r/out/.tmp-s-1-ab12cd34/plan.csv")).startswith("/r/out: a file would")
    written = ResultNotWritten.from_error("/r/out/s", OSError(errno.ENOSPC, "disk full"))
    assert isinstance(written, OSError) and written.errno == errno.ENOSPC
    assert describe(written).startswith("the result could not be written to /r/out/s: no space left")
    wrapped = RuntimeError("a library's own error")
    wrapped.__cause__ = OSError(errno.EROFS, "x")
    assert describe(wrapped) == "the file system is read-only [EROFS]"
    for bug in (ValueError("no"), OSError("no errno"), FileNotFoundError(errno.ENOENT, "x", "f"), KeyError("k")):
        assert describe(bug) is None  # a bug keeps its traceback
    assert "within 3 s" in describe(SchedulerUnreachableError("tcp://h:1", 3.0))


def test_an_unreachable_scheduler_is_named_within_its_timeout(monkeypatch):
    from tradeoff.executors import get_executor

    address = f"tcp://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv(environment.SCHEDULER_TIMEOUT_ENV, "0.5")
    start = time.monotonic()
    with pytest.raises(SchedulerUnreachableError) as caught:
        get_executor("dask", 1, address)
    assert time.monotonic() - start < 5
    assert caught.value.address == address and caught.value.timeout == 0.5
    assert not isinstance(caught.value, OSError)  # never mistaken for another OSError on the way up
    monkeypatch.setenv(environment.SCHEDULER_TIMEOUT_ENV, "soon")
    with pytest.raises(ScenarioError, match=environment.SCHEDULER_TIMEOUT_ENV):
        get_executor("dask", 1, address)
    monkeypatch.delenv(environment.SCHEDULER_TIMEOUT_ENV)
    with pytest.raises(ScenarioError, match="--scheduler"):
        get_executor("dask", 1, "nonsense://here")
