"""Model tables in the likelihoods: axis interpolation tolerance, CsI 2021 (and LAr 2020 when
available) with every nuisance profiled, scenario maps and the reproduce summary."""

import numpy as np
import pytest

from cevnsfast import scenario_summary as summary
from cevnsfast.detectors import Detector
from cevnsfast.likelihood.models import ModelPredictor, model_experiment, scan
from cevnsfast.likelihood.scenarios import NSI_MODEL, SCENARIOS, ScanParameter
from cevnsfast.models.scenarios import get_model
from cevnsfast.nuclei import isotope
from cevnsfast.reference.models import direct_model_counts
from cevnsfast.scenario_summary import (
    available_experiments,
    edges_of,
    fit_scenario,
    scenario_summary,
)

MASS_AXIS_TOLERANCE = 1e-4
"""Interpolation tolerance on the default mass axes (20 points per decade, cubic Hermite in
log m): |table − direct| ≤ 1e-4 · Σ_ij |x_i x_j T_ij,b| per bin, i.e. relative to the size of
the SM, interference and BSM terms (a relative error on counts near a destructive-interference
zero would be meaningless). Measured worst case 4e-5 (scalar at m ≈ 80 MeV)."""
R_N_TOLERANCE = 1e-5
"""Neutron-radius axis (0.05 fm steps): ≤ 1e-5 relative per bin (measured 1e-6)."""
DM2_TOLERANCE = 1e-4
"""Δm² axis (0.1 eV² steps above 1 eV²): ≤ 1e-4 · sin²2θ · N_SM per bin (measured 5e-5)."""


def _scale(predictor: ModelPredictor, values) -> np.ndarray:
    x = predictor.x_vector(values)
    return np.abs(np.einsum("ijb,i,j->ijb", predictor.tensor, x, x)).sum(axis=(0, 1))


@pytest.mark.parametrize("name", ["light_vector_universal", "light_scalar", "leptoquark_s1"])
def test_mass_axis_interpolation_tolerance(name):
    rng = np.random.default_rng(17)
    detector = Detector.load("csi2021")
    predictor = ModelPredictor("csi2021", name)
    lo, hi = predictor.axis_grid[0], predictor.axis_grid[-1]
    for mass in np.exp(rng.uniform(np.log(lo), np.log(hi), 6)):
        predictor.set_axis(mass)
        t = predictor.tensor.sum(axis=-1)
        values = {"eps": float(np.sqrt(t[0, 0] / abs(t[1, 1])) * rng.uniform(0.3, 3.0))}
        table = predictor.counts(values)
        direct = direct_model_counts(detector, name, values, mass)
        assert np.all(np.abs(table - direct) <= MASS_AXIS_TOLERANCE * _scale(predictor, values))


def test_radius_and_oscillation_axis_interpolation_tolerance():
    rng = np.random.default_rng(23)
    detector = Detector.load("csi2021")
    radius = ModelPredictor("csi2021", "neutron_radius")
    for r_n in rng.uniform(3.0, 7.0, 4):
        radius.set_axis(r_n)
        direct = direct_model_counts(detector, "neutron_radius", {}, r_n)
        significant = direct > 1e-6 * direct.max()
        np.testing.assert_allclose(
            radius.counts()[significant], direct[significant], rtol=R_N_TOLERANCE
        )
    sterile = ModelPredictor("csi2021", "sterile_oscillation")
    sm = sterile.counts()
    values = {"sin2_2theta_ee": 0.3, "sin2_2theta_mumu": 0.3}
    for dm2 in np.exp(rng.uniform(np.log(0.1), np.log(30.0), 4)):
        sterile.set_axis(dm2)
        direct = direct_model_counts(detector, "sterile_oscillation", values, dm2)
        assert np.all(np.abs(sterile.counts(values) - direct) <= DM2_TOLERANCE * 0.3 * sm)


def test_sterile_neutrino_mass_axis_interpolation_on_a_sub_grid():
    """m₄ axis: the default spacing (15 / decade) on a sub-range, off-grid values within
    1e-4 of the counts per bin (measured 2e-5; the full table's near-E_π nodes: docs)."""
    from cevnsfast.models.terms import log_grid

    detector = Detector.load("csi2021")
    model = get_model("transition_magnetic_moment", m4_mev=list(log_grid(1.0, 10.0, 15)))
    predictor = ModelPredictor("csi2021", model)
    values = {"mu_e4": 40.0, "mu_mu4": 40.0}
    for m4 in (1.3, 2.9, 6.1):
        predictor.set_axis(m4)
        direct = direct_model_counts(
            detector,
            model.name,
            values,
            m4,
            breakpoints_kevnr=lambda nucleus, m4=m4: model.recoil_breakpoints_kevnr(nucleus, m4),
        )
        significant = direct > 1e-6 * direct.max()
        np.testing.assert_allclose(
            predictor.counts(values)[significant], direct[significant], rtol=1e-4
        )


