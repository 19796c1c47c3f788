"""numba kernels of the hot path: the quadratic form N_b = Σ_ij x_i x_j T_ij,b.

T is symmetric in (i, j), so each bin costs n(n+1)/2 multiply-adds: Σ_i x_i² T_ii +
2 Σ_{i<j} x_i x_j T_ij, with x = (1, c_1, …, c_{n−1}).

Layout: the kernels take T as ``tensor[i, j, b]`` — shape (n, n, n_bins), bins contiguous —
so every coupling pair (i, j) is one unit-stride multiply-add over all bins, which LLVM
vectorises. The tables store the design's T[bin, i, j]; ``kernel_layout`` converts (the
[bin, i, j] order made the inner loop a 1–3-long run over j per bin: 2.5× slower for the
99 CsI bins).
"""

from collections.abc import Sequence

import numba as nb
import numpy as np


def kernel_layout(
    tensor_bij: np.ndarray, index: Sequence[int] | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Stored tensors [..., bin, i, j] in kernel order [..., i, j, bin], restricted to the
    couplings ``index`` (all by default), written into ``out`` (a new C-contiguous array by
    default). One strided copy per (i, j) pair: selecting the couplings first (fancy indexing
    over the 2–4-long trailing axes) and transposing after cost two more full copies, 1.8 s
    for the largest model table on a host where fresh memory is slow to fault in."""
    tensor = np.asarray(tensor_bij, dtype=float)
    chosen = range(tensor.shape[-1]) if index is None else index
    if out is None:
        out = np.empty((*tensor.shape[:-3], len(chosen), len(chosen), tensor.shape[-3]))
    for a, i in enumerate(chosen):
        for b, j in enumerate(chosen):
            out[..., a, b, :] = tensor[..., :, i, j]
    return out


@nb.njit(cache=True, nogil=True)
def quadratic_form_into(tensor: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """out[b] = Σ_ij x_i x_j tensor[i, j, b] for one coupling point (no allocation)."""
    n, _, n_bins = tensor.shape
    for b in range(n_bins):
        out[b] = 0.0
    for i in range(n):
        xi = x[i]
        if xi == 0.0:
            continue
        w = xi * xi
        for b in range(n_bins):
            out[b] += w * tensor[i, i, b]
        for j in range(i + 1, n):
            w = 2.0 * xi * x[j]
            if w == 0.0:
                continue
            for b in range(n_bins):
                out[b] += w * tensor[i, j, b]


@nb.njit(cache=True)
def quadratic_form(tensor: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Counts per bin at one coupling point."""
    out = np.empty(tensor.shape[2])
    quadratic_form_into(tensor, x, out)
    return out


@nb.njit(cache=True, parallel=True)
def quadratic_form_batch(tensor: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Counts per bin for many coupling points, xs of shape (n_points, n): parallel over points."""
    n_points = xs.shape[0]
    out = np.empty((n_points, tensor.shape[2]))
    for p in nb.prange(n_points):
        quadratic_form_into(tensor, xs[p], out[p])
    return out


@nb.njit(cache=True, nogil=True)
def quadratic_form_grids_into(
    tensors: np.ndarray, n_grid: np.ndarray, x: np.ndarray, out: np.ndarray
) -> None:
    """out[k, g, b] = x · T_k[g] · x for shape-nuisance grids ``tensors[k, g, i, j, b]``;
    grid k has ``n_grid[k]`` points (the rest of the axis is padding and is skipped)."""
    for k in range(tensors.shape[0]):
        for g in range(n_grid[k]):
            quadratic_form_into(tensors[k, g], x, out[k, g])
