"""LAr 2020 (CENNS-10 Analysis A) release loader: real-data reproduction (skipped without the
data) and validation on a small synthetic release written to tmp_path (invented numbers, the
release's file names and layout)."""

import re

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from cevnsfast.data import lar2020 as lar
from cevnsfast.data.errors import DataFormatError, DataNotFoundError
from cevnsfast.paths import DATA_DIR_ENV

AXIS_SUM = {"energy": (1, 2), "f90": (0, 2), "time": (0, 1)}


@pytest.fixture(scope="module")
def real():
    return lar.load_lar2020()


# --- the real release: counts and projections ------------------------------------------------


def test_grid_and_total_counts(real):
    g = real.grid
    assert real.observed_counts.shape == (12, 8, 10)
    np.testing.assert_allclose(g.energy_edges_keVee, np.arange(0, 121, 10))
    np.testing.assert_allclose(g.f90_edges, np.linspace(0.5, 0.9, 9))
    np.testing.assert_allclose(g.time_edges_us, np.linspace(-0.1, 4.9, 11))
    assert real.observed_counts.dtype == np.int64
    assert real.observed_counts.sum() == 3752
    assert real.observed_counts.min() >= 0
    assert len(real.release_sha256) == 64
    assert real.release_sha256 == lar.release_hash()


def _ss_scale(real):
    """Factor k with SS-subtracted = data − k·bkgpdf, recovered from the time projection."""
    p = real.projections_1d["time"]
    return (real.observed_counts.sum() - p.ss_subtracted_counts.sum()) / real.pdfs["ss"].sum()


def test_ss_subtraction_uses_bestfit_ss(real):
    k = _ss_scale(real)
    ss_bestfit = real.params.bestfit["ss"]
    assert abs(k * real.pdfs["ss"].sum() - ss_bestfit.counts) < 1.0  # 3131.75 vs 3131 ± 23
    # the three projections subtract the same SS total
    totals = [p.ss_subtracted_counts.sum() for p in real.projections_1d.values()]
    np.testing.assert_allclose(totals, totals[0], atol=5e-3)


@pytest.mark.parametrize("axis", ["energy", "f90", "time"])
def test_1d_projections_reproduce_3d_counts(real, axis):
    """Adding the subtracted SS back to the 1D files gives the 3D data projection, exactly."""
    p = real.projections_1d[axis]
    data_1d = real.observed_counts.sum(axis=AXIS_SUM[axis])
    ss_1d = _ss_scale(real) * real.pdfs["ss"].sum(axis=AXIS_SUM[axis])
    reconstructed = p.ss_subtracted_counts + ss_1d
    assert np.abs(reconstructed - np.rint(reconstructed)).max() < 2e-3  # 6-digit printing
    np.testing.assert_array_equal(np.rint(reconstructed).astype(np.int64), data_1d)
    np.testing.assert_array_equal(p.centers, real.grid.centers(axis))


@pytest.mark.parametrize("axis", ["energy", "f90", "time"])
def test_1d_errors_and_model_columns(real, axis):
    p = real.projections_1d[axis]
    ax = AXIS_SUM[axis]
    # statistical error² = beam-on counts + variance of the SS estimate (5× longer window)
    ss_1d = _ss_scale(real) * real.pdfs["ss"].sum(axis=ax)
    expected_var = real.observed_counts.sum(axis=ax) + ss_1d / 5
    np.testing.assert_allclose(p.stat_err_counts**2, expected_var, rtol=1e-4)
    # CEvNS column = release CEvNS PDF at one best-fit scale (159.5 events, YAML: 159 ± 43)
    cevns_1d = real.pdfs["cevns"].sum(axis=ax)
    m = cevns_1d > 1e-2
    scale = p.cevns_fit_counts[m] / cevns_1d[m] * real.pdfs["cevns"].sum()
    np.testing.assert_allclose(scale, 159.5065, rtol=2e-5)
    np.testing.assert_allclose(
        p.cevns_fit_counts + p.brn_fit_counts, p.cevns_plus_brn_fit_counts, atol=2e-3
    )
    # systerrors1d*.txt are the band edges divided by the CEvNS+BRN column
    m = p.cevns_plus_brn_fit_counts > 0
    np.testing.assert_allclose(
        p.syst_low_counts[m] / p.cevns_plus_brn_fit_counts[m], p.syst_low_ratio[m], rtol=1e-4
    )
    np.testing.assert_allclose(
        p.syst_high_counts[m] / p.cevns_plus_brn_fit_counts[m], p.syst_high_ratio[m], rtol=1e-4
    )


