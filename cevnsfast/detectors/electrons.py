"""How a detector sees electron recoils (ν–e scattering): its response and the T_e quadrature.

Used by the electromagnetic model tables and their direct twin (docs/models.md §3.3); the
cross section itself is ``physics.electron_scattering``.
"""

import numpy as np

from cevnsfast.detectors.detector import Detector
from cevnsfast.detectors.response import gauss_legendre
from cevnsfast.detectors.spec import load_spec
from cevnsfast.physics.electron_scattering import z_effective

ELECTRON_RECOIL_RESPONSE = {"csi2021": {"response.quenching": {"model": "constant", "qf": 1.0}}}
"""How a detector sees an electron recoil, as overrides of its nuclear-recoil response spec.
CsI 2021: at its full energy, E_ee = T_e (QF = 1), with the same light yield (13.35 PE/keVee,
release notes), smearing, efficiency and timing as a nuclear recoil of equal E_ee
(arXiv:2211.11905 §4). Detectors not listed do not count electron recoils: LAr 2020 rejects
them by its F90 pulse-shape selection (arXiv:2003.10630), the Asimov detectors do not model
them."""

T_PANEL_EDGES_KEV = (0.05, 0.619, 0.726, 1.211, 4.557, 5.714, 12.0, 30.0)
"""Panels of the T_e integral: split at the Z_eff steps of Cs and I inside the CsI region of
interest; up to 30 keV (the analysis region ends at 60 PE ≈ 4.5 keVee, the Gamma smearing
tail is exhausted well before)."""
T_NODES_PER_PANEL = 24


def electron_detector(detector: Detector) -> Detector | None:
    """The detector as it sees electron recoils (``ELECTRON_RECOIL_RESPONSE``; the same
    efficiency variation), or None when it does not count them."""
    overrides = ELECTRON_RECOIL_RESPONSE.get(detector.spec.name)
    if overrides is None:
        return None
    spec = load_spec(detector.spec.name, overrides)
    return Detector(spec, efficiency_sigma=detector.response.efficiency_sigma)


def electron_nodes_kev() -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights of the T_e integral (``T_PANEL_EDGES_KEV``)."""
    edges = T_PANEL_EDGES_KEV
    panels = [
        gauss_legendre(a, b, T_NODES_PER_PANEL) for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    return np.concatenate([x for x, _ in panels]), np.concatenate([w for _, w in panels])


def electrons_per_target(detector: Detector, t_kev: np.ndarray) -> np.ndarray:
    """Σ_targets N_target Z_eff(T_e): the number of electrons an electron recoil T_e can
    come from."""
    return sum(tg.n_targets * z_effective(tg.nucleus.name, t_kev) for tg in detector.targets)
