"""The base environment: what notebooks import, at the versions the deployment needs."""

from __future__ import annotations

import importlib
from importlib.metadata import version

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "soc_workspace",
        "soc_workspace.store",
        "soc_workspace.missions",
        "xarray",
        "dask.array",
        "distributed",
        "dask_gateway",
        "s3fs",
        "cdflib",
        "cdflib.xarray",
        "astropy.io.fits",
        "intake",
        "hvplot.xarray",
        "ipywidgets",
        "jupyterlab",
        "jupyterhub.singleuser",
        "dask_labextension",
        "jupyterlab_git",
        "nbgitpuller",
        "jupyter_resource_usage",
    ],
)
def test_import(module):
    importlib.import_module(module)


def test_single_user_server_matches_the_hub(chart):
    """jupyterhub-singleuser must be the hub's JupyterHub (the jupyterhub chart's appVersion)."""
    # Chart.yaml of soc-workspace names the jupyterhub chart; its JupyterHub is 5.5.0 for 4.4.0.
    jupyterhub_chart = {d["name"]: d["version"] for d in chart["dependencies"]}["jupyterhub"]
    hub_versions = {"4.4.0": "5.5.0"}
    assert version("jupyterhub") == hub_versions[jupyterhub_chart]


def test_soc_workspace_settings_load():
    from soc_workspace.config import load_settings

    settings = load_settings()
    assert settings.stage in ("prod", "dev")
