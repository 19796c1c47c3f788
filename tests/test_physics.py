"""Physics checks that can fail: flux normalisation, kinematics, limits and symmetries."""

import numpy as np
import pytest
from scipy.integrate import quad

from cevnsfast.constants import E_MAX_DELAYED_MEV, E_PROMPT_MEV, G_F_MEV2, HBARC_MEV_CM
from cevnsfast.nuclei import isotope
from cevnsfast.physics import flux
from cevnsfast.physics.cross_sections import (
    dsigma_dt_cm2_per_mev,
    e_min_mev,
    nucleus_coefficient,
    t_max_mev,
    weak_charge_sm,
)
from cevnsfast.physics.form_factors import helm, klein_nystrand

CS, I127, NA = isotope("Cs133"), isotope("I127"), isotope("Na23")


@pytest.mark.parametrize("component", ["nue", "numubar"])
def test_delayed_spectra_integrate_to_one(component):
    total, _ = quad(lambda e: flux.delayed_shape_per_mev(component, e), 0, E_MAX_DELAYED_MEV)
    assert total == pytest.approx(1.0, rel=1e-12, abs=0)


@pytest.mark.parametrize("component", ["nue", "numubar"])
@pytest.mark.parametrize("e_min", [0.0, 7.3, 29.0, 52.0])
def test_flux_moments_equal_numerical_integrals(component, e_min):
    g0, g2 = flux.delayed_moments(component, np.array(e_min))
    num0, _ = quad(lambda e: flux.delayed_shape_per_mev(component, e), e_min, E_MAX_DELAYED_MEV)
    num2, _ = quad(
        lambda e: flux.delayed_shape_per_mev(component, e) / e**2, e_min, E_MAX_DELAYED_MEV
    )
    assert g0 == pytest.approx(num0, rel=1e-10, abs=1e-15)
    assert g2 == pytest.approx(num2, rel=1e-10, abs=1e-18)


def test_fluence_and_prompt_energy():
    # η = r N_POT / (4π L²): 0.0848 × 3.198e23 / (4π (1930 cm)²) = 5.788e14 cm⁻²
    assert flux.fluence_per_flavour_cm2(3.198e23, 0.0848, 19.3) == pytest.approx(
        0.0848 * 3.198e23 / (4 * np.pi * 1930.0**2), rel=1e-14, abs=0
    )
    assert E_PROMPT_MEV == pytest.approx(29.79, abs=0.01)
    assert E_MAX_DELAYED_MEV == pytest.approx(52.83, abs=0.01)


@pytest.mark.parametrize("nucleus", [CS, I127, NA])
def test_kinematic_endpoint_and_inverse(nucleus):
    e = np.array([10.0, 29.79, 52.8])
    t = t_max_mev(e, nucleus.mass_mev)
    assert e_min_mev(t, nucleus.mass_mev) == pytest.approx(e, rel=1e-12, abs=0)
    above = dsigma_dt_cm2_per_mev(e, t * (1 + 1e-9), nucleus, "e")
    below = dsigma_dt_cm2_per_mev(e, t * (1 - 1e-9), nucleus, "e")
    assert np.all(above == 0.0) and np.all(below > 0.0)


def test_sm_cross_section_equals_textbook_weak_charge_form():
    """dσ/dT = G_F² M/(4π) Q_W² (1 − MT/2E²) F² with Q_W = N − (1 − 4 sin²θ_W) Z (Freedman)."""
    s2w, e, t = 0.23857, 30.0, 0.01
    q_w = CS.n - (1 - 4 * s2w) * CS.z
    q = np.sqrt(2 * CS.mass_mev * t)
    textbook = (
        G_F_MEV2**2
        * CS.mass_mev
        / (4 * np.pi)
        * q_w**2
        * (1 - CS.mass_mev * t / (2 * e**2))
        * klein_nystrand(q, CS.a) ** 2
        * HBARC_MEV_CM**2
    )
    ours = dsigma_dt_cm2_per_mev(e, t, CS, "mu", sin2_theta_w=s2w)
    np.testing.assert_allclose(ours / textbook, 1.0, rtol=1e-12)
    with_f_not_f2 = textbook / klein_nystrand(q, CS.a)  # the form factor must enter squared
    assert abs(ours / with_f_not_f2 - 1.0) > 1e-3


