"""Build detector tables: integrate once, assemble the response tensor, write Zarr atomically."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from build_tables.integrate import base_integrals
from cevnsfast.detectors.detector import Detector, QuadratureSettings
from cevnsfast.detectors.spec import load_spec, shipped_spec_names
from cevnsfast.models.couplings import ALL_COUPLINGS, COUPLING_NAMES, response_tensor
from cevnsfast.physics.cross_sections import STRUCTURES
from cevnsfast.physics.flux import COMPONENT_NAMES
from cevnsfast.tables import input_hash, stored_hash, table_path, write_table


@dataclass
class BuildResult:
    name: str
    path: Path
    built: bool
    seconds: float


def rebuild_command(name_or_path: str | Path) -> str:
    return f"cevnsfast build {name_or_path} --force"


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
    path = table_path(spec.name, directory)
    if not force and stored_hash(path) == digest:
        return BuildResult(spec.name, path, False, time.perf_counter() - start)
    detector = Detector(spec)
    base = base_integrals(detector, settings)
    nuclei = [t.nucleus for t in detector.targets]
    tensor = response_tensor(base, nuclei, ALL_COUPLINGS, spec.physics["sin2_theta_w"])
    write_table(
        path,
        {
            "base": base,
            "tensor": tensor,
            "bin_edges": np.asarray(spec.bin_edges),
            "n_targets": np.asarray([t.n_targets for t in detector.targets]),
        },
        {
            "detector": spec.name,
            "spec": spec.raw,
            "spec_hash": spec.hash(),
            "settings": settings.as_dict(),
            "input_hash": digest,
            "observable_unit": spec.observable,
            "nuclei": [t.nucleus.name for t in detector.targets],
            "components": list(COMPONENT_NAMES),
            "structures": list(STRUCTURES),
            "couplings": ["SM", *COUPLING_NAMES],
            "base_units": "events per unit coupling-structure weight (see models.couplings)",
            "fluence_per_flavour_cm2": detector.fluence_cm2,
        },
    )
    return BuildResult(spec.name, path, True, time.perf_counter() - start)


def build_all(
    names: Sequence[str | Path] | None = None,
    directory: Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[BuildResult]:
    """Build several detectors (default: every shipped spec); only stale ones are rebuilt."""
    results = []
    names = list(names or shipped_spec_names())
    with tqdm(names, desc="building tables", unit="detector", disable=not progress) as bar:
        for name in bar:
            bar.set_postfix_str(str(name))
            results.append(build_detector(name, directory=directory, force=force))
    return results
