"""N-dimensional profile-likelihood grid scans over couplings.

A scan is a regular grid over some couplings (the *axes*, ``NAME=LO:HI:N``). At every grid
point the experiment's χ² is evaluated with all its nuisances profiled (``chi2_batch``); every
other coupling the scan names is either *fixed* at a value or *profiled*: minimised over a
bounded range at each grid point (method in :func:`profile_min`).

The grid is cut into chunks (default about 10⁴ points each, :func:`default_chunks`); a chunk is
computed in one go (one ``chi2_batch`` call without profiled couplings) and written to a
:class:`~cevnsfast.scan.store.ScanStore` with a completion marker, so an interrupted scan
resumes without recomputing finished chunks. Results come back as an ``xarray.Dataset``
(dims named after the axes; ``chi2`` and, per profiled coupling, ``best_<name>``).

Couplings are dimensionless (in units of G_F); χ² is dimensionless.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import minimum_filter

from cevnsfast.likelihood.base import Experiment
from cevnsfast.likelihood.registry import parameter_unit
from cevnsfast.scan import store as _store
from cevnsfast.scan.minimize import finite_or_inf, minimize_batched
from cevnsfast.scan.spec import ScanSpec, chunk_slices

# Below this many points a parallel kernel launch costs more than it saves (the profiling
# polish, refinement and best-fit steps make many small calls); on a loaded machine waking
# the thread pool can take milliseconds.
SERIAL_BELOW = 2048
SCAN_FORMAT = 1


# ---------------------------------------------------------------------------------------------
# Evaluating the grid


def build_experiment(
    spec: ScanSpec, tables_dir: Path | None = None, data_dir: Path | None = None
) -> Experiment:
    """The experiment (or combination) of ``spec`` with the scan's coupling columns."""
    from cevnsfast.likelihood.registry import experiment

    return experiment(
        spec.experiments,
        spec.coupling_names,
        tables_dir=tables_dir,
        data_dir=data_dir,
        model=spec.model,
    )


def table_hashes(exp: Experiment) -> dict[str, str]:
    """Input hash of each part's response table (provenance of the scan)."""
    out = {}
    for part in getattr(exp, "parts", [exp]):
        table = getattr(getattr(part, "predictor", None), "table", None)
        if table is not None:
            out[part.name] = str(table.attrs.get("input_hash"))
    return out


@contextmanager
def _one_numba_thread() -> Iterator[None]:
    """Run numba parallel kernels on the calling thread only (thread-local setting)."""
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


