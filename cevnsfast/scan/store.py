"""Scan results as a labelled, chunked Zarr store, written chunk by chunk and resumable.

Layout of a store (a Zarr v3 group)::

    chi2                 float64 [axis_1, …, axis_d]   chunks = the scan's chunks, NaN = not done
    best_<coupling>      float64 [axis_1, …, axis_d]   profiled couplings' best values
    <axis name>          float64 [axis]                coordinate values, attrs: units
    chunk_done           uint8   [chunk grid]          1 = that chunk's data are complete

Every data chunk is one Zarr chunk, written whole (the local store writes each chunk file to a
temporary name and renames it). A chunk's ``chunk_done`` marker is written only after all its
data, so a process killed at any moment never leaves a half-written chunk counted as done;
resuming recomputes exactly the chunks without a marker. Group attributes hold the scan's
description (experiments, couplings, fixed and profiled couplings, settings, table input
hashes). :func:`open_scan` reads a store as an ``xarray.Dataset``; :func:`to_csv` exports it.
"""

import math
from collections.abc import Mapping, Sequence
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import zarr

DONE = "chunk_done"


def chunk_slices(
    index: Sequence[int], chunks: Sequence[int], shape: Sequence[int]
) -> tuple[slice, ...]:
    """Array region of chunk ``index`` (the last chunk along an axis may be shorter)."""
    return tuple(
        slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, chunks, shape, strict=True)
    )


def store_exists(target: Path | str) -> bool:
    return (Path(target) / "zarr.json").is_file()


class ScanStore:
    """A scan's Zarr group: create, find unfinished chunks, write chunks, read as xarray."""

    def __init__(self, group: zarr.Group):
        self.group = group
        self.dims: list[str] = list(group.attrs["dims"])
        self.variables: list[str] = list(group.attrs["variables"])
        # array handles opened once: each open reads the array's metadata from the store
        self.arrays = {name: group[name] for name in [*self.variables, DONE]}
        first = self.arrays[self.variables[0]]
        self.shape: tuple[int, ...] = tuple(first.shape)
        self.chunks: tuple[int, ...] = tuple(first.chunks)

    @classmethod
    def create(
        cls,
        target: Path | str | None,
        dims: Sequence[str],
        coords: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        chunks: Sequence[int],
        variables: Mapping[str, Mapping[str, Any]],
        attrs: Mapping[str, Any],
        overwrite: bool = False,
    ) -> "ScanStore":
        """A new empty store (``target`` None: in memory). An existing store is an error
        unless ``overwrite``; it names ``--resume`` as the way to continue it."""
        if target is not None and Path(target).exists():
            if not overwrite:
                raise FileExistsError(
                    f"{target} already exists: continue it with --resume (resume=True), or "
                    "remove it / pass --overwrite to start again"
                )
            if not store_exists(target) and (Path(target).is_file() or any(Path(target).iterdir())):
                raise FileExistsError(f"{target} is not a scan store: not overwriting it")
        store = zarr.storage.MemoryStore() if target is None else str(target)
        group = zarr.open_group(store, mode="w")
        shape = tuple(len(coords[d][0]) for d in dims)
        for name, var_attrs in variables.items():
            group.create_array(
                name,
                shape=shape,
                chunks=tuple(chunks),
                dtype="f8",
                fill_value=np.nan,
                dimension_names=list(dims),
                attributes=dict(var_attrs),
            )
        for dim in dims:
            values, coord_attrs = coords[dim]
            arr = group.create_array(
                dim,
                shape=(len(values),),
                dtype="f8",
                dimension_names=[dim],
                attributes=dict(coord_attrs),
            )
            arr[:] = np.asarray(values, dtype=float)
        grid = tuple(math.ceil(n / c) for n, c in zip(shape, chunks, strict=True))
        group.create_array(
            DONE,
            shape=grid,
            chunks=(1,) * len(grid),
            dtype="u1",
            fill_value=0,
            dimension_names=[f"chunk_{d}" for d in dims],
            attributes={"long_name": "1 when the chunk's data are complete"},
        )
        group.attrs.update({**attrs, "dims": list(dims), "variables": list(variables)})
        return cls(group)

    @classmethod
    def open(cls, target: Path | str, mode: str = "r") -> "ScanStore":
        if not store_exists(target):
            raise FileNotFoundError(f"no scan store at {target}")
        return cls(zarr.open_group(str(target), mode=mode))

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self.group.attrs)

    def check_compatible(self, attrs: Mapping[str, Any], keys: Sequence[str]) -> None:
        """Refuse to resume a store made by a different scan (or with other tables)."""
        stored = self.attrs
        for key in keys:
            if stored.get(key) != attrs.get(key):
                raise ValueError(
                    f"cannot resume: the store's {key!r} differs from this scan's "
                    f"(store {stored.get(key)!r}, now {attrs.get(key)!r}); use a new --out "
                    "or --overwrite"
                )

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        return tuple(self.arrays[DONE].shape)

    def done_mask(self) -> np.ndarray:
        return np.asarray(self.arrays[DONE][...], dtype=bool)

    def pending(self) -> list[tuple[int, ...]]:
        """Chunks without a completion marker, in C order."""
        done = self.done_mask()
        return [idx for idx in product(*(range(m) for m in self.chunk_grid)) if not done[idx]]

    def chunk_size(self, index: Sequence[int]) -> int:
        return math.prod(s.stop - s.start for s in chunk_slices(index, self.chunks, self.shape))

    def write_chunk(self, index: Sequence[int], arrays: Mapping[str, np.ndarray]) -> None:
        """Write a chunk's data, then (only then) its completion marker."""
        missing = set(self.variables) - set(arrays)
        if missing:
            raise ValueError(f"chunk {tuple(index)} lacks {sorted(missing)}")
        region = chunk_slices(index, self.chunks, self.shape)
        for name in self.variables:
            self.arrays[name][region] = np.asarray(arrays[name], dtype=float)
        self.arrays[DONE][tuple(slice(i, i + 1) for i in index)] = 1

    def to_dataset(self):
        """The store as an ``xarray.Dataset`` (loaded into memory; NaN where not done)."""
        import xarray as xr

        coords = {}
        for dim in self.dims:
            arr = self.group[dim]
            coords[dim] = xr.Variable((dim,), arr[...], attrs=dict(arr.attrs))
        data_vars = {}
        for name in self.variables:
            arr = self.arrays[name]
            data_vars[name] = xr.Variable(tuple(self.dims), arr[...], attrs=dict(arr.attrs))
        done = self.done_mask()
        attrs = {k: v for k, v in self.attrs.items() if k not in ("dims", "variables")}
        attrs |= {"chunks_done": int(done.sum()), "chunks_total": int(done.size)}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def open_scan(path: Path | str):
    """Read a scan store as an ``xarray.Dataset``: ``chi2`` (and ``best_<coupling>``) on dims
    named after the scanned couplings, coordinates with units, the scan's attributes, and
    ``chunks_done``/``chunks_total`` (an unfinished scan has NaN in its missing chunks)."""
    return ScanStore.open(path).to_dataset()


