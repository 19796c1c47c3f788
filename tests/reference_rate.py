"""An independent Standard-Model CEvNS rate at the SNS for an ideal detector (tests only).

Shares no code with cevnsfast: every input is a literal here, with its source, and the
integrals are plain Gauss–Legendre sums. An ideal detector sees nuclear recoils T in keVnr
with efficiency 1 and no smearing, so the counts in [T_lo, T_hi] are

    N = Σ_nuclei N_T ∫ dT η [ dσ/dT(E_π, T) + ∫ dE (φ_νe(E) + φ_ν̄μ(E)) dσ/dT(E, T) ]

with (arXiv:2402.16953 Eqs. 1–3, 12–15; Freedman 1974)

    dσ/dT = G_F² M/(4π) Q_W² (1 − M T/(2E²)) F²(q),   q = √(2 M T)
    Q_W = N − (1 − 4 sin²θ_W) Z   (tree level; or −2 (g_V^p Z + g_V^n N) with the
                                   radiatively corrected couplings of PDG 2015, below)
    F(q) = 3 j₁(q R_A)/(q R_A) · 1/(1 + q² a_k²),   R_A = 1.23 A^{1/3} fm, a_k = 0.7 fm
    φ_νe = (192/m_μ) y²(1/2 − y),  φ_ν̄μ = (64/m_μ) y²(3/4 − y),  y = E/m_μ ≤ 1/2 (Michel)
    E_π = (m_π² − m_μ²)/(2 m_π)   (prompt ν_μ line)
    η = r N_POT/(4π L²),   N_T = M_det N_A / (molar mass of the formula unit)
"""

import numpy as np

G_F_MEV2 = 1.1663788e-11  # Fermi constant, MeV⁻² (PDG 2022)
HBARC_MEV_FM = 197.3269804  # ħc, MeV fm (CODATA 2018)
AMU_MEV = 931.49410242  # atomic mass unit, MeV (CODATA 2018)
M_E_MEV = 0.51099895  # electron mass (CODATA 2018)
M_MU_MEV = 105.6583755  # muon mass (PDG 2022)
M_PI_MEV = 139.57039  # charged-pion mass (PDG 2022)
N_AVOGADRO = 6.02214076e23  # exact (SI 2019)
SIN2_THETA_W = 0.23857  # low-energy MS-bar value (PDG 2022)
KN_R0_FM = 1.23  # Klein–Nystrand R_A = 1.23 A^{1/3} fm (arXiv:2402.16953 Eq. 3)
KN_AK_FM = 0.7  # Klein–Nystrand Yukawa range (Klein & Nystrand, PRC 60 014903)
RADIATIVE_G_V = (0.0298, -0.5117)  # (g_V^p, g_V^n), PDG 2015 after Erler & Su 2013

NUCLEI = {  # name: (Z, N, atomic mass in u, AME2020)
    "Cs133": (55, 78, 132.90545196),
    "I127": (53, 74, 126.9044719),
    "Na23": (11, 12, 22.98976928),
}

CSI_2021 = {  # COHERENT CsI[Na] 2021 (arXiv:2110.07730): 14.6 kg, 3.198e23 POT, r, L
    "formula": {"Cs133": 1, "I127": 1},
    "detected": ("Cs133", "I127"),
    "mass_kg": 14.6,
    "pot": 3.198e23,
    "nu_per_flavour_per_pot": 0.0848,
    "distance_m": 19.3,
}
NAI_FUTURE = {  # arXiv:2402.16953 Sec. III.3 (Na recoils only; r and L [assumed] there too)
    "formula": {"Na23": 1, "I127": 1},
    "detected": ("Na23",),
    "mass_kg": 3395.7,
    "pot": 5.19e23,
    "nu_per_flavour_per_pot": 0.13,
    "distance_m": 22.0,
}


def _gauss(lo: float, hi: float, panels: int, nodes: int = 12) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(nodes)
    edges = np.linspace(lo, hi, panels + 1)
    half = np.diff(edges)[:, None] / 2
    mid = (edges[:-1] + edges[1:])[:, None] / 2
    return (mid + half * x).ravel(), (half * w).ravel()


