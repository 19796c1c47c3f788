"""Independent check of κ_S, κ_T: explicit Dirac traces vs the closed-form cross section.

The numerical side builds the nuclear-level operators of the Lagrangian documented in
``cevnsfast.physics.gni_normalisation`` from 4x4 gamma matrices (tests/dirac_algebra.py),
sums |M|^2 over spins numerically at explicit lab-frame four-momenta, and converts with
dσ/dT = <|M|^2>/(32π M E^2). The analytic side is the closed form with the module's κ's.
Units: natural, with G_F = 1 (it cancels in every ratio); energies in arbitrary units with
E, T, M chosen to cover heavy- and light-target regimes.
"""

import math

import numpy as np
import pytest
from dirac_algebra import (
    GAMMA,
    METRIC,
    P_L,
    P_R,
    SIGMA,
    dsigma_dt_from_msq,
    minkowski,
    msq_spinors,
    msq_traces,
    scalar_channels,
    tensor_channels,
    vector_channels,
)

from cevnsfast.physics import gni_normalisation as gn

G_F = 1.0
PREF = G_F / math.sqrt(2.0)  # L = -(G_F/√2) Σ c_X [ν̄ Γ_X (1-γ5) ν][N̄ Γ_X N]

# (E, T as a fraction of T_max, M): heavy nucleus at SNS-like E, Na-like, and a light target
# where T/E and T/M are not small, so the subleading terms are tested for real.
KINEMATICS = [
    (30.0, 0.3, 123_800.0),
    (50.0, 0.9, 21_400.0),
    (3.0, 0.5, 10.0),
    (2.0, 0.97, 1.0),
    (40.0, 0.05, 931.5),
]


def _t(e, frac, m):
    return frac * 2.0 * e**2 / (m + 2.0 * e)


def nuclear_channels(c_v=0.0, c_s=0.0, c_t=0.0):
    """Operators of L_GNI at nuclear level, with their hermitian conjugates for S and T.

    -(G_F/√2) c [ν̄ Γ (1-γ5) ν] = -(√2 G_F) c [ν̄ Γ P_L ν]; h.c. gives c* with P_R.
    The overall minus sign is dropped (a phase).
    """
    g = 2.0 * PREF  # (1 - γ5) = 2 P_L
    chans = []
    chans += vector_channels(g * c_v, P_L)
    chans += scalar_channels(g * c_s, P_L) + scalar_channels(g * np.conj(c_s), P_R)
    chans += tensor_channels(g * c_t, P_L) + tensor_channels(g * np.conj(c_t), P_R)
    return [ch for ch in chans if ch[0] != 0]


def xsec_numeric(e, t, m, antineutrino=False, **couplings):
    msq = msq_traces(nuclear_channels(**couplings), e, t, m, antineutrino=antineutrino)
    return dsigma_dt_from_msq(msq, e, m)


def xsec_analytic(e, t, m, c_v=0.0, c_s=0.0, c_t=0.0, antineutrino=False):
    shapes = gn.exact_point_like_shapes(e, t, m)
    sign = 1.0 if antineutrino else -1.0
    bracket = (
        abs(c_v) ** 2 * shapes["V"]
        + abs(c_s) ** 2 * shapes["S"]
        + abs(c_t) ** 2 * shapes["T"]
        + sign * (c_s * np.conj(c_t)).real * shapes["ST"]
    )
    return G_F**2 * m / math.pi * float(bracket)


# --- the machinery itself -----------------------------------------------------------------


def test_clifford_algebra_and_chiral_tensor_identity():
    for m in range(4):
        for n in range(4):
            anti = GAMMA[m] @ GAMMA[n] + GAMMA[n] @ GAMMA[m]
            np.testing.assert_allclose(anti, 2 * METRIC[m, n] * np.eye(4), atol=1e-14)
    # σ^{μν}P_L ⊗ σ_{μν}P_R ≡ 0: the "vanishing tensor operator" of the paper's footnote 1.
    # A nontrivial check of σ, γ5 and the index contraction used in tensor_channels.
    total = sum(
        METRIC[m, m] * METRIC[n, n] * np.kron(SIGMA[m][n] @ P_L, SIGMA[m][n] @ P_R)
        for m in range(4)
        for n in range(4)
    )
    np.testing.assert_allclose(total, 0.0, atol=1e-13)
    same = sum(
        METRIC[m, m] * METRIC[n, n] * np.kron(SIGMA[m][n] @ P_L, SIGMA[m][n] @ P_L)
        for m in range(4)
        for n in range(4)
    )
    assert np.abs(same).max() > 1.0


@pytest.mark.parametrize("antineutrino", [False, True])
@pytest.mark.parametrize("e,frac,m", KINEMATICS[:4])
def test_traces_match_explicit_helicity_spinors(e, frac, m, antineutrino):
    t = _t(e, frac, m)
    chans = nuclear_channels(c_v=0.7, c_s=0.3 - 0.2j, c_t=-0.4 + 0.1j)
    a = msq_traces(chans, e, t, m, antineutrino=antineutrino)
    b = msq_spinors(chans, e, t, m, antineutrino=antineutrino)
    assert a == pytest.approx(b, rel=1e-10, abs=0)


def test_lab_kinematics_invariants():
    from dirac_algebra import lab_kinematics

    e, m = 30.0, 123_800.0
    t = _t(e, 0.6, m)
    k, kp, p, pp = lab_kinematics(e, t, m)
    assert minkowski(kp, kp) == pytest.approx(0.0, abs=1e-6 * e**2)
    assert minkowski(pp, pp) == pytest.approx(m**2, rel=1e-12, abs=0)
    assert minkowski(k - kp, k - kp) == pytest.approx(-2 * m * t, rel=1e-9, abs=0)


