"""Analyses anyone can re-check: a notebook that carries the record of how it was made.

- :func:`record` runs a notebook (papermill) and writes into its metadata the kernel and
  environment (name, lock hash, every package version), the image, the settings that decide
  what data it sees (store endpoint, buckets, scratch, catalog), every input it opened through
  soc_workspace (URL, ETag, version id, size) and a hash of each code cell's output;
- :func:`check` runs it again in the recorded kernel with the recorded parameters and says
  whether it is the same, or which inputs changed (a new version, another ETag) and which
  outputs differ;
- :func:`share` copies a recorded notebook into a team folder; :func:`describe` prints the
  record for a person (``soc-workspace repro show``).

>>> from soc_workspace import repro
>>> repro.record("analysis.ipynb")  # doctest: +SKIP
>>> repro.check("analysis.ipynb").same  # doctest: +SKIP
True

In a kernel, :func:`opened` lists what this kernel has opened through soc_workspace so far.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CheckResult": "checker",
    "ReproError": "recorder",
    "check": "checker",
    "describe": "display",
    "opened": "opened_files",
    "read_record": "recorder",
    "record": "recorder",
    "share": "sharing",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
