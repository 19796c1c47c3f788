"""Analytic experiments with known statistics, for the tests of ``cevnsfast.stats``.

They implement the experiment interface the toys use (``chi2_batch``, ``toy_source``,
``measurements``, ``with_data``) in closed form, independently of the tables and kernels.
"""

import copy

import numpy as np

from cevnsfast.likelihood.base import Experiment
from cevnsfast.likelihood.toydata import Measurements, ToySource


class GaussianShift(Experiment):
    """x ~ N(μ + ν, 1) with an auxiliary measurement a ~ N(ν, σ_ν) of the nuisance ν.

    Profiling ν exactly: χ²(μ) = (x − μ − a)²/(1 + σ_ν²), a χ²₁ variable under the truth
    only when a fluctuates too (σ_ν = 0: the plain Gaussian mean). Linear and Gaussian, so
    Wilks' theorem is exact away from the grid's edges.
    """

    name = "gaussian_shift"
    coupling_names = ["mu"]

    def __init__(self, x: float = 0.0, a: float = 0.0, sigma_nu: float = 0.0):
        self.x, self.a, self.sigma_nu = float(x), float(a), float(sigma_nu)

    def chi2_batch(self, points):
        mu = self._points(points)[:, 0]
        return (self.x - mu - self.a) ** 2 / (1.0 + self.sigma_nu**2)

    def toy_source(self, values=None):
        mu = float(np.asarray(values, dtype=float).ravel()[0])
        s2 = self.sigma_nu**2
        nu_hat = (s2 * (self.x - mu) + self.a) / (s2 + 1.0)  # conditional best fit of ν
        return [
            ToySource(
                expected=np.array([mu + nu_hat]),
                variance=np.ones(1),
                nuisances=np.array([nu_hat]),
                sigma=np.array([self.sigma_nu]),
                nominal=np.array([self.a]),
            )
        ]

    def measurements(self):
        return [Measurements(np.array([self.x]), np.array([self.a]))]

    def with_data(self, data):
        (m,) = data
        new = copy.copy(self)
        new.x, new.a = float(m.observed[0]), float(m.centres[0])
        return new


class PoissonCounting(Experiment):
    """n ~ Poisson(s + b) with a known background b (Feldman & Cousins 1998 §IV.A)."""

    name = "poisson_counting"
    coupling_names = ["s"]

    def __init__(self, n: float, b: float):
        self.n, self.b = float(n), float(b)

    def chi2_batch(self, points):
        mu = self._points(points)[:, 0] + self.b
        log_term = self.n * np.log(self.n / mu) if self.n > 0 else 0.0
        return 2.0 * (mu - self.n + log_term)

    def toy_source(self, values=None):
        s = float(np.asarray(values, dtype=float).ravel()[0])
        empty = np.zeros(0)
        return [ToySource(np.array([s + self.b]), None, empty, empty, empty)]

    def measurements(self):
        return [Measurements(np.array([self.n]), np.zeros(0))]

    def with_data(self, data):
        (m,) = data
        new = copy.copy(self)
        new.n = float(m.observed[0])
        return new
