"""Expected CEvNS counts in the future NaI detector: SM and one vector-NSI point.

Run: ``python examples/rates_of_a_detector.py``. Tables are built on first use.
"""

import numpy as np

from cevnsfast.build_tables import enable_builds
from cevnsfast.rates import RatePredictor

enable_builds()  # build a missing table on first use (the CLI does the same)


def main() -> dict[str, float]:
    nai = RatePredictor("nai", couplings=["eps_ee_uV", "eps_ee_dV"])
    sm = nai.counts({})
    nsi = nai.counts({"eps_ee_uV": 0.1})
    print(f"NaI, {len(sm)} bins in {nai.unit} from {nai.bin_edges[0]:g} to {nai.bin_edges[-1]:g}")
    print(f"SM total            {sm.sum():9.1f} events")
    print(f"eps_ee_uV = 0.1     {nsi.sum():9.1f} events ({nsi.sum() / sm.sum() - 1:+.1%})")
    many = nai.counts_batch(np.array([[0.1, 0.0], [0.3, -0.2], [-0.1, 0.05]]))
    print("three points at once:", np.round(many.sum(axis=1), 1))
    return {"sm_total": float(sm.sum()), "nsi_total": float(nsi.sum())}


if __name__ == "__main__":
    main()
