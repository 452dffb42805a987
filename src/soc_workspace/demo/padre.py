"""PADRE MeDDEA demo data: raw packet files, the l0 FITS made of each, and daily l1 FITS.

Every 2 hours the spacecraft delivers one raw file per packet type; the pipeline turns each into
one l0 FITS of the same time, and each day's l0 files of a product into one l1 FITS:

============  ====  ===============================  ============================  ==========
product       APID  raw name (time = first packet)   content                       raw / l0
============  ====  ===============================  ============================  ==========
photon        0xA0  ``PADREMDA0_YYMMDDhhmmss.DAT``    event list: ~0.5 events/s     0.1-0.3 MB
                                                     (1/40 of the hits), up to     0.2-1 MB
                                                     ~50/s in the daily flare
spectrum      0xA2  ``PADREMDA2_YYMMDDhhmmss.DAT``    24 spectra x 512 bins every   0.3 MB
                                                     10 min (the instrument: 10 s;  0.1 MB
                                                     kept light, since writing
                                                     compressed FITS is slow)
housekeeping  0xA3  ``PADREMDU8_YYMMDDhhmmss.DAT``    14 ADC channels every 5 s     60 / 70 kB
============  ====  ===============================  ============================  ==========

l0 names: ``padre_meddea_l0_{photon|spectrum|housekeeping}_YYYYMMDDThhmmss_v1.0.0.fits`` at the
raw file's time; l1: ``padre_meddea_l1_{product}_<first l0 time>_v1.0.0.fits``, one per day
(photon ~4 MB, spectrum ~1 MB, housekeeping ~0.6 MB).

The science: 4 detectors (ASICs) of 12 pixels (8 large, 4 small) see a steady background of
~20 hits/s (mostly the Ba-133 calibration lines at 31, 35 and 81 keV) and one synthetic flare a
day (peak ~2000 hits/s some time between 09 and 15 UT, 4-min rise, 12-min decay) with a
power-law spectrum (index 4 above ~6 keV). Pixels turn keV into ADC values (``atod``) with their
own gain (~40 ADC/keV) and offset. Housekeeping drifts with the orbit (95 min) like the real
values. Times are encoded as the real files have them (see :mod:`.ccsds`): ``pkttimes`` whole
seconds since 2000-01-01T00:00:00 UTC, ``pktclock`` 0.05 µs ticks, photon ``clocks`` 12.8 µs
ticks after the packet time. Packet payloads are synthetic (see :mod:`.ccsds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from ..missions import make_filename
from . import ccsds, padre_fits
from .istp import tt2000
from .seeding import rng_for

PRODUCTS = ("photon", "spectrum", "housekeeping")
APID = {"photon": 0xA0, "spectrum": 0xA2, "housekeeping": 0xA3}
RAW_CODE = {"photon": "MDA0", "spectrum": "MDA2", "housekeeping": "MDU8"}
WINDOW_SECONDS = 2 * 3600
SPECTRUM_SECONDS = 600
HK_SECONDS = 5
CLOCK_TICK = 12.8e-6  # s, photon ``clocks`` and live/integration times
PACKET_WINDOW = 0.8  # s: a photon packet closes after this, or ...
PACKET_MAX_HITS = 200  # ... when it holds this many hits
PHOTON_FRACTION = 1 / 40  # of the hits that reach the event list (the rest is decimated)
BACKGROUND_RATE = 20.0  # hits/s, all detectors
FLARE_PEAK_RATE = 2000.0
DEAD_TIME = 20e-6  # s per hit
N_ASICS, N_PIXELS = 4, 12
# channel of each pixel 0..11 (the real spectrum packets list them in this order)
PIXEL_CHANNELS = np.array([26, 15, 8, 1, 29, 18, 5, 0, 30, 21, 11, 3], dtype=np.uint16)
PIXEL_WEIGHTS = np.array([4.0] * 8 + [1.0] * 4)  # large pixels collect 4x the small ones
LINES_KEV = np.array([30.97, 34.92, 81.0])
LINE_WEIGHTS = np.array([0.55, 0.15, 0.30])
RESOLUTION_KEV = 0.45  # Gaussian sigma of a line


@dataclass(frozen=True)
class Day:
    """What is the same for all of a day's files: the flare and the pixels' calibration."""

    date: datetime  # 00:00 UTC
    packet_seconds: int  # pkttimes of 00:00 UTC
    flare_peak: float  # seconds after 00:00
    gain: np.ndarray  # [asic, pixel] ADC per keV
    offset: np.ndarray  # [asic, pixel] ADC

    def true_rate(self, t: np.ndarray) -> np.ndarray:
        """Hits per second on all detectors at ``t`` seconds after 00:00."""
        return BACKGROUND_RATE + self.flare_rate(t)

    def flare_rate(self, t: np.ndarray) -> np.ndarray:
        dt = np.asarray(t, dtype=float) - self.flare_peak
        rise = np.exp(-0.5 * (np.minimum(dt, 0) / 240) ** 2)
        decay = np.exp(-np.maximum(dt, 0) / 720)
        return FLARE_PEAK_RATE * rise * decay

    def time(self, t: float) -> datetime:
        return self.date + timedelta(seconds=float(t))


def make_day(date: datetime, seed: int) -> Day:
    rng = rng_for(seed, f"padre_meddea_day_{date:%Y%m%d}")
    seconds, _ = ccsds.packet_seconds(tt2000(date.year, date.month, date.day))
    return Day(
        date=date,
        packet_seconds=int(seconds),
        flare_peak=float(rng.uniform(9 * 3600, 15 * 3600)),
        gain=rng.normal(40.0, 1.5, (N_ASICS, N_PIXELS)),
        offset=rng.normal(120.0, 8.0, (N_ASICS, N_PIXELS)),
    )


def day_products(product: str, date: datetime, seed: int) -> list[tuple[str, bytes]]:
    """All files of one product and day: 12 raw + 12 l0 (one per 2 h) + the daily l1."""
    day = make_day(date, seed)
    files: list[tuple[str, bytes]] = []
    parts: list[padre_fits.Tables] = []
    for start in range(0, 86400, WINDOW_SECONDS):
        rng = rng_for(seed, f"padre_meddea_{product}_{day.time(start):%Y%m%dT%H%M%S}")
        tables, raw = _WINDOW[product](day, start, rng)
        first = _first_time(day, tables)
        raw_name = f"PADRE{RAW_CODE[product]}_{first:%y%m%d%H%M%S}.DAT"
        l0_name = product_name(product, "l0", first)
        tables = padre_fits.Tables(product, tables, origin=[raw_name], apid=APID[product])
        files.append((raw_name, raw))
        files.append((l0_name, padre_fits.fits_bytes(tables, l0_name, "l0", day.date)))
        parts.append(tables)
    l1 = padre_fits.concatenate(parts, [name for name, _ in files[1::2]])
    l1_name = product_name(product, "l1", _first_time(day, parts[0].tables))
    files.append((l1_name, padre_fits.fits_bytes(l1, l1_name, "l1", day.date)))
    return files


def product_name(product: str, level: str, time: datetime) -> str:
    return make_filename(
        mission="padre",
        instrument="meddea",
        level=level,
        descriptor=product,
        time=time,
        version="1.0.0",
    )


def days(start: datetime, n: int) -> list[datetime]:
    base = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return [base + timedelta(days=d) for d in range(n)]


N_FILES_PER_DAY = 2 * (86400 // WINDOW_SECONDS) + 1


def _first_time(day: Day, tables: dict[str, np.ndarray]) -> datetime:
    table = tables["PKT"] if "PKT" in tables else tables["HK"]
    first = int(table["pkttimes"][0]) - day.packet_seconds
    return day.date + timedelta(seconds=first)


# -- photons ---------------------------------------------------------------------------------


def _photon_window(day: Day, start: int, rng: np.random.Generator) -> tuple[dict, bytes]:
    # Event times: Poisson counts per second, uniform inside each second.
    seconds = np.arange(start, start + WINDOW_SECONDS)
    photon_rate = day.true_rate(seconds + 0.5) * PHOTON_FRACTION
    counts = rng.poisson(photon_rate)
    t = np.repeat(seconds, counts) + rng.random(counts.sum())
    t.sort()
    flare_share = day.flare_rate(t) / day.true_rate(t)
    energy = _energies(rng, rng.random(t.size) < flare_share)
    asic = rng.integers(0, N_ASICS, t.size)
    pixel = rng.choice(N_PIXELS, t.size, p=PIXEL_WEIGHTS / PIXEL_WEIGHTS.sum())
    gain, offset = day.gain[asic, pixel], day.offset[asic, pixel]
    atod = offset + gain * (energy + rng.normal(0, RESOLUTION_KEV, t.size))
    atod = np.clip(np.rint(atod), 0, 4095).astype(np.uint16)

    first, last, closed_by_time = _packets(t)
    n = len(first)
    pkt_t = t[first]
    hits = last - first
    clocks = np.rint((t - np.repeat(pkt_t, hits)) / CLOCK_TICK).astype(np.uint16)
    inttime = np.where(
        closed_by_time,
        round(PACKET_WINDOW / CLOCK_TICK),
        clocks[last - 1].astype(np.int64) + 1,
    )
    true = day.true_rate(pkt_t)
    livetime = np.maximum(np.rint(inttime * (1 - true * DEAD_TIME)), 1).astype(np.uint16)
    inttime = inttime.astype(np.uint16)
    pkttimes, pktclock = _packet_time(day, pkt_t)
    seq = _sequence(rng, n)
    decim = np.select([true > 1000, true > 500], [2, 1], 0).astype(np.uint16)
    drop = np.where(true > 500, rng.poisson(true / 200), 0).astype(np.uint16)
    flags = np.full(n, 0x8000, np.uint16)
    channel = PIXEL_CHANNELS[pixel].astype(np.uint8)

    # raw packets: 6 packet words, then 3 words a hit (clocks, asic<<5 | channel, atod)
    head = np.stack([livetime, inttime, flags, decim, drop, flags], axis=1)
    hit_words = np.stack([clocks, (asic << 5 | channel).astype(np.uint16), atod], axis=1)
    packets = ccsds.build_packets(APID["photon"], seq, pkttimes, pktclock, head, hit_words, hits)

    pkt = {
        "seqcount": seq,
        "pkttimes": pkttimes,
        "pktclock": pktclock,
        "pktlength": packets.lengths.astype(np.uint16),
        "livetime": livetime,
        "inttime": inttime,
        "flags": flags,
        "decim_lvl": decim,
        "drop_cnt": drop,
        "int_time_flag": flags.copy(),
        "num_hits": hits.astype(np.uint32),
        "rate": hits / (inttime * CLOCK_TICK),
        "corr_rate": hits / (livetime * CLOCK_TICK),
    }
    sci = {
        "seqcount": np.repeat(seq, hits),
        "clocks": clocks,
        "asic": asic.astype(np.uint8),
        "channel": channel,
        "atod": atod,
        "baseline": np.zeros(t.size, np.uint16),
        "pkttimes": np.repeat(pkttimes, hits),
        "pktclock": np.repeat(pktclock, hits),
        "pixel": pixel.astype(np.int64),
    }
    return {"SCI": sci, "PKT": pkt}, packets.data


def _energies(rng: np.random.Generator, flare: np.ndarray) -> np.ndarray:
    """keV: calibration lines and a flat continuum for the background, a power law for flares."""
    n = flare.size
    line = rng.choice(len(LINES_KEV), n, p=LINE_WEIGHTS)
    background = np.where(rng.random(n) < 0.7, LINES_KEV[line], rng.uniform(10, 100, n))
    power_law = 6.0 * rng.random(n) ** (-1 / 3)  # dN/dE ~ E^-4 above 6 keV
    return np.where(flare, np.minimum(power_law, 95.0), background)


def _packets(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group sorted event times into packets: [first, last) indices, closed by time or not."""
    first, last, by_time = [], [], []
    i, n = 0, t.size
    while i < n:
        end = int(np.searchsorted(t, t[i] + PACKET_WINDOW, side="left"))
        j = min(end, i + PACKET_MAX_HITS)
        first.append(i)
        last.append(j)
        by_time.append(j == end)
        i = j
    return np.array(first), np.array(last), np.array(by_time)


