#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run every test:
# lint, unit, integration, browser and slow. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5"
# Also builds the JupyterLab extension (extensions/soc-workspace-lab) with Node.js and npm,
# and installs its node_modules, which the frontend's unit tests (vitest) use.
python3 -m uv sync --locked --group test

# What the workspace tests need besides Python, installed only when missing:
# JupyterHub's proxy (an npm package, pinned in soc_workspace.local.proxy) and Debian's
# chromium for the browser tests (never a browser download of Playwright's own).
.venv/bin/soc-workspace setup >/dev/null
if [ ! -x /usr/bin/chromium ]; then
    echo "Installing chromium (apt) for the browser tests..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
