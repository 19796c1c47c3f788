"""Grid-scan benchmarks: ``python bench/scan_bench.py [--quick]``.

* ``scan_csi2021_2d_points_per_s`` — 201×201 scan of (ε_ee^uV, ε_ee^dV) on CsI 2021 with
  α0…α7 profiled at every point, written to a Zarr store, all threads (2 cores here).
  Baseline: a Python loop over ``experiment.chi2`` (one point at a time, timed on a sample).
* ``scan_nai_cryocsi_2d_points_per_s`` — the same grid on NaI + Cryo-CsI (Asimov).
* ``scan_nai_cryocsi_4d_points_per_s`` — 41⁴ grid of (ε_ee^uV, ε_ee^dV, ε_μμ^uV, ε_μμ^dV) on
  NaI + Cryo-CsI; with ``--quick`` only the first chunks run and the time is extrapolated.
* ``scan_dask_scaling_2_vs_1`` — points/s with a LocalCluster of 2 workers over 1 worker (one
  numba thread per worker), CsI 2021 401×401 grid (101×101 with ``--quick``), median over
  repeats; cluster start-up and worker set-up excluded.

Compilation is excluded everywhere (a small warm-up scan runs first).
"""

import os
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

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


def _loop_rate(experiments: str, tables: Path, n_points: int) -> float:
    """Baseline points/s: ``experiment.chi2`` called point by point from Python."""
    from cevnsfast.likelihood.registry import experiment

    exp = experiment(experiments, ["eps_ee_uV", "eps_ee_dV"], tables_dir=tables)
    pts = np.random.default_rng(1).uniform(-0.6, 0.6, (n_points, 2))
    exp.chi2(pts[0])
    start = time.perf_counter()
    for p in pts:
        exp.chi2(p)
    return n_points / (time.perf_counter() - start)


def bench_2d(quick: bool, tables: Path, tmp: Path) -> dict[str, dict]:
    out = {}
    for name, label in (("csi2021", "csi2021"), ("nai+cryocsi", "nai_cryocsi")):
        seconds, points = _timed_scan(_spec(name, 201), tables, tmp / f"{label}_2d.zarr")
        rate = points / seconds
        baseline = _loop_rate(name, tables, 300 if quick else 2000)
        out[f"scan_{label}_2d_points_per_s"] = {
            "value": rate,
            "unit": f"points/s (201x201 in {seconds:.2f} s, nuisances profiled, "
            f"{numba.get_num_threads()} threads, Zarr store)",
            "baseline_ratio": rate / baseline,
        }
    return out


def bench_4d(quick: bool, tables: Path, tmp: Path) -> dict[str, dict]:
    spec = _spec("nai+cryocsi", 41, tuple(f"{c}=-0.5:0.5:{{n}}" for c in QUAD))
    n_chunks = int(np.prod(spec.chunk_grid))
    stop = max(1, n_chunks // 10) if quick else None
    seconds, points = _timed_scan(spec, tables, tmp / "nai_cryocsi_4d.zarr", stop)
    rate = points / seconds
    total = spec.n_points / rate
    how = f"extrapolated from {points} points" if quick else "measured"
    return {
        "scan_nai_cryocsi_4d_points_per_s": {
            "value": rate,
            "unit": f"points/s (41^4 = {spec.n_points} points: {total:.1f} s, {how})",
            "baseline_ratio": None,
        }
    }


def bench_dask(quick: bool, tables: Path, tmp: Path) -> dict[str, dict]:
    """Points/s of a CsI 2021 scan on a LocalCluster of 1 and of 2 workers (one numba thread
    each): median over repeats, cluster start-up and worker set-up (the scan's worker plugin)
    excluded; the clusters alternate so slow phases of a shared machine hit both."""
    from dask.distributed import Client

    from cevnsfast import paths
    from cevnsfast.scan.distributed import ScanWorkerSetup, local_cluster, run_scan_dask
    from cevnsfast.scan.grid import GridScan
    from cevnsfast.scan.spec import ScanSpec

    n = 101 if quick else 401
    repeats = 1 if quick else 3
    base = _spec("csi2021", n)
    spec = ScanSpec(base.experiments, base.axes, chunks=(max(1, n // 32), n))  # ~32 tasks
    scanner = GridScan(spec, tables_dir=tables)
    sources = {"tables_dir": str(tables.resolve()), "data_dir": str(paths.data_dir().resolve())}
    seconds: dict[int, list[float]] = {1: [], 2: []}
    for rep in range(repeats):
        for workers in (1, 2) if rep % 2 == 0 else (2, 1):
            cluster = local_cluster(workers, numba_threads=1)
            with Client(cluster) as client:
                client.register_plugin(ScanWorkerSetup(spec.as_dict(), sources, 1))
                start = time.perf_counter()
                run_scan_dask(scanner, tmp / f"dask{workers}_{rep}.zarr", client=client,
                              progress=False, numba_threads=1, tables_dir=tables)  # fmt: skip
                seconds[workers].append(time.perf_counter() - start)
            cluster.close()
    rate = {w: spec.n_points / np.array(s) for w, s in seconds.items()}
    unit = "points/s (csi2021 {n}x{n}, LocalCluster {w} x 1 thread)"
    return {
        "scan_dask_1_worker_points_per_s": _rate_figure(rate[1], unit.format(n=n, w="1 worker")),
        "scan_dask_2_workers_points_per_s": _rate_figure(rate[2], unit.format(n=n, w="2 workers")),
        "scan_dask_scaling_2_vs_1": {
            "value": float(np.median(rate[2]) / np.median(rate[1])),
            "spread": [float(rate[2].min() / rate[1].max()), float(rate[2].max() / rate[1].min())],
            "repeats": repeats,
            "unit": f"x (median points/s 2 workers / 1 worker, {os.cpu_count()} cores, "
            f"1-min load {os.getloadavg()[0]:.1f} at the end)",
            "baseline_ratio": None,
        },
    }


def _rate_figure(rates: np.ndarray, unit: str) -> dict:
    return {
        "value": float(np.median(rates)),
        "spread": [float(rates.min()), float(rates.max())],
        "repeats": int(rates.size),
        "unit": unit,
        "baseline_ratio": None,
    }


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
        ratio = f"  (ours/baseline = {r['baseline_ratio']:.3g})" if r["baseline_ratio"] else ""
        print(f"{name:34} {r['value']:12.4g} {r['unit']}{ratio}")
