"""numba kernels of the hot path: the quadratic form N_b = Σ_ij x_i x_j T_ij,b.

T is symmetric in (i, j), so each bin costs n(n+1)/2 multiply-adds: Σ_i x_i² T_ii +
2 Σ_{i<j} x_i x_j T_ij. ``tensor`` has shape (n_bins, n, n) with x = (1, c_1, …, c_{n−1}).
"""

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def quadratic_form_into(tensor: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """out[b] = x · T[b] · x for one coupling point (no allocation)."""
    n_bins, n, _ = tensor.shape
    for b in range(n_bins):
        total = 0.0
        for i in range(n):
            xi = x[i]
            if xi == 0.0:
                continue
            row = xi * tensor[b, i, i]
            for j in range(i + 1, n):
                row += 2.0 * x[j] * tensor[b, i, j]
            total += xi * row
        out[b] = total


@nb.njit(cache=True)
def quadratic_form(tensor: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Counts per bin at one coupling point."""
    out = np.empty(tensor.shape[0])
    quadratic_form_into(tensor, x, out)
    return out


@nb.njit(cache=True, parallel=True)
def quadratic_form_batch(tensor: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Counts per bin for many coupling points, xs of shape (n_points, n): parallel over points."""
    n_points = xs.shape[0]
    out = np.empty((n_points, tensor.shape[0]))
    for p in nb.prange(n_points):
        quadratic_form_into(tensor, xs[p], out[p])
    return out


@nb.njit(cache=True, nogil=True)
def quadratic_form_grids_into(
    tensors: np.ndarray, n_grid: np.ndarray, x: np.ndarray, out: np.ndarray
) -> None:
    """out[k, g, b] = x · T_k[g, b] · x for shape-nuisance grids ``tensors[k, g, b, i, j]``;
    grid k has ``n_grid[k]`` points (the rest of the axis is padding and is skipped)."""
    for k in range(tensors.shape[0]):
        for g in range(n_grid[k]):
            quadratic_form_into(tensors[k, g], x, out[k, g])
