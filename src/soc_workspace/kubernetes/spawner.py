"""The hub on Kubernetes: the jupyterhub chart's KubeSpawner, set up from the chart's settings.

:func:`configure_hub` is called by the chart's drop-in in ``jupyterhub_config.d``, after the
jupyterhub chart's own ``jupyterhub_config.py`` has configured KubeSpawner from its values
(image, home volume, user-node tolerations and affinity, ...). What is added here builds on
that configuration and never replaces it: the chart's volumes, tolerations and environment
are kept, and the settings are read again before every start.
"""

from __future__ import annotations

import copy
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from traitlets.config import Config

from ..hub.environment import user_environment
from ..hub.gateway import GatewayService, stop_clusters_hook
from ..hub.roles import GATEWAY_SERVICE, add_gateway_service, configure_roles
from ..hub.teams import SHARED_FOLDER, TEAMS_FOLDER, TEMPLATES_FOLDER, teams_of, workshops_of
from .settings import SETTINGS_DIR, ChartSettings, SettingsFiles, check_image

USER_SETTINGS_DIR = "/etc/soc-workspace"
"""Where users' servers mount the chart's user ConfigMap (config.toml, catalogs/)."""
IMAGE_TEMPLATES = "/usr/local/share/soc-workspace/templates"
"""The notebook templates inside the notebook image (images/notebook/Dockerfile)."""
CHECKSUM_ANNOTATION = "soc-workspace.org/settings-checksum"
PROFILE_LABEL = "soc-workspace.org/profile"

# KubeSpawner traits a profile sets. The hub keeps one spawner per server across starts and a
# profile's overrides stay on it, so before each start they go back to the hub's
# configuration: a server started with another profile than last time gets none of the old
# one's nodes, tolerations or priority.
PROFILE_TRAITS = ("node_selector", "tolerations", "priority_class_name")


def _configured(spawner: Any, trait: str) -> Any:
    """A KubeSpawner trait as the hub's configuration sets it (or its default)."""
    for section in ("KubeSpawner", "Spawner"):
        if trait in spawner.config[section]:
            return copy.deepcopy(spawner.config[section][trait])
    return spawner.trait_defaults(trait)


def _with_chart_tolerations(extra: list[dict[str, Any]]) -> Any:
    """A kubespawner_override value: the hub's tolerations (the jupyterhub chart's user-node
    tolerations) and a profile's. KubeSpawner replaces a list override, so it is merged here."""

    def tolerations(spawner: Any) -> list[dict[str, Any]]:
        merged = list(_configured(spawner, "tolerations"))
        merged += [t for t in extra if t not in merged]
        return merged

    return tolerations


def profile_list(chart: ChartSettings, spawner: Any) -> list[dict[str, Any]]:
    """KubeSpawner's ``profile_list`` for this user: the profiles of their groups, in order.

    A workshop's participants get the workshop's profile only (when the chart has it).
    """
    k = chart.kubernetes
    groups = {group.name for group in spawner.user.groups}
    chosen = next((w["profile"] for w in workshops_of(spawner) if w.get("profile")), None)
    listed = []
    for slug, profile in sorted(k.profiles.items(), key=lambda item: (item[1].order, item[0])):
        if chosen in k.profiles and slug != chosen:
            continue
        if profile.groups and not groups.intersection(profile.groups) and slug != chosen:
            continue
        override: dict[str, Any] = {
            "cpu_guarantee": profile.cpu.guarantee,
            "cpu_limit": profile.cpu.limit,
            "mem_guarantee": profile.memory.guarantee,
            "mem_limit": profile.memory.limit,
            "environment": {"SOC_WORKSPACE_KERNELS": ",".join(profile.kernels)},
            "extra_labels": {PROFILE_LABEL: slug},
        }
        if profile.node_selector:
            override["node_selector"] = dict(profile.node_selector)
        if profile.tolerations:
            override["tolerations"] = _with_chart_tolerations(
                [dict(t) for t in profile.tolerations]
            )
        if k.workshop is not None and k.workshop.profile == slug:
            override["priority_class_name"] = k.workshop.priority_class_name
        listed.append(
            {
                "slug": slug,
                "display_name": profile.display_name,
                "description": profile.description,
                "default": profile.default or slug == chosen,
                "kubespawner_override": override,
            }
        )
    if not listed:
        spawner.log.warning("No profile is open to %s's groups %s", spawner.user.name, groups)
    return listed


