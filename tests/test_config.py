"""Settings: defaults file, user file, SOC_WORKSPACE__ variables, AWS variables."""

from __future__ import annotations

import pytest
from conftest import PROJECT_ROOT
from pydantic import ValidationError

from soc_workspace.config import (
    DEFAULTS_FILE,
    current_settings,
    describe_settings,
    load_settings,
)
from soc_workspace.store import storage_options


def test_defaults_file_documents_every_setting():
    text = DEFAULTS_FILE.read_text()
    for row in describe_settings(load_settings()):
        name = row.key.rsplit(".", 1)[-1]
        assert f"\n{name} = " in text, name
        # the line before each setting is a comment saying what it is
        before = text.split(f"\n{name} = ", 1)[0].rstrip().rsplit("\n", 1)[-1]
        assert before.startswith(("#", "[")), name


def test_defaults():
    s = load_settings()
    assert s.stage == "prod"
    assert s.store.credentials == "environment"
    assert s.store.resolved_endpoint_url is None


def test_precedence_user_file_then_environment(tmp_path, monkeypatch):
    user = tmp_path / "config.toml"
    user.write_text('stage = "dev"\n[store]\nendpoint_url = "http://file:1"\nmax_attempts = 2\n')
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(user))
    s = load_settings()
    assert (s.stage, s.store.endpoint_url, s.store.max_attempts) == (
        "dev",
        "http://file:1",
        2,
    )
    assert s.store.region == "us-east-1"  # untouched keys keep their defaults

    monkeypatch.setenv("SOC_WORKSPACE__STORE__ENDPOINT_URL", "http://env:2")
    s = load_settings()
    assert s.store.endpoint_url == "http://env:2"
    origins = {r.key: r.source for r in describe_settings(s)}
    assert origins["store.endpoint_url"].startswith("environment")
    assert origins["store.max_attempts"].startswith("user file")
    assert origins["store.region"] == "defaults"


def test_xdg_user_file_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "soc-workspace").mkdir()
    (tmp_path / "soc-workspace" / "config.toml").write_text('stage = "dev"\n')
    assert load_settings().stage == "dev"