def test_1d_brn_column_is_bestfit_prompt_plus_delayed(real):
    p = real.projections_1d["time"]
    prompt = real.pdfs["brn_prompt"].sum(axis=(0, 1))
    delayed = real.pdfs["brn_delayed"].sum(axis=(0, 1))
    a = p.brn_fit_counts[0] / prompt[0]  # first bin is prompt only
    b = (p.brn_fit_counts[3] - a * prompt[3]) / delayed[3]
    np.testing.assert_allclose(a * prompt + b * delayed, p.brn_fit_counts, atol=1e-3)
    assert abs(a * prompt.sum() - real.params.bestfit["brn_prompt"].counts) < 1  # 552.8 vs 553
    assert abs(b * delayed.sum() - real.params.bestfit["brn_delayed"].counts) < 1  # 10.7 vs 10


# --- the real release: PDFs and variants -----------------------------------------------------


def test_pdfs_nonnegative_and_normalised_to_predictions(real):
    pred = real.params.predicted
    for comp, pdf in real.pdfs.items():
        assert pdf.shape == real.observed_counts.shape
        assert pdf.min() >= 0, comp
    for comp in ("cevns", "brn_prompt", "brn_delayed"):
        assert real.pdfs[comp].sum() == pytest.approx(pred[comp].counts, rel=1e-6)
    # the SS PDF sums to 3152.0, the YAML predicts 3154 ± 25: documented, 0.06 % apart
    assert real.pdfs["ss"].sum() == pytest.approx(3152.0, abs=1e-3)
    assert real.pdfs["ss"].sum() == pytest.approx(pred["ss"].counts, rel=1e-3)
    assert real.pdfs["ss"].min() > 0.79  # every bin has a positive expectation


def test_background_pdf_physics(real):
    t = real.grid.time_centers_us
    ss = real.pdfs["ss"]
    np.testing.assert_array_equal(ss, np.broadcast_to(ss[:, :, :1], ss.shape))  # flat in time
    prompt_t = real.pdfs["brn_prompt"].sum(axis=(0, 1))
    delayed_t = real.pdfs["brn_delayed"].sum(axis=(0, 1))
    assert np.all(prompt_t[t > 1.4] == 0) and np.all(prompt_t[t < 1.4] > 0)
    assert np.flatnonzero(delayed_t).tolist() == [3]  # 1.4–1.9 µs only
    assert real.pdfs["cevns"].sum(axis=(1, 2))[5:].sum() < 1e-4  # CEvNS below 50 keVee


def _shape_change(nominal, variant, axis):
    """Total-variation distance between the normalised marginals along ``axis``."""
    ax = AXIS_SUM[axis]
    n, v = nominal.sum(axis=ax), variant.sum(axis=ax)
    return 0.5 * np.abs(v / v.sum() - n / n.sum()).sum()


VARIANT_AXIS = {
    "f90_plus1sigma": "f90",
    "f90_minus1sigma": "f90",
    "timing_mean": "time",
    "timing_mean_plus1sigma": "time",
    "timing_mean_minus1sigma": "time",
    "energy_plus1sigma": "energy",
    "energy_minus1sigma": "energy",
    "timing_width": "time",
}


def test_variants_change_their_own_component_and_axis(real):
    assert set(real.variants) == {"cevns", "brn_prompt"}  # no variants for delayed BRN, SS
    for comp, variants in real.variants.items():
        nominal = real.pdfs[comp]
        for name, v in variants.items():
            assert v.min() >= 0, (comp, name)
            assert np.abs(v - nominal).max() > 0.1, (comp, name)
            changes = {ax: _shape_change(nominal, v, ax) for ax in AXIS_SUM}
            assert max(changes, key=changes.get) == VARIANT_AXIS[name], (comp, name, changes)
            # a variant of one component is never a copy of another component's PDF
            for other in lar.COMPONENTS:
                if other != comp:
                    assert not np.allclose(v / v.sum(), real.pdfs[other] / real.pdfs[other].sum())
            ratio = v.sum() / nominal.sum()
            if (comp, name) == ("brn_prompt", "timing_mean_plus1sigma"):
                assert 1.05 < ratio < 1.06  # release quirk: 523.7 instead of 497 (documented)
            else:
                assert ratio == pytest.approx(1.0, abs=1e-6), (comp, name)


