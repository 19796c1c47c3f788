"""What every experiment offers the scanner, and the combination of experiments."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2 as chi2_distribution


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
        if self.parts:
            out["parts"] = [p.as_dict() for p in self.parts]
        return out


class Experiment:
    """χ² of one experiment with its nuisances profiled, as a function of the couplings."""

    name: str
    coupling_names: list[str]

    def chi2(self, values: Mapping[str, float] | Sequence[float] | None = None) -> float:
        raise NotImplementedError

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        """Profiled χ² at many points, shape (n_points, n_couplings)."""
        raise NotImplementedError

    def fit(self, values: Mapping[str, float] | None = None) -> FitResult:
        raise NotImplementedError

    def _points(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        if points.shape[1] != len(self.coupling_names):
            raise ValueError(
                f"{self.name}: points need {len(self.coupling_names)} columns "
                f"({', '.join(self.coupling_names)}), got {points.shape[1]}"
            )
        return points


class Combined(Experiment):
    """Sum of independent experiments' χ² (uncorrelated nuisances, arXiv:2402.16953 §IV)."""

    def __init__(self, parts: Sequence[Experiment]):
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.coupling_names = list(self.parts[0].coupling_names)

    def chi2(self, values=None) -> float:
        return float(sum(p.chi2(values) for p in self.parts))

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        points = self._points(points)
        return np.sum([p.chi2_batch(points) for p in self.parts], axis=0)

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
