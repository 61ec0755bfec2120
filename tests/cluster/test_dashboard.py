"""Issue 17, the dashboard: the engine's own LocalCluster (`--executor dask` without --scheduler)
starts no dashboard and serves no page unless asked. Dask's scheduler always opens an HTTP listener
(8787 by default, with a warning when that port is taken): the engine binds it to 127.0.0.1 on a free
port with no routes; TRADEOFF_DASHBOARD=ADDRESS asks for Dask's dashboard there, whose pages need
bokeh, the optional extra `dashboard` (`pip install tradeoff[dashboard]`)."""

from __future__ import annotations

import socket
import tomllib
import urllib.error
import urllib.request
import warnings

from real_cluster import ROOT, free_port

from tradeoff import executors


def _get(port: int, page: str) -> int:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/{page}", timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_engines_local_cluster_serves_no_pages_and_leaves_8787_alone(monkeypatch):
    monkeypatch.delenv(executors.DASHBOARD_ENV, raising=False)
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("0.0.0.0", 8787))  # taken (by us, or already by someone else): no warning either way
        holder.listen()
    except OSError:
        pass
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with executors.get_executor("dask", 1) as ex:
                server = ex._cluster.scheduler.http_server
                address, port = server.address, server.port
                assert (address, port != 8787) == ("127.0.0.1", True)
                assert {page: _get(port, page) for page in ("status", "health", "")} == \
                    {"status": 404, "health": 404, "": 404}  # no dashboard, no page at all
        assert not [w for w in caught if "8787" in str(w.message)]
    finally:
        holder.close()


def test_the_dashboard_is_served_when_asked(monkeypatch):
    port = free_port()
    monkeypatch.setenv(executors.DASHBOARD_ENV, f"127.0.0.1:{port}")
    with executors.get_executor("dask", 1) as ex:
        assert ex._cluster.scheduler.http_server.port == port
        assert _get(port, "status") == 200  # Dask's page (the dashboard itself once bokeh is installed)


def test_bokeh_is_the_optional_extra_dashboard():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["optional-dependencies"]["dashboard"] == ["bokeh>=3.1"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("bokeh")]
