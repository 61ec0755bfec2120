"""Rules a scenario must keep before the engine plans it (`tradeoff run`), beyond being valid data.

A scenario can be valid and still make the optimiser's answer meaningless. Two kinds are refused
here, as invalid input (ScenarioError, exit status 2), once the run's service target is known
(`--target` is applied to service.target before this check):

- Free shortage in cost-optimal mode (`free_shortage_problems`): when every unit short costs
  nothing (every customer waits and a backorder costs nothing, or a lost sale costs nothing, ...),
  the cheapest plan carries no stock at all (low fill, negative reorder points). Refused for the SKUs
  no service rule covers, with the paths to set.
- Horizons that do not cover the dynamics (`horizon_problems`): a warm-up shorter than the
  protection period (lead time + review period: the pipeline of a policy that starts with nothing
  on order fills within it), or counted periods fewer than
  HORIZON_CYCLES replenishment cycles (the smallest lot any policy may order, max(MOQ, 1) rounded up
  to the pack size, over the mean demand per period): a plan could then live off its starting stock
  and never order inside the horizon.

Each rule is a "path: message" line like the schema's cross rules; `check_plannable` turns them into
Problems naming the file the value came from. docs/contract-additions.md ("Issue 15 (decisions)")
and docs/simulation.md state the rules.
"""

from __future__ import annotations

import math
from typing import Any

from scenarios.schema import Scenario, Sku, dist_mean

HORIZON_CYCLES = 3  # counted periods must hold at least this many replenishment cycles of every SKU
LISTED_SKUS = 10  # SKU ids a message names before "and N more"


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:LISTED_SKUS])
    return shown if len(ids) <= LISTED_SKUS else f"{shown} and {len(ids) - LISTED_SKUS} more"


def _g(x: float) -> str:
    return f"{x:g}"


# --------------------------------------------------------------------------- free shortage
def service_rule_covers(scenario: Scenario) -> dict[str, bool]:
    """Per SKU id: whether a service rule makes the run trade service against cost for it (the run is
    not cost-optimal there): an aggregate service.target, service.sku_floor, a class floor on its
    class, or a customer tier floor on a tier it serves."""
    svc = scenario.service
    if svc.target is not None or svc.sku_floor is not None:
        return {s.id: True for s in scenario.skus}
    covered = {s.id: False for s in scenario.skus}
    if svc.floors:
        from scenarios.abc import sku_classes

        classes = sku_classes(scenario)
        for s in scenario.skus:
            covered[s.id] = classes.get(s.id) in svc.floors
    ct = scenario.customer_tiers
    if ct is not None and any(t.floor is not None for t in ct.tiers):
        for s in scenario.skus:
            shares = _tier_shares(scenario, s)
            covered[s.id] = covered[s.id] or any(t.floor is not None and shares[k] > 0 for k, t in enumerate(ct.tiers))
    return covered


def _tier_shares(scenario: Scenario, sku: Sku) -> tuple[float, ...]:
    try:
        return scenario.tier_shares(sku)
    except ValueError:  # shares not known: every tier may hold the SKU's customers
        return (1.0,) * scenario.tier_count()


def _defection_costs(scenario: Scenario, sku: Sku, k: int) -> bool:
    """Whether a stockout can cost tier k a customer at a price: defection on (repeated_stockout, a
    customers count, a defect probability above 0) and a cost per customer lost."""
    rs = scenario.customer_reaction.repeated_stockout
    return (rs is not None and sku.customers is not None and rs.defect_probability > 0
            and scenario.tier_lost_customer()[k] > 0)


