"""Coarse-to-fine planes (``scan.coarse_to_fine``) against dense grids: the same best fit, the
same Δχ² < threshold region and values, the far-excluded corners skipped."""

import numpy as np
import pytest

from cevnsfast.scan.coarse_to_fine import coarse_nodes, coarse_to_fine, coarse_to_fine_sum
from cevnsfast.scan.intervals import intervals_1d


def _dense_and_c2f(chi2_of, x, y, **kw):
    X, Y = np.meshgrid(x, y, indexing="ij")
    dense = chi2_of(X, Y)
    calls = []

    def evaluate(index):
        calls.append(len(index))
        return chi2_of(x[index[:, 0]], y[index[:, 1]])

    return dense, coarse_to_fine(evaluate, dense.shape, **kw), sum(calls)


def two_minima(x, y):
    """Two separated allowed islands (like the degenerate NSI solutions) on a steep bowl."""
    a = 40 * ((x - 0.3) ** 2 + (y + 0.2) ** 2) / 0.05
    b = 40 * ((x + 0.5) ** 2 + (y - 0.4) ** 2) / 0.05 + 1.0
    return 80.0 + np.minimum(a, b) + 2e3 * (x**2 + y**2) ** 2


def test_coarse_nodes_keep_both_ends():
    assert coarse_nodes(81, 4).tolist() == list(range(0, 81, 4))
    assert coarse_nodes(10, 4).tolist() == [0, 4, 8, 9]


def test_equals_dense_where_allowed_and_skips_the_rest():
    x, y = np.linspace(-1, 1, 81), np.linspace(-1, 1, 73)
    dense, fine, n_eval = _dense_and_c2f(two_minima, x, y, threshold=25.0)
    low = dense - dense.min() < 25.0
    assert np.all(~np.isnan(fine[low]))  # every point below the threshold evaluated …
    np.testing.assert_array_equal(fine[low], dense[low])  # … exactly
    assert np.nanargmin(fine) == np.argmin(dense)  # the same best fit
    assert n_eval < 0.5 * dense.size  # most of the steep plane is skipped
    # 90 % C.L. (2 dof) regions equal: unevaluated points are far above the level
    allowed = lambda c: np.nan_to_num(c - np.nanmin(c), nan=np.inf) <= 4.605  # noqa: E731
    np.testing.assert_array_equal(allowed(fine), allowed(dense))


def test_profile_intervals_along_a_row_equal_dense():
    x, y = np.linspace(-1, 1, 81), np.linspace(-1, 1, 81)
    dense, fine, _ = _dense_and_c2f(two_minima, x, y)
    j = np.argmin(dense.min(axis=0))  # the row through the best fit
    row_dense = np.nan_to_num(dense[:, j] - dense.min(), nan=np.inf)
    row_fine = np.nan_to_num(fine[:, j] - np.nanmin(fine), nan=np.inf)
    assert intervals_1d(x, row_fine, 2.706) == intervals_1d(x, row_dense, 2.706)


def test_sum_of_parts_in_tension_equals_dense_sum():
    """Two independent terms whose minima lie apart (tension T = 127 in χ²): each part's own
    plane skips most of the region where the sum is lowest, so adding the parts' planes would
    leave it unevaluated; the sum's own flood fill (reusing the parts' values) finds it exactly."""
    x, y = np.linspace(-1, 1, 81), np.linspace(-1, 1, 81)
    X, Y = np.meshgrid(x, y, indexing="ij")

    def term(x0):
        return lambda u, v: 10.0 + 130.0 * ((u - x0) ** 2 + v**2)

    terms = [term(-0.7), term(0.7)]
    dense = sum(t(X, Y) for t in terms)
    parts = []
    for t in terms:
        plane = _dense_and_c2f(t, x, y)[1]
        parts.append((plane, lambda index, t=t: t(x[index[:, 0]], y[index[:, 1]])))
    low = dense - dense.min() < 25.0
    naive = parts[0][0] + parts[1][0]
    assert np.isnan(naive[low]).mean() > 0.5  # what it fixes: most of the sum's region missing
    before = [plane.copy() for plane, _ in parts]
    fine = coarse_to_fine_sum(parts)
    np.testing.assert_array_equal(fine[low], dense[low])
    for (plane, _), kept in zip(parts, before, strict=True):
        np.testing.assert_array_equal(plane, kept)  # the parts' own planes are left as they were
    assert np.nanargmin(fine) == np.argmin(dense)


def test_refuses_a_degenerate_setting():
    with pytest.raises(ValueError, match="stride"):
        coarse_to_fine(lambda i: np.zeros(len(i)), (5, 5), stride=1)


def test_scenario_plane_equals_dense_scan():
    """A real plane (CsI 2021, vector NSI pair, 21 × 21): the same grid minimum and the same
    values (within the profile's convergence, 1e-8 in χ²) wherever Δχ² < 25."""
    from cevnsfast.likelihood.models import model_experiment, scan
    from cevnsfast.scenario_summary import _plane

    exp = model_experiment("csi2021", "nsi_ee_uV__mumu_uV")
    grids = [np.linspace(-1.0, 1.0, 21), np.linspace(-1.0, 1.0, 21)]
    dense = scan(exp, grids)
    fine = _plane(exp, grids, None)
    low = dense - dense.min() < 25.0
    assert not np.isnan(fine[low]).any()
    np.testing.assert_allclose(fine[low], dense[low], rtol=0, atol=1e-8)
    assert np.nanmin(fine) == pytest.approx(dense.min(), rel=0, abs=1e-8)
    assert np.isnan(fine).any()  # and the far corners were skipped