def test_efficiency_curve(real):
    assert real.efficiency_e_keVee.size == 80
    np.testing.assert_allclose(np.diff(real.efficiency_e_keVee), 0.5)
    assert real.efficiency_values[0] == 0 and 0.95 < real.efficiency_values[-1] < 1
    # the keVnr column is the release quenching factor applied to the keVee column
    np.testing.assert_allclose(
        real.params.recoil_keVee(real.efficiency_t_keVnr), real.efficiency_e_keVee, rtol=2e-3
    )
    assert real.efficiency(0.0) == 0.0
    assert real.efficiency(100.0) == real.efficiency_values[-1]


# --- the real release: parameters ------------------------------------------------------------


def test_yaml_parameters(real):
    p = real.params
    assert p.pot == 13.8e22
    assert p.beam_energy_gwh == 6.12
    assert p.distance_m == 27.5
    assert (p.fiducial_mass_kg, p.fiducial_mass_unc_kg) == (24.4, 0.61)
    assert (p.qf_a, p.qf_a_unc) == (0.246, 0.006)
    assert (p.qf_b_per_keVnr, p.qf_b_unc_per_keVnr) == (0.00078, 0.00009)
    assert p.quenching_factor(100.0) == pytest.approx(0.246 + 0.078)
    assert (p.nu_per_flavor_per_pot, p.nu_per_flavor_per_pot_unc) == (0.09, 0.009)
    assert p.energy_resolution_a_sqrt_keVee == 0.58
    assert (p.pot_trace_mean_ns, p.pot_trace_mean_unc_ns, p.pot_trace_sigma_ns) == (440, 200, 150)
    best = {c: (n.counts, n.unc_counts) for c, n in p.bestfit.items()}
    pred = {c: (n.counts, n.unc_counts) for c, n in p.predicted.items()}
    assert best == {
        "cevns": (159, 43),
        "brn_prompt": (553, 34),
        "brn_delayed": (10, 11),
        "ss": (3131, 23),
    }
    assert pred == {
        "cevns": (128, 17),
        "brn_prompt": (497, 160),
        "brn_delayed": (33, 33),
        "ss": (3154, 25),
    }


# --- the real release: analysis projection ---------------------------------------------------


def test_analysis_projection_full_grid(real):
    a = lar.analysis_projection(real)
    assert a.shape == (12, 8, 10) and a.axes == lar.AXES
    np.testing.assert_array_equal(a.observed_counts, real.observed_counts)
    for b in lar.BACKGROUNDS:
        assert a.background_counts[b].sum() == pytest.approx(real.params.predicted[b].counts)
    assert a.background_unc_frac["brn_prompt"] == pytest.approx(160 / 497)
    for v in a.background_variants["brn_prompt"].values():
        assert v.sum() == pytest.approx(497)
    np.testing.assert_allclose(a.f90_given_energy.sum(axis=1), 1.0)
    assert a.f90_template_source[:5] == ("cevns",) * 5
    # lifting the release CEvNS (energy × time) with P(F90 | E) gives back the 3D PDF (to the
    # file's 6 printed digits): its F90 shape depends on the energy bin only
    cevns = a.cevns_release_counts
    lifted = a.lift(cevns.sum(axis=1))
    np.testing.assert_allclose(lifted[:5], cevns[:5], rtol=2e-5, atol=1e-9)
    np.testing.assert_allclose(lifted.sum(axis=1), cevns.sum(axis=1), rtol=1e-12, atol=1e-15)
    raw = lar.analysis_projection(real, variant_normalisation="release")
    assert raw.background_variants["brn_prompt"]["timing_mean_plus1sigma"].sum() > 520


def test_analysis_projection_refits_release_cevns(real):
    """CEvNS free, backgrounds at the best fit: the 3D Poisson fit reproduces 159 ± 43."""
    a = lar.analysis_projection(real)
    best = real.params.bestfit
    bkg = a.expected_background(
        {b: best[b].counts / real.params.predicted[b].counts for b in lar.BACKGROUNDS}
    )
    shape = a.cevns_release_counts / a.cevns_release_counts.sum()
    n = a.observed_counts

    def nll(mu):
        lam = mu * shape + bkg
        return float(np.sum(lam - n * np.log(lam)))

    fit = minimize_scalar(nll, bounds=(0, 500), method="bounded")
    assert abs(fit.x - best["cevns"].counts) < 5


