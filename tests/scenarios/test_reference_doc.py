"""docs/scenario-reference.md is generated from the schema and committed: it must match."""

from __future__ import annotations

import os

from scenarios.reference_doc import missing_meanings, render
from scenarios.schema import Scenario
from scenarios.schema_walk import keys_of
from scenarios.skus_csv import sku_columns

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "scenario-reference.md")


def test_every_schema_field_has_a_meaning():
    assert missing_meanings() == [], "add them to scenarios/reference_doc.MEANING (or a Field description)"


def test_committed_reference_matches_the_schema():
    with open(DOC, encoding="utf-8") as fh:
        committed = fh.read()
    assert committed == render(), "regenerate: python -m scenarios.reference_doc > docs/scenario-reference.md"


def test_reference_names_every_top_level_key_and_csv_column():
    text = render()
    for key in keys_of(Scenario) + ["extends", "skus_csv"]:
        assert f"| `{key}` |" in text
    for col in sku_columns():
        assert f"`{col}`" in text
