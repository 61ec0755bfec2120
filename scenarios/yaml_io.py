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
import re
import stat
from typing import Any

import yaml

from scenarios.errors import Problem, ScenarioError, escape, excerpt, show

MAX_BYTES = 50 * 1024 * 1024  # 50 MB: far above any real scenario (20,000 SKUs inline is ~3 MB)
MAX_HISTORY_BYTES = 1024 * 1024 * 1024  # 1 GB: a sales history of 20,000 SKUs x 3 years of days is ~600 MB
MAX_NODES = 5_000_000  # nodes after expanding aliases; a 50 MB file of plain data stays below this
MAX_DEPTH = 64  # nesting depth; a scenario needs about 8
MAX_ALIAS_RATIO = 4  # expanded nodes per written node beyond which aliases look like a bomb
# What YAML data nests in; one tuple for the walks' isinstance tests (built once, not per value).
CONTAINERS = (dict, list)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available (10x faster)
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _fail(display: str, rule: str, path: str = "") -> ScenarioError:
    return ScenarioError([Problem(file=display, path=path, rule=rule)])


# --------------------------------------------------------------------------- reading files
# Pseudo-file systems: their files claim to be regular files of size 0 (/proc, /sys) or are devices
# (/dev); none of them is a planner's input, and reading one can hang or leak the environment.
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(display: str, what: str, kind: str) -> ScenarioError:
    return _fail(display, f"{what} path is {kind}, not a regular file (refused before reading)")


def check_input_path(path: str | os.PathLike, display: str, what: str = "scenario") -> os.stat_result:
    """The one check every input file passes before it is opened: it exists, is a regular file and
    lies outside the pseudo-file systems (/proc, /sys, /dev, where "files" are devices, pipes or
    generated text that stat() reports as size 0). Returns its stat; raises ScenarioError naming
    `display`, what kind of thing the path is, and the rule."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail(display, f"{what} file not found ({excerpt(os.path.abspath(path), 200)})") from None
    except OSError as exc:
        raise _fail(display, f"cannot read {what} file: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(display, what, _kind_of(st.st_mode))
    real = os.path.realpath(path)
    for root in PSEUDO_ROOTS:
        if real == root or real.startswith(root + os.sep):
            raise _fail(display, f"{what} path is a system pseudo-file under {root}/, not a planner's file "
                                 "(refused before reading)")
    return st


def open_input(path: str | os.PathLike, display: str, what: str = "scenario",
               max_bytes: int = MAX_BYTES) -> tuple[Any, int]:
    """Open an input file for reading after `check_input_path` and a size check (over `max_bytes` is
    refused before reading): (binary file object, size in bytes). The file is opened without
    blocking (a path swapped for a FIFO cannot hang the reader) and checked again on the open
    descriptor, so what is read is what was checked."""
    st = check_input_path(path, display, what)
    if st.st_size > max_bytes:
        raise _fail(display, f"{what} file is {st.st_size / 1e6:.0f} MB, over the {max_bytes // (1024 * 1024)} MB "
                             "limit (refused before reading)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _fail(display, f"cannot read {what} file: {exc.strerror}") from None
    try:
        fst = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise _fail(display, f"cannot read {what} file: {exc.strerror}") from None
    if not stat.S_ISREG(fst.st_mode):
        os.close(fd)
        raise _not_regular(display, what, _kind_of(fst.st_mode))
    if fst.st_size > max_bytes:
        os.close(fd)
        raise _fail(display, f"{what} file is over the {max_bytes // (1024 * 1024)} MB limit")
    return os.fdopen(fd, "rb"), fst.st_size


def read_bytes(path: str | os.PathLike, display: str, what: str = "scenario", max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of an input file opened by `open_input`. At most its size (as stat reports it) is
    read, plus one byte: a file that yields more than its size (a pseudo-file, or one still being
    written) is refused."""
    fh, size = open_input(path, display, what, max_bytes)
    try:
        with fh:
            raw = fh.read(size + 1)
    except OSError as exc:
        raise _fail(display, f"cannot read {what} file: {exc.strerror}") from None
    if len(raw) > size:
        raise _fail(display, f"{what} file gives more bytes than its size ({size}): a pseudo-file or a file "
                             "still being written, not a regular file; refused")
    return raw


def read_text(path: str | os.PathLike, display: str, what: str = "scenario", max_bytes: int = MAX_BYTES) -> str:
    """Read a whole text file as UTF-8 after the checks of `read_bytes` (a regular file, not over
    `max_bytes`) and refuse binary bytes. `display` is the name used in messages."""
    return decode_text(read_bytes(path, display, what, max_bytes), display, what)


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


