"""Asimov sensitivity χ² of the future NaI and Cryo-CsI detectors (arXiv:2402.16953 Eqs. 19–21).

    χ² = Σ_i (N_exp,i − N_th,i)² / N_exp,i + (α/σ_α)² + (β/σ_β)²
    N_exp = N_SM + B,   N_th = (1+α) N(ε) + (1+β) B

(α, β) are profiled exactly (the χ² is quadratic in them: ``profile_kernels.profile_gauss``).
The steady-state background B per bin comes from the detector spec's ``[background]`` table:
a flat rate in counts/(keVee kg day) (``ckkd``), optionally higher in the first bins, times
the live time and mass, divided by the beam duty-factor reduction (§III.3–III.4).
"""

from collections.abc import Mapping
from pathlib import Path

import numba as nb
import numpy as np

from cevnsfast.detectors.spec import load_spec
from cevnsfast.kernels import quadratic_form_into
from cevnsfast.likelihood.base import Experiment, FitResult
from cevnsfast.profile_kernels import profile_gauss
from cevnsfast.rates import RatePredictor


def steady_state_background(spec) -> np.ndarray:
    """Expected steady-state background counts per reconstructed bin (see module docstring)."""
    bg = spec.raw.get("background")
    if bg is None:
        raise ValueError(f"detector {spec.name!r} has no [background] table for an Asimov χ²")
    edges = np.asarray(spec.bin_edges)
    if spec.observable == "keVee":
        widths_kev_ee = np.diff(edges)
    elif spec.observable == "pe":
        widths_kev_ee = np.diff(edges) / spec.light_yield_pe_per_kev_ee
    else:
        raise ValueError(f"{spec.name}: a ckkd background needs a keVee or PE observable")
    rate = np.full(widths_kev_ee.size, float(bg["ckkd"]))
    rate[: int(bg.get("first_bins", 0))] = float(bg.get("first_bins_ckkd", bg["ckkd"]))
    return rate * widths_kev_ee * spec.mass_kg * float(bg["live_days"]) / float(bg["reduction"])


@nb.njit(cache=True, nogil=True)
def _chi2_point(tensor, x, n_exp, background, sigma_alpha, sigma_beta):
    sig = np.empty(tensor.shape[2])
    quadratic_form_into(tensor, x, sig)
    return profile_gauss(n_exp, sig, background, sigma_alpha, sigma_beta)


@nb.njit(cache=True, parallel=True)
def _chi2_batch(tensor, xs, n_exp, background, sigma_alpha, sigma_beta):
    out = np.empty(xs.shape[0])
    for p in nb.prange(xs.shape[0]):
        out[p] = _chi2_point(tensor, xs[p], n_exp, background, sigma_alpha, sigma_beta)[0]
    return out


class AsimovExperiment(Experiment):
    """Future-detector sensitivity: Asimov data at the SM (or at ``truth``) plus background."""

    def __init__(
        self,
        detector: str,
        couplings=(),
        tables_dir: Path | None = None,
        sigma_alpha: float | None = None,
        sigma_beta: float | None = None,
        truth: Mapping[str, float] | None = None,
    ):
        self.predictor = RatePredictor(detector, list(couplings), directory=tables_dir)
        self.name = self.predictor.detector
        self.coupling_names = self.predictor.coupling_names
        spec = load_spec(detector)
        stats = spec.raw.get("statistics", {})
        self.sigma_alpha = float(sigma_alpha if sigma_alpha is not None else stats["sigma_alpha"])
        self.sigma_beta = float(sigma_beta if sigma_beta is not None else stats["sigma_beta"])
        self.background = steady_state_background(spec)
        truth_counts = RatePredictor(detector, list(truth or {}), directory=tables_dir).counts(
            truth
        )
        self.n_sm = truth_counts
        self.n_exp = truth_counts + self.background

    def _profile(self, x: np.ndarray):
        return _chi2_point(
            self.predictor.tensor, x, self.n_exp, self.background, self.sigma_alpha, self.sigma_beta
        )

    def chi2(self, values=None) -> float:
        return float(self._profile(self.predictor.x_vector(values))[0])

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        points = self._points(points)
        xs = np.ones((points.shape[0], points.shape[1] + 1))
        xs[:, 1:] = points
        return _chi2_batch(
            self.predictor.tensor,
            xs,
            self.n_exp,
            self.background,
            self.sigma_alpha,
            self.sigma_beta,
        )

    def fit(self, values: Mapping[str, float] | None = None) -> FitResult:
        chi2, alpha, beta = self._profile(self.predictor.x_vector(values))
        signal = self.predictor.counts(values)
        return FitResult(
            experiment=self.name,
            couplings={n: float(v) for n, v in (values or {}).items()},
            chi2_min=float(chi2),
            ndof=int(np.count_nonzero(self.n_exp)),
            nuisances={"alpha": float(alpha), "beta": float(beta)},
            counts={
                "cevns": float((1 + alpha) * signal.sum()),
                "background": float((1 + beta) * self.background.sum()),
                "asimov_sm": float(self.n_sm.sum()),
                "asimov_background": float(self.background.sum()),
            },
        )
