"""`load(path, overrides, variants)`: read a scenario file and everything it points to, validate it,
and return the frozen `Scenario` (or raise one ScenarioError listing every problem).

Order (docs/scenario-reference.md, "Loading order"):
1. read the YAML safely (yaml_io); relative file paths in it are resolved against that file's folder;
2. resolve the `extends` chain (each path relative to the file that names it; cycles are an error)
   and deep-merge it: mappings merge, lists and scalars replace; a file that gives `skus` or
   `skus_csv` replaces both inherited ones; `template` (true: a file only for `extends`, refused
   by `load`) is read from each file and never inherited;
3. apply the named `variants` in the order given (two of them setting the same path is an error);
4. apply `overrides` (`--set PATH=VALUE`; later wins over variants);
   changes under `skus` are applied after step 5, so `skus[2].price=30` also works with `skus_csv`;
5. read `skus_csv`, then every `{dist: empirical, csv: path}` into `values`;
6. make `demand_history_csv` absolute and check it exists;
7. validate with the pydantic schema (all problems together);
8. if `demand_history_csv` is set, build empirical demand from it (scenarios.history.apply_history).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from scenarios.errors import Problem, ScenarioError, show
from scenarios.gc_pause import without_gc_passes
from scenarios.merge import PathError, Segment, deep_merge, format_path, overlaps, parse_path, set_path
from scenarios.schema import NAME_PATTERN, Scenario
from scenarios.schema_walk import types_at
from scenarios.skus_csv import read_empirical_csv, read_skus_csv
from scenarios.validation import validate
from scenarios.yaml_io import CONTAINERS, check_input_path, parse_value, read_yaml, resolve_files, resolve_path

log = logging.getLogger(__name__)

_SKU_KEYS = ("skus", "skus_csv")


def _display(abs_path: str) -> str:
    """A file name for messages: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(abs_path)
    except ValueError:
        return abs_path
    return abs_path if rel.startswith("..") else rel


# --------------------------------------------------------------------------- relative paths
def _resolve_change(segs: tuple[Segment, ...], value: Any, base_dir: str) -> Any:
    """A changed value with its file paths made absolute (skus_csv, demand_history_csv, csv)."""
    if segs and segs[-1] in ("skus_csv", "demand_history_csv", "csv"):
        return resolve_path(value, base_dir)
    return resolve_files(value, base_dir)


def _resolve_layer(data: dict, base_dir: str) -> None:
    for key in ("skus_csv", "demand_history_csv"):
        if key in data:
            data[key] = resolve_path(data[key], base_dir)
    for key, value in data.items():
        if key != "variants":
            resolve_files(value, base_dir)
    variants = data.get("variants")
    if isinstance(variants, dict):
        for changes in variants.values():
            if isinstance(changes, dict):
                for k, v in list(changes.items()):
                    try:
                        changes[k] = _resolve_change(parse_path(k), v, base_dir)
                    except PathError:
                        pass  # reported when the variant is checked


# --------------------------------------------------------------------------- extends chain
@dataclass
class Layer:
    """One file of an `extends` chain (root first) with its raw data."""

    display: str
    path: str
    data: dict
    template: bool = False  # the file says `template: true` (only for extends; not inherited)


def _read_chain(path: str, display: str) -> list[Layer]:
    chain: list[Layer] = []
    seen: list[str] = []
    cur_path, cur_display = path, display
    while True:
        real = os.path.realpath(cur_path)
        if real in seen:
            names = [_display(p) for p in seen] + [_display(real)]
            start = names.index(_display(real))
            raise ScenarioError(
                [Problem(chain[0].display, "extends", f"extends cycle: {' -> '.join(names[start:])}")]
            )
        seen.append(real)
        data = read_yaml(cur_path, cur_display)
        if data is None:
            raise ScenarioError([Problem(cur_display, "", "file is empty (expected a mapping with format, name, transport, skus)")])
        if not isinstance(data, dict):
            raise ScenarioError(
                [Problem(cur_display, "", f"top level is {type(data).__name__ if not isinstance(data, list) else 'a list'}, "
                         "expected a mapping (format: 1, name: ..., transport: ..., skus: ...)")]
            )
        base_dir = os.path.dirname(os.path.abspath(cur_path))
        _resolve_layer(data, base_dir)
        parent = data.pop("extends", None)
        template = data.pop("template", False)
        if not isinstance(template, bool):
            raise ScenarioError([Problem(cur_display, "template", "is not true or false (true marks a template, a "
                                         "file only for `extends`)", value=template, has_value=True)])
        chain.insert(0, Layer(cur_display, os.path.abspath(cur_path), data, template))
        if parent is None:
            return chain
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError([Problem(cur_display, "extends", "is not a file path", value=parent, has_value=True)])
        parent_path = os.path.normpath(os.path.join(base_dir, parent))
        if not os.path.lexists(parent_path):
            raise ScenarioError(
                [Problem(cur_display, "extends", f"file not found ({parent_path})", value=parent, has_value=True)]
            )
        try:  # a folder, FIFO, device or /proc file is named here, by the file that points to it
            check_input_path(parent_path, cur_display, "extends")
        except ScenarioError as exc:
            raise ScenarioError([Problem(cur_display, "extends", p.rule, value=parent, has_value=True)
                                 for p in exc.problems]) from None
        cur_path, cur_display = parent_path, _display(parent_path)