# --------------------------------------------------------------------------- checks of the text before parsing
# Characters YAML forbids in a stream (the YAML 1.1 printable set); reported by the engine with line
# and column, before the parser sees them.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def check_characters(text: str, display: str) -> None:
    """Refuse control characters (other than tab, line feed, carriage return) anywhere in the text."""
    m = _NON_PRINTABLE.search(text.lstrip("\ufeff"))
    if m is None:
        return
    offset = len(text) - len(text.lstrip("\ufeff"))
    line, col = _line_col(text, m.start() + offset)
    more = len(_NON_PRINTABLE.findall(text)) - 1
    raise _fail(display, f"line {line} column {col}: control character {escape(m.group())} (U+{ord(m.group()):04X}) is "
                         "not allowed in a YAML file (only tab, line feed and carriage return; write it as an escape "
                         "in double quotes if it is really meant)" + (f"; {more} more such characters" if more > 0 else ""))


_LEX = re.compile(r"[\n\[\]{}'\"#|>]")
_INDENT = re.compile(r"[ \t]*")
_INDICATOR = re.compile(r"[-?:](?:[ \t]+|(?=[\r\n])|\Z)")
_BLOCK_SCALAR = re.compile(r"[|>][-+0-9]*[ \t]*(?:#[^\n]*)?(?=\r?\n|\Z)")


def _node_start(text: str, j: int, line_start: int, flow: bool) -> bool:
    """Whether a node (a flow collection or a quoted scalar) can begin at `j`: right after the
    indentation, an indicator (`- `, `? `, `: `; in flow also `[`, `{`, `,`), or an anchor or tag."""
    k = j - 1
    while k >= line_start and text[k] in " \t":
        k -= 1
    if k < line_start:
        return True
    c = text[k]
    if flow and c in "[{,:?":
        return True
    if not flow and c in "-?:" and k + 1 < j:
        return True
    w = k
    while w > line_start and text[w - 1] not in " \t":
        w -= 1
    return text[w] in "&!" and k + 1 < j


def _quoted_end(text: str, j: int) -> int:
    """Index just past the quoted scalar that opens at `j`, or -1 when it is not closed."""
    q = text[j]
    k = j + 1
    while True:
        k = text.find(q, k)
        if k < 0:
            return -1
        if q == "'":
            if text.startswith("''", k):
                k += 2
                continue
            return k + 1
        slashes = 0
        while text[k - 1 - slashes] == "\\":
            slashes += 1
        if slashes % 2 == 0:
            return k + 1
        k += 1


def nesting_estimate(text: str, limit: int = MAX_DEPTH) -> int:
    """How deep the text nests collections, from a cheap scan of the text (no parser): flow brackets
    outside quoted scalars and comments, plus block levels by indentation and compact indicators
    (`- - x`). It errs on the high side (a scalar after `- ` counts as a level); the scan stops as
    soon as the estimate passes `limit`. Block scalars (`|`, `>`) are skipped."""
    n = len(text)
    pos, flow, deepest = 0, 0, 0
    stack: list[tuple[int, bool]] = []  # block collections: (column, is a sequence)
    line_start, line_indent = 0, 0
    scalar_indent: int | None = None  # inside a block scalar whose header line had this indent
    at_line_start = True
    while pos < n:
        if at_line_start:
            at_line_start = False
            line_start = pos
            p = _INDENT.match(text, pos).end()
            col = p - pos
            eol = text.find("\n", p)
            eol = n if eol < 0 else eol
            blank = p >= eol or text[p] in "#\r"
            if scalar_indent is not None:
                if blank or col > scalar_indent:
                    pos = eol + 1
                    at_line_start = True
                    continue
                scalar_indent = None
            line_indent = col
            if flow == 0 and not blank:
                while stack and stack[-1][0] > col:
                    stack.pop()
                is_seq = _INDICATOR.match(text, p) is not None and text[p] == "-"
                if stack and stack[-1][0] == col:
                    if is_seq and not stack[-1][1]:
                        stack.append((col, True))  # an indentless sequence, value of a mapping key
                    elif not is_seq and stack[-1][1] and len(stack) > 1 and stack[-2][0] == col:
                        stack.pop()  # back from the indentless sequence to its mapping
                else:
                    stack.append((col, is_seq))
                q = p
                while True:  # compact nesting on one line: "- - x", "- key: v", "? - x"
                    m = _INDICATOR.match(text, q)
                    if m is None:
                        break
                    q = m.end()
                    if q >= eol or text[q] in "#\r":
                        break
                    stack.append((q - line_start, _INDICATOR.match(text, q) is not None and text[q] == "-"))
                deepest = max(deepest, len(stack))
                if deepest > limit:
                    return deepest
            pos = p
            continue
        m = _LEX.search(text, pos)
        if m is None:
            break
        j = m.start()
        ch = text[j]
        pos = j + 1
        if ch == "\n":
            at_line_start = True
        elif ch == "#":
            if j == line_start or text[j - 1] in " \t":
                eol = text.find("\n", j)
                pos = n if eol < 0 else eol
        elif ch in "]}":
            flow = max(0, flow - 1)
        elif ch in "[{":
            if flow or _node_start(text, j, line_start, False):
                flow += 1
                deepest = max(deepest, len(stack) + flow)
                if deepest > limit:
                    return deepest
        elif ch in "'\"":
            if _node_start(text, j, line_start, flow > 0):
                end = _quoted_end(text, j)
                if end < 0:
                    break  # not closed: the parser reports it
                nl = text.rfind("\n", j, end)
                if nl >= 0:
                    line_start = nl + 1  # a multi-line quoted scalar: its last line is not a new line of structure
                pos = end
        elif not flow and _node_start(text, j, line_start, False) and _BLOCK_SCALAR.match(text, j):
            scalar_indent = line_indent
    return deepest


