"""Keep ``Chart.lock`` in step with the dependencies in ``Chart.yaml``, without network.

``helm dependency build`` refuses a lock whose ``digest`` does not match ``Chart.yaml``
("Chart.lock is out of sync"). Helm computes that digest as the SHA-256 of the Go JSON
encoding of ``[requested dependencies, locked dependencies]``; this tool computes the same
value, so a lock written here is accepted by Helm. It only supports exact versions (which is
all this chart uses): a range needs a repository index to resolve, i.e. ``helm dependency
update``.

Usage::

    python helm/tools/lock.py            # check: exit 1 when Chart.lock is missing or stale
    python helm/tools/lock.py --write    # (re)write Chart.lock

Depends on PyYAML only (not on soc_workspace).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[1] / "soc-workspace"

# Field order and omission rules of Helm's chart.Dependency struct (Go encodes in field order;
# fields tagged omitempty vanish when empty, the others are always written).
_DEPENDENCY_FIELDS: list[tuple[str, bool]] = [
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("alias", True),
]
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")


def _go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it: compact, with <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _as_go_dependency(dep: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, omitempty in _DEPENDENCY_FIELDS:
        value = dep.get(field)
        if omitempty and not value:
            continue
        out[field] = "" if value is None else value
    return out


def helm_digest(requested: list[dict[str, Any]], locked: list[dict[str, Any]]) -> str:
    """The ``digest`` Helm writes into Chart.lock for these dependencies."""
    payload = [[_as_go_dependency(d) for d in requested], [_as_go_dependency(d) for d in locked]]
    return "sha256:" + hashlib.sha256(_go_json(payload).encode()).hexdigest()


def expected_lock(chart_dir: Path = CHART) -> dict[str, Any]:
    """The lock content Chart.yaml calls for (without the ``generated`` time)."""
    metadata = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    requested = metadata.get("dependencies") or []
    locked = []
    for dep in requested:
        version = str(dep.get("version", ""))
        if not _EXACT_VERSION.match(version):
            raise SystemExit(
                f"{chart_dir / 'Chart.yaml'}: dependency {dep.get('name')!r} has version "
                f"{version!r}; only exact versions can be locked offline (use `helm dependency "
                "update` for ranges)"
            )
        locked.append({"name": dep["name"], "repository": dep["repository"], "version": version})
    return {"dependencies": locked, "digest": helm_digest(requested, locked)}


def check(chart_dir: Path = CHART) -> list[str]:
    """Problems with the chart's Chart.lock (empty when it is current)."""
    lock_file = chart_dir / "Chart.lock"
    if not lock_file.is_file():
        return [f"{lock_file} is missing: run `python helm/tools/lock.py --write`"]
    current = yaml.safe_load(lock_file.read_text()) or {}
    wanted = expected_lock(chart_dir)
    problems = []
    if current.get("digest") != wanted["digest"]:
        problems.append(
            f"{lock_file}: digest {current.get('digest')} does not match Chart.yaml "
            f"({wanted['digest']}); run `python helm/tools/lock.py --write`"
        )
    if current.get("dependencies") != wanted["dependencies"]:
        problems.append(f"{lock_file}: dependencies differ from Chart.yaml")
    if "generated" not in current:
        problems.append(f"{lock_file}: no `generated` time")
    return problems


def write(chart_dir: Path = CHART) -> Path:
    lock = expected_lock(chart_dir)
    generated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lines = ["dependencies:"]
    for dep in lock["dependencies"]:
        lines += [
            f"- name: {dep['name']}",
            f"  repository: {dep['repository']}",
            f"  version: {dep['version']}",
        ]
    lines += [f"digest: {lock['digest']}", f'generated: "{generated}"', ""]
    lock_file = chart_dir / "Chart.lock"
    lock_file.write_text("\n".join(lines))
    return lock_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite Chart.lock")
    parser.add_argument("--chart", type=Path, default=CHART, help="chart directory")
    args = parser.parse_args(argv)
    if args.write:
        print(f"wrote {write(args.chart)}")
        return 0
    problems = check(args.chart)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
