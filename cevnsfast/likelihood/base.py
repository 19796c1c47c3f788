"""What every experiment offers the scanner, and the combination of experiments."""

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2 as chi2_distribution

from cevnsfast.likelihood.toydata import Measurements, ToySource
from cevnsfast.models.couplings import MAX_ABS_COUPLING, check_couplings


@dataclass
class FitResult:
    """Best fit of the nuisances at one coupling point.

    Goodness of fit: ``chi2_per_dof`` = χ²_min / ndof and ``p_value`` = P(χ²_ndof ≥ χ²_min),
    the χ² survival function (Wilks: the profiled Poisson likelihood ratio of Eq. 17 against
    the saturated model is asymptotically χ²-distributed with ndof = bins − free parameters).
    Both are None when ndof ≤ 0.
    """

    experiment: str
    couplings: dict[str, float]
    chi2_min: float
    ndof: int
    nuisances: dict[str, float]
    counts: dict[str, float]
    converged: bool = True
    parts: list["FitResult"] = field(default_factory=list)
    reason: str = ""
    """Why the fit is not converged (empty when it is)."""

    def __post_init__(self) -> None:
        if not np.isfinite(self.chi2_min):
            self.converged = False
            self.reason = self.reason or f"chi2_min = {self.chi2_min} is not finite"
        elif not self.converged and not self.reason:
            failed = [p.experiment for p in self.parts if not p.converged]
            self.reason = f"not converged: {', '.join(failed)}" if failed else "not converged"

    @property
    def chi2_per_dof(self) -> float | None:
        return self.chi2_min / self.ndof if self.ndof > 0 else None

    @property
    def p_value(self) -> float | None:
        return float(chi2_distribution.sf(self.chi2_min, self.ndof)) if self.ndof > 0 else None

    def as_dict(self) -> dict:
        out = {
            "experiment": self.experiment,
            "couplings": self.couplings,
            "chi2_min": self.chi2_min,
            "ndof": self.ndof,
            "chi2_per_dof": self.chi2_per_dof,
            "p_value": self.p_value,
            "nuisances": self.nuisances,
            "counts": self.counts,
            "converged": self.converged,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.parts:
            out["parts"] = [p.as_dict() for p in self.parts]
        return out


class Experiment:
    """χ² of one experiment with its nuisances profiled, as a function of the couplings."""

    name: str
    coupling_names: list[str]
    max_abs_value: float = MAX_ABS_COUPLING
    """Largest |value| of a point (``models.couplings.MAX_ABS_COUPLING`` for couplings)."""

    def chi2(self, values: Mapping[str, float] | Sequence[float] | None = None) -> float:
        raise NotImplementedError

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        """Profiled χ² at many points, shape (n_points, n_couplings)."""
        raise NotImplementedError

    def fit(self, values: Mapping[str, float] | None = None) -> FitResult:
        raise NotImplementedError

    def toy_source(self, values=None) -> list[ToySource]:
        """Expected counts at ``values`` with the nuisances at their conditional best fit and
        the auxiliary measurements, one :class:`ToySource` per independent part
        (``likelihood.toydata``)."""
        raise NotImplementedError(f"{self.name} offers no pseudo-data")

    def measurements(self) -> list[Measurements]:
        """The data and auxiliary-measurement centres the χ² uses, one entry per part."""
        raise NotImplementedError(f"{self.name} offers no pseudo-data")

    def with_data(self, data: Sequence[Measurements]) -> "Experiment":
        """The same experiment on other data (one :class:`Measurements` per part)."""
        raise NotImplementedError(f"{self.name} offers no pseudo-data")

    def _points(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        if points.shape[1] != len(self.coupling_names):
            raise ValueError(
                f"{self.name}: points need {len(self.coupling_names)} columns "
                f"({', '.join(self.coupling_names)}), got {points.shape[1]}"
            )
        check_couplings(points, self.coupling_names, self.name, self.max_abs_value)
        return points


def distinct_parts(parts: Sequence[Experiment]) -> list[Experiment]:
    """``parts`` as a list, refusing an experiment listed twice: its χ² and dof would be
    counted twice (give a copied spec its own ``name`` to combine two detectors on purpose)."""
    names = [p.name for p in parts]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(
            f"{'+'.join(names)}: {', '.join(twice)} listed twice; a combination sums "
            "independent experiments, so each may appear once"
        )
    _warn_on_mixed_weak_charge(parts)
    return list(parts)


def _warn_on_mixed_weak_charge(parts: Sequence[Experiment]) -> None:
    """A combination whose detectors compute the SM weak charge differently (spec field
    ``physics.weak_charge``: the COHERENT data follow the collaboration's radiative couplings,
    the paper's projections its tree level) assumes two Standard Models: warn, naming them."""
    modes = {}
    for p in parts:
        attrs = getattr(getattr(getattr(p, "predictor", None), "table", None), "attrs", {})
        if "physics" in attrs:
            modes[p.name] = attrs["physics"]["weak_charge"]
    if len(set(modes.values())) > 1:
        listed = ", ".join(f"{n}: {m}" for n, m in modes.items())
        warnings.warn(
            f"combining detectors with different SM weak-charge conventions ({listed}); set "
            "physics.weak_charge alike in their specs for one Standard Model (docs/physics.md)",
            UserWarning,
            stacklevel=3,
        )


class Combined(Experiment):
    """Sum of independent experiments' χ² (uncorrelated nuisances, arXiv:2402.16953 §IV)."""

    def __init__(self, parts: Sequence[Experiment]):
        self.parts = distinct_parts(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.coupling_names = list(self.parts[0].coupling_names)

    def chi2(self, values=None) -> float:
        return float(sum(p.chi2(values) for p in self.parts))

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        points = self._points(points)
        return np.sum([p.chi2_batch(points) for p in self.parts], axis=0)

    def toy_source(self, values=None) -> list[ToySource]:
        return [s for p in self.parts for s in p.toy_source(values)]

    def measurements(self) -> list[Measurements]:
        return [m for p in self.parts for m in p.measurements()]

    def with_data(self, data: Sequence[Measurements]) -> "Combined":
        pairs = zip(self.parts, split_parts(self, data), strict=True)
        return Combined([p.with_data(d) for p, d in pairs])

    def fit(self, values=None) -> FitResult:
        fits = [p.fit(values) for p in self.parts]
        return FitResult(
            experiment=self.name,
            couplings=dict(fits[0].couplings),
            chi2_min=float(sum(f.chi2_min for f in fits)),
            ndof=sum(f.ndof for f in fits),
            nuisances={f"{f.experiment}.{k}": v for f in fits for k, v in f.nuisances.items()},
            counts={f"{f.experiment}.{k}": v for f in fits for k, v in f.counts.items()},
            converged=all(f.converged for f in fits),
            parts=fits,
        )


class ParameterSubset(Experiment):
    """An experiment seen through a subset of its parameters, in the order ``columns``; the
    others stay at ``defaults`` (default: the experiment's SM point ``sm_point``).

    Lets a scan or a profile name only the parameters it varies (e.g. ``g`` at fixed mass is
    given with ``--set``; a scenario's SM values fill the rest).
    """

    def __init__(
        self,
        full: Experiment,
        columns: Sequence[str],
        defaults: Mapping[str, float] | None = None,
    ):
        self.full = full
        self.name = full.name
        self.coupling_names = list(columns)
        self.max_abs_value = full.max_abs_value
        names = list(full.coupling_names)
        unknown = [c for c in columns if c not in names]
        if unknown or len(set(columns)) != len(columns):
            raise ValueError(f"{full.name}: columns {list(columns)} must be distinct of {names}")
        given = dict(defaults) if defaults is not None else dict(getattr(full, "sm_point", {}))
        missing = [n for n in names if n not in columns and n not in given]
        if missing:
            raise ValueError(
                f"{full.name}: give a value for {', '.join(missing)} (no SM value to default to)"
            )
        self._index = np.array([names.index(c) for c in columns], dtype=np.int64)
        self._base = np.array([given.get(n, np.nan) for n in names], dtype=float)

    def _full_points(self, points) -> np.ndarray:
        points = self._points(points)
        full = np.tile(self._base, (points.shape[0], 1))
        full[:, self._index] = points
        return full

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        return self.full.chi2_batch(self._full_points(points))

    def chi2(self, values=None) -> float:
        return float(self.chi2_batch(self._as_row(values))[0])

    def fit(self, values=None) -> FitResult:
        row = self._full_points(self._as_row(values))[0]
        return self.full.fit(dict(zip(self.full.coupling_names, row.tolist(), strict=True)))

    def toy_source(self, values=None) -> list[ToySource]:
        return self.full.toy_source(self._full_points(self._as_row(values))[0])

    def measurements(self) -> list[Measurements]:
        return self.full.measurements()

    def with_data(self, data: Sequence[Measurements]) -> "ParameterSubset":
        import copy

        new = copy.copy(self)
        new.full = self.full.with_data(data)
        return new

    def _as_row(self, values) -> np.ndarray:
        if values is None:
            values = {}
        if isinstance(values, Mapping):
            unknown = set(values) - set(self.coupling_names)
            if unknown:
                raise ValueError(f"{self.name}: unknown parameters {sorted(unknown)}")
            defaults = dict(zip(self.full.coupling_names, self._base.tolist(), strict=True))
            return np.array([[values.get(c, defaults[c]) for c in self.coupling_names]])
        return np.atleast_2d(np.asarray(values, dtype=float))


def split_parts(experiment: Experiment, data: Sequence) -> list[list]:
    """Per-part slices of a flat list with one entry per independent part (``measurements``)."""
    out, start = [], 0
    for part in experiment.parts:
        n = len(part.measurements())
        out.append(list(data[start : start + n]))
        start += n
    if start != len(data):
        raise ValueError(f"{experiment.name}: {len(data)} data sets given for {start} parts")
    return out