def to_csv(scan, path: Path | str) -> Path:
    """Write a scan (Dataset or store path) as CSV: one row per grid point, columns the axis
    couplings, ``chi2``, ``delta_chi2`` (to the grid minimum) and the profiled best values.
    Leading ``#`` lines give the experiments, fixed couplings and units."""
    ds = scan if not isinstance(scan, str | Path) else open_scan(scan)
    dims = list(ds["chi2"].dims)
    grids = np.meshgrid(*(ds[d].values for d in dims), indexing="ij")
    chi2 = ds["chi2"].values
    finite = chi2[np.isfinite(chi2)]
    ref = float(finite.min()) if finite.size else np.nan
    columns = {d: g.ravel() for d, g in zip(dims, grids, strict=True)}
    columns["chi2"] = chi2.ravel()
    columns["delta_chi2"] = chi2.ravel() - ref
    for name in ds.data_vars:
        if name != "chi2":
            columns[name] = ds[name].values.ravel()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [
        f"# experiments: {ds.attrs.get('experiments', '')}",
        f"# fixed: {ds.attrs.get('fixed', {})}; profiled: {ds.attrs.get('profiled', [])}",
        f"# couplings in {ds[dims[0]].attrs.get('units', '')}; chi2 dimensionless",
    ]
    table = np.column_stack(list(columns.values()))
    with path.open("w", encoding="utf-8") as fh:
        fh.write("\n".join(header) + "\n")
        np.savetxt(fh, table, delimiter=",", header=",".join(columns), comments="", fmt="%.10g")
    return path
