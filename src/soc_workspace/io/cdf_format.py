"""The CDF file format: where each variable's records are, and their bytes as numpy arrays.

This layer knows the CDF Internal Format Description (CDR, GDR, VDR, VXR, VVR/CVVR, CCR) and
nothing of ISTP. Decoding is split between a kept library and our own index:

- pycdfpp (the C++ CDF library) decodes what is more than plain byte ranges: attributes,
  sparse records with their pad or previous-record rule, records with gaps, strings; it also
  checks every file of the correctness matrix (tests/test_io_cdf_matrix.py) with cdflib.
- Our own index (this module) walks the VDRs and VXR trees to the byte ranges of each
  variable's records. No library exposes these, and they are what lets a chunk read only its
  records (S3 range requests, lazy per-variable loads, Dask workers reading their own bytes)
  and what open_mfdataset decodes in place while files arrive (see benchmarks/open_throughput.py:
  pycdfpp.load on the fetched bytes of every file is the baseline we are measured against).

Whole-file compression (GZIP or RLE) is inflated once per file and the inflated bytes kept in a
small cache, so chunked reads of one file never inflate it again; the same holds for the
compressed blocks (CVVR) of compressed variables.
"""

from __future__ import annotations

import gzip
import math
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from .errors import SOCDataError
from .source import Source

# CDF data type -> numpy kind and size (CDF User's Guide, section 2.5)
NUMPY_TYPES = {
    1: "i1", 2: "i2", 4: "i4", 8: "i8", 11: "u1", 12: "u2", 14: "u4", 21: "f4", 22: "f8",
    31: "f8", 32: "c16", 33: "i8", 41: "i1", 44: "f4", 45: "f8",
}  # fmt: skip
STRING_TYPES = (51, 52)
# Encodings whose values are little-endian (CDF User's Guide, "Encodings"): DECSTATION,
# IBMPC, ALPHAOSF1, ALPHAVMSi, ARM_LITTLE, IA64VMSi. All others are big-endian, including
# ARM_BIG (18), which cdflib 1.3 reads as little-endian; we follow the specification
# (pycdfpp agrees).
LITTLE_ENDIAN_ENCODINGS = (4, 6, 13, 16, 17, 19)
VAX_ENCODINGS = (3, 14, 15, 20, 21)  # VAX/Alpha/IA64 D and G floats: not IEEE
# Pad values when a VDR declares none (CDF User's Guide, "Default pad values").
DEFAULT_PADS = {
    1: -127, 2: -32767, 4: -2147483647, 8: -9223372036854775807, 11: 254, 12: 65534,
    14: 4294967294, 21: -1e30, 22: -1e30, 31: 0.0, 32: 0.0, 33: -9223372036854775807,
    41: -127, 44: -1e30, 45: -1e30,
}  # fmt: skip
_VXR, _VVR, _CVVR, _CCR, _CPR = 6, 7, 13, 10, 11
CDF_V3 = b"\xcd\xf3\x00\x01"
COMPRESSED = b"\xcc\xcc\x00\x01"


@dataclass
class Block:
    first: int  # first and last record held
    last: int
    start: int  # byte offset of the (possibly compressed) record data
    nbytes: int
    compressed: bool


@dataclass
class CDFVariable:
    """Where one variable's records are and how to decode them (picklable, for Dask tasks)."""

    name: str
    cdf_type: int
    shape: tuple[int, ...]  # one record
    nrecs: int | None  # None: not record-varying
    dtype: str  # stored numpy dtype, with byte order
    column_major: bool
    blocks: list[Block] = field(default_factory=list)
    exact: bool = True  # False: sparse, with gaps or strings, so pycdfpp reads it
    fill: Any = None
    valid: tuple[Any, Any] = (None, None)  # VALIDMIN, VALIDMAX
    head_vxr: int = 0
    written: bool = True  # False: no record was ever written
    masked_dtype: str | None = None  # set by the ISTP layer: integers with fills -> float
    compression: int = 0  # of the variable's blocks: 5 GZIP, 1 RLE (its CPR)

    @property
    def record_bytes(self) -> int:
        return np.dtype(self.dtype).itemsize * math.prod(self.shape)


