"""This chart's own objects say what we mean: names, labels, settings, volumes, workshop
capacity, and the render-time checks that refuse what would break later.

Rendered with the Helm engine (helm-python-sdk), with the dependency charts, for each values
set of helmchart.VALUES_SETS; no cluster is involved. tests/helm/test_render.py validates
every object of the render.
"""

from __future__ import annotations

import json
import re
import tomllib

import helm_python
import kubernetes_validate
import pytest
from helmchart import (
    CHART,
    KUBERNETES_VERSION,
    NAMESPACE,
    RELEASE,
    each_values_set,
    find,
    load_yaml,
    objects,
    ours,
    render,
    rendered_set,
    user_values,
)

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _objs(values_set: str):
    """This chart's own objects (tests/helm/test_render.py checks the whole render)."""
    return ours(objects(rendered_set(values_set)))


def _prefix(values_set: str) -> str:
    return "swx" if values_set == "all-options" else "soc-workspace"


def _kubernetes_json(values_set: str) -> dict:
    settings = find(_objs(values_set), "ConfigMap", f"{_prefix(values_set)}-settings")
    return json.loads(settings["data"]["kubernetes.json"])


@each_values_set
def test_labels_and_names(values_set):
    """One helpers file names everything; the template's folder is its component label."""
    seen = set()
    for path, obj in _objs(values_set):
        meta = obj["metadata"]
        labels = meta["labels"]
        assert labels["app.kubernetes.io/name"] == "soc-workspace", path
        assert labels["app.kubernetes.io/instance"] == RELEASE, path
        assert labels["app.kubernetes.io/part-of"] == "soc-workspace", path
        assert labels["app.kubernetes.io/managed-by"] == "Helm", path
        assert labels["helm.sh/chart"] == "soc-workspace-0.1.0", path
        assert labels["app.kubernetes.io/component"] == path.split("/")[2], path
        name = meta["name"]
        assert DNS_1123.match(name), name
        assert len(name) <= 63, name
        if not name.endswith("-team-nfs"):  # an existing claim, named by the operator
            assert name.startswith(_prefix(values_set)) or obj["kind"] == "ServiceAccount", name
        assert (obj["kind"], name) not in seen, f"{obj['kind']} {name} rendered twice"
        seen.add((obj["kind"], name))


def test_default_objects():
    kinds = sorted((o["kind"], o["metadata"]["name"]) for _, o in _objs("private-trial"))
    assert kinds == [
        ("ConfigMap", "soc-workspace-hub"),
        ("ConfigMap", "soc-workspace-settings"),
        ("ConfigMap", "soc-workspace-user"),
        ("NetworkPolicy", "soc-workspace-dask-clusters"),
        ("NetworkPolicy", "soc-workspace-jupyterhub-to-gateway"),
        ("NetworkPolicy", "soc-workspace-user-servers"),
        ("PersistentVolumeClaim", "soc-workspace-shared"),
        ("Role", "soc-workspace-gateway-settings-reader"),
        ("RoleBinding", "soc-workspace-gateway-settings-reader"),
        ("ServiceAccount", "soc-workspace-user"),
    ]


def test_hub_configmap_carries_the_dropin_files():
    hub = find(_objs("private-trial"), "ConfigMap", "soc-workspace-hub")
    files = {p.name: p.read_text() for p in (CHART / "files" / "hub").glob("*.py")}
    assert files
    assert hub["data"] == files


