"""Experiments on model tables: the talk's scenarios with every nuisance profiled.

    >>> from cevnsfast.likelihood.models import model_experiment
    >>> exp = model_experiment("csi2021", "light_vector_universal")
    >>> exp.chi2_batch(points)          # points (n, 2): (m_Z' [MeV], g) — the scenario's own
    >>> exp.fit({"mass_mev": 20.0, "g": 1e-4})   # parameters, mapped to the table couplings

Composition, not modification: an experiment of ``likelihood.registry`` (CsI 2021 with α0…α7,
LAr 2020, the Asimov detectors) is built as usual and its ``predictor`` is replaced by a
``ModelPredictor`` — a ``RatePredictor`` whose tensors come from a model table
(``cevnsfast.build_tables.model_tables``) interpolated at one value of the model axis. The
experiment's
numba χ² kernels read ``predictor.tensor`` and ``predictor.shape_tensors`` at each call, so
moving the axis (``set_axis``) is all a (mass, coupling) scan needs: per mass one
interpolation of the tensors (cubic Hermite in log m, ``profile_kernels.interp_weights``),
then the usual batch over couplings.

``SCENARIOS`` defines the talk's scans (docs/models.md): their physical parameters, ranges
and map to (axis value, table couplings); ``scenario_summary`` fits every scenario to CsI 2021,
LAr 2020 (when ``registry.experiment("lar2020")`` exists) and CsI+LAr, and writes the summary
table and figures for ``cevnsfast reproduce``.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cevnsfast.constants import SIN2_THETA_W_DEFAULT
from cevnsfast.kernels import kernel_layout
from cevnsfast.likelihood.base import Experiment, FitResult, distinct_parts
from cevnsfast.model_tables import load_model_table
from cevnsfast.models.couplings import x_vector
from cevnsfast.models.electroweak import proton_radius_floor_fm
from cevnsfast.models.scenarios import get_model
from cevnsfast.models.terms import Model
from cevnsfast.profile_kernels import interp_weights
from cevnsfast.rates import RatePredictor
from cevnsfast.tables import builder


class ModelPredictor(RatePredictor):
    """Counts per bin of one detector for a model, at one value of its axis.

    Exposes the ``RatePredictor`` interface the likelihoods use (``tensor``,
    ``shape_tensors``, ``grid_sizes``, ``grid_values``, ``x_vector``, ``counts``,
    ``signal_grids``, ``coupling_names``, ``bin_edges``, ``time_edges_us``,
    ``nuisance_axes``, ``table``); ``set_axis`` moves along the model axis. It sets every
    attribute ``RatePredictor``'s methods read (``counts``, ``signal_grids``,
    ``counts_batch`` are inherited unchanged, so the nuisance morphing is the same), but
    loads a model table instead of running ``RatePredictor.__init__``.
    """

    def __init__(
        self,
        detector: str | Path,
        model: str | Model,
        couplings: Sequence[str] | None = None,
        directory: Path | None = None,
        build_missing: bool = True,
        rebuild_stale: bool = False,
        axis_value: float | None = None,
    ):
        self.model = get_model(model) if isinstance(model, str) else model
        self.table = load_model_table(detector, self.model, directory, build_missing, rebuild_stale)
        attrs, arrays = self.table.attrs, self.table.arrays
        self.detector = attrs["detector"]
        stored = attrs["couplings"]
        chosen = list(couplings) if couplings is not None else stored[1:]
        unknown = [c for c in chosen if c not in stored[1:]]
        if unknown or len(set(chosen)) != len(chosen):
            raise ValueError(
                f"model {self.model.name!r}: couplings {chosen} invalid; "
                f"valid: {', '.join(stored[1:]) or '(none)'}"
            )
        self.couplings = [c for c in self.model.couplings if c.name in chosen]
        self.couplings.sort(key=lambda c: chosen.index(c.name))
        index = [0] + [stored.index(n) for n in chosen]
        self.bin_edges = arrays["bin_edges"]
        self.time_edges_us = arrays.get("time_edges_us")
        self.unit = attrs["observable_unit"]
        self.nuisance_axes: list[str] = list(attrs.get("nuisance_axes", []))
        self.axis = self.model.axis
        self.axis_grid = arrays["axis_values"] if self.axis else np.zeros(1)
        self._coord = self.axis.coordinate(self.axis_grid) if self.axis else np.zeros(1)
        # kernel order [axis, i, j, bin] (``kernels``); the table stores [axis, bin, i, j]
        self._all_tensor = kernel_layout(arrays["tensor"][:, :, index][..., index])
        n_a, n_bins, n_x = self._all_tensor.shape[0], self._all_tensor.shape[3], len(index)
        n_axes = len(self.nuisance_axes)
        g_max = max([len(arrays[f"grid_{a}"]) for a in self.nuisance_axes], default=0)
        self.grid_values = np.full((n_axes, g_max), np.nan)
        self.grid_sizes = np.zeros(n_axes, dtype=np.int64)
        self._all_shape = np.zeros((n_a, n_axes, g_max, n_x, n_x, n_bins))
        for k, axis in enumerate(self.nuisance_axes):
            grid = arrays[f"grid_{axis}"]
            self.grid_values[k, : len(grid)] = grid
            self.grid_sizes[k] = len(grid)
            block = arrays[f"tensor_{axis}"][..., index, :][..., index]  # [a, g, b, i, j]
            self._all_shape[:, k, : len(grid)] = kernel_layout(block)
        self.tensor = np.empty((n_x, n_x, n_bins))
        self.shape_tensors = np.empty((n_axes, g_max, n_x, n_x, n_bins))
        self.axis_value: float | None = None
        self.set_axis(axis_value if axis_value is not None else self.default_axis_value())

    def default_axis_value(self) -> float | None:
        """The largest axis value (the heavy/decoupled end), or None without an axis."""
        return float(self.axis_grid[-1]) if self.axis else None

    def set_axis(self, value: float | None) -> None:
        """Interpolate every tensor at axis ``value`` (in place; exact at grid points)."""
        if self.axis is None:
            if value is not None:
                raise ValueError(f"model {self.model.name!r} has no axis")
            self.tensor[...] = self._all_tensor[0]
            self.shape_tensors[...] = self._all_shape[0]
            return
        value = float(value)
        lo, hi = self.axis_grid[0], self.axis_grid[-1]
        if not (lo * (1 - 1e-12) <= value <= hi * (1 + 1e-12)):
            raise ValueError(
                f"{self.axis.name} = {value:g} {self.axis.unit} is outside the table "
                f"[{lo:g}, {hi:g}] of {self.model.name!r}"
            )
        if value == self.axis_value:
            return
        w0, w1, w2 = (np.empty(self._coord.size) for _ in range(3))
        a, b = interp_weights(self._coord, float(self.axis.coordinate(value)), w0, w1, w2)
        self.tensor[...] = np.tensordot(w0[a:b], self._all_tensor[a:b], axes=1)
        self.shape_tensors[...] = np.tensordot(w0[a:b], self._all_shape[a:b], axes=1)
        self.axis_value = value

    @property
    def coupling_names(self) -> list[str]:
        return [c.name for c in self.couplings]

    def x_vector(self, values: Mapping[str, float] | Sequence[float] | None = None) -> np.ndarray:
        return x_vector(self.coupling_names, values)


# ---- scenarios: the talk's scans in physical parameters ------------------------------------


@dataclass(frozen=True)
class ScanParameter:
    """One physical parameter of a scenario, with its summary-scan range."""

    name: str
    unit: str
    lo: float
    hi: float
    scale: str = "linear"
    label: str = ""
    physical_lo: bool = False
    physical_hi: bool = False
    range_by_experiment: tuple[tuple[str, float, float], ...] = ()
    """(experiment, lo, hi) replacing (lo, hi) for that experiment (e.g. R_n ≥ R_p of its
    nuclei; a millicharge range set by ν–e scattering on CsI, by CEvNS alone on LAr)."""

    def for_experiment(self, experiment: str) -> "ScanParameter":
        """This parameter with the range ``range_by_experiment`` gives ``experiment``."""
        for name, lo, hi in self.range_by_experiment:
            if name == experiment:
                return replace(self, lo=lo, hi=hi)
        return self

    def edge_tolerance(self, n: int) -> float:
        """Half a summary-grid step (in the scan coordinate: log for log parameters)."""
        span = np.log(self.hi / self.lo) if self.scale == "log" else self.hi - self.lo
        return 0.5 * span / max(n - 1, 1)

    def edge(self, value: float, n: int) -> str | None:
        """ "lo"/"hi" when ``value`` lies within half a grid step of that end, else None."""
        x, lo, hi = (
            (np.log(value), np.log(self.lo), np.log(self.hi))
            if self.scale == "log"
            else (value, self.lo, self.hi)
        )
        tol = self.edge_tolerance(n)
        if x - lo <= tol:
            return "lo"
        if hi - x <= tol:
            return "hi"
        return None

    def grid(self, n: int) -> np.ndarray:
        if self.scale == "log":
            return np.geomspace(self.lo, self.hi, n)
        return np.linspace(self.lo, self.hi, n)

    @property
    def axis_label(self) -> str:
        text = self.label or self.name
        return f"{text} [{self.unit}]" if self.unit not in ("", "1") else text


Mapping_ = Callable[[Model, np.ndarray], tuple[np.ndarray | None, np.ndarray]]


@dataclass(frozen=True)
class Scenario:
    """A scan of the talk: physical parameters → (axis value, table couplings) of a model.

    ``mapping(model, points)`` takes points (n, len(parameters)) and returns the axis values
    (n,) (None for a model without axis) and the table couplings (n, len(couplings)).
    ``sm`` is a parameter point reproducing the SM (None if the model has none, e.g. R_n).
    """

    name: str
    model: str
    title: str
    parameters: tuple[ScanParameter, ...]
    couplings: tuple[str, ...]
    mapping: Mapping_
    sm: tuple[float, ...] | None
    n_points: tuple[int, ...]
    combine: bool = True
    note: str = ""
    flat_beyond: tuple[str, ...] = ()
    """"name=lo|hi" range ends beyond which χ² no longer depends on that parameter (an
    asymptotic limit: massless or contact mediator, Δm² → 0 or averaged oscillation, a
    degenerate NSI valley). A best fit there is still flagged, marked "(flat beyond)"."""

    def parameters_for(self, experiment: str) -> tuple[ScanParameter, ...]:
        """The scan parameters with the ranges of ``experiment`` (``range_by_experiment``)."""
        return tuple(p.for_experiment(experiment) for p in self.parameters)


def _identity(model: Model, points: np.ndarray):
    return None, points


def _axis_only(model: Model, points: np.ndarray):
    return points[:, 0], np.zeros((points.shape[0], 0))


def _weak_mixing(model: Model, points: np.ndarray):
    return None, points - SIN2_THETA_W_DEFAULT


def _mediator(model: Model, points: np.ndarray):
    return points[:, 0], model.coupling_from_physical(points[:, 0], points[:, 1])[:, None]


def _universal_mixing(model: Model, points: np.ndarray):
    """(axis, one coupling) → the same coupling for ν_e and ν_μ (μ_e4 = μ_μ4, θ_ee = θ_μμ)."""
    return points[:, 0], np.repeat(points[:, 1:2], 2, axis=1)


def _gni_pair(a: str, b: str) -> "Scenario":
    params = {
        "C_V": ScanParameter("C_V", "1", -0.15, 0.35, label="C_V"),
        "C_S": ScanParameter("C_S", "1", -0.03, 0.03, label="C_S"),
        "C_T": ScanParameter("C_T", "1", -0.3, 0.3, label="C_T"),  # LAr V–T: |C_T| ≈ 0.15
    }
    names = (a,) if a == b else (a, b)
    return Scenario(
        f"gni_{''.join(n[-1] for n in names).lower()}",
        "gni",
        "GNI " + (f"C_{a[-1]}" if a == b else f"(C_{a[-1]}, C_{b[-1]})"),
        tuple(params[n] for n in names),
        names,
        _identity,
        (0.0,) * len(names),
        (241,) if a == b else (81, 81),
    )


NSI_MODEL = "nsi"
"""``Scenario.model`` of the vector-NSI pairs: the detector's own NSI tables (no model table)."""
NSI_PAIRS = (
    ("eps_ee_dV", "eps_ee_uV"),
    ("eps_mumu_dV", "eps_mumu_uV"),
    ("eps_ee_dV", "eps_mumu_dV"),
    ("eps_ee_uV", "eps_mumu_uV"),
    ("eps_ee_dV", "eps_emu_dV"),
    ("eps_mumu_uV", "eps_emu_uV"),
    ("eps_ee_dV", "eps_etau_dV"),
    ("eps_mumu_dV", "eps_mutau_dV"),
)
"""The talk's eight vector-NSI pairs (after arXiv:2211.11905 §5): four flavour-universal
(flavour-diagonal) pairs, then four with one flavour-changing coupling."""
NSI_RANGE = (-1.0, 1.0)
"""ε range of every NSI pair: holds both CsI/LAr degenerate solutions (the second at
ε ≈ 2|Q_W|/(2Z + N) ≈ 0.4 for u, Q_W the SM weak charge) and the flavour-changing allowed
band (|ε_αβ| ≲ 0.5 on CsI, arXiv:2211.11905 Fig. 6)."""


