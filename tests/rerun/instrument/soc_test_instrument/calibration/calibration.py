"""The pipeline's entry point: level-0 packets -> a level-1 ISTP CDF.

The level-1 product holds the raw counts and a calibrated electron spectrum: counts corrected
for dead time and deconvolved from the analyser's energy response (Richardson-Lucy, a fixed
number of iterations per packet). That deconvolution is the CPU work of a real calibration.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import cdflib
import numpy as np

import soc_test_instrument

from ..packets import SCIENCE_APID, read_packets

__all__ = ["process_file"]

log = logging.getLogger("soc_test_instrument")

RAW_NAME = re.compile(
    r"^hermes_EEA_l0_(?P<time>\d{7}-\d{6})_v(?P<version>\d+)\.bin$", re.IGNORECASE
)
DEAD_TIME_S = 2.0e-6
ACCUMULATION_S = 0.0061
ITERATIONS = 60  # Richardson-Lucy iterations per packet
KNOWN_SENSORS = {1: "EEA flight sensor"}
ENERGIES_EV = {34: np.geomspace(2.0, 20000.0, 34), 41: np.geomspace(2.18, 16380.0, 41)}


def process_file(data_filename: Path) -> list:
    """Calibrate one level-0 file into a level-1 CDF written next to it.

    Returns ``[path]``; ``[None]`` when the file holds no science packets. Raises ValueError
    for a file that is not a level-0 EEA file or whose packets are damaged.
    """
    data_filename = Path(data_filename)
    log.info("Processing file %s.", data_filename)
    match = RAW_NAME.match(data_filename.name)
    if not match:
        raise ValueError(f"The file {data_filename} is not recognized.")
    _side_calls()
    packets = read_packets(data_filename)
    science = packets["apid"] == SCIENCE_APID
    if not science.any():
        log.info("%s holds no science packets: nothing to produce.", data_filename.name)
        return [None]
    packets = {k: v[science] for k, v in packets.items()}
    if not packets["checksum_ok"].all():
        log.warning("%d packets fail their checksum", int((~packets["checksum_ok"]).sum()))
    unknown = set(np.unique(packets["sensor"]).tolist()) - set(KNOWN_SENSORS)
    if unknown:
        # A missing calibration table: not a bad file, a broken calibration (it propagates).
        raise KeyError(f"no calibration table for sensor id(s) {sorted(unknown)}")
    tt2000 = packets["tt2000"]
    first = datetime(*cdflib.cdfepoch.breakdown_tt2000(int(tt2000[0]))[:6], tzinfo=UTC)
    version = f"1.0.{int(match['version'])}"
    # SOC_TEST_INSTRUMENT_PRODUCT_NAME (tests hand it over with pass_env): another naming
    # convention, as an instrument package under development may have.
    pattern = os.environ.get(
        "SOC_TEST_INSTRUMENT_PRODUCT_NAME", "hermes_eea_l1_{time}_v{version}.cdf"
    )
    name = pattern.format(time=f"{first:%Y%m%dT%H%M%S}", version=version)
    spectrum = deconvolve(packets["accum"])
    path = data_filename.parent / name
    write_cdf(path, tt2000, packets, spectrum, version, first)
    return [path]


def _side_calls() -> None:
    # Like swxsoc's Timestream writer: only with credentials, and a failure is logged.
    found = sorted(n for n in os.environ if n.startswith("AWS_") and ("KEY" in n or "TOKEN" in n))
    if found:
        log.warning("credentials in the environment (%s): would record to the dashboard", found)
    else:
        log.info("no credentials: housekeeping not recorded to the dashboard")
    config = Path.home() / ".config" / "soc_test_instrument"
    config.mkdir(parents=True, exist_ok=True)  # like swxsoc, which copies its config into ~
    (config / "seen").write_text(str(os.getpid()))


def response_matrix(n: int) -> np.ndarray:
    """The analyser's energy response: each step sees its neighbours (a Gaussian kernel)."""
    idx = np.arange(n)
    r = np.exp(-0.5 * ((idx[:, None] - idx[None, :]) / 1.3) ** 2)
    return r / r.sum(axis=0, keepdims=True)


def deconvolve(counts: np.ndarray) -> np.ndarray:
    """Dead-time corrected count rates, deconvolved along energy, summed over look directions.

    ``counts`` is ``(packet, energy, ...)``; the result ``(packet, energy)`` in counts/s.
    """
    n_energy = counts.shape[1]
    rates = counts.reshape(len(counts), n_energy, -1).astype(np.float64) / ACCUMULATION_S
    rates = rates / np.clip(1.0 - rates * DEAD_TIME_S, 0.05, None)
    r = response_matrix(n_energy)
    rt = r.T.copy()
    out = np.empty(rates.shape[:2])
    for i, observed in enumerate(rates):
        estimate = np.full(observed.shape, max(observed.mean(), 1e-9))
        for _ in range(ITERATIONS):
            blurred = r @ estimate
            ratio = np.divide(observed, blurred, out=np.zeros_like(blurred), where=blurred > 0)
            estimate = estimate * (rt @ ratio)
        out[i] = estimate.sum(axis=1)
    return out


