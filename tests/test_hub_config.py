"""soc_workspace.hub, and the one-machine workspace's use of it (no processes started).

Kubernetes' use of soc_workspace.hub is tested inside the real charts (tests/helm).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import UnsafeLocalBackend
from traitlets.config import Config

from soc_workspace.config import load_settings
from soc_workspace.hub import (
    GatewayService,
    cluster_options,
    configure_gateway,
    configure_hub,
    limits_for,
    team_names,
    with_cluster_limits,
)
from soc_workspace.hub.workshops import WORKSHOP_KEY
from soc_workspace.local.gateway import LocalGateway, configure_local_backend
from soc_workspace.local.profiles import configure_profiles
from soc_workspace.local.runtime import STARTUP_FILE

GATEWAY = GatewayService(
    address="http://127.0.0.1:8000/services/dask-gateway",
    proxy_address="gateway://127.0.0.1:8001",
    url="http://127.0.0.1:8002",
    command=["python", "-m", "dask_gateway_server"],
)


def hub_config(**settings):
    c = Config()
    configure_hub(
        c,
        load_settings(**settings),
        gateway=GATEWAY,
        admin_password="x" * 32,
        operator_token="t" * 64,
    )
    configure_profiles(c, load_settings(**settings))
    return c


def test_users_may_use_the_gateway_from_their_servers():
    c = hub_config()
    user = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert "access:services!service=dask-gateway" in user["scopes"]
    assert "self" in user["scopes"]
    scopes = c.Spawner.server_token_scopes
    assert "access:services!service=dask-gateway" in scopes
    assert "read:users:groups!user" in scopes  # the gateway chooses limits by group
    assert "users:activity!user" in scopes


def test_roles_merge_with_other_config():
    c = Config()
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["read:hub"]}]
    configure_hub(c, load_settings(), gateway=GATEWAY)
    user = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert user["scopes"][:2] == ["read:hub", "self"]


def test_gateway_service_managed_by_the_hub():
    services = {s["name"]: s for s in hub_config().JupyterHub.services}
    assert services["dask-gateway"]["command"] == list(GATEWAY.command)
    assert services["dask-gateway"]["url"] == GATEWAY.url
    assert services["soc-workspace"]["api_token"] == "t" * 64


def test_user_environment_points_at_gateway_store_and_catalog():
    c = hub_config(catalog={"url": "s3://soc-catalogs/", "cache_dir": ""})
    env = c.Spawner.environment
    assert env["DASK_GATEWAY__ADDRESS"] == GATEWAY.address
    assert env["DASK_GATEWAY__PROXY_ADDRESS"] == GATEWAY.proxy_address
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert env["SOC_WORKSPACE__CATALOG__URL"] == "s3://soc-catalogs/"
    assert env["SOC_WORKSPACE__STAGE"] == "prod"
    assert c.Spawner.default_url == "/lab"


def test_notebooks_plot_without_a_cdn(tmp_path):
    env = hub_config().Spawner.environment
    assert env["PANEL_INLINE"] == "true"
    startup = Path(STARTUP_FILE)  # local servers' PYTHONSTARTUP (tests/test_workspace.py)
    # the start-up file runs in every kernel, also mission kernels without soc_workspace
    code = (
        "import sys; sys.modules['soc_workspace'] = None\n"  # not importable there
        f"exec(open({str(startup)!r}).read())\n"
        "import holoviews, hvplot\n"
        "print(holoviews.extension.inline, hvplot.extension.inline)\n"
        "print(sorted(n for n in dir() if 'soc' in n.lower()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.split("\n")
    assert out[:2] == ["True True", "[]"]


def test_authenticators():
    native = hub_config()
    assert native.JupyterHub.authenticator_class.__name__ == "WorkspaceNativeAuthenticator"
    assert native.NativeAuthenticator.open_signup is False
    assert native.Authenticator.admin_users == {"admin"}
    shared = hub_config(hub={"authenticator": "shared-password", "shared_password": "workshop1"})
    assert shared.JupyterHub.authenticator_class.__name__ == "WorkspaceSharedPasswordAuthenticator"
    # JupyterHub's own shared-password login, with the workspace's user-name rules on top
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

    assert issubclass(shared.JupyterHub.authenticator_class, SharedPasswordAuthenticator)
    assert shared.SharedPasswordAuthenticator.user_password == "workshop1"
    with pytest.raises(ValueError, match="shared_password"):
        hub_config(hub={"authenticator": "shared-password"})


def test_idle_servers_stop_and_take_their_clusters_along():
    c = hub_config(hub={"server_idle_timeout": 3600})
    assert "--ServerApp.shutdown_no_activity_timeout=3600" in c.Spawner.args
    assert callable(c.Spawner.post_stop_hook)


def test_profiles_form_only_when_there_is_a_choice():
    one = hub_config()
    assert "options_form" not in one.Spawner
    two = hub_config(
        hub={
            "profiles": {
                "standard": {"display_name": "Standard", "cpu_limit": 2, "mem_limit": "8G"},
                "large": {"display_name": "Large", "cpu_limit": 8, "mem_limit": "32G"},
            }
        }
    )

    def spawner(*groups):
        user = SimpleNamespace(groups=[SimpleNamespace(name=n, properties=p) for n, p in groups])
        return SimpleNamespace(cpu_limit=None, mem_limit=None, user=user)

    someone = spawner(("helio", {}))
    assert 'value="large"' in two.Spawner.options_form(someone)
    two.Spawner.apply_user_options(someone, {"profile": "large"})
    assert (someone.cpu_limit, someone.mem_limit) == (8, 32 * 2**30)
    with pytest.raises(ValueError, match="choose one of: standard, large"):
        two.Spawner.apply_user_options(someone, {"profile": "huge"})
    # a workshop's participants get its profile, without the choice
    participant = spawner(("intro", {WORKSHOP_KEY: {"profile": "large", "ends": "2099-01-01"}}))
    assert two.Spawner.options_form(participant) == ""
    two.Spawner.apply_user_options(participant, {})
    assert participant.cpu_limit == 8


def test_group_limits_take_the_largest():
    settings = load_settings(
        gateway={
            "group_limits": {
                "helio": {"max_workers": 16, "max_memory": "64 G"},
                "workshop": {"max_workers": 2, "max_clusters_per_user": 0},
            }
        }
    )
    plain = limits_for(settings, [])
    assert (plain.max_workers, plain.max_memory, plain.max_clusters_per_user) == (4, 8 * 2**30, 2)
    both = limits_for(settings, ["helio", "workshop", "unknown"])
    assert (both.max_workers, both.max_memory, both.max_clusters_per_user) == (16, 64 * 2**30, 0)


def test_cluster_options_are_bounded_by_the_users_limits():
    settings = load_settings(gateway={"group_limits": {"helio": {"max_memory": "64 G"}}})
    options_for = cluster_options(settings)
    plain = options_for(SimpleNamespace(name="a", groups=set()))
    config = plain.get_configuration(plain.parse_options({"worker_memory": 4}), None)
    assert config["worker_memory"] == 4 * 2**30
    assert config["cluster_max_workers"] == 4
    assert config["idle_timeout"] == 1800
    with pytest.raises(ValueError, match="worker_memory"):
        plain.parse_options({"worker_memory": 32})
    helio = options_for(SimpleNamespace(name="b", groups={"helio"}))
    assert helio.parse_options({"worker_memory": 32})["worker_memory"] == 32


def test_local_gateway_config():
    from soc_workspace.local.gateway import SystemUserBackend

    c = Config()
    configure_gateway(c, load_settings())
    configure_local_backend(
        c,
        LocalGateway(
            http_address="127.0.0.1:9001",
            tcp_address="127.0.0.1:9002",
            dask="/venv/bin/dask",
            isolation="multi-user",
            environment={"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9003"},
        ),
    )
    assert c.DaskGateway.backend_class is SystemUserBackend
    assert c.DaskGateway.authenticator_class.endswith("JupyterHubAuthenticator")
    assert c.ClusterConfig.scheduler_cmd == ["/venv/bin/dask", "scheduler"]
    assert c.ClusterConfig.worker_cmd == ["/venv/bin/dask", "worker"]
    assert c.Proxy.tcp_address == "127.0.0.1:9002"
    assert c.WorkspaceBackendMixin.default_host == "127.0.0.1"
    assert c.ClusterConfig.environment["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:9003"


def test_backends_bind_loopback_not_all_interfaces():
    from dask_gateway_server.backends.db_base import DBBackendBase

    from soc_workspace.local.gateway import PersonalBackend, SystemUserBackend

    assert DBBackendBase.default_host == "0.0.0.0"  # upstream's default
    for backend in (PersonalBackend, SystemUserBackend):
        assert backend.class_traits()["default_host"].default_value == "127.0.0.1"


def test_cluster_count_limit():
    class Counted(with_cluster_limits(UnsafeLocalBackend)):
        """The real limit check; only the cluster list and the start are stand-ins."""

        running: int = 0

        async def list_clusters(self, username=None, statuses=None):
            return [object()] * self.running

    async def start(backend, user):
        # the limit is checked before the backend's own start_cluster, which needs a database
        try:
            return await backend.start_cluster(user, {})
        except PublicException as err:
            return str(err)
        except AttributeError:  # past the check: the real start needs the gateway's database
            return "started"

    backend = Counted(max_clusters=2)
    user = SimpleNamespace(name="a", groups=set())
    backend.running = 1
    assert asyncio.run(start(backend, user)) == "started"
    backend.running = 2
    assert "already runs 2 Dask cluster(s)" in asyncio.run(start(backend, user))


def test_team_names():
    assert team_names(["helio", "Bad Name", "padre-team", "x" * 30]) == ["helio", "padre-team"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "a user name is needed"),
        ("a" * 33, "the name has 33 characters; at most 32"),
        ("1abc", "must start with a lower-case letter"),
        ("_abc", "must start with a lower-case letter"),
        ("éva", "must start with a lower-case letter"),
        ("eva.b", "not '.'"),
        ("eva b", "not ' '"),
        ("evä", "not 'ä'"),
    ],
)
def test_user_names_are_refused_with_the_reason(name, reason):
    from soc_workspace.hub.auth import username_problem

    assert reason in username_problem(name)


def test_good_user_names_pass():
    from soc_workspace.hub.auth import username_problem

    for name in ("eva", "eva-b", "e_2", "a" * 32):
        assert username_problem(name) is None