def test_analysis_projection_energy_time(real):
    a = lar.analysis_projection(real, "energy_time")
    assert a.shape == (12, 10) and a.f90_edges is None and a.f90_given_energy is None
    np.testing.assert_array_equal(a.observed_counts, real.observed_counts.sum(axis=1))
    x = np.ones((12, 10))
    assert a.lift(x) is not None and np.array_equal(a.lift(x), x)
    with pytest.raises(ValueError, match="shape"):
        a.lift(np.ones((12, 8)))
    with pytest.raises(ValueError, match="projection"):
        lar.analysis_projection(real, "energy")


def test_energy_time_projection_totals_equal_the_release(real):
    """The energy × time projection keeps every component's total, per energy and per time
    bin (sums over F90 only), and its marginals are the release's own 1D projections: the
    CEvNS column of energydata1d.txt / timingdata1d.txt is the projected CEvNS PDF × one
    constant (best fit / prediction = 159.5 / 128), the SS-subtracted data are the projected
    data − SS PDF × 3131.75 / 3154 (the files print 5–6 digits: rtol 1e-4)."""
    full = lar.analysis_projection(real, "energy_f90_time")
    et = lar.analysis_projection(real, "energy_time")
    np.testing.assert_array_equal(et.observed_counts, full.observed_counts.sum(axis=1))
    assert et.observed_counts.sum() == real.observed_counts.sum() == 3752
    pairs = [(et.cevns_release_counts, full.cevns_release_counts)]
    pairs += [(et.background_counts[b], full.background_counts[b]) for b in lar.BACKGROUNDS]
    pairs += [(v, full.background_variants["brn_prompt"][k])
              for k, v in et.background_variants["brn_prompt"].items()]  # fmt: skip
    pairs += [(v, full.cevns_release_variants[k]) for k, v in et.cevns_release_variants.items()]
    for two, three in pairs:
        np.testing.assert_allclose(two, three.sum(axis=1), rtol=1e-12, atol=1e-12)
    predicted = real.params.predicted
    assert et.cevns_release_counts.sum() == pytest.approx(predicted["cevns"].counts, abs=1e-6)
    for b in lar.BACKGROUNDS:
        assert et.background_counts[b].sum() == pytest.approx(predicted[b].counts, abs=1e-6)
    for axis, other in (("energy", 1), ("time", 0)):
        p = real.projections_1d[axis]
        cevns = et.cevns_release_counts.sum(axis=other)
        on = cevns > 0
        scale = p.cevns_fit_counts[on] / cevns[on]
        np.testing.assert_allclose(scale, scale[0], rtol=1e-4)
        assert scale[0] == pytest.approx(159.5 / 128, rel=1e-3)
        ss = et.background_counts["ss"].sum(axis=other) * 3131.75 / 3154
        subtracted = et.observed_counts.sum(axis=other) - ss
        np.testing.assert_allclose(subtracted, p.ss_subtracted_counts, rtol=1e-4, atol=0.02)


# --- synthetic release -----------------------------------------------------------------------

E_C = (5.0, 15.0)
F_C = (0.55, 0.65, 0.75)
T_C = (0.25, 0.75)

FAKE_YAML = """\
beamExposure:
  value: 2.5
  units: E22 POT
  uncertainty: negligible
  comment: |
    Made-up exposure of 1.5 GWhr.
distanceToTarget:
  value: 20.0
  units: m
fiducialMass:
  value: 10.0
  units: kg
  uncertainty: 0.5
larQF:
  parameters:
   - name: a
     value: 0.2
     units: none
     uncertainty: 0.01
   - name: b
     value: 0.001
     units: (keVnr)^-1
     uncertainty: 0.0001
neutrinosPerProton:
  value: 0.1
  uncertainty: 0.01
  units: nu/flavor/proton
cevnsBestfitNormalization:
  value: 12
  uncertainty_stat: 4
promptBeamRelatedNeutronBestfitNormalization:
  value: 20
  uncertainty: 5
delayedBeamRelatedNeutronBestfitNormalization:
  value: 2
  uncertainty: 2
ssBackgroundBestfitNormalization:
  value: 100
  uncertainty: 10
cevnsPredictionNormalization:
  value: 10
  uncertainty: 2
promptBeamRelatedNeutronPredictionNormalization:
  value: 24
  uncertainty: 6
delayedBeamRelatedNeutronPredictionNormalization:
  value: 3
  uncertainty: 3
ssBackgroundPredictionNormalization:
  value: 120
  uncertainty: 12
energyResolution:
  parameters:
    - name: a
      value: 0.5
      units: (keVee)^(1/2)
snsPOTTraceTiming:
  parameters:
    - name: a
      value: 400
      uncertainty: 100
      units: ns
    - name: b
      value: 100
      uncertainty: negligible
      units: ns
"""


