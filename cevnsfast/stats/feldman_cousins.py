"""Feldman–Cousins confidence intervals and regions from toys (the unified approach with the
profile likelihood ratio).

Feldman & Cousins, PRD 57 (1998) 3873, order the outcomes by the likelihood ratio; with
nuisance parameters the ratio is the profile likelihood ratio (their §XI; Cowan et al.,
arXiv:1007.1727 §2–3). In χ² units the statistic at a grid point θ is

    t(θ; data) = χ²(θ; data) − min_θ' χ²(θ'; data)          (nuisances profiled in both)

with the minimum taken over the scanned grid — which is the physical region: a bounded
parameter is scanned only where it is allowed, as FC's Gaussian mean μ ≥ 0 (their §IV.B).
At each grid point N toys (``stats.toys``) give the distribution of t under θ; the
critical value c(θ) is its ``cl`` quantile (the smallest c with an empirical CDF ≥ cl, which
for discrete data keeps coverage ≥ cl, as FC's own ordering does), with a Monte Carlo
standard error from the binomial spread of the order statistics. θ is in the confidence set
when t(θ; observed) ≤ c(θ): intervals are unions (``scan.intervals.intervals_1d`` applied to
Δχ² − c), regions are contours of Δχ² − c = 0. Where Wilks' theorem holds, c(θ) is the χ²
quantile (2.71 for 90 % C.L., 1 dof) and the two constructions agree.

The same statistic (grid minimum, the same nodes) is used for the data and for every toy,
so the construction's coverage does not depend on the grid resolution.

Toys run task by task (``chunk`` grid points each) into a resumable Zarr store (the scan
store of ``scan.store``, dims = axes + ``toy``), locally or on the Dask executor of
``scan.distributed``.
"""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cevnsfast.likelihood.base import Experiment
from cevnsfast.scan.grid import progress_bar, table_hashes
from cevnsfast.scan.intervals import Interval, contour_2d, delta_chi2_threshold, intervals_1d
from cevnsfast.scan.spec import Axis
from cevnsfast.scan.store import ScanStore, store_exists
from cevnsfast.stats.toys import draw_toys, rng_for, toy_chi2

BELT_FORMAT = 1


