"""Who may do what in the object store: the IAM policy documents, and how they are evaluated.

One source for both deployments:

- :func:`user_policy` is what one workspace user may do: read the SOC's pipeline buckets
  (objects and their catalog index files), read and write their own scratch folder
  ``<scratch.url>/<user>/``, and nothing else: never write a pipeline bucket or its catalog
  (an explicit deny), no other user's scratch, no new buckets. The embedded store gives each
  user this policy.
- :func:`role_policy` is the same document for the Kubernetes deployment's user role (IRSA):
  one role serves every user's server there, so its scratch statements cover the whole
  scratch bucket. ``docs/examples/iam-policy-users.json``, the policy the deployment guide
  creates, is this document for the guide's example values (a test checks it; print it for
  other settings with ``soc-workspace store policy``).
- :func:`operator_policy` is the workspace's own identity on the embedded store: seeding demo
  data, building catalogs (the only writer of index files) and managing users' keys.

:func:`is_allowed` evaluates these documents as AWS IAM does (explicit deny wins, else an
allow is needed) for the parts they use: ``Action``, ``Resource`` with ``*``/``?`` and
``${aws:username}``, and ``StringEquals``/``StringLike`` conditions. The embedded store's
guard uses it where moto's own evaluation does not go (conditions, copy sources, bulk deletes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from ..config import Settings, current_settings
from ..missions import MISSIONS, STAGES, bucket_for

VERSION = "2012-10-17"
USER_POLICY_NAME = "soc-workspace-user"
OPERATOR_POLICY_NAME = "soc-workspace-operator"

_SEE_BUCKET = ["s3:ListBucket", "s3:GetBucketLocation"]
_READ_OBJECT = ["s3:GetObject", "s3:GetObjectVersion"]
# Reading and writing one's own objects, with the multipart bookkeeping of a writer.
_WRITE_OBJECT = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
# Denied in the pipeline buckets whatever else a user is given.
_NEVER_IN_PIPELINE_BUCKETS = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectAcl",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:PutBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:DeleteBucket",
]


def pipeline_buckets() -> list[str]:
    """Every SOC instrument bucket, production and development (``hermes-eea``, ``dev-...``)."""
    return sorted(
        bucket_for(m.name, i.name, stage)
        for m in MISSIONS.values()
        for i in m.instruments
        for stage in STAGES
    )


def user_policy(user: str, settings: Settings | None = None) -> dict[str, Any]:
    """What the workspace user ``user`` may do in the object store.

    ``user`` is a hub user name, or an IAM policy variable such as ``${aws:username}``.
    """
    return _document(settings or current_settings(), user)


def role_policy(settings: Settings | None = None) -> dict[str, Any]:
    """The policy of the Kubernetes user role: :func:`user_policy` for every user at once."""
    return _document(settings or current_settings(), None)


def operator_policy() -> dict[str, Any]:
    """The workspace's own identity on the embedded store: everything (S3 and its users)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "Operator",
                "Effect": "Allow",
                "Action": ["s3:*", "sqs:*", "iam:*", "sts:*"],
                "Resource": "*",
            }
        ],
    }


def _location(url: str) -> tuple[str, str] | None:
    """(bucket, prefix ending in '/' or empty) of an ``s3://`` URL; None for anything else."""
    if not url.startswith("s3://"):
        return None
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _document(settings: Settings, user: str | None) -> dict[str, Any]:
    buckets = pipeline_buckets()
    statements: list[dict[str, Any]] = [
        _statement("ReadTheSocBuckets", "Allow", _SEE_BUCKET, [_arn(b) for b in buckets]),
        _statement("ReadTheSocObjects", "Allow", _READ_OBJECT, [_arn(b, "*") for b in buckets]),
        _statement(
            "NeverWriteTheSocBuckets",
            "Deny",
            _NEVER_IN_PIPELINE_BUCKETS,
            [_arn(b) for b in buckets] + [_arn(b, "*") for b in buckets],
        ),
    ]
    catalog = _location(settings.catalog.url.strip())
    if catalog is not None:  # the catalogs' own location, when not beside the data
        bucket, prefix = catalog
        statements += [
            _listing("ListTheCatalogs", bucket, prefix),
            _statement("ReadTheCatalogs", "Allow", ["s3:GetObject"], [_arn(bucket, prefix + "*")]),
        ]
    scratch = _location(settings.scratch.url)
    if scratch is not None:
        bucket, prefix = scratch
        if user is None:  # one role for everyone: the whole scratch location
            folder = prefix
            list_actions = [*_SEE_BUCKET, "s3:ListBucketMultipartUploads"]
            statements.append(
                _statement("ListTheScratchBucket", "Allow", list_actions, [_arn(bucket)])
            )
        else:
            folder = f"{prefix}{user}/"
            statements += [
                _statement("FindTheScratchBucket", "Allow", _SEE_BUCKET[1:], [_arn(bucket)]),
                _listing("ListOwnScratchFolder", bucket, folder),
            ]
        statements.append(
            _statement(
                "ReadWriteOwnScratch" if user is not None else "ReadWriteTheScratchBucket",
                "Allow",
                _WRITE_OBJECT,
                [_arn(bucket, folder + "*")],
            )
        )
    return {"Version": VERSION, "Statement": statements}


