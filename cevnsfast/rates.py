"""Expected CEvNS counts from built tables: the public prediction API.

>>> from cevnsfast.rates import RatePredictor
>>> nai = RatePredictor("nai", couplings=["eps_ee_uV", "eps_ee_dV"])
>>> nai.counts({"eps_ee_uV": 0.1})          # events per reconstructed bin
>>> nai.counts_batch(points)                 # (n_points, n_bins), points (n_points, 2)
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cevnsfast.detectors.spec import load_spec
from cevnsfast.kernels import (
    kernel_layout,
    quadratic_form,
    quadratic_form_batch,
    quadratic_form_grids_into,
)
from cevnsfast.models.couplings import (
    COUPLING_NAMES,
    Coupling,
    check_couplings,
    parse_coupling,
    x_vector,
)
from cevnsfast.profile_kernels import interpolate_shape
from cevnsfast.tables import (
    Table,
    TableError,
    builder,
    detector_rebuild_command,
    input_hash,
    read_table,
    table_path,
)


def load_detector_table(
    name_or_path: str | Path, directory: Path | None = None, build_missing: bool = True
) -> Table:
    """The up-to-date table of a detector. A missing one is built first when a detector-table
    builder is registered (``tables.set_builders``: the CLI and ``reproduce`` do it), else
    the error names the build command.

    A *stale* (settings or code changed) or damaged table is an error naming the rebuild
    command. The table's file name carries the spec's content hash, so a changed spec simply
    gets (and builds) its own table.
    """
    spec = load_spec(name_or_path)
    path = table_path(spec.name, spec.hash(), directory)
    build = builder("detector")
    if not path.exists() and build_missing and build is not None:
        build(name_or_path, directory=directory)

    def expected_hash(attrs: Mapping[str, Any]) -> str:
        try:
            settings = dict(attrs["settings"])
        except Exception:  # absent or malformed: the hash differs and the table is stale
            settings = {}
        return input_hash(spec.canonical_json(), settings)

    return read_table(path, expected_hash, detector_rebuild_command(name_or_path))


def nuisance_grids(
    arrays: Mapping[str, np.ndarray], axes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(grid values [axis, node], node counts [axis]) of a table's shape-nuisance ``axes``,
    padded to the longest grid with NaN (``profile_kernels`` reads NaN as padding)."""
    sizes = np.array([len(arrays[f"grid_{a}"]) for a in axes], dtype=np.int64)
    values = np.full((len(axes), int(sizes.max(initial=0))), np.nan)
    for k, axis in enumerate(axes):
        values[k, : sizes[k]] = arrays[f"grid_{axis}"]
    return values, sizes


def shape_kernel_tensors(
    arrays: Mapping[str, np.ndarray], axes: Sequence[str], sizes: np.ndarray, index: Sequence[int]
) -> np.ndarray:
    """A table's shape-nuisance tensors restricted to the couplings ``index``, in kernel order
    [..., nuisance axis, node, i, j, bin] (leading axes as stored, e.g. a model's axis; the
    table stores [..., node, bin, i, j]), padded with zeros past each grid's ``sizes``
    (``nuisance_grids``)."""
    nominal = arrays["tensor"]  # [..., bin, i, j]
    n_x = len(index)
    shape = (*nominal.shape[:-3], len(axes), int(sizes.max(initial=0)), n_x, n_x)
    out = np.zeros((*shape, nominal.shape[-3]))
    for k, axis in enumerate(axes):
        kernel_layout(arrays[f"tensor_{axis}"], index, out[..., k, : sizes[k], :, :, :])
    return out


