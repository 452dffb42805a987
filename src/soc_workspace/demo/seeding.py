"""Random numbers that depend only on the seed and what is being made, never on order.

Each product draws from its own generator, seeded from (seed, a name that identifies it), so a
file is the same whether it is made alone, with others, or in another process.
"""

from __future__ import annotations

import hashlib

import numpy as np


def rng_for(seed: int, name: str) -> np.random.Generator:
    """A generator for ``name`` (a file name or product key) under ``seed``."""
    digest = hashlib.sha256(name.encode()).digest()
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *np.frombuffer(digest[:16], "<u4")])
