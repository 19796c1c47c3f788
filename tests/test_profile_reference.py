"""The in-kernel profile of the CsI 2021 χ² (α0…α7; arXiv:2402.16953 Eqs. 17–18) against an
independent multi-start minimum of the same χ², near and far from the Standard Model.

Reference: iminuit Migrad (strategy 2, numerical gradient, α ≥ −1 limits) on the χ² alone
(``poisson_chi2``, itself checked against numpy in test_independent.py), started from the
nominal point and from each shape nuisance at either end of its grid — the starts the kernel's
robust check uses, so a second minimum it could miss is looked for — and the lowest minimum
kept. The kernel's speed-ups (last step on χ² alone, stall exit, warm starts) must not move its
minimum: it may not be above the reference by more than 1e-7 (Migrad's own convergence is
EDM < 2·10⁻⁹ at tol = 10⁻⁶) nor below it by more than 1e-4 (Migrad stopping early).
"""

import numpy as np
import pytest
from iminuit import Minuit

from cevnsfast.profile_kernels import poisson_chi2

COUPLINGS = ["eps_ee_uV", "eps_ee_dV"]


@pytest.fixture(scope="module")
def csi(tables_dir):
    from cevnsfast.likelihood.csi2021 import CsI2021

    return CsI2021(COUPLINGS, tables_dir=tables_dir)


def _reference_minimum(csi, point: np.ndarray) -> float:
    sig0, grids, grid_values = csi.signal_inputs(point)
    args = (csi.observed, sig0, grids, grid_values, csi.backgrounds, csi.sigma_norm,
            csi.sigma_shape, csi.shape_center)  # fmt: skip
    n_norm = csi.sigma_norm.size
    starts = [csi.x0.copy()]
    for k, size in enumerate(csi.predictor.grid_sizes):
        for end in (grid_values[k, 0], grid_values[k, size - 1]):
            start = csi.x0.copy()
            start[n_norm + k] = end
            starts.append(start)
    best = np.inf
    for start in starts:
        m = Minuit(lambda par: poisson_chi2(np.asarray(par), *args), start)
        m.errordef = Minuit.LEAST_SQUARES
        m.strategy = 2
        m.tol = 1e-6
        m.limits = [(-1, None)] * n_norm + [(None, None)] * (start.size - n_norm)
        m.migrad()
        best = min(best, m.fval)
    return best


def test_profile_equals_multistart_reference(csi):
    rng = np.random.default_rng(2026)
    near = rng.uniform(-0.3, 0.3, (5, 2))  # around the SM and the allowed region
    far = rng.uniform(-1.5, 1.5, (5, 2))  # far from it: large signal, nuisances pulled
    checked = 0
    for point in np.concatenate([near, far, [[0.0, 0.0]]]):
        ours, _, ok = csi.profile(point)
        if not ok:  # an unverified minimum (e.g. off the tabulated nuisance range) is flagged
            continue
        reference = _reference_minimum(csi, point)
        assert ours <= reference + 1e-7, (point, ours, reference)
        assert ours >= reference - 1e-4, (point, ours, reference)
        checked += 1
    assert checked >= 9  # the near points and most far ones are verified minima