def test_axis_is_checked_and_exact_at_grid_values():
    predictor = ModelPredictor("csi2021", "light_vector_universal")
    with pytest.raises(ValueError, match="outside the table"):
        predictor.set_axis(1e6)
    grid = predictor.axis_grid
    predictor.set_axis(grid[37])
    np.testing.assert_array_equal(predictor.tensor, predictor._all_tensor[37])
    with pytest.raises(ValueError, match="no axis"):
        ModelPredictor("csi2021", "gni").set_axis(3.0)


def test_scenario_maps():
    model = get_model("light_vector_universal")
    axis, couplings = SCENARIOS["light_vector_universal"].mapping(model, np.array([[10.0, 1e-4]]))
    assert axis[0] == 10.0
    assert couplings[0, 0] == pytest.approx(1e-8 / (np.sqrt(2) * 1.1663788e-11 * (100 + 2500)))
    _, delta = SCENARIOS["weak_mixing_angle"].mapping(None, np.array([[0.25]]))
    assert delta[0, 0] == pytest.approx(0.25 - 0.23857)
    axis, mu = SCENARIOS["transition_magnetic_moment"].mapping(None, np.array([[3.0, 20.0]]))
    assert axis[0] == 3.0 and list(mu[0]) == [20.0, 20.0]


def test_csi_likelihood_on_model_tables():
    """Zero coupling = the CsI 2021 SM χ² (all nuisances); batches over mixed masses equal
    single points; the fit reports physical parameters."""
    from cevnsfast.likelihood.csi2021 import CsI2021

    chi2_sm = CsI2021([]).chi2()
    lv = model_experiment("csi2021", "light_vector_universal")
    assert lv.chi2({"mass_mev": 30.0, "g": 0.0}) == pytest.approx(chi2_sm, abs=1e-8)
    assert model_experiment("csi2021", "weak_mixing_angle").chi2() == pytest.approx(chi2_sm, 1e-9)
    points = np.array([[30.0, 3e-5], [1e3, 1e-3], [30.0, 1e-4], [0.5, 2e-5], [1e3, 3e-4]])
    batch = lv.chi2_batch(points)
    singles = [lv.chi2(dict(zip(lv.coupling_names, p, strict=True))) for p in points]
    np.testing.assert_allclose(batch, singles, rtol=1e-10)
    assert batch[2] > chi2_sm + 10  # g = 1e-4 at 30 MeV is excluded by CsI
    fit = lv.fit({"mass_mev": 30.0, "g": 3e-5})
    assert fit.converged and fit.couplings == {"mass_mev": 30.0, "g": 3e-5}
    assert fit.chi2_min == pytest.approx(batch[0], abs=1e-8)
    # neutron radius: the χ² minimum lies at a physical R_n (CsI: 5–6 fm on the KN scale)
    rn = model_experiment("csi2021", "neutron_radius")
    grid = np.linspace(4.0, 7.0, 61)
    assert 4.5 < grid[np.argmin(scan(rn, [grid]))] < 6.5


def test_lar_and_combination_when_available():
    """With a LAr 2020 likelihood in the registry: the model tables plug into it too (GNI C_V
    = universal vector NSI), and CsI+LAr is the sum of both."""
    names, notes = available_experiments()
    if "lar2020" not in names:
        pytest.skip(f"LAr 2020 not available: {notes}")
    from cevnsfast.likelihood.registry import experiment

    gni = model_experiment("lar2020", "gni_v")
    nsi = experiment("lar2020", ["eps_ee_uV", "eps_ee_dV", "eps_mumu_uV", "eps_mumu_dV"])
    for c in (0.0, 0.08):
        assert gni.chi2({"C_V": c}) == pytest.approx(nsi.chi2([c] * 4), abs=1e-6)
    both = model_experiment("csi2021+lar2020", "light_vector_bl")
    csi = model_experiment("csi2021", "light_vector_bl")
    lar = model_experiment("lar2020", "light_vector_bl")
    points = np.array([[5.0, 1e-5], [300.0, 1e-3]])
    np.testing.assert_allclose(
        both.chi2_batch(points), csi.chi2_batch(points) + lar.chi2_batch(points), rtol=1e-9
    )


