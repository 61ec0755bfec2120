"""Hypothesis strategies: random VALID scenario data (as YAML would give it), and random mutations.

Used by the property tests here and by the fuzzer in tests/bad_inputs/.
"""

from __future__ import annotations

import copy
import math

from hypothesis import strategies as st

FAMILIES = ["base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock"]
money = st.floats(min_value=0.01, max_value=5000, allow_nan=False).map(lambda x: round(x, 2))
small = st.floats(min_value=0, max_value=50, allow_nan=False).map(lambda x: round(x, 3))
positive = st.floats(min_value=0.05, max_value=50, allow_nan=False).map(lambda x: round(x, 3))
share = st.integers(0, 100).map(lambda k: k / 100)
NAMES = st.text(alphabet="abcxyz019_-", min_size=1, max_size=20)


@st.composite
def negbin(draw):
    mean = draw(positive)
    cv = 1 / math.sqrt(mean) + draw(st.floats(0.01, 1.0))
    return {"dist": "negbin", "mean": mean, "cv": round(cv, 6) + 1e-6}


@st.composite
def uniform(draw):
    low = draw(small)
    return {"dist": "uniform", "low": low, "high": low + draw(small)}


def _simple_dist():
    return st.one_of(
        small,
        small.map(lambda v: {"dist": "fixed", "value": v}),
        small.map(lambda m: {"dist": "poisson", "mean": m}),
        negbin(),
        st.tuples(small, small).map(lambda t: {"dist": "normal", "mean": t[0], "sd": t[1]}),
        st.tuples(positive, positive).map(lambda t: {"dist": "gamma", "mean": t[0], "cv": t[1]}),
        uniform(),
        st.lists(small, min_size=1, max_size=6).map(lambda v: {"dist": "empirical", "values": v}),
    )


SIMPLE = _simple_dist()
DEMAND = st.one_of(SIMPLE, st.tuples(SIMPLE, SIMPLE).map(lambda t: {"dist": "compound", "orders": t[0], "size": t[1]}))


def simple_dist():
    """A distribution for lead times and order-cycle times (a number or a mapping)."""
    return SIMPLE


def demand_dist():
    """A demand distribution (compound allowed)."""
    return DEMAND


@st.composite
def policy(draw, modes):
    fam = draw(st.sampled_from(FAMILIES))
    s = draw(st.integers(0, 50))
    p: dict = {"family": fam}
    if fam in ("sS", "RsS"):
        p.update(s=s, S=s + draw(st.integers(1, 50)))
    elif fam == "rQ":
        p.update(s=s, Q=draw(st.integers(1, 50)))
    else:
        p["S"] = s
    if fam == "capped_base_stock":
        p["cap"] = draw(st.integers(1, 20))
    if fam in ("RS", "RsS"):
        p["R"] = draw(st.integers(1, 14))
    if draw(st.booleans()):
        p["mode"] = draw(st.sampled_from(modes))
    return p


@st.composite
def sku(draw, i, modes):
    cost = draw(money)
    d: dict = {"id": f"S{i}", "unit_cost": cost, "price": round(cost * (1 + draw(st.floats(0, 2))), 2) + 0.01,
               "demand": draw(demand_dist())}
    if draw(st.booleans()):
        d["class"] = draw(st.sampled_from(["A", "B", "C"]))
    if draw(st.booleans()):
        d["customers"] = draw(st.integers(1, 500))
    if draw(st.booleans()):
        d["current_policy"] = draw(policy(modes))
    return d


@st.composite
def scenario_data(draw):
    """A random valid scenario as a YAML-like dict (lists, plain numbers and text)."""
    names = draw(st.lists(st.sampled_from(["truck", "air", "sea", "rail", "parcel"]), min_size=1, max_size=3, unique=True))
    transport = []
    for n in names:
        m = {"name": n, "lead_time": draw(simple_dist())}
        if draw(st.booleans()):
            m["cost_per_shipment"] = draw(small)
        if draw(st.booleans()):
            m["vehicle_capacity"] = draw(positive)
        transport.append(m)
    wait = draw(st.integers(0, 100))
    sub = draw(st.integers(0, 100 - wait))
    data: dict = {
        "format": 1,
        "name": draw(NAMES),
        "seed": draw(st.integers(0, 2**32)),
        "horizon": {"periods": draw(st.integers(1, 400)), "warmup": draw(st.integers(0, 30))},
        "replications": draw(st.integers(1, 20)),
        "costs": {"carrying_rate": draw(st.floats(0, 1).map(lambda x: round(x, 3))), "order_cost": draw(small)},
        "customer_reaction": {"wait": wait / 100, "substitute": sub / 100, "lost_sale": (100 - wait - sub) / 100},
        "transport": transport,
        "service": {"metric": draw(st.sampled_from(["fill_rate", "cycle_service_level", "order_fill_rate", "on_time_rate"]))},
        "policies": {"families": draw(st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=3, unique=True)),
                     "review_periods": draw(st.lists(st.integers(0, 14), min_size=1, max_size=3, unique=True))},
        "skus": [draw(sku(i, names)) for i in range(draw(st.integers(1, 5)))],
    }
    if draw(st.booleans()):
        data["customer_reaction"]["repeated_stockout"] = {"window": draw(st.integers(1, 90)), "threshold": draw(st.integers(1, 5)),
                                                          "defect_probability": draw(share)}
        for k in data["skus"]:  # defection needs every SKU's customers count
            k.setdefault("customers", draw(st.integers(1, 500)))
    if draw(st.booleans()):
        data["service"]["target"] = draw(st.integers(50, 100)) / 100
    classes = sorted({k.get("class") or c for k in data["skus"] for c in (["A", "B", "C"] if "class" not in k else [])}
                     | {k["class"] for k in data["skus"] if "class" in k})
    if draw(st.booleans()):  # a floor names a class some SKU has (or gets by ABC)
        data["service"]["floors"] = {draw(st.sampled_from(classes)): draw(st.integers(50, 100)) / 100}
    if draw(st.booleans()):
        data["policies"]["modes"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    if draw(st.booleans()):
        data["expedite"] = {"mode": draw(st.sampled_from(names))}
    return data


JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.just({"dist": "compound"}), st.just({"dist": "negbin", "mean": 1, "cv": 0.1}), st.just("[unclosed"),
).map(copy.deepcopy)  # st.just hands out one shared object; edits must never reach it


def all_paths(x, prefix=()):
    """Every (path, value) inside nested dicts and lists, the root excluded."""
    out = []
    if isinstance(x, dict):
        for k, v in x.items():
            out.append((prefix + (k,), v))
            out.extend(all_paths(v, prefix + (k,)))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out.append((prefix + (i,), v))
            out.extend(all_paths(v, prefix + (i,)))
    return out


@st.composite
def mutated(draw):
    """A valid scenario with one to three random edits: a value replaced by junk, a key or item
    removed, or an unknown key added."""
    data = copy.deepcopy(draw(scenario_data()))
    for _ in range(draw(st.integers(1, 3))):
        paths = all_paths(data)
        path, _ = draw(st.sampled_from(paths))
        parent = data
        for s in path[:-1]:
            parent = parent[s]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JUNK)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=6))] = draw(JUNK)
        else:
            parent.append(draw(JUNK))
    return data