@dataclass(frozen=True)
class BeltSpec:
    """A Feldman–Cousins construction: experiments, grid axes, fixed couplings, toys.

    ``model``: a scenario or model of ``likelihood.models`` (its physical parameters are the
    couplings) or None for the NSI/GNI couplings of ``likelihood.registry``. ``stride``:
    coarse-to-fine minimum search of each toy (``toys.toy_chi2``; 1 = every node).
    ``chunk``: grid points per task.
    """

    experiments: str
    axes: tuple[Axis, ...]
    fixed: Mapping[str, float] = field(default_factory=dict)
    model: str | None = None
    n_toys: int = 1000
    seed: int = 0
    stride: int = 1
    chunk: int = 1

    def __post_init__(self) -> None:
        axes = tuple(Axis(**a.as_dict()) if hasattr(a, "as_dict") else Axis(**a) for a in self.axes)
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "fixed", {k: float(v) for k, v in dict(self.fixed).items()})
        for name, value, low in (("n_toys", self.n_toys, 10), ("stride", self.stride, 1)):
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be an integer ≥ {low}, got {value!r}")
        if not 1 <= len(axes) <= 2:
            raise ValueError(f"a Feldman–Cousins belt takes 1 or 2 axes, got {len(axes)}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.n for a in self.axes)

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiments": self.experiments,
            "axes": [a.as_dict() for a in self.axes],
            "fixed": dict(self.fixed),
            "model": self.model,
            "n_toys": int(self.n_toys),
            "seed": int(self.seed),
            "stride": int(self.stride),
            "chunk": int(self.chunk),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "BeltSpec":
        return cls(**{**d, "axes": tuple(Axis(**a) for a in d["axes"])})


def build_experiment(
    experiments: str, names: Sequence[str], model: str | None = None
) -> Experiment:
    """The experiment whose columns are ``names``: NSI/GNI couplings, or (``model``) the
    model's parameters (the others at its SM point; ``likelihood.registry.experiment``)."""
    from cevnsfast.likelihood.registry import experiment

    return experiment(experiments, list(names), model=model)


def grid_points(
    experiment: Experiment, axes: Sequence[Axis], fixed: Mapping[str, float]
) -> np.ndarray:
    """Grid rows (C order of the axes) with one column per coupling of ``experiment``;
    couplings that are neither axes nor fixed are 0 (the SM for the NSI/GNI couplings)."""
    mesh = np.meshgrid(*(a.values for a in axes), indexing="ij")
    names = list(experiment.coupling_names)
    unknown = [n for n in [*(a.name for a in axes), *fixed] if n not in names]
    if unknown:
        raise ValueError(f"{experiment.name} has no parameter {unknown}; it has {names}")
    points = np.zeros((mesh[0].size, len(names)))
    for a, m in zip(axes, mesh, strict=True):
        points[:, names.index(a.name)] = m.ravel()
    for k, v in fixed.items():
        points[:, names.index(k)] = v
    return points


def spec_experiment(spec: BeltSpec) -> tuple[Experiment, np.ndarray]:
    """(experiment, grid points) of a belt spec."""
    names = [*(a.name for a in spec.axes), *spec.fixed]
    exp = build_experiment(spec.experiments, names, spec.model)
    return exp, grid_points(exp, spec.axes, spec.fixed)


def toy_delta_chi2(
    experiment: Experiment,
    points: np.ndarray,
    shape: Sequence[int],
    index: int,
    n_toys: int,
    rng: np.random.Generator,
    stride: int = 1,
) -> np.ndarray:
    """t(θ) = χ²(θ) − min over the grid, for ``n_toys`` toys drawn at grid node ``index``."""
    toys = draw_toys(experiment.toy_source(points[index]), n_toys, rng)
    chi2 = toy_chi2(experiment, toys, points, shape, required=[index], stride=stride)
    return chi2[:, index] - chi2.min(axis=1)


def critical_value(samples: np.ndarray, cl: float) -> tuple[float, float]:
    """(c, σ_c): the ``cl`` quantile of toy statistics (inverted CDF: the smallest sample with
    an empirical CDF ≥ cl) and its Monte Carlo error, half the spread of the order statistics
    at ranks n·cl ± √(n·cl·(1 − cl)) (binomial error of the count below c)."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    value = float(np.quantile(x, cl, method="inverted_cdf"))
    half = math.sqrt(n * cl * (1 - cl))
    lo = x[max(int(math.floor(n * cl - half)), 0)]
    hi = x[min(int(math.ceil(n * cl + half)), n - 1)]
    return value, float(0.5 * (hi - lo))


def cl_probability(cl: float | str) -> float:
    """Coverage probability of ``cl`` (the forms ``delta_chi2_threshold`` accepts)."""
    from scipy.stats import chi2 as chi2_dist

    return float(chi2_dist.cdf(delta_chi2_threshold(cl, 1), 1))


@dataclass
class Belt:
    """Toy statistics t(θ) on a grid: ``toys[*shape, n_toys]`` (NaN where not computed)."""

    spec: BeltSpec
    values: list[np.ndarray]
    toys: np.ndarray

    @property
    def complete(self) -> bool:
        return bool(np.isfinite(self.toys).all())

    def critical(self, cl: float | str = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Critical Δχ² and its MC error at every grid point (NaN where not computed)."""
        p = cl_probability(cl)
        flat = self.toys.reshape(-1, self.toys.shape[-1])
        crit = np.full(flat.shape[0], np.nan)
        err = np.full(flat.shape[0], np.nan)
        for i, row in enumerate(flat):
            if np.isfinite(row).all():
                crit[i], err[i] = critical_value(row, p)
        shape = self.toys.shape[:-1]
        return crit.reshape(shape), err.reshape(shape)


TIE_TOLERANCE = 1e-9
"""Relative tolerance of Δχ² ≤ c: with discrete data (Poisson counts) the observed statistic
can equal a toy outcome's, and c is such an outcome; rounding must not exclude it."""


def _excess(delta_chi2: np.ndarray, critical: np.ndarray) -> np.ndarray:
    """Δχ² − c (≤ 0: inside the FC set), ties within ``TIE_TOLERANCE`` counted inside."""
    c = np.asarray(critical, float)
    return np.asarray(delta_chi2, float) - c - TIE_TOLERANCE * np.maximum(np.abs(c), 1.0)


def fc_intervals(
    values: np.ndarray, delta_chi2: np.ndarray, critical: np.ndarray
) -> list[Interval]:
    """The FC confidence set {θ : Δχ²(θ) ≤ c(θ)} of a 1D scan as disjoint intervals, by the
    interpolated crossings of ``intervals_1d`` applied to Δχ² − c (offset by 1 so that its
    threshold is positive)."""
    return intervals_1d(values, _excess(delta_chi2, critical) + 1.0, 1.0, min_chi2=0.0)


def fc_region(
    x: np.ndarray, y: np.ndarray, delta_chi2: np.ndarray, critical: np.ndarray
) -> list[np.ndarray]:
    """Contour lines of the 2D FC region Δχ² = c(θ) (``"ij"`` grids)."""
    return contour_2d(x, y, _excess(delta_chi2, critical) + 1.0, 1.0, min_chi2=0.0)


# ---- running: tasks, store, executor ------------------------------------------------------


def _store_meta(spec: BeltSpec, experiment: Experiment) -> dict[str, Any]:
    from cevnsfast import __version__

    return {
        "cevnsfast_belt": BELT_FORMAT,
        "spec": spec.as_dict(),
        "experiments": spec.experiments,
        "table_hashes": table_hashes(experiment),
        "statistic": "t = chi2(theta) - min over the grid, nuisances profiled (toys)",
        "package_version": __version__,
    }


def _open_store(spec: BeltSpec, experiment, out, resume: bool, overwrite: bool) -> ScanStore:
    meta = _store_meta(spec, experiment)
    if resume and out is not None and store_exists(out):
        store = ScanStore.open(out, mode="r+")
        store.check_compatible(meta, keys=("spec", "table_hashes"))
        return store
    dims = [a.name for a in spec.axes] + ["toy"]
    coords = {a.name: (a.values, {"units": "as the parameter"}) for a in spec.axes}
    coords["toy"] = (np.arange(spec.n_toys, dtype=float), {"units": "index"})
    chunks = [1] * (len(spec.axes) - 1) + [max(1, int(spec.chunk)), spec.n_toys]
    variables = {"delta_chi2": {"long_name": "toy statistic chi2(theta) - grid minimum"}}
    return ScanStore.create(out, dims, coords, chunks, variables, meta, overwrite=overwrite)


def compute_chunk(
    spec: BeltSpec, experiment: Experiment, points: np.ndarray, store: ScanStore, index
) -> np.ndarray:
    """Toy statistics of one store chunk (grid points × toys); task k's random stream is
    ``rng_for(seed, flat grid index)``."""
    region = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(
        index, store.chunks, store.shape, strict=True
    ))  # fmt: skip
    grid_region = region[:-1]
    flat = np.ravel_multi_index(
        np.meshgrid(*(np.arange(s.start, s.stop) for s in grid_region), indexing="ij"),
        spec.shape,
    ).ravel()
    out = np.empty((flat.size, spec.n_toys))
    for row, k in enumerate(flat):
        out[row] = toy_delta_chi2(
            experiment, points, spec.shape, int(k), spec.n_toys, rng_for(spec.seed, k), spec.stride
        )
    return out.reshape(*(s.stop - s.start for s in grid_region), spec.n_toys)


