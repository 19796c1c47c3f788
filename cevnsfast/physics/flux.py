"""SNS pion-decay-at-rest neutrino flux (arXiv:2402.16953 Eqs. 12–14).

π⁺ → μ⁺ ν_μ gives a prompt monochromatic ν_μ line at E_π = (m_π² − m_μ²)/(2m_π); the μ⁺ →
e⁺ ν_e ν̄_μ decay at rest gives the delayed ν_e and ν̄_μ Michel spectra up to m_μ/2. Each
component carries η = r N_POT / (4π L²) neutrinos per cm².

Energies in MeV, fluences in cm⁻², spectra in cm⁻² MeV⁻¹.
"""

from dataclasses import dataclass

import numpy as np

from cevnsfast.constants import E_MAX_DELAYED_MEV, E_PROMPT_MEV, M_MU_MEV


@dataclass(frozen=True)
class FluxComponent:
    """One SNS flux component: its incoming flavour ('e' or 'mu') and whether it is ν̄."""

    name: str
    flavour: str
    antineutrino: bool
    prompt: bool


FLUX_COMPONENTS: tuple[FluxComponent, ...] = (
    FluxComponent("numu", "mu", antineutrino=False, prompt=True),
    FluxComponent("nue", "e", antineutrino=False, prompt=False),
    FluxComponent("numubar", "mu", antineutrino=True, prompt=False),
)
COMPONENT_NAMES = tuple(c.name for c in FLUX_COMPONENTS)


def fluence_per_flavour_cm2(pot: float, nu_per_flavour_per_pot: float, distance_m: float) -> float:
    """η = r N_POT / (4π L²): neutrinos of each flavour per cm² at the detector (Eq. 12–14)."""
    if pot <= 0 or nu_per_flavour_per_pot <= 0 or distance_m <= 0:
        raise ValueError("pot, nu_per_flavour_per_pot and distance_m must all be > 0")
    distance_cm = distance_m * 100.0
    return nu_per_flavour_per_pot * pot / (4.0 * np.pi * distance_cm**2)


def delayed_shape_per_mev(component: str, e_mev: np.ndarray) -> np.ndarray:
    """Unit-normalised delayed spectrum (MeV⁻¹) on 0 ≤ E ≤ m_μ/2, zero outside.

    ν_e:  (192/m_μ) (E/m_μ)² (1/2 − E/m_μ)   (Eq. 13)
    ν̄_μ: (64/m_μ)  (E/m_μ)² (3/4 − E/m_μ)   (Eq. 14)
    """
    e = np.asarray(e_mev, dtype=float)
    y = e / M_MU_MEV
    if component == "nue":
        shape = (192.0 / M_MU_MEV) * y**2 * (0.5 - y)
    elif component == "numubar":
        shape = (64.0 / M_MU_MEV) * y**2 * (0.75 - y)
    else:
        raise ValueError(f"{component!r} is not a delayed component (use 'nue' or 'numubar')")
    return np.where((e >= 0.0) & (e <= E_MAX_DELAYED_MEV), shape, 0.0)


def delayed_moments(component: str, e_min_mev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Analytic moments of a unit delayed spectrum above E_min, for the E-integral of Eq. (15).

    Returns (G0, G2) with G0 = ∫ φ(E) dE and G2 = ∫ φ(E)/E² dE over [E_min, m_μ/2]. Every
    kinematic structure of the cross section is c₀ + c₂/E² in the neutrino energy, so these two
    moments integrate the flux exactly: ∫ φ (c₀ + c₂/E²) dE = c₀ G0 + c₂ G2.
    """
    y = np.clip(np.asarray(e_min_mev, dtype=float) / M_MU_MEV, 0.0, 0.5)
    if component == "nue":
        a, b = 192.0 * 0.5, 192.0  # φ = (a y² − b y³)/m_μ
    elif component == "numubar":
        a, b = 64.0 * 0.75, 64.0
    else:
        raise ValueError(f"{component!r} is not a delayed component (use 'nue' or 'numubar')")

    def g0(u):
        return a * u**3 / 3.0 - b * u**4 / 4.0

    def g2(u):  # ∫ (a − b y) dy / m_μ² in y = E/m_μ
        return a * u - b * u**2 / 2.0

    g0_total = g0(0.5) - g0(y)
    g2_total = (g2(0.5) - g2(y)) / M_MU_MEV**2
    return g0_total, g2_total


def delayed_inverse_moments(
    component: str, e_min_mev: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(G0, G1, G2) with G_p = ∫ φ(E) E^{−p} dE over [E_min, m_μ/2], φ a unit delayed spectrum.

    Extends ``delayed_moments`` by G1 = ∫ φ/E dE, which the magnetic-moment structure
    (1/T − 1/E) needs (Vogel & Engel, PRD 39 (1989) 3378). In y = E/m_μ, φ = (a y² − b y³)/m_μ,
    so G1 = ∫ (a y − b y²) dy / m_μ.
    """
    g0, g2 = delayed_moments(component, e_min_mev)
    y = np.clip(np.asarray(e_min_mev, dtype=float) / M_MU_MEV, 0.0, 0.5)
    a, b = (96.0, 192.0) if component == "nue" else (48.0, 64.0)

    def g1(u):
        return a * u**2 / 2.0 - b * u**3 / 3.0

    return g0, (g1(0.5) - g1(y)) / M_MU_MEV, g2


def prompt_energy_mev() -> float:
    """Energy of the prompt ν_μ line, E_π ≈ 29.79 MeV (Eq. 12)."""
    return E_PROMPT_MEV
