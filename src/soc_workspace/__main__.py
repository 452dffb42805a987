"""``python -m soc_workspace``: the ``soc-workspace`` command (what ``up`` starts services with)."""

from .cli import main

main()
