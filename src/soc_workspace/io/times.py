"""Time conversions: CDF epochs and PADRE packet times to ``datetime64[ns]`` (UTC).

TT2000 goes through cdflib, which knows the leap seconds. CDF_EPOCH and CDF_EPOCH16 have no
leap seconds (they count calendar milliseconds / picoseconds since year 0), so they are plain
arithmetic here: cdflib converts them one value at a time in Python (about 20 µs each, a
minute for a day of 10 Hz data), this is vectorised and gives the same instants.
"""

from __future__ import annotations

import cdflib
import numpy as np

CDF_EPOCH, CDF_EPOCH16, CDF_TIME_TT2000 = 31, 32, 33
EPOCH_TYPES = (CDF_EPOCH, CDF_EPOCH16, CDF_TIME_TT2000)

_NAT = np.datetime64("NaT", "ns")
# 0000-01-01 to 1970-01-01 in the proleptic Gregorian calendar that CDF_EPOCH counts in.
_EPOCH_TO_UNIX_S = 62_167_219_200
_TT2000_FILL = np.iinfo(np.int64).min  # -9223372036854775808, the ISTP fill value
_TT2000_PAD = _TT2000_FILL + 1  # the CDF library's pad value


def cdf_epoch_to_datetime64(
    values: np.ndarray, cdf_type: int, *, leap: list[int] | None = None
) -> np.ndarray:
    """Any CDF epoch type to ``datetime64[ns]``; fill and pad values become NaT.

    TT2000 records inside a leap second (23:59:60.x UTC, which datetime64 cannot hold) become
    23:59:59.999999999, so the time index stays monotonic; how many there were is appended to
    ``leap`` when given.
    """
    values = np.asarray(values)
    if cdf_type == CDF_TIME_TT2000:
        tt = values.astype(np.int64, copy=False)
        bad = (tt == _TT2000_FILL) | (tt == _TT2000_PAD)
        out = tt2000_to_datetime64(np.where(bad, 0, tt), leap=leap)
    elif cdf_type == CDF_EPOCH:
        ms = values.astype(np.float64, copy=False)
        # -1e31 is the ISTP fill; 0.0 the pad; anything before 1678 does not fit datetime64[ns].
        bad = ~np.isfinite(ms) | (ms <= 0) | (ms < 5.30e13) | (ms > 7.13e13)
        ms = np.where(bad, _EPOCH_TO_UNIX_S * 1e3, ms)
        # Whole milliseconds are exact in float64; scaling them to ns in float would not be.
        whole = np.floor(ms)
        ns = (whole.astype(np.int64) - _EPOCH_TO_UNIX_S * 1000) * 1_000_000
        out = (ns + np.round((ms - whole) * 1e6).astype(np.int64)).astype("datetime64[ns]")
    elif cdf_type == CDF_EPOCH16:
        pairs = values
        if values.dtype.kind == "c":
            pairs = np.stack([values.real, values.imag], axis=-1)
        seconds, picoseconds = pairs[..., 0], pairs[..., 1]
        bad = ~np.isfinite(seconds) | (seconds <= 0) | (seconds < 5.30e10) | (seconds > 7.13e10)
        whole = np.where(bad, _EPOCH_TO_UNIX_S, seconds).astype(np.int64) - _EPOCH_TO_UNIX_S
        # Truncated to the nanosecond, as cdflib and pycdfpp do (rounding would carry
        # 23:59:59.999999999500 into the next day).
        sub = (np.where(bad, 0, picoseconds) // 1000).astype(np.int64)
        out = (whole * 1_000_000_000 + sub).astype("datetime64[ns]")
    else:
        raise ValueError(f"CDF data type {cdf_type} is not an epoch type")
    return np.where(bad, _NAT, out)


def _leap_table() -> tuple[np.ndarray, np.ndarray]:
    """TT2000 values at which TAI-UTC steps (from 1972, when it became whole seconds), and the
    TAI-UTC from each step on; from cdflib's own table, so both agree on every leap second."""
    starts, offsets = [], []
    for year, month, day, tai_utc, *_ in cdflib.cdfepoch.LTS:
        if year < 1972:
            continue
        midnight = np.datetime64(f"{int(year):04d}-{int(month):02d}-{int(day):02d}", "ns")
        utc_ns = int((midnight - _J2000_UTC_LABEL).astype(np.int64))
        starts.append(utc_ns + int(tai_utc) * 1_000_000_000 + _TT_MINUS_TAI_NS)
        offsets.append(int(tai_utc) * 1_000_000_000)
    return np.array(starts, np.int64), np.array(offsets, np.int64)


# TT2000 counts SI nanoseconds from 2000-01-01T12:00:00 TT; TT = TAI + 32.184 s, and
# TAI - UTC is the leap-second count. As a datetime64 (which has no leap seconds):
# utc = 2000-01-01T12:00:00 + tt2000 - 32.184 s - (TAI-UTC).
_J2000_UTC_LABEL = np.datetime64("2000-01-01T12:00:00", "ns")
_TT_MINUS_TAI_NS = 32_184_000_000
_LEAP_STARTS, _LEAP_OFFSETS = _leap_table()


def tt2000_to_datetime64(tt2000: np.ndarray, *, leap: list[int] | None = None) -> np.ndarray:
    """TT2000 to datetime64[ns] UTC, vectorised; cdflib's own conversion costs 1 ms a call
    (most of the time to index a small file) and is used before 1972 only.

    A value inside a leap second becomes 23:59:59.999999999 of that day (not 00:00:00.x of
    the next, which would break the order of the records); their count goes to ``leap``.
    """
    tt = np.asarray(tt2000, dtype=np.int64)
    if tt.size == 0:
        return tt.astype("datetime64[ns]")
    if tt.min() < _LEAP_STARTS[0]:
        return np.asarray(cdflib.cdfepoch.to_datetime(tt), "datetime64[ns]").reshape(tt.shape)
    step = np.searchsorted(_LEAP_STARTS, tt, side="right") - 1
    ns = tt - _TT_MINUS_TAI_NS - _LEAP_OFFSETS[step]
    # The second before each step is the inserted one: TT2000 in [start - 1 s, start).
    following = _LEAP_STARTS[np.minimum(step + 1, len(_LEAP_STARTS) - 1)]
    in_leap = (step + 1 < len(_LEAP_STARTS)) & (tt >= following - 1_000_000_000)
    if in_leap.any():
        # 23:59:59.999999999: the label of the step, less the leap second and 1 ns
        last = following - _TT_MINUS_TAI_NS - _LEAP_OFFSETS[step] - 1_000_000_001
        ns = np.where(in_leap, last, ns)
        if leap is not None:
            leap.append(int(in_leap.sum()))
    return _J2000_UTC_LABEL + ns.astype("timedelta64[ns]")


# PADRE counts time from 2000-01-01T00:00:00 UTC in elapsed SI seconds (padre_meddea's EPOCH and
# calc_time, which adds astropy TimeDeltas to a UTC Time, so leap seconds count). TT2000 counts
# elapsed SI nanoseconds too, so the PADRE epoch as a TT2000 value plus the elapsed nanoseconds
# is a TT2000 value that cdflib turns into UTC with the leap seconds applied.
_PADRE_EPOCH_TT2000 = int(cdflib.cdfepoch.compute_tt2000([2000, 1, 1, 0, 0, 0, 0, 0, 0]))
PKTCLOCK_NS = 50  # 0.05 µs per packet clock tick
PHOTON_CLOCK_NS = 12_800  # 12.8 µs per photon clock tick


def padre_time(
    pkttimes: np.ndarray, pktclock: np.ndarray | None = None, clocks: np.ndarray | None = None
) -> np.ndarray:
    """PADRE packet (and photon) times as ``datetime64[ns]`` UTC.

    time = 2000-01-01T00:00:00 UTC + pkttimes s + pktclock × 0.05 µs (+ clocks × 12.8 µs),
    in integer nanoseconds, so there is no float rounding.
    """
    ns = np.asarray(pkttimes, dtype=np.int64) * 1_000_000_000
    if pktclock is not None:
        ns = ns + np.asarray(pktclock, dtype=np.int64) * PKTCLOCK_NS
    if clocks is not None:
        ns = ns + np.asarray(clocks, dtype=np.int64) * PHOTON_CLOCK_NS
    if ns.size == 0:
        return ns.astype("datetime64[ns]")
    return tt2000_to_datetime64(ns + _PADRE_EPOCH_TT2000)
