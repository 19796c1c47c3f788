"""numba χ² kernels with the nuisance parameters profiled inside the kernel.

Two test statistics of arXiv:2402.16953 are implemented.

**CsI 2021 Poisson χ² (Eqs. 17–18)**, with the nuisance treatment of De Romeri et al.
(arXiv:2211.11905): a normalisation nuisance α0 on the signal, one normalisation αm per
background Bm (BRN, NIN, SSB, …) and K shape nuisances θk (e.g. quenching-factor and efficiency
parameters) that deform the signal bin by bin. The signal is known at the nominal point
(``sig0[b]``) and on a grid of each θk varied alone (``shape_grid[k, g, b]`` at
``grid_values[k, g]``); the deformations are combined multiplicatively, which keeps the cross
terms of independent effects (e.g. an efficiency change times a timing shift)::

    S_b(θ)   = sig0_b Π_k [I_kb(θ_k) / sig0_b]          (additive where sig0_b = 0)
    N_th,b   = (1 + α0) S_b(θ) + Σ_m (1 + α_m) B_mb            (floored at N_FLOOR > 0)
    χ²       = 2 Σ_b [N_th,b − n_b + n_b ln(n_b / N_th,b)]        (Eq. 17, n ln n/N := 0 if n = 0)
             + Σ_i (α_i / σ_i)² + Σ_k ((θ_k − c_k) / σ_k)²        (Eq. 18 pull terms)

``params = [α0, α1 … αM, θ0 … θK−1]``. A prior width σ = ∞ leaves the parameter unpenalised
(free); σ = 0 fixes it at its nominal value (α = 0, θ = c).

*Interpolation* I_kb(θ): a piecewise-cubic Hermite interpolant through the grid points with
"Bessel" slopes — the slope at a node is the derivative of the parabola through that node and
its two neighbours (the first/last three nodes at the ends). It is C¹, passes through every
grid point exactly, reproduces any quadratic dependence on θ exactly inside the grid
(uneven spacing included), and is local (a value needs at most 4 grid points; the weights are
the same for every bin, so no per-bin spline set-up is needed at each evaluation). Outside the
grid it is extrapolated linearly with the end slope (C¹ at the grid ends). Grid nodes must be
strictly increasing (≥ 3 intended; 2 nodes give linear, 1 node constant interpolation); rows of
``grid_values`` may be right-padded with NaN when the nuisances have different point counts.

``profile_poisson`` minimises χ² over all nuisances by projected Newton iterations on the
exact analytic Hessian (Levenberg–Marquardt damping only while the Hessian is not positive
definite), with an Armijo backtracking line search and the bounds α_i ≥ −1; trial points
where N_th → 0 make χ² blow up and are rejected, so N_th stays positive in practice.

**Future detectors, Gaussian χ² (Eqs. 19–21)**::

    χ² = Σ_i (N_exp,i − N_th,i)² / N_exp,i + (α/σ_α)² + (β/σ_β)²,
    N_th,i = (1 + α) N_i + (1 + β) B_i,   N_exp,i = N_SM,i + B_i

is quadratic in (α, β) and is profiled exactly by the 2×2 normal equations
(``profile_gauss``); bins with N_exp = 0 are skipped.

All array arguments are float64 and C-contiguous; every public function is ``@njit`` (the
``*_batch`` variants run ``prange`` over points).
"""

import numba as nb
import numpy as np

N_FLOOR = 1e-300
"""Positive floor on N_th in the Poisson χ² (below it the gradient w.r.t. N_th is set to 0)."""

_DAMP_MAX = 1e20


# --- interpolation -------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True)
def _n_grid(xg: np.ndarray) -> int:
    """Number of leading finite grid points of one row of ``grid_values``."""
    g = 0
    while g < xg.shape[0] and np.isfinite(xg[g]):
        g += 1
    return g


