"""Neutrino–electron elastic scattering (ES) with electromagnetic properties, per electron.

    dσ/dT_e = (G_F² m_e/2π) [(g_V + g_A)² + (g_V − g_A)² (1 − T/E)² − (g_V² − g_A²) m_e T/E²]
              + (π α²/m_e²)(1/T − 1/E) |μ_ν/μ_B|²

(Vogel & Engel, PRD 39 (1989) 3378, Eqs. 2–3; Giunti & Studenikin, RMP 87 (2015) 531,
§V.A), with g_V = −½ + 2 sin²θ_W (+1 for ν_e: the charged current), g_A = −½ (+1 for ν_e),
g_A → −g_A for antineutrinos. Charge radius and millicharge shift g_V by the same Q_ℓℓ
that shifts g_V^p of the nucleus, with the opposite sign (electron charge −1):
g_V → g_V + Q_ℓℓ, Q_ℓℓ = (2√2πα/G_F)(⟨r²⟩/6 − q_ν/|q|²), |q|² = 2 m_e T
(``bsm.millicharge_radius_shift``; Kouzakov & Studenikin, PRD 95 (2017) 055013). The
pure-millicharge limit 2πα² q_ν²/(m_e T²)(…) of Giunti & Studenikin follows from it.

Atomic binding: an electron contributes only when T_e exceeds its binding energy — the
step function Z_eff(T) of arXiv:2211.11905 §4 (De Romeri et al.), here from the shell
binding energies of the X-ray Data Booklet (LBNL, 2009, Table 1-1). Used by the
electromagnetic model tables (``build_tables.model_tables``, with how a detector sees an
electron recoil from ``detectors.electrons``) and their direct twin
``reference.electron_scattering.direct_es_counts``; docs/models.md §3.3.
"""

import numpy as np

from cevnsfast.constants import (
    ALPHA_EM,
    G_F_MEV2,
    HBARC_MEV_CM,
    M_E_MEV,
    SIN2_THETA_W_DEFAULT,
)
from cevnsfast.physics.bsm import millicharge_radius_shift
from cevnsfast.physics.flux import FluxComponent

SHELLS_KEV = {
    "Cs133": [(35.985, 2), (5.714, 2), (5.359, 2), (5.012, 4), (1.211, 2), (1.071, 2),
              (1.003, 4), (0.740, 4), (0.726, 6), (0.0, 27)],
    "I127": [(33.169, 2), (5.188, 2), (4.852, 2), (4.557, 4), (1.072, 2), (0.931, 2),
             (0.875, 4), (0.631, 4), (0.619, 6), (0.0, 25)],
}  # fmt: skip
"""(binding energy keV, electrons) per shell, K … M5, then every outer electron at 0 (their
binding energies, < 0.25 keV, lie below the CsI threshold): X-ray Data Booklet Table 1-1."""


def z_effective(nucleus_name: str, t_kev) -> np.ndarray:
    """Electrons of the atom with binding energy below T_e (the Z_eff(T) step function)."""
    t = np.asarray(t_kev, dtype=float)
    return sum(n * (t > b) for b, n in SHELLS_KEV[nucleus_name]).astype(float)


def es_couplings(component: FluxComponent, sin2_theta_w: float) -> tuple[float, float]:
    """(g_V, g_A) of ν_ℓ e → ν_ℓ e (NC, plus CC for ν_e), g_A sign-flipped for ν̄."""
    g_v, g_a = -0.5 + 2.0 * sin2_theta_w, -0.5
    if component.flavour == "e":
        g_v, g_a = g_v + 1.0, g_a + 1.0
    if component.antineutrino:
        g_a = -g_a
    return g_v, g_a


def dsigma_es(
    e_mev,
    t_mev,
    component: FluxComponent,
    mu_1e10: float = 0.0,
    r2_1e32_cm2: float = 0.0,
    q_1e8_e: float = 0.0,
    sin2_theta_w: float = SIN2_THETA_W_DEFAULT,
) -> np.ndarray:
    """dσ/dT_e (cm² MeV⁻¹) per free electron (module formula); zero above T_max = 2E²/(m_e+2E)."""
    e = np.asarray(e_mev, dtype=float)
    t = np.asarray(t_mev, dtype=float)
    g_v, g_a = es_couplings(component, sin2_theta_w)
    g_v = g_v + millicharge_radius_shift(r2_1e32_cm2, q_1e8_e, 2.0 * M_E_MEV * t)
    weak = (
        (g_v + g_a) ** 2
        + (g_v - g_a) ** 2 * (1 - t / e) ** 2
        - (g_v**2 - g_a**2) * M_E_MEV * t / e**2
    )
    weak = G_F_MEV2**2 * M_E_MEV / (2.0 * np.pi) * weak
    magnetic = np.pi * ALPHA_EM**2 / M_E_MEV**2 * (1.0 / t - 1.0 / e) * (mu_1e10 * 1e-10) ** 2
    inside = t <= 2.0 * e**2 / (M_E_MEV + 2.0 * e)
    return np.where(inside, (weak + magnetic) * HBARC_MEV_CM**2, 0.0)


def electron_e_min_mev(t_mev) -> np.ndarray:
    """Smallest E giving an electron recoil T: (T + √(T² + 2 m_e T))/2."""
    t = np.asarray(t_mev, dtype=float)
    return 0.5 * (t + np.sqrt(t**2 + 2.0 * M_E_MEV * t))
