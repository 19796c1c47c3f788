"""CsI 2021 real-data likelihood: published numbers, iminuit agreement, table vs direct
integration with nuisances, and the degenerate minima of flavour-diagonal couplings."""

import numpy as np
import pytest
from iminuit import Minuit

from cevnsfast.detectors import Detector
from cevnsfast.profile_kernels import poisson_chi2
from cevnsfast.reference.direct import direct_counts


@pytest.fixture(scope="module")
def csi(tables_dir):
    from cevnsfast.likelihood.csi2021 import CsI2021

    couplings = ["eps_ee_uV", "eps_mumu_dV", "eps_emu_uS", "eps_etau_dT"]
    return CsI2021(couplings, tables_dir=tables_dir)


def test_sm_prediction_and_fit_against_coherent(csi):
    """COHERENT (arXiv:2110.07730): SM prediction 341 ± 11 (th) ± 42 (exp) events, fit 306 ± 20.

    Tolerance: ±5 % of 341 for the prediction (issue 10's target: 324–358), inside the
    published 1σ √(11² + 42²) = 43; 20 (the published 1σ) for the fit. Our nominal prediction
    is 332.3 with COHERENT's radiative couplings and form-factor radius (docs/normalisation.md:
    every factor toggled, with its source; 323.2 at tree level would miss the target); the
    fitted count is a stricter check, fixed by the data.
    """
    result = csi.fit()
    assert result.converged
    assert abs(result.counts["cevns_nominal"] - 341.0) <= 0.05 * 341.0
    assert abs(result.counts["cevns"] - 306.0) < 20.0
    assert result.ndof == 97
    assert 60 < result.chi2_min < 140  # a sane goodness of fit for 97 dof


def _iminuit_profile(csi, values):
    p = csi.predictor
    x = p.x_vector(values)
    sig0 = p.counts(values)
    grids = p.signal_grids(x)
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
    m = Minuit(lambda par: poisson_chi2(np.asarray(par), *args), csi.x0.copy())
    m.errordef = Minuit.LEAST_SQUARES
    m.strategy = 2
    m.tol = 1e-6
    m.limits = [(-1, None)] * 4 + [(None, None)] * 3
    m.migrad()
    return m.fval


def test_in_kernel_profiling_agrees_with_iminuit(csi):
    rng = np.random.default_rng(11)
    for _ in range(20):
        values = dict(zip(csi.coupling_names, rng.uniform(-0.15, 0.15, 4), strict=True))
        ours = csi.chi2(values)
        assert ours <= _iminuit_profile(csi, values) + 1e-4


def test_batch_equals_single_points(csi):
    rng = np.random.default_rng(5)
    points = rng.uniform(-0.1, 0.1, (8, 4))
    singles = [csi.chi2(p) for p in points]
    np.testing.assert_allclose(csi.chi2_batch(points), singles, rtol=1e-10, atol=1e-8)


MORPHING_ABS_EVENTS = 0.3
MORPHING_REL = 0.025
"""Interpolation tolerance of the shape-nuisance morphing, per (PE, time) bin:
|table − direct| ≤ 0.3 events + 2.5 %. Each nuisance is tabulated alone (a single axis
interpolates to < 0.15 %) and the axes combine multiplicatively; what remains is genuine
non-separability — radius × efficiency near the efficiency cut-off in the 0–8 PE bin (0.27
events of 1.9) and the prompt/delayed mixture at the prompt peak (≤ 2.3 % with |α4| ≤ 10 %,
|α6| ≤ 2, |α7| ≤ 0.2 µs, couplings up to 0.3). Against Poisson errors of these bins (≥ 20 %
and ≥ 5 %) this is a small fraction of σ."""


def test_table_with_nuisances_matches_direct_integration(csi):
    rng = np.random.default_rng(2024)
    base = Detector.load("csi2021")
    for _ in range(6):
        values = dict(zip(csi.coupling_names, rng.uniform(-0.3, 0.3, 4), strict=True))
        nuis = {
            "radius_scale": 1 + rng.uniform(-0.1, 0.1),
            "efficiency_sigma": rng.uniform(-2, 2),
            "time_shift_us": rng.uniform(-0.2, 0.2),
        }
        table = csi.predictor.counts(values, nuis)
        direct = direct_counts(
            Detector(base.spec, efficiency_sigma=nuis["efficiency_sigma"]),
            values,
            radius_scale=nuis["radius_scale"],
            time_shift_us=nuis["time_shift_us"],
        )
        assert np.all(np.abs(table - direct) <= MORPHING_ABS_EVENTS + MORPHING_REL * direct)


def test_table_at_nominal_nuisances_equals_direct(csi):
    rng = np.random.default_rng(8)
    base = Detector.load("csi2021")
    for _ in range(5):
        values = dict(zip(csi.coupling_names, rng.uniform(-0.4, 0.4, 4), strict=True))
        np.testing.assert_allclose(
            csi.predictor.counts(values), direct_counts(base, values), rtol=1e-6, atol=1e-12
        )


def test_flavour_diagonal_profile_has_two_degenerate_minima():
    """First minimum slightly positive (data below the SM), second at ε₂ − ε₁ (Eq. 22)."""
    from cevnsfast.likelihood.csi2021 import CsI2021
    from cevnsfast.nuclei import isotope
    from cevnsfast.physics.cross_sections import nucleus_coefficient, weak_charge_sm

    exp = CsI2021(["eps_ee_uV"])
    grid = np.linspace(-0.1, 0.6, 701)
    chi2 = exp.chi2_batch(grid[:, None])
    left, right = grid < 0.2, grid >= 0.2
    first = grid[left][np.argmin(chi2[left])]
    second = grid[right][np.argmin(chi2[right])]
    physics = exp.predictor.table.attrs["physics"]  # radiative couplings (csi2021 spec)
    q_v = {
        n: weak_charge_sm(isotope(n), physics["sin2_theta_w"], physics["weak_charge"])
        for n in ("I127", "Cs133")
    }
    eps2 = [-2 * q_v[n] / nucleus_coefficient("V", "u", isotope(n)) for n in q_v]
    assert 0.0 < first < 0.1
    assert min(eps2) - 0.01 < first + second < max(eps2) + 0.01
    assert abs(chi2[left].min() - chi2[right].min()) < 0.5  # nearly degenerate
    assert chi2[np.argmin(np.abs(grid - 0.2))] - chi2.min() > 3  # separated by a barrier


def test_single_points_reuse_work_arrays_per_thread(csi):
    """chi2/profile reuse one set of work arrays per thread: every result equals a fresh
    kernel call, a returned parameter vector is not overwritten by the next call, and
    threads profiling at once do not share arrays."""
    from concurrent.futures import ThreadPoolExecutor

    from cevnsfast.profile_kernels import profile_quadratic

    points = [np.array([v, -0.5 * v, 0.1, 0.2 * v]) for v in np.linspace(-0.3, 0.3, 41)]
    tables, data, root_scale = csi._kernel_arguments()

    def fresh(point):
        return profile_quadratic(*tables, root_scale * csi.predictor.x_vector(point), *data)

    first = csi.profile(points[0])
    kept = first[1].copy()
    for p in points[1:4]:
        chi2, params, _ = csi.profile(p)
        assert chi2 == fresh(p)[0]
        np.testing.assert_array_equal(params, csi.physical_params(fresh(p)[1]))
    np.testing.assert_array_equal(first[1], kept)
    serial = [fresh(p)[0] for p in points]
    with ThreadPoolExecutor(2) as pool:  # the kernel releases the GIL: the calls overlap
        for _ in range(5):
            assert list(pool.map(csi.chi2, points)) == serial
