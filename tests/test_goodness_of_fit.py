"""Goodness of fit of every fit: χ²/dof and the χ² p-value (issue 10)."""

import json
import math

import pytest
from scipy.stats import chi2

from cevnsfast.likelihood.base import Combined, Experiment, FitResult


def _result(chi2_min: float, ndof: int, name: str = "toy") -> FitResult:
    return FitResult(name, {}, chi2_min, ndof, {}, {"cevns": 1.0})


def test_p_value_closed_forms():
    """For 2 dof the χ² survival function is exp(−x/2); for 1 dof erfc(√(x/2))."""
    assert _result(3.0, 2).p_value == pytest.approx(math.exp(-1.5), rel=1e-12)
    assert _result(2.7055, 1).p_value == pytest.approx(math.erfc(math.sqrt(2.7055 / 2)), rel=1e-12)
    assert _result(2.7055, 1).p_value == pytest.approx(0.1, rel=1e-4)  # the 90 % quantile


def test_p_value_matches_scipy_and_dof():
    r = _result(99.92, 97)
    assert r.chi2_per_dof == pytest.approx(99.92 / 97, rel=1e-15)
    assert r.p_value == pytest.approx(chi2.sf(99.92, 97), rel=1e-12)
    assert 0.35 < r.p_value < 0.45
    assert _result(200.0, 97).p_value < 1e-8


def test_no_goodness_of_fit_without_degrees_of_freedom():
    r = _result(1.0, 0)
    assert r.chi2_per_dof is None and r.p_value is None
    json.dumps(r.as_dict(), allow_nan=False)


class _Fixed(Experiment):
    def __init__(self, name: str, chi2_min: float, ndof: int):
        self.name, self.coupling_names = name, []
        self._result = _result(chi2_min, ndof, name)

    def fit(self, values=None) -> FitResult:
        return self._result


def test_combination_reports_goodness_of_fit_of_the_sum():
    fit = Combined([_Fixed("a", 90.0, 97), _Fixed("b", 10.0, 3)]).fit()
    d = json.loads(json.dumps(fit.as_dict(), allow_nan=False))
    assert d["ndof"] == 100 and d["chi2_per_dof"] == pytest.approx(1.0)
    assert d["p_value"] == pytest.approx(chi2.sf(100.0, 100), rel=1e-12)
    assert [p["p_value"] for p in d["parts"]] == pytest.approx(
        [chi2.sf(90.0, 97), chi2.sf(10.0, 3)], rel=1e-12
    )
