"""Each hub user's own keys for the embedded store, for their server and their Dask clusters.

``up`` starts the store and notes where it keeps its state in the run's details; the spawner
and the gateway (root's, or the workspace owner's processes) make or reuse a user's keys
through the store's IAM API, signing as the store's operator, and keep them in
``<state>/secrets/store-users/<user>.json``. With another S3 endpoint configured nothing is
handed out here: users' servers get the endpoint, and whatever credentials the machine gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import Settings
from ..store.credentials import (
    Credentials,
    ensure_user_credentials,
    read_kept,
    read_operator,
    remove_user_credentials,
)
from ..store.policy import user_policy
from ..store.process import operator_options
from .paths import StatePaths
from .runtime import Runtime


def kept_keys_file(paths: StatePaths, user: str) -> Path:
    return paths.secrets / "store-users" / f"{user}.json"


def user_store_environment(paths: StatePaths, user: str, *, reuse: bool = False) -> dict[str, str]:
    """``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` of ``user`` for the embedded store.

    Empty when the workspace uses another S3 endpoint. ``reuse=True`` takes kept keys as they
    are, without asking the store (for code that must not wait on the network).
    """
    run = Runtime.read(paths.runtime_file)
    if not run.store_state_dir:
        return {}
    keep = kept_keys_file(paths, user)
    if reuse and (kept := read_kept(keep)) is not None:
        return kept.environment()
    policy = user_policy(user, Settings(**run.settings))
    credentials = ensure_user_credentials(_endpoint(run), _operator(run), user, policy, keep)
    return credentials.environment()


def remove_user_store_keys(paths: StatePaths, user: str) -> bool:
    """Forget ``user`` in the embedded store (a deleted hub user keeps no keys)."""
    run = Runtime.read(paths.runtime_file)
    if not run.store_state_dir:
        return False
    return remove_user_credentials(
        _endpoint(run), _operator(run), user, kept_keys_file(paths, user)
    )


def operator_storage_options(paths: StatePaths) -> dict[str, Any]:
    """s3fs options that reach the workspace's embedded store as its operator (for tools)."""
    run = Runtime.read(paths.runtime_file)
    if not run.store_state_dir:
        raise RuntimeError(f"the workspace in {paths.root} runs no embedded store")
    return operator_options(run.store_state_dir, _endpoint(run))


def _endpoint(run: Runtime) -> str:
    return run.store_environment["SOC_WORKSPACE__STORE__ENDPOINT_URL"]


def _operator(run: Runtime) -> Credentials:
    operator = read_operator(run.store_state_dir)
    if operator is None:
        raise RuntimeError(
            f"the embedded store's operator keys are missing from {run.store_state_dir}: "
            "restart the workspace (soc-workspace down, then up)"
        )
    return operator