def test_typos_are_errors_naming_the_key(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__STORE__ENDPOINTURL", "http://x")
    with pytest.raises(ValidationError, match="endpointurl"):
        load_settings()


def test_bad_values_are_errors(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__STAGE", "staging")
    with pytest.raises(ValidationError, match="stage"):
        load_settings()


def test_missing_named_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_settings()


def test_broken_toml_names_the_file(monkeypatch, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("stage = \n")
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(bad))
    with pytest.raises(ValueError, match=r"bad\.toml"):
        load_settings()


def test_settings_file_not_in_utf8_names_the_file(monkeypatch, tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[hub]\nadmin_user = "jos\xe9"\n'.encode("latin-1"))
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(bad))
    with pytest.raises(ValueError, match=r"latin1\.toml: not UTF-8 text .*save it as UTF-8"):
        load_settings()


def test_scratch_must_not_be_a_pipeline_bucket(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__SCRATCH__URL", "s3://dev-padre-meddea/me")
    with pytest.raises(ValidationError, match="pipeline buckets"):
        load_settings()


def test_aws_endpoint_variables_are_honoured_like_boto3(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://generic:1")
    assert load_settings().store.resolved_endpoint_url == "http://generic:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://s3-specific:2")
    assert load_settings().store.resolved_endpoint_url == "http://s3-specific:2"
    monkeypatch.setenv("SOC_WORKSPACE__STORE__ENDPOINT_URL", "http://ours:3")
    assert storage_options()["endpoint_url"] == "http://ours:3"


def test_credentials_modes(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__STORE__CREDENTIALS", "anonymous")
    assert storage_options()["anon"] is True
    monkeypatch.setenv("SOC_WORKSPACE__STORE__CREDENTIALS", "profile")
    monkeypatch.setenv("AWS_PROFILE", "soc-readonly")
    assert storage_options()["profile"] == "soc-readonly"
    monkeypatch.setenv("SOC_WORKSPACE__STORE__PROFILE", "explicit")
    assert storage_options()["profile"] == "explicit"
    monkeypatch.setenv("SOC_WORKSPACE__STORE__CREDENTIALS", "environment")
    opts = storage_options()
    assert "anon" not in opts  # boto3's own chain decides
    assert "profile" not in opts


def test_region_other_than_us_east_1_is_passed(monkeypatch):
    assert "client_kwargs" not in storage_options()
    monkeypatch.setenv("SOC_WORKSPACE__STORE__REGION", "eu-west-1")
    assert storage_options()["client_kwargs"] == {"region_name": "eu-west-1"}


# -- the prod/dev choice is "stage"; its old name "environment" still works, and warns ------


def test_the_old_name_of_stage_works_and_warns_in_every_source(tmp_path, monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__ENVIRONMENT", "dev")
    with pytest.warns(FutureWarning, match="SOC_WORKSPACE__ENVIRONMENT.*now called 'stage'"):
        settings = load_settings()
    assert settings.stage == "dev"
    monkeypatch.delenv("SOC_WORKSPACE__ENVIRONMENT")

    user = tmp_path / "config.toml"
    user.write_text('environment = "dev"\n')
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(user))
    with pytest.warns(FutureWarning, match=r"config\.toml.*now called 'stage'"):
        settings = load_settings()
    assert settings.stage == "dev"
    assert {r.key: r.source for r in describe_settings(settings)}["stage"].startswith("user file")

    monkeypatch.delenv("SOC_WORKSPACE_CONFIG")
    with pytest.warns(FutureWarning, match=r"load_settings\(environment=\.\.\.\)"):
        assert load_settings(environment="prod").stage == "prod"
    with pytest.warns(FutureWarning, match="settings.stage"):
        assert settings.environment == "dev"


def test_the_new_name_wins_over_the_old_one_of_a_lower_source(tmp_path, monkeypatch):
    user = tmp_path / "config.toml"
    user.write_text('environment = "dev"\n')
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(user))
    monkeypatch.setenv("SOC_WORKSPACE__STAGE", "prod")
    with pytest.warns(FutureWarning):
        assert load_settings().stage == "prod"


def test_a_bad_old_name_value_is_an_error_naming_stage(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__ENVIRONMENT", "staging")
    with pytest.raises(ValidationError, match="stage"), pytest.warns(FutureWarning):
        load_settings()


# -- one way to the settings: current_settings(), cached, refreshed on change ------------


def test_current_settings_are_read_once_and_again_after_a_change(tmp_path, monkeypatch):
    first = current_settings()
    assert current_settings() is first  # cached: no second read

    monkeypatch.setenv("SOC_WORKSPACE__STORE__MAX_ATTEMPTS", "7")
    changed = current_settings()
    assert changed is not first
    assert changed.store.max_attempts == 7

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://boto:1")
    assert current_settings().store.resolved_endpoint_url == "http://boto:1"

    user = tmp_path / "config.toml"
    user.write_text('stage = "dev"\n')
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(user))
    assert current_settings().stage == "dev"
    user.write_text('stage = "prod"\n[io]\nmax_workers = 3\n')  # same file, new content
    assert (current_settings().stage, current_settings().io.max_workers) == ("prod", 3)


def test_library_code_reaches_settings_only_through_current_settings():
    """One way to the settings: a module that reads them without arguments calls
    current_settings(); load_settings() is for callers who pass overrides."""
    import re

    source = PROJECT_ROOT / "src" / "soc_workspace"
    offenders = [
        f"{path.relative_to(source)}:{number}"
        for path in source.rglob("*.py")
        if path.name != "config.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bload_settings\(\s*\)", line)
    ]
    assert not offenders, offenders
