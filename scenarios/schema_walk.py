"""Walk the pydantic schema along a YAML path: which keys are allowed where, and "did you mean".

Used to name the known keys when a key is unknown, to check the paths of `variants` and `--set`
before anything is merged, and to generate docs/scenario-reference.md.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Literal, Union

from pydantic import BaseModel

from scenarios.errors import show
from scenarios.merge import Segment, format_path
from scenarios.schema import Scenario

# Keys the loader consumes before validation (they are not fields of `Scenario`).
LOADER_KEYS = ("extends", "skus_csv")


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def members(tp: Any) -> list[Any]:
    """The alternatives of a (possibly Optional/Annotated) union type, None excluded."""
    tp = _strip(tp)
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for a in typing.get_args(tp):
            if a is type(None):
                continue
            out.extend(members(a))
        return out
    return [tp]


def keys_of(model: type[BaseModel]) -> list[str]:
    """YAML keys of a model (aliases where they exist, e.g. `class` for `class_`)."""
    return [f.alias or name for name, f in model.model_fields.items()]


def field_type(model: type[BaseModel], key: str) -> Any:
    """The annotation of the field called `key` (name or alias), or raise KeyError."""
    for name, f in model.model_fields.items():
        if key == name or key == f.alias:
            return f.annotation
    raise KeyError(key)


def dist_tag(model: type[BaseModel]) -> str | None:
    """The `dist` literal of a distribution model (None for other models)."""
    f = model.model_fields.get("dist")
    if f is None:
        return None
    args = typing.get_args(_strip(f.annotation))
    return args[0] if args else None


def _pick(cands: list[Any], data: Any) -> list[Any]:
    """Narrow a union of models by the raw data (its `dist` tag; a bare number is `fixed`)."""
    models = [c for c in cands if isinstance(c, type) and issubclass(c, BaseModel)]
    if len(models) <= 1:
        return cands
    tag = None
    if isinstance(data, dict):
        tag = data.get("dist")
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        tag = "fixed"
    chosen = [m for m in models if dist_tag(m) == tag]
    return chosen or cands


def _describe(tp: Any) -> str:
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "a mapping"
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        return "a list"
    if origin is dict:
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if tp is float or tp is int:
        return "a number"
    if tp is str:
        return "text"
    if tp is bool:
        return "true/false"
    return "a value"


def did_you_mean(key: str, known: list[str]) -> str:
    """`unknown key 'carying_rate' (did you mean 'carrying_rate'?)`, or the list of known keys."""
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {show(key)} (did you mean {close[0]!r}?)"
    return f"unknown key {show(key)} (known keys: {', '.join(known)})"


def types_at(segs: tuple[Segment, ...], data: Any = None, root: Any = Scenario) -> list[Any]:
    """The schema types allowed at `segs` (several when a union is not narrowed by `data`).
    Raises KeyError(message) when the path leaves the schema; the message names the segment."""
    cands: list[Any] = members(root)
    cur = data
    for depth, s in enumerate(segs):
        cands = _pick(cands, cur)
        nxt: list[Any] = []
        known: list[str] = []
        kinds: list[str] = []
        for tp in cands:
            tp = _strip(tp)
            origin = typing.get_origin(tp)
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                ks = keys_of(tp) + (list(LOADER_KEYS) if tp is Scenario and depth == 0 else [])
                known.extend(k for k in ks if k not in known)
                if isinstance(s, str):
                    if tp is Scenario and depth == 0 and s in LOADER_KEYS:
                        nxt.append(str)
                    else:
                        try:
                            nxt.extend(members(field_type(tp, s)))
                        except KeyError:
                            pass
            elif origin in (tuple, list) and isinstance(s, int):
                args = typing.get_args(tp)
                nxt.extend(members(args[0]) if args else [Any])
            elif origin is dict and isinstance(s, str):
                args = typing.get_args(tp)
                nxt.extend(members(args[1]) if len(args) == 2 else [Any])
            elif tp is Any:
                nxt.append(Any)
            else:
                kinds.append(_describe(tp))
        if not nxt:
            where = format_path(segs[:depth])
            if known and isinstance(s, str):
                raise KeyError(did_you_mean(s, known))
            what = f"[{s}]" if isinstance(s, int) else repr(s)
            kind = kinds[0] if kinds else "a mapping"
            raise KeyError(f"{where or 'the top level'} is {kind}, so {what} does not exist there")
        cands = nxt
        if isinstance(cur, dict) and isinstance(s, str):
            cur = cur.get(s)
        elif isinstance(cur, list) and isinstance(s, int) and s < len(cur):
            cur = cur[s]
        else:
            cur = None
    return _pick(cands, cur)


def known_keys_at(segs: tuple[Segment, ...], data: Any = None) -> list[str]:
    """The YAML keys allowed in the mapping at `segs` (empty if it is not a mapping of fields)."""
    try:
        cands = types_at(segs, data)
    except KeyError:
        return []
    out: list[str] = []
    for tp in cands:
        tp = _strip(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            ks = keys_of(tp) + (list(LOADER_KEYS) if tp is Scenario and not segs else [])
            out.extend(k for k in ks if k not in out)
    return out