@dataclass
class Header:
    version: int  # 2 or 3
    release: int  # 2.4 and older have a longer VDR
    little: bool  # byte order of the values
    column_major: bool
    z_head: int  # first zVDR, first rVDR
    r_head: int
    r_dims: tuple[int, ...]  # rVariables' dimensions (from the GDR)
    size: int  # bytes in the (inflated) file
    adr_head: int  # first attribute record
    encoding: int


class Bytes:
    """Random access to the file's bytes: slices of memory when it was fetched whole (the
    usual case on S3), otherwise seek and read."""

    def __init__(self, fileobj: BinaryIO, whole: bytes | None) -> None:
        self.fileobj = fileobj
        self.mem = memoryview(whole) if whole is not None else None
        self.size = len(whole) if whole is not None else None

    def __call__(self, offset: int, n: int) -> Any:
        if self.mem is not None:
            return self.mem[offset : offset + n]
        self.fileobj.seek(offset)
        return self.fileobj.read(n)


# -- kept decompressed bytes -------------------------------------------------------------------
class _LRU:
    """Decompressed bytes (or decoded arrays) by key, up to a byte budget (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            data = self._data.get(key)
            if data is not None:
                self._data.move_to_end(key)
                return data
        data = make()
        size = _size(data)
        with self._lock:
            if key not in self._data and size <= self.limit:
                self._data[key] = data
                self.used += size
                while self.used > self.limit:
                    _, old = self._data.popitem(last=False)
                    self.used -= _size(old)
        return data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.used = 0


def _size(data: Any) -> int:
    return int(getattr(data, "nbytes", None) or len(data))


INFLATED = _LRU(512 << 20)  # whole files, by (name, compressed size)
BLOCKS = _LRU(256 << 20)  # compressed variable blocks, by (name, size, offset)
DECODED = _LRU(256 << 20)  # variables pycdfpp decoded (sparse, strings), by (name, size, var)


# -- the file as a whole ---------------------------------------------------------------------
def is_compressed(head: bytes) -> bool:
    return head[4:8] == COMPRESSED


def inflate(data: bytes | memoryview, name: str) -> bytes:
    """A whole-file compressed CDF (second magic word 0xCCCC0001) as the uncompressed file:
    the CCR holds the compressed rest of the file after the 8 magic bytes (Internal Format
    Description, CCR and CPR); GZIP and RLE are the two schemes the CDF library writes."""
    v3 = bytes(data[:4]) == CDF_V3
    try:
        if v3:
            size, rtype, cpr, usize = struct.unpack(">qiqq", data[8:36])
            body = data[8 + 32 : 8 + size]
        else:
            size, rtype, cpr, usize = struct.unpack(">iiii", data[8:24])
            body = data[8 + 20 : 8 + size]
        if rtype != _CCR:
            raise SOCDataError(name, "compressed CDF without its CCR record: corrupted")
        if len(data) < 8 + size or cpr + 16 > len(data):
            raise SOCDataError(
                name,
                f"the file is truncated: {len(data)} bytes, its compressed record needs "
                f"{max(size + 8, cpr + 16)}; fetch it again from the archive",
            )
        ctype = struct.unpack(">i", data[cpr + (12 if v3 else 8) : cpr + (16 if v3 else 12)])[0]
        inner = _decompress(bytes(body), ctype, name, "the file")
    except SOCDataError:
        raise
    except (struct.error, OSError, EOFError, zlib.error) as err:
        raise SOCDataError(name, f"corrupted compressed CDF ({err})") from err
    if len(inner) != usize:
        raise SOCDataError(
            name, f"corrupted compressed CDF: inflates to {len(inner)} bytes, its CCR says {usize}"
        )
    return bytes(data[:4]) + b"\x00\x00\xff\xff" + inner


def _decompress(data: bytes, ctype: int, name: str, what: str) -> bytes:
    if ctype == 5:
        return gzip.decompress(data)
    if ctype == 1:
        return rle_decode(data)
    kinds = {2: "Huffman", 3: "adaptive Huffman"}
    raise SOCDataError(
        name,
        f"{what} uses {kinds.get(ctype, f'type {ctype}')} compression; GZIP and RLE are read "
        "(convert it with the CDF tools' cdfconvert)",
    )


def rle_decode(data: bytes) -> bytes:
    """The CDF run-length encoding of zeros: a 0 byte followed by n stands for n + 1 zeros."""
    out = []
    pos = 0
    while True:
        zero = data.find(b"\x00", pos)
        if zero < 0:
            out.append(data[pos:])
            return b"".join(out)
        if zero + 1 >= len(data):
            raise zlib.error("RLE data end inside a run of zeros")
        out.append(data[pos:zero])
        out.append(bytes(data[zero + 1] + 1))
        pos = zero + 2


def read_header(read: Bytes, source: Source, compressed_file: bool) -> Header:
    """The CDR and GDR (Internal Format Description, sections 2.2-2.3); a SOCDataError when
    the file is shorter than the end-of-file offset that the GDR records (a truncated upload
    or download)."""
    size = read.size if read.size is not None else source.size
    head = read(0, 8 + 40)
    v3 = bytes(head[:4]) == CDF_V3
    try:
        if v3:
            gdr, _version, release, encoding, flags = struct.unpack_from(">qiiii", head, 8 + 12)
            g = read(gdr, 84)
            r_head, z_head, adr_head = struct.unpack_from(">qqq", g, 12)
            eof = struct.unpack_from(">q", g, 36)[0]
            r_ndims = struct.unpack_from(">i", g, 56)[0]
            r_dims = struct.unpack(f">{r_ndims}i", read(gdr + 84, 4 * r_ndims))
        else:
            gdr, _version, release, encoding, flags = struct.unpack_from(">iiiii", head, 8 + 8)
            g = read(gdr, 60)
            r_head, z_head, adr_head, eof = struct.unpack_from(">iiii", g, 8)
            r_ndims = struct.unpack_from(">i", g, 36)[0]
            r_dims = struct.unpack(f">{r_ndims}i", read(gdr + 60, 4 * r_ndims))
    except struct.error:
        raise SOCDataError(
            source.name, f"the file is truncated: {size} bytes end inside the CDF header"
        ) from None
    if eof > size:
        what = "inflated content" if compressed_file else "file"
        raise SOCDataError(
            source.name,
            f"the file is truncated: the {what} has {size} bytes, its CDF header "
            f"says {eof}; fetch it again from the archive",
        )
    if encoding in VAX_ENCODINGS:
        raise SOCDataError(
            source.name,
            f"CDF encoding {encoding} (VAX floating point) is not supported (nor by cdflib "
            "or pycdfpp); convert the file with the CDF tools' cdfconvert -encoding network",
        )
    return Header(
        version=3 if v3 else 2,
        release=release,
        little=encoding in LITTLE_ENDIAN_ENCODINGS,
        column_major=not flags & 1,
        z_head=z_head,
        r_head=r_head,
        r_dims=tuple(r_dims),
        size=size,
        adr_head=adr_head,
        encoding=encoding,
    )


def read_variables(read: Bytes, header: Header, source: Source) -> dict[str, CDFVariable]:
    """Every variable's description, from the chains of VDRs (Internal Format, 2.6-2.7)."""
    specs: dict[str, CDFVariable] = {}
    for z, offset in ((True, header.z_head), (False, header.r_head)):
        seen = 0
        while offset:
            seen += 1
            if seen > 100_000:
                raise SOCDataError(source.name, "its list of variables loops: corrupted")
            spec, offset = _read_vdr(read, offset, z, header, source)
            specs[spec.name] = spec
    return specs


