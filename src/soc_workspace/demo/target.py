"""Where demo data may go: only a test store on this machine, unless the caller insists.

Demo files go into the SOC's own instrument bucket names (``hermes-eea``, ``padre-meddea``, ...)
so that every part of the workspace finds them where it finds real data. That is only safe in a
store of our own: writes go to an endpoint on loopback (127.0.0.0/8, ::1, localhost), or to a
remote test store the caller names explicitly with ``allow_remote=True``.
"""

from __future__ import annotations

from typing import Any

from ..store import is_loopback, storage_options


class RemoteStoreError(ValueError):
    """Demo data was about to be written to a store that may hold real SOC data."""


def check_test_store(options: dict[str, Any], allow_remote: bool = False) -> str:
    """Return the endpoint of the s3fs ``options``; refuse one that is not on loopback.

    Raises :class:`RemoteStoreError` saying what to do instead.
    """
    endpoint = options.get("endpoint_url") or (options.get("client_kwargs") or {}).get(
        "endpoint_url"
    )
    if endpoint and is_loopback(endpoint):
        return endpoint
    where = endpoint or "AWS S3 (no endpoint_url configured)"
    if allow_remote:
        return where
    raise RemoteStoreError(
        f"refusing to write demo data to {where}: demo files take the SOC's instrument bucket "
        "names (hermes-eea, padre-meddea, ...), so they are written only to a test store on this "
        "machine (an endpoint on 127.0.0.1 or localhost). Start one with `soc-workspace store "
        "serve` and pass its endpoint (--store http://127.0.0.1:PORT), or write files locally "
        "with --out DIR. If the endpoint really is a test store, pass allow_remote=True "
        "(--allow-remote-store)."
    )


def options_for_endpoint(endpoint_url: str) -> dict[str, Any]:
    """s3fs options for an explicitly named endpoint, with the configured credentials.

    With no credentials configured, the embedded store running from the configured state
    directory at that endpoint is written as its operator (demo data goes into pipeline
    buckets, which only the operator may write).
    """
    import botocore.session

    from ..config import current_settings
    from ..store.process import operator_options, read_connection

    options = storage_options(endpoint_url=endpoint_url)
    has_credentials = (
        options.get("anon")
        or options.get("profile")
        or botocore.session.Session().get_credentials()
    )
    if not has_credentials and is_loopback(endpoint_url):
        state = current_settings().embedded_store.resolved_state_dir
        if (read_connection(state) or {}).get("endpoint_url") == endpoint_url:
            return operator_options(state, endpoint_url)
    return options
