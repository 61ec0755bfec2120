"""The scenario format, version 1, as a frozen pydantic schema.

Field names are those of ../shared/docs/scenario-format.md (the contract with users). Every model
forbids unknown keys and is immutable. Units: money in the scenario's currency, time in periods,
quantities in units. Only rules that need one value (or one mapping) live here; rules that need the
whole scenario (mode names exist, ids unique, ...) are in `Scenario`'s model validator, so that all
problems are collected in one pass and reported together by `scenarios.errors`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FAMILIES = ("base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock")
SERVICE_METRICS = ("fill_rate", "cycle_service_level", "order_fill_rate", "on_time_rate")
NAME_PATTERN = r"^[a-z0-9_-]+$"

Family = Literal["base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock"]


# --------------------------------------------------------------------------- identifiers
# SKU ids and class names are free text chosen by the user and written into every output (CSV cells,
# folder-free tables, reports): text a reader cannot see, or that two tools read differently, is
# refused. Characters refused: control characters (Unicode Cc), line and paragraph separators, and
# the invisible format characters that hide or reorder text (zero-width space, word joiner, BOM,
# bidirectional embeddings, overrides and isolates: the "Trojan Source" characters).
_INVISIBLE = frozenset("\u200b\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\u200e\u200f")


def _show(text: str) -> str:
    from scenarios.errors import show

    return show(text)


def _hidden_character(value: str, allowed: str = "") -> str | None:
    """The first character of `value` a reader cannot see (outside `allowed`), described with its
    code point and position, or None."""
    if value.isascii() and value.isprintable():
        return None  # the common case, checked in C: printable ASCII has no control or invisible character
    return _hidden_character_by_walk(value, allowed)


def _hidden_character_by_walk(value: str, allowed: str = "") -> str | None:
    """_hidden_character without its ASCII shortcut: every character's Unicode category."""
    for i, ch in enumerate(value):
        if ch in allowed:
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp") or ch in _INVISIBLE:
            kind = "control" if cat == "Cc" else ("line or paragraph separator" if cat in ("Zl", "Zp") else "invisible")
            return f"the {kind} character U+{ord(ch):04X} at position {i + 1}"
    return None


def identifier_rule(value: str) -> str | None:
    """Why `value` cannot be an identifier (SKU id, class, ...), or None. The message starts with the value."""
    hidden = _hidden_character(value)
    if hidden is not None:
        return f"{_show(value)} holds {hidden} (identifiers are plain visible text)"
    if value and not value.strip():
        return f"{_show(value)} is blank (only spaces)"
    if value != value.strip():
        return f"{_show(value)} has leading or trailing whitespace (write the identifier without it)"
    return None


MAX_DESCRIPTION = 4000  # characters: a paragraph or two; the report shows it whole


def free_text_rule(value: str) -> str | None:
    """Why `value` cannot be free text (a scenario's description), or None: line breaks and tabs are
    text, but other control characters (a terminal's escape sequences, NUL) and the invisible
    characters identifiers refuse are not, and nobody writes more than MAX_DESCRIPTION characters."""
    if len(value) > MAX_DESCRIPTION:
        return f"{_show(value)} is {len(value)} characters long, over the limit of {MAX_DESCRIPTION}"
    hidden = _hidden_character(value, allowed="\n\t")
    return None if hidden is None else f"{_show(value)} holds {hidden} (text may hold line breaks and tabs, no other control character)"


def normal_id(value: str) -> str:
    """The identifier as compared and kept: Unicode NFC (an 'é' typed as one character or as e +
    combining accent is the same id)."""
    return unicodedata.normalize("NFC", value)


def _identifier(value: str) -> str:
    if value.isascii() and value.isprintable() and value.strip() == value:
        return value  # the usual id, checked in C: nothing to refuse, and NFC leaves ASCII as it is
    return _identifier_by_rule(value)


def _identifier_by_rule(value: str) -> str:
    """_identifier without its ASCII shortcut: the identifier rule, then NFC."""
    rule = identifier_rule(value)
    if rule is not None:
        raise ValueError(rule)
    return normal_id(value)


def id_problems(items: list[tuple[str, str]], what: str = "id") -> list[str]:
    """Duplicates among (path, identifier) pairs, as "path: message" lines: equal once
    NFC-normalised, or differing only by letter case (refused: Excel, Windows and macOS file systems
    and many databases treat 'A1' and 'a1' as one)."""
    if len({normal_id(raw).casefold() for _, raw in items}) == len(items):
        return []  # all differ even by case: the usual answer, found without the messages' bookkeeping
    out: list[str] = []
    seen: dict[str, tuple[str, str]] = {}
    folded: dict[str, tuple[str, str]] = {}
    for path, raw in items:
        value = normal_id(raw)
        if value in seen:
            first_path, first_raw = seen[value]
            same = "" if value.isascii() else " (ids are compared once Unicode-normalised, NFC)"
            out.append(f"{path}: {_show(raw)} duplicates {first_path}{same}")
            continue
        key = value.casefold()
        if key in folded:
            first_path, first_raw = folded[key]
            out.append(f"{path}: {_show(raw)} differs from {first_path} {_show(first_raw)} only by letter case "
                       f"({what}s that differ only by case are refused: Excel and case-insensitive file systems "
                       "treat them as one)")
        seen[value] = (path, raw)
        folded.setdefault(key, (path, raw))
    return out


def class_problems(classes: list[tuple[str, str]]) -> list[str]:
    """Class names that differ only by letter case ('A' on one SKU, 'a' on another): almost always a typo
    that would silently make a class without a floor."""
    out: list[str] = []
    first: dict[str, tuple[str, str]] = {}
    for path, raw in classes:
        value = normal_id(raw)
        key = value.casefold()
        if key in first and normal_id(first[key][1]) != value:
            out.append(f"{path}: class {_show(raw)} differs from class {_show(first[key][1])} of {first[key][0]} "
                       "only by letter case (write one spelling)")
            continue
        first.setdefault(key, (path, raw))
    return out


ABC_CLASSES = ("A", "B", "C")


