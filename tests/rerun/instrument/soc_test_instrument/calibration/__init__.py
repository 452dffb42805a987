"""Calibration, laid out as hermes_eea and padre_meddea lay it out: the pipeline imports
``soc_test_instrument.calibration`` and calls its ``calibration.process_file``."""

from .calibration import process_file

__all__ = ["process_file"]
