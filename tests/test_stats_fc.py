"""Feldman–Cousins belts, coverage and CLs on experiments with a known answer."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm, poisson
from stats_models import GaussianShift, PoissonCounting

from cevnsfast.scan.spec import Axis
from cevnsfast.stats.cls import cls_limits
from cevnsfast.stats.coverage import coverage
from cevnsfast.stats.feldman_cousins import (
    BeltSpec,
    critical_value,
    fc_intervals,
    grid_points,
    observed_delta_chi2,
    run_belt,
)

WILKS_90 = 2.705543454095404  # χ²₁ 90 % quantile


def belt(exp, lo, hi, n, toys, seed=1, stride=1):
    spec = BeltSpec(exp.name, (Axis(exp.coupling_names[0], lo, hi, n),), {}, None, toys, seed,
                    stride)  # fmt: skip
    return run_belt(spec, progress=False, experiment=exp)


def test_fc_equals_wilks_for_gaussian_linear_with_constrained_nuisance():
    """x ~ N(μ + ν, 1), a ~ N(ν, 1): t is exactly χ²₁ inside the grid, so c(μ) = 2.706.
    (Without fluctuating the auxiliary measurement a, c would be 2.706/2.)"""
    exp = GaussianShift(x=0.3, a=-0.2, sigma_nu=1.0)
    b = belt(exp, -8.0, 8.0, 33, 800)
    crit, err = b.critical(0.9)
    inner = np.abs(b.values[0]) <= 2.0  # ≥ 6σ (σ_eff = √2) from the grid edges
    pull = (crit[inner] - WILKS_90) / err[inner]
    assert np.all(np.abs(pull) < 4.0)
    assert abs(np.mean(crit[inner]) - WILKS_90) < 3 * np.mean(err[inner]) / math.sqrt(inner.sum())
    # and so the intervals agree with Wilks: x − a ± 1.645·√2
    d = observed_delta_chi2(exp, grid_points(exp, b.spec.axes, {}))
    (fc,) = fc_intervals(b.values[0], d, crit)
    wilks = 0.5 + np.array([-1, 1]) * 1.6449 * 2**0.5  # x − a ± z₀.₉₅ σ_eff
    np.testing.assert_allclose([fc.lo, fc.hi], wilks, atol=0.1)


def test_toys_reproducible_and_seed_dependent():
    exp = GaussianShift(x=0.0)
    a = belt(exp, -3, 3, 7, 50, seed=5).toys
    b = belt(exp, -3, 3, 7, 50, seed=5).toys
    c = belt(exp, -3, 3, 7, 50, seed=6).toys
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def _bounded_critical(mu: float, cl: float = 0.9) -> float:
    """Exact FC critical value for x ~ N(μ, 1), μ ≥ 0 (FC 1998 §IV.B), computed from the
    statistic t = (x − μ)² for x ≥ 0 and μ² − 2xμ for x < 0."""

    def prob(c: float) -> float:
        r = math.sqrt(c)
        p = norm.cdf(r) - norm.cdf(max(0.0, mu - r) - mu)
        if mu > 0:
            p += max(0.0, norm.cdf(-mu) - norm.cdf((mu * mu - c) / (2 * mu) - mu))
        else:  # μ = 0: every x < 0 gives t = 0
            p += 0.5
        return p - cl

    return brentq(prob, 1e-9, 20.0)


def test_bounded_gaussian_mean_matches_feldman_cousins():
    """FC's classic example: Gaussian mean μ ≥ 0, σ = 1. Critical values against the exact
    construction; the 90 % interval for x = 0 is [0, 1.64] (FC 1998 Table X)."""
    exp = GaussianShift(x=0.0)
    b = belt(exp, 0.0, 5.0, 51, 1000, seed=3)
    crit, err = b.critical(0.9)
    exact = np.array([_bounded_critical(m) for m in b.values[0]])
    assert exact[0] == pytest.approx(norm.ppf(0.9) ** 2, abs=1e-6)  # Φ(√c) = 0.9 at μ = 0
    inner = b.values[0] < 3.0  # keep away from the upper grid edge
    assert np.all(np.abs(crit[inner] - exact[inner]) < 4 * err[inner] + 0.02)
    d = observed_delta_chi2(exp, grid_points(exp, b.spec.axes, {}))
    (iv,) = fc_intervals(b.values[0], d, crit)
    assert iv.lo_open and iv.lo == 0.0
    assert iv.hi == pytest.approx(1.64, abs=0.06)


def _poisson_statistic(index: int, grid: np.ndarray, b: float, n: np.ndarray) -> np.ndarray:
    """t(n) = −2 ln [P(n | s + b) / max over the grid P(n | s' + b)] at s = grid[index]
    (FC 1998 §IV.A, the best fit restricted to the scanned s ≥ 0)."""
    logp = poisson.logpmf(n[:, None], grid[None, :] + b)
    return -2.0 * (logp[:, index] - logp.max(axis=1))


def test_poisson_known_background_critical_values_and_coverage():
    """Counting with known b = 3: each toy critical value is a quantile of the exact discrete
    distribution of t (summed Poisson probabilities) within MC error, and the FC coverage is
    at least the C.L. (discreteness over-covers). The n = 0 upper limit itself is not a good
    check: over s ∈ [0.7, 0.95] the probability of the outcomes ranked above n = 0 stays within
    0.01 of 0.9, so it is decided by the MC error."""
    b = 3.0
    exp = PoissonCounting(n=0, b=b)
    bel = belt(exp, 0.0, 4.0, 21, 1500, seed=2)
    crit, _ = bel.critical(0.9)
    n = np.arange(60)
    sigma_mc = math.sqrt(0.9 * 0.1 / 1500)
    for j, (s, c) in enumerate(zip(bel.values[0], crit, strict=True)):
        t = _poisson_statistic(j, bel.values[0], b, n)
        p = poisson.pmf(n, s + b)
        assert np.isclose(t, c, rtol=1e-9, atol=1e-9).any()  # c is an outcome's statistic
        assert p[t <= c + 1e-9].sum() >= 0.9 - 3.5 * sigma_mc
        assert p[t < c - 1e-9].sum() <= 0.9 + 3.5 * sigma_mc
    points = grid_points(exp, bel.spec.axes, {})
    cov = coverage(PoissonCounting(n=4, b=b), points, (21,), 5, 0.9, 2000, seed=4)
    assert cov.fc >= 0.9 - 3 * cov.fc_error


def test_coverage_of_gaussian_mean_is_nominal_for_both():
    exp = GaussianShift(x=0.4)
    points = grid_points(exp, [Axis("mu", -6.0, 6.0, 61)], {})
    cov = coverage(exp, points, (61,), 30, 0.9, 3000, seed=7)
    assert abs(cov.wilks - 0.9) < 3.5 * cov.wilks_error
    assert abs(cov.fc - 0.9) < 3.5 * cov.fc_error + 0.01
    assert cov.fc_critical == pytest.approx(WILKS_90, abs=4 * cov.fc_critical_error)


def test_wilks_undercovers_at_a_physical_boundary():
    """At μ = 0 of a bounded Gaussian mean, Wilks' 2.706 over-covers (t is a 50:50 mix of 0
    and χ²₁: P(t ≤ 2.706) = 0.95) while FC keeps 0.90 — Wilks does not hold at boundaries."""
    exp = GaussianShift(x=0.0)
    points = grid_points(exp, [Axis("mu", 0.0, 6.0, 61)], {})
    cov = coverage(exp, points, (61,), 0, 0.9, 3000, seed=8)
    assert cov.wilks == pytest.approx(0.95, abs=3.5 * cov.wilks_error)
    assert cov.fc == pytest.approx(0.90, abs=3.5 * cov.fc_error + 0.01)


def test_critical_value_quantile_and_error():
    rng = np.random.default_rng(0)
    x = rng.chisquare(1, 20000)
    c, err = critical_value(x, 0.9)
    assert c == pytest.approx(WILKS_90, abs=4 * err)
    assert 0.01 < err < 0.1


def test_cls_gaussian_asymptotic_bands_and_toys():
    """Gaussian mean (σ = 1, μ ≥ 0) observed at x = 0: q̃ and the Asimov q_A = μ² are exact;
    CLs limits from Cowan et al. arXiv:1007.1727: median expected σΦ⁻¹(1 − α/2) = 1.960,
    band N: σ(Φ⁻¹(1 − αΦ(N)) + N); the toys agree with the asymptotic limit."""
    exp = GaussianShift(x=0.0)
    points = grid_points(exp, [Axis("mu", 0.0, 4.0, 41)], {})
    res = cls_limits(exp, points, "mu", cl=0.95, n_toys=1500, seed=3)
    np.testing.assert_allclose(res.q_asimov, res.values**2, atol=1e-12)
    for n in (-2, -1, 0, 1, 2):
        expected = norm.ppf(1 - 0.05 * norm.cdf(n)) + n
        assert res.expected_limits[n] == pytest.approx(expected, abs=0.01)
    assert res.limit_asymptotic == pytest.approx(res.expected_limits[0], abs=0.01)
    # toy CL_{s+b} ≈ 0.025 from 1500 toys: ±16 % on CLs, ±0.07 on the limit
    assert res.limit_toys == pytest.approx(res.limit_asymptotic, abs=0.2)
