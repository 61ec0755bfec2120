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
