"""Confidence levels, 1D intervals and 2D contours against analytic χ² curves."""

import math

import numpy as np
import pytest
from scipy import ndimage

from cevnsfast.scan import intervals
from cevnsfast.scan.intervals import (
    Interval,
    contour_2d,
    delta_chi2_threshold,
    format_intervals,
    intervals_1d,
    refine_grid,
    refine_grid_near_contour,
    region_area,
)

# ---------------------------------------------------------------------------------------------
# Confidence levels


@pytest.mark.parametrize(
    ("cl", "dof", "expected"),
    [
        ("1sigma", 1, 1.0),
        (0.6827, 1, 1.0),
        ("1σ", 1, 1.0),
        ("2sigma", 1, 4.0),
        ("3sigma", 1, 9.0),
        (0.90, 1, 2.705543),
        ("90%", 1, 2.705543),
        (0.90, 2, 4.605170),
        ("90%", 2, 4.605170),
        (0.95, 1, 3.841459),
        ("95%", 2, 5.991465),
        (0.99, 1, 6.634897),
        ("99%", 2, 9.210340),
        ("1sigma", 2, 2.295749),
        (0.6827, 2, 2.295749),
        ("2sigma", 2, 6.180074),
        ("3sigma", 2, 11.829158),
    ],
)
def test_thresholds(cl, dof, expected):
    assert delta_chi2_threshold(cl, dof) == pytest.approx(expected, abs=1e-6)


def test_sigma_thresholds_are_exact_squares_for_one_dof():
    assert delta_chi2_threshold("1sigma", 1) == 1.0
    assert delta_chi2_threshold(0.6827, 1) == 1.0
    assert delta_chi2_threshold("3sigma", 1) == 9.0


@pytest.mark.parametrize("cl", ["banana", "90", "0%", "100%", "-1sigma", 0.0, 1.0, 90, True, None])
def test_invalid_confidence_level_names_the_allowed_forms(cl):
    with pytest.raises(ValueError, match="'90%'.*'1sigma'"):
        delta_chi2_threshold(cl, 1)


@pytest.mark.parametrize("dof", [0, -1, 1.5, True])
def test_invalid_dof(dof):
    with pytest.raises(ValueError, match="dof"):
        delta_chi2_threshold(0.9, dof)


# ---------------------------------------------------------------------------------------------
# 1D intervals

MU, SIGMA = 0.3137, 0.7
X1 = np.linspace(-3.0, 3.0, 61)  # spacing h = 0.1; MU is off-grid
H1 = X1[1] - X1[0]


def parabola(x):
    return ((np.asarray(x) - MU) / SIGMA) ** 2 + 12.0


@pytest.mark.parametrize("cl", ["1sigma", 0.90, "95%", "3sigma"])
def test_parabola_exact_with_refine(cl):
    t = delta_chi2_threshold(cl, 1)
    (iv,) = intervals_1d(X1, parabola(X1), t, refine=parabola)
    assert not (iv.lo_open or iv.hi_open)
    assert iv.lo == pytest.approx(MU - SIGMA * math.sqrt(t), abs=1e-6)
    assert iv.hi == pytest.approx(MU + SIGMA * math.sqrt(t), abs=1e-6)


@pytest.mark.parametrize("cl", ["1sigma", 0.90, "95%", "3sigma"])
def test_parabola_to_grid_tolerance_without_refine(cl):
    t = delta_chi2_threshold(cl, 1)
    (iv,) = intervals_1d(X1, parabola(X1), t)
    # The quadratic interpolation is exact for a parabola; the only error is the grid minimum
    # sitting up to (h/2)²/σ² above the true one, which moves each end by that / |χ²'| with
    # |χ²'| = 2√t/σ at the crossing: tolerance h²/(8σ√t).
    tol = H1**2 / (8 * SIGMA * math.sqrt(t))
    err = max(abs(iv.lo - (MU - SIGMA * math.sqrt(t))), abs(iv.hi - (MU + SIGMA * math.sqrt(t))))
    assert err <= tol
    assert err > 1e-2 * tol  # the grid-minimum offset is really there (MU is off-grid)
    # Given the true minimum the interpolation alone is exact.
    (iv0,) = intervals_1d(X1, parabola(X1), t, min_chi2=12.0)
    assert iv0.lo == pytest.approx(MU - SIGMA * math.sqrt(t), abs=1e-9)
    assert iv0.hi == pytest.approx(MU + SIGMA * math.sqrt(t), abs=1e-9)


A_DW, B_DW = 10.0, 1.5


def double_well(x):
    x = np.asarray(x)
    return A_DW * (x**2 - B_DW**2) ** 2


def double_well_edges(t):
    r = math.sqrt(t / A_DW)
    inner, outer = math.sqrt(B_DW**2 - r), math.sqrt(B_DW**2 + r)
    return [(-outer, -inner), (inner, outer)]