def check_nesting(text: str, display: str) -> None:
    """Refuse text nested deeper than MAX_DEPTH before any parser sees it, with the engine's message
    on every PyYAML (recent libyaml stops at 1,000 levels with its own error; older ones, and the
    pure-Python parser, have no limit and the composer would recurse). The cheap scan decides; when
    it finds the text deep, the pure-Python event stream (no recursion, no built-in limit) confirms
    it exactly, so an unusual but shallow file is never refused on the scan's estimate alone."""
    if nesting_estimate(text, MAX_DEPTH) > MAX_DEPTH:
        _scan_events(text, display, loader_class=yaml.SafeLoader)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: Any = None, merge: bool = False):
        self.key, self.line, self.first, self.merge = key, line, first, merge


class _Constructor(_Loader):  # type: ignore[misc, valid-type]
    """The safe constructor, plus a refusal of duplicate keys inside one mapping: keys that are
    equal once read (`1` and `01`, `'a'` and `a`, `true` and `1` collide in a Python dict) and a
    merge key `<<` given twice (PyYAML would merge both silently)."""

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            merges = 0
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    merges += 1
                    if merges > 1:
                        raise _DuplicateKey("<<", key_node.start_mark.line + 1, merge=True)
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                try:
                    if key in seen:
                        raise _DuplicateKey(key_node.value, key_node.start_mark.line + 1, seen[key])
                    seen[key] = key_node.value
                except TypeError:  # unhashable: the constructor reports it
                    continue
        return super().construct_mapping(node, deep=deep)


