"""Identifiers and CSV numbers (issue 13, point 4): what a user names things by is plain visible text,
compared as Unicode NFC and refused when it differs from another only by letter case; a number in a
CSV is written with the digits 0-9 (no separators, other scripts' digits, nan, inf or hex) in the
SKU CSV, empirical CSVs and the sales history alike. Every refusal names the file and the YAML path
(or CSV line)."""

from __future__ import annotations

import unicodedata

import pytest
from scenario_factory import base, dump

import scenarios
from scenarios.errors import ScenarioError
from scenarios.skus_csv import number


def _problems(path, **kw) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenarios.load(path, **kw)
    return str(info.value).splitlines()


def _hit(lines: list[str], where: str, words: str) -> None:
    hits = [line for line in lines if f": {where}: " in line]
    assert hits, f"no problem at {where!r} in:\n" + "\n".join(lines)
    assert any(words in line for line in hits), f"{words!r} not in:\n" + "\n".join(hits)


# --------------------------------------------------------------------------- ids in YAML
BAD_IDS = [
    ("A1 ", "has leading or trailing whitespace"),
    (" A1", "has leading or trailing whitespace"),
    ("A1\u00a0", "has leading or trailing whitespace"),  # a no-break space
    ("   ", "is blank"),
    ("\t", "holds the control character U+0009"),
    ("A\x00B", "holds the control character U+0000 at position 2"),
    ("A\x1b[31mB", "holds the control character U+001B"),
    ("A\x7fB", "holds the control character U+007F"),
    ("A\nB", "holds the control character U+000A"),
    ("A\u2028B", "holds the line or paragraph separator character U+2028"),
    ("A\u2029B", "holds the line or paragraph separator character U+2029"),
    ("A\u202eB", "holds the invisible character U+202E"),
    ("A\u200bB", "holds the invisible character U+200B"),
    ("\ufeffA", "holds the invisible character U+FEFF"),
]


@pytest.mark.parametrize("bad,words", BAD_IDS, ids=[repr(b) for b, _ in BAD_IDS])
@pytest.mark.parametrize("field", ["id", "class"])
def test_bad_identifier_is_refused_with_its_path(write, field, bad, words):
    data = base()
    data["skus"][1][field] = bad
    lines = _problems(write(data))
    _hit(lines, f"skus[1].{field}", words)
    assert not any(c in "\n".join(lines) for c in "\x00\x1b\x7f\x85\u2028\u202e\u200b"), "printed unescaped"


def test_escaped_next_line_character_in_an_id_is_refused(write):
    text = dump(base()).replace("id: B-200", 'id: "B\\N200"')  # YAML escape for U+0085
    _hit(_problems(write(text)), "skus[1].id", "holds the control character U+0085")


def test_trust_case_i15_trailing_space_and_case(write):
    data = base()
    data["skus"][1]["id"] = "A-100 "
    data["skus"][2]["id"] = "a-100"
    lines = _problems(write(data))
    _hit(lines, "skus[1].id", "'A-100 ' has leading or trailing whitespace")
    _hit(lines, "skus[2].id", "'a-100' differs from skus[0].id 'A-100' only by letter case")


def test_ids_equal_once_nfc_normalised_are_duplicates(write):
    data = base()
    data["skus"][0]["id"] = "caf\u00e9"  # é as one character
    data["skus"][2]["id"] = "cafe\u0301"  # e + combining acute accent
    assert data["skus"][0]["id"] != data["skus"][2]["id"]
    lines = _problems(write(data))
    _hit(lines, "skus[2].id", "duplicates skus[0].id (ids are compared once Unicode-normalised, NFC)")


def test_ids_are_kept_in_nfc_and_case_variants_of_classes_are_refused(write):
    data = base()
    data["skus"][1]["id"] = "cafe\u0301"
    data["skus"][1]["class"] = "A"
    s = scenarios.load(write(data))
    assert s.skus[1].id == unicodedata.normalize("NFC", "cafe\u0301") == "caf\u00e9"
    data["skus"][2]["class"] = "a"  # skus[0] and [1] are 'A'
    _hit(_problems(write(data)), "skus[2].class", "class 'a' differs from class 'A' of skus[0].class only by letter case")


def test_mode_and_variant_names_with_spaces_or_controls_are_refused(write):
    data = base()
    data["transport"][1]["name"] = "air "
    data["variants"] = {"fast\x07": {"seed": 1}}
    lines = _problems(write(data))
    _hit(lines, "transport[1].name", "'air ' does not match [a-z0-9_-]+")
    assert any("variants.fast\\x07: is not a valid variant name" in line for line in lines), lines


def test_currency_label_follows_the_identifier_rules(write):
    data = base()
    data["currency"] = "EUR\n"
    _hit(_problems(write(data)), "currency", "holds the control character U+000A")


# --------------------------------------------------------------------------- floors name classes
def test_floor_naming_a_class_no_sku_has_is_refused(write):
    data = base()  # A-100 has class A, the others are classified by ABC
    data["service"]["floors"] = {"A": 0.98, "Z": 0.99}
    _hit(_problems(write(data)), "service.floors.Z", "no SKU has class 'Z' (classes: A, B, C;")


