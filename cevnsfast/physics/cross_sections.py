"""CEvNS differential cross sections: SM, vector NSI, scalar and tensor GNI.

Reference: arXiv:2402.16953 Eqs. (1)–(2) (SM) and (6)–(9) (GNI), after Lindner, Rodejohann &
Xu (arXiv:1612.04150) and Aristizabal Sierra, De Romeri & Rojas (arXiv:1806.07424). Terms of
order T/E are dropped, as in the paper. Energies in MeV; cross sections in cm² MeV⁻¹.

For an incoming ν_α (or ν̄_α) of energy E on a nucleus (Z, N, M), summed over the outgoing
flavour β:

    dσ/dT = (G_F² M/π) F²(q) Σ_β [ |Q_V δ_αβ + C_V^{αβ}|² (1 − MT/2E²)
                                   + κ_S |C_S^{αβ}|² MT/E² + κ_T |C_T^{αβ}|² (1 − MT/4E²) ]

Every kinematic structure is of the form c₀ + c₂/E² in the neutrino energy, which is what
lets the build integrate the flux with two analytic moments (``flux.delayed_moments``).

Coupling conventions (real couplings; the paper's Majorana assumption): vector ε hermitian,
scalar ε symmetric, tensor ε antisymmetric in flavour (so diagonal tensor couplings vanish).
For antineutrinos C → C*, identical for real couplings.
"""

from collections.abc import Mapping

import numpy as np

from cevnsfast.constants import (
    G_F_MEV2,
    G_V_NEUTRON_RADIATIVE,
    G_V_PROTON_RADIATIVE,
    HBARC_MEV_CM,
    M_N_MEV,
    M_P_MEV,
    SIN2_THETA_W_DEFAULT,
    SIN2_THETA_W_RADIATIVE_REFERENCE,
)
from cevnsfast.nuclei import Isotope
from cevnsfast.physics import gni_normalisation as gn
from cevnsfast.physics.form_factors import form_factor

FLAVOURS = ("e", "mu", "tau")
QUARKS = ("u", "d")
STRUCTURES = ("V", "S", "T")

CouplingKey = tuple[str, str, str, str]
"""(structure 'V'|'S'|'T', quark 'u'|'d', flavour α, flavour β)."""


def t_max_mev(e_nu_mev: np.ndarray, mass_mev: float) -> np.ndarray:
    """Largest recoil energy for neutrino energy E: T_max = 2E²/(M + 2E)."""
    e = np.asarray(e_nu_mev, dtype=float)
    return 2.0 * e**2 / (mass_mev + 2.0 * e)


def e_min_mev(t_mev: np.ndarray, mass_mev: float) -> np.ndarray:
    """Smallest neutrino energy giving recoil T: E_min = (T + sqrt(T² + 2MT))/2."""
    t = np.asarray(t_mev, dtype=float)
    return 0.5 * (t + np.sqrt(t**2 + 2.0 * mass_mev * t))


WEAK_CHARGE_MODES = ("tree", "radiative")
"""How the SM weak charge is computed (spec field ``physics.weak_charge``): ``tree`` —
g_V^p = 1/2 − 2 sin²θ_W, g_V^n = −1/2 (arXiv:2402.16953 Eq. 2, which neglects the small
radiative corrections); ``radiative`` — PDG's radiatively corrected couplings
(``constants.G_V_PROTON_RADIATIVE``, ``G_V_NEUTRON_RADIATIVE``), as COHERENT's own rate code."""


def nucleon_vector_couplings(
    sin2_theta_w: float = SIN2_THETA_W_DEFAULT, weak_charge: str = "tree"
) -> tuple[float, float]:
    """(g_V^p, g_V^n) of the SM neutral current, flavour-independent.

    tree:       g_V^p = 1/2 − 2 s²,                      g_V^n = −1/2   (Eq. 2)
    radiative:  g_V^p = 0.0298 − 2 (s² − s²_ref),        g_V^n = −0.5117

    (PDG 2015 after Erler & Su 2013; s²_ref = ``SIN2_THETA_W_RADIATIVE_REFERENCE``). In both
    modes ∂g_V^p/∂s² = −2, so a weak-mixing-angle shift, the charge radius (a shift of g_V^p)
    and the mediator cancellation act on the same Q_V in either mode.
    """
    if weak_charge == "tree":
        return 0.5 - 2.0 * sin2_theta_w, -0.5
    if weak_charge == "radiative":
        shift = -2.0 * (sin2_theta_w - SIN2_THETA_W_RADIATIVE_REFERENCE)
        return G_V_PROTON_RADIATIVE + shift, G_V_NEUTRON_RADIATIVE
    raise ValueError(f"weak_charge must be one of {WEAK_CHARGE_MODES}, got {weak_charge!r}")


def weak_charge_sm(
    nucleus: Isotope, sin2_theta_w: float = SIN2_THETA_W_DEFAULT, weak_charge: str = "tree"
) -> float:
    """Q_V = g_V^p Z + g_V^n N with the couplings of ``nucleon_vector_couplings`` (Eq. 2)."""
    g_p, g_n = nucleon_vector_couplings(sin2_theta_w, weak_charge)
    return g_p * nucleus.z + g_n * nucleus.n


