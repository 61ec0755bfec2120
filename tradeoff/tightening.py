"""Selection bias correction: a plan that misses a rule out of sample is chosen again with that rule
tightened by the plan's own optimism, then verified again.

The selection picks, among many candidates per SKU, those whose simulated service happened to come
out high for their cost, so a plan chosen to meet a 95 % target in sample often delivers a little
less on fresh demand (tradeoff/verify.py). A planner asking for 95 % means 95 % out of sample. So
when a rule is missed out of sample, the rule is re-stated for the selection at

    original level + (in-sample figure - out-of-sample figure of the current plan)

(for a limit: original cap - (out-of-sample use - in-sample use)), the plan is chosen again from the
same evaluations and re-simulated on the verification streams. The new plan is kept only when it
misses fewer rules (or as many, by less). At most MAX_ROUNDS rounds; a tightened level that no plan
can reach ends the rounds with the best plan so far. Rules still missed stay flagged.

The verification streams steer a single level per missed rule, so the reported figures remain out
of sample in every sense that matters for a plan of many SKUs. Per-SKU floors (service.sku_floor)
are not tightened: a single SKU's shortfall is mostly noise, and it stays flagged per SKU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scenarios.schema import Scenario
from tradeoff.verify import RuleCheck, check_rules

MAX_ROUNDS = 3

_TIGHTENABLE = ("service.target", "service.floors.", "budget.inventory_value",
                "costs.warehousing.capacity_units", "transport[", "customer_tiers.tiers[")


def tightenable(rule: str) -> bool:
    """True for the rules the correction re-states: the aggregate target, class floors, customer tier
    floors and limits."""
    return rule.startswith(_TIGHTENABLE)


def shortfall(checks: list[RuleCheck]) -> tuple[int, float]:
    """(rules missed, summed relative shortfall) of the tightenable rules: smaller is better."""
    missed = [c for c in checks if not c.met and tightenable(c.rule)]
    gap = sum(abs(c.required - c.achieved) / max(abs(c.required), 1e-12) for c in missed)
    return len(missed), gap


def scenario_with_levels(scenario: Scenario, levels: dict[str, float]) -> Scenario:
    """`scenario` with the rules named in `levels` (YAML paths, as RuleCheck.rule) set to new levels;
    service.target is left to the caller (select takes it as an argument). A copy: the scenario
    itself is frozen and unchanged."""
    service, budget, costs = scenario.service, scenario.budget, scenario.costs
    transport = list(scenario.transport)
    floors = dict(service.floors)
    tiers = list(scenario.customer_tiers.tiers) if scenario.customer_tiers is not None else []
    for rule, level in levels.items():
        if rule.startswith("service.floors."):
            floors[rule.removeprefix("service.floors.")] = level
        elif rule == "budget.inventory_value":
            budget = budget.model_copy(update={"inventory_value": level})
        elif rule == "costs.warehousing.capacity_units":
            costs = costs.model_copy(update={"warehousing": costs.warehousing.model_copy(update={"capacity_units": level})})
        elif rule.startswith("transport["):
            k = int(rule[len("transport["):rule.index("]")])
            transport[k] = transport[k].model_copy(update={"capacity_per_period": level})
        elif rule.startswith("customer_tiers.tiers["):
            k = int(rule[len("customer_tiers.tiers["):rule.index("]")])
            tiers[k] = tiers[k].model_copy(update={"floor": level})
    service = service.model_copy(update={"floors": floors})
    update = {"service": service, "budget": budget, "costs": costs, "transport": tuple(transport)}
    if tiers:
        update["customer_tiers"] = scenario.customer_tiers.model_copy(update={"tiers": tuple(tiers)})
    return scenario.model_copy(update=update)


def next_levels(levels: dict[str, float], in_sample: list[RuleCheck], out_of_sample: list[RuleCheck]) -> dict[str, float]:
    """The selection levels of the next round: each tightenable rule missed out of sample moved by
    the current plan's optimism (in-sample minus out-of-sample figure) from its original level, and
    never loosened. `levels` holds the levels of the current round; checks carry the original ones."""
    inside = {c.rule: c for c in in_sample}
    new = dict(levels)
    for c in out_of_sample:
        if c.met or not tightenable(c.rule) or c.rule not in inside:
            continue
        optimism = abs(inside[c.rule].achieved - c.achieved)
        if c.kind == "service":
            new[c.rule] = min(1.0, max(levels.get(c.rule, c.required), c.required + optimism))
        else:
            new[c.rule] = max(0.0, min(levels.get(c.rule, c.required), c.required - optimism))
    return new


@dataclass
class Tightened:
    """The outcome: the plan kept (optimizer.Plan), its plan table and checks, the rounds tried
    (one dict per round: the levels it selected at, rules missed and whether it was kept), and the
    rules the first plan (chosen at the scenario's own levels) missed out of sample."""

    plan: object
    plan_table: object
    checks: list[RuleCheck]
    rounds: list[dict]
    first_missed: list[str]
    levels: dict[str, float] | None = None  # the levels the kept plan was selected at (None: the scenario's)


def tighten(scenario: Scenario, plan, plan_table, checks: list[RuleCheck], select: Callable,
            verify: Callable) -> Tightened:
    """Re-choose while tightenable rules are missed out of sample (see the module docstring).

    plan: the optimizer.Plan chosen at the scenario's own levels; plan_table, checks: its
    verification; select(scenario, target) -> Plan (raises optimizer.InfeasibleError when the
    tightened levels cannot be met); verify(choice) -> (plan_table, checks) on the original rules."""
    from optimizer import InfeasibleError

    target = plan.target
    levels: dict[str, float] = {} if target is None else {"service.target": float(target)}
    best = Tightened(plan, plan_table, checks, [], [c.rule for c in checks if not c.met])
    current_plan, current_checks = plan, checks
    for _ in range(MAX_ROUNDS):
        if shortfall(best.checks)[0] == 0:
            break
        in_sample = check_rules(scenario, current_plan.choice, target)
        new_levels = next_levels(levels, in_sample, current_checks)
        if new_levels == levels:
            break  # nothing left to move (a level at its bound)
        levels = new_levels
        stated = {k: round(v, 12) for k, v in sorted(levels.items())}
        try:
            candidate = select(scenario_with_levels(scenario, levels), levels.get("service.target"))
        except InfeasibleError:
            best.rounds.append({"levels": stated, "rules_missed": None, "kept": False, "infeasible": True})
            break
        table, new_checks = verify(candidate.choice)
        kept = shortfall(new_checks) < shortfall(best.checks)
        best.rounds.append({"levels": stated, "rules_missed": [c.rule for c in new_checks if not c.met],
                            "kept": kept, "infeasible": False})
        if kept:
            best = Tightened(candidate, table, new_checks, best.rounds, best.first_missed, dict(levels))
        current_plan, current_checks = candidate, new_checks
    return best