def _nsi_label(coupling: str) -> str:
    _, flavours, qx = coupling.split("_")
    greek = flavours.replace("mu", "μ").replace("tau", "τ")
    return f"ε_{greek}^{qx}"


def _nsi_pair(a: str, b: str) -> "Scenario":
    params = tuple(ScanParameter(c, "1", *NSI_RANGE, label=_nsi_label(c)) for c in (a, b))
    return Scenario(
        f"nsi_{a[4:]}__{b[4:]}",
        NSI_MODEL,
        f"vector NSI ({_nsi_label(a)}, {_nsi_label(b)})",
        params,
        (a, b),
        _identity,
        (0.0, 0.0),
        (31, 31),
        note="detector NSI tables; SM at the origin",
        flat_beyond=_valley_edges(a, b),
    )


def _valley_edges(a: str, b: str) -> tuple[str, ...]:
    """ε^u and ε^d of one flavour: χ² is flat along ε^u(2Z+N) + ε^d(Z+2N) = const (exactly
    for one nucleus, Ar; nearly for Cs and I), a valley that leaves the square."""
    same_flavour = a.split("_")[1] == b.split("_")[1] and a[-2] != b[-2]
    return tuple(f"{c}={e}" for c in (a, b) for e in ("lo", "hi")) if same_flavour else ()


