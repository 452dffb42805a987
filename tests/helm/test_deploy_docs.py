"""The deployment guide's files say what the guide says: the IAM policy reads every SOC bucket
and writes only the scratch bucket; the cluster enforces NetworkPolicies; the guide's paths
exist and its example values are the ones the chart tests render.
"""

from __future__ import annotations

import fnmatch
import json
import re

import yaml
from helmchart import ROOT, VALUES_SETS

from soc_workspace.missions import MISSIONS, bucket_for, get_mission

DOCS = ROOT / "docs"
GUIDE = (DOCS / "deploy-kubernetes.md").read_text()
POLICY = json.loads((DOCS / "examples" / "iam-policy-users.json").read_text())
EXAMPLE = yaml.safe_load((DOCS / "examples" / "swxsoc-eks-values.yaml").read_text())
WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload")


def _soc_buckets() -> list[str]:
    return sorted(
        bucket_for(mission, instrument.name, stage)
        for mission in MISSIONS
        for instrument in get_mission(mission).instruments
        for stage in ("prod", "dev")
    )


def _allows(effect: str, action: str, resource: str) -> bool:
    for statement in POLICY["Statement"]:
        if statement["Effect"] != effect:
            continue
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if any(fnmatch.fnmatch(action, a) for a in actions) and any(
            fnmatch.fnmatch(resource, r) for r in resources
        ):
            return True
    return False


def _permitted(action: str, resource: str) -> bool:
    return _allows("Allow", action, resource) and not _allows("Deny", action, resource)


def test_policy_reads_every_soc_bucket_and_never_writes_them():
    buckets = _soc_buckets()
    assert len(buckets) == 16
    for bucket in buckets:
        assert _permitted("s3:ListBucket", f"arn:aws:s3:::{bucket}"), bucket
        assert _permitted("s3:GetObject", f"arn:aws:s3:::{bucket}/l1/2025/06/01/x.cdf"), bucket
        for action in WRITES:
            assert not _permitted(action, f"arn:aws:s3:::{bucket}/l1/x.cdf"), (bucket, action)
            assert _allows("Deny", action, f"arn:aws:s3:::{bucket}/l1/x.cdf"), (bucket, action)


def test_policy_writes_the_scratch_bucket_of_the_example_values():
    bucket = EXAMPLE["scratch"]["url"].removeprefix("s3://").split("/")[0]
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert _permitted(action, f"arn:aws:s3:::{bucket}/alice/reruns/x.cdf"), action
    assert _permitted("s3:ListBucket", f"arn:aws:s3:::{bucket}")
    assert not _permitted("s3:PutObject", "arn:aws:s3:::some-other-bucket/x")


def test_cluster_enforces_network_policies_and_has_oidc():
    cluster = yaml.safe_load((DOCS / "examples" / "eksctl-cluster.yaml").read_text())
    assert cluster["iam"]["withOIDC"] is True
    cni = next(a for a in cluster["addons"] if a["name"] == "vpc-cni")
    assert json.loads(cni["configurationValues"])["enableNetworkPolicy"] == "true"
    assert {a["name"] for a in cluster["addons"]} >= {"aws-ebs-csi-driver", "aws-efs-csi-driver"}
    assert cluster["metadata"]["region"] == EXAMPLE["store"]["region"]


def test_guide_gives_the_install_commands_in_order():
    build = GUIDE.index("helm dependency build helm/soc-workspace")
    install = GUIDE.index("helm upgrade --install")
    assert GUIDE.index("eksctl create cluster") < GUIDE.index("eksctl create iamserviceaccount")
    assert GUIDE.index("eksctl create iamserviceaccount") < build < install
    assert "docs/examples/swxsoc-eks-values.yaml" in GUIDE[install:]
    # the guide's example values are among the values files the chart tests render
    assert DOCS / "examples" / "swxsoc-eks-values.yaml" in VALUES_SETS["swxsoc-eks"]


def test_guide_paths_exist():
    paths = set(re.findall(r"(?<![\w/.-])((?:docs|helm|images|src|tests)/[\w./-]+\w)", GUIDE))
    assert len(paths) > 8
    missing = [p for p in sorted(paths) if not (ROOT / p).exists() and "*" not in p]
    assert not missing, missing


def test_install_deploys_the_images_built_in_step_1():
    """The install command's images are the ones `docker build` made: a guide that installs
    the chart's default images deploys something else than what was built and tested."""
    built = dict(
        re.findall(r"docker build -f images/(notebook|hub)/Dockerfile -t (\S+):\$TAG", GUIDE)
    )
    assert set(built) == {"notebook", "hub"}
    install = GUIDE[GUIDE.index("helm upgrade --install") :].split("```")[0]
    settings = dict(re.findall(r"--set(?:-string)? ([\w.-]+)=(\S+)", install))
    images = {
        "jupyterhub.singleuser.image": "notebook",
        "dask-gateway.gateway.backend.image": "notebook",
        "jupyterhub.hub.image": "hub",
        "dask-gateway.gateway.image": "hub",
    }
    for key, image in images.items():
        assert settings[f"{key}.name"] == built[image], key
        assert settings[f"{key}.tag"] == "$TAG", key
    # tags as strings (a tag like 2026.11 would otherwise become a number)
    assert all(f"--set-string {key}.tag=" in install for key in images)


def test_the_check_is_the_post_deploy_step():
    check = GUIDE.index("soc-workspace check --hub")
    assert GUIDE.index("helm upgrade --install") < check < GUIDE.index("## Operating it")
    from click.testing import CliRunner

    from soc_workspace.cli import cli

    usage = CliRunner().invoke(cli, ["check", "--help"]).output
    for option in ("--hub", "--token", "--state-dir"):
        assert option in usage
