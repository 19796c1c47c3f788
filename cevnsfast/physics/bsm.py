"""Exact (slow) cross sections of the new-physics models and their direct-integration twin.

Each ``dsigma_*`` function writes the full differential cross section dσ/dT (cm² MeV⁻¹) of
one model in its *physical* parameters (a mass and a coupling, a neutron radius, …),
independently of the kernel decomposition the tables use (``cevnsfast.models``);
``reference.models.direct_counts`` integrates any of them over the SNS flux and a detector's
response. The tests compare the two paths (docs/models.md). Terms of order T/E are dropped as in
arXiv:2402.16953 Eq. (6). Energies in MeV, T the nuclear recoil energy, q² = 2MT.

Sources: SM, NSI, GNI — arXiv:2402.16953 and ``physics.cross_sections``; the talk's scenarios
(the talk; docs/models.md) after De Romeri et al., JHEP 04 (2023) 035 (arXiv:2211.11905);
magnetic moment — Vogel & Engel, PRD 39 (1989) 3378; S₁ leptoquark — arXiv:2307.13790;
dipole portal (transition moment to a sterile ν₄) — Brdar, Greljo, Kopp & Opferkuch,
arXiv:2007.15563, and Miranda et al., arXiv:2109.09545.

The SM weak charge is ``cross_sections.weak_charge_sm`` (couplings of
``nucleon_vector_couplings``) in the spec's ``physics.weak_charge`` mode, passed as
``weak_charge`` ("tree" or "radiative"), the same function the tables use.
"""

from collections.abc import Callable

import numpy as np

from cevnsfast.constants import (
    ALPHA_EM,
    G_F_MEV2,
    HBARC_MEV_CM,
    HBARC_MEV_FM,
    M_E_MEV,
    SIN2_THETA_W_DEFAULT,
)
from cevnsfast.nuclei import Isotope
from cevnsfast.physics.cross_sections import (
    e_min_mev,
    nucleon_vector_couplings,
    nucleus_coefficient,
    t_max_mev,
    weak_charge_sm,
)
from cevnsfast.physics.flux import FluxComponent
from cevnsfast.physics.form_factors import KN_AK_FM, KN_R0_FM, form_factor

DSigma = Callable[[np.ndarray, np.ndarray, Isotope, FluxComponent], np.ndarray]
"""dσ/dT(E, T, nucleus, flux component) in cm² MeV⁻¹, zero outside the kinematic region."""

OSC_PHASE_PER_EV2_M_PER_MEV = 1e9 / (4.0 * HBARC_MEV_FM * 1e6)
"""Δm² L/(4E) in natural units for Δm² in eV², L in m, E in MeV: 1.26693 (ħc from CODATA)."""


# ---- common pieces --------------------------------------------------------------------------


def _weak_prefactor(t_mev, nucleus: Isotope) -> np.ndarray:
    """G_F² M/π in cm² MeV⁻¹ (no form factor)."""
    return G_F_MEV2**2 * nucleus.mass_mev / np.pi * HBARC_MEV_CM**2 * np.ones_like(t_mev)


def _em_prefactor() -> float:
    """π α²/m_e² in cm² MeV (per unit (μ/μ_B)²; times 1/T − 1/E gives cm² MeV⁻¹)."""
    return np.pi * ALPHA_EM**2 / M_E_MEV**2 * HBARC_MEV_CM**2


def _q2(t_mev, nucleus: Isotope) -> np.ndarray:
    return 2.0 * nucleus.mass_mev * np.asarray(t_mev, dtype=float)


def _ff(
    t_mev, nucleus: Isotope, form_factor_name: str, radius_scale: float, params=None
) -> np.ndarray:
    """F(q) of the spec's form factor (``physics.form_factor``, ``form_factor_params``)."""
    q = np.sqrt(_q2(t_mev, nucleus))
    return form_factor(form_factor_name, q, nucleus.a, radius_scale, **(params or {}))


def _inside(e, t, nucleus: Isotope) -> np.ndarray:
    return np.asarray(t) <= t_max_mev(e, nucleus.mass_mev)