_VDR3 = struct.Struct(">iqiiqqiiiiiiiqi")  # RecordType .. BlockingFactor (after RecordSize)
_VDR2 = struct.Struct(">iiiiiiiiiiiiiii")
_VDR2_OLD_EXTRA = 128  # CDF 2.4 and older: rfuF is 132 bytes, not 4 (pycdfpp's desc-records)


def _read_vdr(
    read: Bytes, offset: int, z: bool, header: Header, source: Source
) -> tuple[CDFVariable, int]:
    if header.version == 3:
        raw = read(offset, 344)
        fields, name, rest = _VDR3.unpack_from(raw, 8), raw[84:340], 340
    elif header.release >= 5:
        raw = read(offset, 132)
        fields, name, rest = _VDR2.unpack_from(raw, 4), raw[64:128], 128
    else:
        raw = read(offset, 132 + _VDR2_OLD_EXTRA)
        head = bytes(raw[4:44]) + bytes(raw[44 + _VDR2_OLD_EXTRA : 64 + _VDR2_OLD_EXTRA])
        fields = _VDR2.unpack_from(head, 0)
        name, rest = raw[64 + _VDR2_OLD_EXTRA : 128 + _VDR2_OLD_EXTRA], 128 + _VDR2_OLD_EXTRA
    rtype, nxt, dtype, max_rec, head_vxr, _, flags, srecords, _, _, _, nelems, _, cpr = fields[:14]
    if rtype != (8 if z else 3):
        raise SOCDataError(source.name, f"a variable record at byte {offset} is corrupted")
    name_text = bytes(name).split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
    if z:
        ndims = struct.unpack_from(">i", raw, rest)[0]
        more = read(offset + rest + 4, 8 * ndims)
        sizes = struct.unpack_from(f">{ndims}i", more, 0)
        varys = struct.unpack_from(f">{ndims}i", more, 4 * ndims)
    else:
        ndims, sizes = len(header.r_dims), header.r_dims
        varys = struct.unpack(f">{ndims}i", read(offset + rest, 4 * ndims))
    dims = tuple(int(n) for n, vary in zip(sizes, varys, strict=False) if vary)
    if dtype in STRING_TYPES:
        np_dtype = f"S{nelems}"
    elif dtype in NUMPY_TYPES:
        np_dtype = ("<" if header.little else ">") + NUMPY_TYPES[dtype]
    else:
        raise SOCDataError(source.name, f"variable {name_text!r} has unknown CDF data type {dtype}")
    rec_vary = bool(flags & 1)
    written = max_rec >= 0
    spec = CDFVariable(
        name=name_text,
        cdf_type=int(dtype),
        shape=dims,
        # a non-record-varying variable never written has no record, as the references say
        nrecs=max_rec + 1 if rec_vary else (None if written else 0),
        dtype=np_dtype,
        column_major=header.column_major and len(dims) > 1,
        exact=srecords == 0 and dtype not in STRING_TYPES,
        head_vxr=int(head_vxr),
        written=written,
        compression=variable_compression(read, cpr, header.version) if flags & 4 else 0,
    )
    return spec, int(nxt)


