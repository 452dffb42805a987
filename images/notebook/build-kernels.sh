#!/usr/bin/env bash
# Build one Python environment and Jupyter kernel per mission stack with
# `soc-workspace env create`: the same code that builds them on one machine, from the same pinned
# specs (src/soc_workspace/calibration/specs):
#   <name>.txt            every package of the environment, exact versions, git at commits
#   <name>.overrides.txt  replaces the packages' own loose requirements (git branches)
# env create also installs the kernel's packages within the spec, links soc_workspace into the
# environment, writes its freeze.txt and registers the kernel ("HERMES (hermes_eea, swxsoc
# 0.1.0)") in soc-workspace's own share/jupyter, where the image's Jupyter server finds it.
#
# Usage: build-kernels.sh SPECS_DIR ENVS_DIR [PYTHON]
#   each <name> becomes the environment ENVS_DIR/<name>, built on PYTHON (default python3.11)
set -euo pipefail

specs="$1"
envs="$2"
python="${3:-$(command -v python3.11)}"

# Where env create builds, and where reruns find the environments by name.
export SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR="$envs"

for spec in "$specs"/*.txt; do
    case "$spec" in *.overrides.txt) continue ;; esac
    name="$(basename "$spec" .txt)"
    echo "--- $name: $envs/$name"
    soc-workspace env create "$name" --spec "$spec" --python "$python" --force
done
