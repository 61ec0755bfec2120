"""What code and environment this process runs, so that two machines (or a client and a Dask
worker) can be compared before any work is shared between them.

- The **engine fingerprint**: a SHA-256 over the engine's own source (every `.py` file and report
  template of the packages tradeoff, optimizer, simulation and scenarios, sorted by their path
  relative to the packages' folder, each with its path and content bytes) and over the versions of
  Python and of the libraries a plan depends on (LIBRARIES). Two processes with the same
  fingerprint compute the same plans from the same scenario; a worker with a different one would
  not (issue 17: a worker on the previous commit changed a plan without a word).
- `TRADEOFF_FINGERPRINT_SALT` (for tests): when set, its text is hashed with the source, so a
  process started with it looks like one running other code.

`signature()` is cached per process (the source is read once, a few milliseconds);
`differences(theirs, ours)` names what differs, in the engine's words.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import platform
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LIBRARIES", "PACKAGES", "SALT_ENV", "Signature", "differences", "signature", "source_files"]

PACKAGES = ("tradeoff", "optimizer", "simulation", "scenarios")
# The libraries whose version can change a plan or how work travels to a worker and back.
LIBRARIES = ("numpy", "pandas", "numba", "pyomo", "highspy", "scipy", "pydantic", "simpy", "dask", "distributed",
             "cloudpickle", "msgpack", "pyarrow")
TEMPLATE_SUFFIXES = (".j2",)  # the report templates (tradeoff/report/templates)
SALT_ENV = "TRADEOFF_FINGERPRINT_SALT"


@dataclass(frozen=True)
class Signature:
    """This process's code and environment: `source` (SHA-256 of the engine's source and the salt),
    `versions` ((name, version) for Python and each of LIBRARIES) and `fingerprint` (SHA-256 of
    both), each a hex string."""

    source: str
    versions: tuple[tuple[str, str], ...]

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.source.encode("ascii"))
        for name, version in self.versions:
            digest.update(f"\0{name}\0{version}".encode())
        return digest.hexdigest()

    def as_dict(self) -> dict:
        """Plain data (sent back from a worker by `client.run`)."""
        return {"source": self.source, "versions": [list(v) for v in self.versions]}

    @classmethod
    def from_dict(cls, data: dict) -> Signature:
        return cls(str(data["source"]), tuple((str(n), str(v)) for n, v in data["versions"]))


def _package_root(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def source_files() -> list[tuple[str, Path]]:
    """(relative path, path) of every file the engine fingerprint covers, sorted by relative path:
    the `.py` files and report templates of PACKAGES (data such as example scenarios excluded)."""
    files: list[tuple[str, Path]] = []
    for package in PACKAGES:
        root = _package_root(package)
        if root is None:
            continue
        for path in root.rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix == ".py" or path.suffix in TEMPLATE_SUFFIXES:
                files.append(((Path(package) / path.relative_to(root)).as_posix(), path))
    return sorted(files)


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def versions() -> tuple[tuple[str, str], ...]:
    """(name, version) of Python and each of LIBRARIES ("not installed" for a missing one)."""
    return (("python", f"{platform.python_implementation()} {platform.python_version()}"),
            *((name, _version(name)) for name in LIBRARIES))


def source_digest(salt: str | None = None) -> str:
    """SHA-256 (hex) of the engine's source files (relative path and content of each) and `salt`
    (default: $TRADEOFF_FINGERPRINT_SALT)."""
    digest = hashlib.sha256()
    for relative, path in source_files():
        content = path.read_bytes()
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    salt = os.environ.get(SALT_ENV, "") if salt is None else salt
    if salt:
        digest.update(f"\0salt\0{salt}".encode())
    return digest.hexdigest()


@functools.cache
def _signature(salt: str) -> Signature:
    return Signature(source_digest(salt), versions())


def signature() -> Signature:
    """This process's Signature (computed once per process and salt)."""
    return _signature(os.environ.get(SALT_ENV, ""))


def signature_data() -> dict:
    """`signature().as_dict()`: what a Dask worker sends back for the comparison (client.run)."""
    return signature().as_dict()


def differences(theirs: Signature, ours: Signature) -> list[str]:
    """What differs, one phrase each: "engine fingerprint 1a2b3c4d5e6f (here 3c4d...)" when the
    source differs, then "numpy 2.3.1 (here 2.4.6)" per library (and Python) that differs."""
    out = []
    if theirs.source != ours.source:
        out.append(f"engine fingerprint {theirs.fingerprint[:12]} (here {ours.fingerprint[:12]})")
    mine = dict(ours.versions)
    for name, version in theirs.versions:
        if mine.get(name) != version:
            out.append(f"{name} {version} (here {mine.get(name, 'not installed')})")
    for name in mine.keys() - dict(theirs.versions).keys():
        out.append(f"{name} unknown (here {mine[name]})")
    return out
