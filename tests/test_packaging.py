"""The package is self-contained: its data, specs and metadata ship with it."""

import hashlib
import tomllib
from pathlib import Path

from click.testing import CliRunner

import cevnsfast
from cevnsfast.cli import main
from cevnsfast.paths import BUNDLED_DATA_DIR, DATA_DIR_ENV, build_package_dir, data_dir

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_listed_for_the_wheel():
    """The package list is explicit (build_tables/ is mapped to cevnsfast.build_tables): a
    new subpackage missing from it would be absent from the wheel."""
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "cevnsfast").rglob("__init__.py")
    }
    found.add("cevnsfast.build_tables")
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == found


def test_no_generic_top_level_package_is_installed():
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert all(p.split(".")[0] == "cevnsfast" for p in setuptools["packages"])
    assert setuptools["package-dir"] == {"cevnsfast.build_tables": "build_tables"}
    assert build_package_dir().resolve() == (ROOT / "build_tables").resolve()


def test_bundled_releases_are_the_default_and_identical_to_the_sources(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert data_dir() == BUNDLED_DATA_DIR
    for release in ("coherent-csi-2021", "coherent-lar-2020"):
        assert (BUNDLED_DATA_DIR / release).is_dir()
    shared = ROOT.parent / "shared" / "data"
    if shared.is_dir():  # where the copies came from (not needed at run time)
        for path in shared.glob("coherent-*/*"):
            bundled = BUNDLED_DATA_DIR / path.parent.name / path.name
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert hashlib.sha256(bundled.read_bytes()).hexdigest() == digest, path.name


def test_one_version_source_and_publishing_files():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "cevnsfast.__version__"
    }
    assert "version" not in PYPROJECT["project"]
    for name in ("LICENSE", "CITATION.cff", "cevnsfast/py.typed"):
        assert (ROOT / name).is_file(), name
    assert f"version: {cevnsfast.__version__}" in (ROOT / "CITATION.cff").read_text()
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and cevnsfast.__version__ in result.output


def test_path_options_after_the_subcommand(tmp_path, monkeypatch):
    """``--data-dir`` after the subcommand reaches the loaders (the README promises both)."""
    # set first so that monkeypatch restores the variable: the CLI writes it to os.environ
    monkeypatch.setenv(DATA_DIR_ENV, "")
    monkeypatch.delenv(DATA_DIR_ENV)
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(main, ["fit", "csi2021", "--data-dir", str(missing)])
    assert result.exit_code != 0
    assert str(missing) in str(result.exception) + result.output
