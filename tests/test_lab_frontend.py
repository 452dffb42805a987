"""The JupyterLab extension's frontend logic: its vitest suite (time ranges, the mission tree,
pages, the availability strip, the inserted code, endpoints, the template form), run here so
that `tests/run.sh` runs it. Its node_modules come from the build `uv sync` ran."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT

EXTENSION = PROJECT_ROOT / "extensions" / "soc-workspace-lab"


def _jlpm(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    jlpm = Path(sys.executable).parent / "jlpm"  # JupyterLab's yarn (jupyter-builder)
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    return subprocess.run(
        [str(jlpm), *args], cwd=EXTENSION, capture_output=True, text=True, env=env,
        timeout=timeout,
    )  # fmt: skip


def test_frontend_unit_tests_pass():
    if not (EXTENSION / "node_modules" / "vitest").is_dir():
        installed = _jlpm("install", timeout=900)  # immutable: CI=true keeps yarn.lock as is
        assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    result = _jlpm("test", timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    counts = re.search(r"Tests\s+(.*)\(\d+\)", output)
    assert counts, output[-3000:]
    assert re.fullmatch(r"\d+ passed ", counts.group(1)), counts.group(0)  # none skipped/failed
    assert int(counts.group(1).split()[0]) >= 25
