"""Feldman–Cousins benchmark: ``python bench/stats_bench.py [--quick] [--out DIR]``.

* ``fc_csi2021_band_s`` — the 1D Feldman–Cousins band of ε_ee^uV on CsI 2021: 81 grid points
  on [−0.2, 0.6] × 1000 toys per point (each toy: Poisson counts and fluctuated auxiliary
  measurements at the conditional fit, its χ² profiled over α0…α7 at the grid nodes its
  best-fit search visits: ``--stride 4`` as the CLI), on a local Dask cluster of 2 processes
  × 1 numba thread (2 cores). With ``--quick`` 100 toys per point run and the time is
  extrapolated to 1000 (labelled). Table building and kernel compilation are excluded.
* ``fc_csi2021_vs_iminuit`` — baseline: the same toy fits with iminuit (Migrad, strategy 1,
  α ≥ −1 limits) on the kernel's own χ² (``profile_kernels.poisson_chi2``), timed on a subset
  of toys × grid nodes and extrapolated to the same number of fits (labelled); the ratio is
  iminuit time / ours per profiled fit.

* ``fc_csi2021_cpu_breakdown_ms`` — where a toy's CPU time goes (one thread, middle grid node):
  toy generation (conditional fit, draws), the profiled fits at the coarse nodes, the fits near
  each toy's minimum with the grid-minimum search; and the remainder of the band time per toy
  and core (Dask, Zarr writes, other users of the machine).

The figure (Δχ², critical value with its MC error, Wilks line) is written to ``--out``.
"""

import tempfile
import time
from pathlib import Path

import numba
import numpy as np

PARAM, LO, HI, POINTS = "eps_ee_uV", -0.2, 0.6, 81


def bench_fc(quick: bool, out_dir: Path) -> dict[str, dict]:
    from cevnsfast.likelihood.registry import experiment
    from cevnsfast.plots import save
    from cevnsfast.scan.spec import Axis
    from cevnsfast.stats.feldman_cousins import (
        BeltSpec,
        grid_points,
        observed_delta_chi2,
        run_belt,
        toy_delta_chi2,
    )
    from cevnsfast.stats.figures import fc_profile_figure
    from cevnsfast.stats.toys import rng_for

    n_toys = 100 if quick else 1000
    axis = Axis(PARAM, LO, HI, POINTS)
    exp = experiment("csi2021", [PARAM])
    points = grid_points(exp, [axis], {})
    toy_delta_chi2(exp, points, (POINTS,), 40, 3, rng_for(0, 0), 4)  # compile here
    spec = BeltSpec("csi2021", (axis,), {}, None, n_toys, 0, stride=4, chunk=3)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "belt.zarr"
        # warm the workers (experiment build, kernel load) on a 1-point belt first
        warm = BeltSpec("csi2021", (Axis(PARAM, LO, HI, 2),), {}, None, 10, 0, 4)
        run_belt(warm, Path(tmp) / "warm.zarr", workers=2, progress=False)
        start = time.perf_counter()
        belt = run_belt(spec, store, workers=2, progress=False)
        seconds = time.perf_counter() - start
    crit, err = belt.critical(0.9)
    d = observed_delta_chi2(exp, points)
    fig = fc_profile_figure(
        axis.values, d, crit, err, 2.705543, PARAM,
        f"CsI 2021: Feldman–Cousins ({n_toys} toys/point) vs Wilks", "90 %",
    )  # fmt: skip
    figure = save(fig, out_dir / "fc_csi2021_eps_ee_uV")[0]
    scale = 1000 / n_toys
    label = "extrapolated from 100 toys/point" if quick else "measured"
    ours_per_fit, iminuit_per_fit = _per_fit_times(exp, points, quick)
    numba.set_num_threads(1)
    cpu = time.process_time()
    toy_delta_chi2(exp, points, (POINTS,), 40, 50, rng_for(2, 40), 4)
    cpu_per_toy = (time.process_time() - cpu) / 50
    parts = _cpu_breakdown(exp, points, 50)
    return {
        "fc_csi2021_cpu_breakdown_ms": {
            "value": sum(parts.values()),
            "unit": "CPU ms per toy at the middle grid node, one thread: "
            + ", ".join(f"{k} {v:.3f}" for k, v in parts.items())
            + f"; Dask, Zarr and load: {seconds * scale * 2 / 81 - cpu_per_toy * 1e3:.3f} ms "
            "per toy-core (2 x band time / 81000 - CPU per toy)",
            "baseline_ratio": None,
        },
        "fc_csi2021_cpu_per_toy_ms": {
            "value": cpu_per_toy * 1e3,
            "unit": "CPU ms per toy (81-node grid, stride 4, one thread); x 81000 toys / 2 "
            f"cores = {cpu_per_toy * 81000 / 2:.0f} s projected for an idle 2-core machine",
            "baseline_ratio": None,
        },
        "fc_csi2021_band_s": {
            "value": seconds * scale,
            "unit": f"s for 81 points x 1000 toys, 2 Dask workers ({label}); figure {figure}",
            "baseline_ratio": None,
        },
        "fc_csi2021_vs_iminuit": {
            "value": iminuit_per_fit * 1e6,
            "unit": "us per toy fit with iminuit (subset, extrapolated); ratio iminuit/ours",
            "baseline_ratio": iminuit_per_fit / ours_per_fit,
        },
    }