def _dsigma_cm2_per_mev(
    e: np.ndarray, t: np.ndarray, z: int, n: int, m: float, g_v: tuple | None = None
) -> np.ndarray:
    q_fm = np.sqrt(2 * m * t) / HBARC_MEV_FM
    x = q_fm * KN_R0_FM * (z + n) ** (1 / 3)
    f = 3 * (np.sin(x) - x * np.cos(x)) / x**3 / (1 + (q_fm * KN_AK_FM) ** 2)
    q_w = n - (1 - 4 * SIN2_THETA_W) * z if g_v is None else -2 * (g_v[0] * z + g_v[1] * n)
    shape = np.clip(1 - m * t / (2 * e**2), 0.0, None)  # 0 beyond T_max = 2E²/(M + 2E)
    return G_F_MEV2**2 * m / (4 * np.pi) * q_w**2 * shape * f**2 * (HBARC_MEV_FM * 1e-13) ** 2


def _per_recoil(t: float, z: int, n: int, m: float, g_v: tuple | None) -> float:
    """η⁻¹ dN/dT per target nucleus at recoil T (MeV): prompt line plus delayed spectra."""
    e_pi = (M_PI_MEV**2 - M_MU_MEV**2) / (2 * M_PI_MEV)
    e_min = (t + np.sqrt(t**2 + 2 * m * t)) / 2
    prompt = _dsigma_cm2_per_mev(np.array(e_pi), np.array(t), z, n, m, g_v)
    prompt = float(prompt) if e_pi > e_min else 0
    e_max = M_MU_MEV / 2
    if e_min >= e_max:
        return prompt
    e, w = _gauss(e_min, e_max, 8)
    y = e / M_MU_MEV
    michel = (192 / M_MU_MEV) * y**2 * (0.5 - y) + (64 / M_MU_MEV) * y**2 * (0.75 - y)
    per_e = _dsigma_cm2_per_mev(e, np.full_like(e, t), z, n, m, g_v)
    return prompt + float(np.sum(w * michel * per_e))


def ideal_counts(detector: dict, edges_kevnr: list[float], g_v: tuple | None = None) -> np.ndarray:
    """Expected SM CEvNS counts in recoil-energy bins (keVnr) of an ideal detector; ``g_v``
    = (g_V^p, g_V^n) replaces the tree-level couplings (e.g. ``RADIATIVE_G_V``)."""
    distance_cm = 100 * detector["distance_m"]
    eta = detector["nu_per_flavour_per_pot"] * detector["pot"] / (4 * np.pi * distance_cm**2)
    molar_g = sum(count * NUCLEI[iso][2] for iso, count in detector["formula"].items())
    formula_units = detector["mass_kg"] * 1e3 / molar_g * N_AVOGADRO
    e_pi = (M_PI_MEV**2 - M_MU_MEV**2) / (2 * M_PI_MEV)
    out = np.zeros(len(edges_kevnr) - 1)
    for iso in detector["detected"]:
        z, n, mass_u = NUCLEI[iso]
        m = mass_u * AMU_MEV - z * M_E_MEV
        t_prompt_max = 2 * e_pi**2 / (m + 2 * e_pi)  # the prompt line's recoil end point (kink)
        n_targets = formula_units * detector["formula"][iso]
        for b, (lo, hi) in enumerate(zip(edges_kevnr[:-1], edges_kevnr[1:], strict=True)):
            lo_mev, hi_mev = lo * 1e-3, hi * 1e-3
            pieces = sorted({lo_mev, hi_mev, min(max(t_prompt_max, lo_mev), hi_mev)})
            for a, c in zip(pieces[:-1], pieces[1:], strict=False):
                t, w = _gauss(a, c, 40)
                out[b] += (
                    n_targets
                    * eta
                    * sum(wi * _per_recoil(ti, z, n, m, g_v) for ti, wi in zip(t, w, strict=True))
                )
    return out
