"""Settings: defaults file, user file, SOC_WORKSPACE__ variables, AWS variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from soc_workspace.config import DEFAULTS_FILE, describe_settings, load_settings
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
    assert s.environment == "prod"
    assert s.store.credentials == "environment"
    assert s.store.resolved_endpoint_url is None


def test_precedence_user_file_then_environment(tmp_path, monkeypatch):
    user = tmp_path / "config.toml"
    user.write_text(
        'environment = "dev"\n[store]\nendpoint_url = "http://file:1"\nmax_attempts = 2\n'
    )
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(user))
    s = load_settings()
    assert (s.environment, s.store.endpoint_url, s.store.max_attempts) == (
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
    (tmp_path / "soc-workspace" / "config.toml").write_text('environment = "dev"\n')
    assert load_settings().environment == "dev"


def test_typos_are_errors_naming_the_key(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__STORE__ENDPOINTURL", "http://x")
    with pytest.raises(ValidationError, match="endpointurl"):
        load_settings()


def test_bad_values_are_errors(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__ENVIRONMENT", "staging")
    with pytest.raises(ValidationError, match="environment"):
        load_settings()


def test_missing_named_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_settings()


def test_broken_toml_names_the_file(monkeypatch, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("environment = \n")
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