def _cpu_breakdown(exp, points: np.ndarray, n_toys: int) -> dict[str, float]:
    """CPU ms per toy of the parts of ``toy_delta_chi2`` at the middle node: the conditional
    fit and the draws, the profiled fits at the coarse nodes (every 4th) and at the nodes
    around each toy's minimum, and the rest (grid-minimum search, Python)."""
    from cevnsfast.stats.toys import draw_toys, rng_for, toy_chi2

    clock = time.process_time
    start = clock()
    toys = draw_toys(exp.toy_source(points[40]), n_toys, rng_for(3, 40))
    draw = clock() - start
    coarse_nodes = points[::4]
    start = clock()
    for t in range(n_toys):
        exp.with_data(toys.measurements(t)).chi2_batch(coarse_nodes)
    coarse = clock() - start
    start = clock()
    toy_chi2(exp, toys, points, (POINTS,), required=[40], stride=4)
    search = clock() - start
    ms = 1e3 / n_toys
    return {
        "toy generation": draw * ms,
        "coarse fits": coarse * ms,
        "fits near the minima and grid-minimum search": max(search - coarse, 0.0) * ms,
    }


def _per_fit_times(exp, points: np.ndarray, quick: bool) -> tuple[float, float]:
    """Seconds per profiled toy fit: ours (``chi2_batch`` on one thread) and iminuit's, on
    the same toys and grid nodes."""
    from iminuit import Minuit

    from cevnsfast.stats.toys import draw_toys, rng_for

    n_toys = 5 if quick else 20
    toys = draw_toys(exp.toy_source(points[40]), n_toys, rng_for(1, 0))
    nodes = points[::4]
    numba.set_num_threads(1)
    start = time.perf_counter()
    for t in range(n_toys):
        exp.with_data(toys.measurements(t)).chi2_batch(nodes)
    ours = (time.perf_counter() - start) / (n_toys * len(nodes))
    n_fits, start = 0, time.perf_counter()
    for t in range(n_toys):
        toy = exp.with_data(toys.measurements(t))
        backgrounds, sigma_norm, shape_center, scale = toy.kernel_priors()
        for node in nodes:
            sig0, grid, grid_values = toy.signal_inputs(node)
            args = (toy.observed, scale * sig0, scale * grid, grid_values, backgrounds,
                    sigma_norm, toy.sigma_shape, shape_center)  # fmt: skip
            m = Minuit(_chi2_of(args), toy.x0.copy())
            m.errordef = Minuit.LEAST_SQUARES
            m.limits = [(-1, None)] * 4 + [(None, None)] * 3
            m.migrad()
            n_fits += 1
    return ours, (time.perf_counter() - start) / n_fits


def _chi2_of(args: tuple):
    """χ²(params) of one toy at one node, for iminuit (array-parameter form)."""
    from cevnsfast.profile_kernels import poisson_chi2

    return lambda params: poisson_chi2(np.asarray(params), *args)


def run(quick: bool, out_dir: Path | None = None) -> dict[str, dict]:
    out_dir = Path(out_dir or Path(__file__).resolve().parent.parent / "results" / "bench")
    return bench_fc(quick, out_dir)


if __name__ == "__main__":
    from cevnsfast.build_tables import enable_builds

    enable_builds()
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 toys/point, extrapolated")
    parser.add_argument("--out", type=Path, help="figure directory (default results/bench)")
    cli = parser.parse_args()
    for name, r in run(cli.quick, cli.out).items():
        ratio = f"  (iminuit/ours = {r['baseline_ratio']:.3g})" if r["baseline_ratio"] else ""
        print(f"{name:28} {r['value']:12.4g} {r['unit']}{ratio}")
