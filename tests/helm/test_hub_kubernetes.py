"""The hub in the loop: z2jh's own hub configuration, from the whole render, builds the pods.

For each values set, the jupyterhub chart's ``jupyterhub_config.py`` runs as the hub pod runs
it (tests/helm/inthecharts.py): the rendered hub ConfigMap and Secret, our drop-in where the
hub Deployment mounts it, the Deployment's environment. Then the real KubeSpawner builds the
pod of every profile a user may choose, for a user in a team and for one in none, and the pods
must carry what the chart promises: image, resources, tolerations, affinity, environment,
volumes, ServiceAccount, and be valid Kubernetes 1.32 objects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from helmchart import (
    KUBERNETES_VERSION,
    NAMESPACE,
    VALUES_SETS,
    find,
    objects,
    release_values,
    render,
    rendered_set,
    user_values,
)
from inthecharts import HubUsers, load_hub, new_spawner, server_pod

from soc_workspace.hub.workshops import WORKSHOP_KEY
from soc_workspace.kubernetes import CHECKSUM_ANNOTATION, PROFILE_LABEL

GIB = 2**30


@pytest.fixture
def users():
    return HubUsers()


def _hub(values_set: str, tmp_path):
    return load_hub(objects(rendered_set(values_set)), tmp_path / "hub")


def _settings(values_set: str) -> dict:
    objs = objects(rendered_set(values_set))
    settings = next(
        o
        for _, o in objs
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-settings")
    )
    return json.loads(settings["data"]["kubernetes.json"])


def _container(pod: dict) -> dict:
    return pod["spec"]["containers"][0]


def _env(pod: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in _container(pod)["env"]}


def _mounts(pod: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in _container(pod)["volumeMounts"]}


def _volumes(pod: dict) -> dict[str, dict]:
    return {v["name"]: v for v in pod["spec"]["volumes"]}


def _memory(text: str) -> int:
    """KubeSpawner's reading of "4G" (binary units)."""
    return int(float(text[:-1]) * {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[text[-1]])


# -- every profile, every values set ----------------------------------------------------------


def _profile_cases():
    for values_set in sorted(VALUES_SETS):
        settings = _settings(values_set)
        team = next(iter(settings["teams"]["claims"]), None)
        for slug in sorted(settings["profiles"]):
            for member in (True, False):
                if member and team is None:
                    continue
                yield pytest.param(
                    values_set,
                    slug,
                    team if member else None,
                    id=f"{values_set}-{slug}-{'team' if member else 'no-team'}",
                )


@pytest.mark.parametrize(("values_set", "slug", "team"), list(_profile_cases()))
async def test_every_profile_builds_the_promised_pod(values_set, slug, team, tmp_path, users):
    hub = _hub(values_set, tmp_path)
    values = release_values(*VALUES_SETS[values_set])
    # the jupyterhub chart's values as its hub reads them (with its defaults)
    jh = yaml.safe_load(hub.pod.path("/usr/local/etc/jupyterhub/secret/values.yaml").read_text())
    settings = _settings(values_set)
    profile = settings["profiles"][slug]
    groups = [team] if team else []
    user = users.user("ana", *groups)
    allowed = not profile["groups"] or set(groups) & set(profile["groups"])
    spawner = new_spawner(hub.config, user)
    if not allowed:
        with pytest.raises(ValueError, match=slug):
            await server_pod(spawner, slug)
        return
    pod = await server_pod(spawner, slug)
    kubernetes_validate.validate(
        {"apiVersion": "v1", "kind": "Pod", **pod}, KUBERNETES_VERSION, strict=True
    )
    container, spec = _container(pod), pod["spec"]

    # image and identity
    assert container["image"] == settings["image"]
    assert spec["serviceAccountName"] == settings["serviceAccount"]
    assert spec["automountServiceAccountToken"] is False
    assert pod["metadata"]["labels"][PROFILE_LABEL] == slug
    assert len(pod["metadata"]["annotations"][CHECKSUM_ANNOTATION]) == 16

    # resources: the profile's, in KubeSpawner's units
    assert container["resources"]["requests"] == {
        "cpu": profile["cpu"]["guarantee"],
        "memory": _memory(profile["memory"]["guarantee"]),
    }
    assert container["resources"]["limits"] == {
        "cpu": profile["cpu"]["limit"],
        "memory": _memory(profile["memory"]["limit"]),
    }

    # scheduling: the jupyterhub chart's user-node tolerations and affinity, plus the profile's
    chart_tolerations = jh["scheduling"]["userPods"]["tolerations"] + jh["singleuser"].get(
        "extraTolerations", []
    )
    for toleration in chart_tolerations + profile.get("tolerations", []):
        assert toleration in spec["tolerations"], toleration
    affinity = spec.get("affinity", {}).get("nodeAffinity", {})
    purpose = jh["scheduling"]["userPods"]["nodeAffinity"]["matchNodePurpose"]
    term = {"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": ["user"]}
    if purpose == "require":
        terms = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert {"matchExpressions": [term]} in terms
    elif purpose == "prefer":
        preferred = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
        assert {"weight": 100, "preference": {"matchExpressions": [term]}} in preferred
    for key, value in profile.get("nodeSelector", {}).items():
        assert spec["nodeSelector"][key] == value
    if jh["scheduling"]["userScheduler"]["enabled"]:
        assert spec["schedulerName"].endswith("user-scheduler")
    workshop = settings.get("workshop")
    if workshop and workshop["profile"] == slug:
        assert spec["priorityClassName"] == workshop["priorityClassName"]
    elif workshop:
        assert spec.get("priorityClassName") != workshop["priorityClassName"]

    # environment: the gateway, the settings, the kernels of the profile
    env = _env(pod)
    assert env["DASK_GATEWAY__ADDRESS"] == settings["gateway"]["address"]
    assert env["DASK_GATEWAY__PROXY_ADDRESS"] == settings["gateway"]["proxyAddress"]
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert env["SOC_WORKSPACE_KERNELS"] == ",".join(profile["kernels"])
    assert env["SOC_WORKSPACE_CONFIG"] == "/etc/soc-workspace/config.toml"
    assert env["SOC_WORKSPACE__SCRATCH__URL"] == values["scratch"]["url"]
    assert env["JUPYTERHUB_USER"] == "ana"
    assert json.loads(env["SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS"])  # braces kept

    # volumes: the chart's home, our settings and pod-local state, the user's team only
    mounts, volumes = _mounts(pod), _volumes(pod)
    home = jh["singleuser"]["storage"]["homeMountPath"]
    assert volumes[mounts[home]["name"]]["persistentVolumeClaim"]["claimName"] == "claim-ana"
    settings_volume = volumes[mounts["/etc/soc-workspace"]["name"]]["configMap"]
    assert settings_volume["name"] == settings["userConfigMap"]
    assert "emptyDir" in volumes[mounts[settings["jupyter"]["localDir"]]["name"]]
    teams = {p.rsplit("/", 1)[1] for p in mounts if p.startswith(f"{home}/teams/")}
    assert teams == ({team} if team and settings["teams"]["enabled"] else set())
    if team and settings["teams"]["enabled"]:
        claim = volumes[mounts[f"{home}/teams/{team}"]["name"]]["persistentVolumeClaim"]
        assert claim["claimName"] == settings["teams"]["claims"][team]
    if settings["teams"]["enabled"] and settings["teams"]["shared"]["enabled"]:
        assert mounts[f"{home}/shared"]["readOnly"] is True

    # every container of the pod requests resources (a requests quota admits it)
    for each in spec["containers"] + spec.get("initContainers", []):
        assert {"cpu", "memory"} <= set(each.get("resources", {}).get("requests", {})), each["name"]


# -- what z2jh's configuration and ours do together ------------------------------------------


def test_hub_config_is_z2jhs_with_ours_on_top(tmp_path):
    hub = _hub("all-options", tmp_path)
    c = hub.config
    # z2jh's: the spawner, the proxy in its own pod, its culler, its volumes as dicts
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert c.ConfigurableHTTPProxy.api_url == "http://swx-jh-proxy-api:8001"
    assert isinstance(c.KubeSpawner.volumes, dict)
    assert isinstance(c.KubeSpawner.volume_mounts, dict)
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert "jupyterhub-idle-culler" in services
    # ours, with the token z2jh read from its Secret for the gateway service
    secret = find(objects(rendered_set("all-options")), "Secret", "swx-jh-hub")
    import base64

    token = base64.b64decode(secret["data"]["hub.services.dask-gateway.apiToken"]).decode()
    gateway = services["dask-gateway"]
    assert gateway["api_token"] == token
    assert gateway["url"] == f"http://traefik-swx-dask.{NAMESPACE}:80"
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "access:services!service=dask-gateway" in roles["user"]["scopes"]
    assert "jupyterhub-idle-culler" in roles  # z2jh's role kept
    assert "access:services!service=dask-gateway" in c.Spawner.server_token_scopes
    # the login is the chart's values' (hub.config), untouched by ours
    assert c.JupyterHub.authenticator_class == "generic-oauth"
    assert callable(c.KubeSpawner.post_stop_hook)
    assert callable(c.KubeSpawner.profile_list)


def test_dropin_is_mounted_as_one_file_beside_extra_files(tmp_path):
    """z2jh's hub.extraFiles in jupyterhub_config.d still load (the drop-in is one file)."""
    values = user_values(*VALUES_SETS["all-options"])
    values["jupyterhub"]["hub"]["extraFiles"] = {
        "site": {
            "mountPath": "/usr/local/etc/jupyterhub/jupyterhub_config.d/00-site.py",
            "stringData": "c.JupyterHub.template_vars = {'site': 'SWxSOC'}\n",
        }
    }
    hub = load_hub(objects(render(values)), tmp_path / "hub")
    config_d = hub.pod.path("/usr/local/etc/jupyterhub/jupyterhub_config.d")
    assert sorted(p.name for p in config_d.iterdir()) == ["00-site.py", "soc-workspace.py"]
    assert hub.config.JupyterHub.template_vars == {"site": "SWxSOC"}
    assert any(s["name"] == "dask-gateway" for s in hub.config.JupyterHub.services)


def test_the_hub_restarts_when_the_dropin_changes(tmp_path):
    """The drop-in is mounted with subPath (not updated in a running pod); the hub pod
    template carries its checksum, so a changed drop-in is a new hub pod. A drop-in changed
    without its checksum in values.yaml does not render, and the message gives the value."""
    import shutil

    import helm_python
    from helmchart import CHART, NAMESPACE, RELEASE

    def hub_pod_template(objs):
        return find(objs, "Deployment", "hub")["spec"]["template"]

    template = hub_pod_template(objects(rendered_set("private-trial")))
    checksum = template["metadata"]["annotations"]["soc-workspace.org/dropin-checksum"]
    mount = next(
        m
        for m in template["spec"]["containers"][0]["volumeMounts"]
        if m["mountPath"].endswith("jupyterhub_config.d/soc-workspace.py")
    )
    assert mount["subPath"] == "soc-workspace.py"

    copy = tmp_path / "soc-workspace"
    shutil.copytree(CHART, copy)
    dropin = copy / "files" / "hub" / "soc-workspace.py"
    dropin.write_text(dropin.read_text() + "c.JupyterHub.log_level = 'DEBUG'\n")
    values = user_values(*VALUES_SETS["private-trial"])
    with helm_python.Chart.load(copy) as chart:
        with pytest.raises(helm_python.HelmRenderError) as err:
            chart.render(values, name=RELEASE, namespace=NAMESPACE)
        new = err.value.args[0].split('must be "')[1][:16]
        assert new != checksum
        values["jupyterhub"]["hub"] = {"annotations": {"soc-workspace.org/dropin-checksum": new}}
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE)
    changed = hub_pod_template(objects(rendered))
    assert changed["metadata"]["annotations"]["soc-workspace.org/dropin-checksum"] == new


