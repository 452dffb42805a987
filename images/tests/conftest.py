"""Tests of the notebook image, run inside it as the notebook user:

    docker run --rm IMAGE \
        python -m pytest -p no:cacheprovider /usr/local/share/soc-workspace/image-tests

CI also runs them against the locked base environment installed into a venv
(tests/test_notebook_environment.py); there, what only the image has (the mission kernels,
built from git) is skipped with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

IN_IMAGE = os.environ.get("SOC_WORKSPACE_IMAGE") == "notebook"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IN_IMAGE:
        return
    skip = pytest.mark.skip(
        reason="only in the built notebook image: its mission kernels are built from git-pinned "
        "specs CI cannot fetch, and it runs as the notebook user (SOC_WORKSPACE_IMAGE=notebook)"
    )
    for item in items:
        if "image_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chart() -> dict:
    """The soc-workspace chart's Chart.yaml (its dependency versions)."""
    path = Path(os.environ.get("SOC_WORKSPACE_CHART", "/usr/local/share/soc-workspace/Chart.yaml"))
    if not path.is_file():
        pytest.fail(f"SOC_WORKSPACE_CHART={path} is not a file: the image copies Chart.yaml there")
    return yaml.safe_load(path.read_text())
