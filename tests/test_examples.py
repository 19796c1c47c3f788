"""The scripts in examples/ run (quick settings) and give physically sensible numbers."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write their figures and stores here


def test_rates_example_nsi_lowers_the_na_i_rate():
    out = _load("rates_of_a_detector").main()
    # eps_ee^uV = 0.1 cancels part of the SM weak charge (Q_W < 0): the rate must drop
    assert out["nsi_total"] < out["sm_total"]


def test_csi2021_fit_example():
    out = _load("csi2021_fit").main()
    assert 60 < out["chi2_min"] < 160  # 97 dof
    assert -0.2 < out["best_eps_ee_uV"] < 0.6


def test_nsi_region_example(tmp_path):
    out = _load("nsi_region_2d").main(quick=True)
    assert out["n_lines"] >= 1
    assert (tmp_path / "nsi_region.png").stat().st_size > 0


def test_light_mediator_example_excludes_large_couplings():
    out = _load("light_mediator_scan").main(quick=True)
    assert 0.0 < out["excluded_fraction"] < 1.0
    assert np.isfinite(out["chi2_sm"])


def test_dask_example_resumes(tmp_path):
    pytest.importorskip("dask.distributed")
    example = _load("dask_scan")
    first = example.main(quick=True, out=str(tmp_path / "s.zarr"))
    again = example.main(quick=True, out=str(tmp_path / "s.zarr"))  # resumed: nothing to do
    assert first == again
