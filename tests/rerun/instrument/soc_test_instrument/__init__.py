"""A test instrument for soc-workspace's rerun tests.

It stands in for a mission's instrument package (hermes_eea, padre_meddea), which cannot be
installed here: it reads HERMES-EEA-like level-0 files (CCSDS packets in the layout of
hermes_eea's science packet definition) and writes an ISTP level-1 CDF, behind the SWxSOC
pipeline's contract ``soc_test_instrument.calibration.process_file(Path) -> list[Path | None]``.
"""

import logging
import sys

__version__ = "1.0.0"
INST_NAME = "eea"

# Like swxsoc (an astropy logger): the package's logger prints through a handler of its own
# and still propagates to the root logger.
_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s [%(name)s]"))
logging.getLogger("soc_test_instrument").addHandler(_handler)
logging.getLogger("soc_test_instrument").setLevel(logging.INFO)
