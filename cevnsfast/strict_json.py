"""Strict JSON for every ``--json`` output: RFC 8259 has no NaN or Infinity.

Non-finite floats become ``null`` (an open interval end, an undefined χ²); numpy scalars and
arrays become plain numbers and lists. ``json.dumps(..., allow_nan=False)`` then guarantees
that no ``NaN``/``Infinity`` token is ever printed.
"""

import json
import math
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """``value`` with numpy types converted and non-finite floats replaced by None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(payload: Any) -> str:
    """Strict JSON text of ``payload`` (see module docstring)."""
    return json.dumps(plain(payload), allow_nan=False)