@each_values_set
def test_hub_mounts_match_the_rendered_configmaps(values_set):
    """The static wiring in values.yaml points at objects this chart really renders."""
    from helmchart import VALUES_SETS, release_values

    values = release_values(*VALUES_SETS[values_set])
    hub = values["jupyterhub"]["hub"]
    rendered = {o["metadata"]["name"] for _, o in _objs(values_set) if o["kind"] == "ConfigMap"}
    volumes = {v["name"]: v["configMap"]["name"] for v in hub["extraVolumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in hub["extraVolumeMounts"]}
    prefix = _prefix(values_set)
    assert mounts["/usr/local/etc/jupyterhub/jupyterhub_config.d/soc-workspace.py"] == (
        f"{prefix}-hub"
    )
    assert mounts["/etc/soc-workspace"] == f"{prefix}-settings"
    assert set(mounts.values()) <= rendered


def test_the_old_name_of_stage_still_works_and_the_notes_say_to_rename_it():
    for values, stage, warned in (
        ({}, "prod", False),
        ({"stage": "dev"}, "dev", False),
        ({"environment": "dev"}, "dev", True),
    ):
        rendered = render({"allowDummyAuthenticator": True, **values})
        user = find(objects(rendered), "ConfigMap", "soc-workspace-user")
        assert f'stage = "{stage}"' in user["data"]["config.toml"], values
        assert "environment =" not in user["data"]["config.toml"]
        notes = rendered["soc-workspace/templates/NOTES.txt"]
        assert ("`environment` is now called `stage`" in notes) is warned, values


def test_user_settings_are_valid_soc_workspace_settings(monkeypatch, tmp_path):
    """The user servers' config.toml is read by soc_workspace's own settings loader."""
    from soc_workspace.config import load_settings

    user = find(_objs("all-options"), "ConfigMap", "swx-user")
    config = tmp_path / "config.toml"
    config.write_text(user["data"]["config.toml"])
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(config))
    settings = load_settings()
    assert settings.stage == "dev"
    assert settings.store.endpoint_url == "http://minio.storage.svc:9000"
    assert settings.store.max_attempts == 3
    assert settings.scratch.url == "s3://swxsoc-workspace-scratch/users"
    assert settings.catalog.url == "s3://swxsoc-catalogs"
    assert user["data"]["catalog-hermes.yaml"].strip() == "sources: {}"


def test_hub_settings_toml_matches_values():
    settings = find(_objs("all-options"), "ConfigMap", "swx-settings")
    toml = tomllib.loads(settings["data"]["config.toml"])
    assert toml["gateway"]["max_workers"] == 16
    assert toml["gateway"]["worker_memory"] == "8 G"
    assert toml["gateway"]["idle_timeout"] == 900
    assert toml["gateway"]["group_limits"] == {
        "hermes-eea": {
            "max_workers": 64,
            "max_cores": 128,
            "max_memory": "512 G",
            "max_clusters_per_user": 5,
        },
        "workshop": {"max_workers": 2},
    }
    assert toml["hub"]["profiles"]["large"] == {
        "display_name": "Large (instrument teams)",
        "description": "8 cores, 32 GB",
        "cpu_limit": 8.0,
        "mem_limit": "32G",
    }


def test_kubernetes_settings_name_the_rendered_objects():
    k8s = _kubernetes_json("all-options")
    assert k8s["image"] == "ghcr.io/swxsoc/workspace-notebook:2026.11.1"
    assert k8s["serviceAccount"] == "swx-scientist"
    assert k8s["userConfigMap"] == "swx-user"
    assert k8s["catalogFiles"] == ["hermes.yaml"]
    assert k8s["teams"]["claims"] == {
        "hermes-eea": "swx-team-hermes-eea",
        "padre-meddea": "swx-team-padre-meddea",
        "reach": "reach-team-nfs",
    }
    assert k8s["teams"]["shared"]["claimName"] == "swx-shared"
    traefik = f"traefik-swx-dask.{NAMESPACE}"
    assert k8s["gateway"] == {
        "serviceUrl": f"http://{traefik}:80",
        "address": f"http://{traefik}:80/services/dask-gateway",
        # the dask-gateway chart's own tcp port (traefik.service.ports.tcp)
        "proxyAddress": f"gateway://{traefik}:8786",
        "publicAddress": "/services/dask-gateway/",
        "stopClustersWithServer": True,
    }
    assert k8s["workshop"] == {
        "profile": "workshop",
        "priorityClassName": f"swx-{NAMESPACE}-workshop",
    }
    # With the dask-gateway chart's default naming, names follow the release.
    assert _kubernetes_json("private-trial")["gateway"]["proxyAddress"] == (
        f"gateway://traefik-{RELEASE}-dask-gateway.{NAMESPACE}:80"
    )


@each_values_set
def test_names_in_the_settings_are_the_rendered_objects(values_set):
    """Every name our settings give the hub and the gateway is an object the render has
    (with the subcharts' naming, e.g. fullnameOverride), on the port it serves."""
    from urllib.parse import urlsplit

    everything = objects(rendered_set(values_set))
    k8s = _kubernetes_json(values_set)
    for key in ("serviceUrl", "address", "proxyAddress"):
        url = urlsplit(k8s["gateway"][key])
        service = find(everything, "Service", url.hostname.removesuffix(f".{NAMESPACE}"))
        ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
        wanted = "tcp" if key == "proxyAddress" and "tcp" in ports else "web"
        assert url.port == ports[wanted], key
    find(everything, "ConfigMap", k8s["userConfigMap"])
    if k8s["teams"]["shared"]["enabled"] and not k8s["teams"]["shared"]["claimName"].endswith(
        "-nfs"
    ):
        find(everything, "PersistentVolumeClaim", k8s["teams"]["shared"]["claimName"])
    if k8s.get("workshop"):
        find(everything, "PriorityClass", k8s["workshop"]["priorityClassName"])
    binding = next(o for _, o in _objs(values_set) if o["kind"] == "RoleBinding")
    find(everything, "ServiceAccount", binding["subjects"][0]["name"])


def test_team_volumes():
    objs = _objs("all-options")
    claims = {o["metadata"]["name"]: o for _, o in objs if o["kind"] == "PersistentVolumeClaim"}
    assert sorted(claims) == ["swx-shared", "swx-team-hermes-eea", "swx-team-padre-meddea"]
    for claim in claims.values():
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["spec"]["storageClassName"] == "efs-sc"
        assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    sizes = {n: c["spec"]["resources"]["requests"]["storage"] for n, c in claims.items()}
    assert sizes == {
        "swx-shared": "50Gi",
        "swx-team-hermes-eea": "100Gi",
        "swx-team-padre-meddea": "20Gi",
    }
    assert claims["swx-team-hermes-eea"]["metadata"]["labels"]["soc-workspace.org/team"] == (
        "hermes-eea"
    )


def test_service_account_and_its_cloud_role():
    account = find(_objs("all-options"), "ServiceAccount", "swx-scientist")
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/soc-workspace-users",
        "example.org/owner": "swxsoc",
    }
    assert account["automountServiceAccountToken"] is False
    default = find(_objs("private-trial"), "ServiceAccount", "soc-workspace-user")
    assert "annotations" not in default["metadata"]