_WORKER: dict[str, tuple[Experiment, np.ndarray]] = {}


def _task(index, spec_dict: dict, store_path: str, numba_threads: int | None) -> int:
    """Dask task: one chunk of toys into the store (data, then its completion marker)."""
    if numba_threads:
        import numba
        from numba.core import config

        # the Nanny sets NUMBA_NUM_THREADS after numba was imported: read it before the
        # thread pool starts, or numba refuses the change at the worker's next compile
        config.reload_config()
        numba.set_num_threads(min(int(numba_threads), numba.config.NUMBA_NUM_THREADS))
    key = json.dumps(spec_dict, sort_keys=True)
    spec = BeltSpec.from_dict(spec_dict)
    if key not in _WORKER:
        _WORKER[key] = spec_experiment(spec)
    experiment, points = _WORKER[key]
    store = ScanStore.open(store_path, mode="r+")
    store.write_chunk(index, {"delta_chi2": compute_chunk(spec, experiment, points, store, index)})
    return store.chunk_size(index) // spec.n_toys


def run_belt(
    spec: BeltSpec,
    out: Path | str | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    experiment: Experiment | None = None,
) -> Belt:
    """Compute (or, ``resume``, finish) the toys of ``spec`` → :class:`Belt`.

    Locally in this process, or on Dask (``workers`` local processes or a ``scheduler``
    address; needs ``out``, which every worker must see). ``experiment`` overrides the one
    built from the spec (local runs only; tests use it for analytic experiments).
    """
    if experiment is None:
        experiment, points = spec_experiment(spec)
    else:
        points = grid_points(experiment, spec.axes, spec.fixed)
    store = _open_store(spec, experiment, out, resume, overwrite)
    pending = store.pending()
    done_points = spec.n_points - sum(store.chunk_size(i) for i in pending) // spec.n_toys
    with progress_bar(spec.n_points, done_points, progress, f"{spec.experiments} toys") as bar:
        if pending and (workers or scheduler):
            if out is None:
                raise ValueError("toys on Dask write to a store on disk: give out=PATH (--out)")
            _run_dask(spec, store, str(Path(out).resolve()), pending, workers, scheduler, bar)
        else:
            for index in pending:
                arr = compute_chunk(spec, experiment, points, store, index)
                store.write_chunk(index, {"delta_chi2": arr})
                bar.update(store.chunk_size(index) // spec.n_toys)
    toys = np.asarray(store.arrays["delta_chi2"][...], dtype=float)
    return Belt(spec, [a.values for a in spec.axes], toys)


def _run_dask(spec, store, store_path, pending, workers, scheduler, bar) -> None:
    import os

    from dask.distributed import Client, as_completed

    from cevnsfast.scan.distributed import local_cluster

    cluster = None
    n = int(workers or 2)
    threads = max(1, (os.cpu_count() or 1) // n)
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = local_cluster(n, threads)
        client = Client(cluster)
    try:
        futures = [
            client.submit(_task, idx, spec.as_dict(), store_path, threads, pure=False)
            for idx in pending
        ]
        for fut in as_completed(futures):
            bar.update(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def observed_delta_chi2(experiment: Experiment, points: np.ndarray) -> np.ndarray:
    """Δχ² of the data on the grid: the statistic t(θ; observed) of the module docstring."""
    chi2 = np.asarray(experiment.chi2_batch(points), dtype=float)
    chi2 = np.where(np.isfinite(chi2), chi2, np.inf)
    return chi2 - chi2.min()
