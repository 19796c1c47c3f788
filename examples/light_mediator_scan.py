"""Profiled chi2 of CsI 2021 over a light universal vector mediator's (mass, coupling) plane.

Run: ``python examples/light_mediator_scan.py [--quick]``.
"""

import sys

import numpy as np

from cevnsfast.build_tables import enable_builds
from cevnsfast.likelihood.models import model_experiment, scan

enable_builds()  # build a missing table on first use (the CLI does the same)


def main(quick: bool = False) -> dict[str, float]:
    n = 12 if quick else 61
    exp = model_experiment("csi2021", "light_vector_universal")
    masses_mev = np.geomspace(1.0, 1000.0, n)
    couplings = np.geomspace(1e-5, 1e-3, n)
    chi2 = scan(exp, [masses_mev, couplings])
    sm = float(exp.chi2_batch(np.array([[masses_mev[0], 0.0]]))[0])
    excluded = (chi2 - sm) > 4.605  # 90 % C.L., 2 dof, against the SM
    print(f"chi2 at the SM {sm:.2f}; {excluded.mean():.0%} of the grid excluded at 90 % C.L.")
    for m, row in zip(masses_mev[:: max(1, n // 6)], excluded[:: max(1, n // 6)], strict=True):
        bound = couplings[row.argmax()] if row.any() else float("nan")
        print(f"  m = {m:8.2f} MeV: excluded from g = {bound:.2e}")
    return {"chi2_sm": sm, "excluded_fraction": float(excluded.mean())}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
