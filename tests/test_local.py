"""soc_workspace.local's parts that need no running workspace."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from dask_gateway_server.backends.base import PublicException

from soc_workspace.local import accounts, folders
from soc_workspace.local.paths import StatePaths
from soc_workspace.local.userenv import reachable_by_others

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="system accounts need root")


@root_only
def test_existing_system_accounts_are_never_used_for_hub_users(tmp_path):
    with pytest.raises(accounts.AccountError, match="did not create"):
        accounts.ensure_account("root", tmp_path / "home")
    assert not accounts.is_workspace_account("root")


@root_only
def test_gateway_refuses_clusters_for_accounts_it_did_not_create():
    from soc_workspace.local.gateway import SystemUserBackend

    backend = SystemUserBackend()
    with pytest.raises(PublicException, match="no workspace system account"):
        asyncio.run(backend.start_cluster(SimpleNamespace(name="root", groups=set()), {}))


def test_reachable_by_others(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "f").write_text("x")
    assert not reachable_by_others(private / "f")
    private.chmod(0o755)
    tmp_path.chmod(0o755)
    assert reachable_by_others(private / "f") == all(
        p.stat().st_mode & 0o001 for p in (private / "f").resolve().parents
    )


def test_templates_are_copied_read_only(tmp_path):
    count = folders.copy_templates(tmp_path / "templates")
    assert count >= 1
    notebook = tmp_path / "templates" / "quickstart.ipynb"
    assert oct(notebook.stat().st_mode & 0o777) == "0o444"
    assert folders.copy_templates(tmp_path / "templates") == count  # refresh works


def test_home_links_follow_team_membership(tmp_path):
    paths = StatePaths(tmp_path)
    folders.prepare_state_dir(paths, multi_user=False)
    home = tmp_path / "home" / "a"
    home.mkdir(parents=True)
    (home / "shared").mkdir()  # a user's own folder of that name is kept
    for team in ("helio", "padre"):
        folders.ensure_team_folder(paths, team)
    folders.link_folders(paths, home, ["helio", "padre"])
    assert sorted(p.name for p in (home / "teams").iterdir()) == ["helio", "padre"]
    assert (home / "shared-workspace").resolve() == paths.shared
    assert (home / "templates" / "quickstart.ipynb").exists()
    folders.link_folders(paths, home, ["padre"])
    assert [p.name for p in (home / "teams").iterdir()] == ["padre"]
    assert Path(os.readlink(home / "teams" / "padre")) == paths.teams / "padre"