async def test_dict_volumes_of_z2jh_keep_the_home_and_add_ours(tmp_path, users):
    """z2jh 4.4 sets volumes and mounts as dicts; restarts do not pile ours up."""
    hub = _hub("all-options", tmp_path)
    spawner = new_spawner(hub.config, users.user("ana", "hermes-eea"))
    for _ in range(3):
        pod = await server_pod(spawner)
    names = [v["name"] for v in pod["spec"]["volumes"]]
    assert len(names) == len(set(names))
    assert sum(name.startswith("team-") for name in names) == 1
    assert "volume-ana" in names
    assert isinstance(spawner.volumes, dict)


async def test_a_server_restarted_with_another_profile_loses_the_old_ones_placement(
    tmp_path, users
):
    """The hub keeps one spawner per server: a profile's nodes and tolerations stay on it
    unless put back before the next start."""
    hub = _hub("all-options", tmp_path)
    spawner = new_spawner(hub.config, users.user("ben", "padre-meddea", "workshop"))
    large = await server_pod(spawner, "large")
    assert large["spec"]["nodeSelector"] == {"node.kubernetes.io/instance-type": "r6i.2xlarge"}
    standard = await server_pod(spawner, "standard")
    assert "node.kubernetes.io/instance-type" not in (standard["spec"].get("nodeSelector") or {})
    keys = {t["key"] for t in standard["spec"]["tolerations"]}
    assert "soc-workspace/large" not in keys
    assert "hub.jupyter.org/dedicated" in keys
    workshop = await server_pod(spawner, "workshop")
    assert workshop["spec"]["priorityClassName"] == f"swx-{NAMESPACE}-workshop"
    again = await server_pod(spawner, "standard")
    assert again["spec"].get("priorityClassName") != f"swx-{NAMESPACE}-workshop"


