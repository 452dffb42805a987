"""Read the SOC's files into xarray: HERMES and REACH CDF (ISTP), PADRE MeDDEA FITS and PADRE
spacecraft CSV tables, each format behind one reader contract (:mod:`.formats`).

- :func:`open_dataset`: one file (local path, ``s3://`` URL, fsspec file object);
- :func:`open_mfdataset`: many files of one dataset, concatenated along time, lazily;
- ``xarray.open_dataset(path, engine="soc")``: the same reader as an xarray backend;
- :class:`SOCDataError`: a file that cannot be read, named with the reason;
- ``ds.soc.quicklook(var)`` on every dataset: a plot chosen from the metadata
  (:mod:`soc_workspace.quicklook`).

User guide: docs/data-access.md.
"""

from ..quicklook import accessor as _accessor  # noqa: F401  (registers ds.soc)
from .dataset import open_dataset
from .errors import SOCDataError, SOCDataWarning
from .mfdataset import open_mfdataset

__all__ = ["SOCDataError", "SOCDataWarning", "open_dataset", "open_mfdataset"]
