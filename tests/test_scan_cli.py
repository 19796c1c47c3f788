"""``cevnsfast scan`` and the region figures (Figs. 6–9) on small grids."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cevnsfast.cli import main
from cevnsfast.figures import regions
from cevnsfast.scan.store import open_scan

AXES = ["--param", "eps_ee_uV=-0.2:0.6:41", "--param", "eps_mumu_uV=-0.15:0.55:36"]


def _run(args):
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result


def test_scan_prints_best_fit_intervals_and_region(tmp_path, tables_dir):
    out, csv = tmp_path / "scan.zarr", tmp_path / "scan.csv"
    args = ["--tables-dir", str(tables_dir), "scan", "nai+cryocsi", *AXES]
    result = _run([*args, "--out", str(out), "--csv", str(csv), "--no-progress"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "best fit: eps_ee_uV = " in text  # the grid misses ε_μμ = 0: polished there
    assert "chi2_min = 0.000000  (lowest grid point 0.37" in text
    assert "90 % C.L. intervals, 1 dof" in text
    assert "joint region: 90 % C.L., 2 dof" in text and "2 closed" in text
    assert open_scan(out)["chi2"].shape == (41, 36)
    assert len(csv.read_text().splitlines()) == 4 + 41 * 36

    again = _run([*args, "--out", str(out), "--no-progress"])
    assert again.exit_code != 0 and "--resume" in again.output
    resumed = _run([*args, "--out", str(out), "--resume", "--json"])
    info = json.loads(resumed.output)
    assert info["chi2_min"] == pytest.approx(0.0, abs=1e-12)
    assert list(info["best_fit"].values()) == pytest.approx([0.0, 0.0], abs=1e-6)
    assert info["region"]["dof"] == 2 and info["region"]["closed"] is True


def test_scan_with_fixed_and_profiled_couplings(tables_dir):
    args = ["--tables-dir", str(tables_dir), "scan", "nai+cryocsi", "--param",
            "eps_ee_uV=-0.6:0.6:25", "--set", "eps_mumu_uV=0.02", "--profile",
            "eps_ee_dV=-1:1:21", "--cl", "1sigma", "--json"]  # fmt: skip
    info = json.loads(_run(args).output)
    assert info["fixed"] == {"eps_mumu_uV": 0.02}
    assert set(info["profiled"]) == {"eps_ee_dV"}
    assert info["cl"] == "1sigma"
    # ε_ee^dV absorbs ε_ee^uV along the valley towards negative ε_ee^uV
    (interval,) = info["intervals_1d"]["eps_ee_uV"]
    assert interval["lo_open"] and not interval["hi_open"] and 0.2 < interval["hi"] < 0.6
    assert info["chi2_min"] <= info["grid_chi2_min"]
    assert info["warnings"] == []
    narrow = [*args[:-4], "eps_ee_dV=-0.2:0.2:9", "--no-progress"]
    assert "reaches the edge of its range" in _run(narrow).output


def test_scan_usage_errors(tables_dir):
    base = ["--tables-dir", str(tables_dir), "scan", "nai"]
    assert _run([*base, "--param", "eps_ee_uV=0:1"]).exit_code == 2
    assert _run([*base, "--param", "eps_ee_uV=0:1:5", "--resume"]).exit_code == 2
    assert _run([*base, "--param", "eps_ee_uV=0:1:5", "--cl", "90"]).exit_code == 2
    bad = _run([*base, "--param", "eps_ee_uV=0:1:5", "--set", "eps_ee_uV=0.1"])
    assert bad.exit_code == 2 and "named twice" in bad.output


def test_scan_on_a_local_dask_cluster(tmp_path, tables_dir):
    out = tmp_path / "scan.zarr"
    args = ["--tables-dir", str(tables_dir), "scan", "nai+cryocsi", *AXES, "--out", str(out),
            "--workers", "2", "--chunk", "10,36", "--json"]  # fmt: skip
    info = json.loads(_run(args).output)
    assert info["chi2_min"] == pytest.approx(0.0, abs=1e-12)
    ds = open_scan(out)
    assert ds.attrs["chunks_done"] == ds.attrs["chunks_total"] == 5


@pytest.fixture
def small_figures(monkeypatch):
    """Figs. 6 and 7 with one small panel each (the real grids take about a minute)."""
    p6 = regions.Panel("eps_ee_uV", "eps_mumu_uV", (-0.2, 0.6), (-0.15, 0.55), 61, 31)
    p7 = regions.Panel("eps_ee_uV", "eps_ee_dV", (-1.6, 1.3), (-1.2, 1.9), 61, 31, 0.2)
    monkeypatch.setattr(
        regions,
        "FIGURES",
        {6: ("Fig. 6 — small", [p6, p7], True), 7: ("Fig. 7 — small", [p7], False)},
    )


@pytest.mark.parametrize("include_csi", [False, True])
def test_region_figures(small_figures, tmp_path, include_csi):
    artifacts = regions.paper_region_figures(tmp_path, include_csi=include_csi, progress=False)
    figures = [a for a in artifacts if a.kind == "figure"]
    assert [a.title for a in figures] == ["Fig. 6 — small", "Fig. 7 — small"]
    for a in figures:
        assert a.path.suffix == ".png" and a.path.exists()
        assert [p.suffix for p in a.extra] == [".pdf"] and a.extra[0].exists()
        assert "90 % C.L." in a.caption and "two degrees of freedom" in a.caption
    assert ("CsI 2021 data release was not found" in figures[1].caption) is not include_csi
    (table,) = [a for a in artifacts if a.kind == "table"]
    assert "NaI + Cryo-CsI" in table.markdown and table.extra[0].exists()
    assert ("CsI (2021)" in table.markdown) is include_csi


def test_coupling_labels():
    assert regions.coupling_label("eps_emu_uV") == r"$\varepsilon_{e\mu}^{uV}$"
    assert regions.coupling_label("eps_etau_dT") == r"$\varepsilon_{e\tau}^{dT}$"
    assert np.isclose(regions.DOF, 2)
