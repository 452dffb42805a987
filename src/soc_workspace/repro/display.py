"""A notebook's record, for a person (``soc-workspace repro show``)."""

from __future__ import annotations

import os
from typing import Any

from .recorder import read_record


def describe(notebook: str | os.PathLike[str]) -> str:
    """The record of ``notebook`` as text: who, when, kernel, image, settings, inputs, outputs."""
    r = read_record(notebook)
    kernel = r["kernel"]
    lines = [
        f"{notebook}: recorded {r['recorded']} by {r['user']} on {r['host']}",
        f"  kernel: {kernel['display_name']} ({kernel['name']}), Python "
        f"{kernel.get('python_version')}"
        + (f", environment {kernel['environment']}" if kernel.get("environment") else ""),
        f"  environment lock: sha256 {kernel.get('lock_sha256', '')[:16]}… "
        f"({len(kernel.get('packages', {}))} packages)",
    ]
    image = r.get("image")
    if image:
        lines.append("  image: " + ", ".join(f"{k}={v}" for k, v in image.items()))
    settings = r.get("settings", {})
    lines.append("  data: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
    if r.get("parameters"):
        lines.append("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in r["parameters"].items()))
    inputs = r.get("inputs", [])
    lines.append(f"  inputs ({len(inputs)}):")
    for entry in inputs:
        lines.append(f"    {entry['url']}  {_identity(entry)}")
    outputs = r.get("outputs", [])
    lines.append(f"  outputs: {len(outputs)} code cells hashed")
    lines.append(f"  soc-workspace {r.get('soc_workspace_version')}")
    return "\n".join(lines)


def _identity(entry: dict[str, Any]) -> str:
    if entry.get("missing"):
        return "(missing)"
    parts = []
    if entry.get("etag"):
        parts.append(f"ETag {entry['etag']}")
    if entry.get("version_id"):
        parts.append(f"version {entry['version_id']}")
    if entry.get("sha256"):
        parts.append(f"sha256 {entry['sha256'][:16]}…")
    if entry.get("size") is not None:
        parts.append(f"{entry['size']} bytes")
    return ", ".join(parts)
