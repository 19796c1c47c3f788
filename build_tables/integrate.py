"""Base integrals R[nucleus, flux component, structure, bin] (arXiv:2402.16953 Eq. 15).

    R = N_target η ∫ dT (G_F² M/π) F²(q) ∫ dE φ(E) shape_X(E, T) · P_b(T)

with shape_X = c₀(T) + c₂(T)/E² (``kinematic_shape``): the E-integral is exact through the
flux moments G0, G2 (``flux.delayed_moments``; the prompt line is a δ function), and the
T-integral uses the detector's panelled Gauss–Legendre quadrature. Counts per bin follow for
any couplings from ``models.couplings.response_tensor``.
"""

import numpy as np

from cevnsfast.constants import E_PROMPT_MEV
from cevnsfast.detectors.detector import Detector, QuadratureSettings
from cevnsfast.physics.cross_sections import (
    STRUCTURES,
    e_min_mev,
    kinematic_shape,
    prefactor_cm2_per_mev,
    t_max_mev,
)
from cevnsfast.physics.flux import FLUX_COMPONENTS, delayed_moments


def base_integrals(
    detector: Detector,
    settings: QuadratureSettings,
    radius_scale: float = 1.0,
    time_shift_us: float = 0.0,
) -> np.ndarray:
    """R[nucleus, component, structure, bin] in events (for unit couplings of each structure).

    With time binning, ``bin`` runs over energy × time (energy-major, Eq. 16).
    """
    n_bins = len(detector.spec.bin_edges) - 1
    out = np.zeros((len(detector.targets), len(FLUX_COMPONENTS), len(STRUCTURES), n_bins))
    physics = detector.spec.physics
    for ni, target in enumerate(detector.targets):
        nucleus = target.nucleus
        t_kev, w_kev = detector.recoil_nodes_kevnr(nucleus, settings)
        t_mev, w_mev = 1e-3 * t_kev, 1e-3 * w_kev
        pref = prefactor_cm2_per_mev(
            t_mev, nucleus, physics["form_factor"], radius_scale, physics["form_factor_params"]
        )
        prob = detector.response.bin_probabilities(t_kev)
        scale = target.n_targets * detector.fluence_cm2
        for fi, component in enumerate(FLUX_COMPONENTS):
            if component.prompt:
                g0 = (t_mev <= t_max_mev(E_PROMPT_MEV, nucleus.mass_mev)).astype(float)
                g2 = g0 / E_PROMPT_MEV**2
            else:
                g0, g2 = delayed_moments(component.name, e_min_mev(t_mev, nucleus.mass_mev))
            for si, structure in enumerate(STRUCTURES):
                c0, c2 = kinematic_shape(structure, t_mev, nucleus.mass_mev)
                out[ni, fi, si] = scale * ((pref * (c0 * g0 + c2 * g2) * w_mev) @ prob)
    # [n, f, s, bE] → [n, s, f, bE] so the component axis sits next to the energy bins
    folded = detector.fold_time(out.transpose(0, 2, 1, 3), time_shift_us)
    return folded.transpose(0, 2, 1, 3)
