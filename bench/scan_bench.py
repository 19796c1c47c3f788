"""Grid-scan benchmarks: ``python bench/scan_bench.py [--quick]``.

* ``scan_csi2021_2d_points_per_s`` — 201×201 scan of (ε_ee^uV, ε_ee^dV) on CsI 2021 with
  α0…α7 profiled at every point, written to a Zarr store, all threads (2 cores here).
  Median over 3 scans. Baseline: a Python loop over ``experiment.chi2`` (one point at a
  time, timed on a sample); ``baseline_ratio`` = our points/s over the loop's.
* ``scan_nai_cryocsi_2d_points_per_s`` — the same grid on NaI + Cryo-CsI (Asimov).
* ``scan_nai_cryocsi_4d_points_per_s`` — 41⁴ grid of (ε_ee^uV, ε_ee^dV, ε_μμ^uV, ε_μμ^dV) on
  NaI + Cryo-CsI, one run; with ``--quick`` only the first chunks run and the time is
  extrapolated.
* ``scan_dask_scaling_2_vs_1`` — wall time of the same CsI 2021 401×401 scan (101×101 with
  ``--quick``) on a warmed-up LocalCluster of 1 worker over 2 workers (one numba thread per
  worker), median over 5 repeats, results checked equal; also the local run on 1 and 2
  threads (``scan_local_scaling_2_vs_1_threads``), each set-up's points/s, CPU seconds,
  the 1-minute load, and cluster start-up and worker set-up apart (:func:`bench_dask`).

Compilation is excluded everywhere (a small warm-up scan runs first).
"""

import os
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from timing import figure, samples

PAIR = ("eps_ee_uV=-0.6:0.6:{n}", "eps_ee_dV=-0.6:0.6:{n}")
QUAD = ("eps_ee_uV", "eps_ee_dV", "eps_mumu_uV", "eps_mumu_dV")


def _spec(experiments: str, n: int, axes=PAIR):
    from cevnsfast.scan.spec import ScanSpec

    return ScanSpec(experiments, tuple(a.format(n=n) for a in axes))


def _timed_scan(spec, tables: Path, out: Path, stop_after: int | None = None) -> tuple[float, int]:
    """Seconds and points of a local scan into ``out`` (warm kernels), all numba threads."""
    from cevnsfast.scan.grid import GridScan, run_scan

    scanner = GridScan(spec, tables_dir=tables)
    run_scan(GridScan(_spec(spec.experiments, 5), tables_dir=tables), progress=False)  # warm up
    done = []

    class Enough(Exception):
        pass

    def count(idx):
        done.append(idx)
        if stop_after is not None and len(done) >= stop_after:
            raise Enough

    start = time.perf_counter()
    try:
        run_scan(scanner, out, progress=False, on_chunk=count)
    except Enough:
        pass
    seconds = time.perf_counter() - start
    points = sum(int(np.prod([s.stop - s.start for s in scanner.chunk_points(i)[0]])) for i in done)
    return seconds, points


def _loop_rates(experiments: str, tables: Path, n_points: int, repeats: int) -> np.ndarray:
    """Baseline points/s: ``experiment.chi2`` called point by point from Python (repeats)."""
    from cevnsfast.likelihood.registry import experiment

    exp = experiment(experiments, ["eps_ee_uV", "eps_ee_dV"], tables_dir=tables)
    pts = np.random.default_rng(1).uniform(-0.6, 0.6, (n_points, 2))
    exp.chi2(pts[0])
    return 1.0 / samples(lambda: [exp.chi2(p) for p in pts], repeats, 1) * n_points


def bench_2d(quick: bool, tables: Path, tmp: Path) -> dict[str, dict]:
    out = {}
    repeats = 1 if quick else 3
    for name, label in (("csi2021", "csi2021"), ("nai+cryocsi", "nai_cryocsi")):
        rates = []
        for rep in range(repeats):
            seconds, points = _timed_scan(_spec(name, 201), tables, tmp / f"{label}_2d_{rep}.zarr")
            rates.append(points / seconds)
        baseline = _loop_rates(name, tables, 300 if quick else 2000, repeats)
        out[f"scan_{label}_2d_points_per_s"] = figure(
            rates,
            1.0,
            f"points/s (201x201, nuisances profiled, {numba.get_num_threads()} threads, "
            "Zarr store)",
            {"python_loop_experiment_chi2": baseline},
            rate=True,
        )
    return out