def _vector(e, t, nucleus, charge_sq) -> np.ndarray:
    """(G_F² M/π) · charge² · (1 − MT/2E²) inside the kinematic region (charge incl. F)."""
    e = np.asarray(e, dtype=float)
    t = np.asarray(t, dtype=float)
    shape = 1.0 - nucleus.mass_mev * t / (2.0 * e**2)
    return np.where(_inside(e, t, nucleus), _weak_prefactor(t, nucleus) * charge_sq * shape, 0.0)


def dsigma_sm(
    e,
    t,
    nucleus: Isotope,
    component: FluxComponent,
    sin2_theta_w: float = SIN2_THETA_W_DEFAULT,
    form_factor_name: str = "klein_nystrand",
    radius_scale: float = 1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """Standard-Model CEvNS (arXiv:2402.16953 Eq. 1)."""
    f = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params)
    q_w = weak_charge_sm(nucleus, sin2_theta_w, weak_charge)
    return _vector(e, t, nucleus, (q_w * f) ** 2)


# ---- weak mixing angle and neutron radius --------------------------------------------------


def dsigma_weak_mixing(
    e, t, nucleus, component, delta_sin2: float, sin2_theta_w=SIN2_THETA_W_DEFAULT, **kw
) -> np.ndarray:
    """SM cross section at sin²θ_W + δ (Q_V of ``weak_charge_sm``, in either ``weak_charge``
    mode; arXiv:2211.11905 §3)."""
    return dsigma_sm(e, t, nucleus, component, sin2_theta_w + delta_sin2, **kw)


def kn_form_factor_from_rms(q_mev, rms_fm: float, ak_fm: float = KN_AK_FM) -> np.ndarray:
    """Klein–Nystrand form factor whose density has rms radius ``rms_fm``.

    Hard sphere R_A ⊗ Yukawa a_k: ⟨r²⟩ = 3/5 R_A² + 6 a_k², so R_A = √(5/3 (r² − 6 a_k²)).
    """
    r_a = np.sqrt(5.0 / 3.0 * (rms_fm**2 - 6.0 * ak_fm**2))
    x = np.asarray(q_mev, dtype=float) / HBARC_MEV_FM * r_a
    small = x < 1e-3
    xs = np.where(small, 1.0, x)
    sphere = np.where(small, 1.0 - x**2 / 10.0, 3.0 * (np.sin(xs) - xs * np.cos(xs)) / xs**3)
    return sphere / (1.0 + (np.asarray(q_mev) / HBARC_MEV_FM * ak_fm) ** 2)


def helm_form_factor_from_rms(q_mev, rms_fm: float, skin_fm: float = 0.9) -> np.ndarray:
    """Helm form factor with rms radius ``rms_fm``: ⟨r²⟩ = 3/5 R₀² + 3 s²."""
    r0 = np.sqrt(5.0 / 3.0 * (rms_fm**2 - 3.0 * skin_fm**2))
    x = np.asarray(q_mev, dtype=float) / HBARC_MEV_FM * r0
    small = x < 1e-3
    xs = np.where(small, 1.0, x)
    sphere = np.where(small, 1.0 - x**2 / 10.0, 3.0 * (np.sin(xs) - xs * np.cos(xs)) / xs**3)
    return sphere * np.exp(-((np.asarray(q_mev) / HBARC_MEV_FM * skin_fm) ** 2) / 2.0)


def default_rms_radius_fm(nucleus: Isotope, form_factor_name: str, params=None) -> float:
    """rms radius of the spec's form factor at radius_scale = 1 (KN: R_A = r0 A^{1/3}; Helm)."""
    params = params or {}
    if form_factor_name == "klein_nystrand":
        r_a = params.get("r0_fm", KN_R0_FM) * nucleus.a ** (1.0 / 3.0)
        return float(np.sqrt(0.6 * r_a**2 + 6.0 * params.get("ak_fm", KN_AK_FM) ** 2))
    if form_factor_name == "helm":
        s = params.get("skin_fm", 0.9)
        c = 1.23 * nucleus.a ** (1.0 / 3.0) - 0.6
        r0_sq = c**2 + 7.0 / 3.0 * np.pi**2 * 0.52**2 - 5.0 * s**2
        return float(np.sqrt(0.6 * r0_sq + 3.0 * s**2))
    raise ValueError(
        f"the neutron radius needs a finite-size form factor, not {form_factor_name!r}"
    )


