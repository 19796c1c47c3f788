"""CsI 2021 steady-state background (SSB) models: flat in time by default, the AC sample as a
Poisson measurement, and the raw-AC template kept for comparison (issue 10)."""

import numpy as np
import pytest
from releases import CSI_RELEASE
from scipy.integrate import quad

from cevnsfast.data import csi2021 as csi


def test_flat_time_without_timing_efficiency_is_proportional_to_bin_width():
    """A constant rate with no time-dependent selection: counts ∝ time-bin width, per PE bin,
    and each PE bin keeps the AC total of that bin."""
    rng = np.random.default_rng(3)
    ac = rng.poisson(3.0, size=(9, 11)).astype(float)
    f = csi.ssb_time_fractions(csi.TIME_EDGES_US, apply_timing_efficiency=False)
    ssb = csi.ssb_flat_time(ac, f)
    widths = np.diff(csi.TIME_EDGES_US)
    np.testing.assert_allclose(ssb / widths, (ac.sum(axis=1) / 6.0)[:, None] * np.ones(11))
    np.testing.assert_allclose(ssb.sum(axis=1), ac.sum(axis=1), rtol=1e-13)


def test_flat_time_follows_the_timing_efficiency():
    """With ε_T: counts per µs are constant while ε_T = 1 (before 0.52 µs) and follow the bin
    average of exp(−0.0494 (t − 0.52)) after; an independent numerical integral agrees."""
    f = csi.ssb_time_fractions(csi.TIME_EDGES_US)
    e = np.asarray(csi.TIME_EDGES_US)
    numeric = np.array(
        [
            quad(csi.timing_efficiency, lo, hi, points=[0.52] if lo < 0.52 < hi else None)[0]
            for lo, hi in zip(e[:-1], e[1:], strict=True)
        ]
    )
    np.testing.assert_allclose(f, numeric / numeric.sum(), rtol=1e-10)
    density = f / np.diff(e)
    np.testing.assert_allclose(density[:4], density[0], rtol=1e-12)  # bins below 0.5 µs
    assert np.all(np.diff(density[4:]) < 0)
    late = np.exp(-0.0494 * (5.0 - 0.52))  # ε_T at the centre of the last bin, to O(k²)
    assert density[-1] / density[0] == pytest.approx(late, rel=2e-3)


def test_integrated_timing_efficiency_limits():
    assert csi.integrated_timing_efficiency(0.0, 0.4) == pytest.approx(0.4, abs=0, rel=1e-15)
    assert csi.integrated_timing_efficiency(1.0, 3.0, decay_per_us=0.0) == pytest.approx(2.0)
    k = 0.0494
    exact = (np.exp(-k * 0.48) - np.exp(-k * 5.48)) / k
    assert csi.integrated_timing_efficiency(1.0, 6.0) == pytest.approx(exact, rel=1e-14)


def test_unknown_ssb_model_is_refused():
    from cevnsfast.likelihood.csi2021 import CsI2021Settings

    with pytest.raises(ValueError, match="ssb_model must be one of flat_time"):
        CsI2021Settings(ssb_model="smooth")
    with pytest.raises(ValueError, match="ac_exposure_ratio"):
        CsI2021Settings(ac_exposure_ratio=float("nan"))


# --- the real release ----------------------------------------------------------------------


def test_default_ssb_keeps_the_ac_totals_per_pe_bin():
    data = csi.load_csi2021()
    assert data.ssb_model == "flat_time"
    np.testing.assert_allclose(data.ssb.sum(axis=1), data.ac.sum(axis=1), rtol=1e-13)
    assert data.ac.sum() == 1295
    f = csi.ssb_time_fractions()
    np.testing.assert_allclose(data.ssb, data.ac.sum(axis=1)[:, None] * f[None, :], rtol=1e-13)
    raw = csi.load_csi2021(ssb_model="raw_ac")
    np.testing.assert_array_equal(raw.ssb, data.ac)