def _mediator_scenario(model: str, title: str, g_range=(1e-6, 1e-2), m_range=(0.1, 1e5)):
    return Scenario(
        model,
        model,
        title,
        (
            ScanParameter("mass_mev", "MeV", *m_range, "log", "m"),
            ScanParameter("g", "1", *g_range, "log", "g", physical_lo=True),
        ),
        ("eps",),
        _mediator,
        None,
        (81, 81),
        note="SM at g → 0 (bottom of the plane)",
        # m ≪ q: massless limit, independent of m; m ≫ q: contact limit, only g/m matters
        # (its valley g ∝ m leaves through the top or the right edge)
        flat_beyond=("mass_mev=lo", "mass_mev=hi", "g=hi"),
    )


MILLICHARGE_RANGE_ES = (-0.12, 0.12)
"""q_ν range (10⁻⁸ e) where CsI sees ν–e scattering: its 90 % C.L. one-parameter intervals
are |q_ee| < 0.046, |q_μμ| < 0.030 (docs/models.md §3.3)."""
MILLICHARGE_RANGE_CEVNS = (-60.0, 80.0)
"""q_ν range (10⁻⁸ e) for LAr (CEvNS only; the CsI CEvNS-only q_ee interval is
[−12, 21.5] ∪ [35, 54.8], §3.4)."""

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "weak_mixing_angle",
            "weak_mixing_angle",
            "weak mixing angle",
            (ScanParameter("sin2_theta_w", "1", 0.12, 0.36, label="sin²θ_W"),),
            ("delta_sin2_theta_w",),
            _weak_mixing,
            (SIN2_THETA_W_DEFAULT,),
            (241,),
        ),
        Scenario(
            "neutron_radius",
            "neutron_radius",
            "neutron rms radius",
            (
                ScanParameter(
                    "r_n_fm",
                    "fm",
                    proton_radius_floor_fm(["Cs133", "I127"]),
                    7.0,
                    label="R_n",
                    physical_lo=True,
                    range_by_experiment=(("lar2020", proton_radius_floor_fm(["Ar40"]), 7.0),),
                ),
            ),
            (),
            _axis_only,
            None,
            (181,),
            combine=False,
            note="one R_n per experiment (Cs and I share it), R_n ≥ the measured charge radius "
            "(4.75 fm CsI, 3.43 fm Ar; Angeli & Marinova 2013); no CsI+LAr combination",
        ),
        Scenario(
            "magnetic_moment",
            "magnetic_moment",
            "neutrino magnetic moments",
            (
                ScanParameter("mu_nue", "1e-10 mu_B", 0.0, 120.0, label="μ_νe", physical_lo=True),
                ScanParameter("mu_numu", "1e-10 mu_B", 0.0, 120.0, label="μ_νμ", physical_lo=True),
            ),
            ("mu_nue", "mu_numu"),
            _identity,
            (0.0, 0.0),
            (61, 61),
        ),
        Scenario(
            "charge_radius",
            "charge_radius_millicharge",
            "neutrino charge radii",
            (
                ScanParameter("r2_ee", "1e-32 cm^2", -120.0, 60.0, label="⟨r²_νe⟩"),
                ScanParameter("r2_mumu", "1e-32 cm^2", -120.0, 60.0, label="⟨r²_νμ⟩"),
            ),
            ("r2_ee", "r2_mumu"),
            _identity,
            (0.0, 0.0),
            (73, 73),
        ),
        Scenario(
            "millicharge",
            "charge_radius_millicharge",
            "neutrino millicharges",
            (
                ScanParameter(
                    "q_ee",
                    "1e-8 e",
                    *MILLICHARGE_RANGE_ES,
                    label="q_νe",
                    range_by_experiment=(("lar2020", *MILLICHARGE_RANGE_CEVNS),),
                ),
                ScanParameter(
                    "q_mumu",
                    "1e-8 e",
                    *MILLICHARGE_RANGE_ES,
                    label="q_νμ",
                    range_by_experiment=(("lar2020", *MILLICHARGE_RANGE_CEVNS),),
                ),
            ),
            ("q_ee", "q_mumu"),
            _identity,
            (0.0, 0.0),
            (81, 81),
        ),
        *(_nsi_pair(a, b) for a, b in NSI_PAIRS),
        _gni_pair("C_V", "C_V"),
        _gni_pair("C_S", "C_S"),
        _gni_pair("C_T", "C_T"),
        _gni_pair("C_V", "C_S"),
        _gni_pair("C_V", "C_T"),
        _gni_pair("C_S", "C_T"),
        _mediator_scenario("light_vector_universal", "light vector mediator (universal)"),
        _mediator_scenario("light_vector_bl", "light vector mediator (B−L)"),
        _mediator_scenario("light_scalar", "light scalar mediator"),
        _mediator_scenario("light_tensor", "light tensor mediator"),
        _mediator_scenario(
            "leptoquark_s1", "S₁ leptoquark", g_range=(1e-5, 10.0), m_range=(1.0, 1e7)
        ),
        Scenario(
            "sterile_oscillation",
            "sterile_oscillation",
            "active–sterile oscillation (sin²2θ_ee = sin²2θ_μμ)",
            (
                ScanParameter("dm2_ev2", "eV^2", 0.1, 30.0, "log", "Δm²₄₁"),
                ScanParameter("sin2_2theta", "1", 0.0, 1.0, "linear", "sin²2θ", True, True),
            ),
            ("sin2_2theta_ee", "sin2_2theta_mumu"),
            _universal_mixing,
            None,
            (61, 51),
            note="SM at sin²2θ = 0 (left edge of the plane)",
            # Δm² → 0: no oscillation over L; large Δm²: the oscillation averages out
            flat_beyond=("dm2_ev2=lo", "dm2_ev2=hi"),
        ),
        Scenario(
            "transition_magnetic_moment",
            "transition_magnetic_moment",
            "transition magnetic moment to ν₄ (μ_e4 = μ_μ4)",
            (
                ScanParameter("m4_mev", "MeV", 0.01, 50.0, "log", "m₄"),
                ScanParameter("mu", "1e-10 mu_B", 1.0, 1e4, "log", "μ_ν4", physical_lo=True),
            ),
            ("mu_e4", "mu_mu4"),
            _universal_mixing,
            None,
            (51, 51),
            note="SM at μ → 0 (bottom of the plane)",
            # m₄ ≪ keV-scale kinematics: massless limit; m₄ near m_μ/2: no phase space left
            flat_beyond=("m4_mev=lo", "m4_mev=hi"),
        ),
    )
}


