"""CLs upper limits on a one-sided parameter: asymptotic and from toys, with Asimov bands.

The parameter μ is scanned on a grid [μ₀, μ_max] whose first node μ₀ is the null
hypothesis (the SM: no magnetic moment, no mixing, zero coupling); the grid is the physical
region, so the best fit μ̂ is restricted to μ ≥ μ₀. The test statistic is q̃_μ of Cowan,
Cranmer, Gross and Vitells (arXiv:1007.1727 Eq. 16), in χ² units with nuisances profiled:

    q̃_μ = χ²(μ) − χ²(μ̂)   if μ̂ ≤ μ,        0   if μ̂ > μ      (μ̂ on the grid, ≥ μ₀).

CLs = CL_{s+b}/CL_b = P(q̃_μ ≥ q̃_obs | μ) / P(q̃_μ ≥ q̃_obs | μ₀) (Read, J. Phys. G 28 (2002)
2693); μ is excluded at ``cl`` when CLs ≤ 1 − cl, and the limit is the first crossing
(log-linear interpolation between nodes).

*Asymptotic* (arXiv:1007.1727 §3.7 and Eqs. 65–66): with q_A = q̃_μ of the Asimov data set of
the null hypothesis (expected counts at μ₀ with the nuisances at their conditional fit to the
data, auxiliary measurements at those values),

    q̃ ≤ q_A:  CL_{s+b} = 1 − Φ(√q̃),                 CL_b = 1 − Φ(√q̃ − √q_A)
    q̃ > q_A:  CL_{s+b} = 1 − Φ((q̃ + q_A)/(2√q_A)),  CL_b = 1 − Φ((q̃ − q_A)/(2√q_A)).

The expected CLs for a background-only outcome N σ from the median is the same formula at
the q̃ of that outcome (``expected_cls``; CLs = (1 − Φ(√q_A − N))/Φ(N)), which gives the
±1σ/±2σ bands. *Toys*: CL_{s+b} from toys drawn at μ, CL_b from toys drawn at μ₀ (``stats.toys``).
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from cevnsfast.likelihood.base import Experiment
from cevnsfast.likelihood.toydata import Measurements
from cevnsfast.stats.toys import draw_toys, rng_for, toy_chi2

BANDS = (-2, -1, 0, 1, 2)


def q_tilde(chi2: np.ndarray) -> np.ndarray:
    """q̃_μ at every grid node from χ² rows (..., n_grid) on an increasing μ grid."""
    chi2 = np.asarray(chi2, dtype=float)
    best = np.argmin(chi2, axis=-1)[..., None]
    nodes = np.arange(chi2.shape[-1])
    q = chi2 - chi2.min(axis=-1, keepdims=True)
    return np.where(nodes >= best, q, 0.0)


def cls_asymptotic(q: np.ndarray, q_asimov: np.ndarray) -> np.ndarray:
    """CLs from q̃_μ and q_A (module docstring); 1 where q_A = 0 (the null hypothesis)."""
    q = np.maximum(np.asarray(q, dtype=float), 0.0)
    qa = np.maximum(np.asarray(q_asimov, dtype=float), 0.0)
    sq, sqa = np.sqrt(q), np.sqrt(qa)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = q <= qa
        clsb = np.where(low, norm.sf(sq), norm.sf((q + qa) / (2 * sqa)))
        clb = np.where(low, norm.sf(sq - sqa), norm.sf((q - qa) / (2 * sqa)))
        cls = np.where(qa > 0, clsb / clb, 1.0)
    return np.clip(np.nan_to_num(cls, nan=1.0), 0.0, 1.0)


def expected_cls(q_asimov: np.ndarray, n_sigma: float) -> np.ndarray:
    """Expected CLs for a null-hypothesis outcome μ̂ = N σ (N = ``n_sigma``) from the median.

    With q_A = μ²/σ²: q̃ = (√q_A − N)² for 0 ≤ N ≤ √q_A (0 above), and q̃ = q_A − 2N√q_A for
    N < 0 (μ̂ < 0 is replaced by 0 in q̃, arXiv:1007.1727 Eq. 16). Fed to
    :func:`cls_asymptotic` this gives CLs = (1 − Φ(√q_A − N))/Φ(N), whose crossing is the
    band σ(Φ⁻¹(1 − αΦ(N)) + N) (their Eq. 89 with the CLs denominator)."""
    qa = np.maximum(np.asarray(q_asimov, dtype=float), 0.0)
    sqa = np.sqrt(qa)
    q = np.maximum(sqa - n_sigma, 0.0) ** 2 if n_sigma >= 0 else qa - 2.0 * n_sigma * sqa
    return cls_asymptotic(q, qa)


def crossing(values: np.ndarray, cls: np.ndarray, alpha: float) -> float | None:
    """First μ where CLs falls to ``alpha`` (log-linear between nodes); None if it never does."""
    below = np.flatnonzero(cls <= alpha)
    if below.size == 0:
        return None
    k = int(below[0])
    if k == 0:
        return float(values[0])
    la, lb = math.log(max(cls[k - 1], 1e-300)), math.log(max(cls[k], 1e-300))
    frac = (math.log(alpha) - la) / (lb - la) if lb != la else 1.0
    return float(values[k - 1] + frac * (values[k] - values[k - 1]))


@dataclass
class CLsLimits:
    """CLs on the grid and the upper limits (None: not excluded inside the grid)."""

    param: str
    values: np.ndarray
    cl: float
    q_observed: np.ndarray
    q_asimov: np.ndarray
    cls_asymptotic: np.ndarray
    expected_cls: dict[int, np.ndarray]
    limit_asymptotic: float | None
    expected_limits: dict[int, float | None]
    cls_toys: np.ndarray | None = None
    cls_toys_error: np.ndarray | None = None
    limit_toys: float | None = None
    n_toys: int = 0

    def as_dict(self) -> dict:
        out = {
            "param": self.param,
            "cl": self.cl,
            "values": self.values.tolist(),
            "q_observed": self.q_observed.tolist(),
            "q_asimov": self.q_asimov.tolist(),
            "cls_asymptotic": self.cls_asymptotic.tolist(),
            "limit_asymptotic": self.limit_asymptotic,
            "expected_limits": {f"{n:+d}sigma": v for n, v in self.expected_limits.items()},
            "n_toys": self.n_toys,
        }
        if self.cls_toys is not None:
            out |= {
                "cls_toys": self.cls_toys.tolist(),
                "cls_toys_error": self.cls_toys_error.tolist(),
                "limit_toys": self.limit_toys,
            }
        return out


def cls_limits(
    experiment: Experiment,
    points: np.ndarray,
    param: str,
    cl: float = 0.95,
    n_toys: int = 0,
    seed: int = 0,
    stride: int = 1,
) -> CLsLimits:
    """CLs limits on the parameter varying along ``points`` (rows on an increasing grid whose
    first row is the null hypothesis); toys only when ``n_toys`` > 0."""
    points = np.asarray(points, dtype=float)
    column = list(experiment.coupling_names).index(param)
    values = points[:, column]
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"{param}: the CLs grid must increase from the null value")
    alpha = 1.0 - cl
    chi2 = np.asarray(experiment.chi2_batch(points), dtype=float)
    q_obs = q_tilde(np.where(np.isfinite(chi2), chi2, np.inf))
    null_sources = experiment.toy_source(points[0])
    asimov = experiment.with_data(
        [
            Measurements(s.expected, np.where(s.measured, s.nuisances, s.nominal))
            for s in null_sources
        ]
    )
    q_a = q_tilde(np.asarray(asimov.chi2_batch(points), dtype=float))
    q_a = np.where(np.arange(values.size) == 0, 0.0, q_a)
    cls_obs = cls_asymptotic(q_obs, q_a)
    bands = {n: expected_cls(q_a, n) for n in BANDS}
    result = CLsLimits(
        param,
        values,
        cl,
        q_obs,
        q_a,
        cls_obs,
        bands,
        crossing(values, cls_obs, alpha),
        {n: crossing(values, b, alpha) for n, b in bands.items()},
    )
    if n_toys > 0:
        _toy_cls(result, experiment, points, n_toys, seed, stride)
    return result


def _toy_cls(result, experiment, points, n_toys: int, seed: int, stride: int) -> None:
    """CL_{s+b} from toys at each μ, CL_b from one set of null toys evaluated at every μ."""
    n = points.shape[0]
    shape = (n,)
    null = draw_toys(experiment.toy_source(points[0]), n_toys, rng_for(seed, n))
    q_null = q_tilde(toy_chi2(experiment, null, points, shape))  # (toys, n)
    clb = (q_null >= result.q_observed[None, :]).mean(axis=0)
    clsb = np.ones(n)
    for j in range(1, n):
        toys = draw_toys(experiment.toy_source(points[j]), n_toys, rng_for(seed, j))
        chi2 = toy_chi2(experiment, toys, points, shape, required=[j], stride=stride)
        q_j = q_tilde(chi2)[:, j]
        clsb[j] = (q_j >= result.q_observed[j]).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        cls = np.where(clb > 0, clsb / clb, 1.0)
        rel = np.sqrt(
            (1 - clsb) / np.maximum(clsb * n_toys, 1) + (1 - clb) / np.maximum(clb * n_toys, 1)
        )
    cls[0] = 1.0
    result.cls_toys = np.clip(cls, 0.0, 1.0)
    result.cls_toys_error = result.cls_toys * rel
    result.limit_toys = crossing(result.values, result.cls_toys, 1.0 - result.cl)
    result.n_toys = n_toys
