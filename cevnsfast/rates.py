"""Expected CEvNS counts from built tables: the public prediction API.

>>> from cevnsfast.rates import RatePredictor
>>> nai = RatePredictor("nai", couplings=["eps_ee_uV", "eps_ee_dV"])
>>> nai.counts({"eps_ee_uV": 0.1})          # events per reconstructed bin
>>> nai.counts_batch(points)                 # (n_points, n_bins), points (n_points, 2)
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from cevnsfast.detectors.spec import load_spec
from cevnsfast.kernels import quadratic_form, quadratic_form_batch
from cevnsfast.models.couplings import COUPLING_NAMES, Coupling, parse_coupling
from cevnsfast.tables import Table, TableError, input_hash, read_table, table_path


def load_detector_table(
    name_or_path: str | Path, directory: Path | None = None, build_missing: bool = True
) -> Table:
    """The up-to-date table of a detector; builds it first when it does not exist yet.

    A *stale* table (spec, settings or code changed) is an error naming the rebuild command.
    """
    from build_tables.build import build_detector, rebuild_command

    spec = load_spec(name_or_path)
    path = table_path(spec.name, directory)
    if not path.exists() and build_missing:
        build_detector(name_or_path, directory=directory)
    try:
        import zarr

        settings = dict(zarr.open_group(path, mode="r").attrs["settings"])
    except Exception:  # missing or unreadable: read_table reports it with the fix
        settings = {}
    digest = input_hash(spec.canonical_json(), settings)
    return read_table(path, digest, rebuild_command(name_or_path))


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
        full = self.table.arrays["tensor"]
        self.tensor = np.ascontiguousarray(full[:, index][:, :, index])
        self.bin_edges = self.table.arrays["bin_edges"]
        self.unit = self.table.attrs["observable_unit"]

    @property
    def coupling_names(self) -> list[str]:
        return [c.name for c in self.couplings]

    def x_vector(self, values: Mapping[str, float] | Sequence[float] | None = None) -> np.ndarray:
        """x = (1, c_1, …) from a name → value mapping (others 0) or a sequence in order."""
        x = np.zeros(1 + len(self.couplings))
        x[0] = 1.0
        if values is None:
            return x
        if isinstance(values, Mapping):
            position = {n: i for i, n in enumerate(self.coupling_names, start=1)}
            for name, value in values.items():
                canonical = parse_coupling(name).name
                if canonical not in position:
                    raise ValueError(
                        f"coupling {name!r} is not among this predictor's couplings "
                        f"({', '.join(self.coupling_names)})"
                    )
                x[position[canonical]] = float(value)
            return x
        values = np.asarray(values, dtype=float)
        if values.shape != (len(self.couplings),):
            raise ValueError(f"expected {len(self.couplings)} coupling values, got {values.shape}")
        x[1:] = values
        return x

    def counts(self, values: Mapping[str, float] | Sequence[float] | None = None) -> np.ndarray:
        """Expected CEvNS events per reconstructed bin."""
        return quadratic_form(self.tensor, self.x_vector(values))

    def counts_batch(self, points: np.ndarray) -> np.ndarray:
        """Counts per bin for points of shape (n_points, n_couplings)."""
        points = np.atleast_2d(np.asarray(points, dtype=float))
        if points.shape[1] != len(self.couplings):
            raise ValueError(f"points need {len(self.couplings)} columns, got {points.shape[1]}")
        xs = np.ones((points.shape[0], 1 + points.shape[1]))
        xs[:, 1:] = points
        return quadratic_form_batch(self.tensor, xs)


__all__ = ["RatePredictor", "TableError", "load_detector_table"]