def identity_scenario(model: Model) -> Scenario:
    """A scenario whose parameters are the model's axis (if any) and its table couplings."""
    params = []
    if model.axis is not None:
        v = model.axis.values
        a = model.axis
        params.append(ScanParameter(a.name, a.unit, v[0], v[-1], a.scale))
    params += [ScanParameter(c.name, c.unit, -1.0, 1.0) for c in model.couplings]

    def mapping(m: Model, points: np.ndarray):
        if m.axis is None:
            return None, points
        return points[:, 0], points[:, 1:]

    return Scenario(
        model.name,
        model.name,
        model.title,
        tuple(params),
        tuple(model.coupling_names),
        mapping,
        None,
        (),
    )


def scenario_for(name: str, **model_settings) -> Scenario:
    """The scenario ``name`` of ``SCENARIOS`` (physical parameters), else the model ``name``
    with its axis and table couplings as parameters; unknown names list the valid ones."""
    if name in SCENARIOS:
        return SCENARIOS[name]
    try:
        return identity_scenario(get_model(name, **model_settings))
    except ValueError:
        from cevnsfast.models.scenarios import model_names

        raise ValueError(
            f"unknown model {name!r}; scenarios: nsi (the default), {', '.join(SCENARIOS)}; "
            f"models: {', '.join(model_names())}"
        ) from None


