"""LAr 2020 real-data likelihood: published numbers, table vs direct integration, in-kernel
profiling vs iminuit, the CsI + LAr combination, and the ``curve_file`` efficiency model of the
lar2020 spec (its bad-spec errors need no release and always run)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from iminuit import Minuit

from cevnsfast.build_tables.build import build_detector
from cevnsfast.build_tables.integrate import base_integrals
from cevnsfast.cli import main
from cevnsfast.detectors import Detector, SpecError
from cevnsfast.detectors.detector import QuadratureSettings
from cevnsfast.detectors.response import Response
from cevnsfast.detectors.spec import SHIPPED_SPEC_DIR, SpecInputMissing, load_spec
from cevnsfast.paths import DATA_DIR_ENV
from cevnsfast.profile_kernels import interpolate_shape, poisson_chi2
from cevnsfast.rates import RatePredictor
from cevnsfast.reference.direct import direct_counts

COUPLINGS = ["eps_ee_uV", "eps_mumu_dV", "eps_emu_uS", "eps_etau_dT"]


@pytest.fixture(scope="module")
def lar(tables_dir):
    from cevnsfast.likelihood.lar2020 import LAr2020

    return LAr2020(COUPLINGS, tables_dir=tables_dir)


@pytest.fixture(scope="module")
def lar3d(tables_dir):
    """COHERENT's 3D grid (experiment ``lar2020_3d``), release template."""
    from cevnsfast.likelihood.lar2020 import LAr2020, LAr2020Settings

    settings = LAr2020Settings(projection="energy_f90_time")
    return LAr2020(COUPLINGS, tables_dir=tables_dir, settings=settings)


def _free(tables_dir, projection):
    """CEvNS normalisation unpenalised, as in COHERENT's own fit."""
    from cevnsfast.likelihood.lar2020 import LAr2020, LAr2020Settings

    settings = LAr2020Settings(projection=projection, sigma_cevns=np.inf)
    return LAr2020([], tables_dir=tables_dir, settings=settings)


def _tv(a, b):
    """Total-variation distance between two histograms after normalising each."""
    return 0.5 * np.abs(a / a.sum() - b / b.sum()).sum()


# --- published numbers -------------------------------------------------------------------------


def test_sm_prediction_against_coherent(lar):
    """COHERENT (LArParametersAnlA.yaml): 128 ± 17 predicted CEvNS events.

    The engine's own prediction (``cevns_template = "engine"``), tolerance the release's own
    1σ, 17 events (13 %: flux 10 %, F90 calibration, efficiency, quenching, form factor). We
    predict 119.6 from the YAML's exposure, quenching, resolution and efficiency curve with
    the Klein–Nystrand form factor and COHERENT's radiative couplings (116.6 at tree level;
    docs/normalisation-lar.md: the gap is the 13 % of delayed neutrinos arriving after the
    4.9 µs window end, and the spectrum shape). Shapes: our
    arrival-time model (POT Gaussian 440 ± 150 ns ⊗ π/μ lifetimes) reproduces the release's
    CEvNS time marginal to a total-variation distance of 0.009; our energy spectrum is
    slightly softer (64 % vs 61 % below 10 keVee: distance 0.029). The acceptance ends at
    40 keVee (zero above, where the release's PDF holds 0.078 events).
    """
    sm = lar.predictor.counts().reshape(12, 10)
    assert abs(sm.sum() - 128.0) < 17.0
    assert sm[4:].sum() == 0.0
    release = lar.data.pdfs["cevns"]
    assert _tv(sm.sum(axis=0), release.sum(axis=(0, 1))) < 0.015
    assert _tv(sm.sum(axis=1), release.sum(axis=(1, 2))) < 0.04


def test_release_template_is_the_release_pdf_at_the_sm(lar, lar3d):
    """``cevns_template = "release"``: at the SM the signal is the release's CEvNS PDF at its
    predicted 128 events, exactly on energy × time and, lifted with P(F90 | E), to the
    file's printed digits on the 3D grid; ``fit`` reports it as ``cevns_nominal``."""
    release = lar.analysis.cevns_release_counts.ravel()
    np.testing.assert_allclose(lar.signal_counts(), release, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lar.kernel_inputs()[0], release, rtol=1e-12, atol=1e-15)
    assert lar.fit().counts["cevns_nominal"] == pytest.approx(128.0, abs=1e-4)
    full = lar3d.analysis.cevns_release_counts
    np.testing.assert_allclose(
        lar3d.kernel_inputs()[0].reshape(full.shape)[:5], full[:5], rtol=2e-5, atol=1e-9
    )


