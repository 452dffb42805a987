"""A test instrument for soc-workspace's rerun tests.

It stands in for a mission's instrument package (hermes_eea, padre_meddea), which cannot be
installed here: it reads HERMES-EEA-like level-0 files (CCSDS packets in the layout of
hermes_eea's science packet definition) and writes an ISTP level-1 CDF, behind the SWxSOC
pipeline's contract ``soc_test_instrument.calibration.process_file(Path) -> list[Path | None]``.
"""

__version__ = "1.0.0"
INST_NAME = "eea"