def bench_4d(quick: bool, tables: Path, tmp: Path) -> dict[str, dict]:
    spec = _spec("nai+cryocsi", 41, tuple(f"{c}=-0.5:0.5:{{n}}" for c in QUAD))
    n_chunks = int(np.prod(spec.chunk_grid))
    stop = max(1, n_chunks // 10) if quick else None
    seconds, points = _timed_scan(spec, tables, tmp / "nai_cryocsi_4d.zarr", stop)
    rate = points / seconds
    total = spec.n_points / rate
    how = f"extrapolated from {points} points" if quick else "measured"
    unit = f"points/s (41^4 = {spec.n_points} points: {total:.1f} s, {how}, one run)"
    return {"scan_nai_cryocsi_4d_points_per_s": figure([rate], 1.0, unit)}


def _cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and its live children (a
    local cluster's workers; its scheduler and client run in this process)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _timed(func) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process tree, result) of ``func()``."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    result = func()
    return time.perf_counter() - start, _cpu_seconds() - cpu, result


def _dask_run(workers: int, scanner, warm, tables: Path, sources: dict, out: Path) -> dict:
    """One timed scan on a fresh, warmed-up LocalCluster of ``workers`` × 1 numba thread.

    Timed apart: cluster start-up (processes, client), worker set-up (the scan's worker
    plugin: experiment built, tables loaded, kernels loaded on every worker). Before the timed
    scan a small scan of the same experiment (8 one-row chunks, spread over the workers) runs
    the task path once, so first-call costs (imports, Zarr codecs) stay out of the figure.
    """
    from dask.distributed import Client

    from cevnsfast.scan.distributed import ScanWorkerSetup, local_cluster, run_scan_dask

    def scan(s, path):
        return run_scan_dask(s, path, client=client, progress=False, numba_threads=1,
                             tables_dir=tables)  # fmt: skip

    start = time.perf_counter()
    cluster = local_cluster(workers, numba_threads=1)
    with Client(cluster) as client:
        started = time.perf_counter()
        scan(warm, out.with_suffix(".warm.zarr"))
        setup = time.perf_counter()
        client.register_plugin(ScanWorkerSetup(scanner.spec.as_dict(), sources, 1))
        setup = time.perf_counter() - setup
        seconds, cpu, ds = _timed(lambda: scan(scanner, out))
    cluster.close()
    return {"s": seconds, "cpu": cpu, "startup": started - start, "setup": setup, "ds": ds}


EQUAL_RTOL = 1e-12
"""Relative agreement required of the scans' χ² arrays. Not bit for bit: numba compiles a
kernel's specialisation with its callees inlined or not depending on which of them the
process already loaded from the on-disk cache, and under the kernels' ``reassoc`` fast-math
flag the sums then associate differently. Measured: one CsI scan's χ² from a specialisation
compiled in a later process differed from the cached one by ≤ 2e-13 in 68 of 1681 points;
with every kernel compiled in one process (a fresh cache) all agreed bit for bit."""


def bench_dask(quick: bool, tables: Path, tmp: Path) -> dict[str, dict]:
    """The same CsI 2021 scan (401×401, α0…α7 profiled at every point, Zarr store; 101×101
    with ``--quick``) on a LocalCluster of 1 and of 2 workers (one numba thread each), and
    locally on 1 and 2 numba threads for comparison.

    Wall time of the scan as ``run_scan_dask``/``run_scan`` does it (store creation, tasks,
    reading the result back) on warmed-up clusters; cluster start-up and worker set-up are
    reported apart. The four set-ups take turns in each repeat (order rotated) so that slow
    phases of a shared machine hit all of them; every run must give the same χ² array to
    ``EQUAL_RTOL`` (same chunks, same warm-start blocks), else the benchmark stops. Ratios: median
    wall time of 1 over median of 2 (workers or threads), spread = min and max of the
    per-repeat ratios. The 1-minute load is recorded before and after (≳ 0.5 before means
    the machine was not quiet and the ratio is a lower bound).
    """
    from cevnsfast import paths
    from cevnsfast.scan.grid import GridScan, run_scan
    from cevnsfast.scan.spec import ScanSpec

    n = 101 if quick else 401
    repeats = 2 if quick else 5
    base = _spec("csi2021", n)
    spec = ScanSpec(base.experiments, base.axes, chunks=(max(1, n // 32), n))  # ~32 tasks
    scanner = GridScan(spec, tables_dir=tables)
    warm_base = _spec("csi2021", 8)
    warm = GridScan(ScanSpec(warm_base.experiments, warm_base.axes, chunks=(1, 8)), None, tables)
    sources = {"tables_dir": str(tables.resolve()), "data_dir": str(paths.data_dir().resolve())}
    threads = numba.get_num_threads()
    run_scan(warm, progress=False)  # kernels loaded in this process
    setups = [("dask", 1), ("dask", 2), ("local", 1), ("local", 2)]
    runs: dict[tuple[str, int], list[dict]] = {s: [] for s in setups}
    reference = None
    max_difference = 0.0
    load_before = os.getloadavg()[0]
    for rep in range(repeats):
        for kind, k in setups[rep % 4 :] + setups[: rep % 4]:
            out = tmp / f"{kind}{k}_{rep}.zarr"
            if kind == "dask":
                r = _dask_run(k, scanner, warm, tables, sources, out)
            else:
                numba.set_num_threads(k)
                seconds, cpu, ds = _timed(lambda: run_scan(scanner, out, progress=False))  # noqa: B023
                r = {"s": seconds, "cpu": cpu, "ds": ds}
            chi2 = r.pop("ds")["chi2"].values
            if reference is None:
                reference = chi2
            elif not np.allclose(chi2, reference, rtol=EQUAL_RTOL, atol=0.0, equal_nan=True):
                raise RuntimeError(f"{kind} with {k}: χ² differs from the first run's")
            max_difference = max(max_difference, float(np.nanmax(np.abs(chi2 - reference))))
            runs[(kind, k)].append(r)
    numba.set_num_threads(threads)
    load = [load_before, os.getloadavg()[0]]
    wall = {s: np.array([r["s"] for r in rs]) for s, rs in runs.items()}
    cpu = {s: float(np.median([r["cpu"] for r in rs])) for s, rs in runs.items()}
    # cores the run got: CPU seconds of this process tree over wall seconds (below the worker
    # or thread count when other users held the cores)
    cores = {s: float(np.median([r["cpu"] / r["s"] for r in rs])) for s, rs in runs.items()}
    grid = f"csi2021 {n}x{n}, chunks of {spec.chunks[0]} rows"
    out: dict[str, dict] = {}
    for key, run_setup, label in (
        ("scan_dask_1_worker", ("dask", 1), "LocalCluster 1 worker x 1 thread"),
        ("scan_dask_2_workers", ("dask", 2), "LocalCluster 2 workers x 1 thread"),
        ("scan_local_1_thread", ("local", 1), "local, 1 thread"),
        ("scan_local_2_threads", ("local", 2), "local, 2 threads"),
    ):
        rates = spec.n_points / wall[run_setup]
        out[f"{key}_points_per_s"] = figure(rates, 1.0, f"points/s ({grid}, {label})")
    for kind, name in (("dask", "scan_dask_scaling_2_vs_1"),
                       ("local", "scan_local_scaling_2_vs_1_threads")):  # fmt: skip
        one, two = wall[(kind, 1)], wall[(kind, 2)]
        paired = one / two
        out[name] = {
            "value": float(np.median(one) / np.median(two)),
            "spread": [float(paired.min()), float(paired.max())],
            "repeats": repeats,
            "unit": f"x (median wall time 1 / 2 {'workers' if kind == 'dask' else 'threads'}, "
            f"same {grid} scan, equal results; {os.cpu_count()} cores, 1-min load "
            f"{load[0]:.2f} before, {load[1]:.2f} after)",
            "load_1min": load,
            "cpu_s": {"1": cpu[(kind, 1)], "2": cpu[(kind, 2)]},
            "cores_used": {"1": cores[(kind, 1)], "2": cores[(kind, 2)]},
            "results_max_abs_difference": max_difference,
            "baseline_ratio": None,
        }
    starts = np.array([r["startup"] for r in runs[("dask", 2)]])
    setup = np.array([r["setup"] for r in runs[("dask", 2)]])
    out["scan_dask_startup_s"] = figure(starts, 1.0, "s (LocalCluster of 2 workers + client)")
    out["scan_dask_worker_setup_s"] = figure(
        setup, 1.0, "s (scan worker plugin on 2 workers: experiment, tables, kernels from cache)"
    )
    return out


def run(quick: bool, tables: Path | None = None) -> dict[str, dict]:
    """Every scan benchmark, on ``tables`` (default: built into a temporary directory)."""
    from cevnsfast.build_tables.build import build_all

    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if tables is None:
            tables = tmp / "tables"
            build_all(["csi2021", "nai", "cryocsi"], directory=tables, progress=False)
        results.update(bench_2d(quick, tables, tmp))
        results.update(bench_4d(quick, tables, tmp))
        results.update(bench_dask(quick, tables, tmp))
    numba.set_num_threads(1)
    return results


if __name__ == "__main__":
    from cevnsfast.build_tables import enable_builds

    enable_builds()
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller grids, extrapolated 4D")
    cli = parser.parse_args()
    for name, r in run(cli.quick).items():
        ratio = r["baseline_ratio"]
        ratio = f"  ({ratio:.3g}x faster than {r.get('baseline') or 'baseline'})" if ratio else ""
        print(f"{name:34} {r['value']:12.4g} {r['unit']}{ratio}")
