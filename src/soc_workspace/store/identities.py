"""Who may use the embedded store: its IAM users, kept across restarts.

moto keeps IAM users, their policies and access keys in memory. The embedded store writes
them to ``<state_dir>/identities.json`` (readable by its owner only) after every change made
through the IAM API, and loads them back when it starts, so keys handed to users' servers
keep working after a restart. Kept: users, their inline policies, their access keys. Not kept
(nothing here uses them): groups, managed policies, roles.

The store's own operator identity (:data:`OPERATOR`) is made on the first start; its keys are
in ``<state_dir>/operator.json`` for the workspace's own tools.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import IAMBackend, iam_backends

from .credentials import Credentials, write_private_json
from .policy import OPERATOR_POLICY_NAME, operator_policy
from .wsgi import run_then

# Hub user names never contain a dot, so no user can take the operator's name.
OPERATOR = "soc-workspace.operator"
_REGION = "us-east-1"


@dataclass(frozen=True)
class KeyOwner:
    """The IAM user an access key belongs to, and the key's secret."""

    user: str
    secret_access_key: str


def _backend() -> IAMBackend:
    return iam_backends[DEFAULT_ACCOUNT_ID]["aws"]


def reset() -> None:
    """Forget every IAM user (a store that starts begins from its saved identities only)."""
    for account in list(iam_backends.values()):
        for backend in list(account.values()):
            backend.reset()


def find_key(access_key_id: str) -> KeyOwner | None:
    """The owner of an active access key, or None for an unknown or inactive key."""
    key = _backend().access_keys.get(access_key_id)
    if key is None or key.user_name is None or key.status != "Active":
        return None
    return KeyOwner(key.user_name, key.secret_access_key)


def policies_of(user: str) -> list[str]:
    """The policy documents (JSON) that apply to ``user``: inline and attached."""
    backend = _backend()
    found = backend.users.get(user)
    if found is None:
        return []
    documents = list(found.policies.values())
    for policy in found.managed_policies.values():
        documents += [v.document for v in policy.versions if v.is_default]
    return documents


def ensure_operator() -> Credentials:
    """The operator user with full rights and one access key (made when missing)."""
    backend = _backend()
    if OPERATOR not in backend.users:
        backend.create_user(_REGION, OPERATOR)
    backend.put_user_policy(OPERATOR, OPERATOR_POLICY_NAME, json.dumps(operator_policy()))
    keys = [k for k in backend.users[OPERATOR].access_keys if k.status == "Active"]
    key = keys[0] if keys else backend.create_access_key(OPERATOR)
    return Credentials(key.access_key_id, key.secret_access_key)


def snapshot() -> dict[str, Any]:
    """The users, inline policies and access keys, as :func:`restore` takes them."""
    users = {}
    for name, user in sorted(_backend().users.items()):
        users[name] = {
            "policies": dict(user.policies),
            "keys": [
                {
                    "access_key_id": k.access_key_id,
                    "secret_access_key": k.secret_access_key,
                    "status": k.status,
                }
                for k in user.access_keys
            ],
        }
    return {"users": users}


def restore(data: dict[str, Any]) -> int:
    """Re-create the users of a :func:`snapshot` with the same keys; return how many."""
    backend = _backend()
    for name, user in data.get("users", {}).items():
        if name not in backend.users:
            backend.create_user(_REGION, name)
        for policy_name, document in user.get("policies", {}).items():
            backend.put_user_policy(name, policy_name, document)
        for saved in user.get("keys", []):
            _restore_key(backend, name, saved)
    return len(data.get("users", {}))


def _restore_key(backend: IAMBackend, user: str, saved: dict[str, str]) -> None:
    # moto makes up key ids and secrets; give the new key the saved ones.
    key = backend.create_access_key(user, status=saved.get("status", "Active"))
    backend.access_keys.pop(key.physical_resource_id, None)
    key.access_key_id = saved["access_key_id"]
    key.secret_access_key = saved["secret_access_key"]
    backend.access_keys[key.physical_resource_id] = key


class SaveIdentities:
    """WSGI middleware: after the IAM API changes something, save the identities to disk."""

    def __init__(self, app: Any, path: Path) -> None:
        self.app = app
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if environ["REQUEST_METHOD"] != "POST" or "/iam/aws4_request" not in auth:
            return self.app(environ, start_response)
        return run_then(self.app, environ, start_response, self._save)

    def _save(self) -> None:
        with self.lock:
            write_private_json(self.path, snapshot())
