"""The reader refuses what could hang or abuse the process, quickly and with a clear message."""

from __future__ import annotations

import os

import pytest
from scenario_factory import base, dump

import scenarios
from scenarios.errors import ScenarioError
from scenarios.yaml_io import MAX_BYTES

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


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "file is empty"),
        ("- 1\n- 2\n", "top level is a list, expected a mapping"),
        ("just text\n", "top level is str"),
        ("format: 1\nformat: 1\n", "line 2: key 'format' appears twice"),
        ("a: [1, 2\nb: 3\n", "line 2 column 2: YAML syntax error"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
    ],
)
def test_malformed_yaml_is_named(write, text, words):
    assert words in _problem(write(text))


def test_missing_file_and_directory(tmp_path):
    assert "scenario file not found" in _problem(tmp_path / "nope.yaml")
    assert "not a regular file" in _problem(tmp_path)
