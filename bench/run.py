"""Benchmark runner: ``python bench/run.py [--quick] [--json] [--skip-reproduce]``.

Every figure is the median over repeats, with its spread (min, max over the repeats), and,
where a baseline is measured in the same run, ``baseline_ratio`` = baseline / ours for the
strongest honest baseline, named in ``baseline``; ``baseline_ratios`` lists every baseline
measured. Baselines:

* direct integration (``reference.direct``) with its coupling-independent work (recoil nodes,
  smearing matrix, time weights) done once per detector (``prepare_direct``), as a careful
  user would; the naive per-call path is listed too;
* iminuit Migrad on the kernel's χ² — with the analytic gradient at strategy 0 (the fastest
  sensible set-up), and with its defaults (numerical gradient, strategy 1).

Speeds are compared both for what a user calls (``RatePredictor.counts(dict)``,
``experiment.chi2(point)``) and for the bare numba kernel. Scaling figures
(``scan_dask_scaling_2_vs_1``, ``scan_local_scaling_2_vs_1_threads``) compare wall times of
the same scan with equal results, on warmed-up clusters (start-up reported apart), with the
load during their own runs (``scan_bench.bench_dask``). A figure without ``spread`` is a single
measurement or a median its benchmark reports alone (``profile_bench``, ``models_bench``,
``stats_bench``). Nothing here asserts a speed; the figures go into notes and the README.
The machine may be shared: figures are medians, and ``load_average`` records the 1-minute
load before and after the run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import figure, samples  # noqa: E402


def bench_rates(quick: bool, tables: Path) -> dict[str, dict]:
    """µs per coupling point from the tables vs direct integration (naive and prepared)."""
    from cevnsfast.detectors import Detector
    from cevnsfast.kernels import quadratic_form_into
    from cevnsfast.rates import RatePredictor
    from cevnsfast.reference.direct import direct_counts, prepare_direct

    out = {}
    repeats = 3 if quick else 7
    point = {"eps_ee_uV": 0.1, "eps_ee_dV": -0.05, "eps_emu_uS": 0.2}
    for name in ("csi2021", "nai", "cryocsi"):
        predictor = RatePredictor(name, couplings=list(point), directory=tables)
        x = predictor.x_vector(point)
        buffer = np.empty(predictor.n_bins)
        predictor.counts(point)  # compile
        tensor, counts = predictor.tensor, predictor.counts
        kernel = samples(lambda: quadratic_form_into(tensor, x, buffer), repeats, 20000)  # noqa: B023
        api = samples(lambda: counts(point), repeats, 2000)  # noqa: B023
        detector = Detector.load(name)
        prepared = prepare_direct(detector)
        direct_prep = samples(
            lambda: direct_counts(detector, point, prepared=prepared),  # noqa: B023
            repeats,
            1 if quick else 3,
        )
        direct_naive = samples(lambda: direct_counts(detector, point), 3 if quick else 5, 1)  # noqa: B023
        base = {"direct_prepared": direct_prep, "direct_naive": direct_naive}
        n_bins = predictor.n_bins
        out[f"rates_kernel_{name}_us"] = figure(
            kernel, 1e6, f"us/point (bare kernel, {n_bins} bins, 3 couplings, 1 core)", base
        )
        out[f"rates_api_{name}_us"] = figure(
            api, 1e6, "us/point (RatePredictor.counts with a dict, 1 core)", base
        )
        out[f"rates_direct_prepared_{name}_ms"] = figure(
            direct_prep, 1e3, "ms/point (direct integration, per-detector work done once)"
        )
    return out


def _iteration_histogram(n_iter: np.ndarray) -> dict[str, int]:
    counts = np.bincount(n_iter)
    return {str(i): int(c) for i, c in enumerate(counts) if c}


def bench_likelihoods(quick: bool, tables: Path) -> dict[str, dict]:
    """The profiled CsI 2021 χ² (α0…α7, 99 bins) on one core: single points as a user calls
    them, the bare kernel, and per point in a scan (warm-started batch); iminuit and direct
    baselines measured on the same points. NaI + Cryo-CsI Asimov χ² for comparison."""
    from iminuit import Minuit

    from cevnsfast.detectors import Detector
    from cevnsfast.likelihood.registry import experiment
    from cevnsfast.profile_kernels import (
        poisson_chi2,
        poisson_chi2_grad_hess,
        profile_poisson,
        profile_quadratic,
        profile_quadratic_batch,
    )
    from cevnsfast.reference.direct import direct_counts, prepare_direct

    repeats = 3 if quick else 7
    out = {}
    csi = experiment("csi2021", ["eps_ee_uV", "eps_ee_dV"], tables_dir=tables)
    rng = np.random.default_rng(7)
    points = rng.uniform(-0.3, 0.3, (20 if quick else 50, 2))
    # the kernel's arguments as experiment.chi2 passes them (max_iter and tol explicit)
    args, data, _ = csi._kernel_arguments()
    rest = data[:-2]  # observed, backgrounds, priors, x0
    xs = np.ones((points.shape[0], 3))
    xs[:, 1:] = points
    csi.chi2(points[0])
    profile_quadratic(*args, xs[0], *data)

    def cycle(func, items):
        it = iter(())

        def call():
            nonlocal it
            try:
                func(next(it))
            except StopIteration:
                it = iter(items)
                func(next(it))

        return call

    user = samples(cycle(csi.chi2, points), repeats, 10 * len(points))
    # CPU time of this thread: the same work, insensitive to other users of a shared machine
    user_cpu = samples(cycle(csi.chi2, points), repeats, 10 * len(points), time.thread_time)
    kernel = samples(cycle(lambda x: profile_quadratic(*args, x, *data), xs), repeats, 10 * len(xs))
    cold_iters = np.array([profile_quadratic(*args, x, *data)[2] for x in xs])

    p = csi.predictor
    detector = Detector.load("csi2021")
    prepared = prepare_direct(detector)
    problems = []
    for pt, x in zip(points, xs, strict=True):
        problems.append((csi.observed, p.counts(pt), p.signal_grids(x), p.grid_values, *rest[1:-1]))

    def migrad(prob, analytic: bool):
        def fcn(q):
            return poisson_chi2(np.asarray(q), *prob)

        def grad(q):
            return poisson_chi2_grad_hess(np.asarray(q), *prob)[1]

        m = Minuit(fcn, csi.x0.copy(), grad=grad if analytic else None)
        m.errordef = Minuit.LEAST_SQUARES
        m.strategy = 0 if analytic else 1
        m.limits = [(-1, None)] * 4 + [(None, None)] * 3
        m.migrad()

    n_m = min(len(problems), 5 if quick else 15)
    iminuit_fast = samples(cycle(lambda pr: migrad(pr, True), problems[:n_m]), 3, n_m)
    iminuit_default = samples(cycle(lambda pr: migrad(pr, False), problems[:n_m]), 3, n_m)

    def direct(pt):
        s0 = direct_counts(
            detector, dict(zip(csi.coupling_names, pt, strict=True)), prepared=prepared
        )
        profile_poisson(csi.observed, s0, p.signal_grids(p.x_vector(pt)), p.grid_values, *rest[1:])

    direct_s = samples(cycle(direct, points), 3, 3 if quick else 10)
    base = {
        "iminuit_analytic_grad_strategy0": iminuit_fast,
        "iminuit_default": iminuit_default,
        "direct_prepared_then_profile": direct_s,
    }
    unit = "us/point (99 bins, alpha0..alpha7 profiled, 1 core, {})"
    out["csi2021_profiled_chi2_us"] = figure(user, 1e6, unit.format("experiment.chi2(point)"), base)
    out["csi2021_profiled_chi2_us"]["iterations_cold_start"] = _iteration_histogram(cold_iters)
    out["csi2021_profiled_chi2_cpu_us"] = figure(
        user_cpu, 1e6, unit.format("experiment.chi2(point), thread CPU time")
    )
    out["csi2021_profiled_chi2_kernel_us"] = figure(
        kernel, 1e6, unit.format("bare kernel profile_quadratic"), base
    )
    # per point in a scan: a 2D grid in C order, one thread, warm starts along the rows
    n = 61 if quick else 141
    g = np.linspace(-0.6, 0.6, n)
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    xg = np.ones((grid.shape[0], 3))
    xg[:, 1:] = grid
    profile_quadratic_batch(*args, xg[:10], *rest)
    numba.set_num_threads(1)
    scan = samples(lambda: profile_quadratic_batch(*args, xg, *rest), repeats, 1) / len(xg)
    _, _, scan_iters, scan_ok = profile_quadratic_batch(*args, xg, *rest)
    out["csi2021_profiled_chi2_scan_us"] = figure(
        scan, 1e6, f"us/point ({n}x{n} grid, warm-started chi2 batch, 1 thread)", base
    )
    out["csi2021_profiled_chi2_scan_us"]["iterations"] = _iteration_histogram(scan_iters)
    out["csi2021_profiled_chi2_scan_us"]["ok_fraction"] = float(scan_ok.mean())

    combo = experiment("nai+cryocsi", ["eps_ee_uV"], tables_dir=tables)
    point = np.array([0.05])
    combo.chi2(point)
    out["nai_cryocsi_profiled_chi2_us"] = figure(
        samples(lambda: combo.chi2(point), repeats, 2000),
        1e6,
        "us/point (two detectors, (alpha, beta) each, 1 core)",
    )
    out.update(_bench_lar(tables, repeats))
    return out


def _bench_lar(tables: Path, repeats: int) -> dict[str, dict]:
    """µs per profiled LAr 2020 χ² point (four NSI couplings, nine nuisances, 1 thread): the
    default energy × time projection (120 bins) and the 3D grid (960 bins, ``lar2020_3d``) at
    random points; per point in a warm-started 2D scan, as the CsI figure."""
    from cevnsfast.data.errors import DataNotFoundError
    from cevnsfast.likelihood.registry import experiment

    out, couplings = {}, ["eps_ee_uV", "eps_ee_dV", "eps_mumu_uV", "eps_mumu_dV"]
    points = np.random.default_rng(1).uniform(-0.1, 0.1, (200, len(couplings)))
    for name, bins in (("lar2020", 120), ("lar2020_3d", 960)):
        try:
            lar = experiment(name, couplings, tables_dir=tables)
        except DataNotFoundError:
            return {}
        lar.chi2_batch(points[:2])
        per_point = samples(lambda: lar.chi2_batch(points), repeats, 1) / len(points)  # noqa: B023
        out[f"{name}_profiled_chi2_us"] = figure(
            per_point, 1e6, f"us/point ({bins} bins, 9 nuisances profiled, chi2_batch, 1 thread)"
        )
    # per point in a scan, as the CsI figure: a 2D grid in C order, warm starts along the rows
    lar = experiment("lar2020", couplings[:2], tables_dir=tables)
    g = np.linspace(-0.6, 0.6, 61)
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    lar.chi2_batch(grid[:2])
    per_point = samples(lambda: lar.chi2_batch(grid), repeats, 1) / len(grid)
    out["lar2020_profiled_chi2_scan_us"] = figure(
        per_point, 1e6, "us/point (120 bins, 61x61 grid in C order, warm starts, 1 thread)"
    )
    return out


def _child_peak(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB of the largest process, CPU seconds user + system of all
    its processes) of ``cmd`` run in a fresh child (``getrusage(RUSAGE_CHILDREN)`` read in a
    wrapper process that runs only ``cmd``)."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(time.perf_counter() - t, r.ru_maxrss, r.ru_utime + r.ru_stime)"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], env=env, check=True, capture_output=True, text=True
    )
    seconds, max_rss_kb, cpu_s = done.stdout.split()
    return float(seconds), float(max_rss_kb) / 1024.0, float(cpu_s)


def bench_reproduce() -> dict[str, dict]:
    """``cevnsfast reproduce`` end to end in a child process: from empty tables, then with the
    tables built; wall time, CPU time and peak memory.

    The children write and read Python's bytecode cache as a user's interpreter does, even
    where this process runs with ``PYTHONDONTWRITEBYTECODE`` set (this workplace's shells
    set it): without the cache both processes compile every imported module from source on
    each run (paired runs with built tables: 27.6 and 26.1 s with the cache, 33.3 and
    32.6 s without; 9-11 s more CPU).

    A first run from empty tables goes before them (``reproduce_first_run``): after a change to
    the package source numba's cache is cold (it is keyed on the source) and that run also
    compiles the kernels, about a minute of CPU; the figures proper run on a warm cache, as a
    user's second and later runs do."""
    from cevnsfast.paths import TABLES_DIR_ENV

    out = {}
    cache = Path(os.environ["NUMBA_CACHE_DIR"])  # set by ``import cevnsfast``, inherited
    cached_before = sum(1 for _ in cache.rglob("*.nbi")) if cache.is_dir() else 0
    with tempfile.TemporaryDirectory() as tmp:
        runs = (
            ("first_run", "first"),
            ("empty_tables", "empty"),
            ("built_tables", "empty"),  # the tables the previous run built
        )
        for label, tables in runs:
            env = dict(os.environ, **{TABLES_DIR_ENV: str(Path(tmp) / tables / "tables")})
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            cmd = [sys.executable, "-m", "cevnsfast", "reproduce", "--out", str(Path(tmp) / label)]
            load = os.getloadavg()[0]
            seconds, peak_mb, cpu_s = _child_peak(cmd, env)
            note = (
                f", numba cache {'warm' if cached_before else 'cold'} for this source "
                f"({cached_before} numba cache index files before)"
                if label == "first_run"
                else ""
            )
            out[f"reproduce_{label}_s"] = {
                "value": seconds,
                "unit": f"s (end to end from {'empty' if label != 'built_tables' else 'built'} "
                f"tables, child process, {os.cpu_count()} cores, 1-min load average "
                f"{load:.1f} at start{note})",
                "baseline_ratio": None,
            }
            out[f"reproduce_{label}_cpu_s"] = {
                "value": cpu_s,
                "unit": "s (user + system CPU of reproduce and its worker process)",
                "baseline_ratio": None,
            }
            out[f"reproduce_{label}_peak_rss_mb"] = {
                "value": peak_mb,
                "unit": "MB (peak resident memory of the reproduce process)",
                "baseline_ratio": None,
            }
    return out