async def test_admins_write_the_shared_folder(tmp_path, users):
    hub = _hub("all-options", tmp_path)
    pod = await server_pod(new_spawner(hub.config, users.user("root-of-soc", admin=True)))
    assert not _mounts(pod)["/home/jovyan/shared"].get("readOnly")


async def test_settings_apply_at_the_next_start(tmp_path, users):
    hub = _hub("all-options", tmp_path)
    spawner = new_spawner(hub.config, users.user("ana"))
    before = await server_pod(spawner)
    # `helm upgrade` with a new notebook image: the kubelet updates the mounted files
    path = hub.pod.path("/etc/soc-workspace/kubernetes.json")
    k8s = json.loads(path.read_text())
    k8s["image"] = "ghcr.io/swxsoc/workspace-notebook:2026.12.0"
    path.write_text(json.dumps(k8s))
    after = await server_pod(spawner)
    assert _container(after)["image"] == "ghcr.io/swxsoc/workspace-notebook:2026.12.0"
    annotations = (before["metadata"]["annotations"], after["metadata"]["annotations"])
    assert annotations[0][CHECKSUM_ANNOTATION] != annotations[1][CHECKSUM_ANNOTATION]


async def test_user_server_pods_are_selected_by_our_network_policy(tmp_path, users):
    hub = _hub("private-trial", tmp_path)
    pod = await server_pod(new_spawner(hub.config, users.user("ana")))
    policy = find(
        objects(rendered_set("private-trial")), "NetworkPolicy", "soc-workspace-user-servers"
    )
    labels = pod["metadata"]["labels"]
    for key, value in policy["spec"]["podSelector"]["matchLabels"].items():
        assert labels[key] == value
    # and the jupyterhub chart's own singleuser policy
    z2jh = find(objects(rendered_set("private-trial")), "NetworkPolicy", "singleuser")
    for key, value in z2jh["spec"]["podSelector"]["matchLabels"].items():
        assert labels[key] == value