def test_release_template_carries_the_engine_ratio_per_bin(lar):
    """Away from the SM, prediction / release = the engine's BSM / SM in every bin the
    engine populates (0–40 keVee), and its ratio of totals in the others (the release's 0.078
    events at 40–50 keVee, beyond the engine's acceptance) — in the nominal signal and on the
    timing-shift grid."""
    values = {"eps_ee_uV": 0.3, "eps_mumu_dV": -0.2}
    release = lar.analysis.cevns_release_counts.ravel()
    sm, bsm = lar.predictor.counts(), lar.predictor.counts(values)
    populated = sm > 0
    assert release[~populated].sum() == pytest.approx(0.078, abs=1e-3)
    sig0, grid = lar.kernel_inputs(values)
    np.testing.assert_allclose(
        sig0[populated] / release[populated], bsm[populated] / sm[populated], rtol=1e-12
    )
    on = ~populated & (release > 0)
    np.testing.assert_allclose(sig0[on] / release[on], bsm.sum() / sm.sum(), rtol=1e-12)
    assert abs(bsm.sum() / sm.sum() - 1) > 0.05  # the point is away from the SM
    shifted = lar.predictor.signal_grids(lar.predictor.x_vector(values))[0, 3]
    np.testing.assert_allclose(
        grid[0, 3][populated], shifted[populated] * release[populated] / sm[populated], rtol=1e-12
    )


def test_engine_template_is_the_engine_prediction(tables_dir):
    from cevnsfast.likelihood.lar2020 import LAr2020, LAr2020Settings

    exp = LAr2020(
        COUPLINGS, tables_dir=tables_dir, settings=LAr2020Settings(cevns_template="engine")
    )
    values = {"eps_ee_uV": 0.1}
    np.testing.assert_allclose(
        exp.kernel_inputs(values)[0], exp.predictor.counts(values), rtol=1e-12
    )
    with pytest.raises(ValueError, match="cevns_template"):
        LAr2020Settings(cevns_template="mc")
    with pytest.raises(ValueError, match="projection"):
        LAr2020Settings(projection="energy")


def test_3d_inputs_project_onto_the_2d_ones(lar, lar3d):
    """Summing the 3D likelihood's inputs over F90 gives the energy × time likelihood's:
    data, every background row, the nominal signal and its timing-shift grid at any couplings,
    and the F90 morph at θ_F90 = 0, ±1 (where the code-4 morph is exact, so the 2D factor is
    the F90-window acceptance ratio of the released variants)."""
    from cevnsfast.likelihood.lar2020 import F90_GRID

    def proj(a):
        return a.reshape(*a.shape[:-1], 12, 8, 10).sum(axis=-2).reshape(*a.shape[:-1], 120)

    np.testing.assert_array_equal(proj(lar3d.observed), lar.observed)
    np.testing.assert_allclose(proj(lar3d.backgrounds), lar.backgrounds, rtol=1e-12, atol=1e-12)
    values = {"eps_ee_uV": 0.2, "eps_etau_dT": 0.1}
    sig3, grid3 = lar3d.kernel_inputs(values)
    sig2, grid2 = lar.kernel_inputs(values)
    np.testing.assert_allclose(proj(sig3), sig2, rtol=1e-12, atol=1e-12)
    n_t = lar.n_time_grid
    np.testing.assert_allclose(proj(grid3[0, :n_t]), grid2[0, :n_t], rtol=1e-12, atol=1e-12)
    for theta in (-1.0, 0.0, 1.0):
        g = F90_GRID.index(theta)
        # where P(F90 | E) is the CEvNS PDF's (0–50 keVee; 6 printed digits); above, the
        # 3D lift borrows the prompt-BRN F90 shape (≈ 1e-6 events of BSM-only signal)
        cevns = 10 * lar3d.analysis.f90_template_source.count("cevns")
        np.testing.assert_allclose(
            proj(grid3[1, g])[:cevns], grid2[1, g][:cevns], rtol=3e-5, atol=1e-9
        )


