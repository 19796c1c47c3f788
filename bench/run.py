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
        buffer = np.empty(predictor.tensor.shape[0])
        predictor.counts(point)  # compile
        tensor, counts = predictor.tensor, predictor.counts
        kernel = _best_of(lambda: quadratic_form_into(tensor, x, buffer), 5, 20000)  # noqa: B023
        api = _best_of(lambda: counts(point), 5, 2000)  # noqa: B023
        detector = Detector.load(name)
        direct = _best_of(lambda: direct_counts(detector, point), 1 if quick else 3, 1)  # noqa: B023
        n_bins = predictor.tensor.shape[0]
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


def bench_build(quick: bool) -> dict[str, dict]:
    """Seconds for a full build of every shipped detector into an empty directory."""
    from build_tables.build import build_all

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
    args = parser.parse_args()
    numba.set_num_threads(1)
    results: dict[str, dict] = {}
    results.update(bench_build(args.quick))
    with tempfile.TemporaryDirectory() as tmp:
        from build_tables.build import build_all

        build_all(directory=Path(tmp), progress=False)
        results.update(bench_rates(args.quick, Path(tmp)))
    if args.json:
        print(json.dumps(results))
        return
    for name, r in results.items():
        ratio = f"  (baseline/ours = {r['baseline_ratio']:.3g})" if r["baseline_ratio"] else ""
        print(f"{name:28} {r['value']:12.4g} {r['unit']}{ratio}")


if __name__ == "__main__":
    main()
