#!/usr/bin/env bash
# Build one Python environment and Jupyter kernel per mission stack, from the same pinned specs
# that `soc-workspace env create <name> --spec FILE` uses (src/soc_workspace/calibration/specs):
#   <name>.txt            every package of the environment, exact versions, git at commits
#   <name>.overrides.txt  replaces the packages' own loose requirements (git branches)
#
# Usage: build-kernels.sh SPECS_DIR ENVS_DIR JUPYTER_PREFIX
#   each <name> becomes ENVS_DIR/<name> and the kernel JUPYTER_PREFIX/share/jupyter/kernels/<name>
set -euo pipefail

specs="$1"
envs="$2"
jupyter_prefix="$3"

# Display names, and the swxsoc mission each stack belongs to (swxsoc reads SWXSOC_MISSION).
declare -A display=([hermes]="HERMES" [padre]="PADRE" [reach]="REACH")
declare -A mission=([hermes]="hermes" [padre]="padre" [reach]="swxsoc_pipeline")

for spec in "$specs"/*.txt; do
    case "$spec" in *.overrides.txt) continue ;; esac
    name="$(basename "$spec" .txt)"
    env="$envs/$name"
    overrides=()
    if [ -f "$specs/$name.overrides.txt" ]; then
        overrides=(--override "$specs/$name.overrides.txt")
    fi
    echo "--- $name: $env"
    uv venv --quiet --python "$(command -v python3.11)" "$env"
    uv pip install --python "$env/bin/python" -r "$spec" "${overrides[@]}"
    # ipykernel lets Jupyter talk to the environment; the spec constrains it, so it cannot move
    # any of the mission's pins.
    uv pip install --python "$env/bin/python" ipykernel --constraint "$spec" "${overrides[@]}"
    "$env/bin/python" -m ipykernel install --prefix "$jupyter_prefix" --name "$name" \
        --display-name "${display[$name]:-$name} (mission stack)" \
        --env SWXSOC_MISSION "${mission[$name]:-$name}"
    # What the kernel has, for provenance (soc-workspace records it with every rerun).
    uv pip freeze --python "$env/bin/python" > "$env/freeze.txt"
done
