"""HERMES demo products: hourly level-1 CDFs of the four instruments, and EEA level-0 packets.

One file per hour and instrument, named by its first record (the top of the hour):

============  ========  =========================================================  ==========
instrument    cadence   variables                                                  file size
============  ========  =========================================================  ==========
EEA           30 s      skymap counts ``accum`` uint16 [41 energy, 4 elevation,     ~1.4 MB
                        32 azimuth], energy profile (eV), stats, counter1/2,
                        settle times, as the real EEA file; electrons with a
                        15 eV core and an anisotropy along the field
NEMISIS       1 s       magnetic field vector GSE (nT, float32, labels Bx/By/Bz    ~120 kB
                        GSE through ``LABL_PTR_1``), its magnitude, a quality flag;
                        a slowly rotating 5-11 nT field with a 5-min wave + noise
MERIT         5 s       electron (45 keV - 1.65 MeV) and proton (1.1 - 38 MeV)      ~90 kB
                        differential fluxes (cm^-2 s^-1 sr^-1 keV^-1) from Poisson
                        counts of power-law spectra
SPANI         10 s      ion counts uint16 [32 energy, 8 anode]: a solar-wind        ~210 kB
                        proton beam (350-500 km/s) and alphas at twice E/q
============  ========  =========================================================  ==========

EEA level 0 (``hermes_EEA_l0_YYYYDDD-hhmmss_v0.bin``, ~1.2 MB an hour) holds one CCSDS packet
per l1 record (APID 0x104) whose payload is that record's skymap counts; see
:mod:`soc_workspace.demo.ccsds` (the payload layout is synthetic, not the EEA packet
definition).

Imperfections, as real data has them: about 0.5 % of records are fill (``FILLVAL`` of the
variable's type: 65535 for uint16, -1e31 for floats), about one file in four misses the records
of a 3-15 minute stretch (a gap), and on the first day, hours 02 and 03 also exist reprocessed as
version 1.0.1 (fill records recovered; EEA's l0 re-delivered as ``_v1.bin``), as the pipeline's
``l1 v1.0.<l0 version>`` rule makes them. Slow variations are functions of absolute time, so
consecutive files join smoothly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from .. import __version__
from ..missions import get_mission, make_filename
from . import ccsds
from .istp import Variable, cdf_bytes, fillval, tt2000, tt2000_to_iso
from .seeding import rng_for

INSTRUMENTS = ("eea", "nemisis", "merit", "spani")
CADENCE_SECONDS = {"eea": 30, "nemisis": 1, "merit": 5, "spani": 10}
REPROCESSED_HOURS = (2, 3)  # on the first day: these hours also exist as v1.0.1
EEA_APID = 0x104
FILL_FRACTION = 0.005
GAP_PROBABILITY = 0.25
_J2000_TT2000 = tt2000(2000, 1, 1, 12)  # TT2000 zero is J2000 (12:00 TT); close enough here


@dataclass(frozen=True)
class Hour:
    """The records of one instrument-hour, before any becomes fill or is reprocessed."""

    instrument: str
    start: datetime
    epoch: np.ndarray  # TT2000 of the kept records (a gap removes some)
    fill: np.ndarray  # bool: records the v1.0.0 calibration marks as fill
    arrays: dict[str, np.ndarray]  # the instrument's measured arrays, one row per record


def hour_products(instrument: str, start: datetime, seed: int, first_day: bool) -> list:
    """Every file of one instrument-hour: l1 CDF(s) and, for EEA, l0 packets.

    Returns ``[(file name, bytes), ...]``.
    """
    hour = make_hour(instrument, start, seed)
    versions = ["1.0.0"]
    if first_day and start.hour in REPROCESSED_HOURS:
        versions.append("1.0.1")
    files = []
    for version in versions:
        name = make_filename(
            mission="hermes", instrument=instrument, level="l1", time=start, version=version
        )
        files.append((name, l1_bytes(hour, name, version)))
        if instrument == "eea":
            raw_version = version.rsplit(".", 1)[1]  # l1 v1.0.N comes from l0 vN
            files.append((eea_l0_name(start, raw_version), eea_l0_bytes(hour)))
    return files


def eea_l0_name(start: datetime, version: str = "0") -> str:
    return f"hermes_EEA_l0_{start:%Y%j-%H%M%S}_v{version}.bin"


def n_files(instrument: str, start: datetime, first_day: bool) -> int:
    """How many files :func:`hour_products` makes."""
    per_version = 2 if instrument == "eea" else 1
    return per_version * (2 if first_day and start.hour in REPROCESSED_HOURS else 1)


# -- records ---------------------------------------------------------------------------------


def make_hour(instrument: str, start: datetime, seed: int) -> Hour:
    """Draw one instrument-hour. Seeded by the product and hour, not the version, so that a
    reprocessed file holds the same measurements as the original."""
    cadence = CADENCE_SECONDS[instrument]
    key = f"hermes_{instrument}_l1_{start:%Y%m%dT%H%M%S}"
    rng = rng_for(seed, key)
    n = 3600 // cadence
    keep = np.ones(n, dtype=bool)
    if rng.random() < GAP_PROBABILITY:
        length = int(rng.uniform(180, 900) // cadence) + 1
        first = int(rng.integers(n // 10, n - length))  # never the first record: it names the file
        keep[first : first + length] = False
    t0 = tt2000(start.year, start.month, start.day, start.hour)
    epoch = t0 + np.flatnonzero(keep).astype(np.int64) * (cadence * 1_000_000_000)
    seconds = (epoch - _J2000_TT2000) / 1e9  # continuous time for the slow variations
    fill = rng.random(len(epoch)) < FILL_FRACTION
    fill[0] = False
    arrays = _MODELS[instrument](rng, seconds, _world(seed))
    return Hour(instrument, start, epoch, fill, arrays)


def _world(seed: int) -> np.ndarray:
    """Phases of the slow variations: fixed for a seed so that files join smoothly."""
    return rng_for(seed, "hermes-environment").uniform(0, 2 * np.pi, 16)


def _wave(t: np.ndarray, period_hours: float, phase: float) -> np.ndarray:
    return np.sin(2 * np.pi * t / (period_hours * 3600) + phase)


EEA_ENERGY = np.geomspace(2.18, 16380.0, 41)  # eV, the span of the real EEA sweep
EEA_ELEVATION = np.array([-22.5, -7.5, 7.5, 22.5], dtype=np.float32)  # deg
EEA_AZIMUTH = ((np.arange(32) + 0.5) * 11.25).astype(np.float32)  # deg


def _eea(rng: np.random.Generator, t: np.ndarray, ph: np.ndarray) -> dict[str, np.ndarray]:
    density = 5 * np.exp(0.5 * _wave(t, 6, ph[0]) + 0.2 * _wave(t, 0.8, ph[1]))  # cm^-3
    core_t = 15 * (1 + 0.3 * _wave(t, 9, ph[2]))  # eV
    field_az = np.deg2rad(180 + 90 * _wave(t, 11, ph[3]))
    energy = EEA_ENERGY[None, :]
    # counts of an electrostatic analyser ~ E^2 f(E): a Maxwellian core and a 5 % halo at 80 eV
    spectrum = density[:, None] * (
        (energy / core_t[:, None]) ** 2 * np.exp(-energy / core_t[:, None])
        + 0.05 * (energy / 80) ** 2 * np.exp(-energy / 80)
    )
    az = np.deg2rad(EEA_AZIMUTH)[None, None, :]
    anisotropy = 1 + 0.4 * np.cos(az - field_az[:, None, None]) ** 2
    elevation = (1 - 0.2 * np.abs(EEA_ELEVATION) / 22.5)[None, :, None]
    rate = 0.35 * spectrum[:, :, None, None] * (elevation * anisotropy)[:, None, :, :]
    accum = rng.poisson(rate).astype(np.uint16)
    counter1 = accum.sum(axis=3, dtype=np.uint32).clip(0, 65534).astype(np.uint16)
    counter2 = rng.binomial(counter1, 0.98).astype(np.uint16)  # a dead-time corrected estimate
    stats = accum.sum(axis=(1, 2, 3), dtype=np.uint32).clip(0, 65534).astype(np.uint16)
    profile = EEA_ENERGY[None, :] * (1 + rng.normal(0, 1e-3, (len(t), 41)))
    steps = np.arange(41)[:, None] * 4 + np.arange(4)[None, :]
    settle = np.broadcast_to(200 + (steps * 7) % 150, (len(t), 41, 4)).astype(np.uint16)
    return {
        "accum": accum,
        "counter1": counter1,
        "counter2": counter2,
        "stats": stats,
        "energy_profile": profile,
        "settle_step_times": settle,
    }


def _nemisis(rng: np.random.Generator, t: np.ndarray, ph: np.ndarray) -> dict[str, np.ndarray]:
    magnitude = 8 + 3 * _wave(t, 5.3, ph[4])
    angle = 2 * np.pi * t / (11 * 3600) + ph[5]
    bz = 2 * _wave(t, 3.1, ph[6])
    bxy = np.sqrt(np.maximum(magnitude**2 - bz**2, 0))
    b = np.stack([bxy * np.cos(angle), bxy * np.sin(angle), bz], axis=1)
    b += 0.6 * np.sin(2 * np.pi * t / 300 + ph[7])[:, None] * np.array([0.3, -0.5, 0.8])
    b += rng.normal(0, 0.15, b.shape)
    b = b.astype(np.float32)
    return {"b_gse": b, "b_mag": np.linalg.norm(b, axis=1).astype(np.float32)}


MERIT_ELECTRON_ENERGY = np.array([45, 75, 125, 210, 350, 590, 990, 1650], np.float32)  # keV
MERIT_PROTON_ENERGY = np.array(
    [1100, 1800, 3000, 5000, 8300, 14000, 23000, 38000], np.float32
)  # keV


def _merit(rng: np.random.Generator, t: np.ndarray, ph: np.ndarray) -> dict[str, np.ndarray]:
    # counts = flux * (geometric factor * channel width * accumulation time); flux from counts
    exposure_e = 0.01 * 0.4 * MERIT_ELECTRON_ENERGY * 5
    exposure_p = 0.05 * 0.4 * MERIT_PROTON_ENERGY * 5
    j_e = 2e3 * np.exp(1.2 * _wave(t, 7, ph[8]))[:, None]
    g_e = (3 + 0.3 * _wave(t, 13, ph[9]))[:, None]
    j_p = 5e-2 * np.exp(0.8 * _wave(t, 17, ph[10]))[:, None]
    flux_e = j_e * (MERIT_ELECTRON_ENERGY / 100) ** -g_e
    flux_p = j_p * (MERIT_PROTON_ENERGY / 1000) ** -2.5
    counts_e = rng.poisson(flux_e * exposure_e)
    counts_p = rng.poisson(flux_p * exposure_p)
    return {
        "electron_flux": (counts_e / exposure_e).astype(np.float32),
        "proton_flux": (counts_p / exposure_p).astype(np.float32),
    }


SPANI_ENERGY = np.geomspace(20.0, 20000.0, 32).astype(np.float32)  # eV/q
SPANI_ANODE = ((np.arange(8) - 3.5) * 11.25).astype(np.float32)  # deg from the Sun direction


def _spani(rng: np.random.Generator, t: np.ndarray, ph: np.ndarray) -> dict[str, np.ndarray]:
    speed = 425 + 75 * _wave(t, 20, ph[11])  # km/s
    e_proton = 5.22e-3 * speed**2  # eV: 0.5 m_p v^2 / e
    width = 0.15
    log_e = np.log(SPANI_ENERGY)[None, :]
    beam = np.exp(-((log_e - np.log(e_proton)[:, None]) ** 2) / (2 * width**2))
    alphas = 0.04 * np.exp(-((log_e - np.log(2 * e_proton)[:, None]) ** 2) / (2 * width**2))
    centre = 0.3 * _wave(t, 2.5, ph[12])[:, None]  # beam direction wanders by a fraction of 1 anode
    anode = np.exp(-((np.arange(8)[None, :] - 3.5 - centre) ** 2) / (2 * 0.8**2))
    rate = 400 * (beam + alphas)[:, :, None] * anode[:, None, :] + 0.05
    return {"counts": rng.poisson(rate).clip(0, 65534).astype(np.uint16)}


_MODELS: dict[str, Callable[..., dict[str, np.ndarray]]] = {
    "eea": _eea,
    "nemisis": _nemisis,
    "merit": _merit,
    "spani": _spani,
}


# -- level 1 CDF -----------------------------------------------------------------------------


def l1_bytes(hour: Hour, name: str, version: str) -> bytes:
    """The l1 CDF of ``hour``; in v1.0.0 the fill records hold ``FILLVAL``."""
    fill = hour.fill if version == "1.0.0" else np.zeros_like(hour.fill)
    arrays = {}
    for key, values in hour.arrays.items():
        values = values.copy()
        values[fill] = fillval(values.dtype)
        arrays[key] = values
    variables = _VARIABLES[hour.instrument](arrays, fill)
    attrs = global_attributes(hour, name, version)
    return cdf_bytes(attrs, hour.epoch, CADENCE_SECONDS[hour.instrument], variables)


def global_attributes(hour: Hour, name: str, version: str) -> dict[str, str | list[str]]:
    inst = get_mission("hermes").instrument(hour.instrument)
    stem = name.rsplit(".", 1)[0]
    short = inst.short_name
    mods = ["v1.0.0 - Original version."]
    if version != "1.0.0":
        mods.append(f"v{version} - Reprocessed: records flagged as fill in v1.0.0 recovered.")
    return {
        "Data_level": "L1>Level 1",
        "Data_version": version,
        "Descriptor": f"{inst.target_name}>{inst.full_name}",
        "DOI": "",  # synthetic data has none
        "HTTP_LINK": [
            "https://science.nasa.gov/missions/hermes",
            "https://github.com/HERMES-SOC",
            "https://github.com/soc-workspace/soc-workspace",
        ],
        "Instrument_mode": "",
        "Instrument_type": _INSTRUMENT_TYPE[hour.instrument],
        "LINK_TEXT": ["HERMES homepage", "HERMES SOC GitHub", "soc-workspace (demo data)"],
        "LINK_TITLE": ["HERMES homepage", "HERMES SOC GitHub", "soc-workspace (demo data)"],
        "MODS": mods,
        "PI_affiliation": "NASA Goddard Space Flight Center",
        "PI_name": "Dr. Eftyhia Zesta",
        "TEXT": (
            f"Synthetic HERMES {inst.target_name} level 1 data made by soc-workspace to "
            "demonstrate the workspace. Not a measurement."
        ),
        "File_naming_convention": (
            "scId_instrumentId_mode_dataLevel_optionalDataProductDescriptor_startTime_vX.Y.Z.ext"
        ),
        "Data_type": "l1>Level 1",
        "Data_product_descriptor": "",
        # the data day, not the wall clock: the same arguments make the same bytes
        "Generation_date": f"{hour.start:%Y-%m-%d}",
        "Logical_file_id": stem,
        "Logical_source": f"hermes_{short}_l1",
        "Logical_source_description": f"hermes {inst.full_name} Level 1",
        "CDF_Lib_version": "cdflib (pure Python writer of CDF 3.9)",
        "SWxSOC_version": "",
        "Discipline": "Space Physics>Magnetospheric Science",
        "Mission_group": "HERMES",
        "Project": "STP>Solar-Terrestrial Physics",
        "Source_name": "HERMES>Heliophysics Environmental and Radiation Measurement Experiment "
        "Suite",
        "Start_time": tt2000_to_iso(int(hour.epoch[0])),
        "HERMES_version": "",
        "Generated_by": f"soc-workspace {__version__} (soc_workspace.demo)",
        "Synthetic_data": (
            "TRUE: soc-workspace demo data, generated from a random seed; not a HERMES measurement"
        ),
        "Acknowledgement": "Synthetic data; no acknowledgement needed.",
    }


_INSTRUMENT_TYPE = {
    "eea": "Particles (space)",
    "nemisis": "Magnetic Fields (space)",
    "merit": "Particles (space)",
    "spani": "Particles (space)",
}
_EV = "1.602176634e-19>J"
_KEV = "1.602176634e-16>J"
_DEG = "1.745329252e-02>rad"
# ISTP SCALETYP: fluxes, counts and energies span decades (quicklooks draw them on log scales)
_LOG = {"SCALETYP": "log"}
_FLUX = "6.241509074e+19>m^-2 s^-1 sr^-1 J^-1"


def _eea_variables(a: dict[str, np.ndarray], fill: np.ndarray) -> list[Variable]:
    energy_axes = [("Energy", "ENER", "eV"), ("Elevation", "ELEV", "deg")]
    dims_2 = ["hermes_eea_energy", "hermes_eea_elevation"]
    return [
        Variable(
            "hermes_eea_stats", a["stats"], "data", "Sum of skymap particle count for each sweep",
            units="counts", si_conversion="1.0>", validmin=0,
        ),
        Variable(
            "hermes_eea_settle_step_times", a["settle_step_times"], "data",
            "Settle time for each step", units="us", si_conversion="1.0e-06>s",
            depend=dims_2, labels={2: "hermes_eea_elevation_label"}, axes=energy_axes,
        ),
        Variable(
            "hermes_eea_energy_profile", a["energy_profile"], "data",
            "Energy of each sweep step as measured", units="eV", si_conversion=_EV,
            depend=["hermes_eea_energy"], axes=energy_axes[:1], validmin=0.0, validmax=1e5,
        ),
        Variable(
            "hermes_eea_accum", a["accum"], "data", "EEA raw skymap counts", units="counts",
            si_conversion="1.0>", display_type="spectrogram",
            depend=[*dims_2, "hermes_eea_azimuth"], extra=_LOG,
            axes=[*energy_axes, ("Azimuth", "AZIM", "deg")], validmin=0,
        ),
        Variable(
            "hermes_eea_counter1", a["counter1"], "data",
            "Estimate 2 of the number of counts in this accumulation", units="counts",
            si_conversion="1.0>", depend=dims_2, labels={2: "hermes_eea_elevation_label"},
            axes=energy_axes, validmin=0,
        ),
        Variable(
            "hermes_eea_counter2", a["counter2"], "data",
            "Estimate 3 of the number of counts in this accumulation", units="counts",
            si_conversion="1.0>", depend=dims_2, labels={2: "hermes_eea_elevation_label"},
            axes=energy_axes, validmin=0,
        ),
        Variable(
            "hermes_eea_energy", EEA_ENERGY, "support_data", "Nominal energy of each sweep step",
            units="eV", si_conversion=_EV, record_varying=False, lablaxis="Energy",
            validmin=0.0, validmax=1e5, extra=_LOG,
        ),
        Variable(
            "hermes_eea_elevation", EEA_ELEVATION, "support_data",
            "Elevation of each deflection step", units="deg", si_conversion=_DEG,
            record_varying=False, lablaxis="Elevation", validmin=-90.0, validmax=90.0,
        ),
        Variable(
            "hermes_eea_azimuth", EEA_AZIMUTH, "support_data", "Azimuth of each anode sector",
            units="deg", si_conversion=_DEG, record_varying=False, lablaxis="Azimuth",
            validmin=0.0, validmax=360.0,
        ),
        Variable(
            "hermes_eea_elevation_label", [f"Elev {e:+.1f} deg" for e in EEA_ELEVATION],
            "metadata", "Labels of the deflection steps",
        ),
    ]  # fmt: skip


def _nemisis_variables(a: dict[str, np.ndarray], fill: np.ndarray) -> list[Variable]:
    return [
        Variable(
            "hermes_nem_b_gse", a["b_gse"], "data", "Magnetic field vector in GSE coordinates",
            units="nT", si_conversion="1.0e-09>T", labels={1: "hermes_nem_b_gse_label"},
            lablaxis="B GSE", axes=[("Component", "COMP", "")], validmin=-1e5, validmax=1e5,
            extra={"COORDINATE_SYSTEM": "GSE", "REPRESENTATION_1": "hermes_nem_b_gse_label"},
        ),
        Variable(
            "hermes_nem_b_mag", a["b_mag"], "data", "Magnetic field magnitude", units="nT",
            si_conversion="1.0e-09>T", lablaxis="|B|", validmin=0.0, validmax=1e5,
        ),
        Variable(
            "hermes_nem_quality_flag", fill.astype(np.uint8), "support_data",
            "Quality flag: 0 good, 1 record is fill", units=" ", si_conversion="1.0>",
            validmin=0, validmax=1,
        ),
        Variable(
            "hermes_nem_b_gse_label", ["Bx GSE", "By GSE", "Bz GSE"], "metadata",
            "Labels of the field components",
        ),
        Variable(
            "hermes_nem_calibration_const", np.array([0.1]), "metadata", "Calibration Factor",
            units="nT", si_conversion="1.0e-09>T", record_varying=False,
        ),
    ]  # fmt: skip


def _merit_variables(a: dict[str, np.ndarray], fill: np.ndarray) -> list[Variable]:
    flux = "cm^-2 s^-1 sr^-1 keV^-1"
    return [
        Variable(
            "hermes_mrt_electron_flux", a["electron_flux"], "data",
            "Differential electron flux", units=flux, si_conversion=_FLUX,
            display_type="spectrogram", depend=["hermes_mrt_electron_energy"],
            labels={1: "hermes_mrt_electron_label"}, axes=[("Energy", "ENER", "keV")],
            validmin=0.0, validmax=1e12, lablaxis="Electron flux", extra=_LOG,
        ),
        Variable(
            "hermes_mrt_proton_flux", a["proton_flux"], "data", "Differential proton flux",
            units=flux, si_conversion=_FLUX, display_type="spectrogram",
            depend=["hermes_mrt_proton_energy"], labels={1: "hermes_mrt_proton_label"},
            axes=[("Energy", "ENER", "keV")], validmin=0.0, validmax=1e12,
            lablaxis="Proton flux", extra=_LOG,
        ),
        Variable(
            "hermes_mrt_electron_energy", MERIT_ELECTRON_ENERGY, "support_data",
            "Centre energy of the electron channels", units="keV", si_conversion=_KEV,
            record_varying=False, lablaxis="Energy", validmin=0.0, validmax=1e6, extra=_LOG,
        ),
        Variable(
            "hermes_mrt_proton_energy", MERIT_PROTON_ENERGY, "support_data",
            "Centre energy of the proton channels", units="keV", si_conversion=_KEV,
            record_varying=False, lablaxis="Energy", validmin=0.0, validmax=1e6, extra=_LOG,
        ),
        Variable(
            "hermes_mrt_electron_label", [f"e {e:g} keV" for e in MERIT_ELECTRON_ENERGY],
            "metadata", "Labels of the electron channels",
        ),
        Variable(
            "hermes_mrt_proton_label", [f"p {e / 1000:g} MeV" for e in MERIT_PROTON_ENERGY],
            "metadata", "Labels of the proton channels",
        ),
    ]  # fmt: skip


def _spani_variables(a: dict[str, np.ndarray], fill: np.ndarray) -> list[Variable]:
    return [
        Variable(
            "hermes_spn_counts", a["counts"], "data", "Ion counts per energy step and anode",
            units="counts", si_conversion="1.0>", display_type="spectrogram",
            depend=["hermes_spn_energy", "hermes_spn_anode"],
            labels={2: "hermes_spn_anode_label"},
            axes=[("Energy per charge", "ENER", "eV"), ("Anode", "AZIM", "deg")], validmin=0,
            extra=_LOG,
        ),
        Variable(
            "hermes_spn_energy", SPANI_ENERGY, "support_data", "Energy per charge of each step",
            units="eV", si_conversion=_EV, record_varying=False, lablaxis="E/q",
            validmin=0.0, validmax=1e5, extra=_LOG,
        ),
        Variable(
            "hermes_spn_anode", SPANI_ANODE, "support_data",
            "Look direction of each anode from the Sun direction", units="deg",
            si_conversion=_DEG, record_varying=False, lablaxis="Anode angle",
            validmin=-180.0, validmax=180.0,
        ),
        Variable(
            "hermes_spn_anode_label", [f"Anode {i}" for i in range(8)], "metadata",
            "Labels of the anodes",
        ),
    ]  # fmt: skip


_VARIABLES: dict[str, Callable[[dict[str, np.ndarray], np.ndarray], list[Variable]]] = {
    "eea": _eea_variables,
    "nemisis": _nemisis_variables,
    "merit": _merit_variables,
    "spani": _spani_variables,
}


# -- EEA level 0 -----------------------------------------------------------------------------


def eea_l0_bytes(hour: Hour) -> bytes:
    """One packet per record: the raw skymap counts (also of records l1 v1.0.0 marks fill)."""
    seconds, ticks = ccsds.packet_seconds(hour.epoch)
    words = hour.arrays["accum"].reshape(len(hour.epoch), -1)
    # sequence counts run on through the mission (and skip over a gap): count records since 2000
    sequences = (hour.epoch - _J2000_TT2000) // (CADENCE_SECONDS["eea"] * 1_000_000_000)
    return ccsds.build_packets(EEA_APID, sequences, seconds, ticks, words).data


def hours(start: datetime, days: int) -> list[datetime]:
    """Top of every hour of ``days`` days from ``start`` (UTC)."""
    base = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return [base + timedelta(hours=h) for h in range(24 * days)]