def test_scenario_summary_writes_table_and_figures(tmp_path):
    artifacts = scenario_summary(
        tmp_path, True, scenarios=["weak_mixing_angle", "gni_vs", "light_scalar"], quick=True
    )
    kinds = [a.kind for a in artifacts]
    assert kinds.count("table") == 1 and kinds.count("figure") == 3
    table = next(a for a in artifacts if a.kind == "table")
    assert "weak mixing angle" in table.markdown and table.path.exists()
    assert all(p.exists() for a in artifacts if a.kind == "figure" for p in [a.path, *a.extra])
    csv = (tmp_path / "models" / "scenario_summary.csv").read_text().splitlines()
    assert csv[0].startswith("scenario,experiment,best fit,chi2_min,dof")
    skipped = scenario_summary(tmp_path, include_data=False)
    assert [a.kind for a in skipped] == ["note"]


def test_the_talks_eight_vector_nsi_pairs_are_scenarios():
    """Flavour-universal (ee-ee, μμ-μμ, ee-μμ d, ee-μμ u) and flavour-changing pairs."""
    pairs = {sc.couplings for sc in SCENARIOS.values() if sc.model == NSI_MODEL}
    assert pairs == {
        ("eps_ee_dV", "eps_ee_uV"),
        ("eps_mumu_dV", "eps_mumu_uV"),
        ("eps_ee_dV", "eps_mumu_dV"),
        ("eps_ee_uV", "eps_mumu_uV"),
        ("eps_ee_dV", "eps_emu_dV"),
        ("eps_mumu_uV", "eps_emu_uV"),
        ("eps_ee_dV", "eps_etau_dV"),
        ("eps_mumu_dV", "eps_mutau_dV"),
    }


def test_nsi_scenario_is_the_detector_nsi_likelihood():
    from cevnsfast.likelihood.registry import experiment

    sc = next(s for s in SCENARIOS.values() if s.couplings == ("eps_ee_dV", "eps_emu_dV"))
    point = {"eps_ee_dV": 0.12, "eps_emu_dV": -0.2}
    direct = experiment("csi2021", list(point)).chi2(list(point.values()))
    assert model_experiment("csi2021", sc.name).chi2(point) == pytest.approx(direct, abs=1e-9)


def test_edge_flags_split_range_edges_from_physical_bounds():
    mu = ScanParameter("mu", "1", 0.0, 100.0, physical_lo=True)
    c = ScanParameter("c", "1", -1.0, 1.0)
    g = ScanParameter("g", "1", 1e-6, 1e-2, "log", physical_lo=True)
    sizes = (11, 21, 9)  # half steps: 5, 0.05, log(1e4)/16
    assert edges_of((mu, c, g), {"mu": 4.0, "c": 0.97, "g": 1e-3}, sizes) == (("c=hi",), ("mu=lo",))
    assert edges_of((mu, c, g), {"mu": 96.0, "c": 0.9, "g": 1.5e-6}, sizes) == (
        ("mu=hi",),
        ("g=lo",),
    )
    assert edges_of((mu, c, g), {"mu": 50.0, "c": -0.5, "g": 1e-4}, sizes) == ((), ())
    flat = edges_of((mu, c, g), {"mu": 50.0, "c": -1.0, "g": 1e-4}, sizes, ["c=lo"])
    assert flat == (("c=lo (flat beyond)",), ())


def test_best_fit_on_a_range_edge_is_flagged_and_warned(tmp_path, monkeypatch):
    """A weak-mixing scan on [0.30, 0.36] (the CsI minimum is near 0.24): the best fit sits
    on the lower edge, the CSV says so and the summary warns."""
    import csv
    import dataclasses

    import cevnsfast.likelihood.scenarios as models

    base = SCENARIOS["weak_mixing_angle"]
    narrow = dataclasses.replace(
        base,
        name="wma_narrow",
        parameters=(dataclasses.replace(base.parameters[0], lo=0.30, hi=0.36),),
    )
    monkeypatch.setitem(models.SCENARIOS, "wma_narrow", narrow)
    monkeypatch.setattr(summary, "available_experiments", lambda *_: (["csi2021"], []))
    fit = summary.fit_scenario("wma_narrow", "csi2021", [13])
    assert fit.on_edge == ("sin2_theta_w=lo",) and fit.at_bound == ()
    with pytest.warns(UserWarning, match="wma_narrow on csi2021: best fit on the scan-range"):
        artifacts = scenario_summary(tmp_path, True, scenarios=["wma_narrow"], quick=True)
    rows = list(csv.DictReader((tmp_path / "models" / "scenario_summary.csv").open()))
    assert rows[0]["best_fit_on_edge"] == "sin2_theta_w=lo"
    notes = " ".join(a.caption for a in artifacts if a.kind == "note")
    assert "wma_narrow on csi2021 (sin2_theta_w=lo)" in notes and "csi2021:" in notes


