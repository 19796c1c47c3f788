"""Profiled-χ² benchmarks: ``python bench/profile_bench.py [--quick]``.

* ``csi_profile_us`` — µs per call of ``profile_poisson`` (CsI 2021 Poisson χ², arXiv:2402.16953
  Eqs. 17–18: 99 bins, signal + 3 background normalisations, 3 shape nuisances, one of them
  unpenalised) from Python, single thread, start x0 = 0. Baseline: iminuit Migrad (strategy 1,
  default tolerance, α ≥ −1 limits) on the numba-compiled ``poisson_chi2``, same problems.
* ``gauss_profile_us`` — µs per call of ``profile_gauss`` (Eqs. 19–21, closed form, 99 bins).
  Baseline: Migrad (strategy 1) on a numba-compiled Gaussian χ² in (α, β).

``csi_profile_us`` also lists the distribution of Newton iterations per profile (``iterations``:
systems solved, over all runs of the robust check → number of problems). Both timings include
the numba dispatch from Python; the problems are synthetic (CsI-like
counts: ~300 signal, BRN ~18, NIN ~6, SSB ~1300 events).
"""

import time

import numba as nb
import numpy as np
from iminuit import Minuit

from cevnsfast import profile_kernels as pk

N_BINS = 99
SIGMA_NORM = np.array([0.1145, 0.25, 0.35, 0.021])
SHAPE_NODES = (
    np.array([-1.0, -0.4, 0.0, 0.6, 1.0]),
    np.array([-1.0, 0.0, 1.0]),
    np.array([-2.0, -1.5, -1.0, -0.5, 0.0, 0.3, 0.7, 1.0, 1.5, 2.0, 2.5]),
)


def csi_like_problem(seed: int) -> tuple:
    """Arguments of ``profile_poisson`` (without x0) for a synthetic CsI-like data set."""
    rng = np.random.default_rng(seed)
    ee, tt = np.meshgrid((np.arange(9) + 0.5) / 9, (np.arange(11) + 0.5) / 11, indexing="ij")
    sig = np.exp(-3.0 * ee - tt / 0.15) * (1 + rng.uniform(-0.2, 0.2, ee.shape))
    sig0 = (300.0 * sig / sig.sum()).ravel()
    brn = np.exp(-2.0 * ee - (tt - 0.1) ** 2 / 0.005)
    nin = np.exp(-1.0 * ee - (tt - 0.15) ** 2 / 0.01)
    ssb = 1.0 + 0.3 * rng.uniform(size=ee.shape)
    bkgs = np.stack([18 * brn / brn.sum(), 6 * nin / nin.sum(), 1300 * ssb / ssb.sum()])
    bkgs = np.ascontiguousarray(bkgs.reshape(3, -1))
    lin = np.stack([0.25 * (ee - 0.5), 0.1 + 0.1 * (tt - 0.5), 0.6 * (tt - 0.3)]).reshape(3, -1)
    lin = lin + rng.normal(0, 0.02, lin.shape)
    quad = np.stack([0.05 * (1 - ee), -0.02 + 0 * ee, 0.04 * (ee - 0.5) + 0.03 * tt])
    quad = quad.reshape(3, -1)
    n_g = max(x.size for x in SHAPE_NODES)
    grid_values = np.full((3, n_g), np.nan)
    shape_grid = np.zeros((3, n_g, N_BINS))
    for k, nodes in enumerate(SHAPE_NODES):
        grid_values[k, : nodes.size] = nodes
        for g, th in enumerate(nodes):
            shape_grid[k, g] = sig0 * (1 + lin[k] * th + quad[k] * th**2)
    theta = np.array([rng.normal(0, 0.7), rng.normal(0, 0.7), rng.uniform(-1.0, 1.5)])
    s_true = sig0 + sum(sig0 * (lin[k] * theta[k] + quad[k] * theta[k] ** 2) for k in range(3))
    alpha = rng.normal(0, 1, 4) * SIGMA_NORM
    n_true = (1 + alpha[0]) * s_true + ((1 + alpha[1:, None]) * bkgs).sum(0)
    observed = rng.poisson(n_true).astype(np.float64)
    return (
        observed,
        sig0,
        shape_grid,
        grid_values,
        bkgs,
        SIGMA_NORM.copy(),
        np.array([1.0, 1.0, np.inf]),
        np.zeros(3),
    )


