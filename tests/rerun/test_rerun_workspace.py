"""The rerun template inside a running workspace (`soc-workspace up`): a person's kernel runs it
with papermill, on a dask-gateway cluster, against the workspace's own store.

The operator's settings file routes HERMES EEA to the test instrument's environment; the hub
hands that registry to users' servers (``soc_workspace.hub.environment``).
"""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest
from workspace_support import admin_session, new_user, public_dir, running_workspace, write_config

from soc_workspace.hub.environment import calibration_environment
from soc_workspace.local.paths import StatePaths
from soc_workspace.local.storekeys import operator_storage_options

from .rerun_helpers import PIPELINE_BUCKET, put_raw_and_products, workspace_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


def test_users_servers_get_the_operators_mission_environments(monkeypatch, tmp_path):
    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR", str(tmp_path))
    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__PACKAGES", '{"hermes/eea": "x"}')
    from soc_workspace.config import load_settings

    env = calibration_environment(load_settings())
    assert json.loads(env["SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS"])["padre"] == "padre"
    assert env["SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR"] == str(tmp_path)
    assert json.loads(env["SOC_WORKSPACE__CALIBRATION__PACKAGES"]) == {"hermes/eea": "x"}


def test_the_template_runs_in_a_users_server_on_the_gateway(instrument_env, environments_dir):
    state = public_dir("socws-rerun-")
    config = write_config(
        state.parent / f"{state.name}.toml", workspace_settings(environments_dir, demo_days=0)
    )
    try:
        with running_workspace(state, config) as connection:
            import s3fs

            # The operator puts the pipeline's files in; ana's rerun reads them with her keys.
            operator = operator_storage_options(StatePaths(state))
            store = s3fs.S3FileSystem(**operator, skip_instance_cache=True)
            day = put_raw_and_products(
                store, state / "pipeline", instrument_env, hours=(0, 1), packets=60, day=190
            )
            # and catalogues them, as the SOC operator does: the template searches the catalog
            from soc_workspace.catalog import build

            build(PIPELINE_BUCKET, progress=False, storage_options=operator)
            person = new_user(connection, admin_session(connection), "ana", "a-long-password-42")
            person.start_server()
            kernel = person.start_kernel()
            code = textwrap.dedent(
                """
                import papermill, nbformat
                from pathlib import Path
                out = Path.home() / "rerun-run.ipynb"
                papermill.execute_notebook(
                    str(Path.home() / "templates" / "rerun-calibration.ipynb"), str(out),
                    parameters={"start": "2025-07-09", "stop": "2025-07-10", "workers": 2},
                    kernel_name="python3", progress_bar=False,
                )
                nb = nbformat.read(out, as_version=4)
                for cell in nb.cells:
                    for output in cell.get("outputs", []):
                        data = output.get("data", {})
                        print(output.get("text", "") or data.get("text/plain", ""))
                """
            )
            result = person.run_code(kernel, code, timeout=600)
            assert result.ok, f"{result.error}\n{result.stderr}"
            text = result.stdout
            assert "statuses: {'ok': 2}" in text
            assert "IDENTICAL" in text
            run = next(
                line.split(": ", 1)[1]
                for line in text.splitlines()
                if line.startswith("run folder: ")
            )
            assert run.startswith("s3://soc-workspace-scratch/ana/reruns/")
            products = sorted(p.rsplit("/", 1)[1] for p in store.find(run) if p.endswith(".cdf"))
            assert products == sorted(u.rsplit("/", 1)[1] for u in day["products"])
    finally:
        shutil.rmtree(state, ignore_errors=True)
        config.unlink(missing_ok=True)