def _write_3d(path, values):
    lines = []
    for i, e in enumerate(E_C):
        for j, f in enumerate(F_C):
            for k, t in enumerate(T_C):
                lines.append(f"{e:g} {f:g} {t:g} {values[i, j, k]:g}\n")
    path.write_text("".join(lines))


def _write_1d(rel, axis, centers):
    data_name, syst_name = lar.PROJECTION_FILES[axis]
    rows = "".join(f"{c:g} -1.5 2 1 1 2 1.8 2.2\n" for c in centers)
    (rel / data_name).write_text(
        "Bin Center  SS-Sub Data  Err  CEvNS  BRN  Sum  Low  High\n" + rows
    )
    (rel / syst_name).write_text("".join(f"{c:g} 0.9 1.1\n" for c in centers))


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("CEVNSFAST_ALLOW_MODIFIED_DATA", "1")  # invented numbers: not official
    rel = tmp_path / lar.RELEASE_DIRNAME
    rel.mkdir()
    shape = (len(E_C), len(F_C), len(T_C))
    _write_3d(rel / lar.DATA_FILE, np.arange(np.prod(shape)).reshape(shape) % 4)
    for name in lar.PDF_FILES.values():
        _write_3d(rel / name, np.full(shape, 0.5))
    for files in lar.VARIANT_FILES.values():
        for name in files.values():
            _write_3d(rel / name, np.full(shape, 0.25))
    _write_1d(rel, "energy", E_C)
    _write_1d(rel, "f90", F_C)
    _write_1d(rel, "time", T_C)
    (rel / lar.EFFICIENCY_FILE).write_text("0.5 2.0 0.1\n1.0 4.0 0.5\n1.5 6.0 0.8\n")
    (rel / lar.PARAMETERS_FILE).write_text(FAKE_YAML)
    return tmp_path


def test_fake_release_loads(fake):
    d = lar.load_lar2020(fake)
    assert d.observed_counts.shape == (2, 3, 2)
    np.testing.assert_allclose(d.energy_edges_keVee, [0, 10, 20])
    np.testing.assert_allclose(d.f90_edges, [0.5, 0.6, 0.7, 0.8])
    np.testing.assert_allclose(d.time_edges_us, [0, 0.5, 1.0])
    assert d.params.pot == 2.5e22 and d.params.beam_energy_gwh == 1.5
    assert d.params.fiducial_mass_kg == 10.0 and d.params.pot_trace_mean_unc_ns == 100
    assert d.params.bestfit["cevns"].unc_counts == 4  # read from uncertainty_stat
    assert d.projections_1d["time"].ss_subtracted_counts.tolist() == [-1.5, -1.5]
    assert d.source_dir == fake / lar.RELEASE_DIRNAME
    a = lar.analysis_projection(d)
    assert a.background_counts["ss"].sum() == pytest.approx(120)
    with pytest.raises(ValueError, match="written|read-only"):
        d.observed_counts[0, 0, 0] = 7


def test_release_hash_tracks_content(fake):
    h = lar.release_hash(fake)
    assert re.fullmatch(r"[0-9a-f]{64}", h) and h == lar.release_hash(fake)
    path = fake / lar.RELEASE_DIRNAME / lar.EFFICIENCY_FILE
    path.write_text(path.read_text() + "2.0 8.0 0.9\n")
    assert lar.release_hash(fake) != h
    (fake / lar.RELEASE_DIRNAME / "README.extra").write_text("not a release file")
    assert lar.load_lar2020(fake).release_sha256 == lar.release_hash(fake)


# --- bad input -------------------------------------------------------------------------------


