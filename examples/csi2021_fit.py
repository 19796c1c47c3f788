"""Fit the COHERENT CsI 2021 data (bundled release) in the Standard Model and with one NSI
coupling free, all nuisances profiled.

Run: ``python examples/csi2021_fit.py``.
"""

import numpy as np

from cevnsfast.build_tables import enable_builds
from cevnsfast.likelihood.registry import experiment

enable_builds()  # build a missing table on first use (the CLI does the same)


def main() -> dict[str, float]:
    sm = experiment("csi2021", []).fit({}).as_dict()
    print(f"SM: chi2_min = {sm['chi2_min']:.2f} for {sm['ndof']} dof")
    print(f"    CEvNS events fitted {sm['counts']['cevns']:.1f}")
    csi = experiment("csi2021", ["eps_ee_uV"])
    grid = np.linspace(-0.2, 0.6, 81)
    chi2 = csi.chi2_batch(grid[:, None])
    best = grid[np.argmin(chi2)]
    print(
        f"eps_ee_uV: best fit on the grid {best:+.3f}, delta chi2 at 0 = "
        f"{csi.chi2_batch(np.array([[0.0]]))[0] - chi2.min():.2f}"
    )
    return {"chi2_min": float(sm["chi2_min"]), "best_eps_ee_uV": float(best)}


if __name__ == "__main__":
    main()
