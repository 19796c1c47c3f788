"""Direct-integration twins of the model tables: every model's exact cross section
(``physics.bsm``) integrated over the SNS flux and a detector's response at one point.

Slow by design (docs/models.md); the tests hold the model tables to it.
"""

from collections.abc import Callable

import numpy as np

from cevnsfast.constants import E_MAX_DELAYED_MEV, E_PROMPT_MEV, G_F_MEV2
from cevnsfast.detectors.detector import Detector, QuadratureSettings, recoil_nodes_kevnr
from cevnsfast.detectors.response import gauss_legendre
from cevnsfast.nuclei import Isotope
from cevnsfast.physics.bsm import (
    DSigma,
    dsigma_charge_radius_millicharge,
    dsigma_gni,
    dsigma_leptoquark,
    dsigma_light_scalar,
    dsigma_light_tensor,
    dsigma_light_vector,
    dsigma_magnetic_moment,
    dsigma_neutron_radius,
    dsigma_sm,
    dsigma_transition_magnetic_moment,
    dsigma_weak_mixing,
    sterile_appearance_probability,
    transition_e_min_mev,
)
from cevnsfast.physics.cross_sections import e_min_mev
from cevnsfast.physics.flux import FLUX_COMPONENTS, FluxComponent, delayed_shape_per_mev
from cevnsfast.reference.electron_scattering import direct_es_counts

ENERGY_NODES = 8
"""Gauss–Legendre nodes per energy panel: exact for polynomial-in-1/E cross sections."""


def direct_counts(
    detector: Detector,
    dsigma: DSigma,
    settings: QuadratureSettings = QuadratureSettings(),
    time_shift_us: float = 0.0,
    e_min: Callable[[np.ndarray, Isotope], np.ndarray] | None = None,
    disappearance: Callable[[np.ndarray, FluxComponent], np.ndarray] | None = None,
    breakpoints_kevnr: Callable[[Isotope], list[float]] | None = None,
    energy_panels: int = 1,
) -> np.ndarray:
    """Expected events per reconstructed bin (energy × time, energy-major) for the cross
    section ``dsigma`` (arXiv:2402.16953 Eq. 15, the ``reference.direct`` integral generalised).

    ``e_min(T, nucleus)`` — lower end of the neutrino-energy integral (default: massless
    final state); ``disappearance(E, component)`` — probability that a neutrino of the
    component has turned sterile on its way (oscillation); ``energy_panels`` — equal
    Gauss–Legendre panels in E (many for an oscillating integrand). The detector carries
    the efficiency variation; the form-factor radius scale is the cross section's own
    argument.
    """
    per_component = np.zeros((len(FLUX_COMPONENTS), len(detector.spec.bin_edges) - 1))
    u, w_u = gauss_legendre(0.0, 1.0, ENERGY_NODES)
    panel_lo = np.arange(energy_panels) / energy_panels
    nodes_u = (panel_lo[:, None] + u[None, :] / energy_panels).ravel()
    weights_u = np.tile(w_u / energy_panels, energy_panels)
    for target in detector.targets:
        nucleus = target.nucleus
        extra = breakpoints_kevnr(nucleus) if breakpoints_kevnr else None
        t_kev, w_kev = recoil_nodes_kevnr(detector, nucleus, settings, extra)
        t_mev = 1e-3 * t_kev
        prob = detector.response.bin_probabilities(t_kev)
        scale = target.n_targets * detector.fluence_cm2 * 1e-3 * w_kev
        lo = e_min(t_mev, nucleus) if e_min else e_min_mev(t_mev, nucleus.mass_mev)
        for fi, component in enumerate(FLUX_COMPONENTS):
            if component.prompt:
                rate = np.where(
                    lo <= E_PROMPT_MEV, dsigma(E_PROMPT_MEV, t_mev, nucleus, component), 0.0
                )
                if disappearance is not None:
                    rate = rate * (1.0 - disappearance(np.asarray(E_PROMPT_MEV), component))
                per_component[fi] += (rate * scale) @ prob
                continue
            e_lo = np.minimum(lo, E_MAX_DELAYED_MEV)
            span = E_MAX_DELAYED_MEV - e_lo
            e = e_lo[:, None] + span[:, None] * nodes_u[None, :]
            integrand = delayed_shape_per_mev(component.name, e) * dsigma(
                e, t_mev[:, None], nucleus, component
            )
            if disappearance is not None:
                integrand = integrand * (1.0 - disappearance(e, component))
            per_component[fi] += (span * (integrand @ weights_u) * scale) @ prob
    return detector.fold_time(per_component, time_shift_us).sum(axis=0)


# ---- the twin of every model table, in the tables' own couplings ---------------------------


def physical_g(eps: float, mass_mev: float, mu_ref_mev: float, factor: float = 1.0) -> float:
    """g of a mediator from the tables' reduced coupling ε = factor g²/(√2 G_F (m² + μ²))."""
    if eps < 0:
        raise ValueError("the reduced coupling ε = factor g²/(√2 G_F (m² + μ²)) is ≥ 0")
    return float(np.sqrt(eps * np.sqrt(2.0) * G_F_MEV2 * (mass_mev**2 + mu_ref_mev**2) / factor))