def server_environment(chart: ChartSettings) -> dict[str, str]:
    """Variables of every user's server: soc_workspace.hub's, and where the chart puts things."""
    k = chart.kubernetes
    env = user_environment(
        chart.settings,
        gateway_address=k.gateway.address,
        gateway_proxy_address=k.gateway.proxy_address,
        gateway_public_address=k.gateway.public_address,
    )
    env.update(
        SOC_WORKSPACE_CONFIG=f"{USER_SETTINGS_DIR}/config.toml",
        SOC_WORKSPACE_LOCAL_DIR=k.jupyter.local_dir,
        JUPYTER_RUNTIME_DIR=f"{k.jupyter.local_dir}/runtime",
        SOC_WORKSPACE_KERNEL_IDLE_TIMEOUT=str(k.jupyter.kernel_idle_timeout_seconds),
    )
    if k.catalog_files:
        env["SOC_WORKSPACE_CATALOGS"] = f"{USER_SETTINGS_DIR}/catalogs"
    return env


def server_volumes(
    chart: ChartSettings, teams: list[str], *, admin: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts of a user's server: settings, pod-local state, team folders."""
    k = chart.kubernetes
    items = [{"key": "config.toml", "path": "config.toml"}] + [
        {"key": f"catalog-{name}", "path": f"catalogs/{name}"} for name in k.catalog_files
    ]
    volumes: list[dict[str, Any]] = [
        {
            "name": "soc-workspace-settings",
            "configMap": {"name": k.user_config_map, "items": items},
        },
        # Jupyter's runtime files and SQLite databases: never on the (NFS) home volume.
        {"name": "soc-workspace-local", "emptyDir": {"sizeLimit": k.jupyter.local_dir_size_limit}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "soc-workspace-settings", "mountPath": USER_SETTINGS_DIR, "readOnly": True},
        {"name": "soc-workspace-local", "mountPath": k.jupyter.local_dir},
    ]
    home = k.home_mount_path.rstrip("/")
    if k.teams.enabled:
        for team in teams:
            claim = k.teams.claims.get(team)
            if claim is None:
                continue  # a hub group that is no team of the chart's
            volumes.append({"name": f"team-{team}", "persistentVolumeClaim": {"claimName": claim}})
            mounts.append({"name": f"team-{team}", "mountPath": f"{home}/{TEAMS_FOLDER}/{team}"})
        if k.teams.shared.enabled:
            volumes.append(
                {
                    "name": "shared",
                    "persistentVolumeClaim": {"claimName": k.teams.shared.claim_name},
                }
            )
            mounts.append(
                {"name": "shared", "mountPath": f"{home}/{SHARED_FOLDER}", "readOnly": not admin}
            )
    return volumes, mounts


def _ours(entry: Mapping[str, Any]) -> bool:
    """A volume or mount :func:`server_volumes` adds (by its name)."""
    name = entry["name"]
    return name == "shared" or name.startswith(("soc-workspace-", "team-"))


def _replace_ours(existing: Any, added: list[dict[str, Any]]) -> Any:
    """``existing`` (KubeSpawner's volumes or volume_mounts: a list, or a dict whose values
    are the entries, as the jupyterhub chart sets them) without what we added before, plus
    ``added``; in the same shape."""
    if isinstance(existing, Mapping):
        kept = {key: entry for key, entry in existing.items() if not _ours(entry)}
        # KubeSpawner sorts dict entries by key: ours after the chart's home volume
        ours = {f"soc-workspace-{i:02d}-{e['name']}": e for i, e in enumerate(added)}
        return {**kept, **ours}
    return [entry for entry in existing if not _ours(entry)] + added


def prepare_server(chart: ChartSettings, spawner: Any) -> None:
    """Set a KubeSpawner up for the next start with the chart's current settings.

    Idempotent: the hub keeps one spawner per server across restarts, so what this adds
    replaces what it added before, and what a profile set goes back to the configuration.
    """
    k = chart.kubernetes
    for trait in PROFILE_TRAITS:
        setattr(spawner, trait, _configured(spawner, trait))
    spawner.image = check_image(k.image)
    spawner.service_account = k.service_account
    spawner.automount_service_account_token = False
    # KubeSpawner expands "{username}"-style templates in environment values with str.format,
    # so literal braces (the JSON of some settings) must be doubled to arrive unchanged.
    ours = {
        key: value.replace("{", "{{").replace("}", "}}")
        for key, value in server_environment(chart).items()
    }
    spawner.environment = {**spawner.environment, **ours}
    volumes, mounts = server_volumes(chart, teams_of(spawner), admin=bool(spawner.user.admin))
    spawner.volumes = _replace_ours(spawner.volumes, volumes)
    spawner.volume_mounts = _replace_ours(spawner.volume_mounts, mounts)
    spawner.extra_annotations = {**spawner.extra_annotations, CHECKSUM_ANNOTATION: chart.checksum}
    spawner.lifecycle_hooks = lifecycle_hooks(
        _configured(spawner, "lifecycle_hooks"), workshops_of(spawner)
    )


def materials_commands(workshops: list[dict[str, Any]]) -> list[str]:
    """Shell commands that pull each workshop's materials (git) into ``~/<folder>``.

    nbgitpuller-style (:mod:`soc_workspace.workshop.materials`): a participant's edits are
    never overwritten; what was skipped is named in the folder's SKIPPED-UPDATES.txt. A
    failed pull never fails the server: its output is in the folder's .workshop-pull.log.
    """
    commands = []
    for record in workshops:
        content = record.get("content") or {}
        if not content.get("git"):
            continue
        source = f"{content['git']}@{content['ref']}" if content.get("ref") else content["git"]
        folder = f'"$HOME"/{shlex.quote(record.get("folder") or record["name"])}'
        commands.append(
            f"mkdir -p {folder} && python -m soc_workspace.workshop.materials "
            f"{shlex.quote(source)} {folder} > {folder}/.workshop-pull.log 2>&1 || true"
        )
    return commands


def lifecycle_hooks(configured: Any, workshops: list[dict[str, Any]]) -> Any:
    """The server's lifecycle hooks: the configured ones, with the pulls of the user's
    workshops' materials after the configured postStart command."""
    commands = materials_commands(workshops)
    if not commands:
        return configured
    hooks = copy.deepcopy(configured or {})
    first = (hooks.get("postStart") or {}).get("exec", {}).get("command")
    before = [shlex.join(first) + " || true"] if first else []
    hooks["postStart"] = {"exec": {"command": ["sh", "-c", " ; ".join(before + commands)]}}
    return hooks


def _token_of_service(c: Config, name: str) -> str | None:
    """The API token the jupyterhub chart gave a service (the dask-gateway chart reads it)."""
    for service in c.JupyterHub.get("services", []):
        if service.get("name") == name:
            return service.get("api_token")
    return None


def _add_workshop_logins(c: Config) -> None:
    """Workshop participants log in with their workshop password, whatever the hub's own
    authenticator (an OAuth one keeps its button; participants use /hub/workshop-login)."""
    from ..hub.workshops import authenticator_class_of, with_workshop_logins

    configured = c.JupyterHub.get("authenticator_class")
    found = authenticator_class_of(configured)
    if found is None:
        import logging

        logging.getLogger(__name__).warning(
            "Workshop logins are off: the authenticator %r cannot be loaded here", configured
        )
        return
    c.JupyterHub.authenticator_class = with_workshop_logins(found)


def configure_hub(c: Config, *, settings_dir: Path | str | None = None) -> None:
    """Configure the jupyterhub chart's hub (called by the chart's jupyterhub_config.d drop-in).

    From soc_workspace.hub: the ``user`` role and token scopes for the gateway, the gateway as
    a hub service (keeping the token the jupyterhub chart made for it), users' environment,
    stopping users' clusters with their servers. Kubernetes' part: KubeSpawner profiles from
    the chart (resources, kernels, groups), team and shared volumes, the user ServiceAccount,
    pod-local Jupyter state, the settings checksum on each server. Authentication, idle
    culling, timeouts and the default URL stay the jupyterhub chart's (its values).
    """
    if settings_dir is None:
        config = os.environ.get("SOC_WORKSPACE_CONFIG")
        settings_dir = Path(config).parent if config else SETTINGS_DIR
    files = SettingsFiles(settings_dir)
    chart = files.current()  # fail at hub start, with the file named, if the settings are bad
    k = chart.kubernetes
    gateway = GatewayService(
        address=k.gateway.address,
        proxy_address=k.gateway.proxy_address,
        url=k.gateway.service_url,
        public_address=k.gateway.public_address,
        api_token=_token_of_service(c, GATEWAY_SERVICE),
    )
    if gateway.api_token is None:
        raise ValueError(
            "jupyterhub.hub.services.dask-gateway is missing: the chart's values register the "
            "gateway as a hub service, whose token the gateway uses"
        )
    configure_roles(c, gateway_service=gateway.name)
    add_gateway_service(c, url=gateway.url, api_token=gateway.api_token, name=gateway.name)

    c.KubeSpawner.profile_list = lambda spawner: profile_list(files.current(), spawner)
    _add_workshop_logins(c)
    previous_pre_spawn = c.KubeSpawner.get("pre_spawn_hook")

    async def pre_spawn_hook(spawner: Any) -> None:
        if previous_pre_spawn is not None:
            result = previous_pre_spawn(spawner)
            if hasattr(result, "__await__"):
                await result
        prepare_server(files.current(), spawner)

    c.KubeSpawner.pre_spawn_hook = pre_spawn_hook
    if not c.KubeSpawner.get("lifecycle_hooks"):
        # ~/templates: the notebook templates of the image (read-only there)
        link = f'ln -sfn {IMAGE_TEMPLATES} "$HOME/{TEMPLATES_FOLDER}" || true'
        c.KubeSpawner.lifecycle_hooks = {"postStart": {"exec": {"command": ["sh", "-c", link]}}}
    if k.gateway.stop_clusters_with_server:
        c.KubeSpawner.post_stop_hook = stop_clusters_hook(
            gateway.address, service=gateway.name, previous=c.KubeSpawner.get("post_stop_hook")
        )
