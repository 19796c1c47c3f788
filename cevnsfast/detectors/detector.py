"""A detector ready for integration: nuclei with their target counts, fluence, response, and
the recoil-energy quadrature shared by the table build and its direct-integration twin."""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cevnsfast.constants import E_MAX_DELAYED_MEV, E_PROMPT_MEV, N_AVOGADRO
from cevnsfast.detectors.response import Response, gauss_legendre
from cevnsfast.detectors.spec import DetectorSpec, load_spec
from cevnsfast.nuclei import Isotope, isotope, molar_mass_g
from cevnsfast.physics.cross_sections import t_max_mev
from cevnsfast.physics.flux import FLUX_COMPONENTS, fluence_per_flavour_cm2
from cevnsfast.physics.timing import time_bin_weights


@dataclass(frozen=True)
class QuadratureSettings:
    """Recoil-energy quadrature: each smooth segment of [0, T_max] is cut into ``panels``
    equal panels of ``nodes`` Gauss–Legendre points. Segment ends are the kinematic end
    points and the detector's kinks (``Response.breakpoints_kevnr``)."""

    panels: int = 24
    nodes: int = 16

    def as_dict(self) -> dict[str, int]:
        return {"panels": self.panels, "nodes": self.nodes}


@dataclass(frozen=True)
class TargetNucleus:
    """One detected nuclide and the number of such nuclei in the detector."""

    nucleus: Isotope
    n_targets: float


@functools.lru_cache(maxsize=256)
def _cached_time_bin_weights(
    edges_us: tuple[float, ...],
    mean_us: float,
    sigma_us: float,
    onset_us: float,
    decay_per_us: float,
    shift_us: float,
) -> np.ndarray:
    """``time_bin_weights``, computed once per process for each set of arguments (read-only):
    a table build folds time ~30 times per nuisance grid with the same few weights."""
    weights = time_bin_weights(edges_us, mean_us, sigma_us, onset_us, decay_per_us, shift_us)
    weights.flags.writeable = False
    return weights


class Detector:
    """Everything the rate integral of arXiv:2402.16953 Eq. (15) needs for one detector."""

    def __init__(self, spec: DetectorSpec, efficiency_sigma: float = 0.0):
        self.spec = spec
        self.response = Response(spec, efficiency_sigma)
        self.fluence_cm2 = fluence_per_flavour_cm2(
            spec.pot, spec.nu_per_flavour_per_pot, spec.distance_m
        )
        self.targets = self._targets()

    @classmethod
    def load(cls, name_or_path: str | Path, overrides: dict | None = None) -> "Detector":
        return cls(load_spec(name_or_path, overrides))

    @property
    def name(self) -> str:
        return self.spec.name

    def time_weights(self, time_shift_us: float = 0.0) -> np.ndarray:
        """p[component, time bin] (Eq. 16); a single all-ones bin without time binning."""
        timing = self.spec.timing
        if timing is None:
            return np.ones((len(FLUX_COMPONENTS), 1))
        return _cached_time_bin_weights(
            tuple(timing["edges_us"]),
            timing["pulse_mean_us"],
            timing["pulse_sigma_us"],
            timing["efficiency_onset_us"],
            timing["efficiency_decay_per_us"],
            time_shift_us,
        )

    def fold_time(self, per_component: np.ndarray, time_shift_us: float = 0.0) -> np.ndarray:
        """[..., component, energy bin] → [..., component, energy bin × time bin] (flattened
        energy-major), multiplying each component by its arrival-time bin weights."""
        weights = self.time_weights(time_shift_us)  # [component, time bin]
        folded = per_component[..., :, :, None] * weights[:, None, :]
        return folded.reshape(*per_component.shape[:-1], -1)

    def _targets(self) -> tuple[TargetNucleus, ...]:
        """N_target = M_det / M_molar · N_A per formula unit, split by isotope (Eq. 15)."""
        spec = self.spec
        molar_mass = sum(
            count * molar_mass_g(spec.isotopes[el]) for el, count in spec.elements.items()
        )
        formula_units = spec.mass_kg * 1e3 / molar_mass * N_AVOGADRO
        return tuple(
            TargetNucleus(isotope(iso), formula_units * spec.elements[el] * fraction)
            for el in spec.detected_elements
            for iso, fraction in spec.isotopes[el].items()
        )

    def recoil_nodes_kevnr(
        self, nucleus: Isotope, settings: QuadratureSettings
    ) -> tuple[np.ndarray, np.ndarray]:
        """Quadrature nodes and weights (keVnr) covering [0, T_max(m_μ/2)] for this nucleus."""
        t_hi = 1e3 * float(t_max_mev(E_MAX_DELAYED_MEV, nucleus.mass_mev))
        t_prompt = 1e3 * float(t_max_mev(E_PROMPT_MEV, nucleus.mass_mev))
        ends = sorted({0.0, t_prompt, t_hi, *self.response.breakpoints_kevnr(t_hi)})
        nodes, weights = [], []
        for lo, hi in zip(ends[:-1], ends[1:], strict=True):
            cuts = np.linspace(lo, hi, settings.panels + 1)
            for p_lo, p_hi in zip(cuts[:-1], cuts[1:], strict=True):
                x, w = gauss_legendre(p_lo, p_hi, settings.nodes)
                nodes.append(x)
                weights.append(w)
        return np.concatenate(nodes), np.concatenate(weights)


def recoil_nodes_kevnr(
    detector: Detector,
    nucleus: Isotope,
    settings: QuadratureSettings,
    extra_breakpoints_kevnr: list[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The detector's recoil quadrature (``Detector.recoil_nodes_kevnr``: ``settings.panels``
    equal panels per smooth segment of [0, T_max]) with the panels that contain an extra
    breakpoint (a model's kinematic end point) split there, so every panel is smooth."""
    if not extra_breakpoints_kevnr:
        return detector.recoil_nodes_kevnr(nucleus, settings)
    t_hi = 1e3 * float(t_max_mev(E_MAX_DELAYED_MEV, nucleus.mass_mev))
    t_prompt = 1e3 * float(t_max_mev(E_PROMPT_MEV, nucleus.mass_mev))
    ends = sorted({0.0, t_prompt, t_hi, *detector.response.breakpoints_kevnr(t_hi)})
    edges = np.unique(
        np.concatenate(
            [
                np.linspace(lo, hi, settings.panels + 1)
                for lo, hi in zip(ends[:-1], ends[1:], strict=True)
            ]
        )
    )
    extra = [p for p in extra_breakpoints_kevnr if 0.0 < p < t_hi]
    edges = np.unique(np.concatenate([edges, extra]))
    edges = edges[np.concatenate([[True], np.diff(edges) > 1e-12 * t_hi])]
    nodes, weights = [], []
    for p_lo, p_hi in zip(edges[:-1], edges[1:], strict=True):
        x, w = gauss_legendre(p_lo, p_hi, settings.nodes)
        nodes.append(x)
        weights.append(w)
    return np.concatenate(nodes), np.concatenate(weights)
