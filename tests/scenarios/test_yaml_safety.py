"""The reader refuses what could hang or abuse the process, quickly and with a clear message."""

from __future__ import annotations

import os

import pytest
from scenario_factory import base, dump

import scenarios
from scenarios.errors import ScenarioError
from scenarios.yaml_io import MAX_BYTES, MAX_DEPTH, nesting_estimate

BOMB = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
)  # 9**9 = 387 million strings if expanded


def _problem(path) -> str:
    with pytest.raises(ScenarioError) as info:
        scenarios.load(path)
    return str(info.value)


@pytest.mark.timeout(20)
def test_alias_bomb_is_refused(write):
    msg = _problem(write(BOMB))
    assert "alias bomb" in msg and "refused" in msg


def test_recursive_alias_is_refused(write):
    assert "refers to itself" in _problem(write("format: 1\nname: x\nloop: &l [1, *l]\n"))


def test_python_object_tags_are_refused(write, tmp_path):
    marker = tmp_path / "pwned"
    text = dump(base()) + f"evil: !!python/object/apply:os.system ['touch {marker}']\n"
    msg = _problem(write(text))
    assert "!!python/object/apply:os.system is not allowed" in msg
    assert not marker.exists()
    assert "tag !custom is not allowed" in _problem(write(dump(base()) + "x: !custom 3\n"))


def test_file_over_the_limit_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:  # sparse: 100 MB of size, no time spent writing it
        fh.truncate(100 * 1024 * 1024)
    msg = _problem(big)
    assert "over the 50 MB limit" in msg and "refused before reading" in msg
    assert os.path.getsize(big) > MAX_BYTES


def test_binary_and_non_utf8_files_are_refused(tmp_path):
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(bytes(range(256)) * 4)
    assert "is binary, not text (NUL byte at offset 0)" in _problem(junk)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("format: 1\nname: caf\xe9\n".encode("latin-1"))
    assert "is not UTF-8 text (byte 0xe9 at line 2" in _problem(latin)


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + dump(base()).encode("utf-8"))
    assert scenarios.load(p).name == "mini"


def test_deep_nesting_is_refused_without_crashing(write):
    # libyaml's composer recurses in C: this would crash the process if it reached it
    assert "nested more than" in _problem(write("a: " + "[" * 200_000 + "]" * 200_000))


DEEP = {  # every way of nesting past MAX_DEPTH; some beyond libyaml's own limit of 1,000 levels
    "flow lists": "a: " + "[" * 200_000 + "]" * 200_000,
    "flow mappings": "a: " + "{k: " * 3000 + "1" + "}" * 3000,
    "JSON": '{"a": ' * 3000 + "1" + "}" * 3000,
    "flow over lines": "a:\n" + "  [\n" * 3000 + "  ]\n" * 3000,
    "block mappings": "".join(" " * i + "k:\n" for i in range(2000)) + " " * 2000 + "k: 1\n",
    "compact sequences": "- " * 3000 + "1\n",
    "indentless sequences": "".join("  " * i + "k:\n" + "  " * i + "-\n" for i in range(40)) + "  " * 40 + "k: 1\n",
    "tagged": "a: !!seq " + "[" * 2000 + "]" * 2000,
    "anchored": "a: &x " + "[" * 2000 + "]" * 2000,
    "explicit key": "? " + "[" * 2000 + "]" * 2000 + "\n: 1\n",
    "just past the limit": "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP)
def test_deep_nesting_gets_the_engines_message_on_every_pyyaml(write, text):
    """The engine's own message whatever PyYAML does with deep nesting (recent libyaml refuses past
    1,000 levels with its own words; older ones and the pure-Python parser have no limit)."""
    assert f"nested more than {MAX_DEPTH} levels deep" in _problem(write(text))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", [DEEP["flow lists"], DEEP["block mappings"], DEEP["compact sequences"]],
                         ids=["flow", "block", "compact"])
def test_nesting_is_checked_before_any_parser_sees_the_text(write, monkeypatch, text):
    import scenarios.yaml_io as yio

    class NoParser:  # the fast (libyaml) loader must not be reached for a deep file
        def __init__(self, *a, **k):
            raise AssertionError("the parser saw a file nested too deep")

    monkeypatch.setattr(yio, "_Loader", NoParser)
    assert "nested more than" in _problem(write(text))


@pytest.mark.timeout(20)
def test_nesting_is_refused_by_a_pyyaml_without_its_own_limit(write, monkeypatch):
    import yaml

    import scenarios.yaml_io as yio

    monkeypatch.setattr(yio, "_Loader", yaml.SafeLoader)  # pure Python: no limit of its own
    for text in (DEEP["flow lists"], DEEP["block mappings"], "a: " + "[" * 80 + "]" * 80):
        assert "nested more than" in _problem(write(text))


def test_bracket_heavy_but_shallow_text_is_not_refused(write):
    """Brackets inside quoted text, comments, block scalars and plain text are not nesting."""
    data = dump(base())
    text = data.replace("name: mini", "name: mini\n# " + "[" * 100 + "\ndescription: |\n  " + "[" * 100
                        + "\n  {{{{ text\ncurrency: '" + "[" * 100 + "'")
    s = scenarios.load(write(text))
    assert s.description.startswith("[" * 100) and s.currency == "[" * 100
    assert nesting_estimate(text) < 10


def test_nesting_estimate_is_never_below_the_real_depth():
    import yaml

    def depth(d):
        if isinstance(d, dict):
            return 1 + max([depth(v) for v in d.values()] or [0])
        if isinstance(d, list):
            return 1 + max([depth(v) for v in d] or [0])
        return 0

    for text in (dump(base()), yaml.safe_dump(base(), default_flow_style=True), "a:\n- b:\n  - c:\n    - [1, {d: [2]}]\n",
                 "- - - - x\n", "k:\n- a\n- b:\n  - 1\n"):
        assert nesting_estimate(text) >= depth(yaml.safe_load(text)), text


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "file is empty"),
        ("- 1\n- 2\n", "top level is a list, expected a mapping"),
        ("just text\n", "top level is str"),
        ("format: 1\nformat: 1\n", "line 2: key 'format' appears twice"),
        ("a: [1, 2\nb: 3\n", "line 2 column 2: YAML syntax error"),
        ("a: 1\n---\nb: 2\n", "line 2: a second YAML document begins here"),
        ("a: 1\nb: x\x07y\n", "line 2 column 5: control character \\x07 (U+0007) is not allowed"),
        ("a:\n\tb: 1\n", "line 2 is indented with a tab"),
        ("a: &x {k: 1}\nb: &y {j: 2}\nc:\n  <<: *x\n  <<: *y\n", "line 5: the merge key '<<' appears twice"),
        ("a: {1: x, 01: y}\n", "key '01' appears twice in the same mapping (the same key as '1' once read)"),
    ],
)
def test_malformed_yaml_is_named(write, text, words):
    assert words in _problem(write(text))


def test_missing_file_and_directory(tmp_path):
    assert "scenario file not found" in _problem(tmp_path / "nope.yaml")
    assert "not a regular file" in _problem(tmp_path)