def floor_problems(floors: Any, classes: list[str | None]) -> list[str]:
    """Class floors naming a class no SKU can have: a class written on a SKU, or A, B, C when some SKU
    has no class (then ABC classification gives it one)."""
    if not isinstance(floors, Mapping):
        return []
    known = {normal_id(c) for c in classes if isinstance(c, str)}
    if any(c is None for c in classes):
        known |= set(ABC_CLASSES)
    out: list[str] = []
    for key in floors:
        if not isinstance(key, str) or identifier_rule(key) is not None or normal_id(key) in known:
            continue  # a key that is no identifier is reported by the schema
        listed = ", ".join(sorted(known)) or "none"
        close = [k for k in known if k.casefold() == normal_id(key).casefold()]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        out.append(f"service.floors.{key}: no SKU has class {_show(key)} (classes: {listed}; A, B and C exist "
                   f"only when some SKU has no class and is classified by ABC){hint}")
    return out


# --------------------------------------------------------------------------- explicit candidates
CANDIDATE_KEYS = {
    "base_stock": ("S", "R"), "sS": ("s", "S", "R"), "rQ": ("s", "Q", "R"), "RS": ("S", "R"),
    "RsS": ("s", "S", "R"), "capped_base_stock": ("S", "cap", "R"),
}
FAMILY_NEEDS = {
    "base_stock": ("S",), "sS": ("s", "S"), "rQ": ("s", "Q"), "RS": ("S",), "RsS": ("s", "S"),
    "capped_base_stock": ("S", "cap"),
}


def _number(x: Any) -> float | None:
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


def candidate_problems(candidates: Any, families: Any, review_periods: Any, backlog: bool) -> list[str]:
    """The rules of explicit `policies.candidates`, as "path: message" lines (used on validated and on
    raw data alike): each family listed in policies.families; each entry holds only the parameters
    its family uses, all it needs, S >= 0, S > s (sS, RsS), Q > 0, cap > 0, R a whole number >= 0
    (>= 1 for RS and RsS, given or found in policies.review_periods), and s >= 0 unless a backlog
    can form (with no waiting customer the inventory position never falls below 0, and a policy
    with s < 0 would never order)."""
    out: list[str] = []
    if not isinstance(candidates, Mapping):
        return out
    fams = [f for f in families] if isinstance(families, (list, tuple)) else None
    periods = [r for r in review_periods if _number(r) is not None] if isinstance(review_periods, (list, tuple)) else []
    for family, rows in candidates.items():
        if family not in FAMILY_NEEDS:
            continue  # an unknown family is a type error of the schema
        base = f"policies.candidates.{family}"
        if fams is not None and family not in fams:
            out.append(f"{base}: family {family} is not in policies.families ({', '.join(map(str, fams))}); "
                       "add it there or remove these candidates")
        if not isinstance(rows, (list, tuple)):
            continue
        keys = CANDIDATE_KEYS[family]
        for k, row in enumerate(rows):
            if not isinstance(row, Mapping):
                continue
            where = f"{base}[{k}]"
            for key in row:
                if key not in keys:
                    out.append(f"{where}.{key}: is not a parameter of family {family} (it takes {', '.join(keys)})")
            missing = [p for p in FAMILY_NEEDS[family] if p not in row]
            if missing:
                out.append(f"{where}: family {family} needs {', '.join(missing)}")
            s, S, Q, R, cap = (_number(row.get(p)) for p in ("s", "S", "Q", "R", "cap"))
            if S is not None and S < 0:
                out.append(f"{where}.S: {S:g} is not >= 0")
            if family in ("sS", "RsS") and s is not None and S is not None and not S > s:
                out.append(f"{where}.S: S {S:g} is not > s {s:g}")
            if Q is not None and "Q" in keys and Q <= 0:
                out.append(f"{where}.Q: {Q:g} is not > 0")
            if cap is not None and "cap" in keys and cap <= 0:
                out.append(f"{where}.cap: {cap:g} is not > 0")
            if R is not None and (R < 0 or R != int(R)):
                out.append(f"{where}.R: {R:g} is not a whole number >= 0")
            elif family in ("RS", "RsS"):
                if R is not None and R < 1:
                    out.append(f"{where}.R: family {family} needs R >= 1 (periodic review)")
                elif R is None and not any(r >= 1 for r in periods):
                    out.append(f"{where}: family {family} needs R >= 1: give R here, or a review period >= 1 "
                               "in policies.review_periods")
            if s is not None and s < 0 and not backlog and "s" in keys:
                out.append(f"{where}.s: {s:g} is below 0, but no customer waits for stock here "
                           "(customer_reaction.wait is 0, or shortages are expedited), so the inventory position "
                           "never falls below 0 and this policy would never order")
    return out


def backlog_possible(wait: Any, expedite: Any) -> bool:
    """Whether a backlog can form: some customers wait (customer_reaction.wait > 0) and shortages are
    not expedited. Without one the inventory position never falls below 0."""
    w = _number(wait)
    return (w if w is not None else 1.0) > 0 and expedite is None


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are frozen, NaN/inf refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)