@nb.njit(cache=True, nogil=True)
def _add_slope(xg: np.ndarray, ng: int, i: int, coef: float, w: np.ndarray) -> None:
    """w += coef · (weights of the Bessel slope d_i on the node values y).

    d_i is the derivative at node i of the parabola through nodes (i−1, i, i+1), or the
    first/last three nodes at the ends: with h_j = x_{j+1} − x_j and s_j = (y_{j+1} − y_j)/h_j,
    d_i = (h_i s_{i−1} + h_{i−1} s_i)/(h_{i−1} + h_i) inside, and the one-sided three-point
    formulas at the ends. Two nodes: d = s_0.
    """
    if ng == 2:
        h = xg[1] - xg[0]
        w[0] -= coef / h
        w[1] += coef / h
        return
    if i == 0:
        j = 0
        h0 = xg[1] - xg[0]
        h1 = xg[2] - xg[1]
        wa = (2.0 * h0 + h1) / (h0 + h1)  # weight of s_0
        wb = -h0 / (h0 + h1)  # weight of s_1
    elif i == ng - 1:
        j = ng - 3
        h0 = xg[ng - 2] - xg[ng - 3]
        h1 = xg[ng - 1] - xg[ng - 2]
        wa = -h1 / (h0 + h1)
        wb = (2.0 * h1 + h0) / (h0 + h1)
    else:
        j = i - 1
        h0 = xg[i] - xg[i - 1]
        h1 = xg[i + 1] - xg[i]
        wa = h1 / (h0 + h1)
        wb = h0 / (h0 + h1)
    # s_j = (y_{j+1} − y_j)/h0, s_{j+1} = (y_{j+2} − y_{j+1})/h1
    ca = coef * wa / h0
    cb = coef * wb / h1
    w[j] -= ca
    w[j + 1] += ca - cb
    w[j + 2] += cb


@nb.njit(cache=True, nogil=True)
def interp_weights(
    xg: np.ndarray, theta: float, w0: np.ndarray, w1: np.ndarray, w2: np.ndarray
) -> tuple[int, int]:
    """Weights of the node values for the interpolant I(θ) and its first two derivatives.

    I(θ) = Σ_g w0[g] y_g, I'(θ) = Σ_g w1[g] y_g, I''(θ) = Σ_g w2[g] y_g for *any* node values y
    (the Bessel-slope cubic Hermite interpolant is linear in y). Only w[lo:hi] is nonzero and
    set; returns (lo, hi). Linear extrapolation outside [x_0, x_{G−1}].
    """
    ng = _n_grid(xg)
    if ng == 1:  # degenerate grid: constant
        w0[0], w1[0], w2[0] = 1.0, 0.0, 0.0
        return 0, 1
    # interval j (θ in [x_j, x_{j+1}]; −1 / ng−1: left / right extrapolation) and the window of
    # nodes carrying weight: the nodes j, j+1 and those entering the Bessel slopes d_j, d_{j+1}
    if theta <= xg[0]:
        j = -1
    elif theta >= xg[ng - 1]:
        j = ng - 1
    else:
        j = 0
        while xg[j + 1] < theta:
            j += 1
    lo = max(0, min(j - 1, ng - 3))
    hi = min(ng, max(j + 3, 3))
    for g in range(lo, hi):
        w0[g] = 0.0
        w1[g] = 0.0
        w2[g] = 0.0
    if j < 0 or j == ng - 1:
        node = 0 if j < 0 else ng - 1
        dt = theta - xg[node]
        w0[node] += 1.0
        _add_slope(xg, ng, node, dt, w0)
        _add_slope(xg, ng, node, 1.0, w1)
        return lo, hi
    h = xg[j + 1] - xg[j]
    t = (theta - xg[j]) / h
    t2 = t * t
    t3 = t2 * t
    # Hermite basis, its t-derivatives (÷h → θ-derivatives) and second derivatives (÷h²)
    h00, h10, h01, h11 = 2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, -2 * t3 + 3 * t2, t3 - t2
    d00, d10, d01, d11 = 6 * t2 - 6 * t, 3 * t2 - 4 * t + 1, -6 * t2 + 6 * t, 3 * t2 - 2 * t
    e00, e10, e01, e11 = 12 * t - 6, 6 * t - 4, -12 * t + 6, 6 * t - 2
    w0[j] += h00
    w0[j + 1] += h01
    w1[j] += d00 / h
    w1[j + 1] += d01 / h
    w2[j] += e00 / (h * h)
    w2[j + 1] += e01 / (h * h)
    _add_slope(xg, ng, j, h * h10, w0)
    _add_slope(xg, ng, j + 1, h * h11, w0)
    _add_slope(xg, ng, j, d10, w1)
    _add_slope(xg, ng, j + 1, d11, w1)
    _add_slope(xg, ng, j, e10 / h, w2)
    _add_slope(xg, ng, j + 1, e11 / h, w2)
    return lo, hi


