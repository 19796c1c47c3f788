"""Asimov sensitivity χ² of the future NaI and Cryo-CsI detectors (arXiv:2402.16953 Eqs. 19–21).

    χ² = Σ_i (N_exp,i − N_th,i)² / N_exp,i + (α/σ_α)² + (β/σ_β)²
    N_exp = N_SM + B,   N_th = (1+α) N(ε) + (1+β) B

(α, β) are profiled exactly (the χ² is quadratic in them: ``profile_kernels.profile_gauss``).
The denominator N_exp is the fixed variance of each bin; pseudo-data d (``with_data``) replace
N_exp in the numerator only, χ² = Σ (d − N_th)²/N_exp, which ``profile_gauss`` (data = variance)
evaluates exactly after scaling each bin by k = d/N_exp: (k d − k N_th)²/(k² N_exp) with
k d = d²/N_exp as its "data" (bins with N_exp = 0 stay out, as in Eq. 19).
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
from cevnsfast.likelihood.toydata import (
    Measurements,
    ToySource,
    centred_normalisations,
    physical_normalisations,
)
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
def _chi2_point(tensor, x, n_exp, signal_scale, background, sigma_alpha, sigma_beta):
    sig = np.empty(tensor.shape[2])
    quadratic_form_into(tensor, x, sig)
    for b in range(sig.shape[0]):
        sig[b] *= signal_scale[b]
    return profile_gauss(n_exp, sig, background, sigma_alpha, sigma_beta)


@nb.njit(cache=True, parallel=True)
def _chi2_batch(tensor, xs, n_exp, signal_scale, background, sigma_alpha, sigma_beta):
    out = np.empty(xs.shape[0])
    for p in nb.prange(xs.shape[0]):
        out[p] = _chi2_point(
            tensor, xs[p], n_exp, signal_scale, background, sigma_alpha, sigma_beta
        )[0]
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

    data: np.ndarray | None = None
    """Pseudo-data replacing N_exp in the numerator (``with_data``); None: the Asimov data."""
    centres: np.ndarray = np.zeros(2)
    """Central values of the (α, β) priors (fluctuated in toys, ``toydata``)."""

    def _kernel_inputs(self):
        """(data, signal scale per bin, background, σ_α, σ_β, (1+a, 1+b)) for the kernel."""
        scale, (s_alpha, s_beta) = centred_normalisations(
            self.centres, np.array([self.sigma_alpha, self.sigma_beta])
        )
        if self.data is None:
            k = np.ones_like(self.n_exp)
            data = self.n_exp
        else:
            variance = self.n_exp
            d = np.where(self.data == 0.0, 1e-9 * np.sqrt(variance), self.data)
            with np.errstate(divide="ignore", invalid="ignore"):
                k = np.where(variance > 0, d / variance, 0.0)
            data = k * d
        return data, k * scale[0], k * scale[1] * self.background, s_alpha, s_beta, scale

    def _profile(self, x: np.ndarray):
        data, sig_scale, bkg, s_alpha, s_beta, scale = self._kernel_inputs()
        chi2, alpha, beta = _chi2_point(
            self.predictor.tensor, x, data, sig_scale, bkg, s_alpha, s_beta
        )
        alpha, beta = physical_normalisations(np.array([alpha, beta]), scale)
        return chi2, alpha, beta

    def chi2(self, values=None) -> float:
        return float(self._profile(self.predictor.x_vector(values))[0])

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        points = self._points(points)
        xs = np.ones((points.shape[0], points.shape[1] + 1))
        xs[:, 1:] = points
        data, sig_scale, bkg, s_alpha, s_beta, _ = self._kernel_inputs()
        return _chi2_batch(self.predictor.tensor, xs, data, sig_scale, bkg, s_alpha, s_beta)

    def toy_source(self, values=None) -> list[ToySource]:
        """Gaussian bins of fixed variance N_exp around (1+α̂) N + (1+β̂) B (``toydata``)."""
        _, alpha, beta = self._profile(self.predictor.x_vector(values))
        expected = (1 + alpha) * self.predictor.counts(values) + (1 + beta) * self.background
        return [
            ToySource(
                expected=expected,
                variance=self.n_exp.copy(),
                nuisances=np.array([alpha, beta]),
                sigma=np.array([self.sigma_alpha, self.sigma_beta]),
                nominal=np.zeros(2),
            )
        ]

    def measurements(self) -> list[Measurements]:
        data = self.n_exp if self.data is None else self.data
        return [Measurements(data.copy(), np.array(self.centres, dtype=float))]

    def with_data(self, data: list[Measurements]) -> "AsimovExperiment":
        import copy

        (m,) = data
        if m.observed.shape != self.n_exp.shape:
            raise ValueError(
                f"{self.name}: pseudo-data need shape {self.n_exp.shape}, got {m.observed.shape}"
            )
        new = copy.copy(self)
        new.data = np.asarray(m.observed, dtype=float)
        new.centres = np.asarray(m.centres, dtype=float)
        return new

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
