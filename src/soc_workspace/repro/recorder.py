"""Run a notebook and record how: kernel, environment, image, settings, inputs, output hashes.

The record lives in the notebook's metadata (``metadata.soc_workspace.repro``), so it travels
with the notebook (copies, team folders, git).

Output hashes: one per code cell, over what the cell showed, normalised so that what changes
on every run without meaning anything does not count:

- streams written to stdout, ``text/plain``, images (PNG, JPEG, SVG) and errors (name and
  message) are hashed; HTML, JavaScript and widget views (which carry random element ids,
  e.g. Bokeh's) are not, when a ``text/plain`` or image form of the same output exists;
- stderr is not hashed: progress bars and warnings write there;
- memory addresses (``at 0x7f...``) are blanked.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import socket
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..calibration.inputs import sha256_of, url_to_fs
from ..config import Settings, current_settings
from .opened_files import LOG_VARIABLE, read_log

SCHEMA = "soc-workspace/repro/1"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_HASHED_DATA = ("text/plain", "image/png", "image/jpeg", "image/svg+xml")
# Where an image's tag is in the pod or the image (KubeSpawner sets the first two).
_IMAGE_VARIABLES = ("JUPYTER_IMAGE_SPEC", "JUPYTER_IMAGE", "SOC_WORKSPACE_IMAGE_TAG")


class ReproError(RuntimeError):
    """A notebook cannot be recorded or checked; the message says why."""


def record(
    notebook: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    kernel: str | None = None,
    parameters: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Run ``notebook`` with papermill and write its record into the result's metadata.

    ``output`` defaults to the notebook itself (run in place, as ``papermill NB NB``).
    ``kernel`` defaults to the notebook's own kernel. Returns the record.
    """
    import nbformat

    settings = settings or current_settings()
    source = Path(notebook).expanduser().resolve()
    target = Path(output).expanduser().resolve() if output else source
    kernel = kernel or _kernel_of(source)
    # Run into a copy: the notebook is replaced only by a run that finished.
    running = target.with_name(f".{target.stem}.recording.ipynb")
    try:
        executed, inputs = execute(source, running, kernel, parameters or {})
    except ReproError as err:
        failed = target.with_name(f"{target.stem}.repro-failed.ipynb")
        if running.exists():
            os.replace(running, failed)
        raise ReproError(f"{err}; the run with the error is in {failed}") from None
    nb = nbformat.read(executed, as_version=4)
    entry = {
        "schema": SCHEMA,
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": os.environ.get("JUPYTERHUB_USER") or getpass.getuser(),
        "host": socket.gethostname(),
        "kernel": kernel_record(kernel),
        "image": image_record(),
        "settings": settings_record(settings),
        "soc_workspace_version": _version(),
        "parameters": parameters or {},
        "inputs": [input_record(url, settings) for url in inputs],
        "outputs": output_hashes(nb),
    }
    nb.metadata.setdefault("soc_workspace", {})["repro"] = entry
    nbformat.write(nb, running)
    os.replace(running, target)
    return entry


def read_record(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """The record of a notebook; :class:`ReproError` when it has none."""
    import nbformat

    path = Path(notebook).expanduser()
    nb = nbformat.read(path, as_version=4)
    found = nb.metadata.get("soc_workspace", {}).get("repro")
    if not found:
        raise ReproError(
            f"{path} has no reproducibility record: make one with `soc-workspace repro "
            f"record {path}` (it runs the notebook and records what it used)"
        )
    return dict(found)


def execute(
    source: Path,
    target: Path,
    kernel: str,
    parameters: dict[str, Any],
    *,
    failures: list[str] | None = None,
) -> tuple[Path, list[str]]:
    """Run ``source`` into ``target`` in ``kernel``; return it and the inputs it opened.

    A cell that fails raises :class:`ReproError`, or, given a ``failures`` list, is noted
    there (the executed notebook then holds the error as that cell's output).
    """
    import papermill

    spec_of(kernel)  # a clear error when the kernel is not there
    with tempfile.TemporaryDirectory(prefix="soc-repro-") as tmp:
        log = Path(tmp) / "opened.jsonl"
        before = os.environ.get(LOG_VARIABLE)
        os.environ[LOG_VARIABLE] = str(log)  # the kernel inherits it
        try:
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=parameters,
                kernel_name=kernel,
                cwd=str(source.parent),
                progress_bar=False,
            )
        except papermill.PapermillExecutionError as err:
            message = f"{source.name} failed in cell {err.cell_index} ({err.ename}: {err.evalue})"
            if failures is None:
                raise ReproError(message) from None
            failures.append(message)
        finally:
            if before is None:
                os.environ.pop(LOG_VARIABLE, None)
            else:
                os.environ[LOG_VARIABLE] = before
        return target, read_log(log)


