"""Standard-Model parameters as models: the weak mixing angle and the neutron rms radius.

Talk (docs/models.md) and De Romeri et al., JHEP 04 (2023) 035 (arXiv:2211.11905) §3:
CEvNS measures sin²θ_W at low momentum transfer through Q_V = (1/2 − 2 sin²θ_W) Z − N/2, and
the neutron distribution through the neutron form factor F_N of Q_V = g_V^p Z F_Z + g_V^n N F_N
(Cadeddu et al., PRL 120 (2018) 072501).
"""

from typing import Any

import numpy as np

from cevnsfast.models.terms import (
    Model,
    ModelCoupling,
    ParameterAxis,
    RateTerm,
    amplitude_terms,
    momentum_transfer_sq_mev2,
)
from cevnsfast.nuclei import Isotope
from cevnsfast.physics.cross_sections import nucleon_vector_couplings, weak_charge_sm
from cevnsfast.physics.flux import FluxComponent
from cevnsfast.physics.form_factors import KN_AK_FM, KN_R0_FM, form_factor

CHARGE_RADIUS_FM = {"Cs133": 4.8041, "I127": 4.7500, "Ar40": 3.4274}
"""Measured rms nuclear charge radii (Angeli & Marinova, At. Data Nucl. Data Tables 99 (2013)
69): the physical lower end of a neutron-radius scan — nuclear models give these
neutron-rich nuclei a positive neutron skin R_n − R_p (Cadeddu et al. PRL 120 (2018) 072501
take R_p from the same charge radii; the point-proton radius is ≈ 0.06 fm below R_ch)."""


def proton_radius_floor_fm(nuclei: list[str]) -> float:
    """Lower end of a common R_n scan for a detector: the smallest charge radius of its
    nuclei (CsI: 4.75 fm of I; Ar: 3.43 fm)."""
    return min(CHARGE_RADIUS_FM[n] for n in nuclei)


class WeakMixingAngle(Model):
    """δ = sin²θ_W − sin²θ_W(spec): Q_V → Q_V − 2 Z δ (exactly linear in δ; ∂g_V^p/∂s² = −2
    in both ``physics.weak_charge`` modes, ``cross_sections.nucleon_vector_couplings``)."""

    name = "weak_mixing_angle"
    title = "weak mixing angle"
    reference = "talk; arXiv:2211.11905 §3"
    couplings = (
        ModelCoupling(
            "delta_sin2_theta_w", "1", "shift of sin²θ_W from the spec's physics.sin2_theta_w"
        ),
    )

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        a = np.array(
            [
                weak_charge_sm(nucleus, physics["sin2_theta_w"], physics["weak_charge"]),
                -2.0 * nucleus.z,
            ]
        )
        return amplitude_terms("V", [("F", a)])


def _surface_sq_fm2(form_factor_name: str, params: dict) -> float:
    """The width term of ⟨r²⟩: 6 a_k² (KN: sphere ⊗ Yukawa) or 3 s² (Helm: ⊗ Gaussian)."""
    if form_factor_name == "klein_nystrand":
        return 6.0 * params.get("ak_fm", KN_AK_FM) ** 2
    if form_factor_name == "helm":
        return 3.0 * params.get("skin_fm", 0.9) ** 2
    raise ValueError(
        f"the neutron radius needs a finite-size form factor, not {form_factor_name!r}"
    )


def box_radius_fm(form_factor_name: str, rms_fm: np.ndarray, params: dict | None = None):
    """Box radius (KN: R_A; Helm: R₀) of the form factor whose density has rms ``rms_fm``:
    ⟨r²⟩ = 3/5 R² + (6 a_k² or 3 s²)."""
    fixed = _surface_sq_fm2(form_factor_name, params or {})
    return np.sqrt(5.0 / 3.0 * (np.asarray(rms_fm, dtype=float) ** 2 - fixed))


def default_box_radius_fm(form_factor_name: str, a: int, params: dict | None = None) -> float:
    """The box radius ``form_factors`` uses at radius_scale = 1."""
    params = params or {}
    if form_factor_name == "klein_nystrand":
        return params.get("r0_fm", KN_R0_FM) * a ** (1.0 / 3.0)
    s = params.get("skin_fm", 0.9)
    c = 1.23 * a ** (1.0 / 3.0) - 0.6
    return float(np.sqrt(c**2 + 7.0 / 3.0 * np.pi**2 * 0.52**2 - 5.0 * s**2))


def proton_rms_radius_fm(form_factor_name: str, a: int, params: dict | None = None) -> float:
    """rms radius of the engine's default form factor: the proton radius R_p of this model."""
    r = default_box_radius_fm(form_factor_name, a, params)
    return float(np.sqrt(0.6 * r**2 + _surface_sq_fm2(form_factor_name, params or {})))


class NeutronRadius(Model):
    """Neutron rms radius R_n (fm) as the table axis, the proton form factor fixed.

    Q = g_V^p Z F_p(q) + g_V^n N F_n(q; R_n): F_p is the spec's form factor (rms R_p, e.g.
    5.16 fm for Cs with Klein–Nystrand), F_n the same family with rms R_n. One R_n applies to
    every detected nucleus (the R_n(CsI) of arXiv:2211.11905; Ar for LAr). No couplings: the
    SM is R_n = R_p of each nucleus. The CsI radius nuisance α4 scales both box radii.
    """

    name = "neutron_radius"
    title = "neutron rms radius"
    reference = "talk; arXiv:2211.11905 §3; Cadeddu et al. PRL 120 (2018) 072501"
    couplings = ()

    def default_settings(self) -> dict[str, Any]:
        return {"r_n_fm": [round(2.5 + 0.05 * i, 2) for i in range(91)]}  # 2.5 … 7.0 fm

    def make_axis(self) -> ParameterAxis:
        return ParameterAxis(
            "r_n_fm", "fm", tuple(self.settings["r_n_fm"]), "linear", "neutron rms radius"
        )

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        g_p, g_n = nucleon_vector_couplings(physics["sin2_theta_w"], physics["weak_charge"])
        parts = [("Fp", np.array([g_p * nucleus.z])), ("Fn", np.array([g_n * nucleus.n]))]
        return amplitude_terms("V", parts)

    def weight(self, name, nucleus, t_mev, axis_values, physics, radius_scale) -> np.ndarray:
        q = np.sqrt(momentum_transfer_sq_mev2(nucleus, t_mev))
        ff = physics["form_factor"]
        if name == "Fp":
            return super().weight("F", nucleus, t_mev, axis_values, physics, radius_scale)
        if name == "Fn":
            params = physics.get("form_factor_params") or {}
            scales = box_radius_fm(ff, axis_values, params) / default_box_radius_fm(
                ff, nucleus.a, params
            )
            return np.stack(
                [form_factor(ff, q, nucleus.a, radius_scale * s, **params) for s in scales]
            )
        return super().weight(name, nucleus, t_mev, axis_values, physics, radius_scale)