def test_sm_fit_against_coherent_best_fit(lar, lar3d, tables_dir):
    """COHERENT's 3D fit: 159 ± 43 CEvNS events (CEvNS normalisation free).

    Tolerance: the published 1σ, 43 events. On the 3D grid with the release template we fit
    164.3 (the engine's own spectrum, softer, gives 140.5). On energy × time, which gives up
    the F90 separation from the ³⁹Ar-dominated SS background, the fit is 212: with the
    backgrounds fixed at COHERENT's best fit the release's CEvNS PDF fits 179 (+43/−42,
    ``test_lar2020_data``), and profiling the delayed BRN down to ≈ 6 events (COHERENT: 10 ±
    11) raises it further; held to 2 published σ. With the default 13.3 % prior on the
    normalisation the fits stay near the prediction (132.5 in 3D, 137.5 in 2D).
    """
    free3 = _free(tables_dir, "energy_f90_time").fit()
    assert free3.converged and free3.ndof == 959
    assert abs(free3.counts["cevns"] - 159.0) < 43.0
    assert 0.9 < free3.chi2_min / free3.ndof < 1.2
    free2 = _free(tables_dir, "energy_time").fit()
    assert free2.converged and free2.ndof == 119
    assert abs(free2.counts["cevns"] - 159.0) < 2 * 43.0
    for default, free, bins in ((lar3d.fit(), free3, 960), (lar.fit(), free2, 120)):
        assert default.converged and default.ndof == bins
        n_sm = default.counts["cevns_nominal"]
        assert n_sm < default.counts["cevns"] < free.counts["cevns"]


def _kernel_profile(exp, sig0, grid):
    from cevnsfast.profile_kernels import profile_poisson

    chi2, params, _, ok = profile_poisson(
        exp.observed, sig0, grid, exp.grid_values, exp.backgrounds, exp.sigma_norm,
        exp.sigma_shape, exp.shape_center, exp.x0, 100, 1e-10,
    )  # fmt: skip
    assert ok
    return chi2, params


def test_release_timing_variant_is_a_one_sigma_pulse_shift(lar):
    """The released one-sided CEvNS timing-mean variant is a shift of the proton-pulse mean
    by 0.15–0.3 µs in our timing model (best 0.23 µs), about the YAML's 200 ns 1σ: this is why
    the timing nuisance is the table's ``time_shift_us`` axis with a 0.2 µs prior."""
    p, d = lar.predictor, lar.data

    def time_marginal(shift):
        return p.counts(nuisances={"time_shift_us": shift}).reshape(12, 10).sum(axis=0)

    variant = d.variants["cevns"]["timing_mean"].sum(axis=(0, 1))
    shifts = np.linspace(0.0, 0.4, 41)
    distance = [_tv(time_marginal(s), variant) for s in shifts]
    best = shifts[int(np.argmin(distance))]
    assert 0.15 <= best <= 0.3 and min(distance) < 0.01
    assert _tv(time_marginal(0.0), variant) > 0.05
    assert lar.sigma_time_us == pytest.approx(0.2)


# --- tables vs direct integration --------------------------------------------------------------


def test_table_at_nominal_nuisances_equals_direct(lar):
    rng = np.random.default_rng(61)
    detector = Detector.load("lar2020")
    for _ in range(5):
        values = dict(zip(COUPLINGS, rng.uniform(-0.4, 0.4, 4), strict=True))
        np.testing.assert_allclose(
            lar.predictor.counts(values), direct_counts(detector, values), rtol=1e-6, atol=1e-12
        )


def test_timing_grid_points_equal_direct(lar):
    """At a grid node the morphed table is the tabulated one: ≤1e-6 against direct."""
    rng = np.random.default_rng(62)
    detector = Detector.load("lar2020")
    for shift in (-0.25, 0.2):
        values = dict(zip(COUPLINGS, rng.uniform(-0.3, 0.3, 4), strict=True))
        table = lar.predictor.counts(values, {"time_shift_us": shift})
        direct = direct_counts(detector, values, time_shift_us=shift)
        significant = direct > 1e-9 * direct.max()
        np.testing.assert_allclose(table[significant], direct[significant], rtol=1e-6)


# --- the likelihood's ingredients ---------------------------------------------------------------


def test_code4_morph_is_smooth_and_exact_at_one_sigma():
    from cevnsfast.likelihood.lar2020 import code4_morph

    rp, rm = np.array([16.9, 0.68, 1.0]), np.array([0.035, 1.41, 1.0])
    np.testing.assert_allclose(code4_morph(rp, rm, 0.0), 1.0)
    np.testing.assert_allclose(code4_morph(rp, rm, 1.0), rp)
    np.testing.assert_allclose(code4_morph(rp, rm, -1.0), rm)
    np.testing.assert_allclose(code4_morph(rp, rm, 2.0), rp**2)
    thetas = np.linspace(-1.5, 1.5, 3001)
    values = np.array([code4_morph(rp, rm, t) for t in thetas])
    assert values.min() > 0
    d2 = np.diff(values, 2, axis=0) / np.diff(thetas)[0] ** 2
    assert np.abs(np.diff(d2, axis=0)).max() < 0.01 * np.abs(d2).max()  # C²: no jumps at ±1


