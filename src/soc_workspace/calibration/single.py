"""Rerun the pipeline's calibration of one file, isolated, with a provenance record.

>>> result = rerun_file("s3://hermes-eea/l0/2025/06/01/hermes_EEA_l0_2025152-000000_v0.bin")
... # doctest: +SKIP
>>> result.status, result.products  # doctest: +SKIP
('ok', ['s3://soc-workspace-scratch/me/reruns/20250601T120000-1a2b3c/l1/unknown/...cdf'])
"""

from __future__ import annotations

import json
import os
import platform
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..config import Settings, current_settings
from ..missions import get_mission
from ..store import PipelineBucketError
from .environments import environment_name_for, resolve_environment
from .execution import run_calibration
from .inputs import fetch, resolve_input, sha256_of
from .outputs import RunLocation, current_user, local_run_location, put_files, run_location

Status = Literal["ok", "no product", "failed"]
_LOG_TAIL = 20_000  # characters of the calibration's log kept in the result


@dataclass
class RerunResult:
    """What one rerun did.

    ``status`` follows the pipeline's contract: ``ok`` (products written), ``no product``
    (``process_file`` returned ``[None]``) or ``failed`` (it returned ``[]``, raised, timed out
    or crashed; ``error`` says which). ``products`` are the URLs of the uploaded outputs.
    """

    input: str
    status: Status
    run_id: str
    run_url: str
    products: list[str] = field(default_factory=list)
    error: str | None = None
    log_url: str | None = None
    provenance_url: str | None = None
    environment: str | None = None
    package: str | None = None
    package_version: str | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    log: str = ""
    provenance: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """The table row of this result (without the log and the provenance record)."""
        row = asdict(self)
        row.pop("log")
        row.pop("provenance")
        return row

    def __str__(self) -> str:
        lines = [f"{self.input}: {self.status} ({self.seconds:.1f} s)"]
        lines += [f"  -> {p}" for p in self.products]
        if self.error:
            lines.append(f"  error: {self.error}")
        lines += [f"  warning: {w}" for w in self.warnings[:5]]
        if self.log_url:
            lines.append(f"  log: {self.log_url}")
        return "\n".join(lines)


def package_for(mission: str, instrument: str, settings: Settings | None = None) -> str:
    """The calibration package of an instrument: settings override, else the registry's."""
    settings = settings or current_settings()
    m = get_mission(mission)
    inst = m.instrument(instrument)
    overrides = {k.lower(): v for k, v in settings.calibration.packages.items()}
    return overrides.get(f"{m.name}/{inst.name}", m.package_for(inst.name))