# -- attributes that decide the structure --------------------------------------------------
# Files of one dataset share their variable attributes; open_mfdataset takes them from the
# first file and, for each other file, only checks that the ones that shape the Dataset are
# byte for byte the same (a broken DEPEND_0 in one file of a month is still found).
STRUCTURE_ATTRS = frozenset(
    ["VAR_TYPE", "FILLVAL", "VALIDMIN", "VALIDMAX"]
    + [f"DEPEND_{i}" for i in range(4)]
    + [f"LABL_PTR_{i}" for i in (1, 2, 3)]
)


def structure_attributes(read: Bytes, header: Header, source: Source) -> tuple[Any, ...]:
    """The raw entries of the structure-deciding variable attributes (ADR/AEDR records,
    Internal Format 2.4-2.5), as a comparable value."""
    v3 = header.version == 3
    out = []
    adr = header.adr_head
    seen = 0
    while adr:
        seen += 1
        if seen > 100_000 or adr + 68 > header.size:
            raise SOCDataError(source.name, "its list of attributes is corrupted")
        if v3:
            raw = read(adr, 68 + 256)
            nxt, gr_head, scope = struct.unpack_from(">qqi", raw, 12)
            z_head = struct.unpack_from(">q", raw, 48)[0]
            name = bytes(raw[68:324])
        else:
            raw = read(adr, 52 + 64)
            nxt, gr_head, scope = struct.unpack_from(">iii", raw, 8)
            z_head = struct.unpack_from(">i", raw, 36)[0]
            name = bytes(raw[52:116])
        key = name.split(b"\x00", 1)[0].decode("ascii", errors="replace").strip()
        if scope in (2, 4) and key in STRUCTURE_ATTRS:  # variable scope (4: "assumed")
            out.append((key, _entries(read, gr_head, v3, header, source),
                        _entries(read, z_head, v3, header, source)))  # fmt: skip
        adr = nxt
    return tuple(sorted(out))