def nucleus_coefficient(structure: str, quark: str, nucleus: Isotope) -> float:
    """How a quark-level coupling ε^{qX} enters the nuclear charge C_X (Eqs. 7–9).

    V: u → 2Z + N, d → Z + 2N (valence-quark counting).
    S: Z (m_p/m_q) f^p_Tq + N (m_n/m_q) f^n_Tq (Eq. 7, nucleon scalar form factors).
    T: Z δ^p_q + N δ^n_q with isospin symmetry δ^n_u = δ^p_d, δ^n_d = δ^p_u (Eq. 9).
    """
    z, n = nucleus.z, nucleus.n
    if structure == "V":
        return float(2 * z + n) if quark == "u" else float(z + 2 * n)
    if structure == "S":
        if quark == "u":
            return (z * M_P_MEV * gn.F_TU_P + n * M_N_MEV * gn.F_TU_N) / gn.M_U_MEV
        return (z * M_P_MEV * gn.F_TD_P + n * M_N_MEV * gn.F_TD_N) / gn.M_D_MEV
    if structure == "T":
        if quark == "u":
            return z * gn.DELTA_U_P + n * gn.DELTA_D_P
        return z * gn.DELTA_D_P + n * gn.DELTA_U_P
    raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}")


def kinematic_shape(structure: str, t_mev, mass_mev: float) -> tuple[np.ndarray, np.ndarray]:
    """(c₀, c₂) with shape = c₀ + c₂/E², including the κ normalisation of S and T.

    V: 1 − MT/(2E²);  S: κ_S MT/E²;  T: κ_T (1 − MT/(4E²))   (Eq. 6).
    """
    mt = mass_mev * np.asarray(t_mev, dtype=float)
    if structure == "V":
        return np.ones_like(mt), -0.5 * mt
    if structure == "S":
        return np.zeros_like(mt), gn.KAPPA_SCALAR * mt
    if structure == "T":
        return gn.KAPPA_TENSOR * np.ones_like(mt), -0.25 * gn.KAPPA_TENSOR * mt
    raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}")


def prefactor_cm2_per_mev(
    t_mev: np.ndarray,
    nucleus: Isotope,
    form_factor_name: str = "klein_nystrand",
    radius_scale: float = 1.0,
    form_factor_params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """(G_F² M/π) F²(q) in cm² MeV⁻¹, q = sqrt(2 M T) (the common factor of Eq. 6)."""
    q = np.sqrt(2.0 * nucleus.mass_mev * np.asarray(t_mev, dtype=float))
    f = form_factor(
        form_factor_name, q, nucleus.a, radius_scale=radius_scale, **(form_factor_params or {})
    )
    return G_F_MEV2**2 * nucleus.mass_mev / np.pi * f**2 * HBARC_MEV_CM**2


def coupling_value(
    couplings: Mapping[CouplingKey, float], structure: str, quark: str, alpha: str, beta: str
) -> float:
    """ε^{qX}_{αβ} from couplings stored once per unordered flavour pair.

    The symmetry of each matrix (vector hermitian → symmetric for real ε; scalar symmetric;
    tensor antisymmetric, Majorana) gives the other ordering.
    """
    if (structure, quark, alpha, beta) in couplings:
        return couplings[(structure, quark, alpha, beta)]
    value = couplings.get((structure, quark, beta, alpha), 0.0)
    return -value if structure == "T" else value


def dsigma_dt_cm2_per_mev(
    e_nu_mev: np.ndarray,
    t_mev: np.ndarray,
    nucleus: Isotope,
    alpha: str,
    couplings: Mapping[CouplingKey, float] | None = None,
    sin2_theta_w: float = SIN2_THETA_W_DEFAULT,
    form_factor_name: str = "klein_nystrand",
    radius_scale: float = 1.0,
    form_factor_params: Mapping[str, float] | None = None,
    weak_charge: str = "tree",
) -> np.ndarray:
    """dσ/dT for ν_α (or ν̄_α: identical for real couplings) of energy E, summed over β (Eq. 6).

    Zero where T exceeds the kinematic end point T_max(E). ``couplings`` maps
    (structure, quark, α, β) to the real Lagrangian coupling ε^{qX}_{αβ}.
    """
    couplings = couplings or {}
    e = np.asarray(e_nu_mev, dtype=float)
    t = np.asarray(t_mev, dtype=float)
    m = nucleus.mass_mev
    q_sm = weak_charge_sm(nucleus, sin2_theta_w, weak_charge)
    total = np.zeros(np.broadcast(e, t).shape)
    for beta in FLAVOURS:
        charges = {}
        for structure in STRUCTURES:
            charges[structure] = sum(
                coupling_value(couplings, structure, q, alpha, beta)
                * nucleus_coefficient(structure, q, nucleus)
                for q in QUARKS
            )
        q_v = (q_sm if beta == alpha else 0.0) + charges["V"]
        total = total + q_v**2 * (1.0 - m * t / (2.0 * e**2))
        total = total + gn.KAPPA_SCALAR * charges["S"] ** 2 * m * t / e**2
        total = total + gn.KAPPA_TENSOR * charges["T"] ** 2 * (1.0 - m * t / (4.0 * e**2))
    allowed = t <= t_max_mev(e, m)
    pref = prefactor_cm2_per_mev(t, nucleus, form_factor_name, radius_scale, form_factor_params)
    return np.where(allowed, pref * total, 0.0)
