"""One way to do each thing: each of these fails when a second way comes back.

The behaviour of each way is tested where it lives (rerun inputs with and without an index in
tests/rerun/test_rerun_batch.py, demo data with its catalog in tests/test_demo.py, settings in
tests/test_config.py, the core install in tests/test_core_install.py); here the code itself is
read, so that a copy of a door next to the door is caught too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import click
import pytest
from conftest import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "src" / "soc_workspace"
MODULES = {path.relative_to(SOURCE).as_posix(): path for path in sorted(SOURCE.rglob("*.py"))}


def _where(pattern: str) -> set[str]:
    """The modules whose code (comments and docstrings too) matches ``pattern``."""
    return {name for name, path in MODULES.items() if re.search(pattern, path.read_text())}


def _functions() -> dict[str, list[str]]:
    """Module-level function name -> modules defining it."""
    found: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.setdefault(node.name, []).append(name)
    return found


@pytest.mark.parametrize(
    ("function", "module"),
    [
        ("url_to_fs", "store/access.py"),
        ("storage_options", "store/access.py"),
        ("s3fs_options", "store/access.py"),
        ("endpoint_of", "store/access.py"),
        ("is_loopback", "store/access.py"),
        ("bucket_of", "missions/keys.py"),
        ("is_pipeline_bucket", "missions/keys.py"),
        ("current_settings", "config.py"),
        ("to_utc", "timestamps.py"),
        ("open_catalog_files", "catalog/opening.py"),
        ("write_demo_data", "demo/runner.py"),
        ("find_inputs", "calibration/inputs.py"),
        ("serve_argv", "store/process.py"),
        ("wait_until_serving", "store/process.py"),
        ("operator_options", "store/process.py"),
        ("store_environment", "store/credentials.py"),
    ],
)
def test_each_door_is_defined_once(function, module):
    assert _functions().get(function) == [module]


def test_a_url_becomes_a_filesystem_in_one_place():
    assert _where(r"fsspec\.core\.url_to_fs|fsspec\.filesystem\(") == {"store/access.py"}
    # s3fs options are made in one place, for the settings' store and for embedded-store keys
    assert _where(r"addressing_style|[\"']anon[\"']\s*[:\]]") == {"store/access.py"}
    assert _where(r"storage_options\(\)\[|store_options\(\)") == set()


def test_a_store_process_is_started_and_awaited_in_one_place():
    assert _where(r"[\"']store[\"'],\s*[\"']serve[\"']") == {"store/process.py"}
    assert _where(r"[\"']store\.json[\"']") == {"store/process.py"}


def test_times_are_made_utc_in_one_place():
    assert _where(r"tz_localize\((?!None)|tz_convert\(") == {"timestamps.py"}


def test_settings_are_read_through_current_settings():
    assert _where(r"(?<![\w.])load_settings\(\s*\)") <= {"config.py"}
    assert _where(r"_SETTINGS\b|lru_cache\(\)\s*\ndef \w*settings") == set()


def test_no_import_guards_for_modules_that_always_ship():
    """Only what an extra brings may be missing: uv (workspace) and any command's imports
    in the command line's one handler, which names the extra to install."""
    guarded = _where(r"except \(?(ImportError|ModuleNotFoundError)")
    assert guarded == {"calibration/environments.py", "cli.py"}


def test_no_catalog_open_shadowing_the_builtin():
    catalog = importlib.import_module("soc_workspace.catalog")
    assert not hasattr(catalog, "open")
    assert _where(r"(?m)^open\s*=") == set()


