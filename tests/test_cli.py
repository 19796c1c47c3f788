"""The command line: rates in text and JSON, and its errors."""

import json

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