def write_cdf(path, tt2000, packets, spectrum, version, first) -> None:
    if path.exists():
        path.unlink()
    cdf = cdflib.cdfwrite.CDF(str(path), cdf_spec={"Majority": "row_major", "rDim_sizes": []})
    stem = path.stem
    cdf.write_globalattrs(
        {
            "Project": {0: "STP>Solar-Terrestrial Physics"},
            "Source_name": {
                0: "HERMES>Heliophysics Environmental and Radiation Measurement Experiment Suite"
            },
            "Discipline": {0: "Space Physics>Magnetospheric Science"},
            "Data_type": {0: "l1>Level 1"},
            "Descriptor": {0: "EEA>Electron Electrostatic Analyzer"},
            "Data_version": {0: version},
            "Logical_file_id": {0: stem},
            "Logical_source": {0: "hermes_eea_l1"},
            "Logical_source_description": {
                0: "HERMES Electron Electrostatic Analyzer Level 1 (test instrument)"
            },
            "Mission_group": {0: "HERMES"},
            "Instrument_type": {0: "Particles (space)"},
            "PI_name": {0: "soc-workspace tests"},
            "PI_affiliation": {0: "soc-workspace"},
            "TEXT": {0: "Produced by soc_test_instrument, a stand-in for hermes_eea."},
            "Start_time": {0: first.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]},
            "Generation_date": {0: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")},
            "Software_version": {0: soc_test_instrument.__version__},
        }
    )
    n = len(tt2000)

    def spec(name, data_type, dims=(), rec_vary=True):
        return {
            "Variable": name,
            "Data_Type": data_type,
            "Num_Elements": 1,
            "Rec_Vary": rec_vary,
            "Dim_Sizes": list(dims),
        }

    def attrs(name, catdesc, units, fill, vmin, vmax, fmt, var_type="data", **extra):
        a = {
            "FIELDNAM": name,
            "CATDESC": catdesc,
            "UNITS": units,
            "FILLVAL": fill,
            "VALIDMIN": vmin,
            "VALIDMAX": vmax,
            "FORMAT": fmt,
            "VAR_TYPE": var_type,
        }
        if var_type == "data":
            a.update(DEPEND_0="Epoch", DISPLAY_TYPE="time_series", LABLAXIS=name)
        a.update(extra)
        return a

    tt = cdflib.cdfwrite.CDF.CDF_TIME_TT2000
    u2 = cdflib.cdfwrite.CDF.CDF_UINT2
    u4 = cdflib.cdfwrite.CDF.CDF_UINT4
    f8 = cdflib.cdfwrite.CDF.CDF_DOUBLE
    accum = packets["accum"]
    n_energy = accum.shape[1]
    energies = ENERGIES_EV.get(n_energy, np.arange(n_energy, dtype=np.float64))
    cdf.write_var(
        spec("Epoch", tt),
        attrs(
            "Epoch",
            "Packet time (TT2000)",
            "ns",
            np.int64(-9223372036854775808),
            np.int64(tt2000.min()),
            np.int64(tt2000.max()),
            "A29",
            var_type="support_data",
            TIME_BASE="J2000",
            TIME_SCALE="Terrestrial Time (TT)",
        ),
        tt2000,
    )
    cdf.write_var(
        spec("hermes_eea_energy", f8, (n_energy,), rec_vary=False),
        attrs(
            "hermes_eea_energy",
            "Nominal energy of each step",
            "eV",
            np.float64(-1e31),
            np.float64(0),
            np.float64(1e5),
            "F10.2",
            var_type="support_data",
        ),
        energies[None, :],
    )
    cdf.write_var(
        spec("hermes_eea_stats", u4),
        attrs(
            "hermes_eea_stats",
            "Sum of the counts of each packet",
            "counts",
            np.uint32(4294967295),
            np.uint32(0),
            np.uint32(4294967294),
            "I10",
        ),
        accum.reshape(len(accum), -1).sum(axis=1).astype(np.uint32),
    )
    cdf.write_var(
        spec("hermes_eea_accum", u2, accum.shape[1:]),
        attrs(
            "hermes_eea_accum",
            "Raw counts",
            "counts",
            np.uint16(65535),
            np.uint16(0),
            np.uint16(65534),
            "I5",
            DEPEND_1="hermes_eea_energy",
        ),
        accum,
    )
    cdf.write_var(
        spec("hermes_eea_rate", f8, (n_energy,)),
        attrs(
            "hermes_eea_rate",
            "Dead-time corrected, deconvolved count rate",
            "counts/s",
            np.float64(-1e31),
            np.float64(0),
            np.float64(1e9),
            "E12.4",
            DEPEND_1="hermes_eea_energy",
        ),
        spectrum,
    )
    cdf.close()
    log.info("wrote %s (%d packets)", path.name, n)
