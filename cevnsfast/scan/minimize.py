"""Batched bounded minimisation: many independent small problems (profiled couplings at every
grid point, the polish of a best fit) advanced together, one ``chi2_batch`` call per step."""

from collections.abc import Callable

import numpy as np

LINE_SEARCH = np.array([0.5, 1.0, 2.0, 4.0])  # multiples of the Newton step tried at once

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
        vals = finite_or_inf(fun(np.repeat(active, s), pts.reshape(m * s, k))).reshape(m, s)
        g, hess = _derivatives(fa, vals, d1, d2, pairs, k)
        step_n = _newton_step(g, hess, ha)
        newton = np.clip(xa[:, None] + LINE_SEARCH[None, :, None] * step_n[:, None], lo, hi)
        n_line = LINE_SEARCH.size
        f_newton = finite_or_inf(fun(np.repeat(active, n_line), newton.reshape(m * n_line, k)))

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


def finite_or_inf(values: np.ndarray) -> np.ndarray:
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