def direct_model_counts(
    detector: Detector,
    model_name: str,
    values: dict[str, float],
    axis_value: float | None = None,
    mu_ref_mev: float = 50.0,
    radius_scale: float = 1.0,
    time_shift_us: float = 0.0,
    settings: QuadratureSettings = QuadratureSettings(),
    breakpoints_kevnr: Callable[[Isotope], list[float]] | None = None,
    electron_scattering: bool = True,
) -> np.ndarray:
    """Counts per bin of the model called ``model_name`` (``cevnsfast.models``) by direct
    integration of its exact cross section above, at table couplings ``values`` (name →
    value, missing = 0) and axis value ``axis_value``. Mediator couplings ε are converted to
    g with ``physical_g``; everything else is the formulas of this module. The
    electromagnetic models add ν–e scattering (``reference.electron_scattering.direct_es_counts``,
    zero for a detector that does not count electron recoils) unless
    ``electron_scattering`` is False."""
    physics = detector.spec.physics
    kw = dict(
        sin2_theta_w=physics["sin2_theta_w"],
        weak_charge=physics["weak_charge"],
        form_factor_name=physics["form_factor"],
        radius_scale=radius_scale,
        form_factor_params=physics.get("form_factor_params") or None,
    )
    v = dict(values)
    run = dict(settings=settings, time_shift_us=time_shift_us)
    mediators = {
        "light_vector_universal": (dsigma_light_vector, {"charges": "universal"}, 1.0),
        "light_vector_bl": (dsigma_light_vector, {"charges": "b_minus_l"}, 1.0),
        "light_scalar": (dsigma_light_scalar, {}, 1.0),
        "light_tensor": (dsigma_light_tensor, {}, 1.0),
        "leptoquark_s1": (dsigma_leptoquark, {}, 0.25),
    }
    if model_name == "weak_mixing_angle":
        sigma = _bind(dsigma_weak_mixing, delta_sin2=v.get("delta_sin2_theta_w", 0.0), **kw)
    elif model_name == "neutron_radius":
        sigma = _bind(dsigma_neutron_radius, r_n_fm=axis_value, **kw)
    elif model_name in ("magnetic_moment", "charge_radius_millicharge"):
        if model_name == "magnetic_moment":
            sigma = _bind(
                dsigma_magnetic_moment,
                mu_e_1e10=v.get("mu_nue", 0.0),
                mu_mu_1e10=v.get("mu_numu", 0.0),
                **kw,
            )
        else:
            sigma = _bind(
                dsigma_charge_radius_millicharge,
                r2_e=v.get("r2_ee", 0.0),
                r2_mu=v.get("r2_mumu", 0.0),
                q_e=v.get("q_ee", 0.0),
                q_mu=v.get("q_mumu", 0.0),
                **kw,
            )
        nuclear = direct_counts(detector, sigma, breakpoints_kevnr=breakpoints_kevnr, **run)
        if not electron_scattering:
            return nuclear
        return nuclear + direct_es_counts(detector, v, kw["sin2_theta_w"], time_shift_us)
    elif model_name == "gni":
        sigma = _bind(
            dsigma_gni, c_v=v.get("C_V", 0.0), c_s=v.get("C_S", 0.0), c_t=v.get("C_T", 0.0), **kw
        )
    elif model_name in mediators:
        func, extra, factor = mediators[model_name]
        g = physical_g(v.get("eps", 0.0), axis_value, mu_ref_mev, factor)
        sigma = _bind(func, mass_mev=axis_value, g=g, **extra, **kw)
    elif model_name == "transition_magnetic_moment":
        dipole = _bind(
            dsigma_transition_magnetic_moment,
            m4_mev=axis_value,
            mu_e_1e10=v.get("mu_e4", 0.0),
            mu_mu_1e10=v.get("mu_mu4", 0.0),
            include_sm=False,
            **kw,
        )
        sm = direct_counts(detector, _bind(dsigma_sm, **kw), **run)
        return sm + direct_counts(
            detector,
            dipole,
            e_min=lambda t, nucleus: transition_e_min_mev(t, nucleus, axis_value),
            breakpoints_kevnr=breakpoints_kevnr,
            **run,
        )
    elif model_name == "sterile_oscillation":
        amplitude = {"e": v.get("sin2_2theta_ee", 0.0), "mu": v.get("sin2_2theta_mumu", 0.0)}

        def disappearance(e, component):
            return sterile_appearance_probability(
                e, amplitude[component.flavour], axis_value, detector.spec.distance_m
            )

        return direct_counts(
            detector,
            _bind(dsigma_sm, **kw),
            disappearance=disappearance,
            energy_panels=400,
            **run,
        )
    else:
        raise ValueError(f"no direct twin for model {model_name!r}")
    return direct_counts(detector, sigma, breakpoints_kevnr=breakpoints_kevnr, **run)


def _bind(func, **kwargs) -> DSigma:
    """dσ/dT(E, T, nucleus, component) with the model parameters bound."""

    def sigma(e, t, nucleus, component):
        return func(e, t, nucleus, component, **kwargs)

    return sigma