def test_the_store_imports_nothing_above_it():
    """Seeding demo data from `store serve` was the one import that ran back up the layers."""
    above = ("demo", "catalog", "io", "calibration", "local", "hub", "kubernetes", "check")
    for name, path in MODULES.items():
        if not name.startswith("store/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                assert node.module.split(".")[0] not in above, f"{name} imports ..{node.module}"


@pytest.mark.parametrize(
    "function",
    [
        "soc_workspace.catalog:search",
        "soc_workspace.catalog:list_datasets",
        "soc_workspace.catalog:build",
        "soc_workspace.catalog:update",
        "soc_workspace.catalog:open_catalog_files",
        "soc_workspace.catalog.listing:search_by_listing",
        "soc_workspace.catalog.intake:write_catalogs",
        "soc_workspace.io:open_dataset",
        "soc_workspace.io:open_mfdataset",
        "soc_workspace.calibration:find_inputs",
        "soc_workspace.calibration:rerun",
        "soc_workspace.calibration:rerun_file",
        "soc_workspace.calibration:compare",
        "soc_workspace.demo:write_demo_data",
        "soc_workspace.store:url_to_fs",
        "soc_workspace.store:storage_options",
    ],
)
def test_every_public_function_that_touches_the_store_takes_settings(function):
    module, name = function.split(":")
    assert (
        "settings" in inspect.signature(getattr(importlib.import_module(module), name)).parameters
    )


def test_one_spelling_of_search_arguments_in_the_intake_reader():
    from soc_workspace.catalog.intake import SOCDatasetReader
    from soc_workspace.catalog.query import search

    read = set(inspect.signature(SOCDatasetReader._read).parameters) - {"self", "options"}
    assert {"start", "stop", "stage", "version"} <= read
    assert read <= set(inspect.signature(search).parameters)  # spelt as search() spells them


# -- the command line: one flag, type, time rule and help text per option ---------------------

QUERY_COMMANDS = [("catalog", "search"), ("catalog", "datasets"), ("rerun",)]


def _command(path: tuple[str, ...]) -> click.Command:
    from soc_workspace.cli import cli

    ctx = click.Context(cli)
    command: click.Command = cli
    for name in path:
        command = command.get_command(ctx, name)  # type: ignore[attr-defined]
    return command


def _option(command: click.Command, name: str) -> click.Option | None:
    return next((p for p in command.params if isinstance(p, click.Option) and p.name == name), None)


@pytest.mark.parametrize("name", ["mission", "instrument", "level", "start", "stop", "stage"])
def test_query_commands_share_each_option(name):
    options = {
        " ".join(path): _option(_command(path), name)
        for path in QUERY_COMMANDS
        if _option(_command(path), name) is not None
    }
    assert len(options) >= 2, options
    shapes = {
        (tuple(o.opts), type(o.type).__name__, o.help, bool(o.multiple)) for o in options.values()
    }
    assert len(shapes) == 1, shapes


def test_the_time_rule_is_the_same_everywhere():
    for path in [("catalog", "search"), ("rerun",)]:
        stop = _option(_command(path), "stop")
        assert "overlapping [start, stop)" in stop.help, path
        assert type(stop.type).__name__ == "UTCTime", path
    search = importlib.import_module("soc_workspace.catalog").search
    assert "overlaps ``[start, stop)``" in inspect.getdoc(search)
    find_inputs = importlib.import_module("soc_workspace.calibration").find_inputs
    assert "overlap" in inspect.getdoc(find_inputs)


def test_environment_means_a_missions_python_only():
    """The prod/dev choice is "stage" in settings, options and the chart; "environment" is
    left to mission environments (and to the old spellings, which warn)."""
    from soc_workspace.config import Settings

    assert "stage" in Settings.model_fields
    assert "environment" not in Settings.model_fields
    for path in [*QUERY_COMMANDS, ("catalog", "build"), ("demo-data",)]:
        command = _command(path)
        env = _option(command, "env")
        assert env is None or env.hidden, path  # --env: the old name of --stage, hidden
    rerun = _option(_command(("rerun",)), "environment")
    assert "Mission environment" in rerun.help
    values = (PROJECT_ROOT / "helm" / "soc-workspace" / "values.yaml").read_text()
    assert re.search(r"(?m)^stage:", values)
    assert not re.search(r"(?m)^environment:", values)