def _merge_chain(chain: list[Layer]) -> dict:
    merged: dict = {}
    for layer in chain:
        if any(k in layer.data for k in _SKU_KEYS):
            merged = {k: v for k, v in merged.items() if k not in _SKU_KEYS}
        merged = deep_merge(merged, layer.data)
    return merged


# --------------------------------------------------------------------------- variants and overrides
@dataclass
class Change:
    """One value set by a variant or by `--set`."""

    segs: tuple[Segment, ...]
    value: Any
    label: str  # e.g. "variant 'high_service'", "--set" or "--target"


def _check_change_path(segs: tuple[Segment, ...]) -> str | None:
    if segs[0] == "extends":
        return "extends cannot be changed by a variant or --set (it is resolved first)"
    if segs[0] == "variants":
        return "variants cannot be changed by a variant or --set"
    try:
        types_at(segs)
    except KeyError as exc:
        return str(exc.args[0])
    return None


def _variant_names(variants: Any) -> list[str]:
    if variants is None:
        return []
    if isinstance(variants, str):
        variants = [variants]
    names: list[str] = []
    for v in variants:
        names.extend(n.strip() for n in str(v).split(",") if n.strip())
    return names


def _variant_changes(merged: dict, names: list[str], top: str, base_dir: str, problems: list[Problem]) -> list[Change]:
    """Check every variant of the scenario (applied or not) and return the changes of the chosen ones."""
    import re

    variants = merged.get("variants", {}) or {}
    if not isinstance(variants, dict):
        problems.append(Problem(top, "variants", "is not a mapping of variant name -> {path: value}"))
        variants = {}
    parsed: dict[str, list[Change]] = {}
    for name, changes in variants.items():
        where = f"variants.{name}"
        if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
            problems.append(Problem(top, where, "is not a valid variant name ([a-z0-9_-]+, used in output folder names)"))
        if not isinstance(changes, dict):
            problems.append(Problem(top, where, "is not a mapping of dotted path -> value"))
            continue
        out = []
        for key, value in changes.items():
            try:
                segs = parse_path(str(key))
            except PathError as exc:
                problems.append(Problem(top, f"{where}.{key}", str(exc)))
                continue
            msg = _check_change_path(segs)
            if msg:
                problems.append(Problem(top, f"{where}.{key}", msg))
                continue
            out.append(Change(segs, value, f"variant {show(name)}"))
        parsed[str(name)] = out
    chosen: list[Change] = []
    for name in names:
        if name not in parsed:
            known = ", ".join(sorted(map(str, variants))) or "none defined"
            problems.append(Problem(top, "variants", f"unknown variant {show(name)} (known: {known})"))
            continue
        for ch in parsed[name]:
            for other in chosen:
                if other.label != ch.label and overlaps(other.segs, ch.segs):
                    problems.append(
                        Problem(top, f"variants.{name}.{format_path(ch.segs)}",
                                f"also set by {other.label} ({format_path(other.segs)}); two variants may not set the same path")
                    )
            chosen.append(ch)
    return chosen


