"""Jupyter in the image: SQLite kept off the home directory, kernels per profile, idle culling."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from traitlets.config import Config

LOCAL_DIR = Path(os.environ.get("SOC_WORKSPACE_LOCAL_DIR", "/tmp/jupyter"))
ETC = Path(sys.prefix) / "etc"


def _server_config(**environment: str) -> Config:
    """Run the image's jupyter_server_config.py as Jupyter does, with these variables."""
    config = Config()
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        runpy.run_path(str(ETC / "jupyter" / "jupyter_server_config.py"), {"c": config})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return config


def _outside_home(path: str | Path) -> bool:
    home = Path.home().resolve()
    return home not in Path(path).resolve().parents


def test_configuration_is_where_jupyter_ipython_and_dask_read_it():
    from IPython.core.application import ENV_CONFIG_DIRS, SYSTEM_CONFIG_DIRS
    from jupyter_core.paths import jupyter_config_path

    assert str(ETC / "jupyter") in jupyter_config_path()
    assert str(ETC / "ipython") in ENV_CONFIG_DIRS
    if os.environ.get("SOC_WORKSPACE_IMAGE") == "notebook":
        # the mission kernels are other environments: they read the system-wide copy
        assert "/etc/ipython" in SYSTEM_CONFIG_DIRS
        assert (
            Path("/etc/ipython/ipython_config.py").resolve()
            == (ETC / "ipython" / "ipython_config.py").resolve()
        )


def test_runtime_dir_is_pod_local():
    from jupyter_core.paths import jupyter_runtime_dir

    assert _outside_home(jupyter_runtime_dir())
    assert Path(jupyter_runtime_dir()).is_relative_to(LOCAL_DIR)


def test_sqlite_databases_are_pod_local():
    config = _server_config()
    assert _outside_home(config.NotebookNotary.db_file)
    assert Path(config.NotebookNotary.db_file).parent == LOCAL_DIR
    assert config.SessionManager.database_filepath == ":memory:"


def test_ipython_history_is_pod_local():
    config = Config()
    runpy.run_path(str(ETC / "ipython" / "ipython_config.py"), {"c": config})
    assert Path(config.HistoryManager.hist_file).parent == LOCAL_DIR


def test_kernels_of_the_profile_only():
    config = _server_config(SOC_WORKSPACE_KERNELS="hermes,padre")
    assert config.KernelSpecManager.allowed_kernelspecs == {"python3", "hermes", "padre"}
    everything = _server_config()
    assert "allowed_kernelspecs" not in everything.KernelSpecManager


def test_idle_kernels_are_culled():
    config = _server_config(SOC_WORKSPACE_KERNEL_IDLE_TIMEOUT="3600")
    assert config.MappingKernelManager.cull_idle_timeout == 3600
    assert config.MappingKernelManager.cull_connected is False
    assert "cull_idle_timeout" not in _server_config().MappingKernelManager


def test_the_soc_extension_is_installed_and_enabled():
    """The SOC data browser and template launcher: the prebuilt labextension and its server
    part, enabled by the config file the wheel installs (no Node.js in the image)."""
    import re
    import subprocess

    def listing(*command: str) -> str:
        done = subprocess.run(
            [str(Path(sys.executable).parent / command[0]), *command[1:]],
            capture_output=True,
            text=True,
        )
        text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # no colours
        return " ".join(text.split())

    labextensions = listing("jupyter-labextension", "list")
    assert re.search(r"soc-workspace-lab v\S+ enabled OK", labextensions), labextensions
    server = listing("jupyter-server", "extension", "list")
    assert "soc_workspace_lab enabled" in server, server
    assert re.search(r"soc_workspace_lab \S+ OK", server), server
    static = Path(sys.prefix, "share", "jupyter", "labextensions", "soc-workspace-lab", "static")
    assert list(static.glob("remoteEntry.*.js")), static
