"""The correctness matrix: CDFs written by cdflib's and pycdfpp's writers over every encoding,
both majorities, variable and whole-file compression (GZIP, RLE), every CDF data type,
rVariables, sparse records, zero-record and never-written variables, plus real files of many
missions and CDF versions (tests/data/cdf_corpus, pycdfpp's test files); each read by us and
compared value by value with cdflib and with pycdfpp (values unmasked: ``mask_fill=False``).

Where the two references disagree we follow the CDF specification, and say so where it
happens (ARM_BIG, encoding 18, is big-endian: cdflib 1.3 reads it as little-endian).
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pycdfpp
import pytest
from cdflib.cdfwrite import CDF as CDFWriter

import soc_workspace
from soc_workspace.io import SOCDataWarning

CORPUS = Path(__file__).parent / "data" / "cdf_corpus"
ENCODINGS = (1, 2, 4, 6, 13, 16, 17, 18, 19)
LITTLE = (4, 6, 13, 16, 17, 19)
N = 7
T0 = int(cdflib.cdfepoch.compute_tt2000([2024, 4, 6, 12, 0, 0, 0, 0, 0]))
rng = np.random.default_rng(12)

# name, CDF type, numpy dtype, values of N records of shape (3, 2)
NUMERIC = [
    ("int1", 1, "i1"), ("int2", 2, "i2"), ("int4", 4, "i4"), ("int8", 8, "i8"),
    ("uint1", 11, "u1"), ("uint2", 12, "u2"), ("uint4", 14, "u4"), ("real4", 21, "f4"),
    ("real8", 22, "f8"), ("byte", 41, "i1"), ("float", 44, "f4"), ("double", 45, "f8"),
]  # fmt: skip


def _values(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype[0] == "f":
        return rng.normal(0, 1e3, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -(2**40)), min(info.max, 2**40), shape).astype(dtype)


def write_with_cdflib(path: Path, encoding: int, majority: str, var_zip: int, file_zip: int):
    spec = {"Encoding": encoding, "Majority": majority, "Compressed": file_zip, "rDim_sizes": [3]}
    writer = CDFWriter(str(path), delete=True, cdf_spec=spec)

    def var(name, ctype, data, *, rec_vary=True, dims=None, elements=1, **extra):
        if dims is None:
            dims = list(np.shape(data)[1 if rec_vary else 0 :])
        spec = {"Variable": name, "Data_Type": ctype, "Num_Elements": elements,
                "Rec_Vary": rec_vary, "Dim_Sizes": dims, "Compress": var_zip, **extra}  # fmt: skip
        writer.write_var(spec, var_data=data)

    var("Epoch", 33, T0 + np.arange(N, dtype=np.int64) * 10**9)
    var("epoch_ms", 31, 63_871_891_200_000.0 + np.arange(N) * 1000.0)
    for name, ctype, dtype in NUMERIC:
        var(name, ctype, _values(dtype, (N, 3, 2)))
    var("constant", 22, np.arange(6.0).reshape(3, 2), rec_vary=False)
    var("labels", 51, np.array(["alpha", "beta", "gamma"]), rec_vary=False, elements=5)
    var("uchar", 52, np.array([f"u{i}" for i in range(N)]), elements=2)
    var("pad_sparse", 45, [[0, 3, 6], np.array([1.5, 2.5, 3.5])], dims=[], Sparse="pad_sparse")
    var("prev_sparse", 45, [[1, 4], np.array([7.0, 8.0])], dims=[], Sparse="prev_sparse")
    var("zero_records", 4, np.zeros((0,), np.int32), dims=[])
    var("never_written", 45, None, dims=[])
    var("r_counts", 4, _values("i4", (N, 3)), dims=[3], Var_Type="rVariable", Dim_Vary=[True])
    writer.close()


def write_with_pycdfpp(path: Path, encoding: int, majority: str, var_zip: str, file_zip: str):
    cdf = pycdfpp.CDF()
    cdf.encoding = pycdfpp.Encoding(encoding)
    cdf.majority = getattr(pycdfpp.Majority, majority)
    cdf.compression = getattr(pycdfpp.CompressionType, file_zip)
    compression = getattr(pycdfpp.CompressionType, var_zip)
    types = pycdfpp.DataType

    def var(name, values, ctype, **extra):
        cdf.add_variable(name, values, getattr(types, ctype), compression=compression, **extra)

    start = np.datetime64("2024-04-06T12:00:00", "ns")
    var("Epoch", start + np.arange(N) * np.timedelta64(1, "s"), "CDF_TIME_TT2000")
    names = {1: "CDF_INT1", 2: "CDF_INT2", 4: "CDF_INT4", 8: "CDF_INT8", 11: "CDF_UINT1",
             12: "CDF_UINT2", 14: "CDF_UINT4", 21: "CDF_REAL4", 22: "CDF_REAL8", 41: "CDF_BYTE",
             44: "CDF_FLOAT", 45: "CDF_DOUBLE"}  # fmt: skip
    for name, ctype, dtype in NUMERIC:
        var(name, _values(dtype, (N, 3, 2)), names[ctype])
    var("constant", np.arange(6.0).reshape(1, 3, 2), "CDF_DOUBLE", is_nrv=True)
    var("labels", np.array([[b"alpha", b"beta ", b"gamma"]]), "CDF_CHAR", is_nrv=True)
    var("pad_sparse", np.array([1.5, 0, 0, 2.5, 0, 0, 3.5]), "CDF_DOUBLE",
        sparse_records=pycdfpp.SparseRecords.pad_sparse_records,
        virtual_records=np.array([0, 1, 1, 0, 1, 1, 0], bool))  # fmt: skip
    var("prev_sparse", np.array([0, 7.0, 0, 0, 8.0, 0, 9.0]), "CDF_DOUBLE",
        sparse_records=pycdfpp.SparseRecords.prev_sparse_records,
        virtual_records=np.array([1, 0, 1, 1, 0, 1, 0], bool))  # fmt: skip
    var("zero_records", np.zeros((0,), np.int32), "CDF_INT4")
    pycdfpp.save(cdf, str(path))


def _cases():
    for encoding, majority in itertools.product(ENCODINGS, ("row", "column")):
        yield ("cdflib", encoding, majority, "none", "none")
        yield ("pycdfpp", encoding, majority, "none", "none")
    for encoding in (1, 6, 17):
        for var_zip, file_zip in (("gzip", "none"), ("none", "gzip"), ("gzip", "gzip")):
            yield ("cdflib", encoding, "row", var_zip, file_zip)
        for var_zip, file_zip in (("gzip", "none"), ("rle", "none"), ("none", "gzip"),
                                  ("none", "rle")):  # fmt: skip
            yield ("pycdfpp", encoding, "column", var_zip, file_zip)


CASES = list(_cases())


@pytest.fixture(scope="module", params=CASES, ids=lambda c: "-".join(map(str, c)))
def generated(request, tmp_path_factory):
    writer, encoding, majority, var_zip, file_zip = request.param
    path = tmp_path_factory.mktemp("matrix") / "matrix.cdf"
    if writer == "cdflib":
        level = {"none": 0, "gzip": 6}
        write_with_cdflib(path, encoding, f"{majority}_major", level[var_zip], level[file_zip])
    else:
        kind = {"none": "no_compression", "gzip": "gzip_compression", "rle": "rle_compression"}
        write_with_pycdfpp(path, encoding, majority, kind[var_zip], kind[file_zip])
    return path, encoding


def assert_same_times(ours: np.ndarray, reference, name: str) -> None:
    """Equal, except for our documented difference: a record inside a leap second, which the
    references put on 00:00:00.x of 1 January or 1 July, is 23:59:59.999999999 before it."""
    ours = ours.reshape(-1)
    ref = np.asarray(reference, "datetime64[ns]").reshape(-1)
    differ = ~((ours == ref) | (np.isnat(ours) & np.isnat(ref)))
    if differ.any():
        moved = ref[differ]
        days = [(d.month, d.day) for d in moved.astype("datetime64[D]").astype(object)]
        assert all(day in ((1, 1), (7, 1)) for day in days), name
        assert (moved.astype("datetime64[D]") == moved.astype("datetime64[s]")).all(), name
        np.testing.assert_array_equal(
            ours[differ], moved.astype("datetime64[s]") - np.timedelta64(1, "ns"), err_msg=name
        )


def compare_with_references(path: Path, *, encoding: int | None = None) -> int:
    """Every variable of ``path``, ours against cdflib's and pycdfpp's; how many compared."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SOCDataWarning)  # zero-record variables, odd pointers
        ds = soc_workspace.open_dataset(path, mask_fill=False)
        lazy = soc_workspace.open_dataset(path, mask_fill=False, chunks={})
    theirs = pycdfpp.load(str(path))
    raw = cdflib.CDF(str(path))
    info = raw.cdf_info()
    names = [*info.zVariables, *info.rVariables]
    assert sorted(ds.variables) == sorted(names) == sorted(theirs.keys())
    for name in names:
        ours = ds[name].values
        np.testing.assert_array_equal(lazy[name].values, ours, err_msg=name)
        ctype = raw.varinq(name).Data_Type
        ref_p = np.asarray(theirs[name].values)
        try:
            ref_c = raw.varget(name)
            cdflib_reads = True
        except OSError:  # cdflib 1.3 inflates GZIP variables only, not RLE ones
            assert theirs[name].compression == pycdfpp.CompressionType.rle_compression, name
            ref_c, cdflib_reads = np.asarray(ref_p), False
        if ours.size == 0:  # no records: both references say so too
            assert ref_p.size == 0, name
            assert ref_c is None or np.size(ref_c) == 0, name
            continue
        # ARM_BIG (18) is big-endian (CDF spec, pycdfpp); cdflib 1.3 reads it little-endian
        cdflib_right = encoding != 18 and cdflib_reads
        if ctype in (31, 32, 33):
            assert_same_times(ours, pycdfpp.to_datetime64(theirs[name]), name)
            if cdflib_right:
                assert_same_times(ours, cdflib.cdfepoch.to_datetime(ref_c), name)
            continue
        if ctype in (51, 52):
            expected = [s.decode().rstrip("\x00 ") for s in ref_p.reshape(-1)]
            assert [s.rstrip("\x00 ") for s in ours.reshape(-1)] == expected, name
            continue
        np.testing.assert_array_equal(ours.reshape(-1), ref_p.reshape(-1), err_msg=name)
        assert ours.dtype == ref_p.dtype.newbyteorder("="), name
        if not cdflib_right:
            continue
        if str(raw.varinq(name).Sparse).lower() != "no_sparse":
            # cdflib 1.3 gets pad records wrong: it decodes the VDR's pad value little-endian
            # even in big-endian files, and pads multi-element records with 0.0 after the
            # first element. The CDF rule (pad value throughout) and pycdfpp agree with us.
            continue
        np.testing.assert_array_equal(ours.reshape(-1), np.asarray(ref_c).reshape(-1), err_msg=name)
    return len(names)


def test_generated_matrix(generated):
    path, encoding = generated
    assert compare_with_references(path, encoding=encoding) >= 15


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.cdf")), ids=lambda p: p.name)
def test_real_files_of_many_missions(path):
    assert compare_with_references(path) >= 1
