"""Provenance, staleness and atomicity of the Zarr tables."""

import shutil

import numpy as np
import pytest
import zarr

from cevnsfast import tables
from cevnsfast.build_tables.build import build_detector
from cevnsfast.detectors.spec import SHIPPED_SPEC_DIR, load_spec
from cevnsfast.rates import RatePredictor, load_detector_table
from cevnsfast.tables import TableError


@pytest.fixture
def own_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("CEVNSFAST_TABLES_DIR", str(tmp_path / "tables"))
    return tmp_path / "tables"


def _spec_copy(tmp_path, name="cryocsi"):
    path = tmp_path / f"{name}.toml"
    shutil.copy(SHIPPED_SPEC_DIR / f"{name}.toml", path)
    return path


def test_table_records_provenance(tables_dir):
    table = load_detector_table("nai", tables_dir)
    attrs = table.attrs
    assert attrs["detector"] == "nai" and attrs["spec"]["target"]["mass_kg"] == 3395.7
    assert attrs["package_version"] and attrs["settings"] == {"panels": 24, "nodes": 16}
    assert len(attrs["input_hash"]) == 64
    assert attrs["couplings"][0] == "SM"
    tensor = table.arrays["tensor"]
    np.testing.assert_array_equal(tensor, np.swapaxes(tensor, 1, 2))  # symmetric in (i, j)


def test_changed_spec_gets_its_own_table(tmp_path, own_tables):
    spec = _spec_copy(tmp_path)
    build_detector(spec, directory=own_tables)
    before = RatePredictor(spec, directory=own_tables).counts()
    spec.write_text(spec.read_text().replace("mass_kg = 10.0", "mass_kg = 11.0"))
    with pytest.raises(TableError, match=r"no table at .*cevnsfast build .*cryocsi.toml"):
        load_detector_table(spec, own_tables, build_missing=False)
    after = RatePredictor(spec, directory=own_tables).counts()  # built beside the old one
    np.testing.assert_allclose(after, 1.1 * before, rtol=1e-12)
    assert len(list(own_tables.glob("cryocsi-*.zarr"))) == 2


def test_changed_code_makes_table_stale(tmp_path, own_tables, monkeypatch):
    spec = _spec_copy(tmp_path)
    build_detector(spec, directory=own_tables)
    monkeypatch.setattr(tables, "code_hash", lambda: "edited")
    with pytest.raises(TableError, match=r"stale.*cevnsfast build .*cryocsi.toml --force"):
        RatePredictor(spec, directory=own_tables)
    assert build_detector(spec, directory=own_tables).built  # the rebuild fixes it
    RatePredictor(spec, directory=own_tables)


def test_missing_table_is_built_or_reported(own_tables):
    with pytest.raises(TableError, match="cevnsfast build nai"):
        load_detector_table("nai", own_tables, build_missing=False)
    assert RatePredictor("nai", directory=own_tables).counts().sum() > 0


def test_only_changed_detectors_rebuild(tmp_path, own_tables):
    nai = _spec_copy(tmp_path, "nai")
    cryo = _spec_copy(tmp_path, "cryocsi")
    assert build_detector(nai, directory=own_tables).built
    assert build_detector(cryo, directory=own_tables).built
    cryo.write_text(cryo.read_text().replace("distance_m = 19.3", "distance_m = 20.0"))
    assert not build_detector(nai, directory=own_tables).built
    assert build_detector(cryo, directory=own_tables).built


def test_interrupted_write_keeps_previous_table(tmp_path, own_tables, monkeypatch):
    spec = _spec_copy(tmp_path)
    build_detector(spec, directory=own_tables)
    before = RatePredictor(spec, directory=own_tables).counts()
    calls = {"n": 0}
    original = zarr.Group.create_array

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated interruption")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(zarr.Group, "create_array", failing)
    with pytest.raises(KeyboardInterrupt):
        build_detector(spec, directory=own_tables, force=True)
    monkeypatch.setattr(zarr.Group, "create_array", original)

    path = tables.table_path("cryocsi", load_spec(spec).hash(), own_tables)
    assert sorted(p.name for p in own_tables.glob("*.zarr*")) == [path.name, path.name + ".lock"]
    assert tables.stored_hash(path) is not None  # no debris, the old table intact
    np.testing.assert_array_equal(RatePredictor(spec, directory=own_tables).counts(), before)


def test_load_cache_serves_an_unchanged_table_once(tmp_path, own_tables):
    spec = _spec_copy(tmp_path)
    build_detector(spec, directory=own_tables)
    first = load_detector_table(spec, own_tables, build_missing=False)
    again = load_detector_table(spec, own_tables, build_missing=False)
    assert again is first  # read and verified once
    on_disk = zarr.open_group(first.path, mode="r")
    for name, value in first.arrays.items():
        np.testing.assert_array_equal(value, on_disk[name][...])


def test_load_cache_never_serves_a_rebuilt_table(tmp_path, own_tables):
    spec = _spec_copy(tmp_path)
    build_detector(spec, directory=own_tables)
    before = load_detector_table(spec, own_tables, build_missing=False)
    assert build_detector(spec, directory=own_tables, force=True).built
    after = load_detector_table(spec, own_tables, build_missing=False)
    assert after is not before  # new files on disk: read and verified again
    for name, value in before.arrays.items():
        np.testing.assert_array_equal(after.arrays[name], value)


def test_load_cache_notices_damage_after_the_first_load(tmp_path, own_tables):
    spec = _spec_copy(tmp_path)
    path = build_detector(spec, directory=own_tables).path
    load_detector_table(spec, own_tables, build_missing=False)
    assert tables.stored_hash(path) is not None
    chunk = sorted(p for p in (path / "tensor" / "c").rglob("*") if p.is_file())[0]
    blob = bytearray(chunk.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # same size: only the file's times and content change
    chunk.write_bytes(bytes(blob))
    with pytest.raises(TableError, match="damaged"):
        load_detector_table(spec, own_tables, build_missing=False)
    assert tables.stored_hash(path) is None