def test_double_well_two_disjoint_intervals():
    t = delta_chi2_threshold(0.90, 1)
    exact = double_well_edges(t)
    refined = intervals_1d(X1, double_well(X1), t, refine=double_well)
    plain = intervals_1d(X1, double_well(X1), t)
    assert len(refined) == len(plain) == 2
    # Tolerance without refine: the grid-minimum offset (≤ a b² h² near x = ±b) plus the
    # quadratic-interpolation error |χ²'''|/6 · 2h³/(3√3), both divided by |χ²'| at the edge.
    for (lo, hi), iv_r, iv_p in zip(exact, refined, plain, strict=True):
        assert (iv_r.lo, iv_r.hi) == pytest.approx((lo, hi), abs=1e-6)
        for edge, got in ((lo, iv_p.lo), (hi, iv_p.hi)):
            slope = abs(4 * A_DW * edge * (edge**2 - B_DW**2))
            tol = A_DW * B_DW**2 * H1**2 + 4 * A_DW * abs(edge) * 2 * H1**3 / (3 * 3**0.5)
            assert abs(got - edge) <= tol / slope
    assert format_intervals(refined) == "[-1.66, -1.32] ∪ [1.32, 1.66]"


def test_interval_open_at_the_grid_edge():
    x = np.linspace(-0.5, 3.0, 36)
    (iv,) = intervals_1d(x, x**2, 1.0, refine=lambda v: v**2)
    assert iv.lo_open and not iv.hi_open
    assert iv.lo == -0.5 and iv.hi == pytest.approx(1.0, abs=1e-9)
    assert str(iv) == "(<-0.5, 1]"
    chi2 = 5.0 * np.exp(-x)  # monotone: allowed up to the last node
    (iv,) = intervals_1d(x, chi2, 2.706)
    assert iv.hi_open and not iv.lo_open and iv.hi == 3.0
    assert iv.lo == pytest.approx(-math.log((2.706 + chi2[-1]) / 5.0), abs=1e-3)
    (iv,) = intervals_1d(x, np.zeros_like(x), 1.0)
    assert iv.lo_open and iv.hi_open and str(iv) == "(<-0.5, >3)"


def test_unsorted_axis_and_non_finite_values():
    t = 1.0
    perm = np.random.default_rng(1).permutation(X1.size)
    assert intervals_1d(X1[perm], parabola(X1)[perm], t) == intervals_1d(X1, parabola(X1), t)
    chi2 = parabola(X1)
    chi2[np.abs(X1 - MU) < 0.05] = np.inf  # an excluded hole in the middle
    ivs = intervals_1d(X1, chi2, t)
    assert len(ivs) == 2 and ivs[0].hi < MU < ivs[1].lo
    with pytest.raises(ValueError, match="no finite"):
        intervals_1d(X1, np.full_like(X1, np.nan), t)


def test_formatting():
    assert str(Interval(-0.1234, 0.05)) == "[-0.123, 0.05]"
    assert format_intervals([(-0.12, 0.05), Interval(1.0, 2.0, hi_open=True)]) == (
        "[-0.12, 0.05] ∪ [1, >2)"
    )
    assert format_intervals([]) == "∅"
    lo, hi = Interval(1.0, 2.0)
    assert (lo, hi) == (1.0, 2.0)


# ---------------------------------------------------------------------------------------------
# 2D contours

A2, B2, RHO = 1.0, 0.5, 0.6  # semi-axes (Δχ² = 1) and rotation angle


def ellipse(x, y):
    c, s = math.cos(RHO), math.sin(RHO)
    u, v = c * x + s * y, -s * x + c * y
    return (u / A2) ** 2 + (v / B2) ** 2 + 3.0


def ellipse_grid(n):
    """Odd node counts put the centre (0, 0) on a node, so the grid minimum is exact."""
    x = np.linspace(-4.0, 4.0, n)
    y = np.linspace(-3.0, 3.0, n)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    return x, y, ellipse(xx, yy), max(x[1] - x[0], y[1] - y[0])


def area_bound(h, t):
    """Worst-case relative area error of marching squares on the ellipse Δχ² = t.

    With M = max(a, b), m = min(a, b): linear interpolation along an edge misplaces the level
    by ≤ h² max χ''/8 = h²/(4m²) in χ², i.e. ≤ h² M/(8 m² √t) along the normal (|∇χ²| ≥ 2√t/M);
    chords up to √2 h cut ≤ 2h²/(8 R) with R ≥ m² √t / M. Times the perimeter ≤ 2π M √t and
    over the area π M m t: 3 h² M / (4 m³ t).
    """
    big, small = max(A2, B2), min(A2, B2)
    return 0.75 * h**2 * big / (small**3 * t)


