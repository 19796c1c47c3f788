"""The same grid scan on a Dask cluster: one task per chunk, each writing its own store region.

The client creates (or, on resume, checks) the store and builds the experiment once, which also
builds any missing tables before the workers start. A worker plugin (:class:`ScanWorkerSetup`,
registered once per scan) then builds each worker's experiment — tables loaded and kernels
loaded from numba's cache once per worker process, also on workers that join later — so tasks
carry only a chunk index, the scan spec as a dict and paths (numba objects and tables never
travel) and find the experiment in the worker's cache; each worker also opens the store once
per run. A task writes its chunk and then its completion marker, exactly as the local run
does, so the store is identical to a local run's and an interrupted distributed scan resumes
locally or on Dask alike. Workers must see the store path (same machine or shared file system).

Scaling: a chunk is one task, so the chunk count should be several times the worker count
(401×401 with the default chunks is 17 tasks: 2 workers get 9 and 8, at most 1.89× one worker;
``--chunk 12,401`` gives 34). The local cluster runs with Dask's periodic self-monitoring
slowed (:data:`QUIET_CLUSTER`), which otherwise takes about a tenth of a core on an idle
2-core machine.
"""

import os
import uuid
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from cevnsfast.scan.grid import GridScan, open_or_create_store, progress_bar
from cevnsfast.scan.spec import ScanSpec
from cevnsfast.scan.store import ScanStore

_SCANNERS: dict[str, GridScan] = {}  # per worker process: spec JSON → scanner
_STORE: dict[str, ScanStore] = {}  # per worker process: the store of the current run

# Dask settings of our local clusters. The defaults sample every worker's stack every 10 ms
# (statistical profiler), check event-loop blockage every 20 ms and poll system metrics every
# 0.5 s: 13 % of a core with 2 idle workers on this 2-core machine (3.5 % with these
# settings), CPU a machine with as many cores as workers takes from the scan itself.
QUIET_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


def _worker_scanner(spec_dict: dict[str, Any], sources: dict[str, str | None]) -> GridScan:
    import json

    key = json.dumps([spec_dict, sources], sort_keys=True)
    if key not in _SCANNERS:
        tables = sources.get("tables_dir")
        data = sources.get("data_dir")
        _SCANNERS[key] = GridScan(
            ScanSpec.from_dict(spec_dict),
            tables_dir=Path(tables) if tables else None,
            data_dir=Path(data) if data else None,
        )
    return _SCANNERS[key]


def _set_threads(numba_threads: int | None) -> None:
    import numba
    from numba.core import config

    # the Nanny sets the worker's NUMBA_NUM_THREADS after numba was imported (unpickling):
    # read it before the thread pool starts, or numba refuses the change at the next compile
    config.reload_config()
    if numba_threads:
        numba.set_num_threads(min(int(numba_threads), numba.config.NUMBA_NUM_THREADS))


def prepare_worker(
    spec_dict: dict[str, Any], sources: dict[str, str | None], numba_threads: int | None
) -> int:
    """Build the worker's experiment and load its kernels (one tiny evaluation) up front."""
    _set_threads(numba_threads)
    scanner = _worker_scanner(spec_dict, sources)
    scanner.evaluate(scanner.chunk_points((0,) * len(scanner.spec.axes))[1][:1])
    return os.getpid()


class ScanWorkerSetup(WorkerPlugin):
    """Dask worker plugin: :func:`prepare_worker` on every worker, present and future.

    ``name`` is derived from the scan and the plugin is ``idempotent``, so registering the
    same scan twice is a no-op (set-up is not repeated) and a different scan adds its own
    set-up (each worker then caches both experiments).
    """

    idempotent = True

    def __init__(
        self,
        spec_dict: dict[str, Any],
        sources: dict[str, str | None],
        numba_threads: int | None,
    ):
        import hashlib
        import json

        self.spec_dict, self.sources, self.numba_threads = spec_dict, sources, numba_threads
        key = json.dumps([spec_dict, sources, numba_threads], sort_keys=True)
        self.name = "cevnsfast-scan-" + hashlib.sha256(key.encode()).hexdigest()[:16]

    def setup(self, worker) -> None:
        prepare_worker(self.spec_dict, self.sources, self.numba_threads)


