"""Models are first-class in every verb: fit, profile and scan take ``--model`` and the
model's parameter names, and give the same numbers as the model experiments themselves."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cevnsfast.cli import main
from cevnsfast.likelihood.base import ParameterSubset
from cevnsfast.likelihood.models import model_experiment, scan
from cevnsfast.likelihood.registry import experiment
from cevnsfast.scan.spec import Axis, ScanSpec
from cevnsfast.scan.store import open_scan


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_profile_of_the_weak_mixing_angle_equals_the_model_experiment():
    out = json.loads(
        _run(
            "profile csi2021 --model weak_mixing_angle --param sin2_theta_w "
            "--range 0.15 0.35 --points 21 --json".split()
        )
    )
    grid = np.linspace(0.15, 0.35, 21)
    direct = model_experiment("csi2021", "weak_mixing_angle").chi2_batch(grid[:, None])
    np.testing.assert_allclose(out["chi2"], direct, rtol=1e-12)
    # the CsI rate pins sin²θ_W near its SM value (arXiv:2211.11905: 0.24 +0.07/−0.06 at 1σ)
    assert 0.19 < out["best_fit"] < 0.29


def test_light_mediator_scan_with_log_axes_resumes_and_matches(tmp_path):
    store = tmp_path / "lv.zarr"
    args = (
        "scan csi2021 --model light_vector_universal --param mass_mev=1:1000:7:log "
        f"--param g=1e-5:1e-3:6:log --out {store} --no-progress --json"
    ).split()
    first = json.loads(_run(args))
    again = json.loads(_run([*args, "--resume"]))
    assert first["best_fit"] == again["best_fit"]
    ds = open_scan(store)
    masses, couplings = np.geomspace(1, 1000, 7), np.geomspace(1e-5, 1e-3, 6)
    np.testing.assert_allclose(ds["mass_mev"].values, masses)
    assert ds["mass_mev"].attrs["units"] == "MeV"
    direct = scan(model_experiment("csi2021", "light_vector_universal"), [masses, couplings])
    np.testing.assert_allclose(ds["chi2"].values, direct, rtol=1e-12)


def test_fit_with_a_model_equals_the_scenario_alias():
    args = ["csi2021", "--model", "magnetic_moment", "--set", "mu_nue=20", "--json"]
    via_fit = json.loads(_run(["fit", *args]))
    via_alias = json.loads(
        _run(["scenario", "csi2021", "magnetic_moment", "--set", "mu_nue=20", "--json"])
    )
    assert via_fit["chi2_min"] == via_alias["chi2_min"]
    assert via_fit["couplings"] == {"mu_nue": 20.0, "mu_numu": 0.0}  # the SM fills the rest


def test_parameter_subset_fills_the_sm_point_and_names_what_is_missing():
    full = model_experiment("csi2021", "magnetic_moment")
    sub = experiment("csi2021", ["mu_numu"], model="magnetic_moment")
    assert isinstance(sub, ParameterSubset)
    pts = np.array([[0.0], [30.0]])
    np.testing.assert_allclose(
        sub.chi2_batch(pts), full.chi2_batch(np.array([[0.0, 0.0], [0.0, 30.0]])), rtol=1e-12
    )
    with pytest.raises(ValueError, match="give a value for mass_mev"):
        experiment("csi2021", ["g"], model="light_vector_universal")
    with pytest.raises(ValueError, match="has parameters"):
        experiment("csi2021", ["eps_ee_uV"], model="weak_mixing_angle")


def test_log_axes_in_scan_specs():
    spec = ScanSpec(
        "csi2021", ("mass_mev=1:100:3:log", "g=1e-5:1e-3:3"), model="light_vector_universal"
    )
    np.testing.assert_allclose(spec.axes[0].values, [1.0, 10.0, 100.0])
    assert ScanSpec.from_dict(spec.as_dict()) == spec
    assert str(spec.axes[0]) == "mass_mev=1:100:3:log"
    with pytest.raises(ValueError, match="LO > 0"):
        Axis("g", -1.0, 1.0, 3, "log")
    with pytest.raises(ValueError, match="linear range"):
        ScanSpec(
            "csi2021",
            ("mass_mev=1:100:3:log",),
            profiled=("g=1e-5:1e-3:5:log",),
            model="light_vector_universal",
        )
    with pytest.raises(ValueError, match="has parameters"):
        ScanSpec("csi2021", ("eps_ee_uV=-1:1:3",), model="weak_mixing_angle")


def test_models_lists_every_scenario_with_its_parameters():
    out = _run(["models"])
    assert "weak_mixing_angle" in out and "sin2_theta_w [1]" in out
    assert "light_vector_universal" in out and "mass_mev [MeV]" in out and "log" in out