class RatePredictor:
    """Counts per bin of one detector as a quadratic form in a chosen subset of couplings."""

    def __init__(
        self,
        detector: str | Path,
        couplings: Sequence[str] | None = None,
        directory: Path | None = None,
        build_missing: bool = True,
    ):
        self.table = load_detector_table(detector, directory, build_missing)
        self.detector = self.table.attrs["detector"]
        chosen = list(couplings) if couplings is not None else list(COUPLING_NAMES)
        self.couplings: list[Coupling] = [parse_coupling(c) for c in chosen]
        names = [c.name for c in self.couplings]
        if len(set(names)) != len(names):
            raise ValueError(f"couplings listed twice: {names}")
        stored = self.table.attrs["couplings"]
        index = [0] + [stored.index(n) for n in names]
        arrays = self.table.arrays
        # kernel order [i, j, bin] (``kernels``); the table stores [bin, i, j]
        self.tensor = kernel_layout(arrays["tensor"], index)
        self.bin_edges = arrays["bin_edges"]
        self.time_edges_us = arrays.get("time_edges_us")
        self.unit = self.table.attrs["observable_unit"]
        self.nuisance_axes: list[str] = list(self.table.attrs.get("nuisance_axes", []))
        self.grid_values, self.grid_sizes = nuisance_grids(arrays, self.nuisance_axes)
        self.shape_tensors = shape_kernel_tensors(
            arrays, self.nuisance_axes, self.grid_sizes, index
        )

    @property
    def coupling_names(self) -> list[str]:
        return [c.name for c in self.couplings]

    @property
    def n_bins(self) -> int:
        """Reconstructed bins (energy-major × time)."""
        return self.tensor.shape[2]

    def x_vector(self, values: Mapping[str, float] | Sequence[float] | None = None) -> np.ndarray:
        """x = (1, c_1, …) from a name → value mapping (others 0) or a sequence in order."""
        return x_vector(
            self.coupling_names, values, lambda n: parse_coupling(n).name, self.detector
        )

    def counts(
        self,
        values: Mapping[str, float] | Sequence[float] | None = None,
        nuisances: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """Expected CEvNS events per reconstructed bin (energy-major × time bins).

        ``nuisances`` sets shape-nuisance axes (e.g. ``{"radius_scale": 1.03}``); the signal
        is morphed multiplicatively, S = S₀ Π_k I_k(θ_k)/S₀, with the interpolation of
        ``profile_kernels`` (exact at grid points, smooth in between) — the same model the
        likelihood profiles.
        """
        x = self.x_vector(values)
        nominal = quadratic_form(self.tensor, x)
        if not nuisances:
            return nominal
        grids = self.signal_grids(x)
        out = nominal.copy()
        for axis, theta in nuisances.items():
            if axis not in self.nuisance_axes:
                raise ValueError(
                    f"{self.detector} has no nuisance axis {axis!r}; axes: {self.nuisance_axes}"
                )
            k = self.nuisance_axes.index(axis)
            n = self.grid_sizes[k]
            shifted = interpolate_shape(grids[k, :n], self.grid_values[k, :n], float(theta))
            ratio = np.divide(
                np.maximum(shifted, 0.0), nominal, out=np.ones_like(nominal), where=nominal > 0
            )
            out = np.where(nominal > 0, out * ratio, out + shifted - nominal)
        return out

    def signal_grids(self, x: np.ndarray) -> np.ndarray:
        """Signal counts on every shape-nuisance grid, [axis, grid point, bin], for x."""
        out = np.zeros((*self.shape_tensors.shape[:2], self.n_bins))
        quadratic_form_grids_into(self.shape_tensors, self.grid_sizes, x, out)
        return out

    def counts_batch(self, points: np.ndarray) -> np.ndarray:
        """Counts per bin for points of shape (n_points, n_couplings)."""
        points = np.atleast_2d(np.asarray(points, dtype=float))
        if points.shape[1] != len(self.couplings):
            raise ValueError(f"points need {len(self.couplings)} columns, got {points.shape[1]}")
        check_couplings(points, self.coupling_names, self.detector)
        xs = np.ones((points.shape[0], 1 + points.shape[1]))
        xs[:, 1:] = points
        return quadratic_form_batch(self.tensor, xs)


__all__ = ["RatePredictor", "TableError", "load_detector_table"]
