"""Generalised neutrino interactions C_V, C_S, C_T in the talk's universal parametrisation.

Talk (docs/models.md), arXiv:2211.11905 §7, after Lindner, Rodejohann & Xu
(arXiv:1612.04150) and Aristizabal Sierra, De Romeri & Rojas (arXiv:1806.07424): one coupling
per Lorentz structure, the same for u and d quarks (C_X^u = C_X^d ≡ C_X) and for every
neutrino flavour, flavour-diagonal (ν_α → ν_α). The quark couplings become nucleon and
nuclear charges through the nucleon matrix elements of ``cross_sections.nucleus_coefficient``
(valence counting for V; the scalar charges m_N/m_q f^N_Tq; the tensor charges δ^N_q):

    Σ_V = 3(Z + N),  Σ_S = Σ_q (Z m_p/m_q f^p_Tq + N m_n/m_q f^n_Tq),  Σ_T = Σ_q (Z δ^p_q + N δ^n_q)

and the cross section is the engine's GNI formula (Lagrangian and κ_S = ½, κ_T = 8 of
``physics.gni_normalisation``) with C_V Σ_V, C_S Σ_S, C_T Σ_T as nuclear charges. Diagonal
tensor couplings assume Dirac neutrinos (for Majorana they vanish, README).
"""

from cevnsfast.models.terms import Model, ModelCoupling, RateTerm, amplitude_terms, unit_vector
from cevnsfast.nuclei import Isotope
from cevnsfast.physics.cross_sections import nucleus_coefficient, weak_charge_sm
from cevnsfast.physics.flux import FluxComponent


def quark_sum(structure: str, nucleus: Isotope) -> float:
    """Σ_X: nuclear charge per unit coupling when u and d couple equally."""
    return nucleus_coefficient(structure, "u", nucleus) + nucleus_coefficient(
        structure, "d", nucleus
    )


class GeneralisedInteractions(Model):
    """Vector, scalar and tensor GNI couplings C_V, C_S, C_T (units of G_F, u = d)."""

    name = "gni"
    title = "generalised neutrino interactions"
    reference = "talk; arXiv:2211.11905 §7; arXiv:1612.04150; arXiv:1806.07424"
    couplings = (
        ModelCoupling("C_V", "1 (units of G_F)", "vector coupling to u and d quarks"),
        ModelCoupling("C_S", "1 (units of G_F)", "scalar coupling to u and d quarks"),
        ModelCoupling("C_T", "1 (units of G_F)", "tensor coupling to u and d quarks"),
    )

    def rate_terms(self, nucleus: Isotope, component: FluxComponent, physics) -> list[RateTerm]:
        vector = unit_vector(
            3, 0, weak_charge_sm(nucleus, physics["sin2_theta_w"], physics["weak_charge"])
        )
        vector[1] = quark_sum("V", nucleus)
        return (
            amplitude_terms("V", [("F", vector)])
            + amplitude_terms("S", [("F", unit_vector(3, 2, quark_sum("S", nucleus)))])
            + amplitude_terms("T", [("F", unit_vector(3, 3, quark_sum("T", nucleus)))])
        )
