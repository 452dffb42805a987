"""The store's IAM policy documents: one source for both deployments, evaluated as AWS does.

The evaluator is checked against moto's (an independent implementation) on a generated matrix
of statements, actions and resources, and on the conditions moto does not evaluate against
the cases AWS documents.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest
import yaml
from click.testing import CliRunner
from conftest import PROJECT_ROOT
from moto.iam.access_control import IAMPolicy, PermissionResult

from soc_workspace.config import load_settings
from soc_workspace.store.cli import store as store_cli
from soc_workspace.store.policy import (
    is_allowed,
    pipeline_buckets,
    policy_json,
    role_policy,
    user_policy,
)

GUIDE_POLICY = PROJECT_ROOT / "docs" / "examples" / "iam-policy-users.json"
GUIDE_VALUES = PROJECT_ROOT / "docs" / "examples" / "swxsoc-eks-values.yaml"


def test_the_deployment_guides_policy_is_the_role_policy_of_its_example_values(monkeypatch):
    values = yaml.safe_load(GUIDE_VALUES.read_text())
    monkeypatch.setenv("SOC_WORKSPACE__SCRATCH__URL", values["scratch"]["url"])
    monkeypatch.setenv("SOC_WORKSPACE__STAGE", values["stage"])
    expected = policy_json(role_policy(load_settings()))
    assert GUIDE_POLICY.read_text() == expected, (
        "docs/examples/iam-policy-users.json differs from soc_workspace.store.policy: "
        f"regenerate it with SOC_WORKSPACE__SCRATCH__URL={values['scratch']['url']} "
        "soc-workspace store policy > docs/examples/iam-policy-users.json"
    )


def test_cli_prints_the_role_and_a_users_policy():
    runner = CliRunner()
    role = json.loads(runner.invoke(store_cli, ["policy"]).output)
    alice = json.loads(runner.invoke(store_cli, ["policy", "--user", "alice"]).output)
    assert role == role_policy()
    assert alice == user_policy("alice")


def _scratch_resources(document: dict) -> set[str]:
    return {
        r
        for s in document["Statement"]
        for r in s["Resource"]
        if "scratch" in r and s["Effect"] == "Allow"
    }


def test_a_user_and_the_role_differ_only_in_the_scratch_folder():
    alice, role = user_policy("alice"), role_policy()
    shared = [s for s in alice["Statement"] if not any("scratch" in r for r in s["Resource"])]
    assert shared == [
        s for s in role["Statement"] if not any("scratch" in r for r in s["Resource"])
    ]
    assert _scratch_resources(alice) == {
        "arn:aws:s3:::soc-workspace-scratch",
        "arn:aws:s3:::soc-workspace-scratch/alice/*",
    }
    assert _scratch_resources(role) == {
        "arn:aws:s3:::soc-workspace-scratch",
        "arn:aws:s3:::soc-workspace-scratch/*",
    }


@pytest.mark.parametrize("bucket", pipeline_buckets())
def test_users_read_every_pipeline_bucket_and_write_none(bucket):
    alice = [user_policy("alice")]
    assert is_allowed(alice, "s3:GetObject", f"arn:aws:s3:::{bucket}/l1/x.cdf")
    assert is_allowed(alice, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": "l1/"})
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"):
        for key in ("l1/x.cdf", "catalog.json", "catalog/manifest.json"):
            assert not is_allowed(alice, action, f"arn:aws:s3:::{bucket}/{key}"), (action, key)
    # The deny holds whatever else is granted: even "everything" does not open it.
    everything = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert not is_allowed([everything, *alice], "s3:PutObject", f"arn:aws:s3:::{bucket}/x")


@pytest.mark.parametrize(
    ("prefix", "allowed"),
    [
        ("alice/", True),
        ("alice/reruns/2025/", True),
        ("alice", True),
        ("", False),
        ("bob/", False),
        ("alicex/", False),
        ("al", False),
    ],
)
def test_listing_the_scratch_bucket_is_limited_to_the_users_folder(prefix, allowed):
    alice = [user_policy("alice")]
    scratch = "arn:aws:s3:::soc-workspace-scratch"
    assert is_allowed(alice, "s3:ListBucket", scratch, {"s3:prefix": prefix}) is allowed
    assert not is_allowed(alice, "s3:ListBucket", scratch)  # no prefix at all: a HeadBucket


def test_conditions_and_variables_as_aws_evaluates_them():
    statement = {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::b",
        "Condition": {"StringLike": {"s3:prefix": "${aws:username}/*"}},
    }
    policy = [{"Statement": [statement]}]
    assert is_allowed(
        policy, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "ann/x"}, username="ann"
    )
    assert not is_allowed(
        policy, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "bo/x"}, username="ann"
    )
    assert not is_allowed(policy, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "ann/x"})
    unknown = {**statement, "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}}
    assert not is_allowed([{"Statement": [unknown]}], "s3:ListBucket", "arn:aws:s3:::b")
    deny_unknown = {**unknown, "Effect": "Deny"}
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert not is_allowed(
        [{"Statement": [everything, deny_unknown]}], "s3:ListBucket", "arn:aws:s3:::b"
    )


# -- against moto's evaluator, on a generated matrix --------------------------------------------

_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "iam:CreateUser"]
_ACTION_PATTERNS = [*_ACTIONS, "s3:*", "*", "s3:Get*", "s3:*Object", "iam:*"]
_RESOURCES = [
    "arn:aws:s3:::hermes-eea",
    "arn:aws:s3:::hermes-eea/l1/x.cdf",
    "arn:aws:s3:::scratch/alice/a.txt",
    "arn:aws:s3:::scratch/bob/a.txt",
    "arn:aws:s3:::scratch",
    "*",
]
_RESOURCE_PATTERNS = [
    *_RESOURCES,
    "arn:aws:s3:::hermes-*",
    "arn:aws:s3:::scratch/alice/*",
    "arn:aws:s3:::*/a.txt",
    "arn:aws:s3:::scratch*",
]


def _random_policy(rng: random.Random) -> dict:
    statements = []
    for _ in range(rng.randint(1, 4)):
        statements.append(
            {
                "Effect": rng.choice(["Allow", "Allow", "Deny"]),
                "Action": rng.sample(_ACTION_PATTERNS, rng.randint(1, 3)),
                "Resource": rng.sample(_RESOURCE_PATTERNS, rng.randint(1, 3)),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _moto_allows(policies: list[dict], action: str, resource: str) -> bool:
    # As moto's check_action_permitted combines the policies of a user.
    permitted = False
    for policy in policies:
        result = IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return False
        permitted |= result == PermissionResult.PERMITTED
    return permitted


def test_evaluator_agrees_with_moto_on_a_generated_matrix():
    rng = random.Random(18)
    answers, disagreements = [], []
    for _ in range(300):
        policies = [_random_policy(rng) for _ in range(rng.randint(1, 2))]
        for action, resource in itertools.product(_ACTIONS, _RESOURCES):
            ours = is_allowed(policies, action, resource)
            answers.append(ours)
            if ours != _moto_allows(policies, action, resource):
                disagreements.append((action, resource, ours, policies))
    assert not disagreements, disagreements[:3]
    assert 0.1 < sum(answers) / len(answers) < 0.9  # the matrix exercises both answers


def test_the_documents_are_valid_for_moto():
    from moto.iam.policy_validation import IAMPolicyDocumentValidator

    for document in (user_policy("alice"), role_policy()):
        IAMPolicyDocumentValidator(json.dumps(document)).validate()
