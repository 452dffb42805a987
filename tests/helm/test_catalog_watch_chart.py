"""The chart's `catalog watch` Deployment: off by default; on, it reads the queue it is given,
under a ServiceAccount of its own (IRSA role), with the hub's settings, and writes the index
beside the data only as the operator (no catalog.url)."""

from __future__ import annotations

import pytest
from helmchart import CHART, ROOT, find, load_yaml, objects, render, rendered_set, user_values

WATCH = "soc-workspace-catalog-watch"
EKS = ROOT / "docs" / "examples" / "swxsoc-eks-values.yaml"


def test_it_is_off_by_default():
    for name in ("swxsoc-eks", "all-options", "private-trial", "workshop"):
        kinds = {(o["kind"], o["metadata"]["name"]) for _, o in objects(rendered_set(name))}
        assert ("Deployment", WATCH) not in kinds, name
        assert ("ServiceAccount", WATCH) not in kinds, name


def test_on_it_watches_the_queue_with_a_role_of_its_own():
    objs = objects(rendered_set("catalog-watch"))
    values = load_yaml(CHART / "ci" / "catalog-watch-values.yaml")["catalogWatch"]
    account = find(objs, "ServiceAccount", WATCH)
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": values["awsRoleArn"]
    }
    pod = find(objs, "Deployment", WATCH)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == WATCH
    (container,) = pod["containers"]
    command = container["command"]
    assert command[:5] == ["python", "-m", "soc_workspace", "catalog", "watch"]
    assert command[command.index("--queue") + 1] == values["queueUrl"]
    assert command[command.index("--max-batch") + 1] == "50"
    assert "--operator" in command  # the example keeps the index beside the data
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SOC_WORKSPACE_CONFIG"] == "/etc/soc-workspace/config.toml"
    settings = next(v for v in pod["volumes"] if v["name"] == "settings")
    assert settings["configMap"]["name"] == "soc-workspace-settings"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_with_a_catalog_location_of_its_own_it_is_no_operator():
    values = user_values(EKS, CHART / "ci" / "catalog-watch-values.yaml")
    values["catalog"] = {"url": "s3://swxsoc-catalogs"}
    pod = find(objects(render(values)), "Deployment", WATCH)["spec"]["template"]["spec"]
    assert "--operator" not in pod["containers"][0]["command"]


def test_on_without_a_queue_says_which_value():
    values = user_values(EKS, CHART / "ci" / "catalog-watch-values.yaml")
    values["catalogWatch"]["queueUrl"] = ""
    with pytest.raises(Exception, match=r"catalogWatch\.queueUrl: give the SQS queue URL"):
        render(values)
