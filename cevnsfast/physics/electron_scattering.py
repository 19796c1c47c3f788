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
electromagnetic model tables (``build_tables.model_tables``) and their direct twin
``direct_es_counts``; docs/models.md §3.3.
"""

import numpy as np

from cevnsfast.constants import (
    ALPHA_EM,
    E_MAX_DELAYED_MEV,
    E_PROMPT_MEV,
    G_F_MEV2,
    HBARC_MEV_CM,
    M_E_MEV,
    SIN2_THETA_W_DEFAULT,
)
from cevnsfast.detectors.detector import Detector
from cevnsfast.detectors.response import gauss_legendre
from cevnsfast.detectors.spec import load_spec
from cevnsfast.physics.bsm import millicharge_radius_shift
from cevnsfast.physics.flux import FLUX_COMPONENTS, FluxComponent, delayed_shape_per_mev

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


ELECTRON_RECOIL_RESPONSE = {"csi2021": {"response.quenching": {"model": "constant", "qf": 1.0}}}
"""How a detector sees an electron recoil, as overrides of its nuclear-recoil response spec.
CsI 2021: at its full energy, E_ee = T_e (QF = 1), with the same light yield (13.35 PE/keVee,
release notes), smearing, efficiency and timing as a nuclear recoil of equal E_ee
(arXiv:2211.11905 §4). Detectors not listed do not count electron recoils: LAr 2020 rejects
them by its F90 pulse-shape selection (arXiv:2003.10630), the Asimov detectors do not model
them."""

T_PANEL_EDGES_KEV = (0.05, 0.619, 0.726, 1.211, 4.557, 5.714, 12.0, 30.0)
"""Panels of the T_e integral: split at the Z_eff steps of Cs and I inside the CsI region of
interest; up to 30 keV (the analysis region ends at 60 PE ≈ 4.5 keVee, the Gamma smearing
tail is exhausted well before)."""
T_NODES_PER_PANEL = 24


def electron_detector(detector: Detector) -> Detector | None:
    """The detector as it sees electron recoils (``ELECTRON_RECOIL_RESPONSE``; the same
    efficiency variation), or None when it does not count them."""
    overrides = ELECTRON_RECOIL_RESPONSE.get(detector.spec.name)
    if overrides is None:
        return None
    spec = load_spec(detector.spec.name, overrides)
    return Detector(spec, efficiency_sigma=detector.response.efficiency_sigma)


def electron_nodes_kev() -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights of the T_e integral (``T_PANEL_EDGES_KEV``)."""
    edges = T_PANEL_EDGES_KEV
    panels = [
        gauss_legendre(a, b, T_NODES_PER_PANEL) for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    return np.concatenate([x for x, _ in panels]), np.concatenate([w for _, w in panels])


def electrons_per_target(detector: Detector, t_kev: np.ndarray) -> np.ndarray:
    """Σ_targets N_target Z_eff(T_e): the number of electrons an electron recoil T_e can
    come from."""
    return sum(tg.n_targets * z_effective(tg.nucleus.name, t_kev) for tg in detector.targets)


def direct_es_counts(
    detector: Detector,
    values: dict[str, float],
    sin2_theta_w: float = SIN2_THETA_W_DEFAULT,
    time_shift_us: float = 0.0,
) -> np.ndarray:
    """ES events per reconstructed bin of ``detector`` (zero if it does not count electron
    recoils), by direct integration of ``dsigma_es`` over T_e and E (64 Gauss–Legendre nodes
    in E per T_e): the twin of the ES part of the electromagnetic model tables. ``values``:
    mu_nue, mu_numu (10⁻¹⁰ μ_B), r2_ee, r2_mumu (10⁻³² cm²), q_ee, q_mumu (10⁻⁸ e)."""
    electron = electron_detector(detector)
    if electron is None:
        empty = np.zeros((len(FLUX_COMPONENTS), len(detector.spec.bin_edges) - 1))
        return detector.fold_time(empty, time_shift_us).sum(axis=0)
    t_kev, w_kev = electron_nodes_kev()
    t_mev = 1e-3 * t_kev
    prob = electron.response.bin_probabilities(t_kev)
    scale = electrons_per_target(electron, t_kev) * electron.fluence_cm2 * 1e-3 * w_kev
    u, w_u = gauss_legendre(0.0, 1.0, 64)
    per_component = np.zeros((len(FLUX_COMPONENTS), prob.shape[1]))
    for fi, comp in enumerate(FLUX_COMPONENTS):
        f = "e" if comp.flavour == "e" else "mumu"
        kw = dict(
            mu_1e10=values.get("mu_nue" if f == "e" else "mu_numu", 0.0),
            r2_1e32_cm2=values.get(f"r2_{'ee' if f == 'e' else 'mumu'}", 0.0),
            q_1e8_e=values.get(f"q_{'ee' if f == 'e' else 'mumu'}", 0.0),
            sin2_theta_w=sin2_theta_w,
        )
        if comp.prompt:
            rate = dsigma_es(E_PROMPT_MEV, t_mev, comp, **kw)
        else:
            e_lo = np.minimum(electron_e_min_mev(t_mev), E_MAX_DELAYED_MEV)
            e = e_lo[:, None] + (E_MAX_DELAYED_MEV - e_lo)[:, None] * u[None, :]
            shape = delayed_shape_per_mev(comp.name, e)
            rate = (E_MAX_DELAYED_MEV - e_lo) * (
                (shape * dsigma_es(e, t_mev[:, None], comp, **kw)) @ w_u
            )
        per_component[fi] = (rate * scale) @ prob
    return electron.fold_time(per_component, time_shift_us).sum(axis=0)


def electron_e_min_mev(t_mev) -> np.ndarray:
    """Smallest E giving an electron recoil T: (T + √(T² + 2 m_e T))/2."""
    t = np.asarray(t_mev, dtype=float)
    return 0.5 * (t + np.sqrt(t**2 + 2.0 * M_E_MEV * t))