def dsigma_neutron_radius(
    e,
    t,
    nucleus,
    component,
    r_n_fm: float,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """Separate proton and neutron form factors (Cadeddu et al., PRL 120 (2018) 072501):
    Q = g_V^p Z F_p(q) + g_V^n N F_n(q; R_n). F_p is the spec's form factor (rms R_p); F_n the
    same family with rms radius R_n. ``radius_scale`` (the CsI α4 nuisance) scales both box
    radii (R_A or R₀), the surface widths kept."""
    params = form_factor_params or {}
    q = np.sqrt(_q2(t, nucleus))
    r_p = default_rms_radius_fm(nucleus, form_factor_name, params)
    if form_factor_name == "klein_nystrand":
        ak = params.get("ak_fm", KN_AK_FM)
        f_p = kn_form_factor_from_rms(q, _scaled_rms(r_p, radius_scale, 6.0 * ak**2), ak)
        f_n = kn_form_factor_from_rms(q, _scaled_rms(r_n_fm, radius_scale, 6.0 * ak**2), ak)
    else:
        sk = params.get("skin_fm", 0.9)
        f_p = helm_form_factor_from_rms(q, _scaled_rms(r_p, radius_scale, 3.0 * sk**2), sk)
        f_n = helm_form_factor_from_rms(q, _scaled_rms(r_n_fm, radius_scale, 3.0 * sk**2), sk)
    g_p, g_n = nucleon_vector_couplings(sin2_theta_w, weak_charge)
    charge = g_p * nucleus.z * f_p + g_n * nucleus.n * f_n
    return _vector(e, t, nucleus, charge**2)


def _scaled_rms(rms_fm: float, radius_scale: float, fixed_sq_fm2: float) -> float:
    """rms radius after scaling the box radius (R_A or R₀) by ``radius_scale``, the width kept."""
    return float(np.sqrt(radius_scale**2 * (rms_fm**2 - fixed_sq_fm2) + fixed_sq_fm2))


# ---- electromagnetic properties -----------------------------------------------------------


def dsigma_magnetic_moment(
    e,
    t,
    nucleus,
    component,
    mu_e_1e10: float,
    mu_mu_1e10: float,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """SM + (π α²/m_e²)(1/T − 1/E) Z² F² |μ_ν/μ_B|² (talk; Vogel & Engel 1989), no
    interference (helicity flip). μ in units of 10⁻¹⁰ μ_B, by incoming flavour (ν̄_μ: μ_μ)."""
    mu = (mu_e_1e10 if component.flavour == "e" else mu_mu_1e10) * 1e-10
    e = np.asarray(e, dtype=float)
    t = np.asarray(t, dtype=float)
    f = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params)
    mm = _em_prefactor() * (1.0 / t - 1.0 / e) * nucleus.z**2 * f**2 * mu**2
    sm = dsigma_sm(
        e,
        t,
        nucleus,
        component,
        sin2_theta_w,
        form_factor_name,
        radius_scale,
        form_factor_params,
        weak_charge,
    )
    return sm + np.where(_inside(e, t, nucleus), mm, 0.0)


CHARGE_RADIUS_UNIT_CM2 = 1e-32
MILLICHARGE_UNIT_E = 1e-8


def millicharge_radius_shift(r2_1e32_cm2, q_1e8_e, q2_mev2) -> np.ndarray:
    """Q_ℓℓ = (2√2πα/G_F)(⟨r²⟩/6 − q_ν/|q|²) (dimensionless; ⟨r²⟩ in 10⁻³² cm², q_ν in
    10⁻⁸ e, |q|² in MeV²): the shift of g_V^p of ``dsigma_charge_radius_millicharge``."""
    r2_mev2 = r2_1e32_cm2 * CHARGE_RADIUS_UNIT_CM2 / HBARC_MEV_CM**2
    charge = q_1e8_e * MILLICHARGE_UNIT_E
    return 2.0 * np.sqrt(2.0) * np.pi * ALPHA_EM / G_F_MEV2 * (r2_mev2 / 6.0 - charge / q2_mev2)


def dsigma_charge_radius_millicharge(
    e,
    t,
    nucleus,
    component,
    r2_e: float = 0.0,
    r2_mu: float = 0.0,
    q_e: float = 0.0,
    q_mu: float = 0.0,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """g_V^p → g_V^p − Q_ℓℓ with

        Q_ℓℓ = (2√2 π α/G_F) (⟨r²_νℓℓ⟩/6 − q_νℓℓ/|q|²),   |q|² = 2MT

    from the photon exchange e² f_Q(q²)/q² with the neutrino charge form factor
    f_Q(q²) = q_ν + q² ⟨r²⟩/6 (Giunti & Studenikin, RMP 87 (2015) 531: f_Q(0) = q_ν,
    ⟨r²⟩ = 6 df_Q/dq²|₀) at spacelike q² = −|q|²: f_Q/q² = ⟨r²⟩/6 − q_ν/|q|², so the
    millicharge and the charge radius enter with opposite signs (the form used by Cadeddu
    et al., PRD 102 (2020) 015030, arXiv:2005.01645; docs/models.md §3.4). ⟨r²⟩ in
    10⁻³² cm², q in 10⁻⁸ e, by incoming flavour (ν̄_μ as ν_μ)."""
    r2, q_nu = (r2_e, q_e) if component.flavour == "e" else (r2_mu, q_mu)
    shift = millicharge_radius_shift(r2, q_nu, _q2(t, nucleus))
    f = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params)
    charge = (weak_charge_sm(nucleus, sin2_theta_w, weak_charge) - shift * nucleus.z) * f
    return _vector(e, t, nucleus, charge**2)


# ---- generalised interactions and light mediators ------------------------------------------


def quark_sum_coefficient(structure: str, nucleus: Isotope) -> float:
    """Σ_q over u and d of the nuclear coefficient (equal couplings to u and d quarks)."""
    return nucleus_coefficient(structure, "u", nucleus) + nucleus_coefficient(
        structure, "d", nucleus
    )


def dsigma_gni(
    e,
    t,
    nucleus,
    component,
    c_v: float = 0.0,
    c_s: float = 0.0,
    c_t: float = 0.0,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """Flavour-universal, flavour-diagonal GNI with equal u and d couplings (C_X^u = C_X^d):

        dσ/dT = (G_F² M/π) F² [ (Q_V + C_V Σ_V)² (1 − MT/2E²) + ½ (C_S Σ_S)² MT/E²
                                + 8 (C_T Σ_T)² (1 − MT/4E²) ]

    Σ_X the nucleon-level charges of ``nucleus_coefficient`` summed over u, d (Lagrangian and
    κ_S = ½, κ_T = 8 of ``physics.gni_normalisation``; Lindner et al. arXiv:1612.04150)."""
    e = np.asarray(e, dtype=float)
    t = np.asarray(t, dtype=float)
    m = nucleus.mass_mev
    f2 = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params) ** 2
    q_w = weak_charge_sm(nucleus, sin2_theta_w, weak_charge)
    cv = q_w + c_v * quark_sum_coefficient("V", nucleus)
    cs = c_s * quark_sum_coefficient("S", nucleus)
    ct = c_t * quark_sum_coefficient("T", nucleus)
    body = cv**2 * (1 - m * t / (2 * e**2)) + 0.5 * cs**2 * m * t / e**2
    body = body + 8.0 * ct**2 * (1 - m * t / (4 * e**2))
    return np.where(_inside(e, t, nucleus), _weak_prefactor(t, nucleus) * f2 * body, 0.0)


VECTOR_CHARGES = {"universal": 3.0, "b_minus_l": -1.0}
"""Q'/A of a light vector coupled with g to every quark and to ν (universal: g_u = g_d = g,
Q' = 3(Z+N)) or with the B−L charges (g_q = g/3, g_ν = −g: Q' = −(Z+N)) (arXiv:2211.11905)."""


def dsigma_light_vector(
    e,
    t,
    nucleus,
    component,
    mass_mev: float,
    g: float,
    charges: str = "universal",
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """Q_V → Q_V + g² Q'/(√2 G_F (q² + m²)) (light Z', t-channel; arXiv:2211.11905 §6)."""
    q_prime = VECTOR_CHARGES[charges] * nucleus.a
    f = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params)
    q_w = weak_charge_sm(nucleus, sin2_theta_w, weak_charge)
    charge = q_w + g**2 * q_prime / (np.sqrt(2.0) * G_F_MEV2 * (_q2(t, nucleus) + mass_mev**2))
    return _vector(e, t, nucleus, (charge * f) ** 2)


LIGHT_SCALAR_NUCLEON_CHARGES = {"cerdeno2016": (15.1, 14.0), "quark_ud": None}
"""Nucleon charges (q_p, q_n) of a scalar coupled with g to quarks, Q_φ = Z q_p + N q_n:
``cerdeno2016`` — Q_φ = 15.1 Z + 14 N of Cerdeño et al., JHEP 05 (2016) 118, the set of the
talk's light-scalar fits (arXiv:2211.11905 §6); ``quark_ud`` — the engine's u + d sum
Σ_q (Z m_p/m_q f^p_Tq + N m_n/m_q f^n_Tq) with f_Tq of Hoferichter et al. 2015 and PDG 2022
masses (≈ 17.3 per nucleon), the heavy-mediator limit of the engine's scalar NSI."""


def light_scalar_charge(nucleus: Isotope, nucleon_charges: str = "cerdeno2016") -> float:
    """Q_φ of ``nucleus`` with the named set of ``LIGHT_SCALAR_NUCLEON_CHARGES``."""
    if nucleon_charges not in LIGHT_SCALAR_NUCLEON_CHARGES:
        raise ValueError(
            f"light scalar nucleon_charges {nucleon_charges!r}; "
            f"choose one of {', '.join(LIGHT_SCALAR_NUCLEON_CHARGES)}"
        )
    charges = LIGHT_SCALAR_NUCLEON_CHARGES[nucleon_charges]
    if charges is None:
        return quark_sum_coefficient("S", nucleus)
    return charges[0] * nucleus.z + charges[1] * nucleus.n


def dsigma_light_scalar(
    e,
    t,
    nucleus,
    component,
    mass_mev: float,
    g: float,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
    nucleon_charges: str = "cerdeno2016",
) -> np.ndarray:
    """SM + g⁴ Q_φ² M² T F²/(4π E² (q² + m²)²) (Cerdeño et al. JHEP 05 (2016) 118; no
    interference), Q_φ of ``light_scalar_charge`` (default 15.1 Z + 14 N), g_ν = g_q = g."""
    e = np.asarray(e, dtype=float)
    t = np.asarray(t, dtype=float)
    m = nucleus.mass_mev
    q_phi = light_scalar_charge(nucleus, nucleon_charges)
    f2 = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params) ** 2
    prop = 1.0 / (_q2(t, nucleus) + mass_mev**2)
    scalar = g**4 * q_phi**2 * m**2 * t * f2 * prop**2 / (4.0 * np.pi * e**2) * HBARC_MEV_CM**2
    sm = dsigma_sm(
        e,
        t,
        nucleus,
        component,
        sin2_theta_w,
        form_factor_name,
        radius_scale,
        form_factor_params,
        weak_charge,
    )
    return sm + np.where(_inside(e, t, nucleus), scalar, 0.0)