def rerun_file(
    key_or_path: str | os.PathLike[str],
    *,
    environment: str | None = None,
    run_id: str | None = None,
    output: str | None = None,
    timeout: float | None = None,
    pass_env: Sequence[str] = (),
    settings: Settings | None = None,
) -> RerunResult:
    """Rerun the pipeline's calibration of one file in its mission environment.

    Parameters
    ----------
    key_or_path
        ``s3://`` URL, key or file name in the instrument bucket, or a local path.
    environment
        Environment name or interpreter path; default: the one registered for the instrument
        (settings ``calibration.environments``).
    run_id, output
        The run folder is ``output`` or ``<scratch.url>/<user>/reruns/<run_id>``.
    timeout
        Seconds before the calibration is stopped (default: ``calibration.timeout``).
    pass_env
        Extra environment variables (names or glob patterns) handed to the mission code;
        nothing else of the caller's environment is, credentials included.

    Returns
    -------
    RerunResult
        Status ``ok``/``no product``/``failed`` with products, log and provenance URLs.

    Raises
    ------
    ValueError
        The name is not a SOC file name (unknown mission or instrument).
    FileNotFoundError
        The input does not exist.
    MissionEnvironmentError
        No usable environment for the instrument.
    PipelineBucketError
        ``output`` is in a pipeline bucket.
    """
    settings = settings or current_settings()
    source = resolve_input(key_or_path, settings)
    info = source.info
    package = package_for(info.mission, info.instrument, settings)
    env = resolve_environment(
        environment or environment_name_for(info.mission, info.instrument, settings), settings
    )
    location = run_location(run_id, output=output, settings=settings)
    timeout = timeout if timeout is not None else settings.calibration.timeout
    work_dir = settings.calibration.work_dir or None
    if work_dir:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="soc-rerun-", dir=work_dir) as tmp:
        scratch = Path(tmp)
        work = scratch / "work"
        work.mkdir()
        local = work / source.name
        fetched = fetch(source, local, settings)
        log_path = scratch / "calibration.log"
        log_path.write_text(
            f"# soc-workspace rerun {location.run_id} of {source.url}\n"
            f"# environment {env.name}: {env.python}\n"
        )
        run = run_calibration(
            env,
            package,
            info.mission,
            local,
            scratch,
            log_path,
            settings=settings,
            timeout=timeout,
            pass_env=pass_env,
        )
        outcome, completed = run.outcome, run.completed
        status: Status = outcome.get("status", "failed")
        error = outcome.get("error")
        if completed.timed_out or not outcome:
            status, error = "failed", completed.describe()
        notes = [location.note] if location.note else []

        def publish(where: RunLocation) -> tuple[dict[str, Any], str, str]:
            """Products, then the log and the provenance record, into the run folder."""
            new_status, new_error, products, files = status, error, [], []
            if status == "ok":
                new_status, new_error, products, files = _products(outcome, where)
            finished = datetime.now(UTC)
            provenance = {
                "schema": "soc-workspace/rerun-provenance/1",
                "run_id": where.run_id,
                "user": current_user(),
                "host": socket.gethostname(),
                "input": {
                    **fetched,
                    "mission": info.mission,
                    "instrument": info.instrument,
                    "level": info.level,
                },
                "package": package,
                "package_version": package_version,
                "environment": {
                    "name": env.name,
                    "python": str(env.python),
                    "python_version": outcome.get("python_version"),
                    "spec": env.spec,
                    "created": env.created,
                    "sources": env.sources,
                    "candidate": env.candidate,
                    "packages": outcome.get("packages", {}),
                    "variables": run.variables,
                    "passed_from_caller": run.passed,
                },
                "command": run.command,
                "isolation": run.mode,
                "side_calls": run.side_calls,
                "timeout_s": timeout,
                "started": started.isoformat(),
                "finished": finished.isoformat(),
                "seconds": (finished - started).total_seconds(),
                "status": new_status,
                "error": new_error,
                "traceback": outcome.get("traceback"),
                "returned": outcome.get("outputs"),
                "outputs": products,
                "warnings": [*notes, *run.side_calls, *outcome.get("warnings", [])],
                "soc_workspace_version": _our_version(),
                "platform": platform.platform(),
            }
            record = scratch / "provenance.json"
            record.write_text(json.dumps(provenance, indent=2, default=str))
            log_url, provenance_url = where.log_url(source.name), where.provenance_url(source.name)
            put_files([*files, (log_path, log_url), (record, provenance_url)], settings)
            return provenance, log_url, provenance_url

        package_version = with_commit(outcome.get("package_version"), env.sources)
        log_text = log_path.read_text(errors="replace")
        try:
            provenance, log_url, provenance_url = publish(location)
        except Exception as err:
            # Never lose what the calibration made: keep it in a local folder and say why.
            if isinstance(err, PipelineBucketError) or "://" not in location.url:
                raise
            location = local_run_location(location, f"{type(err).__name__}: {err}")
            notes.append(location.note or "")
            provenance, log_url, provenance_url = publish(location)
    return RerunResult(
        input=source.url,
        status=provenance["status"],
        run_id=location.run_id,
        run_url=location.url,
        products=[p["url"] for p in provenance["outputs"]],
        error=provenance["error"],
        log_url=log_url,
        provenance_url=provenance_url,
        environment=env.name,
        package=package,
        package_version=package_version,
        seconds=provenance["seconds"],
        warnings=provenance["warnings"],
        log=log_text[-_LOG_TAIL:],
        provenance=provenance,
    )


def _products(
    outcome: dict[str, Any], location: RunLocation
) -> tuple[Status, str | None, list[dict[str, Any]], list[tuple[Path, str]]]:
    """The products a calibration returned: their records, and (file, URL) to upload."""
    products: list[dict[str, Any]] = []
    files: list[tuple[Path, str]] = []
    for returned in outcome.get("outputs", []):
        if returned is None:
            continue
        path = Path(returned)
        if not path.is_file():
            error = f"process_file returned {path.name} but wrote no such file"
            return "failed", error, products, files
        url = location.product_url(path.name)
        files.append((path, url))
        products.append(
            {"url": url, "name": path.name, "size": path.stat().st_size, "sha256": sha256_of(path)}
        )
    return "ok", None, products, files


def with_commit(version: str | None, sources: dict[str, Any]) -> str | None:
    """``1.0.0 (file:///src/pkg)`` with the commit of that folder when it was a git checkout."""
    if not version or not sources:
        return version
    for source in sources.values():
        url, commit = source.get("url", ""), source.get("commit")
        if commit and url and url in version and commit not in version:
            dirty = " with uncommitted changes" if source.get("dirty") else ""
            return version.replace(url, f"{url}@{commit}{dirty}")
    return version


def _our_version() -> str:
    from .. import __version__

    return __version__
