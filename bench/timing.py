"""Timing helpers shared by the benchmarks: repeated samples and figures (median, spread,
ratios to baselines measured in the same run)."""

import time

import numpy as np


def samples(func, repeats: int, inner: int, clock=time.perf_counter) -> np.ndarray:
    """Time per call (s; wall clock unless ``clock`` is another, e.g. ``time.thread_time``)
    of each of ``repeats`` batches of ``inner`` calls."""
    out = np.empty(repeats)
    for r in range(repeats):
        start = clock()
        for _ in range(inner):
            func()
        out[r] = (clock() - start) / inner
    return out


def figure(
    ours: np.ndarray,
    scale: float,
    unit: str,
    baselines: dict[str, np.ndarray] | None = None,
    rate: bool = False,
) -> dict:
    """Median and (min, max) of ``ours`` × scale; ratios median(baseline)/median(ours), the
    first baseline being the headline ``baseline_ratio``. With ``rate`` the samples are rates
    (higher is faster) and the ratios median(ours)/median(baseline): a ratio is always how
    many times faster ours is."""
    ours = np.asarray(ours, dtype=float)
    med = float(np.median(ours))
    ratios = {k: float(np.median(v)) / med for k, v in (baselines or {}).items()}
    if rate:
        ratios = {k: 1.0 / v for k, v in ratios.items()}
    first = next(iter(ratios), None)
    return {
        "value": med * scale,
        "spread": [float(ours.min()) * scale, float(ours.max()) * scale],
        "repeats": int(ours.size),
        "unit": unit,
        "baseline": first,
        "baseline_ratio": ratios[first] if first else None,
        "baseline_ratios": ratios,
    }
