"""Safe reading of scenario text files: size limit, UTF-8 text only, plain YAML data only.

A scenario comes from a planner's disk or from a shared folder, so the reader refuses anything that
could hang or abuse the process before it is parsed: files over `MAX_BYTES`, binary or non-UTF-8
bytes, YAML object tags (only plain mappings, lists, numbers and text), alias "bombs" (a few lines
that expand to billions of nodes), recursive aliases, absurd nesting, and duplicate keys (which
PyYAML would otherwise resolve silently by keeping the last one). Every refusal is a ScenarioError
naming the file and, where known, the line.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from scenarios.errors import Problem, ScenarioError

MAX_BYTES = 50 * 1024 * 1024  # 50 MB: far above any real scenario (20,000 SKUs inline is ~3 MB)
MAX_NODES = 5_000_000  # nodes after expanding aliases; a 50 MB file of plain data stays below this
MAX_DEPTH = 64  # nesting depth; a scenario needs about 8
MAX_ALIAS_RATIO = 4  # expanded nodes per written node beyond which aliases look like a bomb

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available (10x faster)
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _fail(display: str, rule: str, path: str = "") -> ScenarioError:
    return ScenarioError([Problem(file=display, path=path, rule=rule)])


def read_text(path: str | os.PathLike, display: str, what: str = "scenario") -> str:
    """Read a whole text file as UTF-8 after checking that it exists, is a regular file, is not over
    MAX_BYTES and holds no binary bytes. `display` is the name used in messages."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail(display, f"{what} file not found ({os.path.abspath(path)})") from None
    except OSError as exc:
        raise _fail(display, f"cannot read {what} file: {exc.strerror}") from None
    if not os.path.isfile(path):
        raise _fail(display, f"{what} path is not a regular file")
    if st.st_size > MAX_BYTES:
        raise _fail(
            display,
            f"{what} file is {st.st_size / 1e6:.0f} MB, over the {MAX_BYTES // (1024 * 1024)} MB limit "
            "(refused before reading)",
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fail(display, f"cannot read {what} file: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:  # grew while we looked, or a special file
        raise _fail(display, f"{what} file is over the {MAX_BYTES // (1024 * 1024)} MB limit")
    return decode_text(raw, display, what)


def decode_text(raw: bytes, display: str, what: str = "scenario") -> str:
    """Bytes -> str: UTF-8 (a BOM is allowed), no NUL bytes (binary data is refused with its offset)."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise _fail(display, f"{what} file is binary, not text (NUL byte at offset {nul})")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(
            display,
            f"{what} file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, offset {exc.start}); "
            "save it as UTF-8",
        ) from None


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int):
        self.key, self.line = key, line


class _Constructor(_Loader):  # type: ignore[misc, valid-type]
    """The safe constructor, plus a refusal of duplicate keys inside one mapping."""

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise _DuplicateKey(key_node.value, key_node.start_mark.line + 1)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _scan_events(text: str, display: str) -> int:
    """Walk the event stream once (no tree built, no recursion) and refuse deep nesting, recursive
    aliases and alias bombs before anything is composed: composing a bomb is itself the attack.
    Returns the number of aliases met (0 means no object can be shared)."""
    sizes: dict[str, int] = {}  # anchor -> expanded node count of the anchored node
    open_anchors: set[str] = set()
    stack: list[tuple[int, str | None]] = []  # (expanded count when the node started, anchor)
    written = 0  # nodes as written
    expanded = 0  # nodes once every alias is replaced by a copy of its anchor
    aliases = 0
    check_at = 100_000
    start_ev, end_ev = (yaml.MappingStartEvent, yaml.SequenceStartEvent), (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    loader = _Loader(text)
    try:
        while True:
            ev = loader.get_event()
            kind = type(ev)
            if kind is yaml.ScalarEvent:
                written += 1
                expanded += 1
                if ev.anchor:
                    sizes[ev.anchor] = 1
            elif kind in start_ev:
                written += 1
                expanded += 1
                if len(stack) >= MAX_DEPTH:
                    raise _fail(
                        display,
                        f"line {ev.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep "
                        "(refused: a scenario needs a handful)",
                    )
                stack.append((expanded - 1, ev.anchor))
                if ev.anchor:
                    open_anchors.add(ev.anchor)
            elif kind in end_ev:
                began, anchor = stack.pop()
                if anchor:
                    sizes[anchor] = expanded - began
                    open_anchors.discard(anchor)
            elif kind is yaml.AliasEvent:
                aliases += 1
                if ev.anchor in open_anchors:
                    raise _fail(
                        display,
                        f"line {ev.start_mark.line + 1}: alias *{ev.anchor} refers to itself "
                        "(recursive data is refused)",
                    )
                expanded += sizes.get(ev.anchor, 1)  # undefined anchors are reported by the composer
            elif ev is None or kind is yaml.StreamEndEvent:
                break
            else:
                continue
            if expanded > check_at:
                if expanded > MAX_NODES or expanded > MAX_ALIAS_RATIO * written:
                    raise _fail(
                        display,
                        f"line {ev.start_mark.line + 1}: aliases expand to over {expanded:,} nodes from "
                        f"{written:,} written (an alias bomb?); refused",
                    )
                check_at = expanded  # check again as soon as the count grows
    finally:
        loader.dispose()
    return aliases


def unshare(value: Any) -> Any:
    """A copy in which no two places share one dict or list (YAML aliases construct shared objects,
    and an override at one place must not change the others)."""
    if isinstance(value, dict):
        return {k: unshare(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unshare(v) for v in value]
    return value


def parse_yaml(text: str, display: str) -> Any:
    """Parse one YAML document of plain data (mappings, lists, text, numbers, booleans, null).
    Raises ScenarioError naming the file and line for syntax errors, object tags, duplicate keys,
    alias bombs, recursion, deep nesting and multi-document files."""
    try:
        aliases = _scan_events(text, display)
        loader = _Constructor(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            data = loader.construct_document(node)
            return unshare(data) if aliases else data
        finally:
            loader.dispose()
    except ScenarioError:
        raise
    except _DuplicateKey as dup:
        raise _fail(display, f"line {dup.line}: key {dup.key!r} appears twice in the same mapping") from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = exc.problem or ""
        if "constructor for the tag" in problem:
            tag = problem.split("tag", 1)[1].strip().strip("'").replace("tag:yaml.org,2002:", "!!")
            raise _fail(
                display,
                f"{where}tag {tag} is not allowed (only plain YAML data: mappings, lists, text, numbers; "
                "Python object tags are refused)",
            ) from None
        raise _fail(display, f"{where}{problem or exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        raise _fail(display, f"{where}YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise _fail(display, f"YAML error: {exc}") from None
    except (RecursionError, MemoryError):
        raise _fail(display, "YAML too deeply nested or too large to parse") from None
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. a malformed timestamp scalar
        raise _fail(display, f"YAML value cannot be read: {exc}") from None


def read_yaml(path: str | os.PathLike, display: str) -> Any:
    """Read and safely parse a YAML file (see `read_text` and `parse_yaml` for what is refused)."""
    return parse_yaml(read_text(path, display), display)


def parse_value(text: str, display: str = "--set") -> Any:
    """Parse the VALUE of a `--set PATH=VALUE` as YAML (`0.3` -> float, `[air]` -> list, `x` -> str)."""
    if "\x00" in text:
        raise _fail(display, "value contains a NUL byte")
    return parse_yaml(text, display)
