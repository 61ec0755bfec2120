"""A scenario's description is free text: line breaks and tabs are text, but a terminal escape
sequence, NUL, a bidirectional override or an absurd length is not (it reaches the report, CSVs
and terminals). Refused with the path `description`, like an identifier's hidden character."""

from __future__ import annotations

import pytest
from scenario_factory import base, dump

import scenarios
from scenarios.errors import ScenarioError
from scenarios.schema import MAX_DESCRIPTION


def _load(tmp_path, description: str):
    data = base()
    data["description"] = description
    path = tmp_path / "s.yaml"
    path.write_text(dump(data), encoding="utf-8")
    return scenarios.load(path)


@pytest.mark.parametrize("text, words", [
    ("red \x1b[31malert", "holds the control character U+001B at position 5"),
    ("a\x00b", "holds the control character U+0000 at position 2"),
    ("invoice \u202eexe.pdf", "holds the invisible character U+202E at position 9"),
    ("a\u2028b", "holds the line or paragraph separator character U+2028"),
    ("x" * (MAX_DESCRIPTION + 1), f"over the limit of {MAX_DESCRIPTION}"),
])
def test_hidden_characters_and_overlong_descriptions_are_refused(tmp_path, text, words):
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, text)
    lines = [line for line in str(info.value).splitlines() if ": description: " in line]
    assert lines and words in lines[0], str(info.value)
    assert len(lines[0]) < 400  # the value is quoted as a short excerpt, never whole


def test_line_breaks_tabs_and_any_script_are_text(tmp_path):
    text = "Key accounts first.\n\tThen the rest: 顧客 — clientes, Kunden."
    assert _load(tmp_path, text).description == text


def test_a_description_is_kept_in_nfc(tmp_path):
    assert _load(tmp_path, "cafe\u0301").description == "caf\u00e9"