def _entries(read: Bytes, aedr: int, v3: bool, header: Header, source: Source) -> tuple:
    out = []
    seen = 0
    while aedr:
        seen += 1
        if seen > 1_000_000 or aedr + (56 if v3 else 48) > header.size:
            raise SOCDataError(source.name, "an attribute entry is corrupted")
        if v3:
            rsize, _, nxt, _, _, num = struct.unpack_from(">qiqiii", read(aedr, 32), 0)
            value = bytes(read(aedr + 56, max(0, rsize - 56)))
        else:
            rsize, _, nxt, _, _, num = struct.unpack_from(">iiiiii", read(aedr, 24), 0)
            value = bytes(read(aedr + 48, max(0, rsize - 48)))
        out.append((num, value))
        aedr = nxt
    return tuple(sorted(out))


# -- records -------------------------------------------------------------------------------
def index_blocks(read: Bytes, spec: CDFVariable, header: Header, source: Source) -> None:
    """Fill ``spec.blocks`` from the variable's VXR tree (the CDF's record index)."""
    spec.blocks = []
    _walk_vxr(read, spec.head_vxr, spec, header.version, source, 0, header.size)
    spec.blocks.sort(key=lambda b: b.first)
    expected = 0
    for block in spec.blocks:
        if block.first != expected:
            spec.exact = False  # records missing in between: pycdfpp pads them
        expected = block.last + 1
        if block.start + block.nbytes > header.size:
            raise SOCDataError(
                source.name,
                f"the file is truncated: variable {spec.name!r} has records up to "
                f"byte {block.start + block.nbytes}, the file has {header.size} bytes",
            )
    if expected != (spec.nrecs if spec.nrecs is not None else 1):
        spec.exact = False


def _walk_vxr(
    read: Bytes,
    offset: int,
    spec: CDFVariable,
    version: int,
    source: Source,
    depth: int,
    size: int,
) -> None:
    if depth > 32:
        raise SOCDataError(source.name, f"variable {spec.name!r}: its record index loops")
    width, head = (8, 12) if version == 3 else (4, 8)  # offsets' size, record header size
    while offset:
        if version == 3:
            rsize, rtype, nxt, nent, nused = struct.unpack(">qiqii", read(offset, 28))
            fixed, per_entry = 28, 16
        else:
            rsize, rtype, nxt, nent, nused = struct.unpack(">iiiii", read(offset, 20))
            fixed, per_entry = 20, 12
        if (
            rtype != _VXR
            or not 0 <= nused <= nent
            or rsize != fixed + per_entry * nent
            or offset + rsize > size
            or not 0 <= nxt < size
        ):
            raise SOCDataError(
                source.name,
                f"variable {spec.name!r}: its record index (VXR at byte {offset}) is corrupted",
            )
        table = read(offset + fixed, nent * per_entry)
        firsts = struct.unpack_from(f">{nused}i", table, 0)
        lasts = struct.unpack_from(f">{nused}i", table, 4 * nent)
        offs = struct.unpack_from(f">{nused}{'q' if width == 8 else 'i'}", table, 8 * nent)
        for first, last, off in zip(firsts, lasts, offs, strict=False):
            kind = struct.unpack(">i", read(off + head - 4, 4))[0]
            if kind == _VXR:
                _walk_vxr(read, off, spec, version, source, depth + 1, size)
            elif kind == _VVR:
                nbytes = (last - first + 1) * spec.record_bytes
                spec.blocks.append(Block(first, last, off + head, nbytes, False))
            elif kind == _CVVR:
                # CVVR: RecordSize, RecordType, rfuA (4), CSize, then the compressed records
                csize = struct.unpack(">q" if width == 8 else ">i", read(off + head + 4, width))[0]
                spec.blocks.append(Block(first, last, off + head + 4 + width, csize, True))
            else:
                raise SOCDataError(
                    source.name,
                    f"variable {spec.name!r}: record index points at a record of "
                    f"type {kind}, expected VVR/CVVR/VXR; the file is corrupted",
                )
        offset = nxt