def _scan_events(text: str, display: str, loader_class: Any = None) -> int:
    """Walk the event stream once (no tree built, no recursion) and refuse deep nesting, recursive
    aliases, alias bombs and a second document before anything is composed: composing a bomb is
    itself the attack. Returns the number of aliases met (0 means no object can be shared)."""
    sizes: dict[str, int] = {}  # anchor -> expanded node count of the anchored node
    open_anchors: set[str] = set()
    stack: list[tuple[int, str | None]] = []  # (expanded count when the node started, anchor)
    written = 0  # nodes as written
    expanded = 0  # nodes once every alias is replaced by a copy of its anchor
    aliases = 0
    check_at = 100_000
    start_ev, end_ev = (yaml.MappingStartEvent, yaml.SequenceStartEvent), (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    documents = 0
    loader = (loader_class or _Loader)(text)
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
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _fail(
                        display,
                        f"line {ev.start_mark.line + 1}: a second YAML document begins here (after '---'); "
                        "a scenario file holds exactly one document (split it into several files)",
                    )
                continue
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


def resolve_path(value: Any, base_dir: str) -> Any:
    """A file path written inside a file, made absolute against that file's folder `base_dir`
    (anything but relative text is returned as it is)."""
    if isinstance(value, str) and value and not os.path.isabs(value):
        return os.path.normpath(os.path.join(base_dir, value))
    return value


def resolve_files(value: Any, base_dir: str) -> Any:
    """Make the `csv` of every empirical distribution inside `value` absolute against `base_dir` (in place)."""
    if isinstance(value, dict):
        if value.get("dist") == "empirical" and isinstance(value.get("csv"), str):
            value["csv"] = resolve_path(value["csv"], base_dir)
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return value
    for v in children:
        if isinstance(v, CONTAINERS):  # tested here: a call per number of every SKU was the walk's main cost
            resolve_files(v, base_dir)
    return value


# A YAML path with list indexes (`transport[1].lead_time`) as a key of an inline mapping: YAML ends a
# plain scalar at `[` inside `{...}`, so `{transport[1].lead_time: 4}` is a syntax error there.
_PATH_KEY_REST = re.compile(r"(?:\[\d+\])+(?:\.[A-Za-z0-9_-]+(?:\[\d+\])*)*(?=[ \t]*:(?:[\s,{}\[\]]|$))")
_PATH_KEY_HEAD = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")
MAX_PATH_KEY_FIXES = 1000


def _quote_path_key(text: str, mark: Any) -> tuple[str, tuple] | None:
    """`text` with the YAML path key at a syntax error's mark quoted (and where the two quotes went,
    (line, column) each), or None when the error is not
    a path key with list indexes inside an inline mapping (`{transport[1]: ...}`: YAML ends a plain
    key at `[` there). Only text that YAML refuses is changed, so no valid file changes meaning."""
    if mark is None:
        return None
    lines = text.split("\n")
    if not 0 <= mark.line < len(lines):
        return None
    line, col = lines[mark.line], mark.column
    if not (0 < col < len(line) and line[col] == "["):
        return None
    head = _PATH_KEY_HEAD.search(line[:col])
    rest = _PATH_KEY_REST.match(line, col)
    if head is None or rest is None:
        return None
    before = line[: head.start()].rstrip(" \t")
    if not before.endswith(("{", ",")):
        return None  # a key of an inline mapping only (block keys already take `[`)
    start, end = head.start(), rest.end()
    lines[mark.line] = f'{line[:start]}"{line[start:end]}"{line[end:]}'
    return "\n".join(lines), ((mark.line, start), (mark.line, end + 1))


def parse_yaml(text: str, display: str) -> Any:
    """Parse one YAML document of plain data (mappings, lists, text, numbers, booleans, null).
    Raises ScenarioError naming the file and line for syntax errors, object tags, duplicate keys,
    alias bombs, recursion, deep nesting and multi-document files. A YAML path with list indexes
    as a key of an inline mapping (`high_air: {transport[1].lead_time: 4}`, which YAML itself
    refuses) is read as if quoted."""
    quotes: tuple = ()  # (line, column) of each quote added, to report columns of the text as written
    for _ in range(MAX_PATH_KEY_FIXES):
        try:
            return _parse_yaml(text, display, quotes)
        except _PathKey as fix:
            text, quotes = fix.text, quotes + fix.quotes
    return _parse_yaml(text, display, quotes)


class _PathKey(Exception):
    def __init__(self, text: str, quotes: tuple):
        self.text, self.quotes = text, quotes


def _parse_yaml(text: str, display: str, quotes: tuple = ()) -> Any:
    check_characters(text, display)
    try:
        check_nesting(text, display)
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
        if dup.merge:
            raise _fail(display, f"line {dup.line}: the merge key '<<' appears twice in the same mapping (give one "
                                 "'<<' with a list of aliases: '<<: [*a, *b]')") from None
        same = "" if dup.first is None or dup.first == dup.key else f" (the same key as {show(dup.first)} once read)"
        raise _fail(display, f"line {dup.line}: key {show(dup.key)} appears twice in the same mapping{same}") from None
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
        fixed = _quote_path_key(text, exc.problem_mark)
        if fixed is not None:
            raise _PathKey(*fixed) from None
        mark = exc.problem_mark or exc.context_mark
        column = 0 if mark is None else mark.column - sum(1 for q in quotes if q[0] == mark.line and q[1] < mark.column)
        where = f"line {mark.line + 1} column {column + 1}: " if mark is not None else ""
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        raise _fail(display, f"{where}YAML syntax error: {excerpt(what, 200)}{_tab_hint(text, mark)}") from None
    except yaml.YAMLError as exc:
        raise _fail(display, f"YAML cannot be read: {excerpt(str(exc).splitlines()[0] if str(exc) else '', 200)}") from None
    except (RecursionError, MemoryError):
        raise _fail(display, "YAML too deeply nested or too large to parse") from None
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. a malformed timestamp scalar
        raise _fail(display, f"a YAML value cannot be read (a malformed date or number?): {excerpt(str(exc))}") from None


def _tab_hint(text: str, mark: Any) -> str:
    """A hint when the line of a syntax error (or the one before) is indented with a tab."""
    if mark is None:
        return ""
    lines = text.splitlines()
    for i in (mark.line, mark.line - 1):
        if 0 <= i < len(lines):
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip(" \t"))]
            if "\t" in indent:
                return f" (line {i + 1} is indented with a tab: YAML indents with spaces only)"
    return ""


def read_yaml(path: str | os.PathLike, display: str) -> Any:
    """Read and safely parse a YAML file (see `read_text` and `parse_yaml` for what is refused)."""
    return parse_yaml(read_text(path, display), display)


def parse_value(text: str, display: str = "--set") -> Any:
    """Parse the VALUE of a `--set PATH=VALUE` as YAML (`0.3` -> float, `[air]` -> list, `x` -> str)."""
    if "\x00" in text:
        raise _fail(display, "value contains a NUL byte")
    return parse_yaml(text, display)