@each_values_set
def test_gateway_may_read_only_the_settings(values_set):
    prefix = _prefix(values_set)
    objs = _objs(values_set)
    role = find(objs, "Role", f"{prefix}-gateway-settings-reader")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [f"{prefix}-settings"],
            "verbs": ["get"],
        }
    ]
    binding = find(objs, "RoleBinding", f"{prefix}-gateway-settings-reader")
    api = "api-swx-dask" if values_set == "all-options" else f"api-{RELEASE}-dask-gateway"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": api, "namespace": NAMESPACE}]


def test_network_policies_can_be_turned_off():
    rendered = render(_trial({"networkPolicy": {"enabled": False}}))
    assert not [o for _, o in ours(objects(rendered)) if o["kind"] == "NetworkPolicy"]
    assert "networkPolicy.enabled is false" in rendered["soc-workspace/templates/NOTES.txt"]


# -- workshop capacity ----------------------------------------------------------------------


def test_workshop_capacity():
    objs = _objs("workshop")
    profile = load_yaml(CHART / "values.yaml")["profiles"]["workshop"]
    placeholder = find(objs, "Deployment", "soc-workspace-workshop-placeholder")
    assert placeholder["spec"]["replicas"] == 20
    pod = placeholder["spec"]["template"]["spec"]
    requests = pod["containers"][0]["resources"]["requests"]
    # the size of one workshop server, in the units KubeSpawner uses (4G = 4 GiB)
    assert requests == {
        "cpu": str(profile["cpu"]["guarantee"]),
        "memory": profile["memory"]["guarantee"] + "i",
    }
    classes = {o["metadata"]["name"]: o for _, o in objs if o["kind"] == "PriorityClass"}
    servers = classes[f"soc-workspace-{NAMESPACE}-workshop"]
    placeholders = classes[pod["priorityClassName"]]
    assert placeholders["value"] < servers["value"] <= 0
    assert placeholders["preemptionPolicy"] == "Never"
    assert not servers["globalDefault"]
    assert not placeholders["globalDefault"]
    quota = find(objs, "ResourceQuota", "soc-workspace-workshop")
    assert quota["spec"]["hard"] == {"requests.cpu": "12", "requests.memory": "48Gi", "pods": "40"}
    scope = quota["spec"]["scopeSelector"]["matchExpressions"][0]
    # the quota counts exactly the pods the hub gives the workshop priority class
    assert scope["scopeName"] == "PriorityClass"
    assert scope["values"] == [_kubernetes_json("workshop")["workshop"]["priorityClassName"]]
    assert pod["priorityClassName"] not in scope["values"]