def dsigma_light_tensor(
    e,
    t,
    nucleus,
    component,
    mass_mev: float,
    g: float,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """SM + (4 M/π) g⁴ Q_T² F² (1 − MT/4E²)/(q² + m²)²: the nuclear tensor operator
    −g_T (ν̄σ^{μν}P_Lν)(N̄σ_{μν}N) with g_T = g² Q_T/(q² + m²), Q_T = Σ_q (Z δ^p_q + N δ^n_q)
    (cross section of ``physics.gni_normalisation``; no interference with the SM)."""
    e = np.asarray(e, dtype=float)
    t = np.asarray(t, dtype=float)
    m = nucleus.mass_mev
    q_t = quark_sum_coefficient("T", nucleus)
    f2 = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params) ** 2
    g_t = g**2 * q_t / (_q2(t, nucleus) + mass_mev**2)
    tensor = 4.0 * m / np.pi * g_t**2 * f2 * (1 - m * t / (4 * e**2)) * HBARC_MEV_CM**2
    sm = dsigma_sm(
        e,
        t,
        nucleus,
        component,
        sin2_theta_w,
        form_factor_name,
        radius_scale,
        form_factor_params,
        weak_charge,
    )
    return sm + np.where(_inside(e, t, nucleus), tensor, 0.0)


