"""Fixtures for the loader tests; the scenario data lives in scenario_factory.py."""

from __future__ import annotations

import pytest
from scenario_factory import dump


@pytest.fixture
def write(tmp_path):
    """write(data_or_text, name="s.yaml") -> path of a file in the test's tmp dir."""

    def _write(data, name: str = "s.yaml"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(data if isinstance(data, str) else dump(data), encoding="utf-8")
        return p

    return _write
