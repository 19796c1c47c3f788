"""Neutrino arrival-time distributions at the SNS and their integrals over time bins
(arXiv:2402.16953 Eq. 16; De Romeri et al. arXiv:2211.11905 App. A).

The paper uses tabulated time PDFs (Picciau thesis); the official 2D flux file is not
public here, so they are modelled: the proton-on-target pulse is a Gaussian (mean μ_p,
width σ_p), the prompt ν_μ follows it after the π⁺ lifetime, and the delayed ν_e, ν̄_μ
after the π⁺ and then the μ⁺ lifetime:

    prompt : G ⊗ Exp(τ_π)            (exponentially modified Gaussian, EMG)
    delayed: G ⊗ Exp(τ_π) ⊗ Exp(τ_μ) = [τ_μ EMG(τ_μ) − τ_π EMG(τ_π)] / (τ_μ − τ_π)

Times in µs. The CsI 2021 timing efficiency ε_T(t) = 1 for t < 0.52 µs and
exp(−0.0494 µs⁻¹ (t − 0.52 µs)) after (release notes) multiplies the PDFs before binning.
A beam-timing shift (CsI nuisance α7) moves μ_p.
"""

import numpy as np
from scipy.special import log_ndtr

from cevnsfast.constants import TAU_MU_NS, TAU_PI_NS
from cevnsfast.physics.flux import FLUX_COMPONENTS

TAU_PI_US = TAU_PI_NS * 1e-3
TAU_MU_US = TAU_MU_NS * 1e-3


def emg_pdf(t_us: np.ndarray, mean_us: float, sigma_us: float, tau_us: float) -> np.ndarray:
    """Gaussian(mean, σ) ⊗ (1/τ) e^{−t/τ}: the exponentially modified Gaussian, in log space
    so that σ ≫ τ (the π⁺ lifetime is 26 ns against a 150 ns pulse) stays finite."""
    t = np.asarray(t_us, dtype=float)
    z = (t - mean_us) / sigma_us - sigma_us / tau_us
    log_p = -np.log(tau_us) + (mean_us - t) / tau_us + sigma_us**2 / (2 * tau_us**2) + log_ndtr(z)
    return np.exp(log_p)


def arrival_pdf(component: str, t_us: np.ndarray, mean_us: float, sigma_us: float) -> np.ndarray:
    """Arrival-time density (µs⁻¹) of flux component ``component`` (unit normalised on ℝ)."""
    prompt = {c.name: c.prompt for c in FLUX_COMPONENTS}
    if component not in prompt:
        raise ValueError(f"unknown flux component {component!r}; known: {sorted(prompt)}")
    if prompt[component]:
        return emg_pdf(t_us, mean_us, sigma_us, TAU_PI_US)
    slow = emg_pdf(t_us, mean_us, sigma_us, TAU_MU_US)
    fast = emg_pdf(t_us, mean_us, sigma_us, TAU_PI_US)
    return (TAU_MU_US * slow - TAU_PI_US * fast) / (TAU_MU_US - TAU_PI_US)


def timing_efficiency(t_us: np.ndarray, onset_us: float, decay_per_us: float) -> np.ndarray:
    """CsI 2021 timing efficiency: 1 before ``onset_us``, exponential decay after."""
    t = np.asarray(t_us, dtype=float)
    return np.where(t < onset_us, 1.0, np.exp(-decay_per_us * (t - onset_us)))


def time_bin_weights(
    edges_us: np.ndarray,
    mean_us: float,
    sigma_us: float,
    onset_us: float,
    decay_per_us: float,
    shift_us: float = 0.0,
    nodes_per_panel: int = 48,
) -> np.ndarray:
    """p[component, time bin] = ∫_bin f_component(t) ε_T(t) dt (Eq. 16).

    Gauss–Legendre per bin, panels split at the efficiency onset; the pulse is sampled at
    ≤ 25 ns panels so its 150 ns Gaussian and the 26 ns π⁺ tail are resolved.
    """
    edges = np.asarray(edges_us, dtype=float)
    x_ref, w_ref = np.polynomial.legendre.leggauss(nodes_per_panel)
    out = np.zeros((len(FLUX_COMPONENTS), len(edges) - 1))
    for b, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        cuts = [lo, *([onset_us] if lo < onset_us < hi else []), hi]
        for p_lo, p_hi in zip(cuts[:-1], cuts[1:], strict=True):
            n_sub = max(1, int(np.ceil((p_hi - p_lo) / 0.025)))
            sub = np.linspace(p_lo, p_hi, n_sub + 1)
            half = 0.5 * np.diff(sub)
            t = (sub[:-1, None] + half[:, None] * (x_ref[None, :] + 1.0)).ravel()
            w = (half[:, None] * w_ref[None, :]).ravel()
            eff = timing_efficiency(t, onset_us, decay_per_us)
            for fi, c in enumerate(FLUX_COMPONENTS):
                out[fi, b] += np.sum(w * eff * arrival_pdf(c.name, t, mean_us + shift_us, sigma_us))
    return out
