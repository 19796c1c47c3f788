"""Benchmark runner: ``python bench/run.py [--quick] [--json]``.

Each benchmark reports a figure and, where a baseline is measured in the same run, the ratio
baseline/ours. Nothing here asserts a speed; the figures go into notes and the README.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _best_of(func, repeats: int, inner: int) -> float:
    """Best wall time per call (s) over ``repeats`` batches of ``inner`` calls."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            func()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def bench_rates(quick: bool, tables: Path) -> dict[str, dict]:
    """µs per coupling point from the tables vs the direct-integration twin."""
    from cevnsfast.detectors import Detector
    from cevnsfast.kernels import quadratic_form_into
    from cevnsfast.physics.direct import direct_counts
    from cevnsfast.rates import RatePredictor

    out = {}
    point = {"eps_ee_uV": 0.1, "eps_ee_dV": -0.05, "eps_emu_uS": 0.2}
    for name in ("csi2021", "nai", "cryocsi"):
        predictor = RatePredictor(name, couplings=list(point), directory=tables)
        x = predictor.x_vector(point)
        buffer = np.empty(predictor.n_bins)
        predictor.counts(point)  # compile
        tensor, counts = predictor.tensor, predictor.counts
        kernel = _best_of(lambda: quadratic_form_into(tensor, x, buffer), 5, 20000)  # noqa: B023
        api = _best_of(lambda: counts(point), 5, 2000)  # noqa: B023
        detector = Detector.load(name)
        direct = _best_of(lambda: direct_counts(detector, point), 1 if quick else 3, 1)  # noqa: B023
        n_bins = predictor.n_bins
        out[f"rates_kernel_{name}_us"] = {
            "value": kernel * 1e6,
            "unit": f"us/point ({n_bins} bins, 3 couplings, 1 core)",
            "baseline_ratio": direct / kernel,
        }
        out[f"rates_api_{name}_us"] = {
            "value": api * 1e6,
            "unit": "us/point (RatePredictor.counts with a dict)",
            "baseline_ratio": direct / api,
        }
    return out


def bench_likelihoods(quick: bool, tables: Path) -> dict[str, dict]:
    """One profiled χ² on the real tables: CsI 2021 (all nuisances) and NaI+Cryo-CsI.

    Baselines measured in the same run: the same CsI χ² profiled by iminuit (Migrad on the
    kernel's χ²), and the direct-integration path (counts integrated at the point, then
    profiled) — what a one-off script would do.
    """
    from iminuit import Minuit

    from cevnsfast.detectors import Detector
    from cevnsfast.likelihood.registry import experiment
    from cevnsfast.physics.direct import direct_counts
    from cevnsfast.profile_kernels import poisson_chi2, profile_poisson

    out = {}
    csi = experiment("csi2021", ["eps_ee_uV"], tables_dir=tables)
    point = np.array([0.05])
    csi.chi2(point)
    ours = _best_of(lambda: csi.chi2(point), 5, 500)
    p = csi.predictor
    x = p.x_vector(point)
    sig0, grids = p.counts(point), p.signal_grids(x)
    args = (
        csi.observed,
        sig0,
        grids,
        p.grid_values,
        csi.backgrounds,
        csi.sigma_norm,
        csi.sigma_shape,
        csi.shape_center,
    )

    def migrad():
        m = Minuit(lambda par: poisson_chi2(np.asarray(par), *args), csi.x0.copy())
        m.errordef = Minuit.LEAST_SQUARES
        m.limits = [(-1, None)] * 4 + [(None, None)] * 3
        m.migrad()

    iminuit_s = _best_of(migrad, 3, 5)
    detector = Detector.load("csi2021")

    def direct():
        s0 = direct_counts(detector, {"eps_ee_uV": 0.05})
        profile_poisson(
            csi.observed,
            s0,
            grids,
            p.grid_values,
            csi.backgrounds,
            csi.sigma_norm,
            csi.sigma_shape,
            csi.shape_center,
            csi.x0,
            100,
            1e-10,
        )

    direct_s = _best_of(direct, 1 if quick else 3, 1)
    out["csi2021_profiled_chi2_us"] = {
        "value": ours * 1e6,
        "unit": "us/point (99 bins, alpha0..alpha7 profiled, 1 core)",
        "baseline_ratio": iminuit_s / ours,
    }
    out["csi2021_profiled_chi2_vs_direct"] = {
        "value": direct_s * 1e6,
        "unit": "us/point via direct integration (baseline)",
        "baseline_ratio": direct_s / ours,
    }
    combo = experiment("nai+cryocsi", ["eps_ee_uV"], tables_dir=tables)
    combo.chi2(point)
    t_combo = _best_of(lambda: combo.chi2(point), 5, 2000)
    out["nai_cryocsi_profiled_chi2_us"] = {
        "value": t_combo * 1e6,
        "unit": "us/point (two detectors, (alpha, beta) each, 1 core)",
        "baseline_ratio": None,
    }
    out.update(_bench_lar(tables))
    n_batch = 2000 if quick else 20000
    grid = np.linspace(-0.2, 0.6, n_batch)[:, None]
    csi.chi2_batch(grid[:10])
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    start = time.perf_counter()
    csi.chi2_batch(grid)
    per_point = (time.perf_counter() - start) / n_batch
    numba.set_num_threads(1)
    out["csi2021_batch_points_per_s"] = {
        "value": 1.0 / per_point,
        "unit": f"points/s (chi2_batch, {numba.config.NUMBA_NUM_THREADS} threads)",
        "baseline_ratio": None,
    }
    return out


