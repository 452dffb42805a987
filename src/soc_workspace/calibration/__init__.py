"""Rerun the pipeline's calibrations next to the data, each mission in its own environment.

- :func:`rerun_file` runs one file's calibration (the pipeline's own
  ``{package}.calibration.calibration.process_file``) in the mission's environment, isolated,
  and writes the products, log and a provenance record to ``<scratch>/<user>/reruns/<run-id>/``;
- :func:`rerun` does it for many files on a Dask cluster and returns a table;
- :func:`compare` diffs a rerun product against the archived one (CDF or FITS);
- :func:`create_environment` / :func:`list_environments` manage the mission environments.

>>> from soc_workspace.calibration import rerun, compare  # doctest: +SKIP
>>> table = rerun(["s3://hermes-eea/l0/2025/06/01/hermes_EEA_l0_2025152-000000_v0.bin"],
...               compare=True)  # doctest: +SKIP

Names are imported on first use, so that ``soc-workspace env --help`` and Dask workers do not
pay for pandas and the store when they do not need them.
"""

from __future__ import annotations

from .._lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS: dict[str, str] = {
    "MissionEnvironment": "environments",
    "MissionEnvironmentError": "environments",
    "Report": "comparison",
    "RerunResult": "single",
    "archived_url": "outputs",
    "compare": "comparison",
    "create_environment": "environments",
    "environment_for": "environments",
    "find_inputs": "inputs",
    "list_environments": "environments",
    "package_for": "single",
    "remove_environment": "environments",
    "rerun": "batch",
    "rerun_file": "single",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
