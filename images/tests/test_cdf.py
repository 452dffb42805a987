"""The CDF stack: spacepy's bundled NASA CDF library writes, cdflib reads it back."""

from __future__ import annotations

import numpy as np


def test_nasa_cdf_library_loads():
    from spacepy import pycdf

    major, minor, *_ = pycdf.lib.version
    assert (major, minor) >= (3, 8)


def test_write_with_libcdf_read_with_cdflib(tmp_path):
    import cdflib
    from spacepy import pycdf

    path = tmp_path / "hermes_eea_l1_20250601T000000_v1.0.0.cdf"
    counts = np.arange(12, dtype=np.uint32).reshape(4, 3)
    with pycdf.CDF(str(path), "") as cdf:
        cdf["counts"] = counts
        cdf.attrs["Mission_group"] = "HERMES"
    back = cdflib.CDF(str(path))
    assert np.array_equal(back.varget("counts"), counts)
    assert back.globalattsget()["Mission_group"] == ["HERMES"]
