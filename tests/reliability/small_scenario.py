"""The small scenario the reliability tests run (one truck, base stock and (s,S), 40 periods, 2
replications): one text, so the tests differ only where they mean to."""

from __future__ import annotations

_SKUS = (
    "  - {id: a, unit_cost: 5, price: 9, demand: {dist: poisson, mean: 4}}\n",
    "  - {id: b, unit_cost: 12, price: 20, demand: {dist: poisson, mean: 2}}\n",
    "  - {id: c, unit_cost: 3, price: 4, demand: {dist: negbin, mean: 6, cv: 0.8}}\n",
)


def small_scenario(name: str, n_skus: int, description: str | None = None) -> str:
    """Scenario YAML text named `name` with the first `n_skus` (1-3) SKUs a, b, c, and a
    `description:` line when one is given (written as given)."""
    return (
        "format: 1\n"
        f"name: {name}\n"
        + (f"description: {description}\n" if description is not None else "")
        + "seed: 2\n"
        "horizon: {periods: 40, warmup: 5}\n"
        "replications: 2\n"
        "costs: {order_cost: 15.0}\n"
        "customer_reaction: {wait: 0.5, lost_sale: 0.5}\n"
        "transport:\n"
        "  - {name: truck, lead_time: 2, cost_per_shipment: 10, cost_per_unit: 0.1}\n"
        "service: {frontier: [0.9, 0.95]}\n"
        "policies: {families: [base_stock, sS], review_periods: [0, 1]}\n"
        "skus:\n" + "".join(_SKUS[:n_skus])
    )