def test_f90_grid_interpolation_accuracy(lar3d):
    """The kernel's cubic interpolation of the tabulated F90 morph (``F90_GRID``) vs the exact
    code-4 morph, weighted by the SM signal per (energy, F90) cell: the accuracy quoted there."""
    from cevnsfast.likelihood.lar2020 import F90_GRID, code4_morph

    nodes = np.array(F90_GRID)
    table = np.ascontiguousarray(lar3d.f90_factor.reshape(len(nodes), -1))
    signal = lar3d.kernel_inputs()[0].reshape(12, 8, 10).sum(axis=2).ravel()
    for limit, events in ((1.0, 0.002), (2.0, 0.07)):
        for theta in np.linspace(-limit, limit, 81):
            got = interpolate_shape(table, nodes, theta)
            exact = code4_morph(*lar3d.f90_ratios, theta).ravel()
            assert np.max(np.abs(got - exact) * signal) < events


def test_background_shape_components(lar3d):
    """At zero nuisances the background rows sum to the nominal backgrounds; θ_k = 1 adds the
    variant's difference ΔB_k; the lift conserves the energy × time counts."""
    from cevnsfast.likelihood.lar2020 import BRN_SHAPES

    a, L = lar3d.analysis, lar3d.settings.brn_shape_range
    nominal = sum(a.background_counts[b] for b in ("brn_prompt", "brn_delayed", "ss")).ravel()
    np.testing.assert_allclose(lar3d.backgrounds.sum(axis=0), nominal, rtol=1e-12, atol=1e-9)
    plus = a.background_variants["brn_prompt"]["energy_plus1sigma"].ravel()
    minus = a.background_variants["brn_prompt"]["energy_minus1sigma"].ravel()
    alpha = np.zeros(lar3d.backgrounds.shape[0])
    alpha[3 + list(BRN_SHAPES).index("brn_energy")] = 1.0 / L
    np.testing.assert_allclose(
        ((1 + alpha)[:, None] * lar3d.backgrounds).sum(axis=0),
        nominal + 0.5 * (plus - minus),
        rtol=1e-12,
        atol=1e-9,
    )
    sig0, _ = lar3d.kernel_inputs({"eps_ee_uV": 0.1})
    et = lar3d.signal_counts({"eps_ee_uV": 0.1}).reshape(12, 10)
    np.testing.assert_allclose(sig0.reshape(12, 8, 10).sum(axis=1), et, rtol=1e-12)


# --- profiling ---------------------------------------------------------------------------------


def _iminuit_profile(exp, values):
    sig0, grid = exp.kernel_inputs(values)
    args = (
        exp.observed, sig0, grid, exp.grid_values, exp.backgrounds, exp.sigma_norm,
        exp.sigma_shape, exp.shape_center,
    )  # fmt: skip
    m = Minuit(lambda par: poisson_chi2(np.asarray(par), *args), exp.x0.copy())
    m.errordef = Minuit.LEAST_SQUARES
    m.strategy = 2
    m.tol = 1e-6
    n_norm = exp.sigma_norm.size
    m.limits = [(-1, None)] * n_norm + [(None, None)] * 2
    m.fixed[n_norm - 1] = True  # the fixed component restoring the nominal BRN (σ = 0)
    m.migrad()
    return m.fval


def test_in_kernel_profiling_agrees_with_iminuit(lar):
    rng = np.random.default_rng(13)
    points = [dict.fromkeys(COUPLINGS, 0.0)]
    points += [dict(zip(COUPLINGS, rng.uniform(-0.1, 0.1, 4), strict=True)) for _ in range(11)]
    for values in points:
        chi2, _, ok = lar.profile(values)
        assert ok
        assert chi2 <= _iminuit_profile(lar, values) + 1e-4