class FrozenDict(dict):
    """A dict that refuses changes: the mapping fields of a frozen Scenario (service.floors,
    policies.candidates, variants) are read-only like the rest of it. Reads, equality, JSON and
    pickling behave as for a dict."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a scenario is frozen: its mappings are read-only (build a new scenario instead)")

    __setitem__ = __delitem__ = __ior__ = _read_only  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __reduce__(self):  # pickle/copy rebuild through __init__, never item by item
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> "FrozenDict":
        return self

    def __deepcopy__(self, memo: dict) -> "FrozenDict":
        return self


def freeze(value: Any) -> Any:
    """Nested dicts -> FrozenDict and lists -> tuples (values inside a frozen scenario)."""
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Level = Annotated[float, Field(gt=0, lt=1)]


# --------------------------------------------------------------------------- distributions
class Fixed(Strict):
    """A fixed value (a bare number in YAML means this)."""

    dist: Literal["fixed"] = "fixed"
    value: NonNeg


class Poisson(Strict):
    """Poisson with the given mean (units per period, or orders per period in `compound`)."""

    dist: Literal["poisson"]
    mean: NonNeg


class NegBin(Strict):
    """Negative binomial by mean and coefficient of variation; needs cv > 1/sqrt(mean) (over-dispersed)."""

    dist: Literal["negbin"]
    mean: Pos
    cv: Pos

    @model_validator(mode="after")
    def _overdispersed(self) -> "NegBin":
        if self.cv <= 1 / math.sqrt(self.mean):
            raise ValueError(
                f"cv {self.cv} is not > 1/sqrt(mean) = {1 / math.sqrt(self.mean):.4g} "
                "(a negative binomial must be over-dispersed; use poisson)"
            )
        return self


class Normal(Strict):
    """Normal, truncated at 0 and rounded to whole units when it gives unit counts."""

    dist: Literal["normal"]
    mean: NonNeg
    sd: NonNeg


class Gamma(Strict):
    """Gamma by mean and coefficient of variation."""

    dist: Literal["gamma"]
    mean: Pos
    cv: Pos


class Uniform(Strict):
    """Uniform on [low, high]: whole numbers (ceil(low) .. floor(high)) for unit counts and lead times; real
    numbers, not rounded, for the order cycle's transmittal, processing and delivery times."""

    dist: Literal["uniform"]
    low: NonNeg
    high: NonNeg

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.high < self.low:
            raise ValueError(f"high {self.high} is not >= low {self.low}")
        return self


class Empirical(Strict):
    """Resampling of observed values; `csv` (one column of numbers) is read into `values` by the loader."""

    dist: Literal["empirical"]
    values: tuple[NonNeg, ...] | None = None
    csv: str | None = None
    # Added to format 1: resample `values` (read as a time series) in circular blocks of this many
    # consecutive periods, keeping runs of zeros and short-term correlation (demand only).
    block: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "Empirical":
        if (self.values is None) == (self.csv is None):
            raise ValueError("give exactly one of values or csv")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("values is empty")
        return self


def _number_means_fixed(value: Any) -> Any:
    """A bare number in YAML is a fixed value."""
    if isinstance(value, bool):
        return value  # let pydantic reject it with a type message
    if isinstance(value, (int, float)):
        return {"dist": "fixed", "value": value}
    return value


SimpleDist = Annotated[
    Union[Fixed, Poisson, NegBin, Normal, Gamma, Uniform, Empirical], Field(discriminator="dist")
]


class Compound(Strict):
    """Intermittent demand: a number of customer orders per period, each with its own size."""

    dist: Literal["compound"]
    orders: SimpleDist
    size: SimpleDist

    @field_validator("orders", "size", mode="before")
    @classmethod
    def _fixed(cls, v: Any) -> Any:
        return _number_means_fixed(v)


Distribution = Annotated[
    Union[Fixed, Poisson, NegBin, Normal, Gamma, Uniform, Empirical], Field(discriminator="dist")
]
DemandDistribution = Annotated[
    Union[Fixed, Poisson, NegBin, Normal, Gamma, Uniform, Empirical, Compound],
    Field(discriminator="dist"),
]


# The families given by their mean. The moments below look them up by exact type first: isinstance
# misses on pydantic classes add up, because loading, ABC classes and the optimiser take the moments
# of every SKU's demand. The isinstance chains after that stay the general rule.
_MEAN_FAMILIES = frozenset({Poisson, NegBin, Normal, Gamma})


def dist_mean(d: Any) -> float:
    """Mean of a distribution (units or periods); compound = mean orders x mean size."""
    if type(d) in _MEAN_FAMILIES:
        return float(d.mean)
    if isinstance(d, Fixed):
        return float(d.value)
    if isinstance(d, (Poisson, NegBin, Normal, Gamma)):
        return float(d.mean)
    if isinstance(d, Uniform):
        return (d.low + d.high) / 2
    if isinstance(d, Empirical):
        return float(sum(d.values)) / len(d.values) if d.values else 0.0
    if isinstance(d, Compound):
        return dist_mean(d.orders) * dist_mean(d.size)
    raise TypeError(d)


def dist_var(d: Any) -> float:
    """Variance of a distribution (before rounding or truncation)."""
    if isinstance(d, Poisson):  # the mean families first (see _MEAN_FAMILIES)
        return float(d.mean)
    if isinstance(d, (NegBin, Gamma)):
        return float((d.cv * d.mean) ** 2)
    if isinstance(d, Normal):
        return float(d.sd**2)
    if isinstance(d, Fixed):
        return 0.0
    if isinstance(d, Uniform):
        return (d.high - d.low) ** 2 / 12
    if isinstance(d, Empirical):
        m = dist_mean(d)
        return sum((v - m) ** 2 for v in d.values) / len(d.values) if d.values else 0.0
    if isinstance(d, Compound):
        mo, vo = dist_mean(d.orders), dist_var(d.orders)
        ms, vs = dist_mean(d.size), dist_var(d.size)
        return mo * vs + vo * ms**2
    raise TypeError(d)


# --------------------------------------------------------------------------- world
class Horizon(Strict):
    """Simulated periods: `warmup` periods first (simulated, not counted), then `periods` counted."""

    periods: int = Field(365, ge=1)
    warmup: int = Field(0, ge=0)
    periods_per_year: Pos = 365.0
    # spread: the replications start at points spread over each policy's replenishment cycle (no
    # free first cycle); full: every replication starts at the order-up-to level (simulation.start).
    start: Literal["spread", "full"] = "spread"


class Warehousing(Strict):
    per_unit_period: NonNeg = 0.0
    capacity_units: Pos | None = None


class Costs(Strict):
    """Cost parameters; see docs/domain.md for the six buckets they feed."""

    carrying_rate: NonNeg = 0.25
    in_transit_rate: NonNeg | None = None
    holding_per_unit_period: NonNeg | None = None
    order_cost: NonNeg = 0.0
    order_processing: NonNeg = 0.0
    warehousing: Warehousing = Warehousing()
    lost_sale: NonNeg | None = None
    goodwill: NonNeg = 0.0
    backorder_per_unit: NonNeg = 0.0
    backorder_per_unit_period: NonNeg = 0.0
    substitution: NonNeg | None = None
    lost_customer: NonNeg = 0.0


