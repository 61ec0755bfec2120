"""The kernel's raw counters are byte-identical to those recorded before its loop was split into helpers.

test_engine_equality.py compares the kernel with the SimPy model on tiny scenarios, the cycle-time
sums to 1e-9. This test pins the kernel's output arrays bit for bit on the shipped examples (each
with partial shipments off, with expedite, with MOQ and pack size) and on the first 50 SKUs of the
bench scenario, for every family, mode and review period (0, 1, 7) on a fixed grid around each
SKU's demand. The digests were recorded with the kernel of commit a7690c7 (one 34-argument loop),
so a refactoring of simulation/kernel_loop.py that moves a single bit fails here, naming the case.

When a change of results is intended (a new semantics, a new stream), check it against the SimPy
model first, then replace the digests with the ones `python tests/simulation/test_kernel_golden.py`
prints.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.loader import load
from scenarios.schema import Expedite, Scenario, Sku, dist_mean
from simulation.kernel import simulate_sku
from simulation.policy_arrays import policy_arrays

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("retail_dc", "retail_dc_high_carrying", "retail_history", "service_audit", "spare_parts")
FAMILIES = ("base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock")
VARIANTS = ("base", "no_partial", "expedite", "moq_pack")
EXAMPLE_SKUS = 3  # the first SKUs of each example
BENCH_SKUS = 50
REPLICATIONS = 2

GOLDEN = {  # recorded with the kernel of commit a7690c7
    "retail_dc/base": "d4e36ac0387ad189e94e746934be19930a13662a8ba0541504fd72d0f05fc831",
    "retail_dc/no_partial": "be147f81865629ad6682d7a4b3040d9d434d49d969318d9f44a40b557aa6dfa1",
    "retail_dc/expedite": "b9ad6015c27768b14edea76da3585b3e6b7f1b8b071ff7a1d7d08a45740e09c9",
    "retail_dc/moq_pack": "13446043b3910ba7a85463ca445173760a4ad9236d13081a7606c86543207220",
    "retail_dc_high_carrying/base": "d4e36ac0387ad189e94e746934be19930a13662a8ba0541504fd72d0f05fc831",
    "retail_dc_high_carrying/no_partial": "be147f81865629ad6682d7a4b3040d9d434d49d969318d9f44a40b557aa6dfa1",
    "retail_dc_high_carrying/expedite": "b9ad6015c27768b14edea76da3585b3e6b7f1b8b071ff7a1d7d08a45740e09c9",
    "retail_dc_high_carrying/moq_pack": "13446043b3910ba7a85463ca445173760a4ad9236d13081a7606c86543207220",
    "retail_history/base": "e7ac861831952a89daad9f9838113e1485c84b369b5103f979178c8ef53c9e7e",
    "retail_history/no_partial": "17add067a7a57f9b5bff3120bbf078fa347894571614c2b9f59e6f01fbf69cfe",
    "retail_history/expedite": "78c3dcfc05acbc29c571a9285ea1d90b22a7060ca87e9f2314bb663f608db2a4",
    "retail_history/moq_pack": "4ad627bd7ce9751441af3b70ee241e9441b6a8929190f9e4a194d21919439754",
    "service_audit/base": "d1e41aea9419fd88837c557cd3a5a8527b9bf1c4699e50cb5877a1930e900258",
    "service_audit/no_partial": "d2b35cdd21c30e70a4979599d57feeac9262a8db99859bcf2530e950b278eaa0",
    "service_audit/expedite": "9ba3c2112b1805fe81a1d619894d74ac07cb077c8a8f517a9e257f1cde75d2d7",
    "service_audit/moq_pack": "2b8ca13fec3f4cb3cb32d22994e25a2f842727ceb3654630d70d081e2f7aad8b",
    "spare_parts/base": "b0685e49b07c37efe8159e598cb6716a54193ce8457c75b2124a7bf99ebdd1a3",
    "spare_parts/no_partial": "c88a65127d230180268d7eac02f2a240ecd9a89a9940359ae29968f4babede66",
    "spare_parts/expedite": "d95cd3a48a9f3db0e6e51921d93f0170c07979c41ead743184741942cd6f294c",
    "spare_parts/moq_pack": "dafcf958a90aee995678c004ab8d387b04702dc51cb7c4034af5ce8fd19c7b5f",
    "bench_1000/base": "a4db38f6f3b726f72125b2dcb8630f326fd44282811b02ed427d36d36038966d",
}


def grid(scenario: Scenario, sku: Sku) -> pd.DataFrame:
    """Every family x mode x R in {0, 1, 7} at four stock levels around the SKU's mean demand (the
    lowest negative, so that backlogs build up)."""
    mu = max(dist_mean(sku.demand), 0.5)
    lot = float(max(1, int(mu * 4)))
    rows = []
    for mode in scenario.transport:
        for R in (0, 1, 7):
            for family in FAMILIES:
                if family in ("RS", "RsS") and R == 0:
                    continue
                for level in (-1.0, 0.5, 2.0, 5.0):
                    s = float(int(level * mu * 3))
                    rows.append(dict(
                        sku=sku.id, family=family, mode=mode.name, R=R,
                        s=s if family in ("sS", "rQ", "RsS") else np.nan,
                        S=s + lot if family != "rQ" else np.nan,
                        Q=lot if family == "rQ" else np.nan,
                        cap=float(max(1, int(mu * 2))) if family == "capped_base_stock" else np.nan,
                    ))
    return pd.DataFrame(rows)


def variant(scenario: Scenario, name: str) -> Scenario:
    """The scenario with one setting changed, reaching other branches of the period loop."""
    cr = scenario.customer_reaction
    if name == "no_partial":
        return scenario.model_copy(update=dict(customer_reaction=cr.model_copy(update=dict(partial_shipments=False))))
    if name == "expedite":
        return scenario.model_copy(update=dict(
            expedite=Expedite(mode=scenario.transport[-1].name),
            customer_reaction=cr.model_copy(update=dict(wait=0.7, substitute=0.2, lost_sale=0.1)),
        ))
    if name == "moq_pack":
        return scenario.model_copy(update=dict(policies=scenario.policies.model_copy(update=dict(moq=7, pack_size=5))))
    return scenario


GOLDEN_SPREAD = {  # recorded with the spread start of simulation.start (session 6)
    "retail_dc/base": "30f403768ecdf7f2e132f7123a6ddfc367c7664f40e8c413c089d0967f35dab5",
    "retail_dc/moq_pack": "49f25ccc02d2ade47fece7cc2bfd26a70df047f905342b6150167470ad9f8753",
    "retail_history/base": "c86a830a84722ee2c84e5c33022204c1e371405c2f805c9296c7e1a5249c0260",
    "retail_history/moq_pack": "c3348009a8427c2f7bcb771af209fde57d24c3588a8636c449374c7cf454b828",
    "service_audit/base": "76a3cbe4618a74c52c026bf71162d8eaf07d81f32f0ced2cd7095e0ca8ec0de6",
    "service_audit/moq_pack": "db592b3c488be14cebbabd138922215d944041f756c89454f8bb5a8f30e9f161",
    "spare_parts/base": "7173c464616c132e70b39cbc974da97e989026d58f8afb684b9a5702e05226b2",
    "spare_parts/moq_pack": "85509813c5edc7603365c246e550119205f25465595fc41d6de89c084f5eda45",
}

CASES = tuple(f"{name}/{v}" for name in EXAMPLES for v in VARIANTS) + ("bench_1000/base",)


def case(name: str, start: str = "full") -> tuple[Scenario, int]:
    """The scenario of a case ("<example>/<variant>" or "bench_1000/base") and how many of its SKUs run,
    with horizon.start `start`. GOLDEN holds the digests of the full start, where every replication
    starts at the order-up-to level as every replication did when they were recorded;
    GOLDEN_SPREAD those of the spread start (simulation.start), recorded at its introduction (it is
    checked against the SimPy model in test_engine_equality.py and against the exact transient and
    the long run in tests/reference/test_simulation_start.py)."""
    scenario_name, variant_name = name.split("/")
    if scenario_name == "bench_1000":
        sc, n = load(ROOT / "scenarios/bench/bench_1000.yaml"), BENCH_SKUS
    else:
        sc, n = variant(load(ROOT / "scenarios/examples" / f"{scenario_name}.yaml"), variant_name), EXAMPLE_SKUS
    return sc.model_copy(update={"horizon": sc.horizon.model_copy(update={"start": start})}), n


def digest(scenario: Scenario, n_skus: int) -> str:
    """SHA-256 of the kernel's counters (float64[candidates, replications, counters] per SKU)."""
    h = hashlib.sha256()
    for sku in scenario.skus[:n_skus]:
        counters = simulate_sku(scenario, sku, policy_arrays(scenario, grid(scenario, sku)), REPLICATIONS,
                                scenario.seed)
        h.update(repr((sku.id, counters.shape, counters.dtype.str)).encode())
        h.update(np.ascontiguousarray(counters).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", CASES)
def test_kernel_counters_are_unchanged(name):
    assert digest(*case(name)) == GOLDEN[name], f"{name}: the kernel's counters changed"


SPREAD_CASES = tuple(f"{name}/{v}" for name in EXAMPLES[:1] + EXAMPLES[2:] for v in ("base", "moq_pack"))


@pytest.mark.parametrize("name", SPREAD_CASES)
def test_kernel_counters_with_the_spread_start_are_unchanged(name):
    assert digest(*case(name, "spread")) == GOLDEN_SPREAD[name], f"{name}: the kernel's counters changed"


if __name__ == "__main__":
    for name in CASES:
        print(f'    "{name}": "{digest(*case(name))}",')
    for name in SPREAD_CASES:
        print(f'    "{name}": "{digest(*case(name, "spread"))}",  # spread')
