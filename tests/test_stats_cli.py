"""Posteriors, resumable toy stores and the limit / coverage / sample commands."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from stats_models import GaussianShift

from cevnsfast.cli import main
from cevnsfast.scan.spec import Axis
from cevnsfast.scan.store import ScanStore
from cevnsfast.stats.bayes import Prior, sample
from cevnsfast.stats.feldman_cousins import BeltSpec, run_belt


def test_gaussian_posterior_and_evidence():
    """x = 1, σ = 1, uniform prior on [−5, 5]: posterior N(1, 1) → 68.27 % central interval
    [0, 2]; evidence Z = √(2π)/10 (the likelihood exp(−χ²/2) integrates to √(2π))."""
    post = sample(GaussianShift(x=1.0), [Prior("mu", -5.0, 5.0)], n_live=150, seed=1)
    lo, hi = post.central_interval("mu", 0.6827)
    assert lo == pytest.approx(0.0, abs=0.12)
    assert hi == pytest.approx(2.0, abs=0.12)
    assert post.logz == pytest.approx(math.log(math.sqrt(2 * math.pi) / 10), abs=0.3)


def test_log_uniform_prior_transform():
    p = Prior("g", 1e-6, 1e-2, "log")
    np.testing.assert_allclose(p.transform(np.array([0.0, 0.5, 1.0])), [1e-6, 1e-4, 1e-2])
    with pytest.raises(ValueError, match="lo > 0"):
        Prior("g", 0.0, 1.0, "log")


def test_belt_store_resumes_to_the_same_toys(tmp_path):
    """A store with one chunk's marker and data removed is finished by ``resume``, giving the
    toys of an uninterrupted run (per-task seeds)."""
    exp = GaussianShift(x=0.2)
    spec = BeltSpec("gauss", (Axis("mu", -2, 2, 6),), {}, None, 20, 4, chunk=2)
    full = run_belt(spec, tmp_path / "a.zarr", progress=False, experiment=exp)
    store = ScanStore.open(tmp_path / "a.zarr", mode="r+")
    store.arrays["chunk_done"][1:2, 0:1] = 0
    store.arrays["delta_chi2"][2:4, :] = np.nan
    assert store.pending() == [(1, 0)]
    resumed = run_belt(spec, tmp_path / "a.zarr", resume=True, progress=False, experiment=exp)
    np.testing.assert_array_equal(resumed.toys, full.toys)
    with pytest.raises(FileExistsError, match="resume"):
        run_belt(spec, tmp_path / "a.zarr", progress=False, experiment=exp)


def test_limit_and_coverage_commands_on_asimov_detectors():
    runner = CliRunner()
    res = runner.invoke(main, ["limit", "nai+cryocsi", "--param", "eps_ee_uV", "--range", "0",
                               "0.1", "--points", "21", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    bands = [out["expected_limits"][f"{n:+d}sigma"] for n in (-2, -1, 0, 1, 2)]
    assert all(b is not None for b in bands) and bands == sorted(bands)
    # Asimov data at the SM: the observed limit is the median expected one
    assert out["limit_asymptotic"] == pytest.approx(bands[2], rel=1e-6)
    res = runner.invoke(main, ["coverage", "nai", "--param", "eps_ee_uV", "--range", "-0.1",
                               "0.1", "--points", "11", "--true", "0", "--toys", "40",
                               "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    cov = json.loads(res.output)
    assert 0.0 <= cov["wilks"] <= 1.0 and 0.0 <= cov["fc"] <= 1.0
    assert cov["wilks_threshold"] == pytest.approx(2.7055, abs=1e-4)


def test_weak_mixing_angle_posterior_matches_profile():
    """sin²θ_W on CsI 2021: the 68 % central credible interval (flat prior on the scenario's
    range) agrees with the Δχ² = 1 profile-likelihood interval to 15 % of its width (the
    χ² is close to parabolic near its minimum, where the two coincide)."""
    res = CliRunner().invoke(main, ["sample", "csi2021", "--model", "weak_mixing_angle",
                                    "--live", "80", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    lo, hi = json.loads(res.output)["summary"]["sin2_theta_w"]["central_interval"]
    from cevnsfast.likelihood.models import model_experiment
    from cevnsfast.scan.intervals import intervals_1d

    exp = model_experiment("csi2021", "weak_mixing_angle")
    grid = np.linspace(0.12, 0.36, 241)
    (iv,) = intervals_1d(grid, exp.chi2_batch(grid[:, None]), 1.0)
    width = iv.hi - iv.lo
    assert abs(lo - iv.lo) < 0.15 * width and abs(hi - iv.hi) < 0.15 * width