LEPTOQUARK_FLAVOURS = ("e", "mu")
"""λ_1j = (g, g, 0): the S₁ couples first-generation quarks to L_e and L_μ (talk)."""


def leptoquark_charge(t_mev, nucleus: Isotope, mass_mev: float, g: float, f) -> np.ndarray:
    """Q_{ij,S₁} = g² (Z F_Z + 2N F_N)/(4√2 G_F (q² + m²)) (talk; arXiv:2307.13790), F_Z = F_N."""
    return (
        g**2
        * (nucleus.z + 2 * nucleus.n)
        * f
        / (4.0 * np.sqrt(2.0) * G_F_MEV2 * (_q2(t_mev, nucleus) + mass_mev**2))
    )


def dsigma_leptoquark(
    e,
    t,
    nucleus,
    component,
    mass_mev: float,
    g: float,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """Q_V² → (Q_V + Q_ii,LQ)² + Σ_{j≠i} Q_ij,LQ² (talk; arXiv:2307.13790), i, j ∈ {e, μ}."""
    f = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params)
    q_w = weak_charge_sm(nucleus, sin2_theta_w, weak_charge) * f
    q_lq = leptoquark_charge(t, nucleus, mass_mev, g, f)
    total = (q_w + q_lq) ** 2
    if component.flavour in LEPTOQUARK_FLAVOURS:
        total = total + q_lq**2  # ν_e → ν_μ or ν_μ → ν_e
    else:
        total = q_w**2
    return _vector(e, t, nucleus, total)


