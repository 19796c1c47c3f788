"""Neutrino electromagnetic properties: magnetic moments, charge radii, millicharges, and the
transition magnetic moment to a sterile state (dipole portal).

Talk (docs/models.md) and De Romeri et al., JHEP 04 (2023) 035 (arXiv:2211.11905) §4:

* magnetic moment (Vogel & Engel, PRD 39 (1989) 3378), no interference with the SM:
  dσ/dT ⊃ (π α²/m_e²)(1/T − 1/E) Z² F² |μ_να/μ_B|²  — structure M, amplitude Z μ;
* charge radius and millicharge shift the proton coupling (Cadeddu et al., PRD 98 (2018)
  113010 and PRD 102 (2020) 015030): g_V^p → g_V^p − Q_ℓℓ,
  Q_ℓℓ = (2√2πα/G_F)(⟨r²_νℓ⟩/6 − q_νℓ/|q|²), |q|² = 2MT — the neutrino charge form factor
  f_Q(q²) = q_ν + q²⟨r²⟩/6 (Giunti & Studenikin, RMP 87 (2015) 531) over the photon
  propagator at spacelike q² = −|q|², so millicharge and charge radius enter with opposite
  signs; the millicharge term is a weight 1/|q|² of the amplitude;
* transition moment ν_α → ν₄ (Brdar et al. arXiv:2007.15563; Miranda et al.
  arXiv:2109.09545): the M structure with the massive-final-state bracket and kinematics, the
  sterile mass m₄ a table axis.

Antineutrinos (ν̄_μ) carry the ν_μ properties (the EM vertex flips sign with the weak one, so
the cross section is the same, arXiv:2211.11905).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from cevnsfast.constants import (
    ALPHA_EM,
    E_MAX_DELAYED_MEV,
    E_PROMPT_MEV,
    G_F_MEV2,
    HBARC_MEV_CM,
    M_E_MEV,
)
from cevnsfast.models.terms import (
    MU_UNIT_1E10_MUB,
    Model,
    ModelCoupling,
    ParameterAxis,
    RateTerm,
    amplitude_terms,
    log_grid,
    merge_terms,
    momentum_transfer_sq_mev2,
    unit_vector,
)
from cevnsfast.nuclei import Isotope
from cevnsfast.physics.cross_sections import weak_charge_sm
from cevnsfast.physics.electron_scattering import es_couplings
from cevnsfast.physics.flux import FluxComponent

FLAVOUR_INDEX = {"e": 0, "mu": 1}
"""Position of the ν_e / ν_μ coupling within a per-flavour pair of couplings."""

CHARGE_RADIUS_UNIT_CM2 = 1e-32
MILLICHARGE_UNIT_E = 1e-8
CHARGE_RADIUS_PER_UNIT = (
    np.sqrt(2.0) * np.pi * ALPHA_EM / (3.0 * G_F_MEV2) * CHARGE_RADIUS_UNIT_CM2 / HBARC_MEV_CM**2
)
"""Q_ℓℓ per unit ⟨r²⟩ (10⁻³² cm²): √2πα/(3 G_F) ⟨r²⟩ = 0.0238 (dimensionless)."""
MILLICHARGE_PER_UNIT_MEV2 = 2.0 * np.sqrt(2.0) * np.pi * ALPHA_EM / G_F_MEV2 * MILLICHARGE_UNIT_E
"""−Q_ℓℓ |q|² per unit q_ν (10⁻⁸ e): 2√2πα/G_F, in MeV² (Q_ℓℓ ⊃ −(2√2πα/G_F) q_ν/|q|²)."""


@dataclass(frozen=True)
class ElectronTerms:
    """ν–e elastic scattering of one flux component as linear forms in x = (1, c_1, …):
    g_V(T) = g_v_constant · x + (g_v_per_t_mev · x)/T, g_A (a number), μ/μ_B = mu · x
    (``physics.electron_scattering`` gives dσ/dT_e in g_V, g_A, μ)."""

    g_v_constant: np.ndarray
    g_v_per_t_mev: np.ndarray
    g_a: float
    mu: np.ndarray


def _sm_part(nucleus: Isotope, physics, n: int) -> tuple[str, np.ndarray]:
    return (
        "F",
        unit_vector(n, 0, weak_charge_sm(nucleus, physics["sin2_theta_w"], physics["weak_charge"])),
    )


class MagneticMoment(Model):
    """Effective magnetic moments μ_νe and μ_νμ (ν̄_μ: μ_νμ), in 10⁻¹⁰ μ_B."""

    name = "magnetic_moment"
    title = "neutrino magnetic moment"
    reference = "talk; arXiv:2211.11905 §4; Vogel & Engel PRD 39 (1989) 3378"
    couplings = (
        ModelCoupling("mu_nue", "1e-10 mu_B", "effective magnetic moment of ν_e"),
        ModelCoupling("mu_numu", "1e-10 mu_B", "effective magnetic moment of ν_μ and ν̄_μ"),
    )

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        index = 1 + FLAVOUR_INDEX[component.flavour]
        magnetic = unit_vector(2, index, nucleus.z * MU_UNIT_1E10_MUB)
        return amplitude_terms("V", [_sm_part(nucleus, physics, 2)]) + amplitude_terms(
            "M", [("F", magnetic)]
        )

    def default_settings(self) -> dict[str, Any]:
        return {"electron_scattering": True}  # ν–e scattering where the detector sees it

    def electron_terms(self, component: FluxComponent, sin2_theta_w: float) -> ElectronTerms:
        """ν–e scattering: SM g_V, g_A and the magnetic moment of the incoming flavour."""
        g_v, g_a = es_couplings(component, sin2_theta_w)
        mu = unit_vector(2, 1 + FLAVOUR_INDEX[component.flavour], MU_UNIT_1E10_MUB)
        return ElectronTerms(unit_vector(2, 0, g_v), np.zeros(3), g_a, mu)


class ChargeRadiusMillicharge(Model):
    """Diagonal charge radii ⟨r²_ee⟩, ⟨r²_μμ⟩ (10⁻³² cm²) and millicharges q_ee, q_μμ
    (10⁻⁸ e): the proton vector coupling shifts by −Q_ℓℓ (sign convention of
    arXiv:2211.11905; the SM charge radius is not part of the tree-level g_V^p used here,
    so zero is the engine's SM)."""

    name = "charge_radius_millicharge"
    title = "neutrino charge radius and millicharge"
    reference = "talk; arXiv:2211.11905 §4; Cadeddu et al. PRD 98 (2018) 113010"
    couplings = (
        ModelCoupling("r2_ee", "1e-32 cm^2", "charge radius ⟨r²⟩ of ν_e"),
        ModelCoupling("r2_mumu", "1e-32 cm^2", "charge radius ⟨r²⟩ of ν_μ, ν̄_μ"),
        ModelCoupling("q_ee", "1e-8 e", "electric charge of ν_e"),
        ModelCoupling("q_mumu", "1e-8 e", "electric charge of ν_μ, ν̄_μ"),
    )

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        i = FLAVOUR_INDEX[component.flavour]
        sm_name, sm = _sm_part(nucleus, physics, 4)
        constant = sm + unit_vector(4, 1 + i, -nucleus.z * CHARGE_RADIUS_PER_UNIT)
        # g_V^p − Q_ℓℓ: −Z ⟨r²⟩ term, +Z q_ν/|q|² term (opposite signs, see module doc)
        millicharge = unit_vector(4, 3 + i, nucleus.z * MILLICHARGE_PER_UNIT_MEV2)
        return amplitude_terms("V", [(sm_name, constant), ("F/q2", millicharge)])

    def default_settings(self) -> dict[str, Any]:
        return {"electron_scattering": True}  # ν–e scattering where the detector sees it

    def electron_terms(self, component: FluxComponent, sin2_theta_w: float) -> ElectronTerms:
        """ν–e scattering: g_V^e → g_V^e + Q_ℓℓ (electron charge −1 against the proton's +1),
        Q_ℓℓ with |q|² = 2 m_e T: ⟨r²⟩ constant, q_ν as 1/T."""
        i = FLAVOUR_INDEX[component.flavour]
        g_v, g_a = es_couplings(component, sin2_theta_w)
        constant = unit_vector(4, 0, g_v) + unit_vector(4, 1 + i, CHARGE_RADIUS_PER_UNIT)
        per_t = unit_vector(4, 3 + i, -MILLICHARGE_PER_UNIT_MEV2 / (2.0 * M_E_MEV))
        return ElectronTerms(constant, per_t, g_a, np.zeros(5))

    def weight(self, name, nucleus, t_mev, axis_values, physics, radius_scale) -> np.ndarray:
        if name == "F/q2":  # F(q)/q² in MeV⁻²
            f = super().weight("F", nucleus, t_mev, axis_values, physics, radius_scale)
            return f / momentum_transfer_sq_mev2(nucleus, t_mev)
        return super().weight(name, nucleus, t_mev, axis_values, physics, radius_scale)


def transition_e_min_mev(t_mev, mass_mev: float, m4_mev) -> np.ndarray:
    """Smallest E reaching recoil T with a final state of mass m₄ (lab frame):

        E_min = (2MT + m₄²) / (2(√(T² + 2MT) − T))

    from E − p₄ ≤ |p_N| (p₄ = √((E−T)² − m₄²), |p_N| = √(T² + 2MT)); m₄ = 0 gives the
    usual (T + √(T² + 2MT))/2."""
    t = np.asarray(t_mev, dtype=float)
    p = np.sqrt(t**2 + 2.0 * mass_mev * t)
    return (2.0 * mass_mev * t + np.asarray(m4_mev, dtype=float) ** 2) / (2.0 * (p - t))


def transition_recoil_range_kevnr(
    e_mev: float, mass_mev: float, m4_mev: float
) -> tuple[float, float] | None:
    """[T_min, T_max] (keVnr) reachable at neutrino energy E with a final mass m₄ (None if
    E is below threshold): the roots of E_min(T) = E around its minimum."""

    def f(log_t):
        return float(transition_e_min_mev(np.exp(log_t), mass_mev, m4_mev)) - e_mev

    lo, hi = np.log(1e-14), np.log(2.0 * e_mev**2 / mass_mev * 1.01)
    best = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    if best.fun >= 0.0:
        return None
    t_lo = np.exp(brentq(f, lo, best.x, xtol=1e-14)) if f(lo) > 0 else 0.0
    t_hi = np.exp(brentq(f, best.x, hi, xtol=1e-14))
    return 1e3 * t_lo, 1e3 * t_hi


class TransitionMagneticMoment(Model):
    """Transition magnetic moments μ_e4, μ_μ4 (10⁻¹⁰ μ_B) of ν_α → ν₄, m₄ the table axis.

    Structure "TM": (π α²/m_e²) Z² F² [1/T − 1/E − m₄²/(2ETM)(1 − T/2E + M/2E)
    + m₄⁴(T − M)/(8E²T²M²)] = P (c0 + c1/E + c2/E²) with c0 = 1/T, c1 = −1 − m₄²/(2TM),
    c2 = m₄²/(4M) − m₄²/(4T) + m₄⁴(T − M)/(8T²M²), and E ≥ ``transition_e_min_mev``.
    """

    name = "transition_magnetic_moment"
    title = "transition magnetic moment to a sterile neutrino"
    reference = "talk; Brdar et al. arXiv:2007.15563; Miranda et al. arXiv:2109.09545"
    couplings = (
        ModelCoupling("mu_e4", "1e-10 mu_B", "transition moment ν_e → ν₄"),
        ModelCoupling("mu_mu4", "1e-10 mu_B", "transition moment ν_μ → ν₄ (and ν̄_μ → ν̄₄)"),
    )
    axis_dependent_nodes = True

    def default_settings(self) -> dict[str, Any]:
        # log-spaced where smooth; 0.5 MeV steps above 10 MeV, where the prompt line
        # (E_π, a node of its own) and then the delayed end point switch the signal off
        # (E_π and nodes closing in on it: the prompt rate vanishes like a root there)
        dense = [10.0 + 0.5 * i for i in range(1, 84)]
        near_prompt = [round(E_PROMPT_MEV - d, 6) for d in (0.1, 0.03, 0.01, 0.0)]
        return {"m4_mev": sorted(list(log_grid(0.01, 10.0, 15)) + dense + near_prompt)}

    def make_axis(self) -> ParameterAxis:
        return ParameterAxis("m4_mev", "MeV", tuple(self.settings["m4_mev"]), "log", "ν₄ mass")

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        index = 1 + FLAVOUR_INDEX[component.flavour]
        dipole = unit_vector(2, index, nucleus.z * MU_UNIT_1E10_MUB)
        return merge_terms(
            amplitude_terms("V", [_sm_part(nucleus, physics, 2)])
            + amplitude_terms("TM", [("F", dipole)])
        )

    def shape(self, structure, nucleus, t_mev, axis_values):
        if structure != "TM":
            return super().shape(structure, nucleus, t_mev, axis_values)
        pref, _ = super().shape("M", nucleus, t_mev, axis_values)
        t = np.asarray(t_mev, dtype=float)[None, :]
        m = nucleus.mass_mev
        m2 = np.asarray(axis_values, dtype=float)[:, None] ** 2
        c0 = np.broadcast_to(1.0 / t, (len(axis_values), t.size))
        c1 = -1.0 - m2 / (2.0 * t * m)
        c2 = m2 / (4.0 * m) - m2 / (4.0 * t) + m2**2 * (t - m) / (8.0 * t**2 * m**2)
        return pref, np.stack([c0, c1, c2])

    def e_min_mev(self, structure, nucleus, t_mev, axis_values):
        if structure != "TM":
            return super().e_min_mev(structure, nucleus, t_mev, axis_values)
        m4 = np.asarray(axis_values, dtype=float)[:, None]
        return transition_e_min_mev(np.asarray(t_mev)[None, :], nucleus.mass_mev, m4)

    def recoil_breakpoints_kevnr(self, nucleus: Isotope, axis_value: float) -> list[float]:
        points = []
        for e in (E_PROMPT_MEV, E_MAX_DELAYED_MEV):
            span = transition_recoil_range_kevnr(e, nucleus.mass_mev, axis_value)
            if span is not None:
                points += [p for p in span if p > 0.0]
        return points
