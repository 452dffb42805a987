"""The level-0 formats: CCSDS space packets in one of two layouts, told apart by length.

Science layout: 72-byte packets, one energy step each, big-endian bit fields as in
hermes_eea's ``hermes_EEA_sci_packet_def.csv`` (the real EEA level-0 file has it)::

    CCSDS primary header   48 bits  version 0, type 0, secondary header 1, APID 260,
                                    sequence flags 3, sequence count, data length 65
    SHCOARSE               32 bits  seconds since J2000 (2000-01-01T12:00:00 TT)
    SHFINE                 20 bits  1/2**20 s
    (fill)                  4 bits
    SHEID                   8 bits  sensor id (1: the flight sensor, the one calibrated)
    STEP                    8 bits  energy-deflection step
    COUNTER1, COUNTER2     16 bits each
    ACCUM                  34 x 12 bits  counts per anode
    CKSUM16                16 bits  sum of the preceding 16-bit words, modulo 2**16

Skymap layout (soc-workspace's demo data, ``soc_workspace.demo.ccsds``): one packet per
sweep, a secondary header of ``uint32`` seconds since 2000-01-01T00:00:00 UTC and ``uint32``
0.05 us ticks, then the sweep's 41 x 4 x 32 skymap counts as ``uint16`` words, then a checksum
word (sum of the data field's words, modulo 2**16).

Both are read into the same arrays: ``tt2000`` times and ``accum`` counts shaped
``(packet, energy, ...)``. Packets with another APID (housekeeping) are skipped by the
calibration.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PACKET_BYTES = 72
SCIENCE_APID = 260
HOUSEKEEPING_APID = 261
ANODES = 34


SKYMAP_SHAPE = (41, 4, 32)
J2000_TT2000 = 0  # SHCOARSE counts from J2000 (TT), the zero of TT2000
UTC2000_TT2000 = -43135816000000  # 2000-01-01T00:00:00 UTC in TT2000


def read_packets(path: Path) -> dict[str, np.ndarray]:
    """Parse every packet of ``path``; raise ValueError naming the file if it is damaged."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0:
        raise ValueError(f"{path.name}: empty file, no packets")
    if raw.size >= 6 and ((int(raw[4]) << 8) | int(raw[5])) != PACKET_BYTES - 7:
        return _read_skymaps(path, raw)
    if raw.size % PACKET_BYTES:
        raise ValueError(
            f"{path.name}: {raw.size} bytes is not a whole number of {PACKET_BYTES}-byte "
            f"packets (truncated after packet {raw.size // PACKET_BYTES})"
        )
    b = raw.reshape(-1, PACKET_BYTES)
    w = b.astype(np.uint32)
    version = w[:, 0] >> 5
    apid = ((w[:, 0] & 0x07) << 8) | w[:, 1]
    length = (w[:, 4] << 8) | w[:, 5]
    bad = np.flatnonzero((version != 0) | (length != PACKET_BYTES - 7))
    if bad.size:
        raise ValueError(
            f"{path.name}: packet {bad[0]} has no valid CCSDS header "
            f"(version {version[bad[0]]}, length {length[bad[0]]}, expected 0 and "
            f"{PACKET_BYTES - 7})"
        )
    fine = (w[:, 10] << 12) | (w[:, 11] << 4) | (w[:, 12] >> 4)
    coarse = (w[:, 6] << 24) | (w[:, 7] << 16) | (w[:, 8] << 8) | w[:, 9]
    return {
        "apid": apid,
        "tt2000": J2000_TT2000
        + coarse.astype(np.int64) * 10**9
        + (fine.astype(np.int64) * 10**9 >> 20),
        "sensor": b[:, 13].copy(),
        "accum": _unpack12(b[:, 19:70]),
        "checksum_ok": _checksums(b) == ((w[:, 70] << 8) | w[:, 71]),
    }


def _read_skymaps(path: Path, raw: np.ndarray) -> dict[str, np.ndarray]:
    words = int(np.prod(SKYMAP_SHAPE))
    size = 6 + 8 + 2 * words + 2
    if raw.size % size:
        raise ValueError(
            f"{path.name}: {raw.size} bytes is not a whole number of {size}-byte skymap "
            f"packets (truncated after packet {raw.size // size})"
        )
    b = raw.reshape(-1, size)
    head = b[:, :6].astype(np.uint32)
    length = (head[:, 4] << 8) | head[:, 5]
    if np.any(length != size - 7) or np.any(head[:, 0] >> 5):
        raise ValueError(f"{path.name}: packets of mixed or unknown layouts")
    body = b[:, 6:].copy().view(">u2").astype(np.uint32)
    seconds = (body[:, 0] << 16) | body[:, 1]
    ticks = (body[:, 2] << 16) | body[:, 3]
    checksum_ok = (body[:, :-1].sum(axis=1) & 0xFFFF) == body[:, -1]
    return {
        "apid": ((head[:, 0] & 0x07) << 8) | head[:, 1],
        "tt2000": UTC2000_TT2000 + seconds.astype(np.int64) * 10**9 + ticks.astype(np.int64) * 50,
        "sensor": np.ones(len(b), dtype=np.uint8),
        "accum": body[:, 4:-1].astype(np.uint16).reshape(len(b), *SKYMAP_SHAPE),
        "checksum_ok": checksum_ok,
    }