@nb.njit(cache=True)
def interpolate_shape(grid: np.ndarray, xg: np.ndarray, theta: float) -> np.ndarray:
    """I_b(θ) for one nuisance: ``grid[g, b]`` counts at nodes ``xg[g]`` (for tests/inspection)."""
    ng = xg.shape[0]
    w0 = np.empty(ng)
    w1 = np.empty(ng)
    w2 = np.empty(ng)
    lo, hi = interp_weights(xg, theta, w0, w1, w2)
    out = np.zeros(grid.shape[1])
    for g in range(lo, hi):
        for b in range(grid.shape[1]):
            out[b] += w0[g] * grid[g, b]
    return out


# --- Poisson χ² (Eqs. 17-18) ---------------------------------------------------------------

# fast-math subset for the bin sums: reassociation lets LLVM vectorise the reductions over bins;
# no nnan/ninf (σ = ∞ and the N_th floor rely on IEEE semantics)
_FM = {"reassoc", "contract"}


@nb.njit(cache=True, nogil=True)
def _n_work_rows(n_shape: int) -> int:
    """Rows of the (rows, n_bins) work array: S, N, 2(1 − n/N), 2n/N², temp, ∂S/∂θ_k,
    ∂²S/∂θ_k², I_k."""
    return 5 + 3 * n_shape


@nb.njit(cache=True, nogil=True)
def _dn_row(i: int, n_bkg: int, work: np.ndarray, backgrounds: np.ndarray) -> np.ndarray:
    """∂N_th/∂p_i per bin up to the factor (1 + α0) of the shape rows: S, B_m or I'_k."""
    if i == 0:
        return work[0]
    if i <= n_bkg:
        return backgrounds[i - 1]
    return work[5 + i - 1 - n_bkg]