def _worker_store(store_path: str, run_id: str) -> ScanStore:
    """The run's store, opened once per worker process (an open reads every array's metadata).

    Keyed by the run as well as the path: a store re-created at the same path (``overwrite``)
    has other arrays, and a stale handle would write into the old layout.
    """
    key = f"{run_id}:{store_path}"
    if key not in _STORE:
        _STORE.clear()
        _STORE[key] = ScanStore.open(store_path, mode="r+")
    return _STORE[key]


def compute_and_write_chunk(
    index: tuple[int, ...],
    spec_dict: dict[str, Any],
    store_path: str,
    sources: dict[str, str | None],
    numba_threads: int | None,
    run_id: str,
) -> int:
    """Dask task: compute chunk ``index`` and write it (data, then marker); returns its size."""
    _set_threads(numba_threads)
    scanner = _worker_scanner(spec_dict, sources)
    _, arrays = scanner.compute_chunk(index)
    store = _worker_store(store_path, run_id)
    store.write_chunk(index, arrays)
    return store.chunk_size(index)


def local_cluster(n_workers: int, numba_threads: int | None = None):
    """A ``LocalCluster`` of ``n_workers`` processes with one task thread each; each worker's
    numba gets ``numba_threads`` threads (default: the CPUs divided among the workers), set
    in its environment so an OpenMP pool never holds more threads than its share. Dask's
    self-monitoring is slowed (:data:`QUIET_CLUSTER`; the workers inherit the setting)."""
    import dask
    from dask.distributed import LocalCluster

    threads = numba_threads or max(1, (os.cpu_count() or 1) // n_workers)
    with dask.config.set(QUIET_CLUSTER):
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"NUMBA_NUM_THREADS": str(threads)},
        )


def run_scan_dask(
    scan: ScanSpec | GridScan,
    out: Path | str,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    numba_threads: int | None = None,
    tables_dir: Path | None = None,
    data_dir: Path | None = None,
    client=None,
):
    """Run a scan on Dask; returns the ``xarray.Dataset`` read back from the store ``out``.

    Connects to ``scheduler`` (an address such as ``tcp://host:8786``), or to an existing
    ``client``, or starts :func:`local_cluster` (``workers`` processes, default 2).
    ``numba_threads`` sets the numba threads of each task (default for a local cluster: the
    CPU count divided among the workers; else numba's default).
    """
    from dask.distributed import Client, as_completed

    from cevnsfast import paths

    if out is None:
        raise ValueError("a Dask scan writes to a store on disk: give out=PATH (--out)")
    scanner = scan if isinstance(scan, GridScan) else GridScan(scan, None, tables_dir, data_dir)
    spec = scanner.spec
    store = open_or_create_store(scanner, out, resume, overwrite)
    pending = store.pending()
    sizes = {idx: store.chunk_size(idx) for idx in pending}
    sources = {
        "tables_dir": str(Path(tables_dir or scanner.tables_dir or paths.tables_dir()).resolve()),
        "data_dir": str(Path(data_dir or scanner.data_dir or paths.data_dir()).resolve()),
    }
    spec_dict = spec.as_dict()
    store_path = str(Path(out).resolve())
    run_id = uuid.uuid4().hex[:12]

    cluster = None
    own_client = client is None
    if client is None:
        if scheduler:
            client = Client(scheduler)
        else:
            n = int(workers or 2)
            numba_threads = numba_threads or max(1, (os.cpu_count() or 1) // n)
            cluster = local_cluster(n, numba_threads)
            client = Client(cluster)
    try:
        if pending:
            client.register_plugin(ScanWorkerSetup(spec_dict, sources, numba_threads))
        futures = [
            client.submit(
                compute_and_write_chunk,
                idx,
                spec_dict,
                store_path,
                sources,
                numba_threads,
                run_id,
                key=f"scan-chunk-{'-'.join(map(str, idx))}-{run_id}",
                pure=False,
            )
            for idx in pending
        ]
        total = spec.n_points
        with progress_bar(total, total - sum(sizes.values()), progress, spec.experiments) as bar:
            try:
                for fut in as_completed(futures):
                    bar.update(fut.result())
            except BaseException:
                client.cancel(futures)
                raise
    finally:
        if own_client:
            client.close()
            if cluster is not None:
                cluster.close()
    return ScanStore.open(out).to_dataset()
