"""The same scan on a Dask LocalCluster (worker processes) gives the local run's store."""

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
