"""How the report pages are rendered: the garbage collector's state is left as it was found."""

from __future__ import annotations

import gc

import pytest

from tradeoff.report import render_report, without_gc_passes


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_state_is_restored(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with without_gc_passes():
            assert not gc.isenabled()
        assert gc.isenabled() == enabled
        with pytest.raises(ValueError), without_gc_passes():
            raise ValueError("a failing page")
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_render_leaves_gc_enabled():
    from test_report_synthetic import synthetic_result

    assert gc.isenabled()
    render_report(synthetic_result())
    assert gc.isenabled()
