"""The 90 % C.L. region in (eps_ee_uV, eps_ee_dV) from NaI + cryogenic CsI (Asimov data),
as in Fig. 6 of arXiv:2402.16953, written to ``nsi_region.png``.

Run: ``python examples/nsi_region_2d.py [--quick]``.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cevnsfast.build_tables import enable_builds
from cevnsfast.scan.grid import run_scan  # noqa: E402
from cevnsfast.scan.results import region_2d
from cevnsfast.scan.spec import ScanSpec

enable_builds()  # build a missing table on first use (the CLI does the same)


def main(quick: bool = False) -> dict[str, float]:
    n = 41 if quick else 201
    spec = ScanSpec("nai+cryocsi", (f"eps_ee_uV=-0.6:0.6:{n}", f"eps_ee_dV=-0.6:0.6:{n}"))
    ds = run_scan(spec, progress=not quick)
    region = region_2d(ds, cl=0.9)
    print(region.summary())
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for line in region.lines:
        ax.plot(line[:, 0], line[:, 1], color="C0")
    ax.set_xlabel(r"$\varepsilon_{ee}^{uV}$")
    ax.set_ylabel(r"$\varepsilon_{ee}^{dV}$")
    ax.set_title("NaI + Cryo-CsI, 90 % C.L.")
    fig.savefig("nsi_region.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return {"n_lines": float(len(region.lines))}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