class RepeatedStockout(Strict):
    window: int = Field(90, ge=1)
    threshold: int = Field(2, ge=1)
    defect_probability: Share = 0.3




class ReactionShares(Strict):
    """Shares of the three reactions to a short order, summing to 1: a customer tier's own
    (customer_tiers.tiers[].reaction; partial shipments and the repeated-stockout rule stay those of
    customer_reaction), and the base of CustomerReaction."""

    wait: Share = 1.0
    substitute: Share = 0.0
    lost_sale: Share = 0.0

    @model_validator(mode="after")
    def _sum_to_one(self) -> "ReactionShares":
        total = self.wait + self.substitute + self.lost_sale
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"wait + substitute + lost_sale = {total:g}, must sum to 1")
        return self


class CustomerReaction(ReactionShares):
    """Shares of the three reactions to a short order (they must sum to 1), partial shipments and the
    optional defection rule."""

    partial_shipments: bool = True
    repeated_stockout: RepeatedStockout | None = None


class CustomerTier(Strict):
    """One class of accounts (key, medium, small ...): its share of each SKU's customer orders, its
    reaction to a stockout, its shortage cost, its promised order cycle and its service floor. Unset
    values are the scenario's (customer_reaction, costs.goodwill, costs.lost_customer,
    order_cycle.promised). docs/tiers.md."""

    name: str = Field(pattern=NAME_PATTERN, max_length=40)
    share: Annotated[float, Field(gt=0, le=1)] | None = None
    spend_share: Annotated[float, Field(gt=0, le=1)] | None = None
    min_annual_spend: NonNeg | None = None
    reaction: ReactionShares | None = None
    goodwill: NonNeg | None = None
    lost_customer: NonNeg | None = None
    promised: NonNeg | None = None
    floor: Annotated[float, Field(gt=0, le=1)] | None = None


ALLOCATIONS = ("fifo", "priority", "critical_level")


class CustomerTiers(Strict):
    """Customer tiers, the top tier first, and the rule that allocates scarce stock among them:
    fifo (first come, first served), priority (a higher tier's waiting orders are served first) or
    critical_level (rationing: a lower tier is served from stock only above its critical level)."""

    allocation: Literal["fifo", "priority", "critical_level"] = "fifo"
    tiers: tuple[CustomerTier, ...] = Field(min_length=2, max_length=8)
    # own: a tier's demand is its own model (skus[].tier_demand, or fitted from the history's sales to
    # the tier's customers); thinned: the SKU's demand split by the tier shares (docs/tiers.md).
    demand: Literal["own", "thinned"] = "own"

    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)


class OrderCycle(Strict):
    """Outbound order cycle elements in periods, drawn as real numbers (not rounded to whole periods);
    `promised` is the on-time limit."""

    transmittal: Distribution = Fixed(value=0)
    processing: Distribution = Fixed(value=0)
    delivery: Distribution = Fixed(value=0)
    promised: NonNeg = 2.0

    @field_validator("transmittal", "processing", "delivery", mode="before")
    @classmethod
    def _fixed(cls, v: Any) -> Any:
        return _number_means_fixed(v)


class TransportMode(Strict):
    """An inbound replenishment mode: lead time in periods (rounded, >= 0), costs per vehicle and unit."""

    name: str = Field(pattern=NAME_PATTERN)
    lead_time: Distribution
    cost_per_shipment: NonNeg = 0.0
    cost_per_unit: NonNeg = 0.0
    vehicle_capacity: Pos | None = None
    capacity_per_period: Pos | None = None

    @field_validator("lead_time", mode="before")
    @classmethod
    def _fixed(cls, v: Any) -> Any:
        return _number_means_fixed(v)


class Expedite(Strict):
    mode: str


class Abc(Strict):
    A: Level = 0.80
    B: Level = 0.95

    @model_validator(mode="after")
    def _ordered(self) -> "Abc":
        if self.B <= self.A:
            raise ValueError(f"B {self.B} is not > A {self.A} (cumulative cut-offs)")
        return self


class Service(Strict):
    """The service rules: which metric, an aggregate target, class floors, a SKU floor, the frontier."""

    metric: Literal["fill_rate", "cycle_service_level", "order_fill_rate", "on_time_rate"] = "fill_rate"
    target: Annotated[float, Field(gt=0, le=1)] | None = None
    floors: dict[str, Annotated[float, Field(gt=0, le=1)]] = FrozenDict()
    sku_floor: Annotated[float, Field(gt=0, le=1)] | None = None
    # The default reaches 99.9 % so that the curve passes the cost optimum (the total-cost "U").
    frontier: tuple[Annotated[float, Field(gt=0, le=1)], ...] = (
        0.80, 0.85, 0.90, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999,
    )
    abc: Abc = Abc()
    # Added to format 1 (docs/tiers.md): draw the exchange curve for one customer tier's level.
    frontier_tier: str | None = None

    @field_validator("floors")
    @classmethod
    def _frozen_floors(cls, v: dict) -> dict:
        problems, out = [], {}
        for key, level in v.items():
            rule = identifier_rule(key)
            if rule is not None:
                problems.append(f"class {rule}")
                continue
            name = normal_id(key)
            if name in out:
                problems.append(f"class {_show(key)} is given twice (the same text once Unicode-normalised, NFC)")
            out[name] = level
        if problems:
            raise ValueError("; ".join(problems))
        return freeze(out)


class Budget(Strict):
    inventory_value: Pos | None = None


class Solver(Strict):
    """HiGHS settings (added to format v1): wall-clock limit in seconds and relative MIP gap."""

    time_limit: Pos = 60.0
    mip_gap: Annotated[float, Field(ge=0, lt=1)] = 1e-4