def gauss_problem(seed: int) -> tuple:
    """(n_exp, sig, bkg) of a future-detector-like Gaussian χ² with 99 bins."""
    rng = np.random.default_rng(seed)
    sig = rng.uniform(5, 200, N_BINS)
    bkg = rng.uniform(1, 50, N_BINS)
    n_exp = (sig + bkg) * rng.uniform(0.9, 1.1, N_BINS)
    return n_exp, sig * rng.uniform(0.7, 1.3), bkg


@nb.njit(cache=True)
def _gauss_chi2(a, b, n_exp, sig, bkg, sa, sb):
    chi2 = (a / sa) ** 2 + (b / sb) ** 2
    for i in range(n_exp.shape[0]):
        if n_exp[i] > 0.0:
            d = n_exp[i] - (1 + a) * sig[i] - (1 + b) * bkg[i]
            chi2 += d * d / n_exp[i]
    return chi2


def _per_call(func, items, repeats: int) -> float:
    """Median over ``repeats`` of the mean wall time (s) per call of func(item) over items."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            func(item)
        times.append((time.perf_counter() - start) / len(items))
    return float(np.median(times))


def _migrad_poisson(args: tuple) -> float:
    n_par = 1 + args[4].shape[0] + args[2].shape[0]
    m = Minuit(lambda p: pk.poisson_chi2(np.asarray(p, dtype=np.float64), *args), np.zeros(n_par))
    m.errordef = Minuit.LEAST_SQUARES
    for i in range(1 + args[4].shape[0]):
        m.limits[i] = (-1.0, None)
    m.migrad()
    return m.fval


def _migrad_gauss(prob: tuple, sa: float, sb: float) -> float:
    n_exp, sig, bkg = prob
    m = Minuit(lambda a, b: _gauss_chi2(a, b, n_exp, sig, bkg, sa, sb), 0.0, 0.0)
    m.errordef = Minuit.LEAST_SQUARES
    m.migrad()
    return m.fval


def _histogram(n_iter: np.ndarray) -> dict[str, int]:
    """Newton systems solved per profile (all runs of the robust check) → number of profiles."""
    values, counts = np.unique(n_iter, return_counts=True)
    return {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)}


def run(quick: bool) -> dict[str, dict]:
    """Both benchmarks; figures in µs per profiled χ² (single thread), ratio iminuit/kernel."""
    n_problems = 10 if quick else 40
    repeats = 3 if quick else 7
    problems = [csi_like_problem(s) for s in range(n_problems)]
    x0 = np.zeros(7)
    pk.profile_poisson(*problems[0], x0)  # compile / load cache
    pk.poisson_chi2(x0, *problems[0])
    kernel = _per_call(lambda a: pk.profile_poisson(*a, x0), problems, repeats)
    iterations = np.array([pk.profile_poisson(*a, x0)[2] for a in problems])
    migrad = _per_call(_migrad_poisson, problems[: max(3, n_problems // 4)], 1)

    sa, sb = 0.1, 0.05
    gprobs = [gauss_problem(s) for s in range(20)]
    pk.profile_gauss(*gprobs[0], sa, sb)
    _gauss_chi2(0.0, 0.0, *gprobs[0], sa, sb)
    gkernel = _per_call(lambda p: pk.profile_gauss(*p, sa, sb), gprobs * 50, repeats)
    gmigrad = _per_call(lambda p: _migrad_gauss(p, sa, sb), gprobs[:5], 1)
    return {
        "csi_profile_us": {
            "value": kernel * 1e6,
            "unit": "us/profile (99 bins, 4 normalisations, 3 shapes, 1 core)",
            "baseline_ratio": migrad / kernel,
            "iterations": _histogram(iterations),
        },
        "gauss_profile_us": {
            "value": gkernel * 1e6,
            "unit": "us/profile (99 bins, closed form in alpha, beta)",
            "baseline_ratio": gmigrad / gkernel,
        },
    }


if __name__ == "__main__":
    from cevnsfast.build_tables import enable_builds

    enable_builds()
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer problems and repeats")
    cli = parser.parse_args()
    nb.set_num_threads(1)
    for name, r in run(cli.quick).items():
        print(
            f"{name:20} {r['value']:10.3g} {r['unit']}  (iminuit/ours = {r['baseline_ratio']:.3g})"
        )
        if "iterations" in r:
            print(f"{'':20} Newton iterations per profile -> count: {r['iterations']}")