def leptoquark_sm_band_g2(
    t_mev,
    nucleus: Isotope,
    mass_mev: float,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    f=1.0,
    weak_charge="tree",
) -> np.ndarray:
    """The talk's SM-mimicking band: g² = 4√2 G_F (g_V^p Z F_Z + g_V^n N F_N)(2 m_N E_nr + m²)
    /(C1 Z + C2 N) where (Q_V + Q_LQ)² + Q_LQ² = Q_V²; in this engine's signs (Q_V < 0,
    Q_LQ > 0 for g² > 0) C1 = −F_Z, C2 = −2 F_N (F the form factors, F_Z = F_N = f, which then
    cancel; the band is where Q_LQ = −Q_V)."""
    q_w = weak_charge_sm(nucleus, sin2_theta_w, weak_charge) * f
    c1, c2 = -f, -2.0 * f
    return (
        4.0
        * np.sqrt(2.0)
        * G_F_MEV2
        * q_w
        * (_q2(t_mev, nucleus) + mass_mev**2)
        / (c1 * nucleus.z + c2 * nucleus.n)
    )


# ---- sterile neutrinos ---------------------------------------------------------------------


def sterile_appearance_probability(
    e_mev, sin2_2theta: float, dm2_ev2: float, distance_m: float
) -> np.ndarray:
    """P(ν_α → ν_s) = sin²2θ_αα sin²(1.267 Δm²[eV²] L[m]/E[MeV]) (3+1, short baseline)."""
    phase = OSC_PHASE_PER_EV2_M_PER_MEV * dm2_ev2 * distance_m / np.asarray(e_mev, dtype=float)
    return sin2_2theta * np.sin(phase) ** 2