def bench_build() -> dict[str, dict]:
    """Seconds for a full build of every shipped detector into an empty directory."""
    from cevnsfast.build_tables.build import build_all

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build_all(directory=Path(tmp), progress=False)
        seconds = time.perf_counter() - start
    return {
        "build_all_s": {
            "value": seconds,
            "unit": "s (all shipped detectors)",
            "baseline_ratio": None,
        }
    }


def main() -> None:
    from cevnsfast.build_tables import enable_builds

    enable_builds()  # benchmarks build what they need on first use, as the CLI does
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats, smaller scans, no build timing"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--skip-reproduce", action="store_true", help="leave out the reproduce timings"
    )
    args = parser.parse_args()
    numba.set_num_threads(1)
    results: dict[str, dict] = {"load_average": {"value": os.getloadavg()[0], "unit": "before"}}
    if not args.quick:
        results.update(bench_build())
    import models_bench
    import profile_bench
    import scan_bench
    import stats_bench

    from cevnsfast.build_tables.build import build_all

    with tempfile.TemporaryDirectory() as tmp:
        tables = Path(tmp)
        build_all(directory=tables, progress=False)
        results.update(bench_rates(args.quick, tables))
        results.update(bench_likelihoods(args.quick, tables))
        results.update(scan_bench.run(args.quick, tables))
    results.update(profile_bench.run(args.quick))
    results.update(models_bench.run(args.quick))
    results.update(stats_bench.run(args.quick))
    if not args.skip_reproduce:
        results.update(bench_reproduce())
    results["load_average"]["unit"] = f"1-min load before; {os.getloadavg()[0]:.2f} after"
    if args.json:
        print(json.dumps(results, allow_nan=False))
        return
    for name, r in results.items():
        ratio = r.get("baseline_ratio")
        ratio = f"  ({ratio:.3g}x faster than {r.get('baseline') or 'baseline'})" if ratio else ""
        spread = r.get("spread")
        spread = f" [{spread[0]:.4g}, {spread[1]:.4g}]" if spread else ""
        print(f"{name:34} {r['value']:12.4g}{spread} {r['unit']}{ratio}")


if __name__ == "__main__":
    main()
