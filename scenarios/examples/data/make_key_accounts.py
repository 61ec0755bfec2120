"""Generate the key-accounts sales history of scenarios/examples/key_accounts.yaml (seeded, reproducible).

    .venv/bin/python scenarios/examples/data/make_key_accounts.py

writes data/key_accounts_history.csv (sku, date, customer, quantity: one row per SKU, day and
customer with a sale) and ../key_accounts.yaml (the scenario, whose header carries the customer
tiers the history gives). Same seed -> byte-identical files.

What it imitates (two years of daily orders at a distributor, 2024-01-01 .. 2025-12-28, 104 weeks):
- 12 SKUs of very different value (unit cost 2-90 EUR);
- 40 customer accounts of very different size (log-normal: units per order line and orders per day
  both grow with it, so annual spend spans three orders of magnitude): a few
  large accounts order nearly every working day and buy most of the volume, a long tail of small
  accounts order every few weeks;
- each account has its own assortment (a large account buys most SKUs, a small one a few) and
  orders mostly Monday to Friday; a line's quantity is Poisson-gamma around the account's size.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 7
N_SKUS = 12
N_CUSTOMERS = 40
START = date(2024, 1, 1)  # a Monday
DAYS = 728  # 104 weeks
WEEKDAY = np.array([1.1, 1.0, 1.0, 1.0, 1.1, 0.25, 0.05])  # Monday .. Sunday: working days
WEEKDAY = WEEKDAY / WEEKDAY.mean()
HERE = Path(__file__).resolve().parent
CSV = HERE / "key_accounts_history.csv"
YAML = HERE.parent / "key_accounts.yaml"
SPEND_SHARES = (0.6, 0.9)  # key | medium | small: cumulative share of annual spend (the scenario's spend_share)
TIERS = ("key", "medium", "small")


def catalogue(g: np.random.Generator) -> pd.DataFrame:
    """SKU master data: id, unit_cost and price in EUR, popularity (relative weight in orders)."""
    cost = np.round(np.exp(g.uniform(np.log(2.0), np.log(90.0), N_SKUS)), 2)
    price = np.round(cost * g.uniform(1.25, 1.9, N_SKUS), 2)
    popularity = g.dirichlet(np.full(N_SKUS, 4.0))
    return pd.DataFrame({"sku": [f"KA-{i:02d}" for i in range(1, N_SKUS + 1)], "unit_cost": cost,
                         "price": price, "popularity": popularity})


def accounts(g: np.random.Generator) -> pd.DataFrame:
    """Customer accounts: id, size (mean units per order line), orders per working day."""
    size = np.sort(np.exp(g.normal(0.0, 1.0, N_CUSTOMERS)))[::-1]
    size = size / np.median(size)
    rate = np.clip(0.15 * size ** 0.5, 0.03, 0.95)  # large accounts order (nearly) daily
    ids = [f"C-{i:03d}" for i in g.permutation(np.arange(101, 101 + N_CUSTOMERS))]  # ids say nothing of size
    return pd.DataFrame({"customer": ids, "size": size, "rate": rate})


def history(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(catalogue, accounts, sales rows sku/date/customer/quantity with quantity > 0) for this seed."""
    g = np.random.default_rng(seed)
    cat, acc = catalogue(g), accounts(g)
    days = np.array([(START + timedelta(days=i)).isoformat() for i in range(DAYS)])
    dow = WEEKDAY[np.arange(DAYS) % 7]
    parts = []
    for c in acc.itertuples():
        # assortment: each SKU with a chance that grows with the account's size and the SKU's popularity
        breadth = np.clip(0.25 + 0.15 * np.log1p(c.size), 0.25, 0.95)
        p_line = np.clip(breadth * cat["popularity"].to_numpy() * N_SKUS, 0.02, 1.0)
        carried = g.random(N_SKUS) < np.clip(p_line * 1.5, 0.15, 1.0)
        if not carried.any():
            carried[int(np.argmax(cat["popularity"].to_numpy()))] = True
        order_days = np.nonzero(g.random(DAYS) < np.clip(c.rate * dow, 0, 1))[0]
        for j in np.nonzero(carried)[0]:
            on = order_days[g.random(len(order_days)) < p_line[j]]
            shape = g.uniform(2.0, 6.0)
            mean = c.size * 3.0 * cat["popularity"].iat[j] * N_SKUS
            q = g.poisson(mean * g.gamma(shape, 1 / shape, len(on)))
            keep = q > 0
            parts.append(pd.DataFrame({"sku": cat["sku"].iat[j], "date": days[on[keep]], "customer": c.customer,
                                       "quantity": q[keep]}))
    sales = pd.concat(parts, ignore_index=True).sort_values(["date", "sku", "customer"], ignore_index=True)
    return cat, acc, sales


def csv_text(sales: pd.DataFrame) -> str:
    """The CSV exactly as committed (LF line ends). Written by hand: every field is a fixed id, an
    ISO date or a whole number, so nothing needs quoting."""
    rows = (f"{r.sku},{r.date},{r.customer},{int(r.quantity)}" for r in sales.itertuples(index=False))
    return "\n".join(["sku,date,customer,quantity", *rows]) + "\n"


