"""Light mediators (vector universal, vector B−L, scalar, tensor) and the S₁ leptoquark.

A mediator of mass m exchanged in the t channel adds to an amplitude a term ∝ g²/(q² + m²)
(talk; arXiv:2211.11905 §6; Miranda et al., JHEP 12 (2021) 191). The tables use the weight

    w(q²; m) = F(q) (m² + μ²)/(q² + m²)        μ = ``mu_ref_mev`` (default 50 MeV ~ typical q)

and the *reduced coupling* ε = g²/(√2 G_F (m² + μ²)) (S₁: g²/(4√2 G_F (m² + μ²))), so that
g²/(√2 G_F (q² + m²)) = ε w/F. Both stay of order one over the whole mass axis (w → 1 for
m ≫ q, w → μ²/q² for m ≪ q), which keeps the log-mass interpolation accurate, and for
m → ∞ ε is exactly the equivalent NSI coupling ε^{qV} = g_ν g_q/(√2 G_F m²) (effective
operator −(g_ν g_q/m²)(ν̄γ^μP_Lν)(q̄γ_μq) matched to −(G_F/√2) ε (ν̄γ^μ(1−γ5)ν)(q̄γ_μq),
the NSI normalisation of ``physics.gni_normalisation``). The scan maps (m, g) → (m, ε).

Charges (g_ν = g_q = g unless stated):
* vector universal  Q' = Σ_q g_q N_q/g = 3(Z + N)            (V, interferes with the SM)
* vector B−L        g_q = g/3, g_ν = −g: Q' = −(Z + N)
* scalar            Q_φ = 15.1 Z + 14 N (Cerdeño et al. 2016; or the u + d sum
                    Σ_q (Z m_p/m_q f^p_Tq + N m_n/m_q f^n_Tq), ``nucleon_charges``)   (S)
* tensor            Q_T = Σ_q (Z δ^p_q + N δ^n_q)                     (T, no interference)
* S₁ leptoquark     Q_LQ = (Z F_Z + 2N F_N) g²/(4√2 G_F (q² + m²)) for every ν_i → ν_j,
                    i, j ∈ {e, μ} (λ_1j = (g, g, 0); talk, arXiv:2307.13790): (Q_V + Q_ii)²
                    + Σ_{j≠i} Q_ij². Heavy S₁: ε^{dV}_{ij} = g²/(4√2 G_F m²).
Scalar/tensor with the κ_S, κ_T of the engine's GNI: the heavy limit is the GNI with
ε^{uX} = ε^{dX} = ε (scalar: with ``nucleon_charges="quark_ud"``); the scalar reproduces
g⁴ Q_φ² M² T/(4π E² (q² + m²)²) (Cerdeño et al.).
"""

from typing import Any

import numpy as np

