"""Minimal explicit Dirac algebra for the independent GNI normalisation check.

Nothing here is shared with the engine: the gamma matrices are built from Pauli matrices in
the Dirac representation and every spin sum is done numerically, either with traces of
4x4 matrices or with explicit helicity spinors. Conventions (Peskin & Schroeder):
metric diag(+1, -1, -1, -1), gamma5 = i g0 g1 g2 g3, sigma^{mu nu} = (i/2)[g^mu, g^nu],
P_L = (1 - gamma5)/2, bar(Gamma) = g0 Gamma^dagger g0.

Process: nu(k) + N(p) -> nu(k') + N(p') with a point-like Dirac target N of mass M, lab frame
(target at rest), massless neutrino. An *operator channel* is a pair of 4x4 matrices
(lepton matrix L, hadron matrix H) and a complex coefficient c; the amplitude is

    M = sum_channels c [ubar(k') L u(k)] [ubar(p') H u(p)]            (neutrino)
    M = sum_channels c [vbar(k)  L v(k')] [ubar(p') H u(p)]           (antineutrino)

(an overall phase, e.g. the fermion-ordering sign for antineutrinos, drops out of |M|^2).
A Lorentz contraction such as gamma^mu x gamma_mu is written as four channels with the lower
index carried by the metric sign.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Channel = tuple[complex, np.ndarray, np.ndarray]

_I2 = np.eye(2, dtype=complex)
_Z2 = np.zeros((2, 2), dtype=complex)
PAULI = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)

METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
GAMMA = (np.block([[_I2, _Z2], [_Z2, -_I2]]),) + tuple(
    np.block([[_Z2, s], [-s, _Z2]]) for s in PAULI
)
GAMMA5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
ID4 = np.eye(4, dtype=complex)
P_L = (ID4 - GAMMA5) / 2
P_R = (ID4 + GAMMA5) / 2
SIGMA = tuple(
    tuple(0.5j * (GAMMA[m] @ GAMMA[n] - GAMMA[n] @ GAMMA[m]) for n in range(4)) for m in range(4)
)


def slash(p: np.ndarray) -> np.ndarray:
    """p_mu gamma^mu for a contravariant four-vector p."""
    return sum(METRIC[m, m] * p[m] * GAMMA[m] for m in range(4))


def dirac_bar(gamma: np.ndarray) -> np.ndarray:
    """g0 Gamma^dagger g0, so that (ubar_1 Gamma u_2)^* = ubar_2 bar(Gamma) u_1."""
    return GAMMA[0] @ gamma.conj().T @ GAMMA[0]


def minkowski(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ METRIC @ b)


def lab_kinematics(e_nu: float, t_rec: float, m_target: float):
    """Four-momenta (k, k', p, p') for incoming energy E, recoil kinetic energy T, target mass M.

    The neutrino comes in along +z; the recoil lies in the x-z plane. Requires
    0 < T <= T_max = 2E^2/(M + 2E).
    """
    t_max = 2.0 * e_nu**2 / (m_target + 2.0 * e_nu)
    if not 0.0 < t_rec <= t_max * (1.0 + 1e-12):
        raise ValueError(f"T={t_rec} outside (0, T_max={t_max}]")
    q_mag = np.sqrt(t_rec**2 + 2.0 * m_target * t_rec)
    e_out = e_nu - t_rec
    cos_q = (e_nu**2 + q_mag**2 - e_out**2) / (2.0 * e_nu * q_mag)
    sin_q = np.sqrt(max(0.0, 1.0 - cos_q**2))
    q = np.array([t_rec, q_mag * sin_q, 0.0, q_mag * cos_q])
    k = np.array([e_nu, 0.0, 0.0, e_nu])
    p = np.array([m_target, 0.0, 0.0, 0.0])
    return k, k - q, p, p + q


# --- operator channels -------------------------------------------------------------------


def scalar_channels(c: complex, chirality: np.ndarray = P_L) -> list[Channel]:
    """c (nubar chi nu)(Nbar N)."""
    return [(c, chirality, ID4)]


def vector_channels(c: complex, chirality: np.ndarray = P_L) -> list[Channel]:
    """c (nubar gamma^mu chi nu)(Nbar gamma_mu N)."""
    return [(c * METRIC[m, m], GAMMA[m] @ chirality, GAMMA[m]) for m in range(4)]


def tensor_channels(c: complex, chirality: np.ndarray = P_L) -> list[Channel]:
    """c (nubar sigma^{mu nu} chi nu)(Nbar sigma_{mu nu} N), summed over all mu, nu."""
    return [
        (c * METRIC[m, m] * METRIC[n, n], SIGMA[m][n] @ chirality, SIGMA[m][n])
        for m in range(4)
        for n in range(4)
        if m != n
    ]


# --- spin sums ---------------------------------------------------------------------------


def msq_traces(
    channels: Sequence[Channel], e_nu: float, t_rec: float, m_target: float, antineutrino=False
) -> float:
    """Sum of |M|^2 over final spins and the target's initial spin (not averaged), for a
    left-handed neutrino (or right-handed antineutrino) of fixed helicity, by traces.

    The incoming helicity is fixed with u_L ubar_L = P_L kslash (v_R vbar_R = P_L kslash);
    outgoing neutrino spins are summed with kslash' (both helicities allowed, so the
    operators decide which one is produced).
    """
    k, kp, p, pp = lab_kinematics(e_nu, t_rec, m_target)
    rho_in = P_L @ slash(k)
    rho_out = slash(kp)
    had_out = slash(pp) + m_target * ID4
    had_in = slash(p) + m_target * ID4
    total = 0.0 + 0.0j
    for c_a, l_a, h_a in channels:
        for c_b, l_b, h_b in channels:
            if antineutrino:
                lep = np.trace(rho_in @ l_a @ rho_out @ dirac_bar(l_b))
            else:
                lep = np.trace(rho_out @ l_a @ rho_in @ dirac_bar(l_b))
            had = np.trace(had_out @ h_a @ had_in @ dirac_bar(h_b))
            total += c_a * np.conj(c_b) * lep * had
    if abs(total.imag) > 1e-9 * max(1.0, abs(total.real)):
        raise ArithmeticError(f"spin sum not real: {total}")
    return float(total.real)


def _two_spinor(direction: np.ndarray, helicity: int) -> np.ndarray:
    """Helicity eigenstate chi with (sigma . n) chi = helicity * chi."""
    n = direction / np.linalg.norm(direction)
    s_n = n[0] * PAULI[0] + n[1] * PAULI[1] + n[2] * PAULI[2]
    vals, vecs = np.linalg.eigh(s_n)
    return vecs[:, int(np.argmin(np.abs(vals - helicity)))]


def u_spinor(p: np.ndarray, mass: float, helicity: int, rest_axis=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Dirac-representation u(p, h), normalised to ubar u = 2m (u^dagger u = 2E)."""
    pvec = p[1:]
    axis = pvec if np.linalg.norm(pvec) > 0 else np.asarray(rest_axis)
    chi = _two_spinor(axis, helicity)
    e = p[0]
    s_p = pvec[0] * PAULI[0] + pvec[1] * PAULI[1] + pvec[2] * PAULI[2]
    return np.concatenate([np.sqrt(e + mass) * chi, (s_p @ chi) / np.sqrt(e + mass)])


