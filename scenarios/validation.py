"""Validate merged scenario data with the pydantic schema and turn every failure into a `Problem`.

Validation is strict about types (YAML already types its values): text where a number is expected,
`true` where a number is expected, `7.5` where a whole number is expected are errors, not silently
converted. Every problem is collected, each with the YAML path in the format's notation
(`skus[3].demand.cv`), the offending value and the rule in plain words.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from scenarios.errors import Problem, ScenarioError, show
from scenarios.merge import PathError, Segment, format_path, parse_path
from scenarios.schema import (Policies, Scenario, backlog_possible, candidate_problems, class_problems, floor_problems,
                              id_problems, identifier_rule)
from scenarios.schema_walk import did_you_mean, dist_tag, known_keys_at, members, types_at
from scenarios.yaml_io import CONTAINERS

# origin(segs) -> (file to name, note to append to the rule, e.g. " (set by --set)")
Origin = Callable[[tuple[Segment, ...]], tuple[str, str]]


def _tuples(value: Any) -> Any:
    """A copy of YAML data with every list turned into a tuple."""
    if isinstance(value, dict):
        return {k: _tuples(v) if isinstance(v, CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return tuple([_tuples(v) if isinstance(v, CONTAINERS) else v for v in value])
    return value


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


def _is_member_segment(seg: Any) -> bool:
    # pydantic names union members in locations: "literal['auto']", "dict[...]", "function-after[...]"
    return isinstance(seg, str) and ("[" in seg or "(" in seg or "'" in seg)


def _walk_loc(loc: tuple, data: Any) -> tuple[tuple[Segment, ...], Any, str | None]:
    """Map a pydantic location onto the raw data: keep real keys and indices, drop discriminator
    tags and union-member names, stop at a bare number that stood for a distribution.
    Returns (path, raw value there, name of the union member crossed if any)."""
    segs: list[Segment] = []
    cur = data
    member = None
    for i, seg in enumerate(loc):
        if seg == "[key]":
            continue
        if isinstance(cur, list) and isinstance(seg, int):
            segs.append(seg)
            cur = cur[seg] if 0 <= seg < len(cur) else None
            continue
        if isinstance(cur, dict):
            if isinstance(seg, str) and seg in cur:
                segs.append(seg)
                cur = cur[seg]
                continue
            if isinstance(seg, str) and seg == cur.get("dist"):
                continue  # discriminator tag of a distribution
            if _is_member_segment(seg):
                member = member or seg
                continue
            if isinstance(cur, dict) and not isinstance(seg, str) and seg in cur:
                segs.append(str(seg))  # a non-text key (YAML `1:`): show it as a key, not an index
                cur = cur[seg]
                continue
            segs.append(seg)  # a missing key, or a key of a dict that failed
            cur = None
            continue
        if cur is None and not _is_member_segment(seg):
            segs.append(seg)
            continue
        if _is_member_segment(seg):
            member = member or seg
            continue
        # `cur` is a scalar: a bare number standing for {dist: fixed, value: ...}; the path ends here
        break
    return tuple(segs), cur, member


def _summary(v: Any) -> str:
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return f"a list of {len(v)} items"
    return repr(v)


def _dist_tags(segs: tuple[Segment, ...], data: Any) -> str:
    try:
        cands = types_at(segs, None)
    except KeyError:
        return ""
    tags = [dist_tag(c) for c in cands if isinstance(c, type) and issubclass(c, BaseModel)]
    return ", ".join(t for t in tags if t)


def _rule(err: dict, segs: tuple[Segment, ...], value: Any, data: Any) -> tuple[str, bool]:
    """(rule in plain words, whether the offending value is printed before it)."""
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t == "greater_than":
        return f"is not > {_num(ctx['gt'])}", True
    if t == "greater_than_equal":
        return f"is not >= {_num(ctx['ge'])}", True
    if t == "less_than":
        return f"is not < {_num(ctx['lt'])}", True
    if t == "less_than_equal":
        return f"is not <= {_num(ctx['le'])}", True
    if t == "finite_number":
        return "is not a finite number", True
    if t == "missing":
        return "is missing (required)", False
    if t == "literal_error":
        return f"is not one of {ctx.get('expected', '')}", True
    if t in ("int_type", "int_parsing", "int_from_float"):
        return "is not a whole number", True
    if t in ("float_type", "float_parsing"):
        return "is not a number", True
    if t in ("string_type",):
        return "is not text", True
    if t in ("bool_type", "bool_parsing"):
        return "is not true or false", True
    if t in ("model_type", "model_attributes_type", "dict_type"):
        return "is not a mapping", True
    if t in ("tuple_type", "list_type"):
        return "is not a list", True
    if t == "too_short":
        return f"has {ctx.get('actual_length')} items, needs at least {ctx.get('min_length')}", False
    if t == "too_long":
        return f"has {ctx.get('actual_length')} items, at most {ctx.get('max_length')} allowed", False
    if t == "string_too_short":
        return "is empty (needs at least 1 character)", True
    if t == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters", True
    if t == "string_pattern_mismatch":
        return "does not match [a-z0-9_-]+ (lower-case letters, digits, _ and -)", True
    if t == "union_tag_invalid":
        return f"is not a known distribution here (one of {ctx.get('expected_tags', '')})", True
    if t == "union_tag_not_found":
        return f"is missing: a distribution needs dist (one of {_dist_tags(segs[:-1], data)})", False
    if t in ("value_error", "assertion_error"):
        msg = err["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        return msg, False
    return err["msg"][:1].lower() + err["msg"][1:], True


def _compatible(member: str | None, value: Any) -> bool:
    """Whether a union branch could have been meant for this value (a mapping for a dict branch...)."""
    if member is None:
        return True
    container = member.startswith(("dict", "tuple", "list")) or member[:1].isupper()
    return container == isinstance(value, (dict, list))


def pydantic_problems(exc: ValidationError, data: dict, origin: Origin) -> list[Problem]:
    """Every pydantic error as a Problem (file, YAML path, value, rule); cross-field messages of the
    form "path: message" (one per line) are split into one Problem each."""
    raw: list[tuple[tuple[Segment, ...], Any, bool, str, str | None]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "too_short":
            found, value = _lookup(data, loc)
            actual = (err.get("ctx") or {}).get("actual_length", 0)
            if found and isinstance(value, list) and len(value) > actual:
                continue  # pydantic counts only the items that validated; the items' errors say why
        if loc == () and err["type"] == "value_error":
            for line in _rule(err, (), None, data)[0].splitlines():
                head, sep, rest = line.partition(": ")
                try:
                    segs = parse_path(head) if sep else ()
                except PathError:
                    segs, rest = (), line
                raw.append((segs, None, False, rest if sep else line, None))
            continue
        segs, value, member = _walk_loc(loc, data)
        if err["type"] == "union_tag_invalid":
            segs, value = segs + ("dist",), (err.get("ctx") or {}).get("tag")
        elif err["type"] == "union_tag_not_found":
            segs = segs + ("dist",)
        elif err["type"] == "invalid_key":
            key = err.get("input")
            parent = segs[:-1] if segs else ()
            raw.append((parent + (str(key),), None, False,
                        f"key {show(key)} is not text (YAML read it as {type(key).__name__}; quote it)", None))
            continue
        elif err["type"] == "extra_forbidden":
            key = segs[-1] if segs else loc[-1]
            known = known_keys_at(segs[:-1], data)
            raw.append((segs, None, False, did_you_mean(key, known) if known else f"unknown key {show(key)}", None))
            continue
        elif loc and loc[-1] == "[key]":
            value = err.get("input")
        rule, has_value = _rule(err, segs, value, data)
        if has_value and isinstance(value, (dict, list)):
            rule, has_value = f"{_summary(value)} {rule}", False
        raw.append((segs, value, has_value, rule, member))
    # A union (e.g. policies.candidates: 'auto' or a mapping) reports one error per branch: keep
    # the branch that matches the kind of value written.
    by_path: dict[tuple, list] = {}
    for item in raw:
        by_path.setdefault(item[0], []).append(item)
    problems: list[Problem] = []
    for item in raw:
        segs, value, has_value, rule, member = item
        siblings = by_path[segs]
        if member is not None and not _compatible(member, _lookup(data, segs)[1]):
            if any(s[4] is not None and _compatible(s[4], _lookup(data, segs)[1]) for s in siblings):
                continue
        file, note = origin(segs)
        problems.append(Problem(file=file, path=format_path(segs), rule=rule + note,
                                value=value if has_value else None, has_value=has_value))
    return problems


def _lookup(data: Any, loc: tuple) -> tuple[bool, Any]:
    cur = data
    for s in loc:
        if isinstance(cur, dict) and s in cur:
            cur = cur[s]
        elif isinstance(cur, list) and isinstance(s, int) and 0 <= s < len(cur):
            cur = cur[s]
        else:
            return False, None
    return True, cur


def raw_cross_problems(data: dict) -> list[tuple[str, str]]:
    """The cross-field rules of `Scenario._cross_rules`, checked on raw (possibly broken) data so
    that they are reported together with field errors; same messages, as (path, rule) pairs."""
    out: list[tuple[str, str]] = []
    transport = data.get("transport")
    modes: list[str] | None = None
    if isinstance(transport, list) and all(isinstance(m, dict) and isinstance(m.get("name"), str) for m in transport):
        modes = [m["name"] for m in transport]
        for i, name in enumerate(modes):
            if modes.index(name) != i:
                out.append((f"transport[{i}].name", f"{name!r} is a duplicate mode name"))
    if modes is not None:
        exp = data.get("expedite")
        if isinstance(exp, dict) and isinstance(exp.get("mode"), str) and exp["mode"] not in modes:
            out.append(("expedite.mode", f"{show(exp['mode'])} is not a transport mode {modes}"))
        pol = data.get("policies")
        if isinstance(pol, dict) and isinstance(pol.get("modes"), list):
            for i, m in enumerate(pol["modes"]):
                if isinstance(m, str) and m not in modes:
                    out.append((f"policies.modes[{i}]", f"{show(m)} is not a transport mode {modes}"))
    skus = data.get("skus")
    service = data.get("service") if isinstance(data.get("service"), dict) else {}
    reaction = data.get("customer_reaction") if isinstance(data.get("customer_reaction"), dict) else {}
    backlog = backlog_possible(reaction.get("wait", 1.0), data.get("expedite"))
    pol = data.get("policies") if isinstance(data.get("policies"), dict) else {}
    defaults = Policies.model_fields
    lines = candidate_problems(pol.get("candidates"), pol.get("families", defaults["families"].default),
                               pol.get("review_periods", defaults["review_periods"].default), backlog)
    if isinstance(skus, list):
        entries = [(i, sku) for i, sku in enumerate(skus) if isinstance(sku, dict)]
        lines += id_problems([(f"skus[{i}].id", sku["id"]) for i, sku in entries
                              if isinstance(sku.get("id"), str) and sku["id"] and identifier_rule(sku["id"]) is None])
        named = [(f"skus[{i}].class", sku["class"]) for i, sku in entries
                 if isinstance(sku.get("class"), str) and identifier_rule(sku["class"]) is None]
        lines += class_problems(named)
        if all(isinstance(sku.get("class"), (str, type(None))) for _, sku in entries):
            lines += floor_problems(service.get("floors"), [sku.get("class") for _, sku in entries])
    for line in lines:
        head, _, rest = line.partition(": ")
        out.append((head, rest))
    if isinstance(skus, list):
        for i, sku in enumerate(skus):
            if not isinstance(sku, dict):
                continue
            cp0 = sku.get("current_policy")
            if isinstance(cp0, dict) and is_finite_number(cp0.get("s")) and cp0["s"] < 0 and not backlog:
                out.append((f"skus[{i}].current_policy.s", f"{cp0['s']:g} is below 0, but no customer waits for stock "
                            "here (customer_reaction.wait is 0, or shortages are expedited), so the inventory "
                            "position never falls below 0 and this policy would never order"))
            if sku.get("demand") is None and data.get("demand_history_csv") is None:
                out.append((f"skus[{i}].demand", "missing (required unless demand_history_csv is given)"))
            uc, pr = sku.get("unit_cost"), sku.get("price")
            if is_finite_number(uc) and is_finite_number(pr) and uc > 0 and 0 < pr < uc:
                out.append((f"skus[{i}]", f"price {float(pr)} is not >= unit_cost {float(uc)}"))
            cp = sku.get("current_policy")
            if modes is not None and isinstance(cp, dict) and isinstance(cp.get("mode"), str) and cp["mode"] not in modes:
                out.append((f"skus[{i}].current_policy.mode", f"{show(cp['mode'])} is not a transport mode {modes}"))
    return out


def validate(data: dict, origin: Origin) -> Scenario:
    """Validate merged, CSV-expanded data into a frozen Scenario, or raise one ScenarioError with
    every problem found (field rules and cross-field rules together)."""
    try:
        # strict: YAML has typed every value already, so no text->number or bool->number coercion;
        # lists become tuples because strict mode takes only tuples for the schema's tuple fields
        return Scenario.model_validate(_tuples(data), strict=True)
    except ValidationError as exc:
        problems = pydantic_problems(exc, data, origin)
        cross_ran = any(tuple(e["loc"]) == () and e["type"] == "value_error" for e in exc.errors())
        if not cross_ran:
            for path, rule in raw_cross_problems(data):
                try:
                    segs = parse_path(path)
                except PathError:
                    segs = ()
                file, note = origin(segs)
                problems.append(Problem(file=file, path=path, rule=rule + note))
        seen: set = set()
        unique = []
        for p in problems:
            key = (p.file, p.path, p.rule, repr(p.value), p.has_value)
            if key not in seen:
                seen.add(key)
                unique.append(p)
        raise ScenarioError(unique) from None


def is_finite_number(x: Any) -> bool:
    """True for an int or float that is neither NaN nor infinite (bools are not numbers here)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


__all__ = ["validate", "pydantic_problems", "raw_cross_problems", "members", "is_finite_number"]
