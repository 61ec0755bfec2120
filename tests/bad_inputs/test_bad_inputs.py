"""The corpus of broken scenarios (cases/, expectations in cases.yaml): each is refused with a
ScenarioError that says what the manifest says, never with another exception. Plus a generated
100 MB file and a fuzzer that damages valid files at the byte level."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
from scenarios.errors import ScenarioError

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
with open(os.path.join(HERE, "cases.yaml"), encoding="utf-8") as _fh:
    MANIFEST: dict = yaml.safe_load(_fh)


def test_manifest_lists_every_case_and_there_are_enough():
    files = sorted(f for f in os.listdir(CASES) if os.path.isfile(os.path.join(CASES, f)))
    assert files == sorted(MANIFEST), set(files) ^ set(MANIFEST)
    assert len(files) >= 60
    assert all(entry["expect"] for entry in MANIFEST.values())


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_case_gives_its_error(name):
    entry = MANIFEST[name]
    path = os.path.join(CASES, name)
    with pytest.raises(ScenarioError) as info:
        scenarios.load(path, overrides=entry.get("overrides"), variants=entry.get("variants"))
    msg = str(info.value)
    for words in entry["expect"]:
        assert words in msg, f"{name} ({entry['what']}): {words!r} not in:\n{msg}"
    assert all(p.file for p in info.value.problems), msg  # every problem names a file


@pytest.mark.timeout(30)
def test_100_mb_file_is_refused_before_parsing(tmp_path):
    big = tmp_path / "huge.yaml"
    line = b"- {id: X, unit_cost: 1, price: 2, demand: 3}\n"
    with open(big, "wb") as fh:
        fh.write(b"format: 1\nname: huge\nskus:\n")
        block = line * 20_000
        while fh.tell() < 100 * 1024 * 1024:
            fh.write(block)
    with pytest.raises(ScenarioError) as info:
        scenarios.load(big)
    assert "huge.yaml: scenario file is 10" in str(info.value) and "over the 50 MB limit (refused before reading)" in str(info.value)


# --------------------------------------------------------------------------- byte-level fuzzer
EXAMPLE = os.path.join(ROOT, "scenarios", "examples", "service_audit.yaml")
SKU_CSV = "id,unit_cost,price,class,demand.dist,demand.mean,demand.cv,current_policy.family,current_policy.s,current_policy.S\n" + "".join(
    f"S{i},{3 + i},{5 + 2 * i},{'ABC'[i % 3]},negbin,{4 + i},0.9,sS,{10 + i},{30 + i}\n" for i in range(6)
)
FUZZ = settings(max_examples=80, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def damaged(draw, original: bytes):
    """`original` with 1-4 byte-level edits: a cut, a deletion, an insertion of odd bytes, a flip."""
    b = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not b:
            break
        i = draw(st.integers(0, len(b) - 1))
        kind = draw(st.sampled_from(["cut", "delete", "insert", "flip"]))
        if kind == "cut":
            del b[i:]
        elif kind == "delete":
            del b[i:i + draw(st.integers(1, 40))]
        elif kind == "insert":
            b[i:i] = draw(st.sampled_from([b"\x00", b"\xff\xfe", b"&a", b"*a", b"!!python/object:os.system", b": ", b"- ", b"\t",
                                           b"{", b"]", b"'", b"\n  ", b".nan", b"-1", b"1e999", b"~", b"<<: *a", b"\xc3"]))
        else:
            b[i] = draw(st.integers(0, 255))
    return bytes(b)


with open(EXAMPLE, "rb") as _fh:
    _EXAMPLE_BYTES = _fh.read()


@FUZZ
@given(data=damaged(_EXAMPLE_BYTES))
def test_damaged_scenario_loads_or_raises_scenario_error(data, tmp_path):
    p = tmp_path / "damaged.yaml"
    p.write_bytes(data)
    try:
        scenarios.content_hash(scenarios.load(p))
    except ScenarioError as exc:
        assert exc.problems


@FUZZ
@given(data=damaged(SKU_CSV.encode()))
def test_damaged_sku_csv_loads_or_raises_scenario_error(data, tmp_path):
    shutil.copy(os.path.join(CASES, "support", "fuzz_base.yaml"), tmp_path / "s.yaml")
    (tmp_path / "skus.csv").write_bytes(data)
    try:
        scenarios.load(tmp_path / "s.yaml")
    except ScenarioError as exc:
        assert exc.problems
