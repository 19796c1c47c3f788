"""Toys of the real experiments: the generator reproduces the model's expected counts and
auxiliary measurements on average, and pseudo-data go through the experiments' own kernels."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cevnsfast.cli import main
from cevnsfast.likelihood.registry import experiment
from cevnsfast.likelihood.toydata import Measurements, poisson_expected
from cevnsfast.profile_kernels import poisson_chi2
from cevnsfast.stats.toys import draw_toys, rng_for


def _asimov_at_fit(exp, point):
    """The experiment on its own expected counts at the conditional fit, auxiliary
    measurements at the fitted nuisances."""
    sources = exp.toy_source(point)
    return exp.with_data(
        [Measurements(s.expected, np.where(s.measured, s.nuisances, s.nominal)) for s in sources]
    )


@pytest.mark.parametrize(
    "names",
    [
        "csi2021",
        "lar2020",
        "nai+cryocsi",
    ],
)
def test_expected_counts_at_the_fit_give_zero_chi2(names):
    """Data = N_th(θ, ν̂) and measurements at ν̂ make every χ² term vanish at θ: the toy
    source, the fluctuated-centre mapping and the kernel describe the same model. The real
    data round-trip through ``with_data`` unchanged."""
    exp = experiment(names, ["eps_ee_uV"])
    point = np.array([0.12])
    assert _asimov_at_fit(exp, point).chi2(point) == pytest.approx(0.0, abs=1e-8)
    again = exp.with_data(exp.measurements())
    assert again.chi2(point) == pytest.approx(exp.chi2(point), rel=1e-12, abs=0)


def test_fluctuated_centres_move_the_pulls():
    """A measurement centre a of the α1 (BRN) prior moves the profiled α1 towards a: the fit
    on unchanged counts with a = +0.5 (2σ) returns a larger α1 than with a = 0."""
    exp = experiment("csi2021", ["eps_ee_uV"])
    (m,) = exp.measurements()
    shifted = m.centres.copy()
    shifted[1] = 0.5
    a1_nominal = exp.fit({"eps_ee_uV": 0.0}).nuisances["alpha1"]
    moved = exp.with_data([Measurements(m.observed, shifted)]).fit({"eps_ee_uV": 0.0})
    assert moved.nuisances["alpha1"] > a1_nominal + 0.05


def test_poisson_expected_is_the_kernel_prediction():
    """poisson_chi2 on data equal to ``poisson_expected`` is the pull terms alone (the Poisson
    deviance vanishes only when the two predictions agree bin by bin)."""
    exp = experiment("csi2021", ["eps_ee_uV"])
    sig0, grid, grid_values = exp.signal_inputs([0.1])
    params = np.array([0.05, -0.1, 0.2, 0.01, 1.02, 0.4, 0.05])
    expected = poisson_expected(params, sig0, grid, grid_values, exp.backgrounds)
    chi2 = poisson_chi2(params, expected, sig0, grid, grid_values, exp.backgrounds,
                        exp.sigma_norm, exp.sigma_shape, exp.shape_center)  # fmt: skip
    pulls = np.sum((params[:4] / exp.sigma_norm) ** 2) + ((1.02 - 1.0) / 0.05) ** 2
    assert chi2 == pytest.approx(pulls, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("names", ["csi2021", "nai"])
def test_toy_means_reproduce_the_expected_counts(names):
    """Mean of 4000 toys per bin against the expected counts: pulls (mean − N)/(σ/√n) are
    standard normal (max |z| < 5, mean z² = 1 within 5σ of its spread), and the auxiliary
    measurements average to ν̂."""
    exp = experiment(names, ["eps_ee_uV"])
    (src,) = exp.toy_source(np.array([0.2]))
    n = 4000
    toys = draw_toys([src], n, rng_for(11, 0))
    var = src.expected if src.variance is None else src.variance
    keep = var > 0
    z = (toys.observed[0].mean(0) - src.expected)[keep] / np.sqrt(var[keep] / n)
    assert np.max(np.abs(z)) < 5
    assert abs(np.mean(z**2) - 1) < 5 * np.sqrt(2 / z.size)
    m = src.measured
    zc = (toys.centres[0].mean(0) - src.nuisances)[m] / (src.sigma[m] / np.sqrt(n))
    assert np.max(np.abs(zc)) < 5
    unmeasured = toys.centres[0][:, ~m]
    np.testing.assert_array_equal(unmeasured, np.broadcast_to(src.nominal[~m], unmeasured.shape))


@pytest.mark.parametrize("names", ["csi2021", "nai+cryocsi"])
def test_profile_toys_json(names):
    """``profile --toys`` prints finite critical values (one per point), FC and Wilks
    intervals, as strict JSON."""
    args = ["profile", names, "--param", "eps_ee_uV", "--range", "-0.2", "0.6", "--points",
            "9", "--toys", "12", "--json"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert len(out["critical_delta_chi2"]) == 9
    assert np.all(np.isfinite(out["critical_delta_chi2"]))
    assert {"fc_intervals", "intervals", "critical_delta_chi2_error"} <= set(out)
    assert out["intervals"] and out["fc_intervals"]


def test_reproduce_section_writes_figures_and_table(tmp_path, monkeypatch):
    """The 'Beyond Wilks' section (coarse settings): a figure per profile and a table whose
    Wilks and FC columns both hold intervals and whose coverages are probabilities."""
    from cevnsfast.stats import report

    monkeypatch.setattr(report, "POINTS", 9)
    monkeypatch.setattr(report, "TOYS", 15)
    monkeypatch.setattr(report, "COVERAGE_TOYS", 30)
    artifacts = report.fc_section(tmp_path)
    figures = [a for a in artifacts if a.kind == "figure"]
    assert len(figures) == 2 and all(a.path.is_file() for a in figures)
    (table,) = [a for a in artifacts if a.kind == "table"]
    rows = table.markdown.splitlines()[2:]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1].startswith(("[", "(")) and cells[2].startswith(("[", "("))
        assert 0.0 <= float(cells[3].split("±")[0]) <= 1.0


def test_ac_measurement_bins_are_fluctuated_with_the_rest():
    """With the CsI SSB taken from the anti-coincidence sample (``ssb_model =
    "ac_measurement"``), the AC counts are Poisson bins of the experiment: the toys fluctuate
    them, and the expected counts at the fit still give χ² = 0."""
    from cevnsfast.likelihood.csi2021 import CsI2021Settings

    exp = experiment(
        "csi2021", ["eps_ee_uV"], csi2021_settings=CsI2021Settings(ssb_model="ac_measurement")
    )
    point = np.array([0.05])
    assert _asimov_at_fit(exp, point).chi2(point) == pytest.approx(0.0, abs=1e-8)
    (src,) = exp.toy_source(point)
    n_c = exp.n_bins
    assert src.expected.size == exp.observed.size > n_c
    toys = draw_toys([src], 200, rng_for(3, 0))
    ac = toys.observed[0][:, n_c:]
    assert np.all(ac.std(axis=0) > 0)
    np.testing.assert_allclose(ac.mean(axis=0), src.expected[n_c:], rtol=5 / np.sqrt(200))
