"""Build detector tables: integrate once, assemble the response tensor, write Zarr atomically."""

import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cevnsfast.build_tables.integrate import base_integrals
from cevnsfast.detectors.detector import Detector, QuadratureSettings
from cevnsfast.detectors.spec import load_spec, shipped_spec_names
from cevnsfast.models.couplings import ALL_COUPLINGS, COUPLING_NAMES, response_tensor
from cevnsfast.physics.cross_sections import STRUCTURES
from cevnsfast.physics.flux import COMPONENT_NAMES
from cevnsfast.tables import (
    build_lock,
    input_hash,
    stored_hash,
    table_path,
    write_table,
)


@dataclass
class BuildResult:
    name: str
    path: Path
    built: bool
    seconds: float


@contextmanager
def build_claim(path: Path, digest: str, force: bool) -> Iterator[bool]:
    """Hold the table's build lock and yield whether this process must build it.

    Processes building at the same time (``reproduce`` builds the scenario tables ahead in a
    worker while the fits build any they reach first) never build or write one table twice:
    the second waits on the lock, then finds the table up to date. ``force`` rebuilds a table
    that was there when the call began, not one another process finished meanwhile."""
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(path):
        yield (force and existed) or stored_hash(path) != digest


def build_detector(
    name_or_path: str | Path,
    settings: QuadratureSettings = QuadratureSettings(),
    directory: Path | None = None,
    force: bool = False,
) -> BuildResult:
    """Build one detector's table unless an up-to-date one exists (or ``force``)."""
    start = time.perf_counter()
    spec = load_spec(name_or_path)
    digest = input_hash(spec.canonical_json(), settings.as_dict())
    path = table_path(spec.name, spec.hash(), directory)
    with build_claim(path, digest, force) as needed:
        if needed:
            _build_detector(spec, settings, digest, path)
    return BuildResult(spec.name, path, needed, time.perf_counter() - start)


def _build_detector(spec, settings: QuadratureSettings, digest: str, path: Path) -> None:
    """Integrate, assemble and write the table of ``spec`` at ``path``."""
    detector = Detector(spec)
    base = base_integrals(detector, settings)
    nuclei = [t.nucleus for t in detector.targets]
    sin2, weak_charge = spec.physics["sin2_theta_w"], spec.physics["weak_charge"]
    arrays = {
        "base": base,
        "tensor": response_tensor(base, nuclei, ALL_COUPLINGS, sin2, weak_charge),
        "bin_edges": np.asarray(spec.bin_edges),
        "n_targets": np.asarray([t.n_targets for t in detector.targets]),
    }
    if spec.timing is not None:
        arrays["time_edges_us"] = np.asarray(spec.timing["edges_us"])
    for axis, grid in spec.nuisances.items():
        # each shape nuisance varied alone, the others at nominal (additive morphing)
        grid_bases = np.stack([_base_at(spec, settings, axis, value) for value in grid])
        arrays[f"grid_{axis}"] = np.asarray(grid)
        arrays[f"tensor_{axis}"] = response_tensor(
            np.moveaxis(grid_bases, 0, -1), nuclei, ALL_COUPLINGS, sin2, weak_charge
        ).transpose(1, 0, 2, 3)  # [bin, grid, i, j] → [grid, bin, i, j]
    write_table(
        path,
        arrays,
        {
            **provenance(spec, settings, digest, detector),
            "structures": list(STRUCTURES),
            "couplings": ["SM", *COUPLING_NAMES],
            "base_units": "events per unit coupling-structure weight (see models.couplings)",
            "fluence_per_flavour_cm2": detector.fluence_cm2,
        },
    )


def provenance(spec, settings: QuadratureSettings, digest: str, detector: Detector) -> dict:
    """Attributes every table carries (detector and model tables): the spec and physics it was
    built from, the quadrature settings, the input hash, and the detector's nuclei, flux
    components, bin shape and shape-nuisance axes."""
    return {
        "detector": spec.name,
        "spec": spec.raw,
        "physics": spec.physics,
        "spec_hash": spec.hash(),
        "settings": settings.as_dict(),
        "input_hash": digest,
        "observable_unit": spec.observable,
        "nuclei": [t.nucleus.name for t in detector.targets],
        "components": list(COMPONENT_NAMES),
        "bin_shape": [len(spec.bin_edges) - 1, spec.n_time_bins],
        "nuisance_axes": list(spec.nuisances),
    }


def _base_at(spec, settings: QuadratureSettings, axis: str, value: float) -> np.ndarray:
    """Base integrals with one shape nuisance set to ``value``."""
    if axis == "efficiency_sigma":
        return base_integrals(Detector(spec, efficiency_sigma=value), settings)
    detector = Detector(spec)
    if axis == "radius_scale":
        return base_integrals(detector, settings, radius_scale=value)
    return base_integrals(detector, settings, time_shift_us=value)


def build_all(
    names: Sequence[str | Path] | None = None,
    directory: Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[BuildResult]:
    """Build several detectors (default: every shipped spec); only stale ones are rebuilt.

    By default a shipped spec whose input files are missing (e.g. LAr without its data
    release) is skipped with a warning; named detectors are always built (and fail clearly).
    """
    results = []
    explicit = bool(names)
    names = list(names or shipped_spec_names())
    with tqdm(names, desc="building tables", unit="detector", disable=not progress) as bar:
        for name in bar:
            bar.set_postfix_str(str(name))
            missing = {} if explicit else load_spec(name).missing_inputs()
            if missing:
                warnings.warn(
                    f"not building {name}: missing {', '.join(missing.values())}", stacklevel=2
                )
                continue
            results.append(build_detector(name, directory=directory, force=force))
    return results
