"""Active-to-sterile oscillation at the SNS baselines (3+1, short baseline).

Talk (docs/models.md, "transition to sterile neutrinos"); CEvNS is flavour blind among the
active neutrinos, so only the disappearance into the sterile state matters:

    N = ∫ φ_α(E) [1 − sin²2θ_αα sin²(1.267 Δm²[eV²] L[m]/E[MeV])] dσ/dT dE

with sin²2θ_ee = 4|U_e4|²(1 − |U_e4|²) for ν_e and sin²2θ_μμ for ν_μ, ν̄_μ (small-mixing
3+1; the ν_α → ν_s probability of each flavour). The rate is *linear* in sin²2θ: in the
quadratic form x = (1, s_ee, s_μμ), C_{0s} = −Q_V²/2 with the oscillation factor
sin²(1.267 Δm² L/E) as the kernel's flux factor (numeric flux moments), C_ss = 0. L is the
detector's distance (spec ``exposure.distance_m``); the spread of production and detection
points (≲ 1 m) is neglected.
"""

from typing import Any

import numpy as np

from cevnsfast.models.terms import (
    Model,
    ModelCoupling,
    ParameterAxis,
    RateTerm,
    amplitude_terms,
    kernel,
    log_grid,
    unit_vector,
)
from cevnsfast.nuclei import Isotope
from cevnsfast.physics.bsm import OSC_PHASE_PER_EV2_M_PER_MEV
from cevnsfast.physics.cross_sections import weak_charge_sm
from cevnsfast.physics.flux import FluxComponent

FLAVOUR_INDEX = {"e": 1, "mu": 2}


class SterileOscillation(Model):
    """Disappearance into a sterile neutrino: couplings sin²2θ_ee, sin²2θ_μμ; axis Δm²."""

    name = "sterile_oscillation"
    title = "active–sterile oscillation"
    reference = "talk; 3+1 short-baseline oscillation"
    couplings = (
        ModelCoupling("sin2_2theta_ee", "1", "ν_e disappearance amplitude sin²2θ_ee"),
        ModelCoupling("sin2_2theta_mumu", "1", "ν_μ, ν̄_μ disappearance amplitude sin²2θ_μμ"),
    )

    def default_settings(self) -> dict[str, Any]:
        # smooth below 1 eV²; above, the prompt line oscillates with a period
        # π E_π/(1.267 L) ≈ 3.8 eV² (CsI) / 2.7 eV² (LAr): 0.1 eV² steps
        dense = [round(1.0 + 0.1 * i, 6) for i in range(1, 291)]
        return {"dm2_ev2": sorted(list(log_grid(0.1, 1.0, 20)) + dense)}

    def make_axis(self) -> ParameterAxis:
        return ParameterAxis("dm2_ev2", "eV^2", tuple(self.settings["dm2_ev2"]), "log", "Δm²₄₁")

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        q = weak_charge_sm(nucleus, physics["sin2_theta_w"], physics["weak_charge"])
        index = FLAVOUR_INDEX[component.flavour]
        mix = -0.5 * q**2 * (np.outer(unit_vector(2, 0), unit_vector(2, index)))
        oscillation = RateTerm(kernel("V", "F", "F", "osc"), mix + mix.T)
        return [*amplitude_terms("V", [("F", unit_vector(2, 0, q))]), oscillation]

    def flux_factor(self, name, component, e_mev, axis_value, distance_m) -> np.ndarray:
        if name != "osc":
            return super().flux_factor(name, component, e_mev, axis_value, distance_m)
        phase = OSC_PHASE_PER_EV2_M_PER_MEV * axis_value * distance_m / np.asarray(e_mev, float)
        return np.sin(phase) ** 2

    def flux_factor_frequency(self, name, axis_value, distance_m) -> float:
        if name != "osc":
            return super().flux_factor_frequency(name, axis_value, distance_m)
        return 2.0 * OSC_PHASE_PER_EV2_M_PER_MEV * axis_value * distance_m
