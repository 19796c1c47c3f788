"""Direct-integration twin of the ν–e scattering part of the electromagnetic model tables."""

import numpy as np

from cevnsfast.constants import E_MAX_DELAYED_MEV, E_PROMPT_MEV, SIN2_THETA_W_DEFAULT
from cevnsfast.detectors.detector import Detector
from cevnsfast.detectors.electrons import (
    electron_detector,
    electron_nodes_kev,
    electrons_per_target,
)
from cevnsfast.detectors.response import gauss_legendre
from cevnsfast.physics.electron_scattering import dsigma_es, electron_e_min_mev
from cevnsfast.physics.flux import FLUX_COMPONENTS, delayed_shape_per_mev


def direct_es_counts(
    detector: Detector,
    values: dict[str, float],
    sin2_theta_w: float = SIN2_THETA_W_DEFAULT,
    time_shift_us: float = 0.0,
) -> np.ndarray:
    """ES events per reconstructed bin of ``detector`` (zero if it does not count electron
    recoils), by direct integration of ``dsigma_es`` over T_e and E (64 Gauss–Legendre nodes
    in E per T_e): the twin of the ES part of the electromagnetic model tables. ``values``:
    mu_nue, mu_numu (10⁻¹⁰ μ_B), r2_ee, r2_mumu (10⁻³² cm²), q_ee, q_mumu (10⁻⁸ e)."""
    electron = electron_detector(detector)
    if electron is None:
        empty = np.zeros((len(FLUX_COMPONENTS), len(detector.spec.bin_edges) - 1))
        return detector.fold_time(empty, time_shift_us).sum(axis=0)
    t_kev, w_kev = electron_nodes_kev()
    t_mev = 1e-3 * t_kev
    prob = electron.response.bin_probabilities(t_kev)
    scale = electrons_per_target(electron, t_kev) * electron.fluence_cm2 * 1e-3 * w_kev
    u, w_u = gauss_legendre(0.0, 1.0, 64)
    per_component = np.zeros((len(FLUX_COMPONENTS), prob.shape[1]))
    for fi, comp in enumerate(FLUX_COMPONENTS):
        f = "e" if comp.flavour == "e" else "mumu"
        kw = dict(
            mu_1e10=values.get("mu_nue" if f == "e" else "mu_numu", 0.0),
            r2_1e32_cm2=values.get(f"r2_{'ee' if f == 'e' else 'mumu'}", 0.0),
            q_1e8_e=values.get(f"q_{'ee' if f == 'e' else 'mumu'}", 0.0),
            sin2_theta_w=sin2_theta_w,
        )
        if comp.prompt:
            rate = dsigma_es(E_PROMPT_MEV, t_mev, comp, **kw)
        else:
            e_lo = np.minimum(electron_e_min_mev(t_mev), E_MAX_DELAYED_MEV)
            e = e_lo[:, None] + (E_MAX_DELAYED_MEV - e_lo)[:, None] * u[None, :]
            shape = delayed_shape_per_mev(comp.name, e)
            rate = (E_MAX_DELAYED_MEV - e_lo) * (
                (shape * dsigma_es(e, t_mev[:, None], comp, **kw)) @ w_u
            )
        per_component[fi] = (rate * scale) @ prob
    return electron.fold_time(per_component, time_shift_us).sum(axis=0)
