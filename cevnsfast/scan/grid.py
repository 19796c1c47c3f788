"""N-dimensional profile-likelihood grid scans over couplings.

A scan is a regular grid over some couplings (the *axes*, ``NAME=LO:HI:N``). At every grid
point the experiment's χ² is evaluated with all its nuisances profiled (``chi2_batch``); every
other coupling the scan names is either *fixed* at a value or *profiled*: minimised over a
bounded range at each grid point (method in :func:`profile_min`).

The grid is cut into chunks (default about 10⁴ points each, :func:`default_chunks`); a chunk is
computed in one go (one ``chi2_batch`` call without profiled couplings) and written to a
:class:`~cevnsfast.scan.store.ScanStore` with a completion marker, so an interrupted scan
resumes without recomputing finished chunks. Results come back as an ``xarray.Dataset``
(dims named after the axes; ``chi2`` and, per profiled coupling, ``best_<name>``).

Couplings are dimensionless (in units of G_F); χ² is dimensionless.
"""

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import minimum_filter

from cevnsfast.likelihood.base import Experiment
from cevnsfast.likelihood.registry import parameter_unit
from cevnsfast.scan import store as _store

DEFAULT_CHUNK_POINTS = 10_000
DEFAULT_PROFILE_RANGE = (-1.0, 1.0, 41)
# Below this many points a parallel kernel launch costs more than it saves (the profiling
# polish, refinement and best-fit steps make many small calls); on a loaded machine waking
# the thread pool can take milliseconds.
SERIAL_BELOW = 2048
LINE_SEARCH = np.array([0.5, 1.0, 2.0, 4.0])  # multiples of the Newton step tried at once
SCAN_FORMAT = 1


# ---------------------------------------------------------------------------------------------
# Scan definition


@dataclass(frozen=True)
class Axis:
    """``n`` values of parameter ``name`` from ``lo`` to ``hi`` (inclusive), equally spaced
    (``scale="linear"``) or equally spaced in log (``"log"``, for masses and small couplings).

    ``name`` is a coupling (``eps_ee_uV``) or, in a scan of a model, one of the model's
    parameters; :class:`ScanSpec` checks it against the model.
    """

    name: str
    lo: float
    hi: float
    n: int
    scale: str = "linear"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(f"{self.name}: needs finite LO < HI, got {self.lo}:{self.hi}")
        if self.scale not in ("linear", "log"):
            raise ValueError(f"{self.name}: scale must be 'linear' or 'log', got {self.scale!r}")
        if self.scale == "log" and self.lo <= 0:
            raise ValueError(f"{self.name}: a log axis needs LO > 0, got {self.lo}")
        if isinstance(self.n, bool) or int(self.n) != self.n or self.n < 2:
            raise ValueError(f"{self.name}: needs at least 2 points, got {self.n}")
        object.__setattr__(self, "n", int(self.n))

    @property
    def values(self) -> np.ndarray:
        if self.scale == "log":
            return np.geomspace(self.lo, self.hi, self.n)
        return np.linspace(self.lo, self.hi, self.n)

    @property
    def step(self) -> float:
        """Grid spacing of a linear axis (profiled couplings are minimised on this scale)."""
        if self.scale == "log":
            raise ValueError(f"{self.name}: a log axis has no constant step")
        return (self.hi - self.lo) / (self.n - 1)

    def coordinate(self, value):
        """Where the grid is equally spaced: the value, or its logarithm on a log axis."""
        return np.log(value) if self.scale == "log" else np.asarray(value, dtype=float)

    def from_coordinate(self, u):
        return np.exp(u) if self.scale == "log" else np.asarray(u, dtype=float)

    @classmethod
    def parse(cls, text: str, default: tuple[float, float, int] | None = None) -> "Axis":
        """``NAME=LO:HI:N[:log]`` (or ``NAME`` alone when a ``default`` (LO, HI, N) is given)."""
        usage = (
            f"{text!r} is not NAME=LO:HI:N[:log] (e.g. eps_ee_uV=-0.5:0.5:101, g=1e-5:1e-3:61:log)"
        )
        name, sep, rest = text.partition("=")
        if not sep:
            if default is None:
                raise ValueError(usage)
            return cls(name.strip(), *default)
        parts = rest.split(":")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("log", "linear")):
            raise ValueError(usage)
        try:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"{text!r}: LO and HI must be numbers and N an integer") from None
        return cls(name.strip(), lo, hi, n, parts[3] if len(parts) == 4 else "linear")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "lo": self.lo, "hi": self.hi, "n": self.n, "scale": self.scale}

    def __str__(self) -> str:
        tail = ":log" if self.scale == "log" else ""
        return f"{self.name}={self.lo:g}:{self.hi:g}:{self.n}{tail}"


