"""Fault injection: every way we found to get wrong numbers with exit status 0 (issue 12).

Each test performs one fault — a damaged table, a user spec that shadows a shipped one, a
malformed spec, non-finite input, a double-counted experiment, a damaged data release,
concurrent builds — and asserts a clear error (naming file, field and fix) or the correct
recovery. Everything happens in ``tmp_path``: nothing here touches the repository's tables.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from releases import CSI_RELEASE, LAR_RELEASE

from cevnsfast import tables
from cevnsfast.build_tables.build import build_detector
from cevnsfast.cli import main
from cevnsfast.data import csi2021, lar2020
from cevnsfast.data.errors import DataFormatError
from cevnsfast.detectors import SpecError
from cevnsfast.detectors.spec import SHIPPED_SPEC_DIR, load_spec
from cevnsfast.likelihood.base import FitResult
from cevnsfast.likelihood.registry import experiment
from cevnsfast.paths import TABLES_DIR_ENV
from cevnsfast.rates import RatePredictor, load_detector_table
from cevnsfast.tables import TableError


def _no_json_constants(name):
    raise AssertionError(f"non-strict JSON token {name}")


def strict_loads(text: str):
    """json.loads that fails on NaN / Infinity tokens."""
    return json.loads(text, parse_constant=_no_json_constants)


@pytest.fixture
def own_tables(tmp_path, monkeypatch):
    directory = tmp_path / "tables"
    monkeypatch.setenv(TABLES_DIR_ENV, str(directory))
    return directory


# ---- damaged tables -------------------------------------------------------------------------


def _tensor_chunks(path):
    return sorted(p for p in (path / "tensor" / "c").rglob("*") if p.is_file())


def _flip_byte(chunk):
    blob = bytearray(chunk.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    chunk.write_bytes(bytes(blob))


def _truncate(chunk):
    blob = chunk.read_bytes()
    chunk.write_bytes(blob[: len(blob) // 2])


@pytest.mark.parametrize(
    "damage", [lambda c: c.unlink(), _flip_byte, _truncate], ids=["delete", "flip", "truncate"]
)
def test_damaged_table_is_refused_and_build_repairs_it(damage, own_tables, tables_dir):
    result = build_detector("nai", directory=own_tables)
    reference = RatePredictor("nai", directory=tables_dir).counts()
    damage(_tensor_chunks(result.path)[0])
    with pytest.raises(TableError) as err:
        load_detector_table("nai", own_tables, build_missing=False)
    message = str(err.value)
    assert str(result.path) in message and "cevnsfast build nai" in message
    assert "damaged" in message
    cli = CliRunner().invoke(main, ["rates", "nai", "--json"])
    assert cli.exit_code != 0 and str(result.path) in str(cli.exception)
    assert build_detector("nai", directory=own_tables).built  # no --force needed
    np.testing.assert_array_equal(RatePredictor("nai", directory=own_tables).counts(), reference)


def test_damaged_group_metadata_is_wrapped_with_the_path(own_tables):
    result = build_detector("nai", directory=own_tables)
    (result.path / "zarr.json").write_bytes(b"\x00garbage")
    with pytest.raises(TableError, match=r"unreadable.*cevnsfast build nai"):
        load_detector_table("nai", own_tables, build_missing=False)
    assert build_detector("nai", directory=own_tables).built


def test_every_array_is_checksummed(own_tables):
    result = build_detector("nai", directory=own_tables)
    table = load_detector_table("nai", own_tables, build_missing=False)
    assert set(table.attrs["array_sha256"]) == set(table.arrays) >= {"tensor", "base"}
    for name, value in table.arrays.items():
        assert table.attrs["array_sha256"][name] == tables.array_sha256(value)
        assert not value.flags.writeable  # shared by the load cache: nobody may edit it
    assert result.path.name.startswith("nai-")


# ---- table identity -------------------------------------------------------------------------


def test_user_spec_named_like_a_shipped_one_never_touches_it(tmp_path, own_tables):
    runner = CliRunner()
    before = runner.invoke(main, ["rates", "nai", "--json"])
    assert before.exit_code == 0, before.output
    mine = tmp_path / "my.toml"
    text = (SHIPPED_SPEC_DIR / "nai.toml").read_text()
    mine.write_text(text.replace("distance_m = 22.0", "distance_m = 30.0"))
    assert 'name = "nai"' in mine.read_text()
    built = runner.invoke(main, ["build", str(mine)])
    assert built.exit_code == 0, built.output
    mine_rates = strict_loads(runner.invoke(main, ["rates", str(mine), "--json"]).output)
    after = runner.invoke(main, ["rates", "nai", "--json"])
    assert after.exit_code == 0 and after.output == before.output
    np.testing.assert_allclose(
        mine_rates["total"], strict_loads(before.output)["total"] * (22 / 30) ** 2, rtol=1e-12
    )
    assert len(list(own_tables.glob("nai-*.zarr"))) == 2


def test_path_like_spec_name_is_refused(tmp_path):
    spec = tmp_path / "x.toml"
    spec.write_text((SHIPPED_SPEC_DIR / "nai.toml").read_text().replace('"nai"', '"../x"', 1))
    with pytest.raises(SpecError, match=r"x\.toml.*field 'name'.*letters, digits"):
        load_spec(spec)


def test_table_names_are_sanitised(tmp_path):
    path = tables.table_path("../../etc/x", "ab" * 32, tmp_path)
    assert path.parent == tmp_path and "/" not in path.name and ".." not in path.name


def test_stray_temporary_stores_are_cleaned(own_tables):
    result = build_detector("nai", directory=own_tables)
    debris = result.path.with_name(result.path.name + ".tmp-interrupted")
    debris.mkdir()
    (debris / "zarr.json").write_text("{}")
    build_detector("nai", directory=own_tables, force=True)
    assert not debris.exists()


def test_concurrent_forced_builds_both_succeed(own_tables):
    code = "from cevnsfast.cli import run; run()"
    env = {**os.environ, TABLES_DIR_ENV: str(own_tables)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, "build", "nai", "--force"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert [p.name for p in own_tables.glob("nai-*.zarr")] and not list(own_tables.glob("*.tmp-*"))
    load_detector_table("nai", own_tables, build_missing=False)


# ---- malformed specs ------------------------------------------------------------------------


def _nai_variant(tmp_path, old: str, new: str):
    text = (SHIPPED_SPEC_DIR / "nai.toml").read_text()
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("ckkd = 2.0", "ckkd = -2.0", "background.ckkd", "allowed range [0.0,"),
        ("live_days = 625.0", "live_days = -625.0", "background.live_days", "allowed range"),
        ("reduction = 8000.0", "reduction = 0.0", "background.reduction", "range (0.0,"),
        ("sigma_alpha = 0.10", "sigma_alpha = -0.10", "statistics.sigma_alpha", "[0.0, 10.0]"),
        ("first_bins = 2", "first_bins = 2.5", "background.first_bins", "integer in [0, 10000]"),
        (
            'observable = "keVee"',
            'observable = "keVee"\nobservabel = "pe"',
            "response.observabel",
            "did you mean 'observable'",
        ),
        ("s0 = 0.0", "s0 = 0.0\nqf = 0.1", "response.smearing.qf", "not a known field"),
        ("value = 0.8", "value = inf", "response.efficiency.value", "finite number"),
        ("[statistics]", "[statistcs]", "statistcs", "did you mean 'statistics'"),
        ("sigma_beta = 0.021", "", "statistics.sigma_beta", "is missing"),
    ],
)
def test_bad_spec_names_file_line_field_and_range(tmp_path, old, new, field, message):
    path = _nai_variant(tmp_path, old, new)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    text = str(err.value)
    assert err.value.field == field and message in text, text
    assert str(path) in text and ", line " in text, text


def test_misspelt_key_is_refused_even_with_a_source(tmp_path):
    path = _nai_variant(tmp_path, 'observable = "keVee"', 'observable = "keVee"\nobservabel = "pe"')
    path.write_text(path.read_text() + '"response.observabel" = "a citation for a typo"\n')
    with pytest.raises(SpecError, match="did you mean 'observable'"):
        load_spec(path)


def test_toml_syntax_error_names_the_file(tmp_path):
    path = _nai_variant(tmp_path, "[background]", "[background")
    with pytest.raises(SpecError, match=rf"{path}.*not valid TOML.*line"):
        load_spec(path)
    path.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(SpecError, match=rf"{path}.*not UTF-8"):
        load_spec(path)


def test_rejected_spec_fails_the_cli(tmp_path):
    path = _nai_variant(tmp_path, "ckkd = 2.0", "ckkd = -2.0")
    result = CliRunner().invoke(main, ["fit", str(path)])
    assert result.exit_code != 0 and "background.ckkd" in str(result.exception)


# ---- non-finite input -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308"])
def test_non_finite_couplings_are_refused_by_the_cli(value):
    for command in (["rates", "nai"], ["fit", "nai"]):
        result = CliRunner().invoke(main, [*command, "--set", f"eps_ee_uV={value}", "--json"])
        assert result.exit_code != 0 and "must be finite numbers" in result.output, result.output


@pytest.mark.parametrize("lo", ["nan", "-inf", "-1e308"])
def test_non_finite_ranges_are_refused(lo):
    args = ["profile", "nai", "--param", "eps_ee_uV", "--range", lo, "1", "--points", "3"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    text = result.output + str(result.exception)
    assert "finite" in text, text
    scan = CliRunner().invoke(main, ["scan", "nai", "--param", f"eps_ee_uV={lo}:1:3"])
    assert scan.exit_code != 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e308])
def test_non_finite_points_are_refused_by_the_api(bad):
    predictor = RatePredictor("nai", ["eps_ee_uV", "eps_ee_dV"])
    exp = experiment("nai", ["eps_ee_uV", "eps_ee_dV"])
    with pytest.raises(ValueError, match="eps_ee_dV"):
        predictor.counts({"eps_ee_dV": bad})
    with pytest.raises(ValueError, match="eps_ee_dV"):
        predictor.counts_batch(np.array([[0.0, 0.0], [0.1, bad]]))
    with pytest.raises(ValueError, match="eps_ee_dV"):
        exp.chi2_batch(np.array([[0.0, 0.0], [0.1, bad]]))
    with pytest.raises(ValueError, match="eps_ee_uV"):
        exp.fit({"eps_ee_uV": bad})


def test_non_finite_scenario_parameters_are_refused():
    from cevnsfast.likelihood.models import model_experiment

    exp = model_experiment("nai", "leptoquark_s1")
    assert np.isfinite(exp.chi2_batch(np.array([[1e7, 1.0]]))).all()  # heavy S1: in range
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="mass_mev"):
            exp.chi2_batch(np.array([[bad, 1.0]]))
    result = CliRunner().invoke(
        main, ["scenario", "nai", "leptoquark_s1", "--set", "mass_mev=nan", "--set", "g=1"]
    )
    assert result.exit_code != 0 and "finite" in result.output


def test_non_finite_chi2_is_never_converged_and_json_stays_strict():
    result = FitResult("x", {}, float("nan"), 3, {"alpha": float("inf")}, {})
    assert not result.converged and "not finite" in result.reason
    from cevnsfast import strict_json

    payload = strict_loads(strict_json.dumps(result.as_dict()))
    assert payload["chi2_min"] is None and payload["nuisances"]["alpha"] is None
    assert payload["converged"] is False and payload["reason"]


def test_json_outputs_are_strict():
    runner = CliRunner()
    for args in (
        ["rates", "nai", "--json"],
        ["fit", "nai", "--json"],
        ["profile", "nai", "--param", "eps_ee_uV", "--range", "-1", "1", "--points", "5", "--json"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        strict_loads(result.output)


# ---- double counting ------------------------------------------------------------------------


@pytest.mark.parametrize("names", ["nai+nai", "nai+cryocsi+nai"])
def test_experiment_twice_is_refused(names):
    with pytest.raises(ValueError, match="nai listed twice"):
        experiment(names, ["eps_ee_uV"])
    result = CliRunner().invoke(main, ["fit", names])
    assert result.exit_code != 0 and "listed twice" in str(result.exception)


def test_csi_twice_is_refused():
    with pytest.raises(ValueError, match="csi2021 listed twice"):
        experiment("csi2021+csi2021")


def test_scenario_experiment_twice_is_refused():
    from cevnsfast.likelihood.models import model_experiment
    from cevnsfast.likelihood.scenarios import SCENARIOS

    with pytest.raises(ValueError, match="listed twice"):
        model_experiment("nai+nai", next(iter(SCENARIOS)))


# ---- damaged data releases ------------------------------------------------------------------


def _release_copy(tmp_path, source):
    shutil.copytree(source, tmp_path / source.name)
    return tmp_path / source.name


def test_release_cut_in_half_is_refused(tmp_path, monkeypatch):
    """(conftest resets the opt-out the CLI's --allow-modified-data sets after each test)"""
    release = _release_copy(tmp_path, CSI_RELEASE)
    events = release / "dataBeamOnC.txt"
    lines = events.read_text().splitlines(keepends=True)
    events.write_text("".join(lines[: len(lines) // 2]))  # cut at a line boundary
    with pytest.raises(DataFormatError, match=r"dataBeamOnC\.txt: differs from the official"):
        csi2021.load_csi2021(tmp_path)
    full = csi2021.load_csi2021()
    half = csi2021.load_csi2021(tmp_path, allow_modified_release=True)  # explicit opt-out
    assert half.observed.sum() < 0.6 * full.observed.sum()
    monkeypatch.setenv("CEVNSFAST_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["fit", "csi2021"])
    assert result.exit_code != 0 and "dataBeamOnC.txt" in str(result.exception)
    allowed = CliRunner().invoke(main, ["--allow-modified-data", "fit", "csi2021", "--json"])
    assert allowed.exit_code == 0, allowed.output


@pytest.mark.parametrize("name", ["datanobkgsub.txt", "LArParametersAnlA.yaml"])
def test_binary_junk_release_file_names_the_file(tmp_path, name):
    release = _release_copy(tmp_path, LAR_RELEASE)
    (release / name).write_bytes(bytes(range(256)) * 8)
    with pytest.raises(DataFormatError, match=rf"{name}: differs from the official"):
        lar2020.load_lar2020(tmp_path)
    with pytest.raises(DataFormatError, match=rf"{name}: is not UTF-8 text"):
        lar2020.load_lar2020(tmp_path, allow_modified_release=True)


def test_binary_junk_csi_file_names_the_file(tmp_path):
    release = _release_copy(tmp_path, CSI_RELEASE)
    (release / "brnPE.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(DataFormatError, match=r"brnPE\.txt: is not UTF-8"):
        csi2021.load_csi2021(tmp_path, allow_modified_release=True)


def test_shipped_releases_match_the_manifest():
    from cevnsfast.data.manifest import manifest, verify_release

    for release, module in ((CSI_RELEASE, csi2021), (LAR_RELEASE, lar2020)):
        assert set(module.RELEASE_FILES) <= set(manifest()[release.name])
        verify_release(release, module.RELEASE_FILES)


def test_numba_imported_first_still_gets_the_source_keyed_cache(tmp_path):
    """numba reads its cache directory once, at import: a script that imports numba before
    cevnsfast must not fall back to the default cache next to the sources, where a kernel
    compiled against an older version of a callee in another module stays valid."""
    code = (
        "import numba\n"
        "import numpy as np\n"
        "import cevnsfast.kernels as k\n"
        "k.quadratic_form(np.zeros((1, 1, 2)), np.ones(1))\n"
        "print(k.quadratic_form._cache.cache_path)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    cache_path = done.stdout.strip()
    assert cache_path.startswith(str(tmp_path / "cevnsfast" / "numba")), cache_path