def v_spinor(p: np.ndarray, mass: float, helicity: int) -> np.ndarray:
    """Dirac-representation v(p, h) for an antiparticle of physical helicity h."""
    pvec = p[1:]
    eta = _two_spinor(pvec, -helicity)
    e = p[0]
    s_p = pvec[0] * PAULI[0] + pvec[1] * PAULI[1] + pvec[2] * PAULI[2]
    return np.concatenate([(s_p @ eta) / np.sqrt(e + mass), np.sqrt(e + mass) * eta])


def msq_spinors(
    channels: Sequence[Channel], e_nu: float, t_rec: float, m_target: float, antineutrino=False
) -> float:
    """Same quantity as :func:`msq_traces`, from explicit helicity amplitudes."""
    k, kp, p, pp = lab_kinematics(e_nu, t_rec, m_target)
    total = 0.0
    h_in = +1 if antineutrino else -1
    for h_out in (-1, +1):
        if antineutrino:
            a_in, a_out = v_spinor(k, 0.0, h_in), v_spinor(kp, 0.0, h_out)
        else:
            a_in, a_out = u_spinor(k, 0.0, h_in), u_spinor(kp, 0.0, h_out)
        for s_in in (-1, +1):
            for s_out in (-1, +1):
                n_in = u_spinor(p, m_target, s_in)
                n_out = u_spinor(pp, m_target, s_out)
                amp = 0.0 + 0.0j
                for c, lep, had in channels:
                    if antineutrino:
                        lc = a_in.conj() @ GAMMA[0] @ lep @ a_out
                    else:
                        lc = a_out.conj() @ GAMMA[0] @ lep @ a_in
                    amp += c * lc * (n_out.conj() @ GAMMA[0] @ had @ n_in)
                total += abs(amp) ** 2
    return total


def dsigma_dt_from_msq(msq_summed: float, e_nu: float, m_target: float) -> float:
    """dsigma/dT = <|M|^2> / (32 pi M E^2), <|M|^2> = spin sum / 2 (target spin average;
    the neutrino is fully polarised, so no factor 1/2 for it).

    From dsigma/dt = <|M|^2> / (16 pi (s - M^2)^2), s - M^2 = 2 M E, |dt/dT| = 2 M.
    """
    return 0.5 * msq_summed / (32.0 * np.pi * m_target * e_nu**2)
