"""Pseudo-experiments (toys) of any experiment, and their profiled χ² on a parameter grid.

**What a toy is** (docs/statistics.md). At a tested parameter point θ the experiment's
nuisances are set to their conditional best fit ν̂(θ) to the observed data, and each toy
draws

* the counts of every bin: Poisson(N_b(θ, ν̂)) for the real-data experiments (CsI 2021, LAr
  2020; arXiv:2402.16953 Eq. 17), Gaussian N(N_b(θ, ν̂), N_exp,b) for the Asimov detectors
  (their χ² of Eqs. 19–21 is a Gaussian likelihood of fixed variance N_exp);
* the central value of every auxiliary measurement that constrains a nuisance (the Gaussian
  priors of Eq. 18), from N(ν̂_k, σ_k): the *global observables* of Cowan, Cranmer, Gross and
  Vitells (arXiv:1007.1727 §2–3, with its profile construction), as in the ATLAS/CMS LHC
  Higgs-combination procedure (ATL-PHYS-PUB-2011-011, CMS NOTE-2011/005 §2.1). Nuisances
  without a prior (σ = ∞) have no measurement; fixed ones (σ = 0) stay fixed.

Each toy's χ² is the experiment's own profiled χ² (``with_data`` → ``chi2_batch``: the
in-kernel nuisance profile, tens of µs per point). Random numbers come from a numpy
``Generator`` seeded by ``SeedSequence(seed, spawn_key=(task,))``: a task's toys depend only
on (seed, task), never on how tasks are scheduled.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from scipy.ndimage import minimum_filter

from cevnsfast.likelihood.base import Experiment
from cevnsfast.likelihood.toydata import Measurements, ToySource


def rng_for(seed: int, task: int) -> np.random.Generator:
    """Independent, reproducible stream of task ``task`` of a run seeded ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(task),)))


@dataclass(frozen=True)
class ToyBatch:
    """n toys of every part: ``observed[part]`` (n, bins), ``centres[part]`` (n, nuisances)."""

    observed: list[np.ndarray]
    centres: list[np.ndarray]

    @property
    def n(self) -> int:
        return self.observed[0].shape[0]

    def measurements(self, t: int) -> list[Measurements]:
        return [Measurements(o[t], c[t]) for o, c in zip(self.observed, self.centres, strict=True)]


def draw_toys(sources: Sequence[ToySource], n: int, rng: np.random.Generator) -> ToyBatch:
    """``n`` pseudo-experiments from ``sources`` (see the module docstring)."""
    observed, centres = [], []
    for src in sources:
        mean = np.asarray(src.expected, dtype=float)
        if src.variance is None:
            # N_th ≥ 0 up to rounding (e.g. LAr's signed background-shape components)
            lam = np.maximum(mean, 0.0)
            observed.append(rng.poisson(lam, size=(n, mean.size)).astype(float))
        else:
            sd = np.sqrt(np.asarray(src.variance, dtype=float))
            observed.append(mean + sd * rng.standard_normal((n, mean.size)))
        measured = src.measured
        width = np.where(measured, src.sigma, 0.0)
        drawn = src.nuisances + width * rng.standard_normal((n, src.nuisances.size))
        centres.append(np.where(measured, drawn, src.nominal))
    return ToyBatch(observed, centres)


def _finite_chi2(experiment: Experiment, points: np.ndarray) -> np.ndarray:
    values = np.asarray(experiment.chi2_batch(points), dtype=float)
    return np.where(np.isfinite(values), values, np.inf)


def coarse_mask(shape: Sequence[int], stride: int) -> np.ndarray:
    """Grid nodes whose every index is a multiple of ``stride`` or the last one (C order)."""
    axes = [(np.arange(n) % stride == 0) | (np.arange(n) == n - 1) for n in shape]
    return np.logical_and.reduce(np.meshgrid(*axes, indexing="ij")).ravel()


def toy_chi2(
    experiment: Experiment,
    toys: ToyBatch,
    points: np.ndarray,
    shape: Sequence[int],
    required: Sequence[int] = (),
    stride: int = 1,
    candidates: int = 2,
) -> np.ndarray:
    """Profiled χ² of every toy on the grid ``points`` (rows in C order of ``shape``) →
    (n_toys, n_points), +inf where not evaluated.

    ``stride`` = 1 evaluates every node. ``stride`` > 1 locates each toy's grid minimum with
    fewer fits: the coarse nodes (every ``stride``-th per axis, :func:`coarse_mask`) first,
    then every node within ``stride`` of the ``candidates`` lowest coarse local minima, so
    a second minimum (e.g. the degenerate NSI solutions) is searched too. The minimum over
    the nodes evaluated equals the full-grid minimum unless a grid node lower than both
    polished basins lies in a basin without a coarse node. ``required`` nodes (the tested
    point) are always evaluated.
    """
    points = np.asarray(points, dtype=float)
    n_points = points.shape[0]
    out = np.full((toys.n, n_points), np.inf)
    coarse = coarse_mask(shape, stride) if stride > 1 else np.ones(n_points, dtype=bool)
    first = coarse.copy()
    first[list(required)] = True
    grid_index = np.arange(n_points).reshape(shape)
    # one thread per call: a thread-pool wake-up for a few dozen points costs more than it
    # saves; parallelism comes from the executor's processes
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        _fill(experiment, toys, points, shape, coarse, first, grid_index, stride, candidates, out)
    finally:
        numba.set_num_threads(previous)
    return out


def _fill(experiment, toys, points, shape, coarse, first, grid_index, stride, candidates, out):
    first_idx = np.flatnonzero(first)
    for t in range(toys.n):
        exp = experiment.with_data(toys.measurements(t))
        out[t, first_idx] = _finite_chi2(exp, points[first_idx])
        if stride == 1:
            continue
        row = np.where(coarse, out[t], np.inf).reshape(shape)
        local = (row <= minimum_filter(row, size=2 * stride + 1, mode="nearest")) & np.isfinite(row)
        cand = np.flatnonzero(local.ravel())
        cand = cand[np.argsort(row.ravel()[cand])[:candidates]]
        near = np.zeros(shape, dtype=bool)
        for c in cand:
            centre = np.unravel_index(c, shape)
            box = tuple(slice(max(i - stride, 0), i + stride + 1) for i in centre)
            near[box] = True
        todo = grid_index[near]
        todo = todo[~np.isfinite(out[t, todo]) & ~first[todo]]
        if todo.size:
            out[t, todo] = _finite_chi2(exp, points[todo])