def test_workshop_placeholders_go_where_user_servers_go():
    """On the EKS example (user nodes tainted and required, the user scheduler on), the
    placeholders get the jupyterhub chart's user scheduling, so they land on user nodes and
    make the autoscaler grow that pool."""
    from helmchart import VALUES_SETS, deep_merge

    values = deep_merge(
        user_values(*VALUES_SETS["swxsoc-eks"]), {"workshop": {"enabled": True, "placeholders": 4}}
    )
    everything = objects(render(values))
    pod = find(everything, "Deployment", "soc-workspace-workshop-placeholder")["spec"]["template"]
    spec = pod["spec"]
    # the same scheduler, node affinity and tolerations as the jupyterhub chart's own
    # placeholders (scheduling.userPlaceholder) and KubeSpawner's user pods
    z2jh = find(everything, "StatefulSet", "user-placeholder")["spec"]["template"]["spec"]
    assert spec["schedulerName"] == z2jh["schedulerName"] == f"{RELEASE}-user-scheduler"
    find(everything, "Deployment", "user-scheduler")
    assert spec["affinity"] == z2jh["affinity"]
    required = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["user"]
    for toleration in z2jh["tolerations"]:
        assert toleration in spec["tolerations"]
    # and a profile's own nodes and tolerations
    values["profiles"] = {
        "workshop": {
            "nodeSelector": {"node.kubernetes.io/instance-type": "m6i.xlarge"},
            "tolerations": [{"key": "training", "operator": "Exists", "effect": "NoSchedule"}],
        }
    }
    spec = find(objects(render(values)), "Deployment", "soc-workspace-workshop-placeholder")[
        "spec"
    ]["template"]["spec"]
    assert spec["nodeSelector"] == {"node.kubernetes.io/instance-type": "m6i.xlarge"}
    assert {"key": "training", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert {t["key"] for t in spec["tolerations"]} >= {"hub.jupyter.org/dedicated", "training"}


def test_a_workshop_quota_needs_requests_on_the_metadata_blocker():
    """A requests quota refuses a pod with a container that requests nothing: z2jh's
    block-cloud-metadata init container must request resources (values.yaml sets them)."""
    values = {
        "workshop": {"enabled": True, "quota": {"enabled": True}},
        "jupyterhub": {"singleuser": {"networkTools": {"resources": {"requests": None}}}},
    }
    message = _render_error(values)
    assert "jupyterhub.singleuser.networkTools.resources.requests" in message
    # without the iptables blocker (the NetworkPolicy still blocks the metadata server)
    values["jupyterhub"]["singleuser"]["cloudMetadata"] = {"blockWithIptables": False}
    render(_trial(values))


def test_no_workshop_objects_by_default():
    kinds = {o["kind"] for _, o in _objs("private-trial")}  # ours
    assert not kinds & {"Deployment", "PriorityClass", "ResourceQuota"}


# -- rendering refuses what would break later ------------------------------------------------


def _trial(values: dict) -> dict:
    """``values`` on top of the smallest values set that renders (ci/private-trial)."""
    from helmchart import VALUES_SETS, deep_merge

    return deep_merge(user_values(*VALUES_SETS["private-trial"]), values)


def _render_error(values: dict) -> str:
    with pytest.raises((helm_python.HelmRenderError, helm_python.HelmValuesError)) as err:
        render(_trial(values))
    return str(err.value)


def _image(tag: str, name: str = "ghcr.io/soc-workspace/notebook") -> dict:
    return {"name": name, "tag": tag}


@pytest.mark.parametrize("tag", ["latest", ""])
def test_notebook_image_needs_an_exact_tag(tag):
    message = _render_error(
        {
            "jupyterhub": {"singleuser": {"image": _image(tag)}},
            "dask-gateway": {"gateway": {"backend": {"image": _image(tag)}}},
        }
    )
    assert "jupyterhub.singleuser.image.tag" in message
    assert "exact tag" in message


def test_a_digest_pins_the_image_too():
    tag = "2026.11.1@sha256:" + "a" * 64
    rendered = render(
        _trial(
            {
                "jupyterhub": {"singleuser": {"image": _image(tag)}},
                "dask-gateway": {"gateway": {"backend": {"image": _image(tag)}}},
            }
        )
    )
    settings = find(objects(rendered), "ConfigMap", "soc-workspace-settings")
    image = f"ghcr.io/soc-workspace/notebook:{tag}"
    assert json.loads(settings["data"]["kubernetes.json"])["image"] == image
    # the jupyterhub chart's image pullers pull exactly that
    puller = find(objects(rendered), "DaemonSet", "continuous-image-puller")
    assert image in {c["image"] for c in puller["spec"]["template"]["spec"]["initContainers"]}


def test_a_digest_in_the_image_name_is_refused():
    """The subcharts write `name:tag`: a digest in the name renders `name@sha256:...:tag`."""
    name = "ghcr.io/soc-workspace/notebook@sha256:" + "a" * 64
    message = _render_error(
        {
            "jupyterhub": {"singleuser": {"image": _image("", name)}},
            "dask-gateway": {"gateway": {"backend": {"image": _image("", name)}}},
        }
    )
    assert "jupyterhub.singleuser.image.name" in message
    assert "put the digest in the tag" in message


def test_dask_workers_must_run_the_notebook_image():
    message = _render_error({"dask-gateway": {"gateway": {"backend": {"image": _image("0.0.9")}}}})
    assert "dask-gateway.gateway.backend.image" in message
    assert "jupyterhub.singleuser.image" in message


def test_hub_image_needs_an_exact_tag():
    message = _render_error({"jupyterhub": {"hub": {"image": {"tag": "latest"}}}})
    assert "jupyterhub.hub.image.tag" in message


def test_gateway_runs_the_hub_image():
    message = _render_error(
        {
            "dask-gateway": {
                "gateway": {"image": _image("2026.3.0", "ghcr.io/dask/dask-gateway-server")}
            }
        }
    )
    assert "dask-gateway.gateway.image must be the hub image" in message


def test_renamed_objects_need_the_wiring_updated():
    message = _render_error({"fullnameOverride": "other"})
    assert 'ConfigMap "other-hub"' in message


def test_gateway_must_be_told_where_its_settings_are():
    values = user_values(CHART / "ci" / "all-options-values.yaml")
    values["dask-gateway"]["gateway"]["env"] = []
    message = _render_error(values)
    assert "SOC_WORKSPACE_SETTINGS_CONFIGMAP" in message
    assert '"swx-settings"' in message


def test_profiles_come_from_this_chart():
    message = _render_error(
        {"jupyterhub": {"singleuser": {"profileList": [{"display_name": "x"}]}}}
    )
    assert "jupyterhub.singleuser.profileList" in message


def test_workshop_profile_must_exist():
    message = _render_error({"workshop": {"enabled": True, "profile": "tutorial"}})
    assert '"tutorial"' in message
    assert "large, standard, workshop" in message


def test_one_default_profile():
    message = _render_error({"profiles": {"large": {"default": True}}})
    assert "large, standard" in message


# -- NOTES ------------------------------------------------------------------------------------


def test_a_public_hub_with_the_dummy_login_is_refused():
    """The jupyterhub chart's default: any name, any password, behind a LoadBalancer."""
    with pytest.raises(helm_python.HelmRenderError) as err:
        render({})
    message = str(err.value)
    assert "dummy authenticator" in message
    assert "everyone on the internet could log in" in message
    assert "jupyterhub.hub.config" in message
    # an ingress is public too
    ingress = {
        "jupyterhub": {"proxy": {"service": {"type": "ClusterIP"}}, "ingress": {"enabled": True}}
    }
    with pytest.raises(helm_python.HelmRenderError, match="dummy authenticator"):
        render(ingress)
    # explicitly allowed: renders, and NOTES say what it means
    notes = render({"allowDummyAuthenticator": True})["soc-workspace/templates/NOTES.txt"]
    assert "any name and any password" in notes
    assert "allowDummyAuthenticator is true" in notes
    # a private trial renders, with the warning; a real login has none
    assert (
        "any name and any password"
        in rendered_set("private-trial")["soc-workspace/templates/NOTES.txt"]
    )
    assert "any name" not in rendered_set("all-options")["soc-workspace/templates/NOTES.txt"]


def test_notes_list_profiles_as_users_see_them():
    notes = rendered_set("swxsoc-eks")["soc-workspace/templates/NOTES.txt"]
    lines = [line.strip() for line in notes.splitlines()]
    profiles = [
        line.split(":")[0]
        for line in lines
        if line.split(":")[0] in ("standard", "large", "workshop")
    ]
    assert profiles == ["standard", "large", "workshop"]  # by `order`, not by name
    assert "workshop: 1 core, 2G" in notes
    assert "large: 8 cores, 32G" in notes
    assert "groups: hermes-eea, hermes-nemisis, padre-meddea" in notes
    assert "standard: 2 cores, 8G; kernels: hermes, padre, reach (default)" in notes
    assert "soc-workspace check --hub" in notes
    assert "kubectl --namespace swxsoc get service proxy-public" in notes
    renamed = rendered_set("all-options")["soc-workspace/templates/NOTES.txt"]
    assert "get service swx-jh-proxy-public" in renamed


def test_notes_warn_about_a_missing_cloud_role():
    defaults = rendered_set("private-trial")["soc-workspace/templates/NOTES.txt"]
    assert "serviceAccount.awsRoleArn is empty" in defaults
    eks = rendered_set("swxsoc-eks")["soc-workspace/templates/NOTES.txt"]
    assert "awsRoleArn is empty" not in eks
    assert "hermes-eea, hermes-nemisis, padre-meddea" in eks


def test_everything_optional_turned_off():
    rendered = render(
        _trial(
            {
                "teams": {"enabled": False},
                "serviceAccount": {"create": False, "name": "existing-scientist"},
                "networkPolicy": {"enabled": False},
            }
        )
    )
    objs = ours(objects(rendered))
    for _, obj in objs:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    kinds = {o["kind"] for _, o in objs}
    assert kinds == {"ConfigMap", "Role", "RoleBinding"}
    settings = find(objs, "ConfigMap", "soc-workspace-settings")
    k8s = json.loads(settings["data"]["kubernetes.json"])
    assert k8s["serviceAccount"] == "existing-scientist"
    assert k8s["teams"]["enabled"] is False
