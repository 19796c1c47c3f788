"""Intervals and regions from scans: analytic χ² (ellipse, two bands) through the scanner, the
CsI-type (ε_ee^uV, ε_ee^dV) bands and their closure by NaI + Cryo-CsI, and Figs. 6–9."""

import math

import numpy as np
import pytest

from cevnsfast.likelihood.base import Experiment
from cevnsfast.nuclei import ISOTOPES
from cevnsfast.scan.grid import GridScan, run_scan
from cevnsfast.scan.intervals import delta_chi2_threshold, region_area
from cevnsfast.scan.results import best_fit, intervals, region_2d
from cevnsfast.scan.spec import ScanSpec

T90 = delta_chi2_threshold(0.9, 2)


class Analytic(Experiment):
    """A fake experiment: χ²(x, y) from a formula, counting evaluated points."""

    def __init__(self, names, formula, name="analytic"):
        self.name = name
        self.coupling_names = list(names)
        self.formula = formula
        self.points = 0

    def chi2_batch(self, points):
        points = self._points(points)
        self.points += points.shape[0]
        return self.formula(points[:, 0], points[:, 1])

    def chi2(self, values=None):
        return float(self.chi2_batch(np.atleast_2d(values))[0])


A = np.array([[30.0, 11.0], [11.0, 20.0]])  # ellipse matrix: semi-axes 0.35, 0.60 at 90 %
CENTRE = np.array([0.15, -0.1])


def ellipse(x, y):
    d = np.stack([x - CENTRE[0], y - CENTRE[1]], axis=-1)
    return 7.0 + np.einsum("ni,ij,nj->n", d, A, d)


SLOPE, U1, U2, SIGMA = -0.7, 0.0, 0.9, 0.05  # bands around y − SLOPE x = U1, U2


def two_bands(x, y):
    u = y - SLOPE * x
    return 3.0 + np.minimum((u - U1) ** 2, (u - U2) ** 2) / SIGMA**2


def _scanner(formula, n=41, lo=-1.0, hi=1.0):
    spec = ScanSpec("analytic", (f"eps_ee_uV={lo}:{hi}:{n}", f"eps_ee_dV={lo}:{hi}:{n}"))
    return GridScan(spec, experiment=Analytic(spec.coupling_names, formula))


@pytest.mark.parametrize("refine", [1, 4])
def test_ellipse_contour_recovered(refine):
    scanner = _scanner(ellipse)
    ds = run_scan(scanner, progress=False)
    fit = best_fit(ds, scanner)
    assert fit.chi2_min == pytest.approx(7.0, abs=1e-9)
    assert [fit.values["eps_ee_uV"], fit.values["eps_ee_dV"]] == pytest.approx(CENTRE, abs=1e-5)
    region = region_2d(ds, 0.9, 2, scanner if refine > 1 else None, refine, fit.chi2_min)
    assert len(region.lines) == 1 and region.closed and not region.touches_edge
    pts = region.lines[0]
    d = pts - CENTRE
    level = np.einsum("ni,ij,nj->n", d, A, d)
    step = 2.0 / 40 / refine
    # linear interpolation along a cell edge of length h misses a quadratic by ≤ χ''h²/8
    assert np.max(np.abs(level - T90)) <= 0.25 * np.max(np.linalg.eigvalsh(A)) * step**2 + 1e-12
    exact_area = math.pi * T90 / math.sqrt(np.linalg.det(A))
    assert region_area(region.lines) == pytest.approx(exact_area, rel=2 * step)
    if refine > 1:
        assert region.n_evaluations > 0


def test_refinement_evaluates_only_near_the_contour():
    scanner = _scanner(ellipse, n=81)
    ds = run_scan(scanner, progress=False)
    before = scanner.experiment.points
    region = region_2d(ds, 0.9, 2, scanner, factor=4)
    used = scanner.experiment.points - before
    assert used == region.n_evaluations
    assert used < 0.15 * (4 * 80 + 1) ** 2  # a uniformly 4× finer grid would need all


