"""What an experiment hands the toy Monte Carlo, and how it takes pseudo-data back.

The likelihood layer draws nothing (``cevnsfast.stats.toys`` does); it offers two things:

* ``Experiment.toy_source(values)`` → one :class:`ToySource` per independent part: the
  expected counts per bin at the couplings ``values`` with every nuisance at its conditional
  best fit ν̂ to the current data (the *profile construction*, docs/statistics.md), and the
  auxiliary measurements that constrain the nuisances (true value ν̂, width σ);
* ``Experiment.with_data([Measurements, …])`` → the same experiment with other observed
  counts and other central values of the auxiliary measurements (the *global observables* of
  Cowan et al., arXiv:1007.1727 §2), whose χ² runs through the experiment's own in-kernel
  profile.

**Centred pulls through the existing kernels.** ``profile_kernels`` penalises a
normalisation α of a component C by (α/σ)², centred at 0. A fluctuated auxiliary
measurement a moves the centre: (α − a)²/σ². With α = a + (1 + a) α′ the prediction is
(1 + α) C = (1 + α′) (1 + a) C and the pull is (α′ σ′⁻¹)² with σ′ = σ/(1 + a); the bound
α ≥ −1 stays α′ ≥ −1. So a centre a is exactly the component scaled by (1 + a) with its
prior width divided by (1 + a) (:func:`centred_normalisations`) — no kernel change. Shape
nuisances carry their centre in ``shape_center`` already. Draws with 1 + a ≤
``MIN_SCALE`` (a Gaussian measurement of a non-negative rate landing below zero; P ≈ 2·10⁻³
for the 35 % NIN prior) are set to ``MIN_SCALE``.
"""

from dataclasses import dataclass

import numba as nb
import numpy as np

from cevnsfast.profile_kernels import interpolate_shape

MIN_SCALE = 1e-3
"""Smallest 1 + a of a fluctuated normalisation measurement (see the module docstring)."""


@dataclass(frozen=True)
class ToySource:
    """Everything needed to draw pseudo-data of one experiment part at one parameter point.

    ``expected``: mean counts per bin; ``variance``: None for Poisson bins, else the fixed
    Gaussian variance per bin (the Asimov χ² of arXiv:2402.16953 Eq. 19); ``nuisances``:
    best-fit nuisances ν̂ (the true values of the auxiliary measurements); ``sigma``: their
    widths (∞: no auxiliary measurement, 0: fixed); ``nominal``: the central values of the
    real auxiliary measurements (used where σ is 0 or ∞).
    """

    expected: np.ndarray
    variance: np.ndarray | None
    nuisances: np.ndarray
    sigma: np.ndarray
    nominal: np.ndarray

    @property
    def measured(self) -> np.ndarray:
        """Which nuisances have an auxiliary measurement to fluctuate (0 < σ < ∞)."""
        return np.isfinite(self.sigma) & (self.sigma > 0)


@dataclass(frozen=True)
class Measurements:
    """Observed counts per bin and the central values of the auxiliary measurements (in the
    order of ``ToySource.nuisances``)."""

    observed: np.ndarray
    centres: np.ndarray


