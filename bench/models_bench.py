"""New-physics scan benchmark: ``python bench/models_bench.py [--quick]``.

* ``models_scan_200x200_s`` — wall time of a 200 × 200 (m_Z', g) scan of the universal light
  vector mediator (docs/models.md) on CsI 2021, and on CsI 2021 + LAr 2020 when the LAr
  likelihood is available, every nuisance of each experiment profiled at every point, on 2
  cores, after the tables are built (the first call, which compiles, is excluded). Baseline:
  the same points through the direct-integration twin (``reference.models.direct_model_counts``,
  then the same in-kernel profile), timed on a few points and extrapolated — what a one-off
  script without tables would do.
* ``models_table_build_s`` — building the model tables of the scan (mass axis of 121 values,
  every CsI/LAr shape-nuisance grid) into an empty directory.

``run(quick)`` returns {name: {"value", "unit", "baseline_ratio"}} like ``bench/run.py``.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

SCENARIO = "light_vector_universal"
N_GRID = 200


def _scan_points() -> np.ndarray:
    masses = np.geomspace(0.1, 1e5, N_GRID)
    couplings = np.geomspace(1e-6, 1e-2, N_GRID)
    mm, gg = np.meshgrid(masses, couplings, indexing="ij")
    return np.stack([mm.ravel(), gg.ravel()], axis=1)


def run(quick: bool) -> dict[str, dict]:
    from cevnsfast.build_tables.build import build_all
    from cevnsfast.build_tables.model_tables import build_model_table
    from cevnsfast.detectors import Detector
    from cevnsfast.likelihood.models import model_experiment
    from cevnsfast.paths import TABLES_DIR_ENV
    from cevnsfast.profile_kernels import profile_poisson
    from cevnsfast.reference.models import direct_model_counts
    from cevnsfast.scenario_summary import available_experiments

    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    previous_threads = numba.get_num_threads()
    previous_env = os.environ.get(TABLES_DIR_ENV)
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[TABLES_DIR_ENV] = tmp
        try:
            names, _ = available_experiments()
            detectors = ["csi2021"] + (["lar2020"] if "lar2020" in names else [])
            build_all(detectors, directory=Path(tmp), progress=False)
            start = time.perf_counter()
            for d in detectors:
                build_model_table(d, SCENARIO, directory=Path(tmp))
            out["models_table_build_s"] = {
                "value": time.perf_counter() - start,
                "unit": f"s ({SCENARIO} tables: {', '.join(detectors)})",
                "baseline_ratio": None,
            }
            numba.set_num_threads(threads)
            points = _scan_points()
            for combo in ["csi2021"] + (["csi2021+lar2020"] if len(detectors) == 2 else []):
                exp = model_experiment(combo, SCENARIO, tables_dir=Path(tmp))
                exp.chi2_batch(points[:4])  # compile
                start = time.perf_counter()
                chi2 = exp.chi2_batch(points)
                seconds = time.perf_counter() - start
                if not np.all(np.isfinite(chi2)):
                    raise RuntimeError(f"{combo}: non-finite χ² in the scan")
                baseline = _direct_seconds_per_point(
                    exp, points, Detector, direct_model_counts, profile_poisson, quick
                )
                out[f"models_scan_200x200_{combo.replace('+', '_')}_s"] = {
                    "value": seconds,
                    "unit": f"s ({N_GRID}x{N_GRID} (m, g), all nuisances profiled, "
                    f"{threads} threads)",
                    "baseline_ratio": baseline * len(points) / seconds,
                }
        finally:
            numba.set_num_threads(previous_threads)
            if previous_env is None:
                os.environ.pop(TABLES_DIR_ENV, None)
            else:
                os.environ[TABLES_DIR_ENV] = previous_env
    return out


def _direct_seconds_per_point(exp, points, detector_cls, direct, profile, quick) -> float:
    """Direct twin + CsI in-kernel profile per point (CsI part only: a lower bound for a
    combination), on a few points of the grid."""
    csi = exp.parts[0]
    detector = detector_cls.load("csi2021")
    n = 2 if quick else 4
    chosen = points[np.linspace(0, len(points) - 1, n).astype(int)]
    p = csi.predictor

    def one(mass: float, g: float) -> None:
        eps = exp.model.coupling_from_physical(mass, g)
        sig0 = direct(detector, exp.model.name, {"eps": float(eps)}, float(mass))
        p.set_axis(mass)
        grids = p.signal_grids(p.x_vector([eps]))
        profile(
            csi.observed, sig0, grids, p.grid_values, csi.backgrounds, csi.sigma_norm,
            csi.sigma_shape, csi.shape_center, csi.x0, 100, 1e-10,
        )  # fmt: skip

    one(*chosen[0])  # untimed: on a cold numba cache the first call compiles
    start = time.perf_counter()
    for mass, g in chosen:
        one(mass, g)
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer baseline points")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results = run(args.quick)
    if args.json:
        print(json.dumps(results, allow_nan=False))
        return
    for name, r in results.items():
        ratio = f"  (baseline/ours = {r['baseline_ratio']:.3g})" if r["baseline_ratio"] else ""
        print(f"{name:40} {r['value']:10.4g} {r['unit']}{ratio}")


if __name__ == "__main__":
    from cevnsfast.build_tables import enable_builds

    enable_builds()
    main()