def _plain(value: Any) -> Any:
    """Python override values as YAML would give them: tuples -> lists, paths -> text."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


@dataclass(frozen=True)
class Override:
    """One value set from outside the scenario file: `path` (dotted YAML path, `skus[2].price`),
    `value` (typed, as YAML would give it) and `label`, the option that set it, named in messages
    ("service.target: 1.5 is not <= 1 (set by --target)"). A command-line flag that stands for a
    path (--target, --time-limit, --mip-gap) passes one with its own name as the label."""

    path: str
    value: Any
    label: str = "--set"


def _override_changes(overrides: Any, top: str, base_dir: str, problems: list[Problem]) -> list[Change]:
    if overrides is None:
        return []
    items: list[tuple[str, Any, str]] = []
    if isinstance(overrides, Mapping):
        items = [(str(k), _plain(v), "--set") for k, v in overrides.items()]
    else:
        if isinstance(overrides, (str, Override)):
            overrides = [overrides]
        for item in overrides:
            if isinstance(item, Override):
                items.append((item.path, _plain(item.value), item.label))
                continue
            text = str(item)
            key, sep, raw = text.partition("=")
            if not sep:
                problems.append(Problem("--set", text, "is not of the form PATH=VALUE"))
                continue
            try:
                items.append((key.strip(), parse_value(raw, f"--set {key.strip()}"), "--set"))
            except ScenarioError as exc:
                problems.extend(exc.problems)
    out: list[Change] = []
    for key, value, label in items:
        try:
            segs = parse_path(key)
        except PathError as exc:
            problems.append(Problem(label, key, str(exc)))
            continue
        msg = _check_change_path(segs)
        if msg:
            problems.append(Problem(label, key, msg))
            continue
        out.append(Change(segs, _resolve_change(segs, value, base_dir), label))
    return out


def _apply(merged: dict, changes: Iterable[Change], top: str, problems: list[Problem], applied: list[Change]) -> None:
    for ch in changes:
        if ch.segs[0] in _SKU_KEYS and len(ch.segs) == 1:
            merged.pop("skus" if ch.segs[0] == "skus_csv" else "skus_csv", None)
        try:
            old = set_path(merged, ch.segs, ch.value)
        except PathError as exc:
            problems.append(Problem(top, format_path(ch.segs), f"cannot be set by {ch.label}: {exc}"))
            continue
        applied.append(ch)
        log.debug("%s: %s: %r -> %r", ch.label, format_path(ch.segs), old, ch.value)


# --------------------------------------------------------------------------- provenance
@dataclass
class _Origins:
    top: str
    chain: list[Layer]
    applied: list[Change] = field(default_factory=list)
    csv_display: str | None = None
    csv_lines: list[str] = field(default_factory=list)  # where each SKU row is: "CSV line 3", "sheet 'SKUs', row 3"
    pending: list[Problem] = field(default_factory=list)  # problems found before validation

    def __call__(self, segs: tuple[Segment, ...]) -> tuple[str, str]:
        """The file that gave the value at `segs`, and a note saying how (variant, --set, CSV line)."""
        for ch in reversed(self.applied):
            if segs[: len(ch.segs)] == ch.segs:
                return self.top, f" (set by {ch.label})"
        if self.csv_display is not None and segs and segs[0] == "skus":
            if len(segs) > 1 and isinstance(segs[1], int) and segs[1] < len(self.csv_lines):
                return self.csv_display, f" ({self.csv_lines[segs[1]]})"
            return self.csv_display, ""
        for layer in reversed(self.chain):
            cur: Any = layer.data
            for depth, s in enumerate(segs):
                if isinstance(cur, dict) and s in cur:
                    cur = cur[s]
                elif isinstance(cur, list) and isinstance(s, int) and s < len(cur):
                    cur = cur[s]
                else:
                    if depth > 0 and not isinstance(cur, dict):
                        return layer.display, ""  # this file replaced the whole list/value
                    break
            else:
                return layer.display, ""
        return self.top, ""


# --------------------------------------------------------------------------- files inside the data
def _read_empiricals(value: Any, segs: tuple, origin: _Origins, problems: list[Problem], cache: dict) -> None:
    if isinstance(value, dict):
        if value.get("dist") == "empirical" and isinstance(value.get("csv"), str) and "values" not in value:
            _read_empirical(value, segs, origin, problems, cache)
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return
    for k, v in children:
        if isinstance(v, CONTAINERS):  # tested here: a call per number of every SKU was the walk's main cost
            _read_empiricals(v, segs + (k,), origin, problems, cache)


def _read_empirical(value: dict, segs: tuple, origin: _Origins, problems: list[Problem], cache: dict) -> None:
    """Replace the `csv` of the empirical distribution `value` (at `segs`) by the `values` it holds."""
    path = value["csv"]
    try:
        if path not in cache:
            cache[path] = read_empirical_csv(path, _display(path))
        value["values"] = list(cache[path])
        del value["csv"]
    except ScenarioError as exc:
        file, note = origin(segs + ("csv",))
        for p in exc.problems:
            shown = f"{show(p.value)} " if p.has_value else ""
            problems.append(Problem(file, format_path(segs + ("csv",)),
                                    f"{p.file}: {p.path + ': ' if p.path else ''}{shown}{p.rule}{note}"))
        cache[path] = []
        value.pop("csv", None)
        value["values"] = [0]  # placeholder so that only the file problem is reported


# --------------------------------------------------------------------------- public
def load_data(path: str | os.PathLike, overrides: Any = None, variants: Any = None) -> tuple[dict, _Origins]:
    """Steps 1-6 of loading: the merged raw data (mappings and lists, CSVs read in) ready for
    validation, and the provenance function naming the file each value came from."""
    top = str(path)
    abs_top = os.path.abspath(top)
    base_dir = os.path.dirname(abs_top)
    chain = _read_chain(abs_top, top)
    merged = _merge_chain(chain)
    origin = _Origins(top, chain)
    problems: list[Problem] = []
    chosen = _variant_changes(merged, _variant_names(variants), top, base_dir, problems)
    chosen += _override_changes(overrides, top, base_dir, problems)
    early = [c for c in chosen if c.segs[0] != "skus"]
    late = [c for c in chosen if c.segs[0] == "skus"]
    _apply(merged, early, top, problems, origin.applied)
    csv_path = merged.pop("skus_csv", None)
    if csv_path is not None:
        csv_file, csv_note = origin(("skus_csv",))
        if "skus" in merged:
            problems.append(Problem(csv_file, "skus_csv", "give either skus or skus_csv, not both"))
        elif not isinstance(csv_path, str) or not csv_path.strip():
            problems.append(Problem(csv_file, "skus_csv", "is not a file path" + csv_note, value=csv_path, has_value=True))
        else:
            try:
                check_input_path(csv_path, csv_file, "SKU CSV")
            except ScenarioError as exc:  # named by the file that points to it, unless simply missing
                if os.path.lexists(csv_path):
                    raise ScenarioError(problems + [Problem(csv_file, "skus_csv", p.rule + csv_note, value=csv_path,
                                                            has_value=True) for p in exc.problems]) from None
            try:
                rows, lines = read_skus_csv(csv_path, _display(csv_path))
            except ScenarioError as exc:
                raise ScenarioError(problems + exc.problems) from None
            merged["skus"] = rows
            origin.csv_display, origin.csv_lines = _display(csv_path), lines
    _apply(merged, late, top, problems, origin.applied)
    _read_empiricals(merged, (), origin, problems, {})
    hist = merged.get("demand_history_csv")
    if isinstance(hist, str):
        file, note = origin(("demand_history_csv",))
        if not os.path.lexists(hist):
            problems.append(Problem(file, "demand_history_csv", f"file not found ({hist}){note}"))
        else:
            try:  # a directory, FIFO, device or /proc file is refused here, before anything reads it
                check_input_path(hist, file, "demand history CSV")
            except ScenarioError as exc:
                problems.extend(Problem(file, "demand_history_csv", p.rule + note) for p in exc.problems)
    origin.pending = problems
    return merged, origin


def load(path: str | os.PathLike, overrides: Any = None, variants: Any = None) -> Scenario:
    """Load, merge and validate a scenario file into a frozen `Scenario`.

    `overrides`: {"costs.carrying_rate": 0.3, "skus[2].price": 30} (typed values) or a list of
    "PATH=VALUE" strings whose VALUE is YAML and `Override(path, value, label)` items (a value set
    by a named option such as --target: messages say "set by --target"), applied in order. `variants`: names (list or "a,b") of the file's
    `variants`, applied after `extends` and before `overrides`. Raises ScenarioError listing every
    problem (file, YAML path, value, rule)."""
    with without_gc_passes():  # loading builds small objects per cell of every SKU
        return _load(path, overrides, variants)


def _load(path: str | os.PathLike, overrides: Any, variants: Any) -> Scenario:
    merged, origin = load_data(path, overrides, variants)
    if origin.chain[-1].template:
        raise ScenarioError([Problem(str(path), "template", "this file is a template (template: true), only for "
                                     "`extends`: it is not run or validated on its own; use a scenario that extends it")])
    problems = list(origin.pending)
    try:
        scenario = validate(merged, origin)
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems) from None
    if problems:
        raise ScenarioError(problems)
    if scenario.demand_history_csv is not None:
        try:
            from scenarios.history import apply_history
        except ImportError:
            raise ScenarioError(
                [Problem(origin(("demand_history_csv",))[0], "demand_history_csv", "is not supported yet (scenarios.history is missing)")]
            ) from None
        scenario = apply_history(scenario, scenario.demand_history_csv, file=str(path))
    return scenario


def is_template(path: str | os.PathLike) -> bool:
    """Whether the scenario file at `path` says `template: true` at its top level (a file only for
    `extends`: `tradeoff batch` and `validate` skip it, `run` refuses it). False for a file that
    cannot be read or parsed (loading it then reports why)."""
    try:
        data = read_yaml(str(path), str(path))
    except (ScenarioError, OSError):
        return False
    return isinstance(data, dict) and data.get("template") is True


def summary(scenario: Scenario) -> str:
    """One line about a valid scenario: name, number of SKUs, modes, families."""
    modes = ", ".join(scenario.allowed_modes())
    fams = ", ".join(scenario.policies.families)
    return f"{scenario.name}: {len(scenario.skus)} SKUs, modes {modes}, families {fams}"


__all__ = ["load", "load_data", "is_template", "summary", "Layer", "Change", "Override"]