def free_shortage_reasons(scenario: Scenario, sku: Sku, index: int) -> list[tuple[str, str]] | None:
    """Why every unit the SKU is short costs nothing, as (path to set, reason) pairs, one per
    reaction a short customer may have; None when some short unit costs money.

    The costs of a shortage (simulation/metrics.py cost_shortage, and cost_order_processing's
    second handling of a backordered order): a customer who waits costs costs.backorder_per_unit per
    unit, costs.backorder_per_unit_period per unit and period waited (no waiting when shortfalls are
    expedited: the expedite mode's cost_per_shipment and cost_per_unit instead) and
    costs.order_processing per backordered order; a substituted unit costs costs.substitution
    (default half the margin price - unit_cost); a lost unit costs costs.lost_sale (default the
    margin) plus the goodwill (costs.goodwill, or its tier's); a customer lost by defection costs
    costs.lost_customer (or its tier's)."""
    costs = scenario.costs
    tiers = scenario.customer_tiers.tiers if scenario.customer_tiers is not None else (None,)
    shares = _tier_shares(scenario, sku)
    reactions = scenario.tier_reactions()
    lost_per_unit = scenario.tier_lost_sale_per_unit(sku)
    margin = sku.price - sku.unit_cost
    reasons: list[tuple[str, str]] = []
    for k, tier in enumerate(tiers):
        if shares[k] <= 0:
            continue
        if _defection_costs(scenario, sku, k):
            return None
        wait, wait_or_sub = reactions[k]
        where = "customer_reaction" if tier is None or tier.reaction is None else f"customer_tiers.tiers[{k}].reaction"
        if wait > 0:
            if scenario.expedite is not None:
                e = scenario.mode(scenario.expedite.mode)
                if costs.backorder_per_unit > 0 or costs.order_processing > 0 or e.cost_per_shipment > 0 or e.cost_per_unit > 0:
                    return None
                reasons.append(("costs.backorder_per_unit",
                                f"customers who wait ({where}.wait {_g(wait)}) are served by expedite at no cost "
                                f"(costs.backorder_per_unit 0, costs.order_processing 0, transport mode {e.name} "
                                "costs 0 per shipment and per unit)"))
            else:
                if costs.backorder_per_unit > 0 or costs.backorder_per_unit_period > 0 or costs.order_processing > 0:
                    return None
                reasons.append(("costs.backorder_per_unit_period",
                                f"customers who wait ({where}.wait {_g(wait)}) cost nothing (costs.backorder_per_unit, "
                                "costs.backorder_per_unit_period and costs.order_processing are 0)"))
        substitute = wait_or_sub - wait
        if substitute > 0:
            if scenario.substitution_per_unit(sku) > 0:
                return None
            why = ("costs.substitution is 0" if costs.substitution is not None
                   else f"costs.substitution defaults to half the margin, and skus[{index}] has price = unit_cost")
            reasons.append(("costs.substitution", f"a substitute ({where}.substitute {_g(substitute)}) costs nothing ({why})"))
        lost = 1.0 - wait_or_sub
        if lost > 1e-12:
            if lost_per_unit[k] > 0:
                return None
            base = ("costs.lost_sale is 0" if costs.lost_sale is not None
                    else f"costs.lost_sale defaults to the margin, and skus[{index}] has price = unit_cost {_g(sku.unit_cost)}")
            goodwill = "costs.goodwill" if tier is None or tier.goodwill is None else f"customer_tiers.tiers[{k}].goodwill"
            path = "costs.lost_sale" if costs.lost_sale is not None or margin > 0 else f"skus[{index}].price"
            reasons.append((path, f"a lost sale ({where}.lost_sale {_g(lost)}) costs nothing ({base}, {goodwill} is 0)"))
    return reasons


def free_shortage_problems(scenario: Scenario) -> list[str]:
    """The free-shortage rule ("path: message" lines): a SKU with demand whose every short unit costs
    nothing (free_shortage_reasons) must be covered by a service rule (service_rule_covers); else
    the cost-optimal plan would carry no stock for it, whatever its fill."""
    covered = service_rule_covers(scenario)
    free: list[str] = []
    first: list[tuple[str, str]] | None = None
    for i, sku in enumerate(scenario.skus):
        if covered[sku.id] or sku.demand is None or dist_mean(sku.demand) <= 0:
            continue
        reasons = free_shortage_reasons(scenario, sku, i)
        if reasons is None:
            continue
        free.append(sku.id)
        first = first if first is not None else reasons
    if not free:
        return []
    paths = list(dict.fromkeys(p for p, _ in first))
    why = "; ".join(dict.fromkeys(r for _, r in first))
    return [f"{paths[0]}: a shortage costs nothing for SKU {_ids(free)} ({why}), and no service rule covers "
            f"{'it' if len(free) == 1 else 'them'}, so the cost-optimal plan would carry no stock whatever the "
            f"service (low fill, negative reorder points). Set what a short unit costs ({', '.join(paths)}), "
            "or a service rule: service.target (or --target), service.sku_floor or service.floors"]


# --------------------------------------------------------------------------- horizons
def protection_period(scenario: Scenario) -> tuple[int, int, str]:
    """(lead time, review period, mode name) of the longest protection period a candidate may have:
    the longest mean lead time (rounded up to whole periods) of the modes candidates may use, and the
    longest review period (policies.review_periods, R of explicit candidates)."""
    best_lead, best_mode = 0, scenario.allowed_modes()[0]
    for name in scenario.allowed_modes():
        lead = math.ceil(dist_mean(scenario.mode(name).lead_time) - 1e-9)
        if lead > best_lead:
            best_lead, best_mode = lead, name
    reviews = [int(r) for r in scenario.policies.review_periods]
    candidates = scenario.policies.candidates
    if not isinstance(candidates, str):
        reviews += [int(row["R"]) for rows in candidates.values() for row in rows if "R" in row]
    return best_lead, max(reviews), best_mode


