"""helm/tools is not a package: its scripts are run as files, and imported by these tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "helm" / "tools"))