@pytest.mark.parametrize("cl", ["1sigma", 0.90, "3sigma"])
def test_ellipse_area_and_refinement(cl):
    t = delta_chi2_threshold(cl, 2)
    exact = math.pi * A2 * B2 * t
    x, y, grid, h = ellipse_grid(31)
    lines = contour_2d(x, y, grid, t)
    assert len(lines) == 1 and np.allclose(lines[0][0], lines[0][-1])  # one closed loop
    err = region_area(lines) / exact - 1.0
    assert -area_bound(h, t) < err < 0.0  # convex χ²: the polygon lies inside the ellipse

    factor = 4
    refined = refine_grid_near_contour(x, y, grid, t, ellipse, factor=factor)
    err_ref = region_area(refined) / exact - 1.0
    assert len(refined) == 1
    assert abs(err_ref) < area_bound(h / factor, t)
    assert abs(err_ref) < abs(err) / 8  # O(h²): ideally factor² = 16 times smaller


def test_ellipse_area_error_scales_as_h_squared():
    t = delta_chi2_threshold(0.90, 2)
    exact = math.pi * A2 * B2 * t
    errs = []
    for n in (31, 61):
        x, y, grid, _ = ellipse_grid(n)
        errs.append(abs(region_area(contour_2d(x, y, grid, t)) / exact - 1.0))
    assert 3.0 < errs[0] / errs[1] < 5.0


def test_refinement_evaluates_only_cells_at_the_contour():
    t = delta_chi2_threshold(0.90, 2)
    x, y, grid, _ = ellipse_grid(31)
    calls = []

    def counted(xs, ys):
        calls.append(xs.size)
        return ellipse(xs, ys)

    fine = refine_grid(x, y, grid, t, counted, factor=4)
    assert fine.chi2.shape == (fine.x.size, fine.y.size) == (121, 121)
    assert fine.n_evaluations == sum(calls) == fine.exact.sum() - grid.size
    assert fine.n_evaluations < 0.2 * fine.chi2.size
    xx, yy = np.meshgrid(fine.x, fine.y, indexing="ij")
    assert np.allclose(fine.chi2[fine.exact], ellipse(xx, yy)[fine.exact])


K_BAND = 50.0


def bands(x, y):
    return K_BAND * ((x + 0.5 * y) ** 2 - 1.0) ** 2


def band_edge_error(lines, t):
    """Largest distance (in s = x + y/2) of a contour point from the nearest exact band edge."""
    edges = np.sqrt(1.0 + np.array([-1.0, 1.0]) * math.sqrt(t / K_BAND))
    s = np.abs(np.concatenate([line[:, 0] + 0.5 * line[:, 1] for line in lines]))
    return float(np.max(np.min(np.abs(s[:, None] - edges[None, :]), axis=1)))


def test_two_parallel_bands():
    t = delta_chi2_threshold(0.90, 2)
    x = np.linspace(-3.0, 3.0, 61)
    y = np.linspace(-3.0, 3.0, 61)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    grid = bands(xx, yy)
    _, n_regions = ndimage.label(grid - grid.min() <= t)
    assert n_regions == 2

    lines = contour_2d(x, y, grid, t)
    assert len(lines) == 4  # two edges per band, each an open line across the grid
    for line in lines:
        assert not np.allclose(line[0], line[-1])
    s_mid = [np.mean(line[:, 0] + 0.5 * line[:, 1]) for line in lines]
    assert sum(m > 0 for m in s_mid) == 2 and sum(m < 0 for m in s_mid) == 2

    refined = refine_grid_near_contour(x, y, grid, t, bands, factor=4)
    assert len(refined) == 4
    err, err_ref = band_edge_error(lines, t), band_edge_error(refined, t)
    assert err < 0.02 and err_ref < err / 8


def test_grid_layout_is_checked():
    x, y = np.linspace(0, 1, 5), np.linspace(0, 1, 7)
    with pytest.raises(ValueError, match="transposed"):
        contour_2d(x, y, np.zeros((7, 5)), 1.0)


@pytest.mark.parametrize("factor", [1, 2, 4])
def test_cell_extremes_equal_nanmin_nanmax_over_each_cell(factor):
    rng = np.random.default_rng(7)
    n_x, n_y = 6, 9
    known = rng.normal(size=((n_x - 1) * factor + 1, (n_y - 1) * factor + 1))
    known[rng.random(known.shape) < 0.6] = np.nan
    known[: factor + 1, : factor + 1] = np.nan  # one cell with nothing known
    known[-1, -1] = np.inf  # a failed exact evaluation
    lo, hi = intervals._cell_extremes(known, factor)
    assert lo.shape == hi.shape == (n_x - 1, n_y - 1)
    for i in range(n_x - 1):
        for j in range(n_y - 1):
            cell = known[i * factor : (i + 1) * factor + 1, j * factor : (j + 1) * factor + 1]
            values = cell[~np.isnan(cell)]
            assert lo[i, j] == (values.min() if values.size else np.inf)
            assert hi[i, j] == (values.max() if values.size else -np.inf)
