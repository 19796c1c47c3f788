"""Readers of the public COHERENT data releases (package data) and their checks."""

import numpy as np


def read_only(a) -> np.ndarray:
    """A read-only copy of ``a``: loaded release data are shared between callers (the loaders
    cache them per process), so nobody may change them in place."""
    a = np.array(a)
    a.flags.writeable = False
    return a
