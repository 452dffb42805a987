"""Write CDF files for the reader tests with cdflib's writer (the real format, not a mock).

``write_cdf`` makes a file from variables given as dicts; ``copy_cdf`` rewrites a real file
with changes (broken attributes, fewer records, shifted times), keeping the CDF data types;
``hourly_cuts`` cuts a real file into consecutive files an hour apart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdflib
import numpy as np
from cdflib.cdfwrite import CDF as CDFWriter

TYPE_NAMES = {
    1: "CDF_INT1", 2: "CDF_INT2", 4: "CDF_INT4", 8: "CDF_INT8", 11: "CDF_UINT1",
    12: "CDF_UINT2", 14: "CDF_UINT4", 21: "CDF_REAL4", 22: "CDF_REAL8", 31: "CDF_EPOCH",
    32: "CDF_EPOCH16", 33: "CDF_TIME_TT2000", 41: "CDF_BYTE", 44: "CDF_FLOAT",
    45: "CDF_DOUBLE", 51: "CDF_CHAR", 52: "CDF_UCHAR",
}  # fmt: skip
TYPE_OF_NAME = {name: number for number, name in TYPE_NAMES.items()}
# attributes whose value has the variable's own type
TYPED_ATTRS = ("FILLVAL", "VALIDMIN", "VALIDMAX", "SCALEMIN", "SCALEMAX")


def write_cdf(
    path: Path,
    variables: list[dict[str, Any]],
    *,
    global_attrs: dict[str, Any] | None = None,
    majority: str = "row_major",
    compressed: int = 0,
    encoding: int = 6,
) -> Path:
    """Write ``variables`` (dicts: name, type, data, attrs, rec_vary=True, compress=0)."""
    path = Path(path)
    writer = CDFWriter(
        str(path),
        cdf_spec={"Majority": majority, "Encoding": encoding, "Compressed": compressed},
        delete=True,
    )  # fmt: skip
    try:
        if global_attrs:
            writer.write_globalattrs(
                {
                    k: dict(enumerate(v if isinstance(v, list) else [v]))
                    for k, v in global_attrs.items()
                }
            )
        for var in variables:
            cdf_type = var["type"]
            cdf_type = TYPE_OF_NAME[cdf_type] if isinstance(cdf_type, str) else cdf_type
            data = var["data"]
            rec_vary = var.get("rec_vary", True)
            if cdf_type in (51, 52):
                data = np.asarray(data)
                elements = max(1, max((len(str(x)) for x in data.ravel()), default=1))
                dims = list(data.shape[1:] if rec_vary else data.shape)
            else:
                data = np.asarray(data)
                elements = 1
                dims = list(data.shape[1:] if rec_vary else data.shape)
            spec = {
                "Variable": var["name"],
                "Data_Type": cdf_type,
                "Num_Elements": elements,
                "Rec_Vary": rec_vary,
                "Dim_Sizes": dims,
                "Compress": var.get("compress", 0),
            }
            attrs = {}
            for key, value in var.get("attrs", {}).items():
                if key in TYPED_ATTRS and cdf_type not in (51, 52):
                    attrs[key] = [value, TYPE_NAMES[cdf_type]]
                else:
                    attrs[key] = value
            writer.write_var(spec, var_attrs=attrs, var_data=data)
    finally:
        writer.close()
    return path


def read_variables(src: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A CDF's global attributes and variables in ``write_cdf``'s form."""
    cdf = cdflib.CDF(str(src))
    info = cdf.cdf_info()
    variables = []
    for name in info.zVariables:
        inq = cdf.varinq(name)
        data = cdf.varget(name)
        variables.append(
            {
                "name": name,
                "type": inq.Data_Type,
                "data": np.asarray(data),
                "attrs": dict(cdf.varattsget(name)),
                "rec_vary": bool(inq.Rec_Vary),
            }
        )
    return cdf.globalattsget(), variables


def copy_cdf(
    src: Path,
    dst: Path,
    *,
    records: slice | None = None,
    shift_ns: int = 0,
    attrs: dict[str, dict[str, Any]] | None = None,
    drop: tuple[str, ...] = (),
    compress: int = 0,
    compressed: int = 0,
) -> Path:
    """Rewrite a real CDF: only ``records``, times shifted, attributes changed, variables
    dropped, variables or the whole file compressed."""
    global_attrs, variables = read_variables(src)
    out = []
    for var in variables:
        if var["name"] in drop:
            continue
        if var["rec_vary"] and records is not None:
            var["data"] = var["data"][records]
        if var["type"] == 33 and shift_ns:
            var["data"] = var["data"] + np.int64(shift_ns)
        var["attrs"].update((attrs or {}).get(var["name"], {}))
        var["attrs"] = {k: v for k, v in var["attrs"].items() if v is not None}
        var["compress"] = compress
        out.append(var)
    return write_cdf(
        dst, out, global_attrs={k: v for k, v in global_attrs.items()}, compressed=compressed
    )


HOUR_NS = 3600 * 10**9


def hourly_cuts(
    src: Path, folder: Path, name: Callable[[int], str], *, parts: int = 3, records: int = 6
) -> list[Path]:
    """``src`` cut into ``parts`` files of ``records`` records each, the i-th shifted by i
    hours and named ``name(i)``: consecutive files as a pipeline writes them."""
    return [
        copy_cdf(
            src,
            folder / name(i),
            records=slice(records * i, records * (i + 1)),
            shift_ns=i * HOUR_NS,
        )
        for i in range(parts)
    ]
