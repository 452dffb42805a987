"""Dask settings for the workspace, and the gateway client of the chart's gateway."""

from __future__ import annotations

from importlib.metadata import version

import dask


def test_gateway_logs_in_with_the_hub_token():
    assert dask.config.get("gateway.auth.type") == "jupyterhub"


def test_dask_panel_starts_gateway_clusters():
    factory = dask.config.get("labextension.factory")
    assert (factory["module"], factory["class"]) == ("dask_gateway", "GatewayCluster")


def test_local_dashboards_go_through_the_server():
    assert dask.config.get("distributed.dashboard.link").startswith(
        "{JUPYTERHUB_SERVICE_PREFIX}proxy/"
    )


def test_gateway_client_is_the_charts_gateway(chart):
    """The client must speak to the dask-gateway chart's server: same version."""
    gateway_chart = {d["name"]: d["version"] for d in chart["dependencies"]}["dask-gateway"]
    assert version("dask-gateway") == gateway_chart
    import dask_gateway

    assert dask_gateway.__version__ == gateway_chart