def test_missing_directory_says_how_to_point_at_data(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        lar.load_lar2020(tmp_path)
    msg = str(err.value)
    assert str(tmp_path / lar.RELEASE_DIRNAME) in msg
    assert DATA_DIR_ENV in msg and "--data-dir" in msg
    assert isinstance(err.value, FileNotFoundError)


def test_missing_file_is_named(fake):
    (fake / lar.RELEASE_DIRNAME / "brnpdf-1sigEnergy.txt").unlink()
    with pytest.raises(DataNotFoundError, match=re.escape("brnpdf-1sigEnergy.txt")):
        lar.load_lar2020(fake)


def _replace_line(path, lineno, text):
    lines = path.read_text().splitlines(keepends=True)
    lines[lineno - 1] = text
    path.write_text("".join(lines))


@pytest.mark.parametrize(
    ("name", "lineno", "text", "reason"),
    [
        (lar.DATA_FILE, 3, "5 0.55 0.25\n", "expected 4 columns"),
        (lar.DATA_FILE, 4, "5 0.55 0.75 x\n", "non-numeric"),
        (lar.DATA_FILE, 5, "5 0.65 0.25 -1\n", "negative count"),
        (lar.DATA_FILE, 6, "-5 0.65 0.75 1\n", "negative energy"),
        (lar.DATA_FILE, 2, "5 0.55 0.75 1.5\n", "not an integer"),
        (lar.DATA_FILE, 2, "5 0.55 0.25 1\n", "duplicate cell"),
        ("bkgpdf.txt", 7, "5 0.75 0.25 -0.1\n", "negative expected count"),
        ("cevnspdf+1sigF90.txt", 1, "5 0.55 0.3 0.2\n", "not on the release grid"),
        ("brnpdf.txt", 1, "5 0.55 0.25 nan\n", "non-finite"),
        ("timingdata1d.txt", 3, "0.8 -1 2 1 1 2 1.8 2.2\n", "does not match"),
        ("energydata1d.txt", 2, "5 -1 -2 1 1 2 1.8 2.2\n", "negative value"),
        ("systerrors1dpsd.txt", 2, "0.65 0.9\n", "expected 3 columns"),
        (lar.EFFICIENCY_FILE, 2, "1.0 4.0 1.5\n", "exceeds 1"),
        (lar.EFFICIENCY_FILE, 3, "-1.5 6.0 0.8\n", "negative energy"),
    ],
)
def test_malformed_line_names_file_and_line(fake, name, lineno, text, reason):
    path = fake / lar.RELEASE_DIRNAME / name
    _replace_line(path, lineno, text)
    with pytest.raises(DataFormatError) as err:
        lar.load_lar2020(fake)
    assert str(err.value).startswith(f"{path}, line {lineno}: ")
    assert reason in str(err.value)
    assert isinstance(err.value, ValueError) and err.value.line == lineno


def test_missing_cell_is_reported(fake):
    path = fake / lar.RELEASE_DIRNAME / "delbrnpdf.txt"
    _replace_line(path, 12, "\n")
    with pytest.raises(DataFormatError, match=r"delbrnpdf.txt: 1 grid cells missing"):
        lar.load_lar2020(fake)


def test_nonuniform_axis_is_reported(fake):
    path = fake / lar.RELEASE_DIRNAME / lar.DATA_FILE
    path.write_text(path.read_text().replace("0.75 ", "0.8 ").replace("0.65 ", "0.7 "))
    # F90 centres 0.55, 0.7, 0.8 — not uniform
    with pytest.raises(DataFormatError, match="f90 bin centres are not uniformly spaced"):
        lar.load_lar2020(fake)


@pytest.mark.parametrize(
    ("old", "new", "lineno", "reason"),
    [
        ("  value: 20.0\n", "  value: twenty\n", 8, "distanceToTarget.value: expected a number"),
        ("  units: kg\n", "  units: g\n", 12, "unexpected units 'g'"),
        ("  value: 10.0\n", "  value: [10.0\n", 12, "invalid YAML"),
        ("     value: 0.001\n", "     value: -0.001\n", 21, "larQF.parameters[1].value: negative"),
    ],
)
def test_bad_yaml_names_file_and_line(fake, old, new, lineno, reason):
    path = fake / lar.RELEASE_DIRNAME / lar.PARAMETERS_FILE
    assert FAKE_YAML.count(old) == 1
    path.write_text(FAKE_YAML.replace(old, new))
    with pytest.raises(DataFormatError) as err:
        lar.load_lar2020(fake)
    assert str(err.value).startswith(f"{path}, line {lineno}: ")
    assert reason in str(err.value)


def test_missing_yaml_key_is_named(fake):
    path = fake / lar.RELEASE_DIRNAME / lar.PARAMETERS_FILE
    path.write_text(FAKE_YAML.replace("ssBackgroundPredictionNormalization", "ssBkgPrediction"))
    with pytest.raises(DataFormatError, match="missing key ssBackgroundPredictionNormalization"):
        lar.load_lar2020(fake)
