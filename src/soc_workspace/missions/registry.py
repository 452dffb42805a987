"""The missions and instruments the SWxSOC runs, held in our own code.

swxsoc keeps this registry in a global config that selects one mission at a time
(``SWXSOC_MISSION``); the workspace shows every mission at once, so it keeps its own copy.
``tests/test_missions_swxsoc.py`` checks it against swxsoc's parser on the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Instrument:
    """One instrument of a mission.

    ``name`` is what buckets, packages and FileInfo use (``nemisis``); ``short_name`` is what
    product file names use (``nem``); ``target_name`` is what raw telemetry names use (``NEM``).
    """

    name: str
    short_name: str
    full_name: str
    target_name: str
    package: str | None = None  # calibration package when not ``{mission}_{name}``
    extra_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mission:
    """A mission: its instruments, data levels and product file format."""

    name: str
    full_name: str
    extension: str  # of standard products: "cdf" or "fits"
    levels: tuple[str, ...]  # the first one is the raw level the pipeline starts from
    instruments: tuple[Instrument, ...]
    # Path segment the sorting function uses for some descriptors (others are kept as they are).
    descriptor_paths: dict[str, str] = field(
        default_factory=lambda: {"spec": "spectrum", "hk": "housekeeping"}
    )
    # What product names start with: the mission name, or (REACH) the instrument's short name
    # directly (``reach_all_l1c_prelim_...``); names with the mission name in front are read too.
    names_start_with_mission: bool = True

    @property
    def first_level(self) -> str:
        return self.levels[0]

    def instrument(self, name: str) -> Instrument:
        """Find an instrument by name, short name, target name or extra name (any case)."""
        wanted = name.lower()
        for inst in self.instruments:
            names = {inst.name, inst.short_name, inst.target_name.lower(), *inst.extra_names}
            if wanted in {n.lower() for n in names}:
                return inst
        valid = ", ".join(i.name for i in self.instruments)
        raise ValueError(
            f"unknown instrument {name!r} for mission {self.name!r}: expected one of {valid}"
        )

    def package_for(self, instrument: str) -> str:
        """The Python package that owns this instrument's calibration."""
        inst = self.instrument(instrument)
        return inst.package or f"{self.name}_{inst.name}"


HERMES = Mission(
    name="hermes",
    full_name="Heliophysics Environmental and Radiation Measurement Experiment Suite",
    extension="cdf",
    levels=("l0", "l1", "ql", "l2", "l3"),
    instruments=(
        Instrument("eea", "eea", "Electron Electrostatic Analyzer", "EEA"),
        Instrument(
            "nemisis",
            "nem",
            "Noise Eliminating Magnetometer Instrument in a Small Integrated System",
            "NEM",
        ),
        Instrument("merit", "mrt", "Miniaturized Electron pRoton Telescope", "MERIT"),
        Instrument("spani", "spn", "Solar Probe Analyzer for Ions", "SPANI"),
    ),
)

PADRE = Mission(
    name="padre",
    full_name="PolArization and Directivity X-Ray Experiment",
    extension="fits",
    levels=("raw", "l0", "l1", "ql", "l2", "l3"),
    instruments=(
        Instrument("meddea", "meddea", "MeDDEA", "MEDDEA", extra_names=("mda", "mdu")),
        Instrument(
            "sharp", "sharp", "Solar HARd X-ray Polarimeter", "SHARP", extra_names=("sp", "shp")
        ),
        Instrument("craft", "craft", "PADRE Spacecraft", "get", extra_names=("get",)),
    ),
)

REACH = Mission(
    name="swxsoc_pipeline",
    full_name="SWxSOC pipeline for affiliated instruments",
    extension="cdf",
    levels=("raw", "l1c", "l2", "l3"),
    instruments=(Instrument("reach", "reach", "REACH", "REACH", package="swxsoc_reach"),),
    # The pipeline's REACH products: reach_{all|<vehicle id>}_l1c_prelim_{day}_v1.0.0.cdf
    # (sdc_aws_processing_lambda's tests; swxsoc main parses them as swxsoc_pipeline files).
    names_start_with_mission=False,
)

MISSIONS: dict[str, Mission] = {m.name: m for m in (HERMES, PADRE, REACH)}


def get_mission(name: str) -> Mission:
    """The mission called ``name``; a clear error listing the valid names otherwise."""
    try:
        return MISSIONS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown mission {name!r}: expected one of {', '.join(MISSIONS)}"
        ) from None
