"""1D profile likelihoods: Δχ²(one coupling) with every nuisance profiled."""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cevnsfast.likelihood.base import Experiment
from cevnsfast.scan.intervals import Interval, delta_chi2_threshold, intervals_1d


@dataclass
class Profile1D:
    """χ² along one coupling; Δχ² is relative to the minimum over the scanned range."""

    experiment: str
    param: str
    values: np.ndarray
    chi2: np.ndarray
    fixed: dict[str, float]

    @property
    def delta_chi2(self) -> np.ndarray:
        return self.chi2 - self.chi2.min()

    @property
    def best_fit(self) -> float:
        return float(self.values[np.argmin(self.chi2)])

    def intervals(self, cl: float | str = "1sigma", refine=None) -> list[Interval]:
        """Allowed intervals (1 dof) at confidence level ``cl``; disjoint ones stay separate."""
        return intervals_1d(self.values, self.chi2, delta_chi2_threshold(cl, 1), refine)

    def as_dict(self) -> dict:
        return {
            "experiment": self.experiment,
            "param": self.param,
            "fixed": self.fixed,
            "values": self.values.tolist(),
            "chi2": self.chi2.tolist(),
            "delta_chi2": self.delta_chi2.tolist(),
            "best_fit": self.best_fit,
            "intervals_1sigma": [[i.lo, i.hi] for i in self.intervals("1sigma")],
            "intervals_90": [[i.lo, i.hi] for i in self.intervals(0.90)],
        }


def profile_1d(
    make_experiment,
    param: str,
    values: np.ndarray,
    fixed: Mapping[str, float] | None = None,
) -> Profile1D:
    """Scan ``param`` over ``values`` (others fixed at ``fixed``, default 0).

    ``make_experiment(couplings)`` builds the experiment for the coupling list it is given.
    """
    fixed = dict(fixed or {})
    names = [param, *fixed]
    exp: Experiment = make_experiment(names)
    points = np.zeros((len(values), len(names)))
    points[:, 0] = values
    for j, name in enumerate(fixed, start=1):
        points[:, j] = fixed[name]
    chi2 = exp.chi2_batch(points)
    return Profile1D(exp.name, exp.coupling_names[0], np.asarray(values, float), chi2, fixed)