@pytest.mark.parametrize("experiment_name", ["csi2021", "lar2020"])
def test_every_scenario_best_fit_lies_inside_its_range(experiment_name):
    """No best fit on an arbitrary range edge (small grids: 1D 41, 2D 15 × 15, then
    Nelder–Mead) except at an end the scenario declares flat beyond (an asymptotic limit),
    and R_n never below the measured charge radius."""
    edged = []
    for name, sc in SCENARIOS.items():
        sizes = [41] if len(sc.parameters) == 1 else [15, 15]
        fit = fit_scenario(name, experiment_name, sizes, band=False)
        undeclared = [e for e in fit.on_edge if not e.endswith("(flat beyond)")]
        if undeclared:
            edged.append(f"{name}: {fit.best} {undeclared}")
        if name == "neutron_radius":
            floor = {"csi2021": 4.75, "lar2020": 3.4274}[experiment_name]
            assert fit.best["r_n_fm"] >= floor
    assert not edged, edged


def test_cancellation_band_scan_follows_the_sm_mimicking_band():
    """Universal vector on CsI: along the band grid, each heavy mass has a g where the
    rate is the SM one again (χ² within 1 of the SM χ²), while the window's lower edge
    (g = 0.7 g_c, amplitude ≈ 0) is strongly excluded; B−L has no band."""
    from cevnsfast.scenario_summary import cancellation_band_scan

    exp = model_experiment("csi2021", "light_vector_universal")
    csi_physics = Detector.load("csi2021").spec.physics
    params = SCENARIOS["light_vector_universal"].parameters
    m, g, chi2 = cancellation_band_scan(exp, np.array([300.0, 3000.0]), params)
    chi2_sm = exp.chi2({"mass_mev": 1e4, "g": 1e-7})
    assert np.all(np.nanmin(chi2, axis=1) < chi2_sm + 1.0)
    # coarse to fine: a point left out (NaN) has Δχ² ≥ 25 around it
    assert np.all(np.nan_to_num(chi2[:, 0], nan=np.inf) > chi2_sm + 20.0)
    inside = np.nanargmin(chi2, axis=1)
    assert np.all((inside > 0) & (inside < g.shape[1] - 1))  # the band is inside the window
    assert get_model("light_vector_bl").cancellation_eps(isotope("Cs133"), csi_physics) is None


def test_stale_lar_table_is_an_error_not_a_csi_only_summary(tmp_path, monkeypatch):
    """A LAr 2020 table built by other code must not quietly turn the scenario summary into
    a CsI-only one (it did: any failure was a note); a missing release still is a note."""
    from cevnsfast import tables
    from cevnsfast.build_tables.build import build_all
    from cevnsfast.paths import DATA_DIR_ENV
    from cevnsfast.tables import TableError

    own = tmp_path / "tables"
    build_all(["lar2020"], directory=own, progress=False)
    monkeypatch.setattr(tables, "code_hash", lambda: "edited")
    with pytest.raises(TableError, match="stale"):
        available_experiments(own)
    monkeypatch.undo()
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "no-releases"))
    names, notes = available_experiments(own)
    assert names == ["csi2021"] and "LAr 2020 left out" in notes[0]


def test_a_coupling_that_enters_squared_has_its_best_fit_sign_marked_undetermined():
    """Flavour-changing ε_eμ enters the rate only squared, ε_ee also linearly (interference):
    the fit marks the first as mirror-degenerate (printed ±|ε|), never the second."""
    sc = next(s for s in SCENARIOS.values() if s.couplings == ("eps_ee_dV", "eps_emu_dV"))
    fit = fit_scenario(sc.name, "lar2020", [15, 15], band=False)
    assert fit.sign_free == ("eps_emu_dV",)
    exp = model_experiment("lar2020", sc.name)
    mirror = {**fit.best, "eps_emu_dV": -fit.best["eps_emu_dV"]}
    assert exp.chi2(mirror) == pytest.approx(fit.chi2_min, abs=summary.SIGN_TOLERANCE)
    flipped = {**fit.best, "eps_ee_dV": -fit.best["eps_ee_dV"]}
    assert exp.chi2(flipped) > fit.chi2_min + 0.01
    shown = summary._format_best(fit)
    assert f"±{abs(fit.best['eps_emu_dV']):.4g}" in shown and shown.count("±") == 1