def test_ac_sample_falls_with_time_as_the_timing_efficiency():
    """The AC sample (0–250 PE, all released events) is not flat in time: a flat shape is
    disfavoured by Δχ² > 9 against the ε_T shape, which itself fits (deviance ≈ dof)."""
    events = csi.load_events(CSI_RELEASE / "dataBeamOnAC.txt")
    counts = csi.bin_events(events, (0.0, 250.0)).ravel()
    deviance = {}
    for with_eff in (True, False):
        mu = counts.sum() * csi.ssb_time_fractions(apply_timing_efficiency=with_eff)
        deviance[with_eff] = 2 * np.sum(mu - counts + counts * np.log(counts / mu))
    assert deviance[False] - deviance[True] > 9.0
    assert deviance[True] < 10 + 3 * np.sqrt(2 * 10)  # 10 dof


@pytest.fixture(scope="module")
def fits(tables_dir):
    from cevnsfast.likelihood.csi2021 import CsI2021, CsI2021Settings

    return {
        model: CsI2021(tables_dir=tables_dir, settings=CsI2021Settings(ssb_model=model))
        for model in csi.SSB_MODELS
    }


def _bin_deviance(exp) -> np.ndarray:
    parts = exp.fitted_components()
    n = parts.pop("data")
    mu = sum(parts.values())
    log_term = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / mu), 0.0)
    return 2 * (mu - n + log_term)


def test_named_bins_no_longer_dominate(fits):
    """Issue 10: with the raw AC template [40–50 PE, 0.25–0.375 µs] adds ≈ 10 to χ² and
    [0–8 PE, 4–6 µs] ≈ 6.5. Flat in time the first is an ordinary bin; the second keeps a real
    excess (5 C events where the 4 AC events of the whole 0–8 PE row predict 1.2), which the
    AC measurement model absorbs within the AC statistics of that row."""
    raw, flat, acm = (_bin_deviance(fits[m]) for m in ("raw_ac", "flat_time", "ac_measurement"))
    assert raw[7, 2] > 8 and raw[0, 10] > 5  # the numbers
    assert flat[7, 2] < 2.0 and flat[0, 10] < raw[0, 10]
    assert acm[7, 2] < 2.0 and acm[0, 10] < 3.0
    for dev in (flat, acm):  # no bin takes more than 7 % of χ²_min
        assert dev.max() < 0.07 * dev.sum()
    assert fits["flat_time"].fit().chi2_min < fits["raw_ac"].fit().chi2_min - 10


def test_ac_measurement_agrees_with_flat_time_within_ac_statistics(fits):
    """The fitted CEvNS count and SSB total of the two models differ by less than the spread
    that the AC Poisson statistics alone cause in the flat-time fit (toy AC samples)."""
    flat, acm = fits["flat_time"], fits["ac_measurement"]
    r_flat, r_acm = flat.fit(), acm.fit()
    assert r_flat.converged and r_acm.converged
    assert r_flat.ndof == r_acm.ndof == 97
    rng = np.random.default_rng(7)
    f = csi.ssb_time_fractions()
    nominal_ssb = flat.backgrounds[2].copy()
    toys = []
    try:
        for _ in range(40):
            ac_toy = rng.poisson(flat.data.ac.sum(axis=1)).astype(float)[:, None]
            flat.backgrounds[2] = csi.ssb_flat_time(ac_toy, f).ravel()
            toys.append(flat.fit().counts["cevns"])
    finally:
        flat.backgrounds[2] = nominal_ssb
    sigma_ac = np.std(toys)
    assert 3.0 < sigma_ac < 30.0
    assert abs(r_acm.counts["cevns"] - r_flat.counts["cevns"]) < sigma_ac
    assert abs(r_acm.counts["ssb"] - r_flat.counts["ssb"]) < np.sqrt(flat.data.ac.sum())
    assert abs(r_acm.counts["ac_observed"] - 1295) < 1e-9
    assert abs(r_acm.chi2_min - r_flat.chi2_min) < 9  # 9 extra free normalisations at most


def test_cli_fit_reports_goodness_of_fit_per_ssb_model():
    import json

    from click.testing import CliRunner

    from cevnsfast.cli import main

    out = {}
    for model in ("raw_ac", "flat_time"):
        result = CliRunner().invoke(main, ["fit", "csi2021", "--json", "--ssb-model", model])
        assert result.exit_code == 0, result.output
        out[model] = json.loads(result.output)
    for payload in out.values():
        assert payload["ndof"] == 97 and 0.0 < payload["p_value"] < 1.0
        assert payload["chi2_per_dof"] == pytest.approx(payload["chi2_min"] / 97, rel=1e-12)
    assert out["flat_time"]["chi2_min"] < out["raw_ac"]["chi2_min"]