# ---- experiments ---------------------------------------------------------------------------

MAPPED_COUPLING_LIMIT = 1e30
"""Largest |table coupling| a model's parameters may map to. A light mediator's or the S₁
leptoquark's effective coupling g²/(√2 G_F (m² + q²))-like reaches 1e12 in the scanned planes
(m down to 0.1 MeV, g up to 10): excluded, but physical. 1e30 keeps x_i x_j T far from overflow
(1e60 × events per unit coupling²); the user-facing bound of contact couplings stays
``models.couplings.MAX_ABS_COUPLING``."""


class ModelExperiment(Experiment):
    """χ² of one experiment or an uncorrelated combination as a function of a scenario's
    physical parameters, every nuisance profiled (the wrapped experiments' own kernels)."""

    # physical parameters (masses up to 1e7 MeV): only non-finite values are refused here;
    # the couplings they map to are checked by the parts
    max_abs_value = float(np.finfo(float).max)

    def __init__(self, parts: Sequence[Experiment], scenario: Scenario, model: Model | None):
        self.parts = distinct_parts(parts)
        self.scenario = scenario
        self.model = model
        self.name = "+".join(p.name for p in self.parts)
        self.coupling_names = [p.name for p in scenario.parameters]

    @property
    def sm_point(self) -> dict[str, float]:
        """The scenario's SM parameter point ({} when it has none, e.g. a mediator's mass)."""
        sm = self.scenario.sm
        return {} if sm is None else dict(zip(self.coupling_names, sm, strict=True))

    @property
    def predictors(self) -> list[ModelPredictor]:
        return [p.predictor for p in self.parts]

    def to_model(self, points) -> tuple[np.ndarray | None, np.ndarray]:
        """(axis values, table couplings) of parameter points (n, len(parameters))."""
        return self.scenario.mapping(self.model, self._points(points))

    def _points(self, points) -> np.ndarray:
        if isinstance(points, Mapping):
            points = [[points[n] for n in self.coupling_names]]
        if len(self.coupling_names) == 0:
            return np.zeros((1, 0))
        return super()._points(points)

    def set_axis(self, value: float | None) -> None:
        for part in self.parts:
            if part.predictor.axis_value != value:
                part.predictor.set_axis(value)
                _rebind(part)

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        """Profiled χ² at parameter points (n, len(parameters)), grouped by axis value."""
        axis, couplings = self.to_model(points)
        couplings = np.ascontiguousarray(couplings, dtype=float)
        if axis is None:
            return np.sum([p.chi2_batch(couplings) for p in self.parts], axis=0)
        out = np.empty(couplings.shape[0])
        values, inverse = np.unique(axis, return_inverse=True)
        for k, value in enumerate(values):
            rows = np.nonzero(inverse == k)[0]
            self.set_axis(value)
            out[rows] = np.sum([p.chi2_batch(couplings[rows]) for p in self.parts], axis=0)
        return out

    def chi2(self, values=None) -> float:
        return float(self.chi2_batch(self._default(values))[0])

    def _default(self, values):
        if values is None:
            if self.scenario.sm is None:
                raise ValueError(f"{self.scenario.name}: give the parameter values")
            values = dict(zip(self.coupling_names, self.scenario.sm, strict=True))
        return values

    def toy_source(self, values=None) -> list:
        """Toy sources of every part at one parameter point (physical parameters)."""
        axis, couplings = self.to_model(self._points(self._default(values)))
        if axis is not None:
            self.set_axis(float(axis[0]))
        return [s for p in self.parts for s in p.toy_source(couplings[0])]

    def measurements(self) -> list:
        return [m for p in self.parts for m in p.measurements()]

    def with_data(self, data) -> "ModelExperiment":
        """Parts on other data, each with its own copy of the model predictor's tensors (a
        part moves its predictor along the axis and caches from it: none may be shared)."""
        import copy

        from cevnsfast.likelihood.base import split_parts

        parts = []
        for part, d in zip(self.parts, split_parts(self, data), strict=True):
            new = part.with_data(d)
            new.predictor = copy.copy(part.predictor)
            new.predictor.tensor = part.predictor.tensor.copy()
            new.predictor.shape_tensors = part.predictor.shape_tensors.copy()
            _rebind(new)
            parts.append(new)
        return ModelExperiment(parts, self.scenario, self.model)

    def fit(self, values=None) -> FitResult:
        """Nuisance fit of every part at one parameter point (physical parameters)."""
        points = self._points(self._default(values))
        axis, couplings = self.to_model(points)
        if axis is not None:
            self.set_axis(float(axis[0]))
        model_values = dict(zip(self.scenario.couplings, couplings[0], strict=True))
        fits = [p.fit(model_values) for p in self.parts]
        physical = {n: float(v) for n, v in zip(self.coupling_names, points[0], strict=True)}
        for f in fits:
            f.couplings = dict(physical)
        if len(fits) == 1:
            return fits[0]
        return FitResult(
            experiment=self.name,
            couplings=physical,
            chi2_min=float(sum(f.chi2_min for f in fits)),
            ndof=sum(f.ndof for f in fits),
            nuisances={f"{f.experiment}.{k}": v for f in fits for k, v in f.nuisances.items()},
            counts={f"{f.experiment}.{k}": v for f in fits for k, v in f.counts.items()},
            converged=all(f.converged for f in fits),
            parts=fits,
        )