def test_two_bands_recovered():
    scanner = _scanner(two_bands, n=61)
    ds = run_scan(scanner, progress=False)
    region = region_2d(ds, 0.9, 2, scanner, factor=4)
    assert len(region.lines) == 4 and not region.closed and region.touches_edge
    half = SIGMA * math.sqrt(T90)
    edges = sorted([U1 - half, U1 + half, U2 - half, U2 + half])
    found = []
    for line in region.lines:
        slope, intercept = np.polyfit(line[:, 0], line[:, 1], 1)
        assert slope == pytest.approx(SLOPE, abs=1e-4)
        found.append(intercept)
        residual = line[:, 1] - SLOPE * line[:, 0] - intercept
        assert np.max(np.abs(residual)) < 1e-4
    assert sorted(found) == pytest.approx(edges, abs=2e-4)


def test_one_dimensional_intervals_through_the_scanner():
    def parabola(x, y):
        return 2.0 + ((x - 0.1) / 0.2) ** 2 + 0 * y

    spec = ScanSpec("analytic", ("eps_ee_uV=-1:1:41",), fixed={"eps_ee_dV": 0.0})
    scanner = GridScan(spec, experiment=Analytic(spec.coupling_names, parabola))
    ds = run_scan(scanner, progress=False)
    fit = best_fit(ds, scanner)
    ivs = intervals(ds, "1sigma", scanner, min_chi2=fit.chi2_min)["eps_ee_uV"]
    assert len(ivs) == 1
    assert (ivs[0].lo, ivs[0].hi) == pytest.approx((-0.1, 0.3), abs=1e-8)


def _band_slopes(region):
    return [np.polyfit(line[:, 0], line[:, 1], 1)[0] for line in region.lines]


@pytest.fixture(scope="module")
def ee_uv_dv_regions(tables_dir):
    out = {}
    for names in ("nai", "cryocsi", "nai+cryocsi"):
        spec = ScanSpec(names, ("eps_ee_uV=-1:1:81", "eps_ee_dV=-1:1:81"))
        scanner = GridScan(spec, tables_dir=tables_dir)
        ds = run_scan(scanner, progress=False)
        out[names] = region_2d(ds, 0.9, 2, scanner, factor=4)
    return out


def _slope(*nuclei):
    return [-(2 * n.z + n.n) / (n.z + 2 * n.n) for n in nuclei]


def test_single_detectors_give_two_bands_with_the_nuclear_slope(ee_uv_dv_regions):
    cs, iodine, na = ISOTOPES["Cs133"], ISOTOPES["I127"], ISOTOPES["Na23"]
    lo, hi = sorted(_slope(cs, iodine))  # Cryo-CsI: between the Cs and I slopes
    cryo = ee_uv_dv_regions["cryocsi"]
    assert len(cryo.lines) == 4 and not cryo.closed  # two infinite bands, two edges each
    for slope in _band_slopes(cryo):
        assert lo - 1e-3 <= slope <= hi + 1e-3
    nai = ee_uv_dv_regions["nai"]
    assert len(nai.lines) == 4
    assert _band_slopes(nai) == pytest.approx(_slope(na) * 4, abs=1e-4)


def test_combination_closes_the_bands(tables_dir):
    spec = ScanSpec("nai+cryocsi", ("eps_ee_uV=-1.6:1.3:91", "eps_ee_dV=-1.2:1.9:91"))
    scanner = GridScan(spec, tables_dir=tables_dir)
    ds = run_scan(scanner, progress=False)
    region = region_2d(ds, 0.9, 2, scanner, factor=4)
    assert region.closed and not region.touches_edge
    (x0, x1), (y0, y1) = region.bounding_box()
    assert -1.5 < x0 < x1 < 1.2 and -1.1 < y0 < y1 < 1.8
    sm = np.argmin(np.abs(region.x)), np.argmin(np.abs(region.y))
    assert region.allowed[sm]  # the Standard Model (the Asimov truth) is allowed


def test_combination_is_smaller_than_each_detector(ee_uv_dv_regions):
    allowed = {k: r.allowed.mean() for k, r in ee_uv_dv_regions.items()}
    assert allowed["nai+cryocsi"] < 0.7 * min(allowed["nai"], allowed["cryocsi"])