def test_batch_equals_single_points(lar):
    """Random points (each batch profile warm-started from the previous, unrelated minimum)
    and a scan row (starts extrapolated along it) equal cold single-point profiles."""
    rng = np.random.default_rng(5)
    points = rng.uniform(-0.1, 0.1, (6, 4))
    singles = [lar.chi2(p) for p in points]
    np.testing.assert_allclose(lar.chi2_batch(points), singles, rtol=1e-10, atol=1e-8)
    row = np.zeros((40, 4))
    row[:, 0] = np.linspace(-0.4, 0.6, 40)
    row[:, 3] = 0.05
    singles = np.array([lar.chi2(p) for p in row])
    assert np.abs(lar.chi2_batch(row) - singles).max() <= 2.5e-10


def test_combination_with_csi_is_the_sum(lar, tables_dir):
    from cevnsfast.likelihood.registry import experiment

    both = experiment("csi2021+lar2020", COUPLINGS, tables_dir=tables_dir)
    csi, lar_part = both.parts
    assert both.name == "csi2021+lar2020" and lar_part.name == "lar2020"
    points = np.random.default_rng(3).uniform(-0.05, 0.05, (4, 4))
    np.testing.assert_allclose(
        both.chi2_batch(points), csi.chi2_batch(points) + lar.chi2_batch(points), rtol=1e-12
    )
    values = dict(zip(COUPLINGS, points[0], strict=True))
    fit = both.fit(values)
    assert fit.chi2_min == pytest.approx(csi.chi2(values) + lar.chi2(values), rel=1e-12)
    assert fit.ndof == csi.fit(values).ndof + 120