@nb.njit(cache=True, nogil=True, fastmath=_FM)
def _poisson_core(
    params: np.ndarray,
    observed: np.ndarray,
    sig0: np.ndarray,
    shape_grid: np.ndarray,
    grid_values: np.ndarray,
    backgrounds: np.ndarray,
    sigma_norm: np.ndarray,
    sigma_shape: np.ndarray,
    shape_center: np.ndarray,
    order: int,
    grad: np.ndarray,
    hess: np.ndarray,
    w: np.ndarray,
    work: np.ndarray,
) -> float:
    """χ² of Eqs. 17–18 and, for order ≥ 1 (≥ 2), its gradient (exact Hessian); no allocation.

    Scratch: ``w`` (3, K, G) interpolation weights, ``work`` (5 + 3K, n_bins).
    With dN_i = ∂N_th/∂p_i:  ∂χ²/∂p_i = Σ_b 2(1 − n/N) dN_i + pulls,
    ∂²χ²/∂p_i∂p_j = Σ_b [2 n/N² dN_i dN_j + 2(1 − n/N) ∂²N/∂p_i∂p_j] + pulls;
    dN = (S, B_1…B_M, (1 + α0) ∂S/∂θ_1…∂S/∂θ_K) and the nonzero ∂²N are
    ∂²N/∂α0∂θ_k = ∂S/∂θ_k and ∂²N/∂θ_k∂θ_l = (1 + α0) ∂²S/∂θ_k∂θ_l, where for the
    multiplicative morphing S = sig0 Π_k I_k/sig0: ∂S/∂θ_k = S I'_k/I_k,
    ∂²S/∂θ_k² = S I''_k/I_k and ∂²S/∂θ_k∂θ_l = (∂S/∂θ_k)(∂S/∂θ_l)/S (k ≠ l).
    """
    n_bins = observed.shape[0]
    n_bkg = backgrounds.shape[0]
    n_shape = shape_grid.shape[0]
    n_par = 1 + n_bkg + n_shape
    s_row = work[0]
    n_row = work[1]
    r_row = work[2]
    c_row = work[3]
    t_row = work[4]
    # I_k and its θ-derivatives, then S = sig0 Π_k (I_k / sig0) (multiplicative morphing;
    # bins with sig0 = 0 fall back to the additive S = Σ_k I_k − (K − 1) sig0)
    for k in range(n_shape):
        lo, hi = interp_weights(grid_values[k], params[1 + n_bkg + k], w[0, k], w[1, k], w[2, k])
        i_row = work[5 + 2 * n_shape + k]
        d1 = work[5 + k]
        d2 = work[5 + n_shape + k]
        i_row[:] = 0.0
        if order >= 1:
            d1[:] = 0.0
        if order >= 2:
            d2[:] = 0.0
        for g in range(lo, hi):
            row = shape_grid[k, g]
            c0 = w[0, k, g]
            for b in range(n_bins):
                i_row[b] += c0 * row[b]
            if order >= 1:
                c1 = w[1, k, g]
                for b in range(n_bins):
                    d1[b] += c1 * row[b]
            if order >= 2:
                c2 = w[2, k, g]
                for b in range(n_bins):
                    d2[b] += c2 * row[b]
    for b in range(n_bins):
        s0 = sig0[b]
        if s0 > 0.0:
            s = s0
            for k in range(n_shape):
                s *= max(work[5 + 2 * n_shape + k, b], 0.0) / s0
        else:
            s = (1.0 - n_shape) * s0
            for k in range(n_shape):
                s += work[5 + 2 * n_shape + k, b]
        s_row[b] = s
        if s0 > 0.0 and order >= 1:  # I'_k, I''_k → ∂S/∂θ_k, ∂²S/∂θ_k²
            for k in range(n_shape):
                ik = work[5 + 2 * n_shape + k, b]
                ratio = s / ik if ik > 0.0 else 0.0
                work[5 + k, b] *= ratio
                if order >= 2:
                    work[5 + n_shape + k, b] *= ratio
    a0p1 = 1.0 + params[0]
    for b in range(n_bins):
        n_row[b] = a0p1 * s_row[b]
    for m in range(n_bkg):
        cm = 1.0 + params[1 + m]
        bm = backgrounds[m]
        for b in range(n_bins):
            n_row[b] += cm * bm[b]
    chi2 = 0.0
    for b in range(n_bins):
        nth = n_row[b]
        n = observed[b]
        if nth < N_FLOOR:  # floored: no gradient
            nth = N_FLOOR
            r_row[b] = 0.0
            c_row[b] = 0.0
        else:
            q = n / nth
            r_row[b] = 2.0 * (1.0 - q)
            c_row[b] = 2.0 * q / nth
        chi2 += nth - n
        if n > 0.0:
            chi2 += n * np.log(n / nth)
    chi2 *= 2.0
    if order >= 1:
        for i in range(n_par):
            v = _dn_row(i, n_bkg, work, backgrounds)
            acc = 0.0
            for b in range(n_bins):
                acc += r_row[b] * v[b]
            grad[i] = acc * (a0p1 if i > n_bkg else 1.0)
    if order >= 2:
        for i in range(n_par):
            vi = _dn_row(i, n_bkg, work, backgrounds)
            si = a0p1 if i > n_bkg else 1.0
            for b in range(n_bins):
                t_row[b] = c_row[b] * vi[b]
            for j in range(i, n_par):
                vj = _dn_row(j, n_bkg, work, backgrounds)
                acc = 0.0
                for b in range(n_bins):
                    acc += t_row[b] * vj[b]
                hess[i, j] = acc * si * (a0p1 if j > n_bkg else 1.0)
        for k in range(n_shape):
            d1 = work[5 + k]
            d2 = work[5 + n_shape + k]
            acc1 = 0.0
            acc2 = 0.0
            for b in range(n_bins):
                acc1 += r_row[b] * d1[b]
                acc2 += r_row[b] * d2[b]
            ik = 1 + n_bkg + k
            hess[0, ik] += acc1
            hess[ik, ik] += a0p1 * acc2
            for m in range(k + 1, n_shape):  # ∂²S/∂θ_k∂θ_m = (∂S/∂θ_k)(∂S/∂θ_m)/S
                dm = work[5 + m]
                acc = 0.0
                for b in range(n_bins):
                    if s_row[b] > 0.0 and sig0[b] > 0.0:
                        acc += r_row[b] * d1[b] * dm[b] / s_row[b]
                hess[ik, 1 + n_bkg + m] += a0p1 * acc
    # pull terms (Eq. 18); σ = ∞ → free, σ = 0 → fixed (penalty 0 at nominal, ∞ elsewhere)
    for i in range(n_par):
        if i <= n_bkg:
            s = sigma_norm[i]
            dev = params[i]
        else:
            s = sigma_shape[i - 1 - n_bkg]
            dev = params[i] - shape_center[i - 1 - n_bkg]
        if s == 0.0:
            if dev != 0.0:
                chi2 = np.inf
            continue
        if not np.isfinite(s):
            continue
        inv = 1.0 / (s * s)
        chi2 += dev * dev * inv
        if order >= 1:
            grad[i] += 2.0 * dev * inv
        if order >= 2:
            hess[i, i] += 2.0 * inv
    if order >= 2:
        for i in range(n_par):
            for j in range(i + 1, n_par):
                hess[j, i] = hess[i, j]
    return chi2


