"""Empirical coverage of Wilks and Feldman–Cousins intervals at a true parameter point.

Coverage is the probability that the confidence set contains the true θ. For both
constructions θ_true is in the set of an outcome iff t(θ_true) = Δχ²(θ_true) is at most the
threshold at θ_true — Wilks' χ² quantile (``scan.intervals.delta_chi2_threshold``, one dof per
grid axis) or the FC critical value c(θ_true) — so coverage needs only toys at θ_true:

1. ``n_critical`` toys give c(θ_true) (as the FC belt does);
2. an independent set of ``n_toys`` toys gives the fraction with t ≤ threshold, with its
   binomial standard error √(p(1 − p)/n).

Truth: the couplings θ_true with the nuisances at their conditional fit to the data (the
profile construction of ``stats.toys``).
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

from cevnsfast.likelihood.base import Experiment
from cevnsfast.scan.intervals import delta_chi2_threshold
from cevnsfast.stats.feldman_cousins import cl_probability, critical_value, toy_delta_chi2
from cevnsfast.stats.toys import rng_for


@dataclass
class Coverage:
    """Empirical coverage of the Wilks and FC constructions at one true point."""

    cl: float
    n_toys: int
    n_critical_toys: int
    wilks_threshold: float
    fc_critical: float
    fc_critical_error: float
    wilks: float
    wilks_error: float
    fc: float
    fc_error: float

    def as_dict(self) -> dict:
        return asdict(self)


def coverage(
    experiment: Experiment,
    points: np.ndarray,
    shape: tuple[int, ...],
    true_index: int,
    cl: float | str = 0.9,
    n_toys: int = 1000,
    n_critical: int | None = None,
    seed: int = 0,
    stride: int = 1,
) -> Coverage:
    """Coverage of Wilks and FC at grid node ``true_index`` (module docstring)."""
    p = cl_probability(cl)
    n_critical = n_critical or n_toys
    rows = len(points)
    crit_t = toy_delta_chi2(
        experiment, points, shape, true_index, n_critical, rng_for(seed, rows + true_index), stride
    )
    c, c_err = critical_value(crit_t, p)
    test_t = toy_delta_chi2(
        experiment, points, shape, true_index, n_toys, rng_for(seed, 2 * rows + true_index), stride
    )
    wilks = delta_chi2_threshold(cl, len(shape))
    cov_w = float(np.mean(test_t <= wilks))
    cov_fc = float(np.mean(test_t <= c))
    return Coverage(
        cl=p,
        n_toys=n_toys,
        n_critical_toys=n_critical,
        wilks_threshold=wilks,
        fc_critical=c,
        fc_critical_error=c_err,
        wilks=cov_w,
        wilks_error=math.sqrt(max(cov_w * (1 - cov_w), 1.0 / n_toys) / n_toys),
        fc=cov_fc,
        fc_error=math.sqrt(max(cov_fc * (1 - cov_fc), 1.0 / n_toys) / n_toys),
    )