class Policy(Strict):
    """One inventory policy. `s` is the reorder point (also r of rQ), `S` the order-up-to level,
    `Q` the lot size, `R` the review period (0 = continuous), `cap` the per-order cap."""

    family: Family
    mode: str | None = None
    s: float | None = None
    S: float | None = None
    Q: Pos | None = None
    R: int = Field(0, ge=0)
    cap: Pos | None = None

    @model_validator(mode="after")
    def _parameters(self) -> "Policy":
        missing = [p for p in FAMILY_NEEDS[self.family] if getattr(self, p) is None]
        if missing:
            raise ValueError(f"family {self.family} needs {', '.join(missing)}")
        if self.family in ("RS", "RsS") and self.R < 1:
            raise ValueError(f"family {self.family} needs R >= 1 (periodic review)")
        if self.family in ("sS", "RsS") and not self.S > self.s:
            raise ValueError(f"S {self.S} is not > s {self.s}")
        if self.S is not None and self.S < 0:
            raise ValueError(f"S {self.S} is not >= 0")
        return self


class Policies(Strict):
    """Which policies the optimiser may choose among."""

    families: tuple[Family, ...] = ("sS", "rQ", "RS", "base_stock")
    modes: tuple[str, ...] | None = None
    review_periods: tuple[Annotated[int, Field(ge=0)], ...] = (0, 1, 7)
    moq: Annotated[int, Field(ge=0)] = 0
    pack_size: Annotated[int, Field(ge=1)] = 1
    candidates: Literal["auto"] | dict[Family, tuple[dict[str, float], ...]] = "auto"
    # false: the explicit candidates are the only policies simulated (no refine neighbours, no
    # exchange-curve or price refinement); needs explicit `candidates`.
    expand: bool = True

    @field_validator("families", "review_periods")
    @classmethod
    def _non_empty(cls, v: tuple) -> tuple:
        if len(v) == 0:
            raise ValueError("is empty")
        return v

    @field_validator("candidates")
    @classmethod
    def _frozen_candidates(cls, v: Any) -> Any:
        return freeze(v)


class Sku(Strict):
    """One stock-keeping unit: costs, price, class, demand per period, customer base, current policy."""

    id: str = Field(min_length=1)
    unit_cost: Pos
    price: Pos
    class_: str | None = Field(None, alias="class")
    demand: DemandDistribution | None = None
    customers: Annotated[int, Field(ge=1)] | None = None
    current_policy: Policy | None = None
    tier_shares: dict[str, Share] | None = None
    tier_demand: dict[str, DemandDistribution] | None = None

    @field_validator("tier_shares", "tier_demand")
    @classmethod
    def _frozen_tier_shares(cls, v: dict | None) -> dict | None:
        return None if v is None else freeze(v)

    @field_validator("tier_demand", mode="before")
    @classmethod
    def _fixed_tier_demand(cls, v: Any) -> Any:
        return {k: _number_means_fixed(x) for k, x in v.items()} if isinstance(v, dict) else v

    @field_validator("id", "class_")
    @classmethod
    def _identifier(cls, v: str | None) -> str | None:
        return None if v is None else _identifier(v)

    @field_validator("demand", mode="before")
    @classmethod
    def _fixed(cls, v: Any) -> Any:
        return _number_means_fixed(v)

    @model_validator(mode="after")
    def _price(self) -> "Sku":
        if self.price < self.unit_cost:
            raise ValueError(f"price {self.price} is not >= unit_cost {self.unit_cost}")
        return self


# --------------------------------------------------------------------------- size limits
# Unit counts (demand per period, policy levels, lot sizes) are simulated as 64-bit integers and
# summed in float64 counters; below this limit every stock level stays far inside int64 and every
# count over any horizon stays near-exact, so a larger value is refused instead of overflowing.
MAX_UNITS = 1e12
# The defection rule keeps, per customer, the periods of their last `threshold` stockouts: memory
# grows with customers x threshold, so the product is bounded (8 bytes each: 80 MB at the limit).
MAX_CUSTOMER_HISTORY = 10_000_000
DEMAND_SPREAD_SDS = 10  # a demand's size is judged by mean + 10 sd (the largest draws one meets)
# Periods are simulated one by one with per-period arrays (the pipeline of arrivals spans the longest
# lead time): a horizon or a lead time beyond this would exhaust memory or run for days.
MAX_PERIODS = 1_000_000


def demand_size(d: Any) -> float:
    """The largest demand per period a distribution plausibly draws (units): its maximum where it
    has one (fixed, uniform, empirical), else mean + 10 standard deviations; compound: orders x size."""
    if type(d) in _MEAN_FAMILIES:
        return dist_mean(d) + DEMAND_SPREAD_SDS * math.sqrt(dist_var(d))
    if isinstance(d, Fixed):
        return float(d.value)
    if isinstance(d, Uniform):
        return float(d.high)
    if isinstance(d, Empirical):
        return float(max(d.values)) if d.values else 0.0
    if isinstance(d, Compound):
        return demand_size(d.orders) * demand_size(d.size)
    return dist_mean(d) + DEMAND_SPREAD_SDS * math.sqrt(dist_var(d))


