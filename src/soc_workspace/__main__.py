"""``python -m soc_workspace``: the ``soc-workspace`` command (what ``up`` starts services with)."""

import sys

from .cli import main

sys.exit(main())
