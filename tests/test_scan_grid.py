"""Grid scans: chunking, agreement with point-by-point χ², profiled couplings vs brute force."""

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from cevnsfast.likelihood.registry import experiment
from cevnsfast.scan.grid import GridScan, run_scan
from cevnsfast.scan.minimize import minimize_batched
from cevnsfast.scan.results import best_fit
from cevnsfast.scan.spec import Axis, ScanSpec, chunk_indices, default_chunks


@pytest.fixture(scope="module")
def future(tables_dir):
    """NaI + Cryo-CsI scanner over (ε_ee^uV, ε_ee^dV) with ε_μμ^uV fixed."""
    spec = ScanSpec(
        "nai+cryocsi",
        ("eps_ee_uV=-0.6:0.6:23", "eps_ee_dV=-0.5:0.7:17"),
        fixed={"eps_mumu_uV": 0.05},
        chunks=(7, 5),
    )
    return GridScan(spec, tables_dir=tables_dir)


def test_axis_parsing_and_validation():
    axis = ScanSpec("nai", ("eps_mue_uV=-0.5:0.5:11",)).axes[0]
    assert axis.name == "eps_emu_uV"  # canonical name
    assert axis.values[0] == -0.5 and axis.values[-1] == 0.5 and axis.n == 11
    for bad in ("eps_ee_uV", "eps_ee_uV=0:1", "eps_ee_uV=1:0:5", "eps_ee_uV=0:1:1"):
        with pytest.raises(ValueError):
            Axis.parse(bad)
    with pytest.raises(ValueError, match="unknown coupling"):
        ScanSpec("nai", ("x=0:1:5",))
    with pytest.raises(ValueError, match="named twice"):
        ScanSpec("nai", ("eps_ee_uV=0:1:3",), fixed={"eps_ee_uV": 0.1})


def test_default_chunks_are_about_ten_thousand_points():
    assert default_chunks((201, 201)) == (41, 201)
    assert default_chunks((41, 41, 41, 41)) == (1, 5, 41, 41)
    assert default_chunks((7,)) == (7,)
    for shape in [(201, 201), (41,) * 4, (1001,), (30, 500, 3)]:
        chunks = default_chunks(shape)
        assert 2_000 <= np.prod(chunks) <= 10_000 or np.prod(chunks) == np.prod(shape)


def test_chunks_tile_the_grid_exactly(future):
    spec = future.spec
    seen = np.zeros(spec.shape, dtype=int)
    for idx in chunk_indices(spec):
        slices, points = future.chunk_points(idx)
        seen[slices] += 1
        assert points.shape == (seen[slices].size, 2)
    assert np.all(seen == 1)
    assert spec.chunk_grid == (4, 4)


def test_scan_equals_point_by_point_chi2(future, tables_dir):
    ds = run_scan(future, progress=False)
    assert ds["chi2"].dims == ("eps_ee_uV", "eps_ee_dV")
    assert ds["eps_ee_uV"].attrs["units"] == "1 (units of G_F)"
    assert ds.attrs["fixed"] == {"eps_mumu_uV": 0.05}
    assert set(ds.attrs["table_hashes"]) == {"nai", "cryocsi"}
    exp = experiment("nai+cryocsi", ["eps_ee_dV", "eps_mumu_uV", "eps_ee_uV"], tables_dir)
    rng = np.random.default_rng(5)
    for _ in range(12):
        i, j = rng.integers(23), rng.integers(17)
        u, d = float(ds["eps_ee_uV"][i]), float(ds["eps_ee_dV"][j])
        direct = exp.chi2({"eps_ee_uV": u, "eps_ee_dV": d, "eps_mumu_uV": 0.05})
        assert ds["chi2"].values[i, j] == pytest.approx(direct, rel=1e-12, abs=1e-12)


def test_csi2021_scan_equals_point_by_point_chi2(tables_dir):
    spec = ScanSpec("csi2021", ("eps_ee_uV=-0.3:0.5:9", "eps_mumu_uV=-0.2:0.4:7"), chunks=(4, 3))
    ds = run_scan(spec, progress=False, tables_dir=tables_dir)
    exp = experiment("csi2021", ["eps_ee_uV", "eps_mumu_uV"], tables_dir)
    rng = np.random.default_rng(7)
    for _ in range(6):
        i, j = rng.integers(9), rng.integers(7)
        point = {"eps_ee_uV": float(ds["eps_ee_uV"][i]), "eps_mumu_uV": float(ds["eps_mumu_uV"][j])}
        assert ds["chi2"].values[i, j] == pytest.approx(exp.chi2(point), rel=1e-12)


