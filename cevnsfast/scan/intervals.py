"""Confidence levels, 1D intervals and 2D contours from χ² scans on grids.

Conventions shared by every function here:

* Δχ² = χ² − χ²_min, where χ²_min is the minimum over the grid unless the caller passes
  ``min_chi2`` (e.g. the global best fit from a minimiser); with ``refine`` in
  :func:`intervals_1d` the grid minimum is polished with the exact χ² first.
* A point is *allowed* when Δχ² ≤ threshold.
* Non-finite χ² values (``nan``, ``inf``) count as excluded.
* 2D grids use ``"ij"`` indexing: ``chi2_grid[i, j] = χ²(x[i], y[j])``, i.e. the layout of
  ``np.meshgrid(x, y, indexing="ij")``. Axes may be given in any order and are sorted.
"""

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import contourpy
import numba as nb
import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import erf
from scipy.stats import chi2 as chi2_dist

__all__ = [
    "Interval",
    "RefinedGrid",
    "contour_2d",
    "contour_and_area_2d",
    "delta_chi2_threshold",
    "format_intervals",
    "intervals_1d",
    "refine_grid",
    "refine_grid_near_contour",
    "region_area",
]

_ALLOWED_CL_FORMS = (
    "a probability in (0, 1) such as 0.6827, 0.90, 0.95, 0.99; "
    "a percentage string such as '90%', '95%', '99%'; "
    "or a Gaussian-equivalent string such as '1sigma', '2sigma', '3sigma' (also '2σ')"
)
_SIGMA_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:sigma|σ)\s*$", re.IGNORECASE)
_PERCENT_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$")
# Rounded Gaussian coverages (0.6827, 0.9545, 0.9973) are snapped to the exact nσ value.
_SIGMA_SNAP_TOL = 5e-5


def _sigma_probability(n_sigma: float) -> float:
    """Two-sided Gaussian coverage of ±n σ."""
    return float(erf(n_sigma / math.sqrt(2.0)))


def _parse_cl(cl: float | str) -> tuple[float, float | None]:
    """Coverage probability of ``cl`` and its nσ equivalent if it is one; ValueError if bad."""
    bad = f"invalid confidence level {cl!r}; use {_ALLOWED_CL_FORMS}"
    if isinstance(cl, bool):
        raise ValueError(bad)
    if isinstance(cl, str):
        if match := _SIGMA_RE.match(cl):
            n_sigma = float(match.group(1))
            if n_sigma > 0:
                return _sigma_probability(n_sigma), n_sigma
        elif match := _PERCENT_RE.match(cl):
            p = float(match.group(1)) / 100.0
            if 0.0 < p < 1.0:
                return p, None
        raise ValueError(bad)
    try:
        p = float(cl)
    except (TypeError, ValueError):
        raise ValueError(bad) from None
    if not 0.0 < p < 1.0:
        raise ValueError(
            f"invalid confidence level {cl!r} (a probability must lie in (0, 1); "
            f"write 90 % as 0.90 or '90%'); use {_ALLOWED_CL_FORMS}"
        )
    for n_sigma in (1.0, 2.0, 3.0, 4.0, 5.0):
        exact = _sigma_probability(n_sigma)
        if abs(p - exact) < _SIGMA_SNAP_TOL:
            return exact, n_sigma
    return p, None


def delta_chi2_threshold(cl: float | str, dof: int) -> float:
    """Δχ² threshold of a confidence level for ``dof`` jointly estimated parameters.

    ``cl`` is a probability (0.90), a percentage string ('90%') or 'nσ' ('1sigma', '2σ').
    Probabilities within 5e-5 of a Gaussian nσ coverage (0.6827, 0.9545, 0.9973) are read as
    exactly nσ; for 1 dof nσ gives exactly n² (0.6827 and '1sigma' → 1.0). Otherwise the
    χ²_dof quantile: 90 % → 2.706 for 1 dof and 4.605 for 2 dof.
    """
    if isinstance(dof, bool) or not isinstance(dof, int | np.integer) or dof < 1:
        raise ValueError(f"dof must be a positive integer, got {dof!r}")
    p, n_sigma = _parse_cl(cl)
    if n_sigma is not None and dof == 1:
        return n_sigma**2
    return float(chi2_dist.ppf(p, int(dof)))


# ---------------------------------------------------------------------------------------------
# 1D intervals


def _fmt(value: float, sig: int) -> str:
    return f"{value:.{sig}g}"


