"""Experiments on model tables: the talk's scenarios with every nuisance profiled.

    >>> from cevnsfast.likelihood.models import model_experiment
    >>> exp = model_experiment("csi2021", "light_vector_universal")
    >>> exp.chi2_batch(points)          # points (n, 2): (m_Z' [MeV], g) — the scenario's own
    >>> exp.fit({"mass_mev": 20.0, "g": 1e-4})   # parameters, mapped to the table couplings

Composition, not modification: an experiment of ``likelihood.registry`` (CsI 2021 with α0…α7,
LAr 2020, the Asimov detectors) is built as usual and its ``predictor`` is replaced by a
``ModelPredictor`` — a ``RatePredictor`` whose tensors come from a model table
(``cevnsfast.model_tables``) interpolated at one value of the model axis. The experiment's
numba χ² kernels read ``predictor.tensor`` and ``predictor.shape_tensors`` at each call, so
moving the axis (``set_axis``) is all a (mass, coupling) scan needs: per mass one
interpolation of the tensors (cubic Hermite in log m, ``profile_kernels.interp_weights``),
then the usual batch over couplings.

The scenarios (physical parameters → axis value and table couplings) are
``likelihood.scenarios``; the reproduce section that fits and draws them all is the face's
``cevnsfast.scenario_summary``.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from cevnsfast.kernels import kernel_layout
from cevnsfast.likelihood.base import Experiment, FitResult, distinct_parts
from cevnsfast.likelihood.scenarios import NSI_MODEL, Scenario, scenario_for
from cevnsfast.model_tables import load_model_table
from cevnsfast.models.couplings import x_vector
from cevnsfast.models.scenarios import get_model
from cevnsfast.models.terms import Model
from cevnsfast.profile_kernels import interp_weights
from cevnsfast.rates import RatePredictor, nuisance_grids, shape_kernel_tensors
from cevnsfast.tables import Table, builder


def _kernel_tensors(table: Table, index: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The table's tensors restricted to the couplings ``index`` (0: SM) in kernel order
    [axis, i, j, bin] (``kernels``; the table stores [axis, bin, i, j]): the nominal one
    [axis, i, j, bin] and the shape grids [axis, nuisance axis, node, i, j, bin] (padded
    with zeros). Read-only and memoised on the table (every scenario fit builds its
    predictors anew; the table cache hands them the same ``Table``)."""
    key = ("kernel_tensors", index)
    if key not in table.derived:
        arrays, axes = table.arrays, list(table.attrs.get("nuisance_axes", []))
        nominal = kernel_layout(arrays["tensor"], index)
        _, grid_sizes = nuisance_grids(arrays, axes)
        shapes = shape_kernel_tensors(arrays, axes, grid_sizes, index)
        nominal.flags.writeable = shapes.flags.writeable = False
        table.derived[key] = (nominal, shapes)
    return table.derived[key]


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
        self.grid_values, self.grid_sizes = nuisance_grids(arrays, self.nuisance_axes)
        self._all_tensor, self._all_shape = _kernel_tensors(self.table, tuple(index))
        self.tensor = np.empty(self._all_tensor.shape[1:])
        self.shape_tensors = np.empty(self._all_shape.shape[1:])
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
