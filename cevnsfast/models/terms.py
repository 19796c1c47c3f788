"""Generalised quadratic-form models: couplings with units, rate kernels, (kernel, matrix) terms.

Every new-physics model of docs/models.md writes the CEvNS cross section of one flux component
(incoming flavour α) on one nucleus as

    dσ/dT = Σ_t K_t(E, T; m) · xᵀ C_t x,          x = (1, c_1, …, c_n)

* ``C_t`` — a constant symmetric (n+1)×(n+1) matrix per nucleus and flux component;
* ``K_t`` — a *kernel*: a kinematic structure times two amplitude weight functions of the
  recoil, optionally times an energy-dependent flux factor::

      K(E, T; m) = P_X(T) h_a(T; m) h_b(T; m) [c0(T; m) + c1(T; m)/E + c2(T; m)/E²] f(E; m)

  with the structures X (``Model.shape``) of docs/design.md — V: (G_F² M/π)(1 − MT/2E²),
  S: (G_F² M/π) κ_S MT/E², T: (G_F² M/π) κ_T (1 − MT/4E²) (arXiv:2402.16953 Eq. 6), and the
  magnetic M: (π α²/m_e²)(1/T − 1/E) (Vogel & Engel, PRD 39 (1989) 3378) — and weights h such
  as the form factor F(q), F(q)/q² (millicharge) or F(q) (m² + μ²)/(q² + m²) (a mediator
  of mass m). The flux factor f (an oscillation probability) is the only piece that is not a
  polynomial in 1/E; kernels without it integrate the flux analytically (G0, G1, G2).

A model is therefore a list of rate terms per (nucleus, flux component) — usually generated
from amplitudes, ``amplitude_terms``: an amplitude Σ_k h_k(T) (a_k · x) of structure X
contributes the kernels (X, h_k h_l) with C = a_k a_lᵀ (+ a_l a_kᵀ for k ≠ l). Parameters
that enter non-polynomially (a mediator mass, Δm², a sterile mass, a neutron radius) are one
table axis, ``ParameterAxis``: kernels are evaluated for every axis value at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cevnsfast.constants import ALPHA_EM, G_F_MEV2, HBARC_MEV_CM, M_E_MEV
from cevnsfast.models.couplings import x_vector
from cevnsfast.nuclei import Isotope
from cevnsfast.physics import gni_normalisation as gn
from cevnsfast.physics.cross_sections import e_min_mev as massless_e_min_mev
from cevnsfast.physics.flux import FluxComponent
from cevnsfast.physics.form_factors import form_factor

STRUCTURES = ("V", "S", "T", "M")
"""Kinematic structures every model may use; a model can define more (``Model.shape``)."""

MU_UNIT_1E10_MUB = 1e-10
"""Magnetic moments are couplings in units of 10⁻¹⁰ μ_B."""


@dataclass(frozen=True)
class ModelCoupling:
    """One coupling of a model: its name, unit and meaning (the SM is all couplings 0)."""

    name: str
    unit: str
    description: str


@dataclass(frozen=True)
class ParameterAxis:
    """A parameter entering non-polynomially: tabulated on ``values``, interpolated in
    ``log`` or ``linear`` coordinate (cubic Hermite, ``profile_kernels.interp_weights``)."""

    name: str
    unit: str
    values: tuple[float, ...]
    scale: str = "log"
    description: str = ""

    def __post_init__(self):
        v = np.asarray(self.values, dtype=float)
        if v.size < 3 or np.any(np.diff(v) <= 0):
            raise ValueError(f"axis {self.name}: need ≥ 3 strictly increasing values")
        if self.scale not in ("log", "linear"):
            raise ValueError(f"axis {self.name}: scale must be 'log' or 'linear'")
        if self.scale == "log" and v[0] <= 0:
            raise ValueError(f"axis {self.name}: a log axis needs positive values")

    def coordinate(self, value) -> np.ndarray:
        """The interpolation coordinate of ``value`` (ln value for a log axis)."""
        v = np.asarray(value, dtype=float)
        return np.log(v) if self.scale == "log" else v

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "values": list(self.values),
            "scale": self.scale,
        }


def log_grid(lo: float, hi: float, per_decade: int) -> tuple[float, ...]:
    """Logarithmic grid from lo to hi with ``per_decade`` points per decade (ends included)."""
    n = int(round(np.log10(hi / lo) * per_decade)) + 1
    return tuple(float(v) for v in np.geomspace(lo, hi, n))


@dataclass(frozen=True)
class Kernel:
    """A rate kernel: structure, the two amplitude weights (sorted) and an optional flux factor."""

    structure: str
    weights: tuple[str, str]
    flux: str = ""

    @property
    def key(self) -> str:
        flux = f"*{self.flux}" if self.flux else ""
        return f"{self.structure}:{self.weights[0]}.{self.weights[1]}{flux}"


def kernel(structure: str, weight_a: str, weight_b: str, flux: str = "") -> Kernel:
    """A kernel with its weight pair in canonical (sorted) order."""
    a, b = sorted((weight_a, weight_b))
    return Kernel(structure, (a, b), flux)


@dataclass
class RateTerm:
    """K · xᵀ C x: one kernel and its symmetric coefficient matrix."""

    kernel: Kernel
    matrix: np.ndarray


def amplitude_terms(structure: str, parts: Sequence[tuple[str, np.ndarray]]) -> list[RateTerm]:
    """Rate terms of |Σ_k h_k (a_k · x)|² for one amplitude of ``structure``.

    ``parts`` lists (weight name h_k, coefficient vector a_k). Each pair k ≤ l gives the kernel
    (structure, h_k h_l) with C = a_k a_lᵀ for k = l and a_k a_lᵀ + a_l a_kᵀ for k < l.
    """
    out = []
    for k, (hk, ak) in enumerate(parts):
        ak = np.asarray(ak, float)
        out.append(RateTerm(kernel(structure, hk, hk), np.outer(ak, ak)))
        for hl, al in parts[k + 1 :]:
            al = np.asarray(al, float)
            out.append(RateTerm(kernel(structure, hk, hl), np.outer(ak, al) + np.outer(al, ak)))
    return merge_terms(out)


def merge_terms(terms: Sequence[RateTerm]) -> list[RateTerm]:
    """Add the matrices of terms sharing a kernel; drop terms whose matrix vanishes."""
    merged: dict[Kernel, np.ndarray] = {}
    for t in terms:
        if t.kernel in merged:
            merged[t.kernel] = merged[t.kernel] + t.matrix
        else:
            merged[t.kernel] = np.array(t.matrix, dtype=float)
    return [RateTerm(k, m) for k, m in merged.items() if np.any(m)]


def unit_vector(n_couplings: int, index: int, value: float = 1.0) -> np.ndarray:
    """Coefficient vector of length 1 + n with ``value`` at ``index`` (0 = the SM entry)."""
    v = np.zeros(1 + n_couplings)
    v[index] = value
    return v


def momentum_transfer_sq_mev2(nucleus: Isotope, t_mev: np.ndarray) -> np.ndarray:
    """|q|² = 2 M T (MeV²)."""
    return 2.0 * nucleus.mass_mev * np.asarray(t_mev, dtype=float)


class Model:
    """Base class of the new-physics models: couplings, an optional axis, rate terms.

    Subclasses set the class attributes and implement ``rate_terms``; they add weight
    functions (``weight``), structures (``shape``, ``e_min_mev``) or flux factors
    (``flux_factor``) when they need them. ``settings`` holds the model's own numbers
    (reference momenta, charges, the axis grid, …): they enter the provenance hash of its
    tables, so changing one gives a different table.
    """

    name: str = ""
    title: str = ""
    reference: str = ""
    couplings: tuple[ModelCoupling, ...] = ()
    axis_dependent_nodes: bool = False
    """True when the recoil quadrature breakpoints move with the axis (kinematic end points)."""

    def __init__(self, **settings: Any):
        self.settings: dict[str, Any] = {**self.default_settings(), **settings}
        unknown = set(settings) - set(self.default_settings())
        if unknown:
            raise ValueError(
                f"model {self.name!r} has no setting(s) {sorted(unknown)}; "
                f"settings: {sorted(self.default_settings())}"
            )
        self.axis: ParameterAxis | None = self.make_axis()

    def default_settings(self) -> dict[str, Any]:
        """The model's settings and their defaults (documented in docs/models.md)."""
        return {}

    def make_axis(self) -> ParameterAxis | None:
        """The non-polynomial parameter axis (None for purely polynomial models)."""
        return None

    @property
    def coupling_names(self) -> list[str]:
        return [c.name for c in self.couplings]

    @property
    def n(self) -> int:
        return len(self.couplings)

    def axis_values(self) -> np.ndarray:
        """The tabulated axis values, or a single dummy entry for models without an axis."""
        return np.asarray(self.axis.values if self.axis else (0.0,), dtype=float)

    def definition(self) -> dict[str, Any]:
        """Everything that fixes the model's numbers (part of its tables' provenance)."""
        return {
            "name": self.name,
            "class": type(self).__name__,
            "couplings": [[c.name, c.unit] for c in self.couplings],
            "axis": self.axis.as_dict() if self.axis else None,
            "settings": self.settings,
        }

    # -- to implement -------------------------------------------------------------------
    def rate_terms(
        self, nucleus: Isotope, component: FluxComponent, physics: dict[str, Any]
    ) -> list[RateTerm]:
        """Rate terms of ``component`` (incoming flavour) on ``nucleus``; ``physics`` is the
        detector spec's physics table (sin2_theta_w, weak_charge, form_factor)."""
        raise NotImplementedError

    # -- pieces with defaults -------------------------------------------------------------
    def weight(
        self,
        name: str,
        nucleus: Isotope,
        t_mev: np.ndarray,
        axis_values: np.ndarray,
        physics: dict[str, Any],
        radius_scale: float,
    ) -> np.ndarray:
        """Amplitude weight h(T; m), shape (n_axis, n_T). Base: "F", the form factor."""
        if name == "F":
            q = np.sqrt(momentum_transfer_sq_mev2(nucleus, t_mev))
            params = physics.get("form_factor_params") or {}
            f = form_factor(physics["form_factor"], q, nucleus.a, radius_scale, **params)
            return np.broadcast_to(f, (len(axis_values), len(f)))
        raise ValueError(f"model {self.name!r} has no weight {name!r}")

    def shape(
        self, structure: str, nucleus: Isotope, t_mev: np.ndarray, axis_values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(P(T) in cm² MeV⁻¹, c[3, n_axis, n_T]) with structure = P (c0 + c1/E + c2/E²)."""
        t = np.asarray(t_mev, dtype=float)
        m = nucleus.mass_mev
        ones = np.ones((len(axis_values), t.size))
        weak = G_F_MEV2**2 * m / np.pi * HBARC_MEV_CM**2 * np.ones_like(t)
        zero = np.zeros_like(ones)
        if structure == "V":
            return weak, np.stack([ones, zero, -0.5 * m * t * ones])
        if structure == "S":
            return weak, np.stack([zero, zero, gn.KAPPA_SCALAR * m * t * ones])
        if structure == "T":
            kt = gn.KAPPA_TENSOR
            return weak, np.stack([kt * ones, zero, -0.25 * kt * m * t * ones])
        if structure == "M":  # (π α²/m_e²)(1/T − 1/E), Vogel & Engel (1989)
            em = np.pi * ALPHA_EM**2 / M_E_MEV**2 * HBARC_MEV_CM**2 * np.ones_like(t)
            return em, np.stack([ones / t, -ones, zero])
        raise ValueError(f"model {self.name!r} has no structure {structure!r}")

    def e_min_mev(
        self, structure: str, nucleus: Isotope, t_mev: np.ndarray, axis_values: np.ndarray
    ) -> np.ndarray:
        """Smallest neutrino energy reaching recoil T, (n_axis, n_T); base: massless final ν."""
        e = massless_e_min_mev(t_mev, nucleus.mass_mev)
        return np.broadcast_to(e, (len(axis_values), len(e)))

    def flux_factor(
        self,
        name: str,
        component: FluxComponent,
        e_mev: np.ndarray,
        axis_value: float,
        distance_m: float,
    ) -> np.ndarray:
        """Energy-dependent factor multiplying the flux of ``component`` (e.g. P_osc)."""
        raise ValueError(f"model {self.name!r} has no flux factor {name!r}")

    def flux_factor_frequency(self, name: str, axis_value: float, distance_m: float) -> float:
        """Largest angular frequency (MeV) of the flux factor in u = 1/E (sets the panels of
        the numeric flux moments)."""
        raise ValueError(f"model {self.name!r} has no flux factor {name!r}")

    def recoil_breakpoints_kevnr(self, nucleus: Isotope, axis_value: float) -> list[float]:
        """Extra recoil energies (keVnr) where the integrand has kinks (kinematic ends)."""
        return []

    def x_vector(self, values) -> np.ndarray:
        """x = (1, c_1, …) from a name → value mapping (others 0) or a sequence in order."""
        return x_vector(self.coupling_names, values, owner=f"model {self.name!r}")