def test_abc_classes_exist_only_when_some_sku_is_unclassed(write):
    data = base()
    for sku, cls in zip(data["skus"], "XYXY"):
        sku["class"] = cls
    data["service"]["floors"] = {"X": 0.9, "B": 0.95, "y": 0.9}
    lines = _problems(write(data))
    _hit(lines, "service.floors.B", "no SKU has class 'B' (classes: X, Y;")
    _hit(lines, "service.floors.y", "did you mean 'Y'?")
    assert not any("service.floors.X" in line for line in lines)


def test_floor_keys_follow_the_identifier_rules(write):
    data = base()
    data["service"]["floors"] = {"A ": 0.98}
    _hit(_problems(write(data)), "service.floors", "class 'A ' has leading or trailing whitespace")


# --------------------------------------------------------------------------- CSV numbers
BAD_NUMBERS = ["1_000", "\u0661\u0662", "\uff11\uff12", "nan", "NaN", "inf", "-Infinity", "0x10", "1,000", "12abc",
               "\u00b2", "1e999", "--1", "."]
GOOD_NUMBERS = [("12", 12), (" 12 ", 12), ("-3", -3), ("+4", 4), ("0.25", 0.25), (".5", 0.5), ("5.", 5.0),
                ("1e5", 100000.0), ("2.5E-3", 0.0025)]


@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_number_refuses_what_python_would_accept(text):
    assert number(text) is None


@pytest.mark.parametrize("text,value", GOOD_NUMBERS)
def test_number_reads_plain_csv_numbers(text, value):
    got = number(text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_sku_csv_number_is_refused_naming_file_row_and_column(write, tmp_path, text):
    (tmp_path / "skus.csv").write_text(f"id,unit_cost,price,demand\nA,1,2,3\nB,1,\"{text}\",3\n", encoding="utf-8")
    data = base()
    del data["skus"]
    data["skus_csv"] = "skus.csv"
    data["service"] = {}
    lines = _problems(write(data))
    hits = [line for line in lines if "skus.csv: skus[1].price: " in line]
    assert hits and "is not a number (CSV line 3)" in hits[0], lines


def test_sku_csv_ids_are_kept_as_written_and_checked(write, tmp_path):
    (tmp_path / "skus.csv").write_text("id,unit_cost,price,demand,class\nA1,1,2,3, B\nA1 ,1,2,3,B\na1,1,2,3,B\n",
                                       encoding="utf-8")
    data = base()
    del data["skus"]
    data["skus_csv"] = "skus.csv"
    data["service"] = {}
    lines = _problems(write(data))
    assert any("skus.csv: skus[0].class: ' B' has leading or trailing whitespace" in line and
               "(CSV line 2)" in line for line in lines), lines
    assert any("skus.csv: skus[1].id: 'A1 ' has leading" in line and "(CSV line 3)" in line for line in lines)


@pytest.mark.parametrize("text", ["1_000", "\uff13", "nan", "inf", "0x10"])
def test_empirical_csv_number_is_refused_naming_the_line(write, tmp_path, text):
    (tmp_path / "lt.csv").write_text(f"lead_time\n3\n{text}\n4\n", encoding="utf-8")
    data = base()
    data["transport"][0]["lead_time"] = {"dist": "empirical", "csv": "lt.csv"}
    lines = _problems(write(data))
    assert any("transport[0].lead_time.csv: " in line and "lt.csv: line 3: " in line and "is not a number" in line
               for line in lines), lines


def test_empirical_csv_first_line_is_a_header_only_when_it_reads_as_a_name(write, tmp_path):
    (tmp_path / "lt.csv").write_text("1_000\n3\n", encoding="utf-8")
    data = base()
    data["transport"][0]["lead_time"] = {"dist": "empirical", "csv": "lt.csv"}
    assert any("lt.csv: line 1: '1_000' is not a number" in line for line in _problems(write(data)))


@pytest.mark.parametrize("text", ["1_000", "\u0661\u0662", "\uff11\uff12", "nan", "inf", "0x10"])
def test_history_quantity_is_refused_naming_its_row(write, tmp_path, text):
    (tmp_path / "sales.csv").write_text(f"sku,period,quantity\nA-100,1,3\nA-100,2,\"{text}\"\nA-100,3,4\n",
                                        encoding="utf-8")
    data = base()
    del data["skus"][0]["demand"]
    data["demand_history_csv"] = "sales.csv"
    lines = _problems(write(data))
    assert any("sales.csv: demand_history_csv[3].quantity: " in line and "is not a number" in line
               for line in lines), lines


def test_history_periods_in_other_digits_are_refused(write, tmp_path):
    (tmp_path / "sales.csv").write_text("sku,period,quantity\nA-100,1,3\nA-100,\u0662,2\nA-100,\uff13,4\nA-100,4,1\n",
                                        encoding="utf-8")
    data = base()
    del data["skus"][0]["demand"]
    data["demand_history_csv"] = "sales.csv"
    lines = _problems(write(data))
    assert any("demand_history_csv[3].period: '\u0662' is not a whole period number" in line for line in lines), lines
    assert any("demand_history_csv[4].period: '\uff13' is not a whole period number" in line for line in lines)


def test_history_sku_ids_match_in_nfc(write, tmp_path):
    (tmp_path / "sales.csv").write_text("sku,period,quantity\n" + "".join(f"cafe\u0301,{t},{t % 3}\n" for t in range(30)),
                                        encoding="utf-8")
    data = base()
    data["skus"][0]["id"] = "caf\u00e9"
    del data["skus"][0]["demand"]
    data["demand_history_csv"] = "sales.csv"
    s = scenarios.load(write(data))
    assert s.skus[0].demand is not None
