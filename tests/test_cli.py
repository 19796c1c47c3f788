"""The command line: rates in text and JSON, and its errors."""

import json

import pytest
from click.testing import CliRunner

from cevnsfast.cli import main


def test_rates_json_has_the_documented_keys():
    result = CliRunner().invoke(main, ["rates", "nai", "--set", "eps_ee_uV=0.1", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["detector"] == "nai"
    assert payload["couplings"] == {"eps_ee_uV": 0.1}
    bins = payload["bins"]
    assert bins["units"] == "keVee" and len(bins["edges"]) == len(bins["counts"]) + 1
    assert abs(sum(bins["counts"]) - payload["total"]) < 1e-9 * payload["total"]


def test_rates_text_and_sm_default():
    result = CliRunner().invoke(main, ["rates", "csi2021"])
    assert result.exit_code == 0, result.output
    assert "Standard Model" in result.output and "total" in result.output


def test_unknown_coupling_lists_valid_names():
    result = CliRunner().invoke(main, ["rates", "nai", "--set", "eps_ee_qV=1"])
    assert result.exit_code != 0
    assert "valid names: eps_ee_uV" in result.output


def test_malformed_assignment():
    result = CliRunner().invoke(main, ["rates", "nai", "--set", "eps_ee_uV"])
    assert result.exit_code != 0 and "NAME=VALUE" in result.output


def test_scenario_list_and_fit():
    runner = CliRunner()
    listing = runner.invoke(main, ["scenario"])
    assert listing.exit_code == 0 and "light_vector_universal" in listing.output
    assert "mass_mev [MeV]" in listing.output
    result = runner.invoke(main, ["scenario", "nai", "weak_mixing_angle", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["couplings"] == {"sin2_theta_w": 0.23857}
    assert abs(payload["chi2_min"]) < 1e-6  # Asimov data at the SM point
    wrong = runner.invoke(main, ["scenario", "nai", "light_vector_universal", "--set", "g=1"])
    assert wrong.exit_code != 0 and "give a value for mass_mev" in str(wrong.exception)


def test_commands_turn_off_numpy_hugepage_advice_unless_the_user_chose(monkeypatch):
    """The CLI sets numpy's switch (and the environment its worker processes inherit) to 0;
    a value the user set is left alone."""
    import os

    from cevnsfast.cli import HUGEPAGE_ENV

    try:
        from numpy._core.multiarray import _get_madvise_hugepage, _set_madvise_hugepage
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _get_madvise_hugepage, _set_madvise_hugepage
    previous = _set_madvise_hugepage(True)
    try:
        monkeypatch.delenv(HUGEPAGE_ENV, raising=False)
        assert CliRunner().invoke(main, ["detectors"]).exit_code == 0
        assert os.environ[HUGEPAGE_ENV] == "0" and not _get_madvise_hugepage()
        _set_madvise_hugepage(True)
        monkeypatch.setenv(HUGEPAGE_ENV, "1")
        assert CliRunner().invoke(main, ["detectors"]).exit_code == 0
        assert os.environ[HUGEPAGE_ENV] == "1" and _get_madvise_hugepage()
    finally:
        _set_madvise_hugepage(previous)


def test_console_entry_writes_complete_outputs_and_reports_errors(tmp_path, tables_dir):
    """``cevnsfast`` as a process (``cli.run``, which skips the interpreter's final garbage
    collections at exit): its outputs are complete when it ends and hold the values of the
    same scan run here; a library error exits 1 with one ``error:`` line, no traceback."""
    import subprocess
    import sys

    import numpy as np

    from cevnsfast.scan.grid import GridScan, run_scan
    from cevnsfast.scan.spec import ScanSpec
    from cevnsfast.scan.store import open_scan

    base = [sys.executable, "-c", "from cevnsfast.cli import run; run()"]
    base += ["--tables-dir", str(tables_dir)]
    csv_path, store = tmp_path / "scan.csv", tmp_path / "scan.zarr"
    done = subprocess.run(
        [*base, "scan", "nai", "--param", "eps_ee_uV=-0.3:0.3:13", "--out", str(store),
         "--csv", str(csv_path), "--json", "--no-progress"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    here = run_scan(GridScan(ScanSpec("nai", ("eps_ee_uV=-0.3:0.3:13",))), None, progress=False)
    chi2 = here["chi2"].values
    table = np.loadtxt(csv_path, delimiter=",", skiprows=4)
    assert table.shape == (13, 3)
    np.testing.assert_allclose(table[:, 1], chi2, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(open_scan(store)["chi2"].values, chi2, rtol=1e-12, atol=1e-12)
    assert json.loads(done.stdout)["grid_chi2_min"] == pytest.approx(chi2.min(), abs=1e-9)
    failed = subprocess.run([*base, "rates", "nosuch"], capture_output=True, text=True)
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.startswith("error: unknown detector 'nosuch'")
    assert "Traceback" not in failed.stderr
