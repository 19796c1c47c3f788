"""Best fit, 1D intervals and 2D regions read from a finished scan (``xarray.Dataset``),
polished with the exact χ² when the scanner is given."""

from dataclasses import dataclass

import numpy as np

from cevnsfast.scan.grid import GridScan
from cevnsfast.scan.minimize import minimize_batched

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
    repeat their first point); ``area``: the allowed area as one path, (vertices N×2,
    matplotlib path codes N) (``intervals.contour_and_area_2d``).
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
    area: tuple[np.ndarray, np.ndarray]
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
    from cevnsfast.scan.intervals import contour_and_area_2d, delta_chi2_threshold, refine_grid

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
    lines, area = contour_and_area_2d(x, y, grid, threshold, min_chi2=ref)
    return Region2D(xd, yd, x, y, grid, ref, threshold, cl, dof, lines, area, n_eval)
