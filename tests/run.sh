#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run every test:
# lint, unit, integration, browser and slow. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5"
python3 -m uv sync --locked --group test

.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
