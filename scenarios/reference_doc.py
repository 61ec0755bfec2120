"""Generate docs/scenario-reference.md from the pydantic schema, so the reference never drifts.

    python -m scenarios.reference_doc > docs/scenario-reference.md

Keys, types, defaults and single-value rules come from the schema itself; the one-line meaning of
each key comes from `MEANING` below (a test fails when a schema field has no meaning here).
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from scenarios import schema as S
from scenarios.schema import DEMAND_SPREAD_SDS, MAX_CUSTOMER_HISTORY, MAX_PERIODS, MAX_UNITS
from scenarios.planning_rules import HORIZON_CYCLES
from scenarios.schema_walk import dist_tag, keys_of, members
from scenarios.skus_csv import REQUIRED_COLUMNS, sku_columns
from scenarios.yaml_io import MAX_ALIAS_RATIO, MAX_BYTES, MAX_DEPTH, MAX_NODES

MEANING: dict[str, str] = {
    "Scenario.format": "format version; only 1 exists",
    "Scenario.name": "scenario name, used as the output folder name",
    "Scenario.description": "free text shown in the report",
    "Scenario.variants": "named override sets `{name: {dotted.path: value}}`, applied with `--variant NAME[,NAME]`",
    "Scenario.currency": "currency of every money amount",
    "Scenario.seed": "every random draw derives from it; same seed, same outputs",
    "Scenario.horizon": "simulated periods",
    "Scenario.replications": "independent runs per candidate (common random numbers across candidates)",
    "Scenario.costs": "cost parameters",
    "Scenario.customer_reaction": "what a customer does with the unfilled rest of a short order",
    "Scenario.order_cycle": "outbound customer order cycle, in periods",
    "Scenario.transport": "inbound replenishment modes; at least one",
    "Scenario.expedite": "on a stockout, ship the shortfall by this mode",
    "Scenario.service": "service rules: metric, target, floors, frontier",
    "Scenario.budget": "optional optimizer constraints",
    "Scenario.solver": "HiGHS settings",
    "Scenario.policies": "which policies candidates may use",
    "Scenario.skus": "the products; or `skus_csv: path` (see SKU CSV)",
    "Scenario.demand_history_csv": "CSV (or .xlsx workbook) with columns sku, period, quantity -> empirical demand (path relative to the file)",
    "Scenario.demand_history_method": "how demand models are made from history: auto, fit or empirical (docs/demand-from-history.md)",
    "Horizon.periods": "periods counted in the results",
    "Horizon.warmup": "periods simulated first and not counted",
    "Horizon.periods_per_year": "converts yearly rates (carrying_rate) to per period",
    "Horizon.start": "spread: replication r of an (s, S) / (r, Q) policy starts at a point of its replenishment cycle spread over the replications (no free first cycle) | full: every replication starts at the order-up-to level (docs/simulation.md step 0)",
    "Warehousing.per_unit_period": "storage cost per unit on hand per period",
    "Warehousing.capacity_units": "warehouse capacity (optimizer constraint); null = unlimited",
    "Costs.carrying_rate": "per year, fraction of unit_cost, on on-hand inventory",
    "Costs.in_transit_rate": "per year on pipeline inventory; null = carrying_rate",
    "Costs.holding_per_unit_period": "textbook h; if set, overrides carrying_rate",
    "Costs.order_cost": "per replenishment order",
    "Costs.order_processing": "per customer order handled (backordered orders count twice)",
    "Costs.warehousing": "storage cost and capacity",
    "Costs.lost_sale": "per unit lost; null = price - unit_cost (lost margin)",
    "Costs.goodwill": "extra per unit lost, on top of lost_sale",
    "Costs.backorder_per_unit": "once per unit backordered",
    "Costs.backorder_per_unit_period": "per unit of backlog at the end of each period (textbook p)",
    "Costs.substitution": "per unit substituted; null = 0.5 x (price - unit_cost)",
    "Costs.lost_customer": "per customer who defects (lifetime value)",
    "RepeatedStockout.window": "periods looked back",
    "RepeatedStockout.threshold": "stockouts a customer met inside the window",
    "RepeatedStockout.defect_probability": "then the customer leaves with this probability",
    "CustomerReaction.wait": "share that backorders (filled FIFO when stock arrives)",
    "CustomerReaction.substitute": "share that takes a substitute",
    "CustomerReaction.lost_sale": "share that buys elsewhere",
    "CustomerReaction.partial_shipments": "ship what is available now; the reaction applies to the rest",
    "CustomerReaction.repeated_stockout": "optional defection after repeated stockouts",
    "Scenario.customer_tiers": "optional customer tiers and the allocation of scarce stock (docs/tiers.md)",
    "Service.frontier_tier": "draw the exchange curve for this customer tier's level (a tier name; docs/tiers.md)",
    "Sku.tier_shares": "each tier's share of this SKU's customer orders (overrides the tiers' shares; sum 1)",
    "CustomerTiers.allocation": "fifo (first come, first served) | priority (top tier's waiting orders first) | critical_level (rationing)",
    "CustomerTiers.tiers": "the tiers, top tier first (2 to 8)",
    "CustomerTiers.demand": "own (each tier's demand is its own model: skus[].tier_demand, or fitted from the history's sales to the tier's customers) | thinned (the SKU's demand split by the tier shares)",
    "Sku.tier_demand": "each tier's own demand model, by tier name (customer_tiers.demand own; a tier left out has none; demand stays the SKU's total, with the same mean)",
    "CustomerTier.name": "tier name, referred to by skus[].tier_shares",
    "CustomerTier.share": "share of each SKU's customer orders (all tiers' sum to 1); unset: from the history's customer column; a SKU with its own tier_demand takes the shares of its tiers' mean demand",
    "CustomerTier.spend_share": "cumulative share of annual spend this tier's customers cover (ranking from the history; not on the last tier)",
    "CustomerTier.min_annual_spend": "least annual spend of this tier's customers (ranking from the history, instead of spend_share; not on the last tier)",
    "CustomerTier.reaction": "the tier's own reaction shares (default customer_reaction's)",
    "CustomerTier.goodwill": "per lost unit of this tier, on top of the lost sale (default costs.goodwill)",
    "CustomerTier.lost_customer": "per customer of this tier who defects (default costs.lost_customer)",
    "CustomerTier.promised": "the tier's promised order cycle time (default order_cycle.promised)",
    "CustomerTier.floor": "service floor: the tier's demand-weighted service.metric over all SKUs",
    "ReactionShares.wait": "share that backorders",
    "ReactionShares.substitute": "share that takes a substitute",
    "ReactionShares.lost_sale": "share that buys elsewhere",
    "OrderCycle.transmittal": "order transmittal time (distribution)",
    "OrderCycle.processing": "order processing time (distribution)",
    "OrderCycle.delivery": "delivery time (distribution)",
    "OrderCycle.promised": "promised order cycle time, for on_time_rate",
    "TransportMode.name": "mode name, referred to by policies.modes, expedite.mode, current_policy.mode",
    "TransportMode.lead_time": "replenishment lead time (distribution), rounded to whole periods",
    "TransportMode.cost_per_shipment": "per vehicle",
    "TransportMode.cost_per_unit": "per unit shipped",
    "TransportMode.vehicle_capacity": "units per vehicle; null = unlimited (one vehicle)",
    "TransportMode.capacity_per_period": "max vehicles per period across all SKUs (optimizer constraint)",
    "Expedite.mode": "a transport mode name",
    "Abc.A": "cumulative demand-value share below which a SKU is A",
    "Abc.B": "cumulative share below which a SKU is B (else C)",
    "Service.metric": "the service measure targets and floors apply to",
    "Service.target": "aggregate, demand-weighted; null = cost-optimal choice",
    "Service.floors": "minimum per class, e.g. {A: 0.98, B: 0.95}",
    "Service.sku_floor": "minimum for every SKU",
    "Service.frontier": "service levels of the exchange curve",
    "Service.abc": "ABC cut-offs for SKUs without a class",
    "Budget.inventory_value": "max average inventory value (sum of avg on hand x unit_cost)",
    "Solver.time_limit": "seconds of wall clock",
    "Solver.mip_gap": "relative MIP gap",
    "Policy.family": "policy family",
    "Policy.mode": "transport mode; null = the first",
    "Policy.s": "reorder point (r of rQ)",
    "Policy.S": "order-up-to level",
    "Policy.Q": "lot size",
    "Policy.R": "review period; 0 = continuous",
    "Policy.cap": "per-order cap (capped_base_stock)",
    "Policies.families": "families candidates may use",
    "Policies.modes": "modes candidates may use; null = all",
    "Policies.review_periods": "R values: 0 = continuous review; k >= 1 = every k-th period",
    "Policies.moq": "minimum order quantity",
    "Policies.pack_size": "orders are multiples of this",
    "Policies.candidates": "auto (the engine builds the grid) or an explicit list per family",
    "Policies.expand": "true: refinement adds neighbours of the candidates; false: the explicit candidates are the only ones simulated (needs explicit candidates)",
    "Sku.id": "unique id",
    "Sku.unit_cost": "purchase cost per unit",
    "Sku.price": "selling price per unit; >= unit_cost",
    "Sku.class_": "class (e.g. A); null = ABC on annual demand value",
    "Sku.demand": "units per period (distribution); required unless demand_history_csv is given",
    "Sku.customers": "size of the customer base (for defection)",
    "Sku.current_policy": "the policy that runs today (audit)",
}

MODELS = [S.Scenario, S.Horizon, S.Costs, S.Warehousing, S.CustomerReaction, S.RepeatedStockout, S.OrderCycle,
          S.TransportMode, S.Expedite, S.CustomerTiers, S.CustomerTier, S.ReactionShares, S.Service, S.Abc, S.Budget,
          S.Solver, S.Policies, S.Policy, S.Sku]
DISTS = [S.Fixed, S.Poisson, S.NegBin, S.Normal, S.Gamma, S.Uniform, S.Empirical, S.Compound]


def _type(tp: Any) -> str:
    ms = members(tp)
    nullable = type(None) in typing.get_args(tp) or any(a is type(None) for a in _flat_args(tp))
    parts = []
    tags = [dist_tag(m) for m in ms if isinstance(m, type) and issubclass(m, BaseModel) and dist_tag(m)]
    if tags:
        parts.append("distribution (" + ", ".join(tags) + ")")
        ms = [m for m in ms if not (isinstance(m, type) and issubclass(m, BaseModel) and dist_tag(m))]
    for m in ms:
        parts.append(_one(m))
    out = " or ".join(parts)
    return out + (" or null" if nullable else "")


def _flat_args(tp: Any) -> list:
    out = []
    for a in typing.get_args(tp):
        out.append(a)
        out.extend(_flat_args(a))
    return out


def _one(tp: Any) -> str:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"mapping ({tp.__name__})"
    if origin is Literal:
        return " \\| ".join(repr(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return f"list of {_type(typing.get_args(tp)[0])}"
    if origin is dict:
        k, v = typing.get_args(tp)
        return f"mapping {_type(k)} -> {_type(v)}"
    return {float: "number", int: "whole number", str: "text", bool: "true/false"}.get(tp, getattr(tp, "__name__", str(tp)))


def _rules(field) -> str:
    words = []
    for m in field.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("min_length", "min length"),
                          ("max_length", "max length"), ("pattern", "matches")):
            v = getattr(m, attr, None)
            if v is not None:
                words.append(f"{sym} {v}")
    for a in _flat_args(field.annotation):
        for m in getattr(a, "__metadata__", ()):
            for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
                v = getattr(m, attr, None)
                if v is not None:
                    words.append(f"{sym} {v}")
    return ", ".join(dict.fromkeys(words))


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    d = field.default
    if d is PydanticUndefined:
        return ""
    if isinstance(d, BaseModel):
        if dist_tag(type(d)) == "fixed":
            return f"{d.value:g}"
        return "(defaults below)"
    if d is None:
        return "null"
    if isinstance(d, tuple):
        return "[" + ", ".join(str(x) for x in d) + "]"
    if isinstance(d, dict):
        return "{}"
    if d == "":
        return '`""`'
    return f"`{d}`"


def _table(model: type[BaseModel], with_meaning: bool = True) -> list[str]:
    lines = ["| key | type | default | rule | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, f in model.model_fields.items():
        key = f.alias or name
        meaning = MEANING.get(f"{model.__name__}.{name}", f.description or "") if with_meaning else ""
        meaning = meaning.replace("|", "\\|")  # a bare | would end the table cell
        lines.append(f"| `{key}` | {_type(f.annotation)} | {_default(f)} | {_rules(f)} | {meaning} |")
    return lines


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def render() -> str:
    """The whole reference page as Markdown."""
    out = [
        "# Scenario reference (format 1)",
        "",
        "<!-- Generated by `python -m scenarios.reference_doc > docs/scenario-reference.md`; do not edit. -->",
        "",
        "The contract is `../shared/docs/scenario-format.md`; this page lists every key the loader accepts,",
        "generated from the schema (`scenarios/schema.py`). Money is in the scenario's `currency`, time in",
        "periods, quantities in units.",
        "",
        "## Loading order",
        "",
        "1. The file is read safely (see *Input safety*). Relative paths in it (`extends`, `skus_csv`,",
        "   `demand_history_csv`, `csv` of an empirical distribution) are relative to **that file's folder**.",
        "2. `extends: parent.yaml` chains are merged, parent first: mappings merge key by key, lists and",
        "   scalars replace. A file that gives `skus` or `skus_csv` replaces both inherited ones. A cycle is an error.",
        "3. `--variant a,b` applies the named `variants` in that order. Two variants setting the same path",
        "   (or one inside the other) is an error; an unknown name is an error listing the known ones. The",
        "   paths of every variant are checked against the schema even when the variant is not applied.",
        "4. `--set PATH=VALUE` (or `overrides=` in Python) sets one value; VALUE is parsed as YAML",
        "   (`0.3`, `[air]`, `{dist: poisson, mean: 4}`); it wins over variants. Setting replaces the value",
        "   at PATH (a mapping is not merged). Paths: keys joined by dots, list items by index:",
        "   `skus[2].demand.mean`; such a path may also be a key of an inline mapping",
        "   (`slow_air: {transport[1].lead_time: 4}`), which plain YAML refuses there: it is read as if quoted.",
        "   Changes under `skus` are applied after the SKU CSV is read, so they",
        "   work with `skus_csv` too. Relative file paths given by `--set` are relative to the scenario file.",
        "5. `skus_csv` is read into `skus`; every `{dist: empirical, csv: path}` is read into `values`.",
        "6. `demand_history_csv` is made absolute and must exist.",
        "7. Validation by the schema below; every problem is collected and reported together.",
        "8. With `demand_history_csv`, demand is built from history (`scenarios.history`).",
        "",
        "The result is a frozen `Scenario`; `scenarios.content_hash(scenario)` is the same however the",
        "scenario is written (key order, `5` vs `{dist: fixed, value: 5}`, defaults spelled out or not,",
        "SKUs inline or from CSV, file location: file paths are hashed by content).",
        "",
        "## Top level",
        "",
        f"{_doc(S.Scenario)}",
        "",
        *_table(S.Scenario),
        "| `extends` | text or null | null |  | parent file, relative to this file (loader key) |",
        "| `template` | true/false | false |  | true: a file only for `extends` (not inherited); `batch` and `validate` skip it, `run` refuses it (loader key) |",
        "| `skus_csv` | text or null | null |  | SKUs from a CSV file instead of `skus` (loader key) |",
        "",
    ]
    for model in MODELS[1:]:
        out += [f"## {model.__name__}", "", _doc(model), "", *_table(model), ""]
    out += [
        "## Distributions",
        "",
        "A bare number means `{dist: fixed, value: N}`. A mapping needs `dist` and the parameters below.",
        "`compound` is allowed for `demand` only (orders per period x size per order).",
        "",
    ]
    for d in DISTS:
        params = [f for n, f in d.model_fields.items() if n != "dist"]
        out += [f"### `{dist_tag(d)}`", "", _doc(d), ""]
        out += ["| key | type | default | rule |", "| --- | --- | --- | --- |"]
        for name, f in d.model_fields.items():
            if name == "dist":
                continue
            out.append(f"| `{name}` | {_type(f.annotation)} | {_default(f)} | {_rules(f)} |")
        out.append("")
        del params
    out += [
        "## Rules that involve several keys",
        "",
        "- `customer_reaction`: wait + substitute + lost_sale = 1.",
        "- `transport[i].name` unique; `expedite.mode`, `policies.modes[i]`, `skus[i].current_policy.mode` name a transport mode.",
        "- `skus[i].id` unique; `price >= unit_cost`; `demand` required unless `demand_history_csv` is given.",
        "- Identifiers (`skus[i].id`, `skus[i].class`, `service.floors` keys, `currency`) hold no control,",
        "  line-separator or invisible characters, no leading or trailing whitespace, and are not blank; they are",
        "  kept in Unicode NFC, so two ids equal once normalised are duplicates. Two ids, or two classes, that",
        "  differ only by letter case (`A1`, `a1`) are refused.",
        "- `service.floors` keys name a class some SKU has; A, B and C when some SKU has no class (ABC).",
        "- `current_policy`: sS/RsS need s and S with S > s; rQ needs s and Q; base_stock/RS need S;",
        "  capped_base_stock needs S and cap; RS/RsS need R >= 1; S >= 0.",
        "- `policies.candidates`: each family is in `policies.families`; each entry holds only its family's",
        "  parameters (" + "; ".join(f"{f}: {', '.join(k)}" for f, k in S.CANDIDATE_KEYS.items()) + "),",
        "  all it needs, with the rules of `current_policy` (Q > 0, cap > 0, R a whole number; RS/RsS need R >= 1",
        "  given or in `policies.review_periods`).",
        "- `policies.expand: false` needs explicit `policies.candidates`; each listed candidate is then",
        "  simulated for every SKU, allowed mode and review period (R from the entry, else every one the family",
        "  allows) and nothing else: no refine neighbours, no exchange-curve or price refinement.",
        "- `s < 0` (explicit candidates and current policies) only when a backlog can form: with",
        "  `customer_reaction.wait` 0 or an `expedite` mode the inventory position never falls below 0.",
        "- `negbin`: cv > 1/sqrt(mean); `uniform`: high >= low; `empirical`: exactly one of values/csv, values not empty.",
        "- `service.abc`: B > A.",
        "- `variants` names match [a-z0-9_-]+ (they name output folders).",
        "",
        "## SKU CSV (`skus_csv`)",
        "",
        "One row per SKU, the SKU's keys as columns, nested keys flattened with dots. Required columns:",
        ", ".join(f"`{c}`" for c in REQUIRED_COLUMNS) + ". An empty cell means not given. `demand` alone is a fixed",
        "demand; `demand.values` lists empirical values separated by `;`. Text columns: `id`, `class`,",
        "`*.dist`, `*.family`, `*.mode`, `*.csv`; all others are numbers. Problems name the CSV file, the",
        "SKU's YAML path and the CSV line. A number is written with the digits 0-9, an optional sign, `.`",
        "and exponent (`12`, `-3`, `0.25`, `1e5`); digit separators (`1_000`), other digits (`١٢`, `１２`),",
        "`nan`, `inf` and `0x10` are refused. `id` and `class` cells are kept exactly as written. Allowed columns:",
        "",
        ", ".join(f"`{c}`" for c in sku_columns()),
        "",
        "The file may be an Excel workbook (`.xlsx`, `.xlsm`): its first worksheet, the first non-empty row as",
        "the header, each cell read as the text a CSV would hold (whole numbers as `12`, dates as `YYYY-MM-DD`,",
        "TRUE/FALSE as text) under the same rules; problems name the sheet and the row or cell (`sheet 'SKUs',",
        "cell B3`). Cells are data: a formula counts by the value Excel saved with it, and one without a saved",
        "value is refused (scenarios/workbook.py). The same holds for `demand_history_csv`.",
        "",
        "A `*.csv` cell is a path relative to the SKU CSV's own folder. An empirical CSV",
        "(`{dist: empirical, csv: path}`) is one column of numbers; a header line is allowed.",
        "",
        "## Size limits",
        "",
        f"- Demand per period may draw at most {MAX_UNITS:g} units (judged by its maximum, or mean + "
        f"{DEMAND_SPREAD_SDS} sd; compound: orders x size), and",
        f"  policy levels (`s`, `S`, `Q`, `cap` of current policies and explicit candidates), `moq` and `pack_size` at most {MAX_UNITS:g}",
        "  units in absolute value: stock is simulated in 64-bit whole units, so larger values are refused rather than overflowing.",
        f"- `horizon.warmup + horizon.periods` and each mode's `lead_time` (its maximum, or mean + {DEMAND_SPREAD_SDS} sd) are at most {MAX_PERIODS:,} periods.",
        f"- With `repeated_stockout`, `customers` x `threshold` is at most {MAX_CUSTOMER_HISTORY:,} (the per-customer stockout records).",
        "- With `repeated_stockout`, every SKU needs `customers` (a SKU without it would never defect).",
        "",
        "## Rules of a planning run",
        "",
        "`tradeoff run` also refuses (exit 2, before simulating; `scenarios.planning_rules`):",
        "",
        "- a shortage that costs nothing in a cost-optimal run: a SKU with demand whose every short unit costs nothing",
        "  (waiting with no `costs.backorder_per_unit`, `backorder_per_unit_period` or `order_processing`, or a free",
        "  expedite; `costs.lost_sale: 0` or no margin, with no goodwill; `costs.substitution: 0` or no margin)",
        "  and that no service rule covers (`service.target` or `--target`, `sku_floor`, its class's floor, a tier floor);",
        "- `horizon.warmup` shorter than the protection period (the longest mean lead time of the modes candidates may",
        "  use, rounded up, + the longest review period);",
        f"- `horizon.periods` shorter than {HORIZON_CYCLES} replenishment cycles of a SKU: the smallest order"
        " (`max(moq, 1)` rounded up to `pack_size`) over its mean demand per period.",
        "",
        "## Input safety",
        "",
        f"- Files over {MAX_BYTES // (1024 * 1024)} MB are refused before reading; binary (NUL bytes) and non-UTF-8 files are refused.",
        "- Only plain YAML data: any tag (`!!python/object...`, `!custom`) is refused.",
        f"- Alias bombs are refused while parsing: more than {MAX_NODES:,} nodes after expanding aliases, or over",
        f"  {MAX_ALIAS_RATIO}x the written nodes beyond 100,000; recursive aliases; nesting deeper than {MAX_DEPTH}.",
        "- A key twice in one mapping (also `<<` twice, or keys equal once read, such as `1` and `01`), several",
        "  documents in one file, or a top level that is not a mapping are errors.",
        "- Control characters other than tab, line feed and carriage return are refused with their line and column.",
        f"- Nesting is checked on the text before parsing (the same limit of {MAX_DEPTH} for flow `[{{` and block levels).",
        "- Input files (scenario, `extends`, `skus_csv`, `demand_history_csv`, empirical `csv`) must be regular files:",
        "  a directory, FIFO, device, or anything under /proc, /sys or /dev is refused before it is read.",
        "- A message quotes at most 80 characters of any value or file content, control characters escaped.",
        "- Types are strict: `'0.3'` (text) or `true` where a number is expected, `7.5` where a whole number is expected,",
        "  `.nan` and `.inf` anywhere, are errors.",
        "",
        "## Errors",
        "",
        "Every problem is one line `file: yaml.path: value rule`, for example",
        "`dc-east.yaml: skus[3].demand.cv: -0.2 is not > 0`. A value from a parent file names the parent; one",
        "set by a variant, `--set` or a flag (`--target`, `--time-limit`, `--mip-gap`) names it; one from a SKU CSV",
        "names the CSV and its line. Unknown keys say",
        "`unknown key 'carying_rate' (did you mean 'carrying_rate'?)`. `tradeoff validate` exits 2 when any file is invalid.",
        "",
    ]
    return "\n".join(out)


def missing_meanings() -> list[str]:
    """Schema fields without an entry in MEANING (a test keeps this empty)."""
    return [f"{m.__name__}.{n}" for m in MODELS for n, f in m.model_fields.items()
            if f"{m.__name__}.{n}" not in MEANING and not f.description]


if __name__ == "__main__":
    print(render(), end="")

__all__ = ["render", "missing_meanings", "MEANING", "keys_of"]