@dataclass(frozen=True)
class Interval:
    """An allowed interval [lo, hi]; an open side means the region runs past the grid edge.

    On an open side the stored value is the grid boundary (a bound on what was scanned, not
    a crossing). Unpacks like a pair: ``lo, hi = interval``.
    """

    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False

    def __iter__(self) -> Iterator[float]:
        return iter((self.lo, self.hi))

    def format(self, sig: int = 3) -> str:
        """'[a, b]' with ``sig`` significant digits; an open side reads '(<a' or '>b)'."""
        lo = f"(<{_fmt(self.lo, sig)}" if self.lo_open else f"[{_fmt(self.lo, sig)}"
        hi = f">{_fmt(self.hi, sig)})" if self.hi_open else f"{_fmt(self.hi, sig)}]"
        return f"{lo}, {hi}"

    def __str__(self) -> str:
        return self.format()


def format_intervals(intervals: Iterable[Interval | tuple[float, float]], sig: int = 3) -> str:
    """'[a, b] ∪ [c, d]' with ``sig`` significant digits; '∅' when nothing is allowed."""
    parts = [
        iv.format(sig) if isinstance(iv, Interval) else Interval(*map(float, iv)).format(sig)
        for iv in intervals
    ]
    return " ∪ ".join(parts) if parts else "∅"


def _sorted_axis(values: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The axis as a sorted float array and the sorting permutation; rejects duplicates."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"{name} must be a 1-D array with at least 2 points")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    order = np.argsort(arr, kind="stable")
    arr = arr[order]
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must not contain repeated values")
    return arr, order


def _quadratic_crossing(
    xs: np.ndarray, ds: np.ndarray, xa: float, xb: float, threshold: float
) -> float:
    """Root in [xa, xb] of the quadratic through (xs, ds) minus the threshold.

    ``xa`` and ``xb`` are two of the nodes and bracket the crossing; the interpolant has
    exactly one root there because a quadratic has at most two.
    """
    x0, x1, x2 = xs
    d0, d1, d2 = ds
    f01 = (d1 - d0) / (x1 - x0)
    f12 = (d2 - d1) / (x2 - x1)
    f012 = (f12 - f01) / (x2 - x0)

    def q(t: float) -> float:
        return d0 + f01 * (t - x0) + f012 * (t - x0) * (t - x1) - threshold

    return float(brentq(q, xa, xb, xtol=1e-14 * max(1.0, abs(xa), abs(xb)), rtol=1e-15))


def _crossing(x: np.ndarray, d: np.ndarray, inner: int, outer: int, threshold: float) -> float:
    """Δχ² = threshold between the allowed node ``inner`` and the excluded node ``outer``.

    Quadratic interpolation through the two nodes and the next node on the allowed side (or,
    failing that, beyond the excluded side); linear if no finite third node exists. If the
    excluded node is not finite the allowed node itself is returned (conservative).
    """
    if not np.isfinite(d[outer]):
        return float(x[inner])
    step = inner - outer  # +1 or -1: direction from outer towards inner
    xa, xb = sorted((float(x[inner]), float(x[outer])))
    for third in (inner + step, outer - step):
        if 0 <= third < x.size and np.isfinite(d[third]):
            idx = np.sort(np.array([inner, outer, third]))
            return _quadratic_crossing(x[idx], d[idx], xa, xb, threshold)
    frac = (threshold - d[inner]) / (d[outer] - d[inner])
    return float(x[inner] + frac * (x[outer] - x[inner]))


def _polish_minimum(
    x: np.ndarray, chi2: np.ndarray, refine: Callable[[float], float], threshold: float
) -> float:
    """Lowest χ² after a bounded Brent search around every grid local minimum near the best."""
    best = float(np.min(chi2))
    n = x.size
    scale = float(x[-1] - x[0])
    for k in range(n):
        if chi2[k] - best > threshold:
            continue
        left = chi2[k - 1] if k > 0 else np.inf
        right = chi2[k + 1] if k < n - 1 else np.inf
        if chi2[k] > left or chi2[k] > right:
            continue
        lo, hi = float(x[max(k - 1, 0)]), float(x[min(k + 1, n - 1)])
        res = minimize_scalar(
            lambda t: float(refine(t)),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-12 * scale},
        )
        if np.isfinite(res.fun):
            best = min(best, float(res.fun))
    return best