def variable_compression(read: Bytes, spec_cpr: int, version: int) -> int:
    """The compression type in a variable's CPR (5 GZIP, 1 RLE)."""
    off = 12 if version == 3 else 8
    return struct.unpack(">i", read(spec_cpr + off, 4))[0]


def decode(
    spec: CDFVariable,
    start: int,
    stop: int,
    fetch: Callable[[list[tuple[int, int]]], list[Any]],
    source: Source,
    copy: bool = True,
) -> np.ndarray:
    """Records ``start:stop`` (stored byte order and type) from the byte ranges of the blocks
    that hold them.

    ``fetch`` turns a list of (start, stop) byte ranges into their bytes (from memory, a file
    object, or one concurrent batch of range requests). A compressed block is inflated once
    and kept (``BLOCKS``), so chunks smaller than a block do not inflate it again.
    """
    rb = spec.record_bytes
    wanted: list[tuple[Block, int, int]] = []
    for block in spec.blocks:
        lo, hi = max(block.first, start), min(block.last + 1, stop)
        if lo < hi:
            wanted.append((block, lo, hi))
    ranges: list[tuple[int, int]] = []
    todo: list[int] = []
    kept: dict[int, bytes] = {}
    for i, (block, lo, hi) in enumerate(wanted):
        if block.compressed:
            key = (source.name, source.size, block.start)
            data = BLOCKS._data.get(key)
            if data is not None:
                kept[i] = data
                continue
            ranges.append((block.start, block.start + block.nbytes))
        else:
            ranges.append(
                (block.start + (lo - block.first) * rb, block.start + (hi - block.first) * rb)
            )
        todo.append(i)
    fetched = dict(zip(todo, fetch(ranges), strict=True)) if ranges else {}
    parts = []
    for i, (block, lo, hi) in enumerate(wanted):
        if block.compressed:
            raw = kept.get(i)
            if raw is None:
                compressed = bytes(fetched[i])
                what = f"variable {spec.name!r}"
                try:
                    raw = BLOCKS.get(
                        (source.name, source.size, block.start),
                        lambda c=compressed, w=what: _decompress(
                            c, spec.compression, source.name, w
                        ),
                    )
                except (OSError, EOFError, zlib.error) as err:
                    raise SOCDataError(
                        source.name,
                        f"variable {spec.name!r}: records {block.first}-{block.last} do not "
                        f"decompress ({err}); the file is corrupted",
                    ) from err
            chunk: Any = raw[(lo - block.first) * rb : (hi - block.first) * rb]
        else:
            chunk = fetched[i]
        if len(chunk) != (hi - lo) * rb:
            raise SOCDataError(
                source.name,
                f"variable {spec.name!r}: records {lo}-{hi - 1} are cut short; "
                "the file is truncated or corrupted",
            )
        parts.append(chunk)
    n = stop - start
    buffer: Any = b"" if not parts else parts[0] if len(parts) == 1 else b"".join(parts)
    flat = np.frombuffer(buffer, dtype=spec.dtype, count=n * math.prod(spec.shape))
    if spec.column_major:
        values = flat.reshape((n, *spec.shape[::-1])).transpose(0, *range(len(spec.shape), 0, -1))
    else:
        values = flat.reshape((n, *spec.shape))
    # A copy (unless the caller copies anyway, as Dask does when it joins files' chunks): the
    # result must not pin, or be a read-only view of, the whole fetched file.
    return values.astype(values.dtype.newbyteorder("="), copy=copy)


# -- pycdfpp: attributes and the variables that are not plain byte ranges -----------------------
def load_with_pycdfpp(data: Any, name: str) -> Any:
    """pycdfpp's view of a whole file (bytes, or a local path); values are decoded lazily."""
    import pycdfpp

    try:
        cdf = pycdfpp.load(data, lazy_load=True)
    except Exception as err:
        raise SOCDataError(name, f"pycdfpp cannot read it ({type(err).__name__}: {err})") from err
    if cdf is None:
        raise SOCDataError(name, "pycdfpp cannot read it as a CDF")
    return cdf


