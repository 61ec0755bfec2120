"""YAML paths (`skus[2].demand.mean`) and the deep merge used by `extends`, variants and `--set`.

Merge rule (scenario-format.md): mappings merge key by key, lists and scalars replace.
"""

from __future__ import annotations

import re
from typing import Any

from scenarios.errors import show

Segment = str | int

_KEY = r"[^.\[\]=\s]+"
_PART = re.compile(rf"({_KEY})((?:\[-?\d+\])*)")
_INDEX = re.compile(r"\[(-?\d+)\]")


class PathError(ValueError):
    """A path that cannot be parsed or set; the message says why in plain words."""


def parse_path(path: str) -> tuple[Segment, ...]:
    """`"skus[2].demand.mean"` -> `("skus", 2, "demand", "mean")`. Raises PathError when malformed."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("empty path")
    segs: list[Segment] = []
    for part in path.strip().split("."):
        m = _PART.fullmatch(part)
        if m is None:
            raise PathError(f"malformed path {show(path)} (expected keys joined by dots, e.g. skus[2].price)")
        segs.append(m.group(1))
        for idx in _INDEX.findall(m.group(2)):
            i = int(idx)
            if i < 0:
                raise PathError(f"negative index [{i}] in {show(path)}")
            segs.append(i)
    return tuple(segs)


def format_path(segs: tuple[Segment, ...] | list[Segment]) -> str:
    """`("skus", 2, "demand")` -> `"skus[2].demand"` (the notation of error messages)."""
    out = ""
    for s in segs:
        if isinstance(s, int):
            out += f"[{s}]"
        else:
            out += f".{s}" if out else str(s)
    return out


def deep_merge(base: Any, over: Any) -> Any:
    """`over` merged onto `base`: mappings merge recursively, anything else in `over` replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    return over


def get_path(data: Any, segs: tuple[Segment, ...]) -> tuple[bool, Any]:
    """(found, value) at `segs` inside nested dicts/lists."""
    cur = data
    for s in segs:
        if isinstance(s, int):
            if not isinstance(cur, list) or s >= len(cur):
                return False, None
            cur = cur[s]
        else:
            if not isinstance(cur, dict) or s not in cur:
                return False, None
            cur = cur[s]
    return True, cur


def _kind(v: Any) -> str:
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if v is None:
        return "null"
    return f"the {type(v).__name__} {show(v)}"


def _where(segs: tuple[Segment, ...], depth: int) -> str:
    return format_path(segs[:depth]) or "the top level"


def not_a_mapping(segs: tuple[Segment, ...], depth: int, found: Any) -> PathError:
    """set_path's error when the value `found` at `segs[:depth]` is not a mapping, so the key
    `segs[depth]` cannot be set inside it."""
    return PathError(f"{_where(segs, depth)} is {_kind(found)}, not a mapping, so '{segs[depth]}' cannot be set")


def set_path(data: dict, segs: tuple[Segment, ...], value: Any) -> Any:
    """Set `value` at `segs` inside `data` (mutated), creating missing mappings on the way.
    Returns the value it replaced (None when new). Raises PathError when the path crosses a
    scalar, indexes something that is not a list, or an index is out of range."""
    cur: Any = data
    for depth, s in enumerate(segs):
        last = depth == len(segs) - 1
        if isinstance(s, int):
            if not isinstance(cur, list):
                raise PathError(f"{_where(segs, depth)} is {_kind(cur)}, not a list, so [{s}] cannot be set")
            if s >= len(cur):
                raise PathError(f"index [{s}] is out of range ({_where(segs, depth)} has {len(cur)} items)")
            if last:
                old, cur[s] = cur[s], value
                return old
            if cur[s] is None:
                cur[s] = {}
            cur = cur[s]
        else:
            if not isinstance(cur, dict):
                raise not_a_mapping(segs, depth, cur)
            if last:
                old = cur.get(s)
                cur[s] = value
                return old
            if cur.get(s) is None:
                cur[s] = {}
            cur = cur[s]
    raise PathError("empty path")


def overlaps(a: tuple[Segment, ...], b: tuple[Segment, ...]) -> bool:
    """True when one path is the other or lies inside it (setting both would conflict)."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]