def intervals_1d(
    x: np.ndarray,
    chi2: np.ndarray,
    threshold: float,
    refine: Callable[[float], float] | None = None,
    *,
    min_chi2: float | None = None,
) -> list[Interval]:
    """Disjoint allowed intervals {Δχ² ≤ threshold} of a 1D scan, in increasing order.

    Each crossing is located by quadratic interpolation of Δχ² through the two bracketing grid
    nodes and a neighbour. If ``refine`` (the exact χ²(x)) is given, the minimum is first
    polished by a bounded Brent search around the grid's local minima (unless ``min_chi2`` is
    given) and every crossing is then solved with ``brentq``. An interval reaching the
    first/last grid node is reported open on that side with the grid boundary as its value.
    Allowed regions narrower than the grid spacing that contain no allowed node are not found.
    """
    xs, order = _sorted_axis(x, "x")
    values = np.asarray(chi2, dtype=float)
    if values.shape != np.shape(x):
        raise ValueError(f"chi2 has shape {values.shape}, x has shape {np.shape(x)}")
    values = values[order]
    values = np.where(np.isfinite(values), values, np.inf)
    if not np.any(np.isfinite(values)):
        raise ValueError("chi2 has no finite value")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")

    if min_chi2 is not None:
        ref = float(min_chi2)
    elif refine is not None:
        ref = _polish_minimum(xs, values, refine, threshold)
    else:
        ref = float(np.min(values))
    d = values - ref
    allowed = d <= threshold

    # Runs of allowed nodes: starts where allowed switches on, ends where it switches off.
    edges = np.diff(np.concatenate(([0], allowed.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1

    def polish(guess: float, inner: int, outer: int) -> float:
        if refine is None:
            return guess
        a, b = float(xs[inner]), float(xs[outer])

        def g(t: float) -> float:
            return float(refine(t)) - ref - threshold

        ga, gb = g(a), g(b)
        if not (np.isfinite(ga) and np.isfinite(gb)) or ga * gb > 0:
            return guess  # grid values inconsistent with ``refine``: keep the interpolation
        lo, hi = min(a, b), max(a, b)
        return float(brentq(g, lo, hi, xtol=1e-14 * max(1.0, abs(lo), abs(hi)), rtol=1e-15))

    result = []
    last = xs.size - 1
    for i, j in zip(starts, stops, strict=True):
        if i == 0:
            lo, lo_open = float(xs[0]), True
        else:
            lo, lo_open = polish(_crossing(xs, d, i, i - 1, threshold), i, i - 1), False
        if j == last:
            hi, hi_open = float(xs[last]), True
        else:
            hi, hi_open = polish(_crossing(xs, d, j, j + 1, threshold), j, j + 1), False
        result.append(Interval(lo, hi, lo_open, hi_open))
    return result


# ---------------------------------------------------------------------------------------------
# 2D contours


def _sorted_grid(
    x: np.ndarray, y: np.ndarray, chi2_grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted axes and the χ² grid (``"ij"`` layout), non-finite values set to +inf."""
    xs, ox = _sorted_axis(x, "x")
    ys, oy = _sorted_axis(y, "y")
    grid = np.asarray(chi2_grid, dtype=float)
    if grid.shape != (xs.size, ys.size):
        hint = (
            " (it looks transposed: use chi2_grid[i, j] = χ²(x[i], y[j]))"
            if grid.shape == (ys.size, xs.size)
            else ""
        )
        raise ValueError(
            f"chi2_grid has shape {grid.shape}, expected (len(x), len(y)) = "
            f"{(xs.size, ys.size)}{hint}"
        )
    grid = grid[np.ix_(ox, oy)]
    grid = np.where(np.isfinite(grid), grid, np.inf)
    if not np.any(np.isfinite(grid)):
        raise ValueError("chi2_grid has no finite value")
    return xs, ys, grid


def _finite_for_contouring(d: np.ndarray, threshold: float) -> np.ndarray:
    """Δχ² with +inf replaced by a large finite value (excluded, contourable)."""
    finite = d[np.isfinite(d)]
    big = 10.0 * max(float(np.max(finite)), threshold) + 10.0
    return np.where(np.isfinite(d), d, big)


def contour_2d(
    x: np.ndarray,
    y: np.ndarray,
    chi2_grid: np.ndarray,
    threshold: float,
    *,
    min_chi2: float | None = None,
) -> list[np.ndarray]:
    """Polylines (N×2 arrays of (x, y)) of the level Δχ² = threshold.

    Marching squares with linear interpolation along cell edges (``contourpy``). Closed loops
    repeat their first point at the end; lines cut by the grid boundary are open.
    """
    return _lines(_level_generator(x, y, chi2_grid, threshold, min_chi2)[0], threshold)


def contour_and_area_2d(
    x: np.ndarray,
    y: np.ndarray,
    chi2_grid: np.ndarray,
    threshold: float,
    *,
    min_chi2: float | None = None,
) -> tuple[list[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(the polylines of :func:`contour_2d`, the allowed area Δχ² ≤ threshold as one path)
    from one contour generator.

    The area is (vertices N×2, codes N): contourpy's filled polygons with their holes, the
    codes those of ``matplotlib.path.Path`` (MOVETO 1, LINETO 2, CLOSEPOLY 79) — the path
    ``contourf`` fills for the band below the threshold, computed once with the region
    instead of at every drawing (on a 1201² grid contourf spends ~0.1 s copying it).
    """
    gen, d = _level_generator(x, y, chi2_grid, threshold, min_chi2)
    points, codes = gen.filled(float(np.min(d)) - 1.0, threshold)
    if points:
        area = (np.concatenate(points).astype(float), np.concatenate(codes).astype(np.uint8))
    else:
        area = (np.empty((0, 2)), np.empty(0, dtype=np.uint8))
    return _lines(gen, threshold), area


def _level_generator(
    x: np.ndarray, y: np.ndarray, chi2_grid: np.ndarray, threshold: float, min_chi2: float | None
) -> tuple[contourpy.ContourGenerator, np.ndarray]:
    """The contour generator of Δχ² on the sorted grid, and that Δχ² (finite, transposed)."""
    xs, ys, grid = _sorted_grid(x, y, chi2_grid)
    ref = float(np.min(grid)) if min_chi2 is None else float(min_chi2)
    d = _finite_for_contouring(grid - ref, threshold).T
    gen = contourpy.contour_generator(
        xs, ys, d, line_type=contourpy.LineType.Separate, fill_type=contourpy.FillType.OuterCode
    )
    return gen, d


def _lines(gen: contourpy.ContourGenerator, threshold: float) -> list[np.ndarray]:
    return [np.asarray(line, dtype=float) for line in gen.lines(threshold)]


@dataclass(frozen=True)
class RefinedGrid:
    """A finer grid whose χ² is exact where ``exact`` is true and bilinear elsewhere."""

    x: np.ndarray
    y: np.ndarray
    chi2: np.ndarray
    exact: np.ndarray
    n_evaluations: int
    min_chi2: float


def _subdivide(axis: np.ndarray, factor: int) -> np.ndarray:
    """Each interval of ``axis`` split into ``factor`` equal parts."""
    frac = np.arange(factor) / factor
    inner = (axis[:-1, None] + frac[None, :] * np.diff(axis)[:, None]).ravel()
    return np.append(inner, axis[-1])


@nb.njit(cache=True, nogil=True)
def _fill_unknown(grid: np.ndarray, factor: int, exact: np.ndarray, known: np.ndarray):
    """``known`` where ``exact``, elsewhere the bilinear interpolation of the coarse ``grid``
    (≥ 2 × 2 nodes) on the ``factor``-times subdivided index grid: one pass, no temporaries
    (a 1201² fine grid took ~15 arrays of 11.5 MB in numpy, each page-faulted afresh)."""
    n_i, n_j = exact.shape
    out = np.empty((n_i, n_j))
    for i in range(n_i):
        ci = min(i // factor, grid.shape[0] - 2)
        u = (i - ci * factor) / factor
        for j in range(n_j):
            if exact[i, j]:
                out[i, j] = known[i, j]
                continue
            cj = min(j // factor, grid.shape[1] - 2)
            v = (j - cj * factor) / factor
            out[i, j] = (
                (1 - u) * (1 - v) * grid[ci, cj]
                + u * (1 - v) * grid[ci + 1, cj]
                + (1 - u) * v * grid[ci, cj + 1]
                + u * v * grid[ci + 1, cj + 1]
            )
    return out


@nb.njit(cache=True, nogil=True)
def _cell_extremes(known: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of the known (non-NaN) values on each coarse cell's (factor + 1)² fine
    nodes, +inf / -inf where none is known."""
    n_i = (known.shape[0] - 1) // factor
    n_j = (known.shape[1] - 1) // factor
    lo = np.full((n_i, n_j), np.inf)
    hi = np.full((n_i, n_j), -np.inf)
    for ci in range(n_i):
        for cj in range(n_j):
            a, b = np.inf, -np.inf
            for i in range(ci * factor, (ci + 1) * factor + 1):
                for j in range(cj * factor, (cj + 1) * factor + 1):
                    k = known[i, j]
                    if k < a:  # NaN compares false: unknown nodes are skipped
                        a = k
                    if k > b:
                        b = k
            lo[ci, cj] = a
            hi[ci, cj] = b
    return lo, hi


def refine_grid(
    x: np.ndarray,
    y: np.ndarray,
    chi2_grid: np.ndarray,
    threshold: float,
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    factor: int = 4,
    *,
    min_chi2: float | None = None,
) -> RefinedGrid:
    """Subdivide every cell ``factor`` times; evaluate ``func`` only in cells at the contour.

    Method: a cell *straddles* the level when the known Δχ² values on its fine nodes (at first
    its four corners) include both ≤ threshold and > threshold. All fine nodes of straddling
    cells are evaluated exactly with ``func(X, Y)`` (1-D arrays of points, one call per pass).
    Exact values on a cell's shared edges can reveal a crossing in a neighbour whose corners
    all lie on one side, so the search repeats until no new cell straddles. The remaining fine
    nodes are filled by bilinear interpolation of the coarse grid; those cells lie wholly on
    one side of the level, so contouring the fine grid draws lines only through exact cells.
    ``chi2_grid`` is assumed to equal ``func`` on the coarse nodes (they are not re-evaluated),
    and Δχ² keeps the coarse reference minimum (or ``min_chi2``).
    """
    if isinstance(factor, bool) or not isinstance(factor, int | np.integer) or factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor!r}")
    factor = int(factor)
    xs, ys, grid = _sorted_grid(x, y, chi2_grid)
    ref = float(np.min(grid)) if min_chi2 is None else float(min_chi2)
    d_coarse = grid - ref
    xf, yf = _subdivide(xs, factor), _subdivide(ys, factor)

    known = np.full((xf.size, yf.size), np.nan)  # exact Δχ², NaN where not evaluated
    known[::factor, ::factor] = d_coarse
    exact = ~np.isnan(known)
    refined = np.zeros((xs.size - 1, ys.size - 1), dtype=bool)
    n_eval = 0
    while True:
        lo, hi = _cell_extremes(known, factor)
        new = (lo <= threshold) & (hi > threshold) & ~refined
        if not new.any():
            break
        refined |= new
        todo = np.zeros_like(exact)
        for i, j in zip(*np.nonzero(new), strict=True):
            todo[i * factor : (i + 1) * factor + 1, j * factor : (j + 1) * factor + 1] = True
        todo &= ~exact
        ii, jj = np.nonzero(todo)
        if ii.size:
            values = np.asarray(func(xf[ii], yf[jj]), dtype=float).reshape(ii.shape)
            known[ii, jj] = np.where(np.isfinite(values), values - ref, np.inf)
            exact[ii, jj] = True
            n_eval += ii.size

    d_fine = _fill_unknown(_finite_for_contouring(d_coarse, threshold), factor, exact, known)
    return RefinedGrid(
        x=xf, y=yf, chi2=d_fine + ref, exact=exact, n_evaluations=n_eval, min_chi2=ref
    )


def refine_grid_near_contour(
    x: np.ndarray,
    y: np.ndarray,
    chi2_grid: np.ndarray,
    threshold: float,
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    factor: int = 4,
    *,
    min_chi2: float | None = None,
) -> list[np.ndarray]:
    """Contour polylines of Δχ² = threshold from a grid refined near the level.

    See :func:`refine_grid` for the method: ``func`` is evaluated only on a ``factor``-times
    finer sub-grid of the cells the level passes through, and the resulting fine grid (exact
    there, bilinear elsewhere) is contoured with :func:`contour_2d`.
    """
    fine = refine_grid(x, y, chi2_grid, threshold, func, factor, min_chi2=min_chi2)
    return contour_2d(fine.x, fine.y, fine.chi2, threshold, min_chi2=fine.min_chi2)


def region_area(polylines: Sequence[np.ndarray]) -> float:
    """Sum of the shoelace areas of the polylines, each closed implicitly.

    Meant for simple, non-nested closed contours (e.g. an ellipse inside the grid); open
    lines cut by the grid boundary and holes are not treated specially.
    """
    total = 0.0
    for line in polylines:
        pts = np.asarray(line, dtype=float)
        if pts.shape[0] < 3:
            continue
        xv, yv = pts[:, 0], pts[:, 1]
        total += 0.5 * abs(float(np.dot(xv, np.roll(yv, -1)) - np.dot(yv, np.roll(xv, -1))))
    return total
