"""Result stores: labelled Zarr layout, interruption and resume, CSV export."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from cevnsfast.scan.grid import GridScan, run_scan
from cevnsfast.scan.spec import ScanSpec
from cevnsfast.scan.store import ScanStore, chunk_slices, open_scan, to_csv

SPEC = ScanSpec(
    "nai+cryocsi",
    ("eps_ee_uV=-0.4:0.6:21", "eps_mumu_uV=-0.3:0.5:17"),
    profiled=("eps_ee_dV=-0.5:0.5:11",),
    chunks=(6, 9),
)  # 4 × 2 chunks, the last ones partial


@pytest.fixture(scope="module")
def scanner(tables_dir):
    return GridScan(SPEC, tables_dir=tables_dir)


@pytest.fixture(scope="module")
def reference(scanner, tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "scan.zarr"
    run_scan(scanner, path, progress=False)
    return open_scan(path)


class Stop(Exception):
    pass


def interrupt(idx):
    raise KeyboardInterrupt


def test_store_layout_and_attributes(reference):
    ds = reference
    assert ds["chi2"].dims == ("eps_ee_uV", "eps_mumu_uV")
    assert ds["best_eps_ee_dV"].shape == (21, 17)
    assert np.isfinite(ds["chi2"].values).all()
    for dim in ds["chi2"].dims:
        assert ds[dim].attrs["units"] == "1 (units of G_F)"
    attrs = ds.attrs
    assert attrs["experiments"] == "nai+cryocsi" and attrs["parts"] == ["nai", "cryocsi"]
    assert attrs["couplings"] == ["eps_ee_uV", "eps_mumu_uV", "eps_ee_dV"]
    assert attrs["profiled"] == ["eps_ee_dV"] and attrs["fixed"] == {}
    assert attrs["spec"]["chunks"] == [6, 9]
    assert len(attrs["table_hashes"]["nai"]) == 64 and len(attrs["table_hashes"]["cryocsi"]) == 64
    assert attrs["chunks_done"] == attrs["chunks_total"] == 8
    assert ScanSpec.from_dict(attrs["spec"]) == SPEC


def test_interrupted_scan_resumes_without_recomputing(scanner, reference, tmp_path):
    path = tmp_path / "scan.zarr"
    done = []

    def stop_after_three(idx):
        done.append(idx)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(scanner, path, progress=False, on_chunk=stop_after_three)
    partial = open_scan(path)
    assert partial.attrs["chunks_done"] == 3
    assert np.isnan(partial["chi2"].values).sum() > 0

    with pytest.raises(FileExistsError, match="--resume"):
        run_scan(scanner, path, progress=False)
    recomputed = []
    ds = run_scan(scanner, path, resume=True, progress=False, on_chunk=recomputed.append)
    assert len(recomputed) == 8 - 3
    assert not set(recomputed) & set(done)
    xr.testing.assert_identical(ds, reference)
    xr.testing.assert_identical(open_scan(path), reference)
    # a finished store resumes to itself without computing anything
    again = []
    run_scan(scanner, path, resume=True, progress=False, on_chunk=again.append)
    assert again == []


def test_chunk_killed_between_data_and_marker_is_recomputed(scanner, reference, tmp_path):
    """Data written, process dies before the marker: the chunk is not counted as done."""
    path = tmp_path / "scan.zarr"
    original = ScanStore.write_chunk
    calls = []

    def dying_write(self, index, arrays):
        calls.append(index)
        if len(calls) == 2:
            region = chunk_slices(index, self.chunks, self.shape)
            shape = tuple(s.stop - s.start for s in region)
            self.group["chi2"][region] = np.full(shape, 12345.0)  # garbage, then no marker
            raise Stop
        original(self, index, arrays)

    ScanStore.write_chunk = dying_write
    try:
        with pytest.raises(Stop):
            run_scan(scanner, path, progress=False)
    finally:
        ScanStore.write_chunk = original
    st = ScanStore.open(path)
    assert st.done_mask().sum() == 1
    recomputed = []
    ds = run_scan(scanner, path, resume=True, progress=False, on_chunk=recomputed.append)
    assert len(recomputed) == 7 and calls[1] in recomputed
    xr.testing.assert_identical(ds, reference)


def test_resume_refuses_a_different_scan(scanner, tmp_path, tables_dir):
    path = tmp_path / "scan.zarr"
    with pytest.raises(KeyboardInterrupt):
        run_scan(scanner, path, progress=False, on_chunk=interrupt)
    other = ScanSpec("nai+cryocsi", ("eps_ee_uV=-0.4:0.6:21", "eps_mumu_uV=-0.3:0.5:18"))
    with pytest.raises(ValueError, match="cannot resume"):
        run_scan(other, path, resume=True, progress=False, tables_dir=tables_dir)


def test_killed_process_resumes_to_the_same_store(reference, tmp_path, tables_dir):
    """SIGKILL a CLI scan after some chunks are marked done; resume; compare."""
    path = tmp_path / "scan.zarr"
    main = "from cevnsfast.cli import main; main()"
    args = [sys.executable, "-c", main, "--tables-dir", str(tables_dir), "scan",
            "nai+cryocsi", "--param", "eps_ee_uV=-0.4:0.6:21", "--param",
            "eps_mumu_uV=-0.3:0.5:17", "--profile", "eps_ee_dV=-0.5:0.5:11", "--chunk", "1,1",
            "--out", str(path), "--no-progress"]  # fmt: skip
    spec_1x1 = ScanSpec(SPEC.experiments, SPEC.axes, profiled=SPEC.profiled, chunks=(1, 1))
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if (path / "zarr.json").exists():
                try:
                    done = int(ScanStore.open(path).done_mask().sum())
                except Exception:  # store still being created
                    done = 0
                if done >= 20:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    st = ScanStore.open(path)
    n_done = int(st.done_mask().sum())
    assert 20 <= n_done < 21 * 17
    recomputed = []
    ds = run_scan(
        spec_1x1, path, resume=True, progress=False, tables_dir=tables_dir,
        on_chunk=recomputed.append,
    )  # fmt: skip
    assert len(recomputed) == 21 * 17 - n_done
    xr.testing.assert_equal(ds, reference)  # same numbers; attrs differ only in chunks


def test_csv_export(reference, tmp_path):
    path = to_csv(reference, tmp_path / "scan.csv")
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# experiments: nai+cryocsi")
    header = lines[3].split(",")
    assert header == ["eps_ee_uV", "eps_mumu_uV", "chi2", "delta_chi2", "best_eps_ee_dV"]
    table = np.loadtxt(path, delimiter=",", skiprows=4)
    assert table.shape == (21 * 17, 5)
    chi2 = reference["chi2"].values
    assert table[:, 2] == pytest.approx(chi2.ravel(), rel=1e-9)
    assert table[:, 3].min() == pytest.approx(0.0, abs=1e-12)
    i, j = 5, 11  # row order: C order over (eps_ee_uV, eps_mumu_uV)
    row = table[i * 17 + j]
    assert row[0] == pytest.approx(reference["eps_ee_uV"].values[i])
    assert row[1] == pytest.approx(reference["eps_mumu_uV"].values[j])


def test_overwrite_replaces_only_scan_stores(scanner, tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a scan store"):
        run_scan(scanner, other, overwrite=True, progress=False)
    assert (other / "keep.txt").exists()
    path = tmp_path / "scan.zarr"
    with pytest.raises(KeyboardInterrupt):
        run_scan(scanner, path, progress=False, on_chunk=interrupt)
    ds = run_scan(scanner, path, overwrite=True, progress=False)
    assert ds.attrs["chunks_done"] == 8
