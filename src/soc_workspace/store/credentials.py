"""Keys for the embedded store: a key pair, the operator's (kept in the store's state
directory), and users' own, made through the store's IAM API with the operator's keys.

Each workspace user gets an IAM user of the same name in the store, with
:func:`soc_workspace.store.policy.user_policy` as its policy and one access key. The key's
secret is shown once, when it is made, so it is kept in a file of the caller's (the hub's
secrets folder); later calls check that the store still knows it and refresh the policy.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .policy import USER_POLICY_NAME

_USER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
OPERATOR_FILE = "operator.json"  # in the embedded store's state directory


@dataclass(frozen=True)
class Credentials:
    """An access key pair."""

    access_key_id: str
    secret_access_key: str

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def to_json(self) -> dict[str, str]:
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credentials:
        return cls(str(data["access_key_id"]), str(data["secret_access_key"]))


def read_operator(state_dir: str | os.PathLike[str]) -> Credentials | None:
    """The operator keys of the embedded store kept in ``state_dir`` (None: not started yet)."""
    try:
        return Credentials.from_json(json.loads((Path(state_dir) / OPERATOR_FILE).read_text()))
    except FileNotFoundError:
        return None


def store_environment(endpoint_url: str, credentials: Credentials | None = None) -> dict[str, str]:
    """Environment variables that point boto3, s3fs and soc-workspace at a store on
    ``endpoint_url`` (an embedded store), signing with ``credentials`` (none: the endpoint
    only)."""
    env = {
        "AWS_ENDPOINT_URL_S3": endpoint_url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "SOC_WORKSPACE__STORE__ENDPOINT_URL": endpoint_url,
    }
    if credentials is not None:
        env.update(credentials.environment())
    return env


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def iam_client(endpoint_url: str, operator: Credentials) -> Any:
    import boto3

    return boto3.client(
        "iam",
        endpoint_url=endpoint_url,
        aws_access_key_id=operator.access_key_id,
        aws_secret_access_key=operator.secret_access_key,
        region_name="us-east-1",
    )


def ensure_user_credentials(
    endpoint_url: str,
    operator: Credentials,
    user: str,
    policy: Mapping[str, Any],
    keep: str | Path,
) -> Credentials:
    """The store keys of ``user`` with ``policy``: the kept ones if the store knows them,
    else new ones (replacing any older key of the user), kept in the file ``keep``.

    Safe to call from several processes at once (the hub and the gateway): they take turns.
    """
    if not _USER_NAME.fullmatch(user):
        raise ValueError(
            f"cannot make store keys for user {user!r}: names of letters, digits, '-' and "
            "'_' only (up to 64)"
        )
    keep = Path(keep)
    keep.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(keep.parent / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        iam = iam_client(endpoint_url, operator)
        _ensure_user(iam, user)
        iam.put_user_policy(
            UserName=user, PolicyName=USER_POLICY_NAME, PolicyDocument=json.dumps(policy)
        )
        kept = read_kept(keep)
        known = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]
        if kept is not None and kept.access_key_id in known:
            return kept
        for key_id in known:  # keys we no longer hold: nobody should
            iam.delete_access_key(UserName=user, AccessKeyId=key_id)
        made = iam.create_access_key(UserName=user)["AccessKey"]
        credentials = Credentials(made["AccessKeyId"], made["SecretAccessKey"])
        write_private_json(keep, credentials.to_json())
        return credentials


def remove_user_credentials(
    endpoint_url: str, operator: Credentials, user: str, keep: str | Path
) -> bool:
    """Delete ``user`` from the store's IAM (keys, policy, user) and the kept keys file.

    Returns False when the store did not know the user.
    """
    keep = Path(keep)
    keep.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(keep.parent / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        iam = iam_client(endpoint_url, operator)
        keep.unlink(missing_ok=True)
        try:
            keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        except iam.exceptions.NoSuchEntityException:
            return False
        for key in keys:
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):
            iam.delete_user_policy(UserName=user, PolicyName=USER_POLICY_NAME)
        iam.delete_user(UserName=user)
        return True


def read_kept(keep: str | Path) -> Credentials | None:
    """Keys kept by :func:`ensure_user_credentials` (None if there are none)."""
    try:
        return Credentials.from_json(json.loads(Path(keep).read_text()))
    except (FileNotFoundError, ValueError, KeyError):
        return None


def _ensure_user(iam: Any, user: str) -> None:
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName=user)