def _rebind(part: Experiment) -> None:
    """Re-derive what an experiment caches from its predictor when it is built: LAr 2020
    keeps the time-shift tensors and an SM warm start of its nuisances (``_set_priors``,
    ``_warm_start``); CsI 2021 and the Asimov detectors read the predictor at every call."""
    if hasattr(part, "_set_priors"):
        part._set_priors()
    if hasattr(part, "_warm_start"):
        part.x0 = part._warm_start()


def model_experiment(
    experiments: str,
    scenario: str,
    tables_dir: Path | None = None,
    data_dir: Path | None = None,
    rebuild_stale: bool = False,
    csi2021_settings=None,
    **model_settings,
) -> ModelExperiment:
    """The χ² of ``experiments`` (``"csi2021"``, ``"csi2021+lar2020"``, …) for a scenario of
    ``SCENARIOS`` (physical parameters) or a model of ``models.scenarios`` (its axis and
    table couplings as parameters); ``model_settings`` override the model's defaults;
    ``csi2021_settings`` the CsI 2021 likelihood's (``CsI2021Settings``)."""
    from cevnsfast.likelihood.registry import experiment

    sc = scenario_for(scenario, **model_settings)
    if sc.model == NSI_MODEL:
        names = [n.strip() for n in experiments.split("+")]
        build = builder("detector")
        if rebuild_stale and build is not None:  # as the model tables are rebuilt below
            for n in names:
                build(n, directory=tables_dir)
        parts = [
            experiment(
                n,
                sc.couplings,
                tables_dir=tables_dir,
                data_dir=data_dir,
                csi2021_settings=csi2021_settings,
            )
            for n in names
        ]
        return ModelExperiment(parts, sc, None)
    model = get_model(sc.model, **model_settings)
    parts = []
    for name in experiments.split("+"):
        name = name.strip()
        part = experiment(
            name, (), tables_dir=tables_dir, data_dir=data_dir, csi2021_settings=csi2021_settings
        )
        if not isinstance(getattr(part, "predictor", None), RatePredictor):
            raise ValueError(
                f"experiment {name!r} does not take its signal from a RatePredictor "
                "(``.predictor``): model tables cannot be plugged into it"
            )
        part.predictor = ModelPredictor(  # the detector's table (lar2020_3d reads lar2020)
            part.predictor.detector,
            model,
            list(sc.couplings),
            tables_dir,
            rebuild_stale=rebuild_stale,
        )
        part.coupling_names = part.predictor.coupling_names
        part.max_abs_value = MAPPED_COUPLING_LIMIT
        _rebind(part)
        parts.append(part)
    return ModelExperiment(parts, sc, model)


def scan(exp: ModelExperiment, grids: Sequence[np.ndarray]) -> np.ndarray:
    """χ² on the outer product of per-parameter grids, shape (len(g1), len(g2), …)."""
    mesh = np.meshgrid(*grids, indexing="ij")
    points = np.stack([m.ravel() for m in mesh], axis=1) if grids else np.zeros((1, 0))
    return exp.chi2_batch(points).reshape(mesh[0].shape if grids else ())
