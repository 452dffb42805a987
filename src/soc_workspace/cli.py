"""The ``soc-workspace`` command.

Each subcommand lives in the module that owns its work and is imported only when it runs, so
``soc-workspace --help`` stays fast. To add one, add a line to ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

# name -> (import path "module:attribute", one-line help shown by --help)
COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("soc_workspace.cli_config:config", "Show the settings in effect and their origin."),
    "store": ("soc_workspace.store.cli:store", "Run or check the object store."),
    "catalog": (
        "soc_workspace.catalog.cli:catalog",
        "Build, update and search the file catalogs beside the data.",
    ),
    "up": (
        "soc_workspace.local.cli:up",
        "Start the workspace on this machine (hub, gateway, store).",
    ),
    "down": ("soc_workspace.local.cli:down", "Stop the workspace on this machine."),
    "status": ("soc_workspace.local.cli:status", "Say what of the workspace runs."),
    "check": (
        "soc_workspace.check.cli:check",
        "Check a deployed workspace end to end (server, catalog, file, Dask cluster).",
    ),
    "setup": (
        "soc_workspace.local.cli:setup",
        "Install what `up` needs besides Python (configurable-http-proxy).",
    ),
    "demo-data": (
        "soc_workspace.demo.cli:demo_data",
        "Write realistic demo SOC files into a store.",
    ),
    "rerun": (
        "soc_workspace.calibration.cli:rerun_command",
        "Rerun the pipeline's calibration of files or a time range, on Dask.",
    ),
    "compare": (
        "soc_workspace.calibration.cli:compare_command",
        "Compare a rerun product with the archived one (CDF or FITS).",
    ),
    "env": (
        "soc_workspace.calibration.cli:env",
        "Create, list and remove mission environments (and their kernels).",
    ),
    "review": (
        "soc_workspace.calibration.review_cli:review_command",
        "Review what a rerun (a candidate calibration, say) changed against the archive.",
    ),
    "repro": (
        "soc_workspace.repro.cli:repro",
        "Record, check, show and share reproducible notebooks.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module_name, attribute = COMMANDS[name][0].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="soc-workspace")
def cli(verbose: int) -> None:
    """soc-workspace: an analysis workspace next to a Science Operations Center's data.

    Scientists log into notebooks beside the SOC's buckets, find files through catalogs,
    open them as xarray, scale out with Dask, and rerun the pipeline's calibrations.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``soc-workspace`` script: errors become one clear line, exit 1."""
    try:
        result = cli.main(args=argv, prog_name="soc-workspace", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except ModuleNotFoundError as err:
        if err.name is None or err.name.split(".")[0] == "soc_workspace":
            raise
        # The core package reads and finds data; the workspace's parts are an extra.
        click.secho(
            f"error: this command needs {err.name}, which is not installed: install "
            "soc-workspace with its workspace extra, pip install 'soc-workspace[workspace]'",
            fg="red",
            err=True,
        )
        sys.exit(1)
    except (ValueError, OSError, RuntimeError) as err:
        # Our errors say what is wrong and what to do; a traceback would bury that.
        click.secho(f"error: {err}", fg="red", err=True)
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        sys.exit(1)
    except Exception as err:
        if not type(err).__module__.startswith("botocore"):
            raise
        # The store's client library (no credentials, no endpoint, refused): say which
        # settings reach the store instead of printing botocore's traceback.
        click.secho(
            f"error: the object store: {type(err).__name__}: {err}. Check store.endpoint_url "
            "and store.credentials (`soc-workspace config show`; SOC_WORKSPACE__STORE__..., "
            "or AWS_ENDPOINT_URL_S3 and AWS credentials)",
            fg="red",
            err=True,
        )
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        sys.exit(1)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    main()