def transition_allowed(e_mev, t_mev, nucleus: Isotope, m4_mev: float) -> np.ndarray:
    """ν(E) + N → ν₄ + N(T) is kinematically allowed: E − T ≥ m₄ and |cos θ| ≤ 1 in the lab."""
    e = np.asarray(e_mev, dtype=float)
    t = np.asarray(t_mev, dtype=float)
    e4 = e - t
    p4_sq = e4**2 - m4_mev**2
    p4 = np.sqrt(np.clip(p4_sq, 0.0, None))
    p_rec_sq = 2.0 * nucleus.mass_mev * t + t**2
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = (e**2 + p4_sq - p_rec_sq) / (2.0 * e * p4)
    return (e4 >= m4_mev) & (np.abs(cos) <= 1.0)


def transition_e_min_mev(t_mev, nucleus: Isotope, m4_mev: float) -> np.ndarray:
    """Smallest E with ``transition_allowed`` at recoil T, by bisection (the table path uses
    the closed form; this is the independent check)."""
    t = np.asarray(t_mev, dtype=float)
    lo = e_min_mev(t, nucleus.mass_mev) + m4_mev * 0.0
    hi = np.full_like(t, 1e4)
    p_rec = np.sqrt(2.0 * nucleus.mass_mev * t + t**2)

    def too_low(e):  # |cos θ| ≤ 1 ⇔ E − p₄ ≤ P ≤ E + p₄; E − p₄ falls and E + p₄ rises with E
        p4 = np.sqrt(np.clip((e - t) ** 2 - m4_mev**2, 0.0, None))
        return ((e - t) < m4_mev) | (e - p4 > p_rec) | (e + p4 < p_rec)

    for _ in range(200):
        mid = 0.5 * (lo + hi)
        low = too_low(mid)
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    return hi


def dsigma_transition_magnetic_moment(
    e,
    t,
    nucleus,
    component,
    m4_mev: float,
    mu_e_1e10: float = 0.0,
    mu_mu_1e10: float = 0.0,
    sin2_theta_w=SIN2_THETA_W_DEFAULT,
    form_factor_name="klein_nystrand",
    radius_scale=1.0,
    form_factor_params=None,
    weak_charge: str = "tree",
    include_sm: bool = True,
) -> np.ndarray:
    """SM + ν_α N → ν₄ N through a transition magnetic moment μ_α4 (dipole portal):

        dσ/dT = (π α²/m_e²) |μ/μ_B|² Z² F² [ 1/T − 1/E − m₄²/(2ETM) (1 − T/2E + M/2E)
                                            + m₄⁴ (T − M)/(8E²T²M²) ]

    (Brdar et al. arXiv:2007.15563 Eq. 3; Miranda et al. arXiv:2109.09545), zero outside the
    kinematic region of a massive final state. μ in 10⁻¹⁰ μ_B by incoming flavour.
    The SM and dipole pieces have different energy thresholds: integrate them separately
    (``include_sm=False`` with ``e_min=transition_e_min_mev`` for the dipole)."""
    mu = (mu_e_1e10 if component.flavour == "e" else mu_mu_1e10) * 1e-10
    e = np.asarray(e, dtype=float)
    t = np.asarray(t, dtype=float)
    m = nucleus.mass_mev
    f = _ff(t, nucleus, form_factor_name, radius_scale, form_factor_params)
    m2 = m4_mev**2
    bracket = (
        1.0 / t
        - 1.0 / e
        - m2 / (2.0 * e * t * m) * (1.0 - t / (2.0 * e) + m / (2.0 * e))
        + m2**2 * (t - m) / (8.0 * e**2 * t**2 * m**2)
    )
    dipole = _em_prefactor() * mu**2 * nucleus.z**2 * f**2 * bracket
    dipole = np.where(transition_allowed(e, t, nucleus, m4_mev), dipole, 0.0)
    if not include_sm:
        return dipole
    sm = dsigma_sm(
        e,
        t,
        nucleus,
        component,
        sin2_theta_w,
        form_factor_name,
        radius_scale,
        form_factor_params,
        weak_charge,
    )
    return dipole + sm