def test_bad_settings_fail_the_hub_with_the_file_named(tmp_path):
    objs = objects(rendered_set("private-trial"))
    settings = find(objs, "ConfigMap", "soc-workspace-settings")
    settings["data"]["kubernetes.json"] = settings["data"]["kubernetes.json"].replace(
        '"serviceAccount"', '"serviceAcount"'
    )
    with pytest.raises(
        ValueError,
        match=r"(?s)soc-workspace: kubernetes.json does not match the chart.*serviceAcount",
    ):
        load_hub(objs, tmp_path / "hub")


def _git(repo, *args):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@x"
    subprocess.run(["git", "-C", str(repo), *args], check=True, env={**os.environ, **env})


async def test_workshop_participants_get_its_profile_and_pull_its_materials(tmp_path, users):
    """A workshop's record in its hub group (as `soc-workspace workshop create --hub` puts
    it): its participants get its profile alone, and their pod pulls its git materials
    nbgitpuller-style after start. The pod's own postStart command runs here, twice."""
    repo = tmp_path / "course"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "01-intro.ipynb").write_text("{}")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    hub = _hub("workshop", tmp_path)
    participant = users.user("intro-01", "intro")
    group = participant.orm_user.groups[0]
    group.properties = {
        WORKSHOP_KEY: {
            "ends": "2099-01-01T00:00:00+00:00",
            "folder": "intro",
            "profile": "workshop",
            "content": {"git": f"file://{repo}", "ref": "main"},
        }
    }
    users.db.commit()
    spawner = new_spawner(hub.config, participant)
    pod = await server_pod(spawner)  # no profile asked for: the workshop's
    assert pod["metadata"]["labels"][PROFILE_LABEL] == "workshop"
    listed = hub.config.KubeSpawner.profile_list(spawner)
    assert [p["slug"] for p in listed] == ["workshop"]
    command = _container(pod)["lifecycle"]["postStart"]["exec"]["command"]
    assert command[:2] == ["sh", "-c"]
    assert "ln -sfn" in command[2]  # the templates link stays
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    subprocess.run(command, env=env, check=True)
    assert (home / "intro" / "01-intro.ipynb").read_text() == "{}"
    (home / "intro" / "01-intro.ipynb").chmod(0o644)
    (home / "intro" / "01-intro.ipynb").write_text('{"mine": 1}')
    (repo / "01-intro.ipynb").write_text('{"fixed": 1}')
    _git(repo, "commit", "-q", "-am", "fix")
    subprocess.run(command, env=env, check=True)  # the next start
    assert (home / "intro" / "01-intro.ipynb").read_text() == '{"mine": 1}'
    assert "01-intro.ipynb" in (home / "intro" / "SKIPPED-UPDATES.txt").read_text()
    # someone not in the workshop keeps the chart's postStart as it is
    other = await server_pod(new_spawner(hub.config, users.user("ana")))
    assert "materials" not in json.dumps(_container(other)["lifecycle"])


def test_workshop_participants_log_in_on_any_hub(tmp_path):
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

    from soc_workspace.hub.workshops import WorkshopLogins

    authenticator = _hub("workshop", tmp_path).config.JupyterHub.authenticator_class
    assert issubclass(authenticator, WorkshopLogins)
    assert issubclass(authenticator, SharedPasswordAuthenticator)
