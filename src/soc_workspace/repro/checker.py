"""Re-check a recorded notebook: run it again as recorded, and say what is not the same.

``check`` runs the notebook in the recorded kernel with the recorded parameters (into a
temporary copy: the notebook itself is not changed), then compares:

- the environment: the kernel's packages now against the recorded ones (lock hash);
- the inputs: every input recorded against the same object now (ETag, version id, size; a
  local file's SHA-256), and inputs opened now that were not then, or the other way round;
- the outputs: each code cell's output hash.

The notebook is ``same`` when nothing of these differs.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings, current_settings
from .recorder import (
    execute,
    input_record,
    kernel_record,
    output_hashes,
    read_record,
)

_IDENTITY = ("etag", "version_id", "size", "sha256", "missing")


@dataclass
class CheckResult:
    """What a re-run of a recorded notebook found."""

    notebook: str
    inputs_changed: list[dict[str, Any]] = field(default_factory=list)
    outputs_changed: list[dict[str, Any]] = field(default_factory=list)
    environment_changed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    kernel: str = ""
    executed: str | None = None
    failed: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (
            self.inputs_changed or self.outputs_changed or self.environment_changed or self.failed
        )

    def __str__(self) -> str:
        if self.same:
            return f"same: {self.notebook} gives what was recorded (kernel {self.kernel})"
        lines = [f"different: {self.notebook} (kernel {self.kernel})"]
        for change in self.inputs_changed:
            lines.append(f"  input changed: {change['url']} ({change['why']})")
        for change in self.outputs_changed:
            lines.append(f"  output differs: cell {change['cell']} ({change['source'] or 'empty'})")
        for package, (was, now) in sorted(self.environment_changed.items()):
            lines.append(f"  environment: {package} {was or 'absent'} -> {now or 'absent'}")
        lines += [f"  now fails: {message}" for message in self.failed]
        return "\n".join(lines)


def check(
    notebook: str | os.PathLike[str],
    *,
    keep: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> CheckResult:
    """Run a recorded notebook again and compare with its record (see the module docstring).

    ``keep``: where to write the executed notebook (default: a temporary file, removed).
    """
    settings = settings or current_settings()
    path = Path(notebook).expanduser().resolve()
    recorded = read_record(path)
    kernel = recorded["kernel"]["name"]
    result = CheckResult(notebook=str(path), kernel=kernel)
    now_kernel = kernel_record(kernel)
    if now_kernel["lock_sha256"] != recorded["kernel"].get("lock_sha256"):
        result.environment_changed = _package_changes(
            recorded["kernel"].get("packages", {}), now_kernel["packages"]
        )
    with tempfile.TemporaryDirectory(prefix="soc-repro-check-") as tmp:
        # beside the notebook's own folder as working directory, as when it was recorded
        target = Path(keep).expanduser().resolve() if keep else Path(tmp) / path.name
        executed, opened = execute(
            path, target, kernel, recorded.get("parameters", {}), failures=result.failed
        )
        import nbformat

        result.outputs_changed = _output_changes(
            recorded.get("outputs", []), output_hashes(nbformat.read(executed, as_version=4))
        )
        result.executed = str(executed) if keep else None
    result.inputs_changed = _input_changes(recorded.get("inputs", []), opened, settings)
    return result


def _input_changes(
    recorded: list[dict[str, Any]], opened: list[str], settings: Settings
) -> list[dict[str, Any]]:
    changes = []
    by_url = {entry["url"]: entry for entry in recorded}
    for url, then in by_url.items():
        now = input_record(url, settings)
        differing = [k for k in _IDENTITY if then.get(k) != now.get(k)]
        if differing:
            why = ", ".join(f"{k} {then.get(k)!s} -> {now.get(k)!s}" for k in differing)
            changes.append({"url": url, "why": why, "recorded": then, "now": now})
    for url in opened:
        if url not in by_url:
            changes.append({"url": url, "why": "opened now, not when recorded"})
    for url in by_url:
        if url not in opened:
            changes.append({"url": url, "why": "opened when recorded, not now"})
    return changes


def _output_changes(
    recorded: list[dict[str, Any]], now: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    changes = []
    current = {entry.get("id") or entry["cell"]: entry for entry in now}
    for entry in recorded:
        key = entry.get("id") or entry["cell"]
        found = current.get(key)
        if found is None or found["sha256"] != entry["sha256"]:
            changes.append(
                {"cell": entry["cell"], "id": entry.get("id"), "source": entry.get("source")}
            )
    return changes


def _package_changes(
    was: dict[str, str], now: dict[str, str]
) -> dict[str, tuple[str | None, str | None]]:
    names = sorted(set(was) | set(now))
    return {n: (was.get(n), now.get(n)) for n in names if was.get(n) != now.get(n)}