def _size_problems(scenario: "Scenario") -> list[str]:
    """The size rules: demand, policy levels and lot sizes within MAX_UNITS; horizon and lead times
    within MAX_PERIODS; customer history within MAX_CUSTOMER_HISTORY ("path: message" lines, as the
    other cross rules)."""
    problems: list[str] = []
    limit = f"{MAX_UNITS:g}"
    for name in ("moq", "pack_size"):
        value = getattr(scenario.policies, name)
        if value > MAX_UNITS:
            problems.append(f"policies.{name}: {value} is over the limit of {limit} units")
    if isinstance(scenario.policies.candidates, Mapping):
        for family, rows in scenario.policies.candidates.items():
            for k, row in enumerate(rows):
                for key, value in row.items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_UNITS:
                        problems.append(f"policies.candidates.{family}[{k}].{key}: {value:g} is over the limit "
                                        f"of {limit} units (in absolute value)")
    span = scenario.horizon.warmup + scenario.horizon.periods
    if span > MAX_PERIODS:
        problems.append(f"horizon: warmup + periods = {span} is over the limit of {MAX_PERIODS:,} periods")
    for i, mode in enumerate(scenario.transport):
        longest = demand_size(mode.lead_time)
        if not longest <= MAX_PERIODS:
            problems.append(f"transport[{i}].lead_time: up to about {longest:.6g} periods (mean + "
                            f"{DEMAND_SPREAD_SDS} sd, or its maximum), over the limit of {MAX_PERIODS:,} periods")
    rs = scenario.customer_reaction.repeated_stockout
    for i, sku in enumerate(scenario.skus):
        models = [("demand", sku.demand)]
        if sku.tier_demand is not None:
            models += [("tier_demand", d) for d in sku.tier_demand.values()]
        for path, model in models:
            if model is None:
                continue
            size = demand_size(model)
            if not size <= MAX_UNITS:
                problems.append(f"skus[{i}].{path}: draws up to about {size:.6g} units per period (mean + "
                                f"{DEMAND_SPREAD_SDS} sd, or its maximum), over the limit of {limit} units per period")
        cp = sku.current_policy
        if cp is not None:
            for key in ("s", "S", "Q", "cap"):
                value = getattr(cp, key)
                if value is not None and abs(value) > MAX_UNITS:
                    problems.append(f"skus[{i}].current_policy.{key}: {value:g} is over the limit of {limit} "
                                    "units (in absolute value)")
        if rs is not None and sku.customers is not None and sku.customers * rs.threshold > MAX_CUSTOMER_HISTORY:
            problems.append(f"skus[{i}].customers: {sku.customers} customers x repeated_stockout.threshold "
                            f"{rs.threshold} is over the limit of {MAX_CUSTOMER_HISTORY} stockout records")
    return problems


def _tiers_problems(ct: "CustomerTiers") -> list[str]:
    """The rules among customer_tiers' own tiers ("path: message" lines)."""
    problems = []
    names = [t.name for t in ct.tiers]
    for i, name in enumerate(names):
        if names.index(name) != i:
            problems.append(f"customer_tiers.tiers[{i}].name: {name!r} is a duplicate tier name")
    given = [t.share is not None for t in ct.tiers]
    if any(given) and not all(given):
        missing = [f"tiers[{i}].share" for i, g in enumerate(given) if not g]
        problems.append(f"customer_tiers.tiers: {', '.join(missing)} missing (give every tier a share, or none and "
                        "take them from the history's customer column)")
    if all(given):
        total = sum(t.share for t in ct.tiers)
        if abs(total - 1.0) > 1e-9:
            problems.append(f"customer_tiers.tiers: the shares sum to {total:g}, must sum to 1")
    spend = [t.spend_share for t in ct.tiers]
    if any(x is not None for x in spend):
        if any(x is None for x in spend[:-1]) or spend[-1] is not None:
            problems.append("customer_tiers.tiers: spend_share is a cumulative cut-off of annual spend, given on "
                            "every tier but the last (which takes the rest)")
        elif any(b <= a for a, b in zip(spend[:-2], spend[1:-1])) or spend[-2] >= 1.0:
            problems.append("customer_tiers.tiers: spend_share cut-offs must rise from tier to tier and stay below 1")
    floors = [t.min_annual_spend for t in ct.tiers]
    if any(x is not None for x in floors):
        if any(x is not None for x in spend):
            problems.append("customer_tiers.tiers: give spend_share or min_annual_spend, not both")
        elif any(x is None for x in floors[:-1]) or floors[-1] is not None:
            problems.append("customer_tiers.tiers: min_annual_spend is the least annual spend of a tier's customers, "
                            "given on every tier but the last (which takes the rest)")
        elif any(b >= a for a, b in zip(floors[:-2], floors[1:-1])):
            problems.append("customer_tiers.tiers: min_annual_spend thresholds must fall from tier to tier")
    return problems


def tier_problems(scenario: "Scenario") -> list[str]:
    """The customer-tier rules that need the whole scenario ("path: message" lines): a SKU's
    tier_shares name the scenario's tiers and sum to 1; every tier's share is known (given, or from
    the history's customer column); a floor is on a metric measured per tier."""
    problems: list[str] = []
    ct = scenario.customer_tiers
    ft = scenario.service.frontier_tier
    if ct is None:
        for i, sku in enumerate(scenario.skus):
            for field in ("tier_shares", "tier_demand"):
                if getattr(sku, field) is not None:
                    problems.append(f"skus[{i}].{field}: given, but the scenario has no customer_tiers")
        if ft is not None:
            problems.append(f"service.frontier_tier: {_show(ft)} given, but the scenario has no customer_tiers")
        return problems
    problems += _tiers_problems(ct)
    names = ct.names()
    if ft is not None and ft not in names:
        problems.append(f"service.frontier_tier: {_show(ft)} is not a tier of customer_tiers {list(names)}")
    if ft is not None and scenario.service.metric == "cycle_service_level":
        problems.append("service.frontier_tier: the cycle service level is one per SKU, not per tier (set "
                        "service.metric to fill_rate, order_fill_rate or on_time_rate)")
    shares_given = all(t.share is not None for t in ct.tiers)
    for i, sku in enumerate(scenario.skus):
        problems += _tier_demand_problems(i, sku, ct)
        ts = sku.tier_shares
        if ts is None:
            if not shares_given and scenario.demand_history_csv is None and sku.tier_demand is None:
                problems.append(f"skus[{i}].tier_shares: missing (customer_tiers.tiers have no share and there "
                                "is no demand_history_csv to take them from)")
            continue
        for key in ts:
            if key not in names:
                # The key is the user's text: shown quoted and capped in the message, never in the path.
                problems.append(f"skus[{i}].tier_shares: {_show(key)} is not a tier of customer_tiers {list(names)}")
        total = sum(ts.values())
        if abs(total - 1.0) > 1e-9:
            problems.append(f"skus[{i}].tier_shares: the shares sum to {total:g}, must sum to 1")
    if scenario.service.metric == "cycle_service_level":
        for i, t in enumerate(ct.tiers):
            if t.floor is not None:
                problems.append(f"customer_tiers.tiers[{i}].floor: the cycle service level is one per SKU, not "
                                "per tier (set service.metric to fill_rate, order_fill_rate or on_time_rate)")
    return problems


