"""``soc-workspace store``: run the embedded S3 store, or check the configured one."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from ..config import current_settings


@click.group()
def store() -> None:
    """Run the embedded S3 store, or check that the configured store answers."""


@store.command()
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep objects here between restarts [settings: embedded_store.state_dir].",
)
@click.option("--host", help="Address to bind [settings: embedded_store.host, 127.0.0.1].")
@click.option("--port", type=int, help="Port [settings: embedded_store.port; 0 = any free].")
def serve(state_dir: Path | None, host: str | None, port: int | None) -> None:
    """Serve the embedded S3 store in the foreground until interrupted.

    Writes <state-dir>/store.json with the endpoint so other commands can find it. Fill it
    with demo data and their catalog with `soc-workspace demo-data` (before or while it runs).
    """
    from .credentials import OPERATOR_FILE, store_environment
    from .embedded import EmbeddedStore
    from .process import CONNECTION_FILE

    settings = current_settings().embedded_store
    state = state_dir or settings.resolved_state_dir
    server = EmbeddedStore(state, host or settings.host, settings.port if port is None else port)
    server.start()
    connection = server.write_connection_file(state / CONNECTION_FILE)
    click.echo(f"S3 endpoint: {server.endpoint_url}  (objects kept in {state / 'objects'})")
    click.echo(f"connection file: {connection}")
    click.echo("Point clients at it with:")
    for name, value in store_environment(server.endpoint_url).items():
        click.echo(f"  export {name}={value}")
    # The keys are not printed (this output is logged): they are in a file only its owner reads.
    click.echo(
        f"and sign with keys of the store: the operator's are in {state / OPERATOR_FILE} "
        "(access_key_id -> AWS_ACCESS_KEY_ID, secret_access_key -> AWS_SECRET_ACCESS_KEY)"
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    connection.unlink(missing_ok=True)


@store.command()
def check() -> None:
    """Check that the configured S3 endpoint answers, and list its buckets."""
    from .access import check_reachable, filesystem

    settings = current_settings()
    check_reachable(settings)
    buckets = filesystem(settings).ls("", refresh=True)
    endpoint = settings.store.resolved_endpoint_url or "AWS S3"
    click.echo(f"{endpoint} answers; {len(buckets)} bucket(s): {', '.join(buckets) or '(none)'}")


@store.command()
@click.option(
    "--user",
    metavar="NAME",
    help="The policy of this workspace user, as the embedded store gives it. Default: the "
    "policy of the Helm chart's user role (every user's scratch folder).",
)
def policy(user: str | None) -> None:
    """Print the IAM policy of users' access to the store (JSON), from the settings.

    The chart's copy is helm/soc-workspace/files/iam/user-role-policy.json (default settings).
    """
    from .policy import policy_json, role_policy, user_policy

    settings = current_settings()
    document = user_policy(user, settings) if user else role_policy(settings)
    click.echo(policy_json(document), nl=False)