def test_minimize_batched_on_quadratics_and_bounds():
    centres = np.array([[0.3, -0.2], [0.95, 0.1], [-2.0, 0.5]])  # last one outside the box
    a = np.array([[2.0, 1.2], [1.2, 1.0]])  # correlated, positive definite

    def fun(rows, pts):
        d = pts - centres[rows]
        return np.einsum("ni,ij,nj->n", d, a, d) + rows

    lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    start = np.zeros((3, 2))
    x, f = minimize_batched(fun, start, fun(np.arange(3), start), np.array([0.1, 0.1]), lo, hi)
    assert x[0] == pytest.approx(centres[0], abs=1e-6)
    assert x[1] == pytest.approx(centres[1], abs=1e-6)
    # constrained minimum on the edge u = -1: minimise over v analytically
    v = 0.5 - a[0, 1] / a[1, 1] * (-1.0 + 2.0)
    assert x[2] == pytest.approx([-1.0, v], abs=1e-6)
    assert np.all(f <= fun(np.arange(3), start))


def test_profiled_coupling_matches_brute_force(tables_dir):
    """Profiling ε_ee^dV at each ε_ee^uV: two competing valleys (SM and the degenerate one)."""
    spec = ScanSpec("nai+cryocsi", ("eps_ee_uV=-0.6:0.6:13",), profiled=("eps_ee_dV=-1:1:41",))
    scanner = GridScan(spec, tables_dir=tables_dir)
    ds = run_scan(scanner, progress=False)
    fixed = run_scan(
        ScanSpec("nai+cryocsi", ("eps_ee_uV=-0.6:0.6:13",), fixed={"eps_ee_dV": 0.0}),
        progress=False,
        tables_dir=tables_dir,
    )
    assert np.all(ds["chi2"].values <= fixed["chi2"].values + 1e-12)
    exp = scanner.experiment
    fine = np.linspace(-1, 1, 8001)
    for u, chi2, best in zip(
        ds["eps_ee_uV"].values, ds["chi2"].values, ds["best_eps_ee_dV"].values, strict=True
    ):
        grid = exp.chi2_batch(np.column_stack([np.full_like(fine, u), fine]))
        k = int(np.argmin(grid))
        res = minimize_scalar(
            lambda d, u=u: exp.chi2([u, d]),
            bounds=(fine[max(k - 1, 0)], fine[min(k + 1, fine.size - 1)]),
            method="bounded",
            options={"xatol": 1e-12},
        )
        assert chi2 == pytest.approx(res.fun, abs=1e-8)
        assert exp.chi2([u, best]) == pytest.approx(chi2, abs=1e-12)


def test_two_profiled_couplings_match_brute_force(tables_dir):
    spec = ScanSpec(
        "nai+cryocsi",
        ("eps_ee_uV=-0.2:0.5:5",),
        profiled=("eps_ee_dV=-0.5:0.5:21", "eps_mumu_uV=-0.5:0.5:21"),
    )
    scanner = GridScan(spec, tables_dir=tables_dir)
    chi2, best = scanner.evaluate(spec.axes[0].values[:, None])
    exp = scanner.experiment
    g = np.linspace(-0.5, 0.5, 201)
    dd, mm = (a.ravel() for a in np.meshgrid(g, g, indexing="ij"))
    for u, c, b in zip(spec.axes[0].values, chi2, best, strict=True):
        vals = exp.chi2_batch(np.column_stack([np.full_like(dd, u), dd, mm]))
        order = np.argsort(vals)[:3]
        brute = min(
            minimize(
                lambda p, u=u: exp.chi2([u, *p]),
                [dd[k], mm[k]],
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
            ).fun
            for k in order
        )
        assert c <= brute + 1e-7
        assert c == pytest.approx(brute, abs=1e-6)
        assert exp.chi2([u, *b]) == pytest.approx(c, abs=1e-12)


def test_best_fit_is_polished_below_the_grid_minimum(tables_dir):
    spec = ScanSpec("csi2021", ("eps_ee_uV=-0.3:0.5:9",), fixed={"eps_ee_dV": 0.1})
    scanner = GridScan(spec, tables_dir=tables_dir)
    ds = run_scan(scanner, progress=False)
    fit = best_fit(ds, scanner)
    assert fit.polished and fit.chi2_min <= fit.grid_chi2_min
    x = fit.values["eps_ee_uV"]
    for dx in (-1e-4, 1e-4):
        assert scanner.experiment.chi2([x + dx, 0.1]) >= fit.chi2_min - 1e-9
