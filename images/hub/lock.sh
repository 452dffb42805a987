#!/usr/bin/env bash
# Re-lock the hub image: soc-workspace with its `kubernetes` extra, on top of the jupyterhub
# chart's hub image. That image's own frozen requirements are used as constraints, so nothing
# it already has changes version (JupyterHub, KubeSpawner, the idle culler, SQLAlchemy, ...).
#
# Usage: images/hub/lock.sh [path or URL of the k8s-hub requirements.txt]
#   default: the file of the hub image tag in images/hub/Dockerfile, from GitHub.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tag="$(sed -nE 's#^FROM quay.io/jupyterhub/k8s-hub:([0-9.]+).*#\1#p' "$here/Dockerfile")"
source="${1:-https://raw.githubusercontent.com/jupyterhub/zero-to-jupyterhub-k8s/${tag}/images/hub/requirements.txt}"
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
if [[ "$source" == http* ]]; then curl -fsSL "$source" -o "$constraints"; else cp "$source" "$constraints"; fi
cd "$root"
python3 -m uv pip compile pyproject.toml --extra kubernetes --constraint "$constraints" \
    --python-version 3.12 --python-platform x86_64-manylinux_2_28 \
    --no-header --annotation-style line --quiet \
    --output-file images/hub/requirements.lock
# The lock must not say where the constraints came from (a temporary file).
sed -i -E 's#, -c /tmp/[^ ,]+##; s#-c /tmp/[^ ,]+, ##; s#  \# via -c /tmp/[^ ]+$##' images/hub/requirements.lock
echo "locked $(grep -c '==' images/hub/requirements.lock) packages for k8s-hub ${tag}"