class GridScan:
    """Evaluates a :class:`ScanSpec` on its experiment: points, chunks, profiled minima."""

    def __init__(
        self,
        spec: ScanSpec,
        experiment: Experiment | None = None,
        tables_dir: Path | None = None,
        data_dir: Path | None = None,
    ):
        self.spec = spec
        self.tables_dir, self.data_dir = tables_dir, data_dir  # where workers find the same
        self.experiment = experiment or build_experiment(spec, tables_dir, data_dir)
        if list(self.experiment.coupling_names) != spec.coupling_names:
            raise ValueError(
                f"experiment couplings {self.experiment.coupling_names} differ from the scan's "
                f"{spec.coupling_names}"
            )
        self._fixed = np.array(list(spec.fixed.values()), dtype=float)
        self.n_calls = 0  # chi2_batch calls made (tests count them)

    def _chi2(self, points: np.ndarray) -> np.ndarray:
        """chi2_batch in slices of at most ``max_rows`` points; small batches on one thread."""
        limit = self.spec.profile.max_rows
        self.n_calls += 1
        if points.shape[0] < SERIAL_BELOW:
            with _one_numba_thread():
                return finite_or_inf(self.experiment.chi2_batch(points))
        if points.shape[0] <= limit:
            return finite_or_inf(self.experiment.chi2_batch(points))
        return np.concatenate(
            [
                finite_or_inf(self.experiment.chi2_batch(points[i : i + limit]))
                for i in range(0, points.shape[0], limit)
            ]
        )

    def evaluate(self, axis_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """χ² at points (n, n_axes) of the axis couplings, and the profiled couplings' best
        values (n, n_profiled); non-finite χ² is returned as +inf."""
        axis_points = np.atleast_2d(np.asarray(axis_points, dtype=float))
        n = axis_points.shape[0]
        base = np.empty((n, axis_points.shape[1] + self._fixed.size))
        base[:, : axis_points.shape[1]] = axis_points
        base[:, axis_points.shape[1] :] = self._fixed
        if not self.spec.profiled:
            return self._chi2(base), np.empty((n, 0))
        return self.profile_min(base)

    def profile_min(self, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Minimum of χ² over the profiled couplings at each row of ``base`` (axes + fixed).

        Method: χ² on the coarse grid of the profiled ranges (``Axis.n`` nodes each); the
        ``candidates`` lowest local minima of that grid seed :func:`minimize_batched`, whose
        best result is kept. Accuracy: converged minima are located to ``xtol`` of each range
        (χ² error ≲ ½ χ'' (xtol·range)², negligible); a minimum whose basin holds no coarse
        node, or a third local minimum lower than the two polished ones, can be missed, so the
        coarse spacing should be below the width of the χ² valleys. A minimum on the range's
        edge means the range is too small (check ``best_<name>``).
        """
        prof = self.spec.profiled
        k = len(prof)
        coarse = np.stack(
            [g.ravel() for g in np.meshgrid(*(a.values for a in prof), indexing="ij")], axis=1
        )
        n_coarse = coarse.shape[0]
        rows_per_call = max(1, self.spec.profile.max_rows // n_coarse)
        chi2 = np.empty(base.shape[0])
        best = np.empty((base.shape[0], k))
        for start in range(0, base.shape[0], rows_per_call):
            block = base[start : start + rows_per_call]
            c, b = self._profile_block(block, coarse, prof)
            chi2[start : start + block.shape[0]] = c
            best[start : start + block.shape[0]] = b
        return chi2, best

    def _profile_block(self, block, coarse, prof) -> tuple[np.ndarray, np.ndarray]:
        r, k, n_coarse = block.shape[0], len(prof), coarse.shape[0]
        pts = np.concatenate([np.repeat(block, n_coarse, axis=0), np.tile(coarse, (r, 1))], axis=1)
        vals = self._chi2(pts).reshape(r, *(a.n for a in prof))
        local = vals <= minimum_filter(vals, size=(1,) + (3,) * k, mode="nearest")
        flat = np.where(local, vals, np.inf).reshape(r, n_coarse)
        n_cand = min(self.spec.profile.candidates, n_coarse)
        order = np.argsort(flat, axis=1, kind="stable")[:, :n_cand]
        f0 = np.take_along_axis(flat, order, axis=1)
        x0 = coarse[order]  # (r, n_cand, k)
        owner = np.repeat(np.arange(r), n_cand)
        keep = np.isfinite(f0.ravel())
        x = x0.reshape(r * n_cand, k).copy()
        f = f0.ravel().copy()
        if keep.any():
            width = block.shape[1]

            def fun(rows: np.ndarray, points: np.ndarray) -> np.ndarray:
                full = np.empty((rows.size, width + k))
                full[:, :width] = block[owner[keep][rows]]
                full[:, width:] = points
                return self._chi2(full)

            settings = self.spec.profile
            x[keep], f[keep] = minimize_batched(
                fun,
                x[keep],
                f[keep],
                np.array([a.step for a in prof]),
                np.array([a.lo for a in prof]),
                np.array([a.hi for a in prof]),
                settings.xtol,
                settings.max_iter,
            )
        f = f.reshape(r, n_cand)
        pick = np.argmin(f, axis=1)
        return f[np.arange(r), pick], x.reshape(r, n_cand, k)[np.arange(r), pick]

    def chunk_points(self, index: Sequence[int]) -> tuple[tuple[slice, ...], np.ndarray]:
        """The slices of chunk ``index`` and its points (n, n_axes), C order."""
        slices = chunk_slices(self.spec, index)
        values = [a.values[s] for a, s in zip(self.spec.axes, slices, strict=True)]
        grids = np.meshgrid(*values, indexing="ij")
        return slices, np.stack([g.ravel() for g in grids], axis=1)

    def compute_chunk(
        self, index: Sequence[int]
    ) -> tuple[tuple[slice, ...], dict[str, np.ndarray]]:
        """χ² (and profiled best values) of one chunk, as arrays of the chunk's shape."""
        slices, points = self.chunk_points(index)
        shape = tuple(s.stop - s.start for s in slices)
        chi2, best = self.evaluate(points)
        out = {"chi2": chi2.reshape(shape)}
        for j, a in enumerate(self.spec.profiled):
            out[f"best_{a.name}"] = best[:, j].reshape(shape)
        return slices, out

    def metadata(self) -> dict[str, Any]:
        """Store attributes: what was scanned, with which settings and tables."""
        from cevnsfast import __version__

        spec = self.spec
        return {
            "cevnsfast_scan": SCAN_FORMAT,
            "experiments": spec.experiments,
            "parts": [p.name for p in getattr(self.experiment, "parts", [self.experiment])],
            "couplings": spec.coupling_names,
            "axes": spec.axis_names,
            "fixed": dict(spec.fixed),
            "profiled": [a.name for a in spec.profiled],
            "spec": spec.as_dict(),
            "table_hashes": table_hashes(self.experiment),
            "chi2_definition": "χ², nuisances profiled, profiled couplings minimised",
            "package_version": __version__,
        }


# ---------------------------------------------------------------------------------------------
# Running a scan locally


def open_or_create_store(
    scanner: GridScan, out: Path | str | None, resume: bool, overwrite: bool = False
) -> _store.ScanStore:
    """A new store for the scan, or (``resume``) the existing one after checking it matches."""
    spec = scanner.spec
    meta = scanner.metadata()
    if resume and out is not None and _store.store_exists(out):
        st = _store.ScanStore.open(out, mode="r+")
        st.check_compatible(meta, keys=("spec", "table_hashes", "experiments"))
        return st
    variables = {"chi2": {"long_name": "chi2 (nuisances profiled)", "units": "1"}}
    for a in spec.profiled:
        variables[f"best_{a.name}"] = {
            "long_name": f"profiled best-fit {a.name}",
            "units": parameter_unit(a.name, spec.model),
        }
    coords = {
        a.name: (a.values, {"units": parameter_unit(a.name, spec.model), "long_name": a.name})
        for a in spec.axes
    }
    return _store.ScanStore.create(
        out, spec.axis_names, coords, spec.chunks, variables, meta, overwrite=overwrite
    )


def progress_bar(total: int, initial: int, enabled: bool, desc: str):
    """tqdm bar in grid points: shows points/s and the time left."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="pt",
        unit_scale=True,
        desc=desc,
        disable=not enabled,
        smoothing=0.05,
        dynamic_ncols=True,
    )


def run_scan(
    scan: ScanSpec | GridScan,
    out: Path | str | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    on_chunk: Callable[[tuple[int, ...]], None] | None = None,
    tables_dir: Path | None = None,
    data_dir: Path | None = None,
):
    """Run a scan chunk by chunk in this process; returns the result as an ``xarray.Dataset``.

    ``out``: Zarr store path (None: in memory). ``resume``: continue the store at ``out``,
    computing only chunks without a completion marker (the store must come from the same
    spec and tables). ``on_chunk(index)`` is called after each chunk is stored (progress
    hooks, tests). Ctrl-C leaves every finished chunk in the store.
    """
    scanner = scan if isinstance(scan, GridScan) else GridScan(scan, None, tables_dir, data_dir)
    st = open_or_create_store(scanner, out, resume, overwrite)
    pending = st.pending()
    sizes = {idx: st.chunk_size(idx) for idx in pending}
    total = scanner.spec.n_points
    with progress_bar(
        total, total - sum(sizes.values()), progress, scanner.spec.experiments
    ) as bar:
        for idx in pending:
            t0 = time.perf_counter()
            _, arrays = scanner.compute_chunk(idx)
            st.write_chunk(idx, arrays)
            bar.update(sizes[idx])
            bar.set_postfix_str(f"chunk {time.perf_counter() - t0:.2f} s", refresh=False)
            if on_chunk is not None:
                on_chunk(idx)
    return st.to_dataset()