def _tier_demand_problems(i: int, sku: "Sku", ct: "CustomerTiers") -> list[str]:
    """A SKU's tier_demand: under `demand: own`, keys that name tiers and a demand in some tier."""
    td = sku.tier_demand
    if td is None:
        return []
    if ct.demand == "thinned":
        return [f"skus[{i}].tier_demand: given, but customer_tiers.demand is thinned (each tier's demand is the "
                "SKU's demand split by the shares); set customer_tiers.demand to own, or remove tier_demand"]
    names = ct.names()
    problems = [f"skus[{i}].tier_demand: {_show(key)} is not a tier of customer_tiers {list(names)}"
                for key in td if key not in names]
    total = sum(dist_mean(d) for d in td.values())
    if not problems and not total > 0:
        problems.append(f"skus[{i}].tier_demand: every tier's demand has mean 0 (leave tier_demand out, or give "
                        "a tier a demand)")
    elif not problems and sku.demand is not None and not math.isclose(total, dist_mean(sku.demand), rel_tol=1e-6):
        # The simulation draws the tiers' models; the seeds, classes and horizon checks read the
        # SKU's demand: they must describe the same demand.
        problems.append(f"skus[{i}].tier_demand: the tiers' mean demand sums to {total:.6g} per period, but the "
                        f"SKU's demand has mean {dist_mean(sku.demand):.6g}; the SKU's demand is the total of "
                        "its tiers' (make the means agree)")
    return problems


def defection_problems(scenario: "Scenario") -> list[str]:
    """The defection rule (issue 15): customer_reaction.repeated_stockout needs every SKU's
    `customers` count (the customers whose stockouts are remembered); a SKU without one would simply
    not defect, so it is refused ("path: message" lines; the first LISTED_MISSING SKUs by path, then
    how many more)."""
    if scenario.customer_reaction.repeated_stockout is None:
        return []
    missing = [i for i, sku in enumerate(scenario.skus) if sku.customers is None]
    out = [f"skus[{i}].customers: missing, but customer_reaction.repeated_stockout is set (defection needs the "
           "SKU's number of customers; give customers, or remove repeated_stockout)" for i in missing[:LISTED_MISSING]]
    if len(missing) > LISTED_MISSING:
        out.append(f"skus: {len(missing) - LISTED_MISSING} more SKUs have no customers count while "
                   "customer_reaction.repeated_stockout is set")
    return out


LISTED_MISSING = 20


