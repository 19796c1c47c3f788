"""CsI[Na] 2021 release loader: real-data reproduction (skipped without the data) and
validation on small synthetic files written to tmp_path (made-up numbers, release format)."""

import pickle
import re

import numpy as np
import pytest
from releases import CSI_RELEASE as RELEASE

from cevnsfast.data import csi2021 as csi
from cevnsfast.data.errors import DataFormatError, DataNotFoundError
from cevnsfast.paths import DATA_DIR_ENV, data_dir


@pytest.fixture(scope="module")
def real():
    return csi.load_csi2021()


# --- synthetic release ---------------------------------------------------------------------


def _write_pdf(path, centers, values):
    path.write_text("".join(f"{c:.4f} {v:.6g}\n" for c, v in zip(centers, values, strict=True)))


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A tiny release with the official file names and layout but invented numbers."""
    monkeypatch.setenv("CEVNSFAST_ALLOW_MODIFIED_DATA", "1")  # invented numbers: not official
    rel = tmp_path / csi.RELEASE_DIRNAME
    rel.mkdir()
    header = "# List of selected events\n# Recoil energy (PE), recoil time (microsecond)\n"
    (rel / "dataBeamOnC.txt").write_text(header + "10.0 0.3\n30.0 1.5\n100.0 2.0\n")
    (rel / "dataBeamOnAC.txt").write_text(header + "15.0 0.1\n45.0 5.0\n")
    pe = np.arange(100) + 0.5
    t = np.round(np.arange(650) * 0.01 - 0.245, 3)
    for name in ("brn", "nin"):
        _write_pdf(rel / f"{name}PE.txt", pe, np.full(pe.size, 0.01))
        _write_pdf(rel / f"{name}Trec.txt", t, np.where(t > 0, 1.0, 0.0))
    (rel / "effCoefficients.txt").write_text(
        "# eff\n# Nominal efficiency model\n1.0 0.3 10.0 0.0\n\n"
        "# Syst model, +1 sigma\n1.0 0.3 9.0 0.0\n# Syst model, +1 sigma\n1.0 0.3 11.0 0.0\n"
    )
    (rel / "scintRespCoefficients.txt").write_text(
        "# Nominal scintillation model\n0.1 0 0 0\n"
        "# Syst model 0, +1 sigma\n0.11 0 0 0\n# Syst model 0, -1 sigma\n0.09 0 0 0\n"
    )
    return tmp_path


# --- the real release ----------------------------------------------------------------------


def test_release_event_counts(real):
    assert real.observed.shape == real.ssb.shape == real.ac.shape == (9, 11)
    assert real.observed.sum() == 1578
    assert real.ac.sum() == 1295
    assert real.ssb.sum() == pytest.approx(1295, rel=1e-13)
    assert np.all(real.observed == np.round(real.observed))


def test_background_templates_normalised(real):
    assert real.brn.shape == real.nin.shape == (9, 11)
    assert real.brn.sum() == pytest.approx(18.4, rel=1e-12)
    assert real.nin.sum() == pytest.approx(5.6, rel=1e-12)
    assert (real.brn >= 0).all() and (real.nin >= 0).all()
    other = csi.load_csi2021(n_brn=10.0, n_nin=1.0)
    np.testing.assert_allclose(other.brn, real.brn * 10.0 / 18.4)
    np.testing.assert_allclose(other.nin, real.nin * 1.0 / 5.6)


@pytest.mark.parametrize("name", ["brn", "nin"])
def test_timing_efficiency_suppresses_late_bins(name):
    pe_pdf = csi.load_pdf_1d(RELEASE / f"{name}PE.txt")
    t_pdf = csi.load_pdf_1d(RELEASE / f"{name}Trec.txt")
    with_eff = csi.pdf_template(pe_pdf, t_pdf, 1.0).sum(axis=0)
    without = csi.pdf_template(pe_pdf, t_pdf, 1.0, apply_timing_efficiency=False).sum(axis=0)
    late = np.asarray(csi.TIME_EDGES_US[:-1]) >= 1.0  # ε_T < 1 only after 0.52 µs
    assert with_eff[late].sum() < without[late].sum()
    assert with_eff[~late].sum() > without[~late].sum()  # same total, so early bins gain


def test_efficiency_coefficients(real):
    eff = real.efficiency
    a, _, _, d = eff["nominal"]
    assert csi.efficiency_pe(60.0, eff["nominal"]) == pytest.approx(max(a + d, 0.0), rel=1e-4)
    x = np.arange(0.0, 60.0, 0.5)
    plus, nom, minus = (
        csi.efficiency_pe(x, eff[k]) for k in ("plus1sigma", "nominal", "minus1sigma")
    )
    low = x <= 20
    assert (plus[low] >= nom[low]).all() and (nom[low] >= minus[low]).all()
    assert (plus[low] > minus[low]).any()
    assert (nom >= 0).all() and csi.efficiency_pe(0.0, eff["nominal"]) == 0.0
    # the release labels both systematic rows "+1 sigma"; the larger-c one is read as −1σ
    assert eff["plus1sigma"][2] < eff["nominal"][2] < eff["minus1sigma"][2]


def test_quenching_nominal_10_kevnr(real):
    assert set(real.quenching) >= {"nominal", "syst0_plus1sigma", "syst0_minus1sigma"}
    e_kevee = 1e3 * csi.quenched_energy_mevee(10e-3, real.quenching["nominal"])
    assert e_kevee == pytest.approx(0.88, abs=0.005)


def test_release_hash_stable():
    h = csi.release_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", h) and h == csi.release_hash(data_dir())


# --- behaviour on synthetic inputs ---------------------------------------------------------


def test_synthetic_release_loads(fake):
    data = csi.load_csi2021(fake)
    assert data.observed.sum() == 2  # the 100-PE event is outside the grid
    assert data.observed[1, 2] == 1 and data.observed[5, 8] == 1
    assert data.ac.sum() == 2 and data.ssb.sum() == pytest.approx(2, rel=1e-13)
    assert data.brn.sum() == pytest.approx(18.4) and data.nin.sum() == pytest.approx(5.6)
    assert set(data.efficiency) == {"nominal", "plus1sigma", "minus1sigma"}
    assert data.efficiency["minus1sigma"][2] == 11.0
    assert data.source_dir == fake / csi.RELEASE_DIRNAME
    half = csi.ssb_template(fake / csi.RELEASE_DIRNAME / "dataBeamOnAC.txt", scale=0.5)
    assert half.sum() == 1.0


def test_bin_events_left_closed():
    ev = np.array([[0.0, 0.0], [8.0, 0.125], [59.99, 5.99], [60.0, 1.0], [10.0, 6.0], [5, -0.1]])
    h = csi.bin_events(ev)
    assert h.sum() == 3
    assert h[0, 0] == 1 and h[1, 1] == 1 and h[8, 10] == 1


def test_rebin_shares_straddling_fine_bins():
    centers = np.array([0.105, 0.115, 0.125, 0.135, 0.145])  # 10-ns bins, one centred on an edge
    coarse = csi.rebin_fine_bins(centers, np.ones(5), [0.1, 0.125, 0.15])
    np.testing.assert_allclose(coarse, [2.5, 2.5])
    assert csi.rebin_fine_bins(centers, np.ones(5), [0.0, 0.12]).item() == pytest.approx(2.0)


def test_timing_efficiency_shape():
    eps = csi.timing_efficiency([0.0, 0.52, 1.52, 6.0])
    np.testing.assert_allclose(eps, [1.0, 1.0, np.exp(-0.0494), np.exp(-0.0494 * 5.48)])


def test_release_hash_sees_changes(fake):
    before = csi.release_hash(fake)
    path = fake / csi.RELEASE_DIRNAME / "dataBeamOnAC.txt"
    path.write_text(path.read_text() + "20.0 0.2\n")
    assert csi.release_hash(fake) != before


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [("12.0", "columns"), ("12.0 abc", "non-numeric"), ("-1.5 0.4", "negative energy")],
)
def test_bad_event_line_names_file_and_line(tmp_path, bad_line, reason):
    path = tmp_path / "events.txt"
    path.write_text(f"# header\n10.0 0.3\n{bad_line}\n20.0 0.5\n")
    with pytest.raises(DataFormatError, match=reason) as err:
        csi.load_events(path)
    assert str(path) in str(err.value) and "line 3" in str(err.value)
    assert err.value.line == 3 and err.value.path == path


def test_empty_selection_names_file(tmp_path):
    path = tmp_path / "events.txt"
    path.write_text("# header\n100.0 0.3\n20.0 7.0\n")
    with pytest.raises(DataFormatError, match="none of the 2 events") as err:
        csi.load_binned_events(path)
    assert str(path) in str(err.value)
    path.write_text("# only comments\n")
    with pytest.raises(DataFormatError, match="no events"):
        csi.load_events(path)


def test_missing_file_says_how_to_point_at_data(tmp_path):
    path = tmp_path / "dataBeamOnC.txt"
    with pytest.raises(FileNotFoundError) as err:
        csi.load_events(path)
    assert isinstance(err.value, DataNotFoundError)
    msg = str(err.value)
    assert str(path) in msg and DATA_DIR_ENV in msg and "--data-dir" in msg
    with pytest.raises(DataNotFoundError, match=re.escape(str(tmp_path / csi.RELEASE_DIRNAME))):
        csi.load_csi2021(tmp_path)


def test_missing_release_file(fake):
    (fake / csi.RELEASE_DIRNAME / "ninTrec.txt").unlink()
    with pytest.raises(DataNotFoundError, match="ninTrec.txt"):
        csi.load_csi2021(fake)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [("0.5 1\n1.5 2\n1.0 3\n", 3, "increasing"), ("0.5 1\n1.5 -2\n", 2, "negative")],
)
def test_bad_pdf(tmp_path, text, line, reason):
    path = tmp_path / "brnPE.txt"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=reason) as err:
        csi.load_pdf_1d(path)
    assert f"{path}, line {line}" in str(err.value)


def test_bad_efficiency_rows(tmp_path):
    path = tmp_path / "effCoefficients.txt"
    path.write_text("# Nominal\n1 0.3 10 0\n# Syst\n1 0.3 9 0\n")
    with pytest.raises(DataFormatError, match="expected 3 coefficient rows"):
        csi.load_efficiency_coefficients(path)
    path.write_text("# Nominal\n1 0.3 10 0\n# Syst\n1 0.3 11 0\n# Syst\n1 0.3 9 0\n")
    with pytest.raises(DataFormatError, match="line 6"):
        csi.load_efficiency_coefficients(path)


def test_errors_pickle():
    err = pickle.loads(pickle.dumps(DataFormatError("f.txt", 7, "bad")))
    assert (err.line, str(err)) == (7, "f.txt, line 7: bad")
    assert str(pickle.loads(pickle.dumps(DataNotFoundError("x.txt")))).startswith("COHERENT")
