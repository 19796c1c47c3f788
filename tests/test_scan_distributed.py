"""The same scan on a Dask LocalCluster (worker processes) gives the local run's store."""

import json

import numpy as np
import pytest
import xarray as xr
import zarr

from cevnsfast.scan.distributed import local_cluster, run_scan_dask
from cevnsfast.scan.grid import GridScan, run_scan
from cevnsfast.scan.spec import ScanSpec
from cevnsfast.scan.store import open_scan

SPEC = ScanSpec(
    "nai+cryocsi",
    ("eps_ee_uV=-0.4:0.6:19", "eps_ee_dV=-0.5:0.5:15"),
    profiled=("eps_mumu_uV=-0.5:0.5:11",),
    chunks=(5, 8),
)


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client

    cluster = local_cluster(2, numba_threads=1)
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def local_store(tables_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("local") / "scan.zarr"
    run_scan(GridScan(SPEC, tables_dir=tables_dir), path, progress=False)
    return path


def _raw(path):
    """Every array of a store, and the group attributes."""
    group = zarr.open_group(str(path), mode="r")
    return {name: arr[...] for name, arr in group.arrays()}, dict(group.attrs)


def test_dask_store_identical_to_local(client, local_store, tables_dir, tmp_path):
    path = tmp_path / "scan.zarr"
    ds = run_scan_dask(SPEC, path, client=client, progress=False, tables_dir=tables_dir)
    xr.testing.assert_identical(ds, open_scan(local_store))
    local_arrays, local_attrs = _raw(local_store)
    dask_arrays, dask_attrs = _raw(path)
    assert dask_attrs == local_attrs
    assert local_arrays.keys() == dask_arrays.keys()
    for name, values in local_arrays.items():
        np.testing.assert_array_equal(dask_arrays[name], values, err_msg=name)
    assert ds.attrs["chunks_done"] == ds.attrs["chunks_total"] == 8
    # the workers ran in their own processes
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2


def test_local_interruption_resumed_on_dask(client, local_store, tables_dir, tmp_path):
    path = tmp_path / "scan.zarr"
    done = []

    def stop(idx):
        done.append(idx)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(SPEC, path, progress=False, on_chunk=stop, tables_dir=tables_dir)
    ds = run_scan_dask(
        SPEC, path, client=client, resume=True, progress=False, tables_dir=tables_dir
    )
    xr.testing.assert_identical(ds, open_scan(local_store))
    _, attrs = _raw(path)
    assert attrs == _raw(local_store)[1]


def test_worker_setup_once_per_worker(client, tables_dir, tmp_path):
    """The scan's worker plugin builds the experiment on every worker before any task, and
    a second scan of the same spec re-uses plugin and experiment (registration is idempotent:
    the set-up does not run again)."""
    from cevnsfast.scan import distributed

    def state(dask_worker):
        plugins = {k: id(p) for k, p in dask_worker.plugins.items() if k.startswith("cevnsfast")}
        return {k: id(s) for k, s in distributed._SCANNERS.items()}, plugins

    run_scan_dask(SPEC, tmp_path / "a.zarr", client=client, progress=False, tables_dir=tables_dir)
    first = client.run(state)
    run_scan_dask(SPEC, tmp_path / "b.zarr", client=client, progress=False, tables_dir=tables_dir)
    assert client.run(state) == first  # the same objects: nothing rebuilt or set up again
    for scanners, plugins in first.values():
        assert SPEC.as_dict() in [json.loads(key)[0] for key in scanners]
        assert plugins


def test_store_recreated_at_same_path(client, local_store, tables_dir, tmp_path):
    """Workers keep the run's store open; a store re-created at the same path by a scan of
    another shape must not be written through the old handle."""
    path = tmp_path / "scan.zarr"
    other = ScanSpec("nai+cryocsi", ("eps_ee_uV=-0.4:0.6:7", "eps_ee_dV=-0.5:0.5:4"), chunks=(2, 4))
    run_scan_dask(other, path, client=client, progress=False, tables_dir=tables_dir)
    ds = run_scan_dask(
        SPEC, path, client=client, overwrite=True, progress=False, tables_dir=tables_dir
    )
    xr.testing.assert_identical(ds, open_scan(local_store))