# --------------------------------------------------------------------------- the scenario
class Scenario(Strict):
    """A validated, frozen scenario (format 1)."""

    format: Literal[1]
    name: str = Field(pattern=NAME_PATTERN, max_length=120)
    description: str = ""
    variants: dict[str, dict[str, Any]] = FrozenDict()
    currency: str = "USD"
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    horizon: Horizon = Horizon()
    replications: Annotated[int, Field(ge=1, le=10_000)] = 10
    costs: Costs = Costs()
    customer_reaction: CustomerReaction = CustomerReaction()
    order_cycle: OrderCycle = OrderCycle()
    transport: tuple[TransportMode, ...] = Field(min_length=1)
    expedite: Expedite | None = None
    customer_tiers: CustomerTiers | None = None
    service: Service = Service()
    budget: Budget = Budget()
    solver: Solver = Solver()
    policies: Policies = Policies()
    skus: tuple[Sku, ...] = Field(min_length=1)
    demand_history_csv: str | None = None
    # Added to format 1: how demand models are made from the history (docs/demand-from-history.md).
    demand_history_method: Literal["auto", "fit", "empirical"] = "auto"

    @field_validator("variants")
    @classmethod
    def _frozen_variants(cls, v: dict) -> dict:
        return freeze(v)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        return _identifier(v)

    @field_validator("description")
    @classmethod
    def _description(cls, v: str) -> str:
        rule = free_text_rule(v)
        if rule is not None:
            raise ValueError(rule)
        return unicodedata.normalize("NFC", v)

    @model_validator(mode="after")
    def _cross_rules(self) -> "Scenario":
        # Cross-field rules; each message starts with the YAML path it concerns ("path: message"),
        # which scenarios.errors splits back into path and rule.
        problems: list[str] = []
        modes = [m.name for m in self.transport]
        for i, name in enumerate(modes):
            if modes.index(name) != i:
                problems.append(f"transport[{i}].name: {name!r} is a duplicate mode name")
        if self.expedite is not None and self.expedite.mode not in modes:
            problems.append(f"expedite.mode: {_show(self.expedite.mode)} is not a transport mode {modes}")
        if self.policies.modes is not None:
            for i, m in enumerate(self.policies.modes):
                if m not in modes:
                    problems.append(f"policies.modes[{i}]: {_show(m)} is not a transport mode {modes}")
        problems += id_problems([(f"skus[{i}].id", sku.id) for i, sku in enumerate(self.skus)])
        problems += class_problems([(f"skus[{i}].class", sku.class_) for i, sku in enumerate(self.skus)
                                    if sku.class_ is not None])
        problems += floor_problems(self.service.floors, [sku.class_ for sku in self.skus])
        backlog = backlog_possible(self.customer_reaction.wait, self.expedite)
        problems += candidate_problems(self.policies.candidates, self.policies.families,
                                       self.policies.review_periods, backlog)
        if not self.policies.expand and self.policies.candidates == "auto":
            problems.append("policies.expand: false keeps only the explicit candidates, but policies.candidates is "
                            "auto (the engine's grid); list the candidates per family under policies.candidates, "
                            "or remove expand: false")
        for i, sku in enumerate(self.skus):
            if sku.demand is None and self.demand_history_csv is None:
                also = ("; with tier_demand too: the SKU's total demand, which sets its seeds and horizon checks"
                        if sku.tier_demand is not None else "")
                problems.append(f"skus[{i}].demand: missing (required unless demand_history_csv is given{also})")
            cp = sku.current_policy
            if cp is not None and cp.mode is not None and cp.mode not in modes:
                problems.append(f"skus[{i}].current_policy.mode: {_show(cp.mode)} is not a transport mode {modes}")
            if cp is not None and cp.s is not None and cp.s < 0 and not backlog:
                problems.append(f"skus[{i}].current_policy.s: {cp.s:g} is below 0, but no customer waits for stock "
                                "here (customer_reaction.wait is 0, or shortages are expedited), so the inventory "
                                "position never falls below 0 and this policy would never order")
        problems += tier_problems(self)
        problems += _size_problems(self)
        problems += defection_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # ---- derived values the engines share (one definition, used by both simulation engines)
    def mode(self, name: str | None) -> TransportMode:
        """The transport mode called `name` (the first mode when None)."""
        if name is None:
            return self.transport[0]
        for m in self.transport:
            if m.name == name:
                return m
        raise KeyError(name)

    def allowed_modes(self) -> tuple[str, ...]:
        """Modes candidates may use (policies.modes, or every mode)."""
        return self.policies.modes if self.policies.modes is not None else tuple(m.name for m in self.transport)

    def holding_per_unit_period(self, sku: Sku) -> float:
        """On-hand carrying cost per unit per period (textbook h)."""
        if self.costs.holding_per_unit_period is not None:
            return float(self.costs.holding_per_unit_period)
        return sku.unit_cost * self.costs.carrying_rate / self.horizon.periods_per_year

    def in_transit_per_unit_period(self, sku: Sku) -> float:
        """Pipeline carrying cost per unit per period (in_transit_rate defaults to carrying_rate)."""
        if self.costs.holding_per_unit_period is not None and self.costs.in_transit_rate is None:
            return float(self.costs.holding_per_unit_period)
        rate = self.costs.in_transit_rate if self.costs.in_transit_rate is not None else self.costs.carrying_rate
        return sku.unit_cost * rate / self.horizon.periods_per_year

    def lost_sale_per_unit(self, sku: Sku) -> float:
        """Cost of one unit lost: lost_sale (default the margin price - unit_cost) plus goodwill."""
        base = self.costs.lost_sale if self.costs.lost_sale is not None else sku.price - sku.unit_cost
        return float(base + self.costs.goodwill)

    def substitution_per_unit(self, sku: Sku) -> float:
        """Cost of one unit substituted (default half the margin)."""
        if self.costs.substitution is not None:
            return float(self.costs.substitution)
        return 0.5 * (sku.price - sku.unit_cost)

    # ---- customer tiers (docs/tiers.md); a scenario without tiers has one tier, the whole demand
    def tier_count(self) -> int:
        return 1 if self.customer_tiers is None else len(self.customer_tiers.tiers)

    def tier_names(self) -> tuple[str, ...]:
        return ("all",) if self.customer_tiers is None else self.customer_tiers.names()

    def tier_shares(self, sku: Sku) -> tuple[float, ...]:
        """Each tier's share of the SKU's customer orders, top tier first (the SKU's tier_shares, else
        the tiers' shares; (1.0,) without tiers). A tier the SKU's tier_shares leaves out has 0."""
        ct = self.customer_tiers
        if ct is None:
            return (1.0,)
        if sku.tier_shares is not None:
            return tuple(float(sku.tier_shares.get(t.name, 0.0)) for t in ct.tiers)
        own = self.tier_demands(sku)
        if own is not None:  # the shares of the tiers' mean demand
            means = [dist_mean(d) for d in own]
            return tuple(m / sum(means) for m in means)
        if any(t.share is None for t in ct.tiers):
            raise ValueError(f"SKU {sku.id} has no tier shares (they come from the history's customer column)")
        return tuple(float(t.share) for t in ct.tiers)

    def tier_demands(self, sku: Sku) -> tuple | None:
        """Each tier's own demand model for this SKU, top tier first (a tier the SKU's tier_demand
        leaves out has demand 0), when the tiers have their own demand (customer_tiers.demand own and
        the SKU has a tier_demand); else None: the tiers share the SKU's demand (docs/tiers.md)."""
        ct = self.customer_tiers
        if ct is None or ct.demand != "own" or sku.tier_demand is None:
            return None
        return tuple(sku.tier_demand.get(t.name, Fixed(value=0)) for t in ct.tiers)

    def _tier_values(self, field: str, default):
        """Each tier's `field` (top first), `default` where a tier leaves it unset; (default,) without
        tiers. One rule for every per-tier setting that falls back on the scenario's."""
        if self.customer_tiers is None:
            return (default,)
        return tuple(default if getattr(t, field) is None else getattr(t, field) for t in self.customer_tiers.tiers)

    def tier_reactions(self) -> tuple[tuple[float, float], ...]:
        """(wait, wait + substitute) of each tier: its own reaction shares, else customer_reaction's."""
        return tuple((float(r.wait), float(r.wait + r.substitute))
                     for r in self._tier_values("reaction", self.customer_reaction))

    def tier_promised(self) -> tuple[float, ...]:
        """Each tier's promised order cycle (periods): its own, else order_cycle.promised."""
        return tuple(float(x) for x in self._tier_values("promised", self.order_cycle.promised))

    def tier_lost_sale_per_unit(self, sku: Sku) -> tuple[float, ...]:
        """Each tier's cost of one lost unit: the lost sale (lost_sale_per_unit without the goodwill)
        plus the tier's goodwill (default costs.goodwill)."""
        base = self.lost_sale_per_unit(sku) - float(self.costs.goodwill)
        return tuple(base + float(g) for g in self._tier_values("goodwill", self.costs.goodwill))

    def tier_lost_customer(self) -> tuple[float, ...]:
        """Each tier's cost of one customer lost (default costs.lost_customer)."""
        return tuple(float(x) for x in self._tier_values("lost_customer", self.costs.lost_customer))

    def allocation_code(self) -> int:
        """0 fifo, 1 priority, 2 critical_level (ALLOCATIONS order)."""
        return 0 if self.customer_tiers is None else ALLOCATIONS.index(self.customer_tiers.allocation)

    def sku_index(self, sku_id: str) -> int:
        """Position of a SKU in `skus` (the index used to key its random streams)."""
        for i, s in enumerate(self.skus):
            if s.id == sku_id:
                return i
        raise KeyError(sku_id)