# --- the normalisation --------------------------------------------------------------------


@pytest.mark.parametrize("e,frac,m", KINEMATICS)
def test_vector_is_freedman_with_sm_weak_charge(e, frac, m):
    """SM quark couplings → Q_V = g_V^p Z + g_V^n N and Freedman's cross section."""
    s2w = 0.23857
    g_v_u = 0.5 - 4.0 / 3.0 * s2w
    g_v_d = -0.5 + 2.0 / 3.0 * s2w
    z, n = 55, 78
    q_v_quarks = z * (2 * g_v_u + g_v_d) + n * (g_v_u + 2 * g_v_d)
    q_v = (0.5 - 2 * s2w) * z - 0.5 * n
    assert q_v_quarks == pytest.approx(q_v, rel=1e-13, abs=0)
    t = _t(e, frac, m)
    numeric = xsec_numeric(e, t, m, c_v=q_v_quarks)
    freedman = G_F**2 * m / math.pi * q_v**2 * (1 - m * t / (2 * e**2) - t / e + t**2 / (2 * e**2))
    assert numeric == pytest.approx(freedman, rel=1e-10, abs=0)


@pytest.mark.parametrize("antineutrino", [False, True])
@pytest.mark.parametrize("e,frac,m", KINEMATICS)
def test_scalar_exact(e, frac, m, antineutrino):
    t = _t(e, frac, m)
    numeric = xsec_numeric(e, t, m, antineutrino=antineutrino, c_s=1.3)
    assert numeric == pytest.approx(xsec_analytic(e, t, m, c_s=1.3), rel=1e-10, abs=0)


@pytest.mark.parametrize("antineutrino", [False, True])
@pytest.mark.parametrize("e,frac,m", KINEMATICS)
def test_tensor_exact(e, frac, m, antineutrino):
    t = _t(e, frac, m)
    numeric = xsec_numeric(e, t, m, antineutrino=antineutrino, c_t=0.6)
    assert numeric == pytest.approx(xsec_analytic(e, t, m, c_t=0.6), rel=1e-10, abs=0)


@pytest.mark.parametrize("antineutrino", [False, True])
@pytest.mark.parametrize("e,frac,m", KINEMATICS)
def test_full_mixture_with_complex_couplings(e, frac, m, antineutrino):
    """V+S+T together: no V–S/V–T interference, S–T interference ∓2Re(C_S C_T*)(T/E − T²/2E²)."""
    t = _t(e, frac, m)
    cpl = dict(c_v=-0.8, c_s=0.5 + 0.4j, c_t=0.3 - 0.7j)
    numeric = xsec_numeric(e, t, m, antineutrino=antineutrino, **cpl)
    analytic = xsec_analytic(e, t, m, antineutrino=antineutrino, **cpl)
    assert numeric == pytest.approx(analytic, rel=1e-10, abs=0)


def test_kappa_values_and_they_can_fail():
    """The comparison is sensitive: other plausible κ's are rejected by the traces."""
    assert gn.KAPPA_SCALAR == 0.5
    assert gn.KAPPA_TENSOR == 8.0
    e, m = 30.0, 123_800.0
    t = _t(e, 0.5, m)
    lead = gn.leading_shapes(e, t, m)
    num_s = xsec_numeric(e, t, m, c_s=1.0) / (G_F**2 * m / math.pi)
    num_t = xsec_numeric(e, t, m, c_t=1.0) / (G_F**2 * m / math.pi)
    assert num_s / (m * t / e**2) == pytest.approx(gn.KAPPA_SCALAR, rel=1e-3, abs=0)
    assert num_t / (1 - m * t / (4 * e**2)) == pytest.approx(gn.KAPPA_TENSOR, rel=1e-3, abs=0)
    for wrong in (1.0, 0.125, 2.0):  # e.g. the P_L-only normalisation gives κ_T = 2
        assert num_t / (1 - m * t / (4 * e**2)) != pytest.approx(wrong, rel=1e-2, abs=0)
    assert num_s == pytest.approx(lead["S"], rel=1e-3, abs=0)
    assert num_t == pytest.approx(lead["T"], rel=1e-3, abs=0)


@pytest.mark.parametrize("e,frac,m", KINEMATICS)
def test_dropped_terms_are_order_t_over_e(e, frac, m):
    """|exact − leading| ≤ κ_X (T/E) per unit |C_X|², for every structure."""
    t = _t(e, frac, m)
    exact = gn.exact_point_like_shapes(e, t, m)
    lead = gn.leading_shapes(e, t, m)
    bound = {
        "V": 1.0,
        "S": gn.KAPPA_SCALAR,
        "T": gn.KAPPA_TENSOR,
        "ST": gn.KAPPA_SCALAR_TENSOR,
    }
    for key in ("V", "S", "T", "ST"):
        assert abs(float(exact[key] - lead[key])) <= bound[key] * t / e * (1 + 1e-12)


def test_dropped_terms_negligible_at_sns():
    """For SNS kinematics the dropped terms are below T_max/E = 2E/(M+2E): < 0.1 % for Cs at
    30 MeV, < 0.5 % for Na at the 52.8 MeV end point (relative to the kept terms)."""
    for m, e in ((123_800.0, 30.0), (21_400.0, 52.8)):
        t = _t(e, 0.5, m)
        exact = gn.exact_point_like_shapes(e, t, m)
        lead = gn.leading_shapes(e, t, m)
        for key in ("V", "S", "T"):
            assert abs(float(exact[key] / lead[key]) - 1) < 2 * e / (m + 2 * e)
