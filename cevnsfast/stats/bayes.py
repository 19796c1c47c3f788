"""Bayesian posteriors and evidences by nested sampling (dynesty).

**Likelihood.** ln L(θ) = −χ²(θ)/2 with the experiment's χ² — nuisances *profiled* in the
kernel at each θ, not marginalised. For nuisances with Gaussian priors that enter nearly
linearly the two differ by a slowly varying Laplace factor (det of the nuisance Hessian);
this is the "profile likelihood as likelihood" shortcut common in CEvNS fits, stated as
such in docs/statistics.md. The additive constant of ln L is the χ² convention's (the
saturated Poisson likelihood, arXiv:2402.16953 Eq. 17), so evidences compare models on the
same data and binning only.

**Priors** per parameter: uniform or log-uniform (``Prior``) within the model's ranges
(``likelihood.scenarios.SCENARIOS``) or the user's.

**Sampler.** dynesty (Speagle 2020, MNRAS 493, 3132; Skilling 2004 nested sampling): pure
Python on numpy/scipy, so it installs everywhere without a compiler, is actively
maintained, and its static sampler with multi-ellipsoid bounds is robust for the 1–3
parameters of these fits. (UltraNest, the other candidate, builds Cython extensions.) Runs
are seeded (``rstate``) and reproducible.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cevnsfast.likelihood.base import Experiment


@dataclass(frozen=True)
class Prior:
    """Uniform (``scale="linear"``) or log-uniform (``"log"``, lo > 0) on [lo, hi]."""

    name: str
    lo: float
    hi: float
    scale: str = "linear"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(
                f"prior of {self.name}: needs finite lo < hi, got {self.lo}, {self.hi}"
            )
        if self.scale not in ("linear", "log"):
            raise ValueError(f"prior of {self.name}: scale must be 'linear' or 'log'")
        if self.scale == "log" and self.lo <= 0:
            raise ValueError(f"log-uniform prior of {self.name} needs lo > 0, got {self.lo}")

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Unit cube → parameter (inverse CDF of the prior)."""
        if self.scale == "log":
            return np.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo)))
        return self.lo + u * (self.hi - self.lo)


def log_likelihood(experiment: Experiment, names: Sequence[str], fixed: dict | None = None):
    """ln L(θ) = −χ²(θ)/2 of ``experiment`` as a function of the parameters ``names`` (the
    other couplings at ``fixed``, default 0); −∞ where χ² is not finite."""
    columns = list(experiment.coupling_names)
    index = [columns.index(n) for n in names]
    base = np.zeros(len(columns))
    for k, v in (fixed or {}).items():
        base[columns.index(k)] = v

    def loglike(theta: np.ndarray) -> float:
        point = base.copy()
        point[index] = theta
        chi2 = float(experiment.chi2_batch(point[None, :])[0])
        return -0.5 * chi2 if math.isfinite(chi2) else -np.inf

    return loglike


@dataclass
class Posterior:
    """Weighted posterior samples, evidence and summaries."""

    names: list[str]
    samples: np.ndarray
    weights: np.ndarray
    logz: float
    logz_error: float
    n_calls: int

    def quantile(self, name: str, q: float | np.ndarray) -> np.ndarray:
        x = self.samples[:, self.names.index(name)]
        order = np.argsort(x)
        cdf = np.cumsum(self.weights[order])
        cdf /= cdf[-1]
        return np.interp(q, cdf, x[order])

    def central_interval(self, name: str, prob: float = 0.6827) -> tuple[float, float]:
        """Equal-tailed credible interval holding ``prob`` of the marginal posterior."""
        lo, hi = self.quantile(name, np.array([(1 - prob) / 2, (1 + prob) / 2]))
        return float(lo), float(hi)

    def mean(self, name: str) -> float:
        x = self.samples[:, self.names.index(name)]
        return float(np.sum(self.weights * x) / np.sum(self.weights))

    def as_dict(self, prob: float = 0.6827) -> dict:
        return {
            "parameters": self.names,
            "logz": self.logz,
            "logz_error": self.logz_error,
            "likelihood_calls": self.n_calls,
            "credible_prob": prob,
            "summary": {
                n: {
                    "mean": self.mean(n),
                    "median": float(self.quantile(n, 0.5)),
                    "central_interval": list(self.central_interval(n, prob)),
                }
                for n in self.names
            },
        }


def sample(
    experiment: Experiment,
    priors: Sequence[Prior],
    fixed: dict | None = None,
    n_live: int = 200,
    dlogz: float = 0.1,
    seed: int = 0,
) -> Posterior:
    """Nested sampling of the posterior of the prior parameters (module docstring)."""
    import dynesty

    names = [p.name for p in priors]
    loglike = log_likelihood(experiment, names, fixed)

    def prior_transform(u: np.ndarray) -> np.ndarray:
        return np.array([p.transform(ui) for p, ui in zip(priors, u, strict=True)])

    sampler = dynesty.NestedSampler(
        loglike,
        prior_transform,
        len(priors),
        nlive=n_live,
        bound="single" if len(priors) == 1 else "multi",
        sample="unif" if len(priors) <= 3 else "auto",
        rstate=np.random.default_rng(seed),
    )
    sampler.run_nested(dlogz=dlogz, print_progress=False)
    res = sampler.results
    weights = np.asarray(res.importance_weights(), dtype=float)
    return Posterior(
        names,
        np.asarray(res.samples, dtype=float),
        weights,
        float(res.logz[-1]),
        float(res.logzerr[-1]),
        int(np.sum(res.ncall)),
    )