def _unpack12(block: np.ndarray) -> np.ndarray:
    triples = block.reshape(block.shape[0], -1, 3).astype(np.uint16)
    first = (triples[..., 0] << 4) | (triples[..., 1] >> 4)
    second = ((triples[..., 1] & 0x0F) << 8) | triples[..., 2]
    return np.stack([first, second], axis=-1).reshape(block.shape[0], -1)


def _pack12(values: np.ndarray) -> np.ndarray:
    v = values.astype(np.uint16).reshape(values.shape[0], -1, 2)
    out = np.empty((values.shape[0], v.shape[1], 3), dtype=np.uint8)
    out[..., 0] = v[..., 0] >> 4
    out[..., 1] = ((v[..., 0] & 0x0F) << 4) | (v[..., 1] >> 8)
    out[..., 2] = v[..., 1] & 0xFF
    return out.reshape(values.shape[0], -1)


def _checksums(b: np.ndarray) -> np.ndarray:
    words = b[:, :70].reshape(b.shape[0], -1, 2).astype(np.uint32)
    return ((words[..., 0] << 8) | words[..., 1]).sum(axis=1) & 0xFFFF


def write_packets(
    path: Path,
    *,
    coarse: np.ndarray,
    accum: np.ndarray,
    step: np.ndarray | None = None,
    fine: np.ndarray | None = None,
    sensor: int = 1,
    apid: int = SCIENCE_APID,
    first_sequence: int = 0,
) -> Path:
    """Write packets in the level-0 format (the inverse of :func:`read_packets`)."""
    n = len(coarse)
    fine = np.zeros(n, dtype=np.uint32) if fine is None else np.asarray(fine, dtype=np.uint32)
    step = np.arange(n) % 164 if step is None else np.asarray(step)
    accum = np.asarray(accum, dtype=np.uint16)
    b = np.zeros((n, PACKET_BYTES), dtype=np.uint8)
    sequence = (first_sequence + np.arange(n)) & 0x3FFF
    b[:, 0] = 0x08 | (apid >> 8)
    b[:, 1] = apid & 0xFF
    b[:, 2] = 0xC0 | (sequence >> 8)
    b[:, 3] = sequence & 0xFF
    b[:, 5] = PACKET_BYTES - 7
    coarse = np.asarray(coarse, dtype=np.uint32)
    for i, shift in enumerate((24, 16, 8, 0)):
        b[:, 6 + i] = (coarse >> shift) & 0xFF
    b[:, 10] = (fine >> 12) & 0xFF
    b[:, 11] = (fine >> 4) & 0xFF
    b[:, 12] = (fine & 0x0F) << 4
    b[:, 13] = sensor
    b[:, 14] = step
    counter1 = accum.sum(axis=1) // 4
    counter2 = accum.max(axis=1)
    b[:, 15], b[:, 16] = counter1 >> 8, counter1 & 0xFF
    b[:, 17], b[:, 18] = counter2 >> 8, counter2 & 0xFF
    b[:, 19:70] = _pack12(accum)
    checksum = _checksums(b)
    b[:, 70], b[:, 71] = checksum >> 8, checksum & 0xFF
    path.write_bytes(b.tobytes())
    return path


def simulate(path: Path, *, packets: int, start: int, seed: int = 0, sensor: int = 1) -> Path:
    """A level-0 file of ``packets`` science packets, one per second from ``start`` (J2000 s).

    Counts follow a drifting electron spectrum across the 34 anodes, Poisson-distributed.
    """
    rng = np.random.default_rng(seed)
    anodes = np.arange(ANODES)
    centre = 12 + 6 * np.sin(np.arange(packets) / 50.0)[:, None]
    rate = 40 + 900 * np.exp(-0.5 * ((anodes[None, :] - centre) / 3.5) ** 2)
    accum = np.minimum(rng.poisson(rate), 4095)
    return write_packets(
        path,
        coarse=start + np.arange(packets),
        accum=accum,
        sensor=sensor,
        fine=rng.integers(0, 2**20, packets),
    )
