"""Tests of reruns (soc_workspace.calibration) with the test instrument."""
