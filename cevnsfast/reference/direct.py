"""Direct-integration twin of the table path: counts per bin at one coupling point.

Evaluates the full cross section of Eq. (6) at the given couplings (``dsigma_dt_cm2_per_mev``,
written independently of the structure decomposition used by the tables), integrates the
neutrino energy with Gauss–Legendre nodes on [E_min(T), m_μ/2] (the prompt line is a δ
function), and the recoil energy with the detector's quadrature. Slow by design; the tests
and benchmarks compare it with the tables.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cevnsfast.constants import E_MAX_DELAYED_MEV, E_PROMPT_MEV
from cevnsfast.detectors.detector import Detector, QuadratureSettings
from cevnsfast.detectors.response import gauss_legendre
from cevnsfast.models.couplings import parse_coupling
from cevnsfast.physics.cross_sections import dsigma_dt_cm2_per_mev, e_min_mev
from cevnsfast.physics.flux import FLUX_COMPONENTS, delayed_shape_per_mev

ENERGY_NODES = 8
"""Gauss–Legendre nodes in E: the integrand is a cubic in E, so 2 would already be exact."""


def direct_counts(
    detector: Detector,
    couplings: Mapping[str, float],
    settings: QuadratureSettings = QuadratureSettings(),
    radius_scale: float = 1.0,
    time_shift_us: float = 0.0,
    prepared: "DirectInputs | None" = None,
) -> np.ndarray:
    """Expected events per reconstructed bin (energy × time, energy-major) for ``couplings``
    (name → value); ``detector`` carries the efficiency variation, if any. ``prepared``
    (from :func:`prepare_direct` for the same detector, settings and time shift) skips the
    coupling-independent work, as a careful user evaluating many points would."""
    if prepared is None:
        prepared = prepare_direct(detector, settings, time_shift_us)
    elif (prepared.settings, prepared.time_shift_us) != (settings, time_shift_us):
        raise ValueError("prepared direct inputs were made for other settings or time shift")
    keys = {}
    for name, value in couplings.items():
        c = parse_coupling(name)
        keys[(c.structure, c.quark, c.alpha, c.beta)] = float(value)
    physics = detector.spec.physics
    per_component = np.zeros((len(FLUX_COMPONENTS), len(detector.spec.bin_edges) - 1))
    u, w_u = gauss_legendre(0.0, 1.0, ENERGY_NODES)
    for target, (t_kev, w_kev, prob) in zip(detector.targets, prepared.nodes, strict=True):
        nucleus = target.nucleus
        t_mev = 1e-3 * t_kev
        kwargs = dict(
            couplings=keys,
            sin2_theta_w=physics["sin2_theta_w"],
            weak_charge=physics["weak_charge"],
            form_factor_name=physics["form_factor"],
            form_factor_params=physics["form_factor_params"],
            radius_scale=radius_scale,
        )
        scale = target.n_targets * detector.fluence_cm2 * 1e-3 * w_kev
        for fi, component in enumerate(FLUX_COMPONENTS):
            if component.prompt:  # ∫ dE Φ dσ/dT per unit fluence, per recoil node
                rate = dsigma_dt_cm2_per_mev(
                    E_PROMPT_MEV, t_mev, nucleus, component.flavour, **kwargs
                )
                per_component[fi] += (rate * scale) @ prob
                continue
            e_lo = np.minimum(e_min_mev(t_mev, nucleus.mass_mev), E_MAX_DELAYED_MEV)
            span = E_MAX_DELAYED_MEV - e_lo
            e = e_lo[:, None] + span[:, None] * u[None, :]
            integrand = delayed_shape_per_mev(component.name, e) * dsigma_dt_cm2_per_mev(
                e, t_mev[:, None], nucleus, component.flavour, **kwargs
            )
            per_component[fi] += (span * (integrand @ w_u) * scale) @ prob
    weights = prepared.time_weights  # [component, time bin], as Detector.fold_time
    return (per_component[:, :, None] * weights[:, None, :]).sum(axis=0).ravel()


@dataclass(frozen=True)
class DirectInputs:
    """Coupling-independent inputs of :func:`direct_counts` for one detector: per target the
    recoil nodes (keVnr), their weights and the bin probabilities P_b(T); the arrival-time
    bin weights per flux component."""

    settings: QuadratureSettings
    time_shift_us: float
    nodes: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    time_weights: np.ndarray


def prepare_direct(
    detector: Detector,
    settings: QuadratureSettings = QuadratureSettings(),
    time_shift_us: float = 0.0,
) -> DirectInputs:
    """The work :func:`direct_counts` repeats at every coupling point, done once."""
    nodes = []
    for target in detector.targets:
        t_kev, w_kev = detector.recoil_nodes_kevnr(target.nucleus, settings)
        nodes.append((t_kev, w_kev, detector.response.bin_probabilities(t_kev)))
    return DirectInputs(settings, time_shift_us, tuple(nodes), detector.time_weights(time_shift_us))
