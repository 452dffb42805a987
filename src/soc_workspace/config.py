"""Settings: the shipped defaults file, a user file, then ``SOC_WORKSPACE__...`` variables.

The defaults and their documentation live in ``defaults.toml`` beside this module; the models
below only give them types. The standard AWS variables (``AWS_ENDPOINT_URL_S3``,
``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``, ...) keep the meaning boto3 gives them: they apply
wherever our own settings leave a value empty.

Code reads them with :func:`current_settings` (read once, again only when a settings file or
variable changed); :func:`load_settings` reads them afresh, with overrides.

>>> settings = current_settings()
>>> settings.stage in ("prod", "dev")
True
"""

from __future__ import annotations

import os
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "SOC_WORKSPACE__"
CONFIG_FILE_VARIABLE = "SOC_WORKSPACE_CONFIG"
DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
# Settings renamed in 0.2, old name -> new name; the old names still work, with a warning,
# until 0.3. "environment" now means only a mission's Python (calibration.environments).
RENAMED = {"environment": "stage"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    endpoint_url: str
    credentials: Literal["anonymous", "environment", "profile"]
    profile: str
    region: str
    max_attempts: int

    @property
    def resolved_endpoint_url(self) -> str | None:
        """The endpoint in effect: ours, else boto3's variables, else None (AWS or ~/.aws)."""
        return (
            self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )

    @property
    def resolved_profile(self) -> str | None:
        if self.credentials != "profile":
            return None
        return self.profile or os.environ.get("AWS_PROFILE") or None


class ScratchSettings(_Section):
    url: str

    @field_validator("url")
    @classmethod
    def _not_a_pipeline_bucket(cls, url: str) -> str:
        from .missions import bucket_of, is_pipeline_bucket

        if not url.startswith("s3://") and "://" in url:
            return url
        if not is_pipeline_bucket(bucket_of(url)):
            return url
        raise ValueError(
            f"scratch url {url!r} is a SOC instrument bucket; outputs never go to pipeline "
            "buckets: choose a bucket of your own"
        )


class CatalogSettings(_Section):
    url: str
    cache_dir: str
    max_age: float
    events_queue: str

    @property
    def resolved_cache_dir(self) -> Path:
        if self.cache_dir:
            return Path(self.cache_dir).expanduser()
        return _xdg("XDG_CACHE_HOME", ".cache") / "soc-workspace" / "catalog"


class IOSettings(_Section):
    max_workers: int
    whole_object_mb: float
    cache_mb: float

    @field_validator("max_workers")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"io.max_workers must be at least 1, not {value}")
        return value


class EmbeddedStoreSettings(_Section):
    host: str
    port: int
    state_dir: str

    @property
    def resolved_state_dir(self) -> Path:
        if self.state_dir:
            return Path(self.state_dir).expanduser()
        return _xdg("XDG_DATA_HOME", ".local/share") / "soc-workspace" / "store"


class CalibrationSettings(_Section):
    environments: dict[str, str]
    environments_dir: str
    packages: dict[str, str]
    timeout: float
    pass_env: list[str]
    reuse_interpreters: bool
    offline_git: bool
    work_dir: str
    ignore_attributes: list[str]
    jupyter_data_dir: str

    @property
    def resolved_environments_dir(self) -> Path:
        if self.environments_dir:
            return Path(self.environments_dir).expanduser()
        return _xdg("XDG_DATA_HOME", ".local/share") / "soc-workspace" / "environments"


_MEMORY_UNITS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_memory(value: str | int, setting: str = "memory") -> int:
    """Bytes in ``"8G"``, ``"2 G"``, ``"512M"``: binary units K, M, G, T, as dask-gateway reads.

    >>> parse_memory("2 G")
    2147483648
    """
    if isinstance(value, int):
        return value
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    try:
        if text[-1:] in _MEMORY_UNITS:
            return int(float(text[:-1]) * _MEMORY_UNITS[text[-1]])
        return int(float(text))
    except ValueError:
        raise ValueError(
            f"{setting} = {value!r} is not an amount of memory: expected a number with a unit "
            'K, M, G or T, e.g. "8 G"'
        ) from None