def _packet_time(day: Day, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    whole = np.floor(t)
    ticks = np.minimum(np.rint((t - whole) / ccsds.TICK_SECONDS), ccsds.TICKS_PER_SECOND - 1)
    return (day.packet_seconds + whole).astype(np.uint32), ticks.astype(np.uint32)


def _sequence(rng: np.random.Generator, n: int) -> np.ndarray:
    # Sequence counts run on between files in flight; a random start keeps files independent.
    return ((int(rng.integers(0, ccsds.SEQUENCE_MODULO)) + np.arange(n)) % 16384).astype(np.uint16)


# -- spectra ---------------------------------------------------------------------------------


def _spectrum_window(day: Day, start: int, rng: np.random.Generator) -> tuple[dict, bytes]:
    # Packets at the end of each accumulation; ASIC pairs (0, 1) and (2, 3) take turns.
    index = np.arange(start // SPECTRUM_SECONDS, (start + WINDOW_SECONDS) // SPECTRUM_SECONDS)
    t_end = index * SPECTRUM_SECONDS + 0.5
    grid = t_end[:, None] - SPECTRUM_SECONDS + np.linspace(0, SPECTRUM_SECONDS, 61)[None, :]
    background = BACKGROUND_RATE * SPECTRUM_SECONDS * np.ones(len(index))
    flare = day.flare_rate(grid).mean(axis=1) * SPECTRUM_SECONDS
    asic = np.where(index % 2 == 0, 0, 2)[:, None] + np.repeat([0, 1], N_PIXELS)[None, :]
    pixel = np.tile(np.arange(N_PIXELS), 2)[None, :].repeat(len(index), axis=0)
    share = (PIXEL_WEIGHTS / (PIXEL_WEIGHTS.sum() * N_ASICS))[pixel]
    bg_shape, flare_shape = (shape[asic, pixel] for shape in _spectrum_shapes(day))
    expected = share[..., None] * (
        background[:, None, None] * bg_shape + flare[:, None, None] * flare_shape
    )
    counts = rng.poisson(expected).clip(0, 65535).astype(np.uint16)
    pkttimes, pktclock = _packet_time(day, t_end)
    seq = _sequence(rng, len(index))
    channel = PIXEL_CHANNELS[pixel]
    ids = (asic << 5 | channel).astype(np.uint16)
    words = np.concatenate([ids, counts.reshape(len(index), -1)], axis=1)
    raw = ccsds.build_packets(APID["spectrum"], seq, pkttimes, pktclock, words).data
    pkt = {
        "pkttimes": pkttimes,
        "pktclock": pktclock,
        "asic": asic.astype(np.uint16),
        "channel": channel.astype(np.uint16),
        "seqcount": seq,
    }
    return {"SPEC": counts.astype(np.float64), "PKT": pkt}, raw


def _spectrum_shapes(day: Day) -> tuple[np.ndarray, np.ndarray]:
    """Probability per bin of each [asic, pixel] 512-bin spectrum (8 ADC a bin): background
    hits and flare hits."""
    gain = day.gain[..., None]
    offset = day.offset[..., None]
    centre = (np.arange(512) * 8 + 4.0)[None, None, :]
    energy = (centre - offset) / gain
    width = 8 / gain  # keV per bin
    norm = RESOLUTION_KEV * np.sqrt(2 * np.pi)
    lines = sum(
        w * np.exp(-0.5 * ((energy - e) / RESOLUTION_KEV) ** 2) / norm
        for e, w in zip(LINES_KEV, LINE_WEIGHTS, strict=True)
    )
    continuum = ((energy > 10) & (energy < 100)) / 90.0
    background = (0.7 * lines + 0.3 * continuum) * width
    threshold = 1 / (1 + np.exp(-(energy - 5.5) / 0.5))
    power_law = 3 * 6.0**3 * np.clip(energy, 1.0, None) ** -4.0 * threshold
    return background, power_law * width


# -- housekeeping ----------------------------------------------------------------------------

HK_CHANNELS = (
    # name, typical ADC value, orbital swing, noise
    ("fp_temp", 31100, 150, 3),
    ("dib_temp", 7088, 6, 1),
    ("hvps_temp", 20680, 40, 3),
    ("hvps_vsense", 21952, 3, 2),
    ("hvps_csense", 5420, 10, 20),
    ("csense_15v", 28186, 4, 2),
    ("csense_33vd", 36660, 8, 10),
    ("csense_33va", 37100, 20, 60),
)
ORBIT_SECONDS = 95 * 60


def _housekeeping_window(day: Day, start: int, rng: np.random.Generator) -> tuple[dict, bytes]:
    t = np.arange(start, start + WINDOW_SECONDS, HK_SECONDS, dtype=float)
    n = t.size
    orbit = np.sin(2 * np.pi * (t + day.packet_seconds) / ORBIT_SECONDS)
    hk: dict[str, np.ndarray] = {}
    pkttimes, _ = _packet_time(day, t)
    hk["pkttimes"] = pkttimes
    for name, level, swing, noise in HK_CHANNELS:
        hk[name] = np.rint(level + swing * orbit + rng.normal(0, noise, n)).astype(np.uint16)
    hk["hit_rate"] = np.rint(day.true_rate(t) * rng.normal(1, 0.02, n)).clip(0, 65535)
    hk["good_cmd_cnt"] = 168 + (t // (6 * 3600)).astype(int)  # a command every 6 hours
    hk["error_cnt"] = np.ones(n)
    hk["heater_pwm_duty_cycle"] = np.rint(25440 - 60 * orbit + rng.normal(0, 8, n))
    # the real decimation_rate counts up by one a packet
    hk["decimation_rate"] = (643 + (t + day.packet_seconds) // HK_SECONDS) % 65536
    hk["error_summary"] = np.full(n, 111)
    for name in hk:
        hk[name] = hk[name].astype(np.uint32 if name == "pkttimes" else np.uint16)
    seq = ((day.packet_seconds + t) // HK_SECONDS % ccsds.SEQUENCE_MODULO).astype(np.uint16)
    words = np.stack([hk[name] for name in list(hk)[1:]], axis=1)
    packets = ccsds.build_packets(APID["housekeeping"], seq, pkttimes, np.zeros(n), words)
    hk["checksum"] = packets.checksums
    hk["seqcount"] = seq
    return {"HK": hk, "READ": None}, packets.data


_WINDOW = {
    "photon": _photon_window,
    "spectrum": _spectrum_window,
    "housekeeping": _housekeeping_window,
}