def _arn(bucket: str, key: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"


def _statement(sid: str, effect: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": effect, "Action": actions, "Resource": resources}


def _listing(sid: str, bucket: str, folder: str) -> dict[str, Any]:
    """Listing a bucket, limited to one folder (and the folder's own name, which clients list
    to learn that it is a folder). Listing is a bucket-level action: a condition limits it."""
    statement = _statement(sid, "Allow", ["s3:ListBucket"], [_arn(bucket)])
    if folder:
        statement["Condition"] = {"StringLike": {"s3:prefix": [f"{folder}*", folder.rstrip("/")]}}
    return statement


def policy_json(document: Mapping[str, Any]) -> str:
    """A policy document as the guide's file and ``soc-workspace store policy`` print it."""
    return json.dumps(document, indent=2) + "\n"


# -- evaluation ------------------------------------------------------------------------------


def is_allowed(
    documents: Iterable[Mapping[str, Any] | str],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
    *,
    username: str | None = None,
) -> bool:
    """Whether ``documents`` (identity policies) allow ``action`` on ``resource``.

    As AWS evaluates identity policies: an explicit ``Deny`` that applies wins; otherwise some
    ``Allow`` must apply. ``context`` holds the request's condition keys (``s3:prefix``, ...).
    A condition operator this evaluator does not know never lets an ``Allow`` apply, and always
    lets a ``Deny`` apply (it fails closed both ways).
    """
    context = context or {}
    allowed = False
    for document in documents:
        if isinstance(document, str):
            document = _parsed(document)
        statements = document.get("Statement", [])
        if isinstance(statements, Mapping):
            statements = [statements]
        for statement in statements:
            deny = statement.get("Effect") == "Deny"
            if not _applies(statement, action, resource, context, username, deny):
                continue
            if deny:
                return False
            allowed = True
    return allowed


def _applies(
    statement: Mapping[str, Any],
    action: str,
    resource: str,
    context: Mapping[str, str],
    username: str | None,
    deny: bool,
) -> bool:
    if "NotAction" in statement:
        if _matches_any(statement["NotAction"], action, username, case=False):
            return False
    elif not _matches_any(statement.get("Action", []), action, username, case=False):
        return False
    if "NotResource" in statement:
        if _matches_any(statement["NotResource"], resource, username, case=True):
            return False
    elif not _matches_any(statement.get("Resource", []), resource, username, case=True):
        return False
    return _conditions_hold(statement.get("Condition", {}), context, username, deny)


def _conditions_hold(
    conditions: Mapping[str, Mapping[str, Any]],
    context: Mapping[str, str],
    username: str | None,
    deny: bool,
) -> bool:
    for operator, tests in conditions.items():
        compare = _OPERATORS.get(operator)
        if compare is None:
            return deny  # unknown operator: fail closed
        for key, expected in tests.items():
            value = context.get(key)
            if value is None:
                return False  # a key the request does not have never matches
            patterns = [expected] if isinstance(expected, str) else list(expected)
            resolved = [p for p in (_substitute(p, username) for p in patterns) if p is not None]
            if not any(compare(p, value) for p in resolved):
                return False
    return True


def _string_like(pattern: str, value: str) -> bool:
    return _wildcard(pattern, True).fullmatch(value) is not None


_OPERATORS = {
    "StringEquals": lambda expected, value: expected == value,
    "StringLike": _string_like,
}


def _matches_any(
    patterns: str | Iterable[str], value: str, username: str | None, *, case: bool
) -> bool:
    if isinstance(patterns, str):
        patterns = [patterns]
    resolved = (_substitute(p, username) for p in patterns)
    return any(_wildcard(p, case).fullmatch(value) for p in resolved if p is not None)


def _substitute(pattern: str, username: str | None) -> str | None:
    """``pattern`` with ``${aws:username}`` filled in; None if a variable stays unresolved
    (such a pattern matches nothing, as in AWS when the request lacks the key)."""
    if username is not None:
        pattern = pattern.replace("${aws:username}", username)
    return None if "${" in pattern else pattern


@lru_cache(maxsize=256)
def _parsed(document: str) -> Mapping[str, Any]:
    return json.loads(document)  # the guard evaluates the same few documents on every request


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(regex, re.DOTALL if case else re.DOTALL | re.IGNORECASE)