def tier_summary(cat: pd.DataFrame, sales: pd.DataFrame) -> str:
    """Header text: the tiers the scenario's loader makes of this history (scenarios.customer_tiers)."""
    sys.path.insert(0, str(HERE.parents[2]))
    from scenarios.customer_tiers import rank_customers, sku_tier_shares

    units = sales.groupby(["sku", "customer"], as_index=False)["quantity"].sum()
    prices = dict(zip(cat["sku"], cat["price"]))
    ranking = rank_customers(units, prices, 364 / DAYS, SPEND_SHARES, TIERS)
    total = ranking["annual_spend"].sum()
    lines = ["Customer tiers from the history (scenarios.customer_tiers, spend_share 0.6 / 0.9; written by",
             "data/make_key_accounts.py): customers, share of annual spend, annual spend per customer (EUR).",
             "tier     customers  spend share  annual spend per customer"]
    for name in TIERS:
        d = ranking[ranking["tier"] == name]["annual_spend"]
        lines.append(f"{name:<8} {len(d):>9}  {d.sum() / total:>11.3f}  "
                     f"{d.min():,.0f} - {d.max():,.0f}")
    shares = pd.DataFrame(sku_tier_shares(units, ranking, TIERS)).T
    lines.append("Share of each SKU's units bought by the key accounts: "
                 f"{shares['key'].min():.2f} - {shares['key'].max():.2f} (median {shares['key'].median():.2f}).")
    return "\n".join(lines)


def scenario_yaml(cat: pd.DataFrame, header: str) -> str:
    """The scenario file: header comment, settings, tiers and the SKU list (demand from history)."""
    comment = "\n".join(f"# {line}".rstrip() for line in header.splitlines())
    skus = "\n".join(
        f"  - {{id: {r.sku}, unit_cost: {r.unit_cost:.2f}, price: {r.price:.2f}}}" for r in cat.itertuples()
    )
    return f"""# Distributor with key accounts: {N_SKUS} SKUs, {N_CUSTOMERS} customer accounts, two years of daily orders in
# data/key_accounts_history.csv (sku, date, customer, quantity).
#
# Customers come in three tiers taken from the history's customer column (docs/tiers.md,
# docs/demand-from-history.md "Customer tiers from the history"): ranked by annual spend over all
# SKUs, the accounts covering the first 60 % of spend are key, the next 30 % medium, the rest small.
# Each SKU's tier_shares are the shares of its units bought by each tier. Demand per SKU is fitted
# from the daily totals over all customers, and each tier's own demand from the daily units its
# customers bought (customer_tiers.demand: own, the default). Scarce stock goes to the key accounts
# first (critical levels): they have a 99 % fill-rate floor and mostly buy elsewhere when the stock is
# out (a lost key order also costs goodwill); small accounts wait for a backorder, so the units held
# back for the key accounts cost the small ones a wait, not a sale.
#
{comment}
#
# Regenerate the data and this file: .venv/bin/python scenarios/examples/data/make_key_accounts.py
format: 1
name: key-accounts
description: Distributor, {N_SKUS} SKUs, key / medium / small accounts ranked by spend from two years of daily orders
currency: EUR
seed: 11
horizon: {{periods: 364, warmup: 28, periods_per_year: 364}}   # days: 52 weeks counted after 4 weeks of warm-up
replications: 5

costs:
  carrying_rate: 0.20          # per year on unit cost
  order_cost: 40.0             # per replenishment order
  goodwill: 1.0                # per unit lost, on top of the lost margin (a tier may set its own)

customer_reaction: {{wait: 0.5, lost_sale: 0.5}}

customer_tiers:
  allocation: critical_level
  tiers:                       # no share: taken from the history's customer column
    - name: key
      spend_share: {SPEND_SHARES[0]}
      reaction: {{wait: 0.1, lost_sale: 0.9}}
      goodwill: 8.0
      floor: 0.99
    - name: medium
      spend_share: {SPEND_SHARES[1]}
      reaction: {{wait: 0.5, lost_sale: 0.5}}
      goodwill: 2.0
    - name: small
      reaction: {{wait: 1.0, lost_sale: 0.0}}
      goodwill: 0.5

transport:
  - name: truck
    lead_time: {{dist: gamma, mean: 5, cv: 0.3}}
    cost_per_shipment: 220
    cost_per_unit: 0.2
  - name: express
    lead_time: 1
    cost_per_shipment: 90
    cost_per_unit: 1.2

service:
  metric: fill_rate
  floors: {{A: 0.95, B: 0.92, C: 0.85}}

policies:
  families: [sS, RS, base_stock]
  review_periods: [0, 7]

demand_history_csv: data/key_accounts_history.csv

skus:
{skus}
"""


def main() -> None:
    cat, acc, sales = history()
    CSV.write_text(csv_text(sales), encoding="utf-8", newline="\n")
    header = tier_summary(cat, sales)
    YAML.write_text(scenario_yaml(cat, header), encoding="utf-8", newline="\n")
    print(header)
    print(f"wrote {CSV} ({CSV.stat().st_size / 1e6:.2f} MB, {len(sales)} rows) and {YAML}")


if __name__ == "__main__":
    main()
