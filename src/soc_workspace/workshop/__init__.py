"""Workshops as code: create, rehearse, run and end a workshop through any hub's REST API.

- :func:`create`: a hub group holding the workshop's record (logins, end time, materials,
  profile, Dask limits), the participants' accounts, a sign-in sheet;
- :func:`rehearse`: synthetic participants and a capacity report with a verdict;
- :func:`status`: who logged in, what runs, what it uses;
- :func:`end`: every participant's home archived and checked, then servers, clusters,
  accounts and group removed (also done at the end time by :mod:`.service`).

The hub's side (participants' logins, Dask limits from group properties) is in
:mod:`soc_workspace.hub.workshops`; materials are pulled into homes by :mod:`.materials`.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Workshop": "record",
    "WorkshopError": "record",
    "WorkshopHub": "hub",
    "create": "create",
    "rehearse": "rehearse",
    "status": "status",
    "end": "end",
    "pull": "materials",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