def _bench_lar(tables: Path) -> dict[str, dict]:
    """µs per profiled LAr 2020 χ² point (four NSI couplings, nine nuisances, 1 thread): the
    default energy × time projection (120 bins) and the 3D grid (960 bins, ``lar2020_3d``)."""
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
        per_point = _best_of(lambda: lar.chi2_batch(points), 3, 1) / len(points)  # noqa: B023
        out[f"{name}_profiled_chi2_us"] = {
            "value": per_point * 1e6,
            "unit": f"us/point ({bins} bins, 9 nuisances profiled, chi2_batch, 1 thread)",
            "baseline_ratio": None,
        }
    return out


def bench_reproduce() -> dict[str, dict]:
    """``cevnsfast reproduce`` end to end: from empty tables, then with the tables built."""
    import os

    from cevnsfast.paths import TABLES_DIR_ENV
    from cevnsfast.reproduce import reproduce

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[TABLES_DIR_ENV] = str(Path(tmp) / "tables")
        for label in ("empty_tables", "built_tables"):
            start = time.perf_counter()
            reproduce(Path(tmp) / label, progress=False)
            out[f"reproduce_{label}_s"] = {
                "value": time.perf_counter() - start,
                "unit": "s (end to end, 2 threads)",
                "baseline_ratio": None,
            }
        del os.environ[TABLES_DIR_ENV]
    return out


def bench_build(quick: bool) -> dict[str, dict]:
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--skip-reproduce", action="store_true", help="leave out the ~1 min reproduce timing"
    )
    args = parser.parse_args()
    numba.set_num_threads(1)
    results: dict[str, dict] = {}
    results.update(bench_build(args.quick))
    with tempfile.TemporaryDirectory() as tmp:
        from cevnsfast.build_tables.build import build_all

        build_all(directory=Path(tmp), progress=False)
        results.update(bench_rates(args.quick, Path(tmp)))
        results.update(bench_likelihoods(args.quick, Path(tmp)))
    import models_bench
    import profile_bench
    import scan_bench
    import stats_bench

    results.update(profile_bench.run(args.quick))
    results.update(scan_bench.run(args.quick))
    results.update(models_bench.run(args.quick))
    results.update(stats_bench.run(args.quick))
    if not args.skip_reproduce:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        results.update(bench_reproduce())
    if args.json:
        print(json.dumps(results, allow_nan=False))
        return
    for name, r in results.items():
        ratio = f"  (baseline/ours = {r['baseline_ratio']:.3g})" if r["baseline_ratio"] else ""
        print(f"{name:28} {r['value']:12.4g} {r['unit']}{ratio}")


if __name__ == "__main__":
    main()
