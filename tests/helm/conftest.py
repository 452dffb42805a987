"""Fixtures of the chart tests (helpers are in helmchart.py)."""

from __future__ import annotations

import pytest
from helmchart import VALUES_SETS


@pytest.fixture(params=sorted(VALUES_SETS))
def values_set(request: pytest.FixtureRequest) -> str:
    """The name of one of the values sets every render test runs with."""
    return request.param
