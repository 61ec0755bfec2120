"""docs/reliability.md names the test behind each guarantee: every file and test it names exists
(a renamed or deleted test makes the doc wrong, and this fails)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"


def named_tests() -> list[tuple[str, str | None]]:
    """(test file, test function or None) in the order the doc names them; `::name` and a bare
    `test_name` refer to the last file named before them."""
    found, current = [], None
    for m in re.finditer(r"`(tests/[\w/]+\.py)?(?:::)?(test_\w+)?`", DOC.read_text(encoding="utf-8")):
        file, name = m.group(1), m.group(2)
        if file:
            current = file
        if file or name:
            found.append((current, name))
    return found


def test_every_test_the_doc_names_exists():
    refs = named_tests()
    assert len(refs) > 60
    missing = []
    for file, name in refs:
        assert file is not None, name
        path = ROOT / file
        if not path.exists():
            missing.append(file)
        elif name and not re.search(rf"^(async )?def {name}\(", path.read_text(encoding="utf-8"), re.M):
            missing.append(f"{file}::{name}")
    assert not missing, missing


def test_every_reliability_test_file_is_in_the_doc():
    text = DOC.read_text(encoding="utf-8")
    for path in sorted((ROOT / "tests" / "reliability").glob("test_*.py")):
        if path.name != Path(__file__).name:
            assert f"tests/reliability/{path.name}" in text, path.name


def _collected(*args: str) -> list[str]:
    """Test ids pytest collects for `args` (files, -k expressions), from a fresh collection."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "::" in line]


def _quoted(pattern: str) -> int:
    m = re.search(pattern, DOC.read_text(encoding="utf-8"))
    assert m, f"the budget paragraph no longer says {pattern!r}"
    return int(m.group(1))


def test_the_counts_quoted_come_from_the_suite():
    """The budget of bad inputs on this page is what the suite collects, not a figure typed once."""
    import yaml

    corpus = yaml.safe_load((ROOT / "tests/bad_inputs/cases.yaml").read_text(encoding="utf-8"))  # file -> case
    assert _quoted(r"- (\d+) corpus files") == len(corpus)
    assert _quoted(r"- (\d+) parametrized bad values of the loader rules") == len(
        _collected("tests/scenarios/test_loader_rules.py::test_bad_value_names_file_path_value_and_rule"))
    assert _quoted(r"- (\d+) YAML-safety cases") == len(_collected("tests/scenarios/test_yaml_safety.py"))
    assert _quoted(r"- (\d+) size-limit cases") == len(
        _collected("tests/reliability/test_numerics.py", "-k", "too_big or too_long or below_the_limit"))
    assert _quoted(r"- (\d+) identifier and CSV-number cases") == len(_collected("tests/scenarios/test_identifiers.py"))
    assert _quoted(r"- (\d+) special-file and excerpt cases") == len(_collected("tests/scenarios/test_special_files.py"))
