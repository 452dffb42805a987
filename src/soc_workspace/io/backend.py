"""The xarray backend: ``xarray.open_dataset(path, engine="soc")``.

Registered in pyproject.toml under ``[project.entry-points."xarray.backends"]``. xarray also
picks it by itself for ``.cdf`` and ``.fits`` files. Data variables stay lazy until used
(and become Dask arrays with ``chunks=``); coordinates are read when the file is opened.
"""

from __future__ import annotations

import os
from typing import Any

import xarray as xr
from xarray.backends import BackendEntrypoint

from ..config import Settings
from .dataset import open_lazy
from .layout import ReadOptions

_EXTENSIONS = (".cdf", ".fits", ".fit", ".fts")


class SOCBackendEntrypoint(BackendEntrypoint):
    """HERMES CDF (ISTP) and PADRE MeDDEA FITS files, local or in S3, for xarray.

    Extra arguments of ``xarray.open_dataset(..., engine="soc")``: ``variables`` (only
    these, with their coordinates), ``hdu`` (FITS: which HDU), ``storage_options``,
    ``mask_fill``, ``mask_invalid`` and ``settings`` (see ``soc_workspace.open_dataset``).
    """

    description = "HERMES CDF (ISTP) and PADRE MeDDEA FITS files, local or in S3 (soc-workspace)"
    url = "https://github.com/soc-workspace/soc-workspace/blob/main/docs/data-access.md"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "variables",
        "hdu",
        "storage_options",
        "mask_fill",
        "mask_invalid",
        "settings",
    )

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | list[str] | None = None,
        variables: list[str] | None = None,
        hdu: str | int | None = None,
        storage_options: dict[str, Any] | None = None,
        mask_fill: bool = True,
        mask_invalid: bool = False,
        settings: Settings | None = None,
    ) -> xr.Dataset:
        ds = open_lazy(
            filename_or_obj, variables=variables, hdu=hdu, storage_options=storage_options,
            options=ReadOptions(mask_fill=mask_fill, mask_invalid=mask_invalid),
            settings=settings,
        )  # fmt: skip
        if drop_variables is not None:
            drop = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables)
            ds = ds.drop_vars(drop, errors="ignore")
        return ds

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if isinstance(filename_or_obj, (str, os.PathLike)):
            return os.fspath(filename_or_obj).lower().endswith(_EXTENSIONS)
        return False