# -- what is recorded ------------------------------------------------------------------------


def spec_of(kernel: str) -> dict[str, Any]:
    """The kernel spec of ``kernel`` as the Jupyter servers here see it."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        names = sorted(KernelSpecManager().find_kernel_specs())
        raise ReproError(
            f"no Jupyter kernel {kernel!r} here (kernels: {', '.join(names)}); a mission "
            f"kernel is made with `soc-workspace env create {kernel} --spec FILE`"
        ) from None
    return {"argv": spec.argv, "display_name": spec.display_name, "env": spec.env}


def kernel_record(kernel: str) -> dict[str, Any]:
    """The kernel and its environment: interpreter, environment name, lock hash, packages."""
    import shutil
    import subprocess

    from ..calibration.environments import MARKER, _parse_freeze, _uv

    spec = spec_of(kernel)
    python = spec["argv"][0]
    major, minor = sys.version_info[:2]
    if python in ("python", f"python{major}", f"python{major}.{minor}"):
        python = sys.executable  # what jupyter_client starts for these names
    elif not os.path.isabs(python):
        python = shutil.which(python) or python
    prefix = Path(python).parent.parent
    marker = prefix / MARKER
    freeze = _uv("pip", "freeze", "--python", python)
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "name": kernel,
        "display_name": spec["display_name"],
        "python": python,
        "python_version": version,
        "environment": json.loads(marker.read_text()).get("name") if marker.is_file() else None,
        "lock_sha256": hashlib.sha256(freeze.encode()).hexdigest(),
        "packages": _parse_freeze(freeze),
    }


def image_record() -> dict[str, str] | None:
    found = {name: os.environ[name] for name in _IMAGE_VARIABLES if os.environ.get(name)}
    return found or None


def settings_record(settings: Settings) -> dict[str, Any]:
    """The settings that decide which data a notebook sees."""
    dumped = settings.model_dump()
    stage = dumped.get("stage", dumped.get("environment"))  # prod or dev buckets
    return {
        "store_endpoint": settings.store.resolved_endpoint_url or "AWS S3",
        "store_credentials": settings.store.credentials,
        "buckets": stage,
        "scratch": settings.scratch.url,
        "catalog": settings.catalog.url or "beside the data",
    }


def input_record(url: str, settings: Settings) -> dict[str, Any]:
    """What identifies the bytes at ``url`` now: ETag, version id, size (local: size, SHA-256)."""
    entry: dict[str, Any] = {"url": url}
    if "://" not in url:
        path = Path(url)
        if not path.is_file():
            return {**entry, "missing": True}
        entry["size"] = path.stat().st_size
        entry["sha256"] = sha256_of(path)
        return entry
    fs, path = url_to_fs(url, settings)
    fs.invalidate_cache(path)  # the object now, not a listing cached earlier
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return {**entry, "missing": True}
    entry["etag"] = str(info.get("ETag", "")).strip('"') or None
    entry["version_id"] = info.get("VersionId")
    entry["size"] = info.get("size")
    modified = info.get("LastModified")
    entry["last_modified"] = modified.isoformat() if hasattr(modified, "isoformat") else None
    return entry


def output_hashes(nb: Any) -> list[dict[str, Any]]:
    """One hash per code cell (see the module's docstring for what counts)."""
    hashes = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        digest = hashlib.sha256(
            json.dumps(_normalised(cell.get("outputs", [])), sort_keys=True).encode()
        ).hexdigest()
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        hashes.append({"cell": index, "id": cell.get("id"), "source": first[:80], "sha256": digest})
    return hashes


def _normalised(outputs: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stdout":
                kept.append(["stdout", _clean(output.get("text", ""))])
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            forms = {k: data[k] for k in _HASHED_DATA if k in data}
            if not forms:  # nothing but HTML/JS: hash that, it is all there is
                forms = {k: v for k, v in data.items() if isinstance(v, str)}
            kept.append(
                [kind, {k: _clean(v) if isinstance(v, str) else v for k, v in forms.items()}]
            )
        elif kind == "error":
            kept.append(["error", output.get("ename"), _clean(output.get("evalue", ""))])
    return kept


def _clean(text: Any) -> str:
    text = "".join(text) if isinstance(text, list) else str(text)
    return _ADDRESS.sub(" at 0x…", text)


def _kernel_of(notebook: Path) -> str:
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    name = nb.metadata.get("kernelspec", {}).get("name")
    if not name:
        raise ReproError(f"{notebook} names no kernel: give one (--kernel NAME)")
    return name


def _version() -> str:
    from .. import __version__

    return __version__
