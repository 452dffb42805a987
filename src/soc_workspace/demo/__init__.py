"""Realistic demo data in the SOC's formats, names and bucket layout; deterministic and fast.

>>> from soc_workspace.demo import write_demo_data
>>> report = write_demo_data(store.storage_options(), days=1)  # doctest: +SKIP
>>> report.files, report.bytes, report.buckets()  # doctest: +SKIP

What one day holds (default: HERMES and PADRE; ~195 files, ~93 MB a day; the first day
also holds the reprocessed files: 205 files, 97 MB):

- HERMES (bucket ``hermes-<instrument>``, keys ``l1/unknown/YYYY/MM/DD/...``): one l1 CDF an
  hour for EEA (30 s cadence, ~1.4 MB), NEMISIS (1 s, ~120 kB), MERIT (5 s, ~90 kB) and SPANI
  (10 s, ~210 kB), ISTP throughout; EEA l0 CCSDS packets an hour (``l0/YYYY/MM/DD/...``,
  ~1.2 MB); hours 02 and 03 of the first day also reprocessed (v1.0.1). See :mod:`.hermes`.
- PADRE MeDDEA (bucket ``padre-meddea``): every 2 hours a raw packet file and its l0 FITS for
  photons, spectra and housekeeping, and a daily l1 FITS per product. See :mod:`.padre`.

Demo files take the SOC's own bucket names, so they are written only to a store on loopback
unless the caller passes ``allow_remote=True``.
"""

from .plan import AVAILABLE
from .runner import DEFAULT_START, DemoReport, generate_files, write_demo_data
from .target import RemoteStoreError

__all__ = [
    "AVAILABLE",
    "DEFAULT_START",
    "DemoReport",
    "RemoteStoreError",
    "generate_files",
    "write_demo_data",
]