from cevnsfast.constants import G_F_MEV2
from cevnsfast.models.generalised import quark_sum
from cevnsfast.models.terms import (
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
from cevnsfast.physics.bsm import light_scalar_charge
from cevnsfast.physics.cross_sections import weak_charge_sm
from cevnsfast.physics.flux import FluxComponent

MU_REF_MEV = 50.0


class _Mediator(Model):
    """Common pieces: the mass axis, the weight "Fw" and the reduced coupling ε."""

    couplings = (
        ModelCoupling(
            "eps",
            "1 (units of G_F)",
            "reduced coupling g²/(√2 G_F (m² + μ_ref²)): the NSI-equivalent for m → ∞",
        ),
    )
    mass_range_mev: tuple[float, float] = (0.1, 1e5)
    reduced_factor: float = 1.0

    def default_settings(self) -> dict[str, Any]:
        lo, hi = self.mass_range_mev
        return {"mass_mev": list(log_grid(lo, hi, 20)), "mu_ref_mev": MU_REF_MEV}

    def make_axis(self) -> ParameterAxis:
        return ParameterAxis("mass_mev", "MeV", tuple(self.settings["mass_mev"]), "log", "mass")

    def weight(self, name, nucleus, t_mev, axis_values, physics, radius_scale) -> np.ndarray:
        if name == "Fw":  # F (m² + μ²)/(q² + m²)
            f = super().weight("F", nucleus, t_mev, axis_values, physics, radius_scale)
            m2 = np.asarray(axis_values, dtype=float)[:, None] ** 2
            q2 = momentum_transfer_sq_mev2(nucleus, t_mev)[None, :]
            return f * (m2 + self.settings["mu_ref_mev"] ** 2) / (q2 + m2)
        return super().weight(name, nucleus, t_mev, axis_values, physics, radius_scale)

    def coupling_from_physical(self, mass_mev, g) -> np.ndarray:
        """ε = g²/(√2 G_F (m² + μ²)) (× ``reduced_factor``: ¼ for the leptoquark)."""
        m2 = np.asarray(mass_mev, dtype=float) ** 2
        mu2 = self.settings["mu_ref_mev"] ** 2
        g2 = np.asarray(g, dtype=float) ** 2
        return self.reduced_factor * g2 / (np.sqrt(2.0) * G_F_MEV2 * (m2 + mu2))

    def _sm(self, nucleus, physics) -> np.ndarray:
        return unit_vector(
            1, 0, weak_charge_sm(nucleus, physics["sin2_theta_w"], physics["weak_charge"])
        )

    def cancellation_eps(self, nucleus: Isotope, physics) -> float | None:
        """Heavy-limit reduced coupling ε at which the mediator amplitude turns the SM
        amplitude into its opposite (same rate as the SM: the narrow allowed band of the
        (m, g) plane), or None when the model has no such band (no interference, or the
        wrong sign). ``physics``: the spec's physics table (``sin2_theta_w``, ``weak_charge``)."""
        return None


class LightVectorUniversal(_Mediator):
    """Z' coupled with g to every quark and to ν_L: Q_V → Q_V + ε 3(Z+N) w."""

    name = "light_vector_universal"
    title = "light vector mediator (universal)"
    reference = "talk; arXiv:2211.11905 §6"
    charge_per_nucleon = 3.0

    def cancellation_eps(self, nucleus: Isotope, physics) -> float | None:
        """Q_V + ε Q' = −Q_V: ε = −2 Q_V/Q' (positive only for Q' > 0: universal, not B−L)."""
        eps = (
            -2.0
            * weak_charge_sm(nucleus, physics["sin2_theta_w"], physics["weak_charge"])
            / (self.charge_per_nucleon * nucleus.a)
        )
        return eps if eps > 0 else None

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        z_prime = unit_vector(1, 1, self.charge_per_nucleon * nucleus.a)
        return amplitude_terms("V", [("F", self._sm(nucleus, physics)), ("Fw", z_prime)])


class LightVectorBminusL(LightVectorUniversal):
    """U(1)_{B−L} Z' (g_q = g/3, g_ν = −g): Q_V → Q_V − ε (Z+N) w."""

    name = "light_vector_bl"
    title = "light vector mediator (B−L)"
    charge_per_nucleon = -1.0


class LightScalar(_Mediator):
    """Scalar φ coupled with g to quarks and ν: C_S = ε Q_φ w (S structure, κ_S = ½), Q_φ of
    ``bsm.light_scalar_charge`` with the setting ``nucleon_charges`` (default: 15.1 Z + 14 N,
    Cerdeño et al. 2016, as in arXiv:2211.11905; ``"quark_ud"``: the engine's u + d sum)."""

    name = "light_scalar"
    title = "light scalar mediator"
    reference = "talk; arXiv:2211.11905 §6; Cerdeño et al. JHEP 05 (2016) 118"

    def default_settings(self) -> dict[str, Any]:
        return {**super().default_settings(), "nucleon_charges": "cerdeno2016"}

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        q_phi = light_scalar_charge(nucleus, self.settings["nucleon_charges"])
        scalar = unit_vector(1, 1, q_phi)
        return amplitude_terms("V", [("F", self._sm(nucleus, physics))]) + amplitude_terms(
            "S", [("Fw", scalar)]
        )


class LightTensor(_Mediator):
    """Tensor mediator coupled with g to u, d and ν: C_T = ε Q_T w (T structure, κ_T = 8)."""

    name = "light_tensor"
    title = "light tensor mediator"
    reference = "talk; arXiv:2211.11905 §6"

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        tensor = unit_vector(1, 1, quark_sum("T", nucleus))
        return amplitude_terms("V", [("F", self._sm(nucleus, physics))]) + amplitude_terms(
            "T", [("Fw", tensor)]
        )


class LeptoquarkS1(_Mediator):
    """S₁ leptoquark with λ_1j = (g, g, 0): Q_ij = ε (Z + 2N) w for i, j ∈ {e, μ}."""

    name = "leptoquark_s1"
    title = "S₁ leptoquark"
    reference = "talk; De Romeri, Lozano & Sanchez Garcia arXiv:2307.13790"
    couplings = (
        ModelCoupling(
            "eps",
            "1 (units of G_F)",
            "reduced coupling g²/(4√2 G_F (m² + μ_ref²)): ε^{dV}_{ij}, i,j ∈ {e, μ}, for m → ∞",
        ),
    )
    mass_range_mev = (1.0, 1e7)
    reduced_factor = 0.25

    def cancellation_eps(self, nucleus: Isotope, physics) -> float | None:
        """(Q_V + Q_LQ)² + Q_LQ² = Q_V² ⇔ Q_LQ = −Q_V: ε = −Q_V/(Z + 2N) (the talk's band)."""
        return -weak_charge_sm(nucleus, physics["sin2_theta_w"], physics["weak_charge"]) / (
            nucleus.z + 2 * nucleus.n
        )

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        lq = unit_vector(1, 1, float(nucleus.z + 2 * nucleus.n))
        diagonal = amplitude_terms("V", [("F", self._sm(nucleus, physics)), ("Fw", lq)])
        if component.flavour not in ("e", "mu"):
            return amplitude_terms("V", [("F", self._sm(nucleus, physics))])
        # + |Q_ij|² for the other flavour j ≠ i of {e, μ}
        return merge_terms(diagonal + amplitude_terms("V", [("Fw", lq)]))
