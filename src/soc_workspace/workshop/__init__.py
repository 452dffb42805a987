"""Workshops as code: create, rehearse, run and end a workshop through any hub's REST API."""