@nb.njit(cache=True, nogil=True)
def _scratch(observed: np.ndarray, shape_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interpolation-weight and per-bin work arrays for ``_poisson_core``."""
    n_shape = shape_grid.shape[0]
    w = np.empty((3, max(n_shape, 1), max(shape_grid.shape[1], 1)))
    work = np.empty((_n_work_rows(n_shape), observed.shape[0]))
    return w, work


@nb.njit(cache=True, nogil=True)
def poisson_chi2(
    params: np.ndarray,
    observed: np.ndarray,
    sig0: np.ndarray,
    shape_grid: np.ndarray,
    grid_values: np.ndarray,
    backgrounds: np.ndarray,
    sigma_norm: np.ndarray,
    sigma_shape: np.ndarray,
    shape_center: np.ndarray,
) -> float:
    """CsI Poisson χ² of arXiv:2402.16953 Eqs. 17–18 at ``params = [α0, α1…αM, θ0…θK−1]``.

    Shapes: observed, sig0 (b,); shape_grid (K, G, b); grid_values (K, G); backgrounds (M, b);
    sigma_norm (1+M,); sigma_shape, shape_center (K,). See the module docstring for the model.
    """
    w, work = _scratch(observed, shape_grid)
    dummy_g = np.empty(0)
    dummy_h = np.empty((0, 0))
    return _poisson_core(
        params, observed, sig0, shape_grid, grid_values, backgrounds, sigma_norm,
        sigma_shape, shape_center, 0, dummy_g, dummy_h, w, work,
    )  # fmt: skip


@nb.njit(cache=True, nogil=True)
def poisson_chi2_grad_hess(
    params: np.ndarray,
    observed: np.ndarray,
    sig0: np.ndarray,
    shape_grid: np.ndarray,
    grid_values: np.ndarray,
    backgrounds: np.ndarray,
    sigma_norm: np.ndarray,
    sigma_shape: np.ndarray,
    shape_center: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray]:
    """(χ², ∇χ², exact Hessian) of Eqs. 17–18, analytic (see ``_poisson_core``).

    The Hessian is exact wherever the interpolant is twice differentiable — everywhere but the
    interior grid nodes, where I'' jumps (there the interval left of the node is used).
    Bins with N_th at the floor contribute neither gradient nor Hessian.
    """
    n_par = 1 + backgrounds.shape[0] + shape_grid.shape[0]
    w, work = _scratch(observed, shape_grid)
    grad = np.empty(n_par)
    hess = np.empty((n_par, n_par))
    chi2 = _poisson_core(
        params, observed, sig0, shape_grid, grid_values, backgrounds, sigma_norm,
        sigma_shape, shape_center, 2, grad, hess, w, work,
    )  # fmt: skip
    return chi2, grad, hess


@nb.njit(cache=True, nogil=True)
def _newton_direction(
    grad: np.ndarray,
    hess: np.ndarray,
    free: np.ndarray,
    damp: float,
    a: np.ndarray,
    step: np.ndarray,
) -> bool:
    """step = −(H + damp·D)⁻¹ g on the free variables (Cholesky); False if not PD.

    D = diag(max(|H_ii|, 1)) (Marquardt scaling with a floor); frozen variables get step 0.
    """
    n = grad.shape[0]
    for i in range(n):
        for j in range(n):
            if free[i] and free[j]:
                a[i, j] = hess[i, j]
            else:
                a[i, j] = 1.0 if i == j else 0.0
        if free[i]:
            a[i, i] += damp * max(abs(hess[i, i]), 1.0)
    # in-place Cholesky, lower triangle
    for j in range(n):
        s = a[j, j]
        for k in range(j):
            s -= a[j, k] * a[j, k]
        if not (s > 0.0):
            return False
        d = np.sqrt(s)
        a[j, j] = d
        for i in range(j + 1, n):
            t = a[i, j]
            for k in range(j):
                t -= a[i, k] * a[j, k]
            a[i, j] = t / d
    for i in range(n):
        t = -grad[i] if free[i] else 0.0
        for k in range(i):
            t -= a[i, k] * step[k]
        step[i] = t / a[i, i]
    for i in range(n - 1, -1, -1):
        t = step[i]
        for k in range(i + 1, n):
            t -= a[k, i] * step[k]
        step[i] = t / a[i, i]
    return True


@nb.njit(cache=True, nogil=True)
def profile_poisson(
    observed: np.ndarray,
    sig0: np.ndarray,
    shape_grid: np.ndarray,
    grid_values: np.ndarray,
    backgrounds: np.ndarray,
    sigma_norm: np.ndarray,
    sigma_shape: np.ndarray,
    shape_center: np.ndarray,
    x0: np.ndarray,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> tuple[float, np.ndarray, int, bool]:
    """min over nuisances of the Poisson χ² (Eqs. 17–18) → (χ²_min, params_min, n_iter, ok).

    Projected Newton on the exact Hessian with a backtracking line search:

    * direction δ = −(H + λD)⁻¹ g with λ = 0 (pure Newton) whenever H is positive definite on
      the free variables, else the smallest λ ∈ {10⁻⁴, 10⁻³, …} (Levenberg–Marquardt, D =
      diag(max(|H_ii|, 1))) that makes it so;
    * converged when λ = 0 and the Newton decrement ½ gᵀH⁻¹g ≤ ``tol`` (χ² units);
    * step length t = 1, then safeguarded quadratic backtracking (t ← max(t/10, t*)) until the
      Armijo condition χ²(x + tδ) ≤ χ²(x) + 10⁻⁴ t gᵀδ holds; trial points where N_th → 0
      give χ² → ∞ and are rejected, which keeps N_th > 0;
    * normalisations are projected onto α ≥ −1; one at its bound with ∂χ²/∂α > 0 is frozen
      (active set), and so is an exactly flat unpenalised direction (g_i = H_ii = 0, e.g. the
      θ_k at α0 = −1); parameters with σ = 0 stay at their nominal value.

    ``n_iter`` counts the Newton systems solved, the final converged test included
    (≤ ``max_iter``; typically 4–8 from x0 = 0). ``x0`` is the start (e.g. zeros
    with θ = ``shape_center``). On failure the best point found is returned with ok = False.
    """
    n_bkg = backgrounds.shape[0]
    n_norm = 1 + n_bkg
    n_par = n_norm + shape_grid.shape[0]
    w, work = _scratch(observed, shape_grid)
    x = np.empty(n_par)
    xt = np.empty(n_par)
    g = np.empty(n_par)
    gt = np.empty(n_par)
    h = np.empty((n_par, n_par))
    ht = np.empty((n_par, n_par))
    a = np.empty((n_par, n_par))
    step = np.empty(n_par)
    free = np.empty(n_par, dtype=np.bool_)
    fixed = np.zeros(n_par, dtype=np.bool_)
    for i in range(n_par):
        x[i] = x0[i]
        if i < n_norm:
            if sigma_norm[i] == 0.0:
                fixed[i] = True
                x[i] = 0.0
            elif x[i] < -1.0:
                x[i] = -1.0
        elif sigma_shape[i - n_norm] == 0.0:
            fixed[i] = True
            x[i] = shape_center[i - n_norm]
    f = _poisson_core(
        x, observed, sig0, shape_grid, grid_values, backgrounds, sigma_norm, sigma_shape,
        shape_center, 2, g, h, w, work,
    )  # fmt: skip
    n_iter = 0
    converged = False
    while n_iter < max_iter:
        n_iter += 1
        for i in range(n_par):
            at_bound = i < n_norm and x[i] <= -1.0 and g[i] > 0.0
            flat = g[i] == 0.0 and h[i, i] == 0.0  # e.g. θ_k with the signal switched off
            free[i] = not (fixed[i] or at_bound or flat)
        damp = 0.0
        while not _newton_direction(g, h, free, damp, a, step):
            damp = 1e-4 if damp == 0.0 else 10.0 * damp
            if damp > _DAMP_MAX:
                break
        if damp > _DAMP_MAX:
            break
        slope = 0.0
        for i in range(n_par):
            slope += g[i] * step[i]
        if damp == 0.0 and -0.5 * slope <= tol:
            converged = True
            break
        if slope >= 0.0:  # no descent direction left (rounding level)
            break
        t = 1.0
        accepted = False
        for ls in range(40):
            for i in range(n_par):
                xt[i] = x[i] + t * step[i]
                if i < n_norm and xt[i] < -1.0:
                    xt[i] = -1.0
            # full Newton steps are usually accepted: get the derivatives along with χ²
            ft = _poisson_core(
                xt, observed, sig0, shape_grid, grid_values, backgrounds, sigma_norm,
                sigma_shape, shape_center, 2 if ls == 0 else 0, gt, ht, w, work,
            )  # fmt: skip
            if ft <= f + 1e-4 * t * slope:
                accepted = True
                break
            # minimiser of the quadratic through f, slope and ft, safeguarded
            denom = ft - f - slope * t
            t_new = -slope * t * t / (2.0 * denom) if denom > 0.0 else 0.1 * t
            t = min(max(t_new, 0.1 * t), 0.5 * t)
        if not accepted:
            break
        x, xt = xt, x
        if ls == 0:
            f = ft
            g, gt = gt, g
            h, ht = ht, h
        else:
            f = _poisson_core(
                x, observed, sig0, shape_grid, grid_values, backgrounds, sigma_norm,
                sigma_shape, shape_center, 2, g, h, w, work,
            )  # fmt: skip
    return f, x, n_iter, converged


@nb.njit(cache=True, parallel=True)
def profile_poisson_batch(
    observed: np.ndarray,
    sig0s: np.ndarray,
    shape_grids: np.ndarray,
    grid_values: np.ndarray,
    backgrounds: np.ndarray,
    sigma_norm: np.ndarray,
    sigma_shape: np.ndarray,
    shape_center: np.ndarray,
    x0: np.ndarray,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """``profile_poisson`` for many signal hypotheses, parallel (prange) over points p.

    sig0s (P, b) and shape_grids (P, K, G, b) per point; everything else shared; every point
    starts from the same ``x0``. Returns (χ²_min[P], params_min[P, 1+M+K]).
    """
    n_points = sig0s.shape[0]
    n_par = 1 + backgrounds.shape[0] + shape_grids.shape[1]
    chi2 = np.empty(n_points)
    pars = np.empty((n_points, n_par))
    for p in nb.prange(n_points):
        f, x, _, _ = profile_poisson(
            observed, sig0s[p], shape_grids[p], grid_values, backgrounds, sigma_norm,
            sigma_shape, shape_center, x0, max_iter, tol,
        )  # fmt: skip
        chi2[p] = f
        pars[p] = x
    return chi2, pars


# --- Gaussian χ² of the future detectors (Eqs. 19-21) --------------------------------------


@nb.njit(cache=True, nogil=True, fastmath=_FM)
def profile_gauss(
    n_exp: np.ndarray, sig: np.ndarray, bkg: np.ndarray, sigma_alpha: float, sigma_beta: float
) -> tuple[float, float, float]:
    """Exact profile of the Gaussian χ² of Eqs. 19–21 over (α, β) → (χ²_min, α, β).

    With r_i = N_exp,i − N_i − B_i the residual is r_i − α N_i − β B_i, so ∂χ² = 0 gives
        [Σ N²/E + σ_α⁻²   Σ N B/E        ] [α]   [Σ r N/E]
        [Σ N B/E          Σ B²/E + σ_β⁻²] [β] = [Σ r B/E]      (E = N_exp; E = 0 skipped).
    σ = ∞ → unpenalised, σ = 0 → fixed at 0. A singular system (e.g. both free and N ∝ B)
    is solved in the least-norm sense along the non-degenerate direction. χ²_min is then
    re-evaluated directly (no cancellation for small χ²).
    """
    n_bins = n_exp.shape[0]
    ia = 0.0 if not np.isfinite(sigma_alpha) or sigma_alpha == 0.0 else 1.0 / sigma_alpha**2
    ib = 0.0 if not np.isfinite(sigma_beta) or sigma_beta == 0.0 else 1.0 / sigma_beta**2
    snn = 0.0
    snb = 0.0
    sbb = 0.0
    srn = 0.0
    srb = 0.0
    for i in range(n_bins):  # branch-free (vectorisable): bins with E = 0 get weight 0
        e = n_exp[i]
        ie = 1.0 / e if e != 0.0 else 0.0
        ni = sig[i]
        bi = bkg[i]
        r = e - ni - bi
        snn += ni * ni * ie
        snb += ni * bi * ie
        sbb += bi * bi * ie
        srn += r * ni * ie
        srb += r * bi * ie
    a11 = snn + ia
    a22 = sbb + ib
    a12 = snb
    fix_a = sigma_alpha == 0.0
    fix_b = sigma_beta == 0.0
    alpha = 0.0
    beta = 0.0
    if fix_a and not fix_b:
        beta = srb / a22 if a22 > 0.0 else 0.0
    elif fix_b and not fix_a:
        alpha = srn / a11 if a11 > 0.0 else 0.0
    elif not fix_a:
        det = a11 * a22 - a12 * a12
        if det > 1e-13 * (a11 * a22) and det > 0.0:
            alpha = (a22 * srn - a12 * srb) / det
            beta = (a11 * srb - a12 * srn) / det
        else:  # rank ≤ 1: A = tr·v vᵀ, least-norm solution x = (v·rhs) v / tr
            tr = a11 + a22
            u1, u2 = (a11, a12) if a11 > 0.0 else (a12, a22)
            norm = u1 * u1 + u2 * u2
            if tr > 0.0 and norm > 0.0:
                lam = (u1 * srn + u2 * srb) / (tr * norm)
                alpha = lam * u1
                beta = lam * u2
    chi2 = alpha * alpha * ia + beta * beta * ib
    ap1 = 1.0 + alpha
    bp1 = 1.0 + beta
    for i in range(n_bins):
        e = n_exp[i]
        d = e - ap1 * sig[i] - bp1 * bkg[i]
        chi2 += d * d / e if e != 0.0 else 0.0
    return chi2, alpha, beta


@nb.njit(cache=True, parallel=True)
def profile_gauss_batch(
    n_exp: np.ndarray, sigs: np.ndarray, bkg: np.ndarray, sigma_alpha: float, sigma_beta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``profile_gauss`` for many signal hypotheses sigs (P, b), parallel over P.

    Returns (χ²_min[P], α[P], β[P]).
    """
    n_points = sigs.shape[0]
    chi2 = np.empty(n_points)
    alpha = np.empty(n_points)
    beta = np.empty(n_points)
    for p in nb.prange(n_points):
        chi2[p], alpha[p], beta[p] = profile_gauss(n_exp, sigs[p], bkg, sigma_alpha, sigma_beta)
    return chi2, alpha, beta
