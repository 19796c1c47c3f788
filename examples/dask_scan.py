"""A CsI 2021 scan on a local Dask cluster, written chunk by chunk to a resumable Zarr store.

Needs the ``dask`` extra (``pip install "cevnsfast[dask]"``).
Run: ``python examples/dask_scan.py [--quick]``; run it again to see the resume.
"""

import sys

from cevnsfast.build_tables import enable_builds
from cevnsfast.scan.distributed import run_scan_dask
from cevnsfast.scan.results import best_fit
from cevnsfast.scan.spec import ScanSpec

enable_builds()  # build a missing table on first use (the CLI does the same)


def main(quick: bool = False, out: str = "csi_scan.zarr") -> dict[str, float]:
    n = 21 if quick else 201
    spec = ScanSpec("csi2021", (f"eps_ee_uV=-0.2:0.6:{n}", f"eps_mumu_uV=-0.2:0.6:{n}"))
    ds = run_scan_dask(spec, out, workers=2, resume=True, progress=not quick)
    best = best_fit(ds)
    print(f"best fit: {best}")
    return {"chi2_min": float(ds["chi2"].min())}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