def test_form_factors_limits():
    for ff in (klein_nystrand, helm):
        assert ff(np.array(0.0), 133) == pytest.approx(1.0)
        q = np.array([10.0, 50.0])
        assert np.all(np.diff(ff(q, 133)) < 0)  # coherence lost with growing q
        assert np.all(ff(q, 133, radius_scale=1.05) < ff(q, 133))  # larger nucleus, faster loss
    # KN and Helm differ by a few per cent where CsI recoils live (q ≈ 30–50 MeV); a
    # larger gap would mean a wrong radius convention in one of them
    q = np.array([30.0, 50.0])
    assert np.allclose(klein_nystrand(q, 133), helm(q, 133), rtol=0.05)


@pytest.mark.parametrize(
    ("nucleus", "expected_u", "expected_d"),
    [(NA, 0.338, 0.329), (CS, 0.402, 0.358), (I127, 0.398, 0.356)],
)
def test_second_minimum_positions_eq22(nucleus, expected_u, expected_d):
    """ε₂ = −2 Q_V/(2Z+N) (u) and −2 Q_V/(Z+2N) (d) reproduce PHYSICS.md's Eq. (22) values."""
    q_v = weak_charge_sm(nucleus)
    assert -2 * q_v / nucleus_coefficient("V", "u", nucleus) == pytest.approx(expected_u, abs=6e-4)
    assert -2 * q_v / nucleus_coefficient("V", "d", nucleus) == pytest.approx(expected_d, abs=6e-4)
    # … and the cross section there equals the SM one (the sign of the charge flips)
    eps = -2 * q_v / nucleus_coefficient("V", "u", nucleus)
    sm = dsigma_dt_cm2_per_mev(30.0, 0.005, nucleus, "e")
    flipped = dsigma_dt_cm2_per_mev(30.0, 0.005, nucleus, "e", {("V", "u", "e", "e"): eps})
    np.testing.assert_allclose(flipped / sm, 1.0, rtol=1e-12)
    halfway = dsigma_dt_cm2_per_mev(30.0, 0.005, nucleus, "e", {("V", "u", "e", "e"): eps / 2})
    assert halfway / sm < 0.01  # ε₂/2 cancels the weak charge: the check above can fail


def test_scalar_degeneracy_slope_near_minus_one():
    """Scalar u/d pairs are degenerate along ε_d = −(C_S^u/C_S^d) ε_u; slope ≈ −1 (paper §V.2)."""
    for nucleus in (CS, I127, NA):
        slope = -nucleus_coefficient("S", "u", nucleus) / nucleus_coefficient("S", "d", nucleus)
        assert -1.15 < slope < -0.85


def test_tensor_antisymmetry_and_scalar_symmetry():
    """ε^T_{μe} = −ε^T_{eμ}, ε^S_{μe} = +ε^S_{eμ}. The u coupling is given under (e, μ) and the
    d coupling under (μ, e), so the relative sign of the two charges decides the result: with
    the symmetry wrong, |C_u ε_u ± C_d ε_d|² differ by far more than the tolerance."""
    e, t = 40.0, 0.004
    for structure, sign in (("S", 1.0), ("T", -1.0)):
        mixed = dsigma_dt_cm2_per_mev(
            e, t, CS, "mu", {(structure, "u", "e", "mu"): 0.3, (structure, "d", "mu", "e"): 0.1}
        )
        one_order = dsigma_dt_cm2_per_mev(
            e,
            t,
            CS,
            "mu",
            {(structure, "u", "mu", "e"): sign * 0.3, (structure, "d", "mu", "e"): 0.1},
        )
        wrong = dsigma_dt_cm2_per_mev(
            e,
            t,
            CS,
            "mu",
            {(structure, "u", "mu", "e"): -sign * 0.3, (structure, "d", "mu", "e"): 0.1},
        )
        sm = dsigma_dt_cm2_per_mev(e, t, CS, "mu")
        np.testing.assert_allclose((mixed - sm) / (one_order - sm), 1.0, rtol=1e-12)
        assert abs((wrong - sm) / (one_order - sm) - 1.0) > 0.1


def test_tau_diagonal_vector_coupling_invisible_at_sns():
    for alpha in ("e", "mu"):
        sm = dsigma_dt_cm2_per_mev(35.0, 0.003, CS, alpha)
        tau = dsigma_dt_cm2_per_mev(35.0, 0.003, CS, alpha, {("V", "u", "tau", "tau"): 0.5})
        assert tau == sm
