"""Reference: the customer reaction shares are honoured.

Customer orders of one unit each, stock kept low so that many orders are short. Each short order
draws one reaction independently of everything else, so the numbers of short units that wait,
substitute and are lost are multinomial(n_short; wait, substitute, lost). Each observed share must
lie within 4 binomial standard errors of the scenario's share (probability of a false alarm < 1e-4
per share); swapping two reactions or misplacing a threshold moves a share by 10 points, i.e. > 10
standard errors here.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import simpy_model
from simulation.counters import INDEX
from simulation.policy_arrays import policy_arrays
from tests.simulation.simpy_worlds import policies, scenario

SHARES = dict(wait=0.5, substitute=0.3, lost_sale=0.2)


@pytest.mark.parametrize("partial", [True, False])
def test_reaction_shares(partial):
    sc = scenario(
        horizon=dict(periods=1500, warmup=10),
        replications=3,
        transport=[dict(name="truck", lead_time=3)],
        customer_reaction=dict(**SHARES, partial_shipments=partial),
        sku=dict(demand={"dist": "compound", "orders": {"dist": "poisson", "mean": 3}, "size": 1}),
    )
    arrays = policy_arrays(sc, policies(dict(family="base_stock", S=9, R=1), dict(family="sS", s=2, S=12, R=0)))
    counters = simpy_model.simulate_sku(sc, sc.skus[0], arrays, sc.replications, sc.seed).sum(axis=1)
    for c in counters:
        waited, substituted, lost = (c[INDEX[k]] for k in ("backordered_units", "substituted_units", "lost_units"))
        short = waited + substituted + lost
        assert short > 1500
        assert short == c[INDEX["demand_units"]] - c[INDEX["filled_units"]]
        for got, share in ((waited, SHARES["wait"]), (substituted, SHARES["substitute"]), (lost, SHARES["lost_sale"])):
            se = np.sqrt(share * (1 - share) / short)
            assert abs(got / short - share) <= 4 * se, (got / short, share, se)
        # one-unit orders: every short order is one backordered order
        assert c[INDEX["backordered_orders"]] == waited