def smallest_lot(scenario: Scenario) -> tuple[int, str]:
    """The fewest units any replenishment order can have (max(policies.moq, 1) rounded up to a
    multiple of policies.pack_size), and what forces it in words."""
    moq, pack = scenario.policies.moq, scenario.policies.pack_size
    lot = -(-max(moq, 1) // pack) * pack
    if lot <= 1:
        return 1, "one unit"
    parts = []
    if moq > 1:
        parts.append(f"policies.moq {moq}")
    if pack > 1:
        parts.append(f"policies.pack_size {pack}")
    return lot, " and ".join(parts)


def horizon_problems(scenario: Scenario) -> list[str]:
    """The horizon rules ("path: message" lines): horizon.warmup at least the protection period
    (protection_period: lead time + review period); horizon.periods at least HORIZON_CYCLES
    replenishment cycles of every SKU with demand (smallest_lot / mean demand per period)."""
    problems: list[str] = []
    h = scenario.horizon
    lead, review, mode = protection_period(scenario)
    protection = lead + review
    if h.warmup < protection:
        problems.append(f"horizon.warmup: {h.warmup} periods is shorter than the protection period, {protection} "
                        f"periods (lead time {lead} of transport mode {mode} + review period {review}): a policy "
                        "starts with its stock on hand and nothing on order, and its first periods would be counted "
                        f"before any replenishment could arrive. Set horizon.warmup to at least {protection}")
    lot, forced = smallest_lot(scenario)
    short: list[tuple[int, str, float]] = []
    for sku in scenario.skus:
        mu = dist_mean(sku.demand) if sku.demand is not None else 0.0
        if mu <= 0:
            continue
        need = math.ceil(HORIZON_CYCLES * lot / mu - 1e-9)
        if h.periods < need:
            short.append((need, sku.id, mu))
    if short:
        short.sort(key=lambda x: (-x[0], x[1]))
        need, sku_id, mu = short[0]
        ids = [s for _, s, _ in short]
        from scenarios.schema import MAX_PERIODS

        fix = (f"Set horizon.periods to at least {need}" if need + h.warmup <= MAX_PERIODS else
               f"No horizon can (at most {MAX_PERIODS:,} periods): lower policies.moq or policies.pack_size, or "
               "plan these SKUs without them")
        problems.append(f"horizon.periods: {h.periods} counted periods hold fewer than {HORIZON_CYCLES} replenishment "
                        f"cycles of SKU {_ids(ids)}: the smallest order is {lot} units ({forced}), which lasts "
                        f"{lot / mu:.6g} periods at SKU {sku_id}'s mean demand of {mu:.6g} per period, so a plan "
                        "could live off its starting stock and never order inside the horizon. "
                        f"{fix} ({HORIZON_CYCLES} cycles of SKU {sku_id})")
    return problems


# --------------------------------------------------------------------------- the check
def planning_problems(scenario: Scenario) -> list[str]:
    """Every planning rule broken, as "path: message" lines (free shortage, then horizons)."""
    return free_shortage_problems(scenario) + horizon_problems(scenario)


def check_plannable(scenario: Scenario, source: Any = None, overrides: Any = None, variants: Any = None) -> None:
    """Raise ScenarioError (exit status 2) listing every planning rule the scenario breaks. `source`:
    the scenario file (each problem then names the file that gave the value at its path, and how:
    variant, --set), or None for a Scenario given directly (named "scenario <name>")."""
    lines = planning_problems(scenario)
    if not lines:
        return
    from scenarios.errors import Problem, ScenarioError

    origin = None
    if source is not None:
        try:
            from scenarios.loader import load_data

            _, origin = load_data(source, overrides, variants)
        except Exception:  # the file loaded a moment ago; if it cannot be read again, name it as given
            origin = None
    problems = []
    for line in lines:
        path, _, rule = line.partition(": ")
        file, note = (str(source) if source is not None else f"scenario {scenario.name}"), ""
        if origin is not None:
            try:
                from scenarios.merge import parse_path

                file, note = origin(parse_path(path))
            except Exception:
                pass
        problems.append(Problem(file=file, path=path, rule=rule + note))
    raise ScenarioError(problems)