def _memory(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        parse_memory(value, info.field_name or "memory")
    return value


class DaskSettings(_Section):
    version_check: Literal["refuse", "warn", "off"]


class WorkspaceSettings(_Section):
    state_dir: str
    host: str
    port: int = Field(ge=0, le=65535)
    isolation: Literal["personal", "multi-user"]
    demo_days: int = Field(ge=0)
    start_timeout: float = Field(gt=0)
    user_nice: int = Field(ge=0, le=19)
    compute_nice: int = Field(ge=0, le=19)

    @property
    def resolved_state_dir(self) -> Path:
        if self.state_dir:
            return Path(self.state_dir).expanduser().absolute()
        return (_xdg("XDG_DATA_HOME", ".local/share") / "soc-workspace").absolute()


class ProfileSettings(_Section):
    display_name: str
    description: str = ""
    cpu_limit: float | None = Field(default=None, gt=0)
    mem_limit: str | None = None

    _check_memory = field_validator("mem_limit")(_memory)


class HubSettings(_Section):
    authenticator: Literal["native", "shared-password"]
    admin_user: str = Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    open_signup: bool
    minimum_password_length: int = Field(ge=1)
    shared_password: str
    default_url: str
    server_idle_timeout: float = Field(ge=0)
    start_timeout: float = Field(gt=0)
    http_timeout: float = Field(gt=0)
    concurrent_spawn_limit: int = Field(ge=0)
    spawn_slots: int = Field(ge=0)
    profiles: dict[str, ProfileSettings] = Field(min_length=1)

    @field_validator("shared_password")
    @classmethod
    def _long_enough(cls, password: str) -> str:
        if password and len(password) < 8:
            raise ValueError("hub.shared_password must have 8 characters or more")
        return password


class GroupLimits(_Section):
    max_workers: int | None = Field(default=None, ge=0)
    max_cores: float | None = Field(default=None, gt=0)
    max_memory: str | None = None
    max_clusters_per_user: int | None = Field(default=None, ge=0)

    _check_memory = field_validator("max_memory")(_memory)


class GatewaySettings(_Section):
    worker_cores: int = Field(ge=1)
    worker_memory: str
    max_workers: int = Field(ge=0)
    max_cores: float = Field(gt=0)
    max_memory: str
    max_clusters_per_user: int = Field(ge=0)
    idle_timeout: float = Field(ge=0)
    group_limits: dict[str, GroupLimits]

    _check_memory = field_validator("worker_memory", "max_memory")(_memory)


class Settings(BaseSettings):
    """All settings of the workspace. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="forbid",
        frozen=True,
    )

    stage: Literal["prod", "dev"]
    store: StoreSettings
    scratch: ScratchSettings
    catalog: CatalogSettings
    io: IOSettings
    embedded_store: EmbeddedStoreSettings
    calibration: CalibrationSettings
    dask: DaskSettings
    workspace: WorkspaceSettings
    hub: HubSettings
    gateway: GatewaySettings

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            _OldNames(init_settings, "load_settings({old}=...)"),
            _OldNames(env_settings, ENV_PREFIX + "{OLD}", from_environ=True),
        ]
        user_file = user_config_file()
        if user_file is not None:
            user = TomlConfigSettingsSource(settings_cls, toml_file=user_file)
            sources.append(_OldNames(user, f"{{old}} in {user_file}"))
        sources.append(TomlConfigSettingsSource(settings_cls, toml_file=DEFAULTS_FILE))
        return tuple(sources)

    @property
    def environment(self) -> str:
        """Deprecated: the prod/dev choice is :attr:`stage` now."""
        warnings.warn(
            "settings.environment is now settings.stage (the prod/dev buckets); the old name "
            "goes away in 0.3",
            FutureWarning,
            stacklevel=2,
        )
        return self.stage


class _OldNames(PydanticBaseSettingsSource):
    """One source of settings that still accepts the old names of renamed settings.

    The renaming happens per source, so the precedence of sources holds for old names too.
    """

    def __init__(
        self, source: PydanticBaseSettingsSource, where: str, *, from_environ: bool = False
    ) -> None:
        super().__init__(source.settings_cls)
        self.source = source
        self.where = where
        self.from_environ = from_environ

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.source.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        values = dict(self.source())
        for old, new in RENAMED.items():
            if self.from_environ:
                variable = ENV_PREFIX + old.upper()
                found = {k.upper(): v for k, v in os.environ.items()}.get(variable)
            else:
                found = values.pop(old, None)
            if found is None:
                continue
            where = self.where.format(old=old, OLD=old.upper())
            warnings.warn(
                f"{where}: the setting {old!r} is now called {new!r} "
                f"({ENV_PREFIX}{new.upper()}); the old name goes away in 0.3",
                FutureWarning,
                stacklevel=2,
            )
            values.setdefault(new, found)
        return values


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback)


def user_config_file() -> Path | None:
    """The user's settings file, if there is one.

    ``SOC_WORKSPACE_CONFIG`` names it explicitly (and must then exist); otherwise
    ``$XDG_CONFIG_HOME/soc-workspace/config.toml`` is used when present.
    """
    named = os.environ.get(CONFIG_FILE_VARIABLE)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"{CONFIG_FILE_VARIABLE}={named!r}: no such settings file "
                "(unset the variable to use the defaults)"
            )
        return path
    path = _xdg("XDG_CONFIG_HOME", ".config") / "soc-workspace" / "config.toml"
    return path if path.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Read the settings now (files and environment are read on every call).

    Keyword arguments override everything else, e.g. ``load_settings(stage="dev")``.
    A typo in a file or variable is an error naming the key, not a silently ignored value.
    Code that just needs the settings in effect calls :func:`current_settings`.
    """
    user_file = user_config_file()
    if user_file is not None:
        # Parse first so a TOML syntax error names the file rather than failing deep inside.
        try:
            tomllib.loads(user_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{user_file}: not valid TOML: {err}") from None
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{user_file}: not UTF-8 text (byte {err.start}): settings files are TOML, "
                "which is UTF-8; save it as UTF-8"
            ) from None
    return Settings(**overrides)


def stage_argument(stage: str | None, env: str | None, where: str) -> str | None:
    """``stage``, or the old keyword ``env`` of ``where`` with a warning (until 0.3)."""
    if env is None:
        return stage
    warnings.warn(
        f"{where}(env=...) is now {where}(stage=...) (the prod/dev buckets); env= goes away in 0.3",
        FutureWarning,
        stacklevel=3,
    )
    return stage or env


_CURRENT: tuple[Any, Settings] | None = None
# Variables that can change the settings: ours, and boto3's that fill empty store settings.
_PREFIXES = ("SOC_WORKSPACE", "AWS_", "XDG_CONFIG_HOME")


def current_settings() -> Settings:
    """The settings in effect, read again only when a settings file or variable changed.

    Every function that takes ``settings=None`` uses this. Reading the files costs
    milliseconds, more than a warm catalog search; checking for changes costs microseconds.
    """
    global _CURRENT
    user = user_config_file()
    stat = user.stat() if user else None
    key = (
        (str(user), stat.st_mtime_ns, stat.st_size) if stat else None,
        # Names first: reading every value of os.environ costs more than a warm search.
        [(k, os.environ[k]) for k in sorted(k for k in os.environ if k.startswith(_PREFIXES))],
    )
    current = _CURRENT
    if current is None or current[0] != key:
        current = (key, load_settings())
        _CURRENT = current
    return current[1]


@dataclass(frozen=True)
class SettingOrigin:
    key: str
    value: Any
    source: str


def describe_settings(settings: Settings | None = None) -> list[SettingOrigin]:
    """Every setting with its value and where it came from (for ``config show``)."""
    settings = settings or current_settings()
    user_file = user_config_file()
    user = tomllib.loads(user_file.read_text()) if user_file else {}
    env = {k.upper(): k for k in os.environ}
    rows = []
    old_names = {new: old for old, new in RENAMED.items()}
    for key, value in _flatten(settings.model_dump()).items():
        path = key.split(".")
        spellings = [path] + ([[old_names[key]]] if key in old_names else [])
        variables = [ENV_PREFIX + "__".join(p.upper() for p in s) for s in spellings]
        variable = next((v for v in variables if v in env), None)
        if variable:
            source = f"environment ({variable})"
        elif any(_lookup(user, s) is not _MISSING for s in spellings):
            source = f"user file ({user_file})"
        else:
            source = "defaults"
        rows.append(SettingOrigin(key, value, source))
    return rows


_MISSING = object()


def _lookup(tree: dict[str, Any], path: list[str]) -> Any:
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return _MISSING
        tree = tree[part]
    return tree


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat
