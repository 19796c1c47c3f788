"""Nuclear form factors F(q), q the three-momentum transfer in MeV (q = sqrt(2 M T)).

The same form factor is used for protons and neutrons (arXiv:2402.16953 below Eq. 1).
``radius_scale`` multiplies the nuclear radius: the CsI 2021 fit's α4 nuisance.
"""

import numpy as np

from cevnsfast.constants import HBARC_MEV_FM

KN_R0_FM = 1.23
"""Klein–Nystrand radius coefficient, R_A = 1.23 A^{1/3} fm (physics card Eq. 3) [assumed]."""
KN_AK_FM = 0.7
"""Klein–Nystrand Yukawa range a_k = 0.7 fm (Klein & Nystrand, PRC 60 014903) [assumed]."""


def _j1_over_x(x: np.ndarray) -> np.ndarray:
    """3 j₁(x)/x with its Taylor series near 0 (the closed form cancels catastrophically)."""
    x = np.asarray(x, dtype=float)
    small = x < 1e-3
    xs = np.where(small, 1.0, x)
    closed = 3.0 * (np.sin(xs) - xs * np.cos(xs)) / xs**3
    series = 1.0 - x**2 / 10.0 + x**4 / 280.0
    return np.where(small, series, closed)


def klein_nystrand(
    q_mev: np.ndarray,
    a: int,
    radius_scale: float = 1.0,
    r0_fm: float = KN_R0_FM,
    ak_fm: float = KN_AK_FM,
) -> np.ndarray:
    """Klein–Nystrand form factor (arXiv:2402.16953 Eq. 3; Klein & Nystrand PRC 60 014903).

    F(q) = 3 j₁(q R_A)/(q R_A) · 1/(1 + q² a_k²),  R_A = r0 A^{1/3} · radius_scale.
    """
    q_fm = np.asarray(q_mev, dtype=float) / HBARC_MEV_FM
    r_a = r0_fm * a ** (1.0 / 3.0) * radius_scale
    return _j1_over_x(q_fm * r_a) / (1.0 + (q_fm * ak_fm) ** 2)


def helm(
    q_mev: np.ndarray,
    a: int,
    radius_scale: float = 1.0,
    skin_fm: float = 0.9,
) -> np.ndarray:
    """Helm form factor (Lewin & Smith, Astropart. Phys. 6 (1996) 87, Eq. 4.11).

    F(q) = 3 j₁(q R₀)/(q R₀) · exp(−q² s²/2), R₀² = c² + 7/3 π² a² − 5 s², with
    c = 1.23 A^{1/3} − 0.6 fm, a = 0.52 fm, s = 0.9 fm; ``radius_scale`` multiplies R₀.
    """
    q_fm = np.asarray(q_mev, dtype=float) / HBARC_MEV_FM
    c = 1.23 * a ** (1.0 / 3.0) - 0.6
    r0 = np.sqrt(c**2 + 7.0 / 3.0 * np.pi**2 * 0.52**2 - 5.0 * skin_fm**2) * radius_scale
    return _j1_over_x(q_fm * r0) * np.exp(-((q_fm * skin_fm) ** 2) / 2.0)


def point_nucleus(q_mev: np.ndarray, a: int, radius_scale: float = 1.0) -> np.ndarray:
    """F = 1: the point-like nucleus limit (full coherence), for limits and checks."""
    return np.ones_like(np.asarray(q_mev, dtype=float))


FORM_FACTORS = {"klein_nystrand": klein_nystrand, "helm": helm, "point": point_nucleus}


FORM_FACTOR_PARAMS = {"klein_nystrand": ("r0_fm", "ak_fm"), "helm": ("skin_fm",), "point": ()}
"""Parameters each form factor accepts (a spec's ``physics.form_factor_params``)."""


def form_factor(
    name: str, q_mev: np.ndarray, a: int, radius_scale: float = 1.0, **params: float
) -> np.ndarray:
    """Dispatch by name ('klein_nystrand', 'helm' or 'point'); ``params`` override the
    defaults (e.g. ``r0_fm``, ``ak_fm`` of Klein–Nystrand)."""
    if name not in FORM_FACTORS:
        raise ValueError(f"form_factor must be one of {sorted(FORM_FACTORS)}, got {name!r}")
    return FORM_FACTORS[name](q_mev, a, radius_scale=radius_scale, **params)