def pycdfpp_values(cdf: Any, spec: CDFVariable, name: str) -> np.ndarray:
    """All records of a variable as pycdfpp decodes them (sparse records padded by the CDF
    rule, strings as bytes), in the stored numpy dtype, one leading record axis."""
    try:
        var = cdf[spec.name]
        values = np.asarray(var.values)
    except Exception as err:
        raise SOCDataError(
            name, f"cannot read variable {spec.name!r} ({type(err).__name__}: {err})"
        ) from err
    if values.dtype.names:  # epochs come as structured arrays (mseconds, nseconds, ...)
        if spec.cdf_type == 32:
            values = values.view(np.float64).reshape((*values.shape, 2))
            values = values[..., 0] + 1j * values[..., 1]
        else:
            values = values.view(values.dtype[0])
    n = spec.nrecs if spec.nrecs is not None else 1
    if values.size == 0:
        return np.zeros((0, *spec.shape), np.dtype(spec.dtype).newbyteorder("="))
    values = values.reshape((n, *spec.shape))
    if spec.cdf_type in STRING_TYPES:
        return values.astype(spec.dtype, copy=False)
    return values.astype(np.dtype(spec.dtype).newbyteorder("="), copy=False)


_TYPE_NUMBERS = {
    "CDF_INT1": 1, "CDF_INT2": 2, "CDF_INT4": 4, "CDF_INT8": 8, "CDF_UINT1": 11,
    "CDF_UINT2": 12, "CDF_UINT4": 14, "CDF_REAL4": 21, "CDF_REAL8": 22, "CDF_EPOCH": 31,
    "CDF_EPOCH16": 32, "CDF_TIME_TT2000": 33, "CDF_BYTE": 41, "CDF_FLOAT": 44,
    "CDF_DOUBLE": 45, "CDF_CHAR": 51, "CDF_UCHAR": 52,
}  # fmt: skip


def type_number(cdf_type: Any) -> int | None:
    """The CDF data type number of a pycdfpp ``DataType`` or a cdflib type name."""
    name = cdf_type if isinstance(cdf_type, str) else getattr(cdf_type, "name", "")
    return _TYPE_NUMBERS.get(name)


def attribute_value(value: Any, cdf_type: int | None = None) -> Any:
    """An attribute entry as the plain value users expect, the same from pycdfpp and cdflib:
    a str, a number, an array of the entry's own CDF type, or datetime64 for epochs."""
    if isinstance(value, str):
        return value
    if cdf_type in (31, 32, 33) and not isinstance(value, list):  # cdflib: raw epoch numbers
        from .times import cdf_epoch_to_datetime64

        raw = np.asarray(value)
        if cdf_type == 32 and raw.dtype.kind != "c":
            raw = raw.reshape(-1, 2)
        value = cdf_epoch_to_datetime64(raw.reshape(-1) if cdf_type != 32 else raw, cdf_type)
    elif cdf_type in NUMPY_TYPES and cdf_type not in (31, 32, 33) and isinstance(value, list):
        value = np.asarray(value, dtype=NUMPY_TYPES[cdf_type])
    if isinstance(value, (list, tuple)):
        import pycdfpp

        epochs = (pycdfpp.epoch, pycdfpp.epoch16, pycdfpp.tt2000_t)
        if value and isinstance(value[0], epochs):  # epoch-typed attributes: as times
            value = np.asarray(pycdfpp.to_datetime64(list(value)), "datetime64[ns]")
        else:
            value = np.asarray(value)
    if isinstance(value, np.ndarray):
        if value.size == 1:
            one = value.reshape(())[()]
            return one if value.dtype.kind == "M" else one.item()
        return value
    if isinstance(value, np.generic):
        return value if value.dtype.kind == "M" else value.item()
    return value


def pycdfpp_attributes(cdf: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Global attributes (one entry: the value; several: a list) and each variable's."""
    global_attrs: dict[str, Any] = {}
    for key, attr in cdf.attributes.items():
        entries = [attribute_value(attr[i], type_number(attr.type(i))) for i in range(len(attr))]
        global_attrs[key] = "" if not entries else entries[0] if len(entries) == 1 else entries
    var_attrs = {
        name: {
            k: attribute_value(a.value, type_number(a.type())) for k, a in var.attributes.items()
        }
        for name, var in cdf.items()
    }
    return global_attrs, var_attrs