@dataclass(frozen=True)
class ProfileSettings:
    """How profiled couplings are minimised at each grid point (see :func:`profile_min`).

    ``candidates``: local minima of the coarse grid that are polished (the lowest ones);
    ``xtol``: final step relative to each profiled range; ``max_iter``: polish iterations;
    ``max_rows``: largest ``chi2_batch`` call, in points (bounds memory).
    """

    candidates: int = 2
    xtol: float = 1e-7
    max_iter: int = 60
    max_rows: int = 1 << 20

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "xtol": self.xtol,
            "max_iter": self.max_iter,
            "max_rows": self.max_rows,
        }


@dataclass(frozen=True)
class ScanSpec:
    """What to scan: experiments (``+``-joined names), grid axes, fixed and profiled couplings.

    ``model``: None scans NSI/GNI couplings (the default model); else a model or scenario of
    ``cevnsfast models``, whose parameters the axes, fixed and profiled names are.
    ``profiled`` axes give each profiled coupling's range and coarse-grid size. ``chunks`` is
    the chunk shape (points per axis); None picks :func:`default_chunks`.
    """

    experiments: str
    axes: tuple[Axis, ...]
    fixed: Mapping[str, float] = field(default_factory=dict)
    profiled: tuple[Axis, ...] = ()
    chunks: tuple[int, ...] | None = None
    profile: ProfileSettings = ProfileSettings()
    model: str | None = None

    def __post_init__(self) -> None:
        from cevnsfast.likelihood.registry import canonical_parameter

        def named(a: Axis) -> Axis:
            return replace(a, name=canonical_parameter(a.name, self.model))

        axes = tuple(named(a if isinstance(a, Axis) else Axis.parse(a)) for a in self.axes)
        prof = tuple(
            named(a if isinstance(a, Axis) else Axis.parse(a, DEFAULT_PROFILE_RANGE))
            for a in self.profiled
        )
        if any(a.scale == "log" for a in prof):
            raise ValueError("profiled parameters are minimised on a linear range: drop ':log'")
        fixed = {canonical_parameter(k, self.model): float(v) for k, v in dict(self.fixed).items()}
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "profiled", prof)
        object.__setattr__(self, "fixed", fixed)
        if not axes:
            raise ValueError("a scan needs at least one axis (NAME=LO:HI:N)")
        names = [a.name for a in axes] + list(fixed) + [a.name for a in prof]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"couplings named twice (axis, --set or --profile): {dup}")
        chunks = self.chunks if self.chunks is not None else default_chunks(self.shape)
        chunks = tuple(int(c) for c in chunks)
        if len(chunks) != len(axes) or any(c < 1 for c in chunks):
            raise ValueError(f"chunks {chunks} must give a positive size for each of {len(axes)}")
        object.__setattr__(
            self, "chunks", tuple(min(c, a.n) for c, a in zip(chunks, axes, strict=True))
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.n for a in self.axes)

    @property
    def axis_names(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def coupling_names(self) -> list[str]:
        """Experiment columns: axes, then fixed, then profiled couplings."""
        return self.axis_names + list(self.fixed) + [a.name for a in self.profiled]

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        return tuple(math.ceil(n / c) for n, c in zip(self.shape, self.chunks, strict=True))

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form: stored in the result's attributes and sent to Dask workers."""
        return {
            "experiments": self.experiments,
            "axes": [a.as_dict() for a in self.axes],
            "fixed": dict(self.fixed),
            "profiled": [a.as_dict() for a in self.profiled],
            "chunks": list(self.chunks),
            "profile": self.profile.as_dict(),
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ScanSpec":
        return cls(
            experiments=d["experiments"],
            axes=tuple(Axis(**a) for a in d["axes"]),
            fixed=dict(d.get("fixed", {})),
            profiled=tuple(Axis(**a) for a in d.get("profiled", [])),
            chunks=tuple(d["chunks"]) if d.get("chunks") is not None else None,
            profile=ProfileSettings(**d.get("profile", {})),
            model=d.get("model"),
        )


def default_chunks(shape: Sequence[int], target: int = DEFAULT_CHUNK_POINTS) -> tuple[int, ...]:
    """Chunk shape of about ``target`` points, contiguous in C order, equal chunks per axis.

    The last axes are taken whole while they fit; the next axis gets what is left, rounded so
    its chunks have (nearly) equal size: 201×201 → (41, 201), 41⁴ → (1, 5, 41, 41).
    """
    chunks = [1] * len(shape)
    budget = max(1, int(target))
    for i in reversed(range(len(shape))):
        c = max(1, min(shape[i], budget))
        c = math.ceil(shape[i] / math.ceil(shape[i] / c))
        chunks[i] = c
        budget = max(1, budget // c)
    return tuple(chunks)


def chunk_indices(spec: ScanSpec) -> Iterator[tuple[int, ...]]:
    """Every chunk index, in C order."""
    return product(*(range(m) for m in spec.chunk_grid))


def chunk_slices(spec: ScanSpec, index: Sequence[int]) -> tuple[slice, ...]:
    return _store.chunk_slices(index, spec.chunks, spec.shape)


# ---------------------------------------------------------------------------------------------
# Batched bounded minimisation (profiled couplings, polishing the best fit)


def minimize_batched(
    fun: Callable[[np.ndarray, np.ndarray], np.ndarray],
    start: np.ndarray,
    f_start: np.ndarray,
    step: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    xtol: float = 1e-7,
    max_iter: int = 60,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise many k-dimensional problems at once, within the box [lo, hi].

    ``fun(rows, points)`` returns the objective of problem ``rows[m]`` at ``points[m]``
    (shape (M, k)); ``start`` (P, k) and its values ``f_start`` (P,) seed the P problems, and
    ``step`` (k,) is the initial stencil half-width (the coarse-grid spacing).

    Each iteration, for every problem still active: a stencil of 2k axis points plus k(k−1)/2
    diagonal points around the current point gives a finite-difference gradient and Hessian
    (exact for a quadratic; one-sided near a bound); a Newton step (a steepest-descent step if
    the Hessian is not positive definite), shortened to at most 4 stencil widths, is tried at
    0.5, 1, 2 and 4 times its length (a crude line search that walks long valleys). The
    lowest of centre, stencil and line points becomes the new centre, so the value never
    increases. Stencil widths follow the accepted Newton move (at least /8, at most ×4 per
    iteration) and shrink by 4 when nothing improved; a problem stops when every width is
    below ``xtol``·(hi − lo) or after ``max_iter`` iterations. Two ``fun`` calls per
    iteration for all active problems together.
    """
    x = np.array(start, dtype=float, copy=True)
    f = np.where(np.isfinite(f_start), f_start, np.inf).astype(float)
    n, k = x.shape
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    width = hi - lo
    h = np.tile(np.minimum(np.asarray(step, float), width / 4), (n, 1))
    tol = xtol * width
    active = np.arange(n)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    for _ in range(max_iter):
        active = active[np.any(h[active] > tol, axis=1)]
        if active.size == 0:
            break
        xa, fa, ha = x[active], f[active], h[active]
        d1, d2 = _offsets(xa, ha, lo, hi)
        stencil = [xa + d1[:, j, None] * np.eye(k)[j] for j in range(k)]
        stencil += [xa + d2[:, j, None] * np.eye(k)[j] for j in range(k)]
        stencil += [
            xa + d2[:, i, None] * np.eye(k)[i] + d2[:, j, None] * np.eye(k)[j] for i, j in pairs
        ]
        pts = np.stack(stencil, axis=1)  # (m, s, k)
        m, s = pts.shape[:2]
        vals = _finite(fun(np.repeat(active, s), pts.reshape(m * s, k))).reshape(m, s)
        g, hess = _derivatives(fa, vals, d1, d2, pairs, k)
        step_n = _newton_step(g, hess, ha)
        newton = np.clip(xa[:, None] + LINE_SEARCH[None, :, None] * step_n[:, None], lo, hi)
        n_line = LINE_SEARCH.size
        f_newton = _finite(fun(np.repeat(active, n_line), newton.reshape(m * n_line, k)))

        cand = np.concatenate([xa[:, None], pts, newton], axis=1)
        cand_f = np.concatenate([fa[:, None], vals, f_newton.reshape(m, n_line)], axis=1)
        best = np.argmin(cand_f, axis=1)
        rows = np.arange(m)
        new_x, new_f = cand[rows, best], cand_f[rows, best]
        moved = np.abs(new_x - xa)
        h_new = np.where(best[:, None] > s, np.clip(moved, ha / 8, 4 * ha), ha)
        h_new = np.where(best[:, None] == 0, ha / 4, h_new)
        x[active], f[active] = new_x, new_f
        h[active] = np.minimum(h_new, width / 4)
    return x, f


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.inf)


def _offsets(x, h, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Two distinct non-zero stencil offsets per coordinate that stay inside [lo, hi]."""
    d1 = -np.minimum(h, x - lo)
    d2 = np.minimum(h, hi - x)
    at_lo, at_hi = d1 == 0, d2 == 0
    d1 = np.where(at_lo, 2 * h, d1)  # one-sided: +h and +2h (h ≤ width/4 keeps them inside)
    d2 = np.where(at_hi, -h, d2)
    d1 = np.where(at_hi, -2 * h, d1)
    return d1, d2


def _derivatives(f0, vals, d1, d2, pairs, k) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of the quadratic through the stencil (non-uniform offsets)."""
    f1, f2 = vals[:, :k] - f0[:, None], vals[:, k : 2 * k] - f0[:, None]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diag = 2 * (d2 * f1 - d1 * f2) / (d1 * d2 * (d1 - d2))
        grad = (f1 - 0.5 * diag * d1**2) / d1
        hess = np.zeros((f0.size, k, k))
        hess[:, np.arange(k), np.arange(k)] = diag
        for p, (i, j) in enumerate(pairs):
            fij = vals[:, 2 * k + p] - f0
            si, sj = d2[:, i], d2[:, j]
            rest = (
                grad[:, i] * si + grad[:, j] * sj + 0.5 * (diag[:, i] * si**2 + diag[:, j] * sj**2)
            )
            hess[:, i, j] = hess[:, j, i] = (fij - rest) / (si * sj)
    bad = ~np.isfinite(grad).all(axis=1) | ~np.isfinite(hess).all(axis=(1, 2))
    grad[bad], hess[bad] = 0.0, 0.0
    return grad, hess


def _newton_step(g: np.ndarray, hess: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Newton step where the Hessian is positive definite, else scaled steepest descent."""
    k = g.shape[1]
    step = np.zeros_like(g)
    eig = np.linalg.eigvalsh(hess) if k > 1 else hess[:, :, 0]
    pd = np.all(eig > 0, axis=1)
    if pd.any():
        step[pd] = -np.linalg.solve(hess[pd], g[pd][..., None])[..., 0]
    diag = np.abs(np.diagonal(hess, axis1=1, axis2=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        descent = np.where(diag > 0, -g / diag, -np.sign(g) * h)
    step[~pd] = descent[~pd]
    step = np.nan_to_num(step)
    # shrink the whole step (keeping its direction) to at most 4 stencil widths per coordinate
    scale = np.max(np.abs(step) / (4 * h), axis=1, initial=1.0)
    return step / scale[:, None]


# ---------------------------------------------------------------------------------------------
# Evaluating the grid


def build_experiment(
    spec: ScanSpec, tables_dir: Path | None = None, data_dir: Path | None = None
) -> Experiment:
    """The experiment (or combination) of ``spec`` with the scan's coupling columns."""
    from cevnsfast.likelihood.registry import experiment

    return experiment(
        spec.experiments,
        spec.coupling_names,
        tables_dir=tables_dir,
        data_dir=data_dir,
        model=spec.model,
    )


def table_hashes(exp: Experiment) -> dict[str, str]:
    """Input hash of each part's response table (provenance of the scan)."""
    out = {}
    for part in getattr(exp, "parts", [exp]):
        table = getattr(getattr(part, "predictor", None), "table", None)
        if table is not None:
            out[part.name] = str(table.attrs.get("input_hash"))
    return out


@contextmanager
def _one_numba_thread() -> Iterator[None]:
    """Run numba parallel kernels on the calling thread only (thread-local setting)."""
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


class GridScan:
    """Evaluates a :class:`ScanSpec` on its experiment: points, chunks, profiled minima."""

    def __init__(
        self,
        spec: ScanSpec,
        experiment: Experiment | None = None,
        tables_dir: Path | None = None,
        data_dir: Path | None = None,
    ):
        self.spec = spec
        self.tables_dir, self.data_dir = tables_dir, data_dir  # where workers find the same
        self.experiment = experiment or build_experiment(spec, tables_dir, data_dir)
        if list(self.experiment.coupling_names) != spec.coupling_names:
            raise ValueError(
                f"experiment couplings {self.experiment.coupling_names} differ from the scan's "
                f"{spec.coupling_names}"
            )
        self._fixed = np.array(list(spec.fixed.values()), dtype=float)
        self.n_calls = 0  # chi2_batch calls made (tests count them)

    def _chi2(self, points: np.ndarray) -> np.ndarray:
        """chi2_batch in slices of at most ``max_rows`` points; small batches on one thread."""
        limit = self.spec.profile.max_rows
        self.n_calls += 1
        if points.shape[0] < SERIAL_BELOW:
            with _one_numba_thread():
                return _finite(self.experiment.chi2_batch(points))
        if points.shape[0] <= limit:
            return _finite(self.experiment.chi2_batch(points))
        return np.concatenate(
            [
                _finite(self.experiment.chi2_batch(points[i : i + limit]))
                for i in range(0, points.shape[0], limit)
            ]
        )

    def evaluate(self, axis_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """χ² at points (n, n_axes) of the axis couplings, and the profiled couplings' best
        values (n, n_profiled); non-finite χ² is returned as +inf."""
        axis_points = np.atleast_2d(np.asarray(axis_points, dtype=float))
        n = axis_points.shape[0]
        base = np.empty((n, axis_points.shape[1] + self._fixed.size))
        base[:, : axis_points.shape[1]] = axis_points
        base[:, axis_points.shape[1] :] = self._fixed
        if not self.spec.profiled:
            return self._chi2(base), np.empty((n, 0))
        return self.profile_min(base)

    def profile_min(self, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Minimum of χ² over the profiled couplings at each row of ``base`` (axes + fixed).

        Method: χ² on the coarse grid of the profiled ranges (``Axis.n`` nodes each); the
        ``candidates`` lowest local minima of that grid seed :func:`minimize_batched`, whose
        best result is kept. Accuracy: converged minima are located to ``xtol`` of each range
        (χ² error ≲ ½ χ'' (xtol·range)², negligible); a minimum whose basin holds no coarse
        node, or a third local minimum lower than the two polished ones, can be missed, so the
        coarse spacing should be below the width of the χ² valleys. A minimum on the range's
        edge means the range is too small (check ``best_<name>``).
        """
        prof = self.spec.profiled
        k = len(prof)
        coarse = np.stack(
            [g.ravel() for g in np.meshgrid(*(a.values for a in prof), indexing="ij")], axis=1
        )
        n_coarse = coarse.shape[0]
        rows_per_call = max(1, self.spec.profile.max_rows // n_coarse)
        chi2 = np.empty(base.shape[0])
        best = np.empty((base.shape[0], k))
        for start in range(0, base.shape[0], rows_per_call):
            block = base[start : start + rows_per_call]
            c, b = self._profile_block(block, coarse, prof)
            chi2[start : start + block.shape[0]] = c
            best[start : start + block.shape[0]] = b
        return chi2, best

    def _profile_block(self, block, coarse, prof) -> tuple[np.ndarray, np.ndarray]:
        r, k, n_coarse = block.shape[0], len(prof), coarse.shape[0]
        pts = np.concatenate([np.repeat(block, n_coarse, axis=0), np.tile(coarse, (r, 1))], axis=1)
        vals = self._chi2(pts).reshape(r, *(a.n for a in prof))
        local = vals <= minimum_filter(vals, size=(1,) + (3,) * k, mode="nearest")
        flat = np.where(local, vals, np.inf).reshape(r, n_coarse)
        n_cand = min(self.spec.profile.candidates, n_coarse)
        order = np.argsort(flat, axis=1, kind="stable")[:, :n_cand]
        f0 = np.take_along_axis(flat, order, axis=1)
        x0 = coarse[order]  # (r, n_cand, k)
        owner = np.repeat(np.arange(r), n_cand)
        keep = np.isfinite(f0.ravel())
        x = x0.reshape(r * n_cand, k).copy()
        f = f0.ravel().copy()
        if keep.any():
            width = block.shape[1]

            def fun(rows: np.ndarray, points: np.ndarray) -> np.ndarray:
                full = np.empty((rows.size, width + k))
                full[:, :width] = block[owner[keep][rows]]
                full[:, width:] = points
                return self._chi2(full)

            settings = self.spec.profile
            x[keep], f[keep] = minimize_batched(
                fun,
                x[keep],
                f[keep],
                np.array([a.step for a in prof]),
                np.array([a.lo for a in prof]),
                np.array([a.hi for a in prof]),
                settings.xtol,
                settings.max_iter,
            )
        f = f.reshape(r, n_cand)
        pick = np.argmin(f, axis=1)
        return f[np.arange(r), pick], x.reshape(r, n_cand, k)[np.arange(r), pick]

    def chunk_points(self, index: Sequence[int]) -> tuple[tuple[slice, ...], np.ndarray]:
        """The slices of chunk ``index`` and its points (n, n_axes), C order."""
        slices = chunk_slices(self.spec, index)
        values = [a.values[s] for a, s in zip(self.spec.axes, slices, strict=True)]
        grids = np.meshgrid(*values, indexing="ij")
        return slices, np.stack([g.ravel() for g in grids], axis=1)

    def compute_chunk(
        self, index: Sequence[int]
    ) -> tuple[tuple[slice, ...], dict[str, np.ndarray]]:
        """χ² (and profiled best values) of one chunk, as arrays of the chunk's shape."""
        slices, points = self.chunk_points(index)
        shape = tuple(s.stop - s.start for s in slices)
        chi2, best = self.evaluate(points)
        out = {"chi2": chi2.reshape(shape)}
        for j, a in enumerate(self.spec.profiled):
            out[f"best_{a.name}"] = best[:, j].reshape(shape)
        return slices, out

    def metadata(self) -> dict[str, Any]:
        """Store attributes: what was scanned, with which settings and tables."""
        from cevnsfast import __version__

        spec = self.spec
        return {
            "cevnsfast_scan": SCAN_FORMAT,
            "experiments": spec.experiments,
            "parts": [p.name for p in getattr(self.experiment, "parts", [self.experiment])],
            "couplings": spec.coupling_names,
            "axes": spec.axis_names,
            "fixed": dict(spec.fixed),
            "profiled": [a.name for a in spec.profiled],
            "spec": spec.as_dict(),
            "table_hashes": table_hashes(self.experiment),
            "chi2_definition": "χ², nuisances profiled, profiled couplings minimised",
            "package_version": __version__,
        }


# ---------------------------------------------------------------------------------------------
# Running a scan locally


def open_or_create_store(
    scanner: GridScan, out: Path | str | None, resume: bool, overwrite: bool = False
) -> _store.ScanStore:
    """A new store for the scan, or (``resume``) the existing one after checking it matches."""
    spec = scanner.spec
    meta = scanner.metadata()
    if resume and out is not None and _store.store_exists(out):
        st = _store.ScanStore.open(out, mode="r+")
        st.check_compatible(meta, keys=("spec", "table_hashes", "experiments"))
        return st
    variables = {"chi2": {"long_name": "chi2 (nuisances profiled)", "units": "1"}}
    for a in spec.profiled:
        variables[f"best_{a.name}"] = {
            "long_name": f"profiled best-fit {a.name}",
            "units": parameter_unit(a.name, spec.model),
        }
    coords = {
        a.name: (a.values, {"units": parameter_unit(a.name, spec.model), "long_name": a.name})
        for a in spec.axes
    }
    return _store.ScanStore.create(
        out, spec.axis_names, coords, spec.chunks, variables, meta, overwrite=overwrite
    )


def progress_bar(total: int, initial: int, enabled: bool, desc: str):
    """tqdm bar in grid points: shows points/s and the time left."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="pt",
        unit_scale=True,
        desc=desc,
        disable=not enabled,
        smoothing=0.05,
        dynamic_ncols=True,
    )


def run_scan(
    scan: ScanSpec | GridScan,
    out: Path | str | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    on_chunk: Callable[[tuple[int, ...]], None] | None = None,
    tables_dir: Path | None = None,
    data_dir: Path | None = None,
):
    """Run a scan chunk by chunk in this process; returns the result as an ``xarray.Dataset``.

    ``out``: Zarr store path (None: in memory). ``resume``: continue the store at ``out``,
    computing only chunks without a completion marker (the store must come from the same
    spec and tables). ``on_chunk(index)`` is called after each chunk is stored (progress
    hooks, tests). Ctrl-C leaves every finished chunk in the store.
    """
    scanner = scan if isinstance(scan, GridScan) else GridScan(scan, None, tables_dir, data_dir)
    st = open_or_create_store(scanner, out, resume, overwrite)
    pending = st.pending()
    sizes = {idx: st.chunk_size(idx) for idx in pending}
    total = scanner.spec.n_points
    with progress_bar(
        total, total - sum(sizes.values()), progress, scanner.spec.experiments
    ) as bar:
        for idx in pending:
            t0 = time.perf_counter()
            _, arrays = scanner.compute_chunk(idx)
            st.write_chunk(idx, arrays)
            bar.update(sizes[idx])
            bar.set_postfix_str(f"chunk {time.perf_counter() - t0:.2f} s", refresh=False)
            if on_chunk is not None:
                on_chunk(idx)
    return st.to_dataset()


# ---------------------------------------------------------------------------------------------
# Best fit, intervals and regions from a scan


@dataclass
class BestFit:
    """Global minimum of a scan: axis coupling values, profiled couplings' values, χ²_min.

    ``chi2_min`` is polished with the exact χ² when a scanner was given (never above
    ``grid_chi2_min``, the lowest grid value).
    """

    values: dict[str, float]
    profiled: dict[str, float]
    chi2_min: float
    grid_chi2_min: float
    polished: bool


def best_fit(ds, scanner: GridScan | None = None) -> BestFit:
    """The lowest grid point of ``ds``; with ``scanner``, polished by :func:`minimize_batched`
    over the axis couplings (inside the grid's box) from that point."""
    chi2 = np.where(np.isfinite(ds["chi2"].values), ds["chi2"].values, np.inf)
    if not np.isfinite(chi2).any():
        raise ValueError("the scan has no finite χ² (is it finished? see chunks_done)")
    dims = list(ds["chi2"].dims)
    idx = np.unravel_index(int(np.argmin(chi2)), chi2.shape)
    point = np.array([float(ds[d].values[i]) for d, i in zip(dims, idx, strict=True)])
    grid_min = float(chi2[idx])
    prof_names = [n[len("best_") :] for n in ds.data_vars if n.startswith("best_")]
    prof = {n: float(ds[f"best_{n}"].values[idx]) for n in prof_names}
    if scanner is None:
        return BestFit(
            dict(zip(dims, point.tolist(), strict=True)), prof, grid_min, grid_min, False
        )
    axes = scanner.spec.axes

    def to_values(u: np.ndarray) -> np.ndarray:  # polish where the grid is equally spaced
        return np.stack([a.from_coordinate(u[:, j]) for j, a in enumerate(axes)], axis=1)

    lo = np.array([a.coordinate(a.lo) for a in axes], dtype=float)
    hi = np.array([a.coordinate(a.hi) for a in axes], dtype=float)
    u0 = np.array([[a.coordinate(v) for a, v in zip(axes, point, strict=True)]], dtype=float)
    u, f = minimize_batched(
        lambda rows, pts: scanner.evaluate(to_values(pts))[0],
        np.clip(u0, lo, hi),
        np.array([grid_min]),
        (hi - lo) / np.array([a.n - 1 for a in axes]),
        lo,
        hi,
        xtol=1e-9,
        max_iter=200,
    )
    x = to_values(u)
    chi2_min, best = scanner.evaluate(x)
    prof = {a.name: float(best[0, j]) for j, a in enumerate(scanner.spec.profiled)}
    values = dict(zip(dims, x[0].tolist(), strict=True))
    return BestFit(values, prof, float(min(chi2_min[0], grid_min)), grid_min, True)


def profile_curve(ds, name: str) -> tuple[np.ndarray, np.ndarray]:
    """χ² along axis ``name``, minimised over the scan's other axes on the grid."""
    da = ds["chi2"]
    values = np.where(np.isfinite(da.values), da.values, np.inf)
    axis = list(da.dims).index(name)
    others = tuple(i for i in range(values.ndim) if i != axis)
    return ds[name].values, values.min(axis=others) if others else values


def intervals(
    ds, cl: float | str = 0.9, scanner: GridScan | None = None, min_chi2: float | None = None
) -> dict[str, list]:
    """1D allowed intervals (1 dof) of every axis at ``cl``; Δχ² to the global minimum.

    For several axes the curve is minimised over the other axes on the grid; for a 1D scan
    with ``scanner`` the crossings are solved on the exact χ².
    """
    from cevnsfast.scan.intervals import delta_chi2_threshold, intervals_1d

    threshold = delta_chi2_threshold(cl, 1)
    dims = list(ds["chi2"].dims)
    out = {}
    for name in dims:
        x, curve = profile_curve(ds, name)
        refine = None
        if scanner is not None and len(dims) == 1:

            def refine(t: float) -> float:
                return float(scanner.evaluate(np.array([[t]]))[0][0])

        ref = min_chi2 if min_chi2 is not None else None
        if ref is None and refine is None:
            ref = float(np.min(curve))
        out[name] = intervals_1d(x, curve, threshold, refine, min_chi2=ref)
    return out


def cl_label(cl: float | str) -> str:
    """'90 %' for 0.9, '95 %' for '95%', '1sigma' as given."""
    if isinstance(cl, str) and not cl.strip().endswith("%"):
        return cl.strip()
    value = float(cl) if not isinstance(cl, str) else float(cl.strip()[:-1]) / 100
    return f"{100 * value:g} %"


@dataclass
class Region2D:
    """The region Δχ² ≤ threshold of a 2D scan (``cl`` with ``dof`` degrees of freedom).

    ``x``, ``y``, ``chi2``: the grid contoured (refined near the level when a scanner was
    given: exact there, bilinear elsewhere); ``lines``: contour polylines (N×2, closed loops
    repeat their first point).
    """

    x_name: str
    y_name: str
    x: np.ndarray
    y: np.ndarray
    chi2: np.ndarray
    min_chi2: float
    threshold: float
    cl: float | str
    dof: int
    lines: list[np.ndarray]
    n_evaluations: int = 0

    @property
    def delta_chi2(self) -> np.ndarray:
        return self.chi2 - self.min_chi2

    @property
    def allowed(self) -> np.ndarray:
        return self.delta_chi2 <= self.threshold

    @property
    def closed(self) -> bool:
        """True when every contour line is a closed loop inside the grid."""
        return bool(self.lines) and all(
            len(line) > 2 and np.allclose(line[0], line[-1]) for line in self.lines
        )

    @property
    def touches_edge(self) -> bool:
        a = self.allowed
        return bool(a[0].any() or a[-1].any() or a[:, 0].any() or a[:, -1].any())

    def bounding_box(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """((x_lo, x_hi), (y_lo, y_hi)) of the allowed grid nodes, None if none is allowed."""
        a = self.allowed
        if not a.any():
            return None
        xs, ys = self.x[a.any(axis=1)], self.y[a.any(axis=0)]
        return (float(xs.min()), float(xs.max())), (float(ys.min()), float(ys.max()))

    def summary(self) -> str:
        box = self.bounding_box()
        if box is None:
            return f"no allowed point at {cl_label(self.cl)} C.L. ({self.dof} dof)"
        (x0, x1), (y0, y1) = box
        n_closed = sum(len(ln) > 2 and np.allclose(ln[0], ln[-1]) for ln in self.lines)
        shape = "closed" if self.closed else "open (reaches the grid edge)"
        return (
            f"{cl_label(self.cl)} C.L., {self.dof} dof (Δχ² ≤ {self.threshold:.3f}): "
            f"{len(self.lines)} "
            f"contour line(s), {n_closed} closed; region {shape}; "
            f"{self.x_name} in [{x0:.4g}, {x1:.4g}], {self.y_name} in [{y0:.4g}, {y1:.4g}]"
        )


def region_2d(
    ds,
    cl: float | str = 0.9,
    dof: int = 2,
    scanner: GridScan | None = None,
    factor: int = 4,
    min_chi2: float | None = None,
    dims: tuple[str, str] | None = None,
) -> Region2D:
    """Allowed region of two axes at ``cl`` (``dof`` degrees of freedom, default 2).

    With ``scanner`` (2D scans only) cells the contour crosses are refined ``factor`` times
    with the exact χ² (``intervals.refine_grid``); a scan with more axes is first minimised
    over the others on the grid. Δχ² is taken to ``min_chi2`` (default: the grid minimum).
    """
    from cevnsfast.scan.intervals import contour_2d, delta_chi2_threshold, refine_grid

    threshold = delta_chi2_threshold(cl, dof)
    all_dims = list(ds["chi2"].dims)
    xd, yd = dims if dims is not None else all_dims[:2]
    values = np.where(np.isfinite(ds["chi2"].values), ds["chi2"].values, np.inf)
    others = tuple(i for i, d in enumerate(all_dims) if d not in (xd, yd))
    grid = values.min(axis=others) if others else values
    if all_dims.index(xd) > all_dims.index(yd):
        grid = grid.T
    x, y = ds[xd].values, ds[yd].values
    ref = float(np.min(grid)) if min_chi2 is None else float(min_chi2)
    n_eval = 0
    if scanner is not None and len(all_dims) == 2 and factor > 1:
        swap = all_dims.index(xd) == 1

        def func(xv: np.ndarray, yv: np.ndarray) -> np.ndarray:
            pts = np.column_stack([yv, xv] if swap else [xv, yv])
            return scanner.evaluate(pts)[0]

        fine = refine_grid(x, y, grid, threshold, func, factor, min_chi2=ref)
        x, y, grid, n_eval = fine.x, fine.y, fine.chi2, fine.n_evaluations
    lines = contour_2d(x, y, grid, threshold, min_chi2=ref)
    return Region2D(xd, yd, x, y, grid, ref, threshold, cl, dof, lines, n_eval)
