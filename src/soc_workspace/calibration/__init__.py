"""Rerun the pipeline's calibrations next to the data, each mission in its own environment.

- :func:`rerun_file` runs one file's calibration (``{package}.calibration.process_file``, the
  pipeline's own contract) in the mission's environment, isolated, and writes the products,
  log and a provenance record to ``<scratch>/<user>/reruns/<run-id>/``;
- :func:`rerun` does it for many files on a Dask cluster and returns a table;
- :func:`compare` diffs a rerun product against the archived one (CDF or FITS);
- :func:`create_environment` / :func:`list_environments` manage the mission environments.

>>> from soc_workspace.calibration import rerun, compare  # doctest: +SKIP
>>> table = rerun(["s3://hermes-eea/l0/2025/06/01/hermes_EEA_l0_2025152-000000_v0.bin"],
...               compare=True)  # doctest: +SKIP
"""

from .batch import rerun
from .compare import Report, compare
from .environments import (
    MissionEnvironment,
    MissionEnvironmentError,
    create_environment,
    environment_for,
    list_environments,
    remove_environment,
)
from .inputs import find_inputs
from .outputs import archived_url
from .rerun import RerunResult, package_for, rerun_file

__all__ = [
    "MissionEnvironment",
    "MissionEnvironmentError",
    "Report",
    "RerunResult",
    "archived_url",
    "compare",
    "create_environment",
    "environment_for",
    "find_inputs",
    "list_environments",
    "package_for",
    "remove_environment",
    "rerun",
    "rerun_file",
]