def test_cli_fit_and_profile():
    runner = CliRunner()
    result = runner.invoke(main, ["fit", "lar2020", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["experiment"] == "lar2020" and payload["converged"]
    assert set(payload["nuisances"]) >= {"alpha_cevns", "theta_f90", "time_shift_us"}
    args = ["profile", "lar2020", "--param", "eps_ee_uV", "--range", "-0.1", "0.1"]
    result = runner.invoke(main, [*args, "--points", "5", "--json"])
    assert result.exit_code == 0, result.output
    assert min(json.loads(result.output)["delta_chi2"]) == 0.0


# --- the curve_file efficiency model ------------------------------------------------------------

CURVE = "# keVee keVnr efficiency\n0.25 1.0 0\n0.75 3.0 0.2\n5.0 20.0 0.8\n40.0 130.0 0.95\n"


def _lar_spec_text(file_value: str) -> str:
    """The shipped lar2020 spec with another efficiency file and no nuisance grid (fast)."""
    text = (SHIPPED_SPEC_DIR / "lar2020.toml").read_text()
    text = re.sub(r'\nfile = "[^"]*"', f'\nfile = "{file_value}"', text)
    text = re.sub(r"\[nuisances\].*?(?=\n\[physics\])", "", text, flags=re.S)
    return re.sub(r'\n"nuisances" = [^\n]*', "", text)  # its source goes with the table


@pytest.fixture
def curve_spec(tmp_path, monkeypatch):
    """A lar2020-like spec whose efficiency curve sits in a temporary data directory."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    curve = tmp_path / "data" / "release" / "eff.txt"
    curve.parent.mkdir(parents=True)
    curve.write_text(CURVE)
    spec = tmp_path / "lar_test.toml"
    spec.write_text(_lar_spec_text("release/eff.txt"))
    return spec, curve


def test_curve_file_reads_and_interpolates(curve_spec):
    spec_path, _ = curve_spec
    response = Response(load_spec(spec_path))
    x, a = response.efficiency_curve()
    np.testing.assert_array_equal(x, [0.25, 0.75, 5.0, 40.0])
    got = response.efficiency([0.0, 0.5, 2.875, 40.0, 40.01, 100.0])
    np.testing.assert_allclose(got, [0, 0.1, 0.5, 0.95, 0, 0])  # zero_above = 40 keVee
    assert response.threshold_observable() == 0.25  # the last zero node before the rise
    assert {0.75, 5.0, 40.0} <= set(response.efficiency_kinks())


def test_missing_curve_file_names_path_and_data_dir_setting(curve_spec, tmp_path):
    spec_path, curve = curve_spec
    curve.unlink()
    spec = load_spec(spec_path)  # loading and listing still work
    assert spec.missing_inputs() == {"response.efficiency.file": str(curve)}
    for action in (
        lambda: base_integrals(Detector(spec), QuadratureSettings()),
        lambda: build_detector(spec_path, directory=tmp_path / "tables"),
    ):
        with pytest.raises(SpecInputMissing) as err:
            action()
        message = str(err.value)
        assert err.value.field == "response.efficiency.file"
        assert str(curve) in message and DATA_DIR_ENV in message and "--data-dir" in message
        assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, SpecError)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("0.25 1.0 0\n0.75 3.0 1.5\n", "line 2: efficiency 1.5 outside [0, 1]"),
        ("0.25 1.0 0\n0.25 3.0 0.5\n", "line 2: x = 0.25 is not above"),
        ("0.25 1.0 0\n0.75 x 0.5\n1.0\n", "line 3: expected numbers in columns 0 and 2"),
        ("# only a comment\n0.5 1 0.5\n", "fewer than 2 data rows"),
    ],
)
def test_malformed_curve_file_names_file_and_line(curve_spec, content, reason):
    spec_path, curve = curve_spec
    curve.write_text(content)
    with pytest.raises(SpecError) as err:
        Response(load_spec(spec_path)).efficiency_curve()
    assert err.value.field == "response.efficiency.file"
    assert str(curve) in str(err.value) and reason in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("columns = [0, 2]", "columns = [2, 2]", "response.efficiency.columns", "two distinct"),
        ("columns = [0, 2]", "columns = [0, -1]", "response.efficiency.columns", "0-based"),
        ('file = "release/eff.txt"', "file = 3", "response.efficiency.file", "relative to the"),
        ('file = "release/eff.txt"', "", "response.efficiency.file", "is missing"),
        ("zero_above = 40.0", "zero_above = 0.0", "response.efficiency.zero_above", "outside"),
    ],
)
def test_bad_curve_fields_name_field(curve_spec, old, new, field, message):
    spec_path, _ = curve_spec
    text = spec_path.read_text()
    assert old in text
    spec_path.write_text(text.replace(old, new))
    with pytest.raises(SpecError) as err:
        load_spec(spec_path)
    assert err.value.field == field and message in str(err.value)


def test_changed_curve_file_gets_its_own_table(curve_spec, tmp_path):
    """The file's sha256 is part of the spec's content hash (the location is not): a changed
    curve names another table, built on use, never the old table's numbers."""
    spec_path, curve = curve_spec
    tables = tmp_path / "tables"
    before = load_spec(spec_path)
    assert before.input_files["response.efficiency.file"] is not None
    build_detector(spec_path, directory=tables)
    old = RatePredictor(spec_path, directory=tables).counts()
    curve.write_text(CURVE.replace("0.8", "0.7"))
    with pytest.raises(SpecError, match="changed after the spec was loaded"):
        Response(before).efficiency_curve()
    after = load_spec(spec_path)
    assert after.canonical_json() != before.canonical_json()
    assert after.hash() != before.hash()
    new = RatePredictor(spec_path, directory=tables).counts()
    assert not np.allclose(new, old)
    assert len(list(tables.glob("*.zarr"))) == 2


def test_moving_the_data_dir_keeps_the_hash(curve_spec, tmp_path, monkeypatch):
    spec_path, curve = curve_spec
    before = load_spec(spec_path).canonical_json()
    moved = tmp_path / "elsewhere"
    (moved / "release").mkdir(parents=True)
    (moved / "release" / "eff.txt").write_bytes(curve.read_bytes())
    monkeypatch.setenv(DATA_DIR_ENV, str(moved))
    after = load_spec(spec_path)
    assert after.canonical_json() == before
    assert Path(after.efficiency["path"]) == moved / "release" / "eff.txt"


@pytest.mark.parametrize("name", ["lar2020", "lar2020_3d"])
def test_model_experiment_keeps_the_release_template(name, tables_dir):
    """A scenario's model table plugged into LAr 2020 (``likelihood.models``) is reweighted to
    the same engine SM: at the SM point of the weak-mixing-angle scan the prediction is the
    release's 128 events and χ² equals the plain experiment's."""
    from cevnsfast.constants import SIN2_THETA_W_DEFAULT
    from cevnsfast.likelihood.models import model_experiment
    from cevnsfast.likelihood.registry import experiment

    fit = model_experiment(name, "weak_mixing_angle", tables_dir=tables_dir).fit(
        {"sin2_theta_w": SIN2_THETA_W_DEFAULT}
    )
    plain = experiment(name, (), tables_dir=tables_dir).fit()
    assert fit.counts["cevns_nominal"] == pytest.approx(128.0, abs=1e-4)
    assert fit.chi2_min == pytest.approx(plain.chi2_min, rel=1e-9, abs=0)
