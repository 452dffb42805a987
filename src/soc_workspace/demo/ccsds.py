"""CCSDS space packets for the demo raw files (HERMES l0 ``.bin``, PADRE MeDDEA ``.DAT``).

Every packet is a CCSDS primary header (6 bytes: version 0, type 0 telemetry, secondary header
flag 1, the APID, sequence flags 3 "unsegmented", a 14-bit sequence count, data length - 1),
then a time-stamped secondary header, then the payload, all big-endian:

- secondary header (8 bytes): ``uint32`` whole seconds since 2000-01-01T00:00:00 UTC (SI
  seconds, leap seconds counted, as PADRE's ``pkttimes``), ``uint32`` sub-second in 0.05 µs
  ticks (as PADRE's ``pktclock``);
- payload: 16-bit words defined by the demo generators, ending with a 16-bit checksum (the sum
  of the data field's words before it, modulo 2**16).

Payloads (uint16 words after the secondary header, before the checksum):

- HERMES EEA (APID 0x104): the record's skymap counts, 41 x 4 x 32 (energy, elevation, azimuth);
- MeDDEA photon (0xA0): livetime, inttime, flags, decim_lvl, drop_cnt, int_time_flag, then
  3 words a hit: clocks, ``asic << 5 | channel``, atod (the hit count follows from the length);
- MeDDEA spectrum (0xA2): 24 words ``asic << 5 | channel``, then 24 x 512 counts;
- MeDDEA housekeeping (0xA3): the 14 channels of the HK table, in its column order.

The framing is standard CCSDS, so ccsdspy and every packet tool read it; the payloads are
synthetic, NOT the instruments' packet definitions, so the missions' calibration code cannot
decode them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .istp import tt2000

PRIMARY_HEADER_BYTES = 6
SECONDARY_HEADER_BYTES = 8
TICK_SECONDS = 0.05e-6  # sub-second ticks of the secondary header (PADRE pktclock)
TICKS_PER_SECOND = 20_000_000
SEQUENCE_MODULO = 1 << 14
# TT2000 of 2000-01-01T00:00:00 UTC: the zero of packet seconds.
PACKET_EPOCH_TT2000 = tt2000(2000, 1, 1)


def packet_seconds(tt2000_ns: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Packet time fields (whole seconds since 2000-01-01 UTC, 0.05 µs ticks) of TT2000 times."""
    ns = np.asarray(tt2000_ns, dtype=np.int64) - PACKET_EPOCH_TT2000
    seconds, rest = np.divmod(ns, 1_000_000_000)
    return seconds.astype(np.uint32), (rest // 50).astype(np.uint32)


def packet_tt2000(seconds: np.ndarray | int, ticks: np.ndarray | int) -> np.ndarray:
    """TT2000 of packet time fields (the inverse of :func:`packet_seconds`)."""
    return (
        PACKET_EPOCH_TT2000
        + np.asarray(seconds, dtype=np.int64) * 1_000_000_000
        + np.asarray(ticks, dtype=np.int64) * 50
    )


@dataclass(frozen=True)
class Packets:
    """Packets built at once: the bytes, and per packet its length field and checksum."""

    data: bytes
    lengths: np.ndarray  # the primary header's data length field (bytes in data field - 1)
    checksums: np.ndarray


def build_packets(
    apid: int,
    sequences: np.ndarray,
    seconds: np.ndarray,
    ticks: np.ndarray,
    head: np.ndarray,
    items: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> Packets:
    """Frame many packets in one go (numpy, no Python loop over packets).

    Packet ``p`` carries ``head[p]`` (uint16 words), then ``counts[p]`` consecutive rows of
    ``items`` (e.g. the hits of a photon packet), then the checksum.
    """
    if not 0 <= apid < 2048:
        raise ValueError(f"APID {apid} does not fit in 11 bits")
    head = np.asarray(head, dtype=np.uint16)
    n, k = head.shape
    if items is None or counts is None:
        items, counts = np.zeros((0, 1), np.uint16), np.zeros(n, np.int64)
    width = items.shape[1]
    counts = np.asarray(counts, dtype=np.int64)
    n_words = 3 + 4 + k + width * counts + 1
    if np.any(n_words * 2 - 6 > 65536):
        raise ValueError("a packet data field exceeds 65536 bytes")
    ends = np.cumsum(n_words)
    starts = ends - n_words
    out = np.zeros(int(ends[-1]) if n else 0, dtype=np.int64)
    seconds = np.asarray(seconds, dtype=np.int64)
    ticks = np.asarray(ticks, dtype=np.int64)
    out[starts] = (1 << 11) | apid  # version 0, telemetry, secondary header present
    out[starts + 1] = (3 << 14) | (np.asarray(sequences, dtype=np.int64) % SEQUENCE_MODULO)
    out[starts + 2] = (n_words - 3) * 2 - 1
    out[starts + 3], out[starts + 4] = seconds >> 16, seconds & 0xFFFF
    out[starts + 5], out[starts + 6] = ticks >> 16, ticks & 0xFFFF
    out[starts[:, None] + 7 + np.arange(k)] = head
    if len(items):
        packet_of = np.repeat(np.arange(n), counts)
        local = np.arange(len(items)) - np.repeat(np.cumsum(counts) - counts, counts)
        at = starts[packet_of] + 7 + k + width * local
        out[at[:, None] + np.arange(width)] = items
    # checksum: the data field's words before it (secondary header included)
    running = np.concatenate([[0], np.cumsum(out)])
    sums = (running[ends - 1] - running[starts + 3]) % 65536
    out[ends - 1] = sums
    return Packets(out.astype(">u2").tobytes(), (n_words - 3) * 2 - 1, sums.astype(np.uint16))


@dataclass(frozen=True)
class Packet:
    apid: int
    sequence: int
    seconds: int
    ticks: int
    words: np.ndarray  # payload words, checksum excluded
    checksum_ok: bool


def iter_packets(data: bytes) -> Iterator[Packet]:
    """Read demo packets back (for checks; ccsdspy reads the same framing)."""
    offset = 0
    while offset < len(data):
        if len(data) - offset < PRIMARY_HEADER_BYTES + SECONDARY_HEADER_BYTES:
            raise ValueError(f"truncated packet at byte {offset}")
        first, second, length = np.frombuffer(data, dtype=">u2", count=3, offset=offset)
        end = offset + PRIMARY_HEADER_BYTES + int(length) + 1
        if end > len(data):
            raise ValueError(f"truncated packet at byte {offset}")
        body = np.frombuffer(data[offset + PRIMARY_HEADER_BYTES : end], dtype=">u2")
        seconds, ticks = np.frombuffer(body[:4].tobytes(), dtype=">u4")
        yield Packet(
            apid=int(first) & 0x7FF,
            sequence=int(second) & 0x3FFF,
            seconds=int(seconds),
            ticks=int(ticks),
            words=body[4:-1].astype(np.uint16),
            checksum_ok=int(body[:-1].astype(np.int64).sum()) % 65536 == int(body[-1]),
        )
        offset = end