def centred_normalisations(
    centres: np.ndarray, sigma_norm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(scale 1 + a per normalisation, prior widths σ/(1 + a)) for centres a (module docstring).

    Unmeasured (σ = ∞) and fixed (σ = 0) normalisations keep scale 1.
    """
    measured = np.isfinite(sigma_norm) & (sigma_norm > 0)
    scale = np.where(measured, np.maximum(1.0 + centres, MIN_SCALE), 1.0)
    return scale, sigma_norm / scale


def physical_normalisations(params: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Kernel normalisations α′ back to α = a + (1 + a) α′ (a = scale − 1)."""
    return scale - 1.0 + scale * params


@nb.njit(cache=True)
def _morph(sig0: np.ndarray, shape_grid: np.ndarray, grid_values: np.ndarray, thetas: np.ndarray):
    """S_b(θ) = sig0_b Π_k I_kb(θ_k)/sig0_b (additive where sig0_b = 0): the signal morph of
    ``profile_kernels`` (its module docstring), with its interpolation ``interpolate_shape``."""
    n_shape = shape_grid.shape[0]
    out = sig0.copy()
    for k in range(n_shape):
        g = 0
        while g < grid_values.shape[1] and np.isfinite(grid_values[k, g]):
            g += 1
        shifted = interpolate_shape(shape_grid[k, :g], grid_values[k, :g].copy(), thetas[k])
        for b in range(sig0.shape[0]):
            if sig0[b] > 0.0:
                out[b] *= max(shifted[b], 0.0) / sig0[b]
            else:
                out[b] += shifted[b] - sig0[b]
    return out


def poisson_expected(
    params: np.ndarray,
    sig0: np.ndarray,
    shape_grid: np.ndarray,
    grid_values: np.ndarray,
    backgrounds: np.ndarray,
) -> np.ndarray:
    """N_th per bin of ``profile_kernels.profile_poisson`` at its parameters
    [α0, α1…αM, θ0…θK−1]: (1 + α0) S(θ) + Σ_m (1 + α_m) B_m (arXiv:2402.16953 Eq. 17)."""
    n_bkg = backgrounds.shape[0]
    thetas = np.ascontiguousarray(params[1 + n_bkg :], dtype=float)
    signal = _morph(
        np.ascontiguousarray(sig0, dtype=float),
        np.ascontiguousarray(shape_grid, dtype=float),
        np.ascontiguousarray(grid_values, dtype=float),
        thetas,
    )
    return (1.0 + params[0]) * signal + ((1.0 + params[1 : 1 + n_bkg, None]) * backgrounds).sum(0)


class PoissonToys:
    """Toy interface of the experiments profiled by ``profile_kernels.profile_poisson``.

    The class mixing it in keeps its kernel inputs as attributes (``observed``,
    ``backgrounds``, ``sigma_norm``, ``sigma_shape``, ``shape_center``) and implements
    ``profile(values)`` and ``signal_inputs(values)`` (→ sig0, shape grid, grid values). Its
    kernel calls read :meth:`kernel_priors` (and scale the signal by ``signal_scale``) so that
    fluctuated auxiliary measurements apply to every evaluation.
    """

    centres: np.ndarray | None = None

    def kernel_priors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """(backgrounds, σ of the normalisations, shape centres, signal scale) for the kernel
        (kept until ``centres`` is replaced: a toy's χ² calls read them at every call)."""
        if self.centres is None:
            return self.backgrounds, self.sigma_norm, self.shape_center, 1.0
        cached = self.__dict__.get("_kernel_priors")
        if cached is not None and cached[0] is self.centres:
            return cached[1]
        priors = self._centred_priors()
        self._kernel_priors = (self.centres, priors)
        return priors

    def _centred_priors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        n_norm = self.sigma_norm.size
        scale, sigma = centred_normalisations(self.centres[:n_norm], self.sigma_norm)
        shape_measured = np.isfinite(self.sigma_shape) & (self.sigma_shape > 0)
        centre = np.where(shape_measured, self.centres[n_norm:], self.shape_center)
        backgrounds = np.ascontiguousarray(self.backgrounds * scale[1:, None])
        return backgrounds, sigma, np.ascontiguousarray(centre), float(scale[0])

    def physical_params(self, params: np.ndarray) -> np.ndarray:
        """Kernel parameters → nuisances in the experiment's own convention (undoes the
        centring of :meth:`kernel_priors`)."""
        if self.centres is None:
            return params
        n_norm = self.sigma_norm.size
        scale, _ = centred_normalisations(self.centres[:n_norm], self.sigma_norm)
        out = np.array(params, dtype=float)
        out[:n_norm] = physical_normalisations(out[:n_norm], scale)
        return out

    def toy_source(self, values=None) -> list[ToySource]:
        _, params, _ = self.profile(values)
        sig0, grid, grid_values = self.signal_inputs(values)
        backgrounds, _, _, signal_scale = self.kernel_priors()
        kernel_params = self._kernel_params(params)
        expected = poisson_expected(
            kernel_params, signal_scale * sig0, signal_scale * grid, grid_values, backgrounds
        )
        n_norm = self.sigma_norm.size
        return [
            ToySource(
                expected=expected,
                variance=None,
                nuisances=np.asarray(params, dtype=float),
                sigma=np.concatenate([self.sigma_norm, self.sigma_shape]),
                nominal=np.concatenate([np.zeros(n_norm), self.shape_center]),
            )
        ]

    def _kernel_params(self, params: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`physical_params`."""
        if self.centres is None:
            return params
        n_norm = self.sigma_norm.size
        scale, _ = centred_normalisations(self.centres[:n_norm], self.sigma_norm)
        out = np.array(params, dtype=float)
        out[:n_norm] = (out[:n_norm] - (scale - 1.0)) / scale
        return out

    def measurements(self) -> list[Measurements]:
        n_norm = self.sigma_norm.size
        centres = (
            self.centres
            if self.centres is not None
            else np.concatenate([np.zeros(n_norm), self.shape_center])
        )
        return [Measurements(self.observed.copy(), centres.copy())]

    def with_data(self, data: list[Measurements]):
        import copy

        (m,) = data
        if m.observed.shape != self.observed.shape:
            raise ValueError(
                f"{self.name}: observed counts need shape {self.observed.shape}, "
                f"got {m.observed.shape}"
            )
        new = copy.copy(self)
        new.observed = np.ascontiguousarray(m.observed, dtype=float)
        new.centres = np.asarray(m.centres, dtype=float)
        return new
