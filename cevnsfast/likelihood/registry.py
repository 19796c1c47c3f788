"""Experiments by name: ``experiment("csi2021+nai+cryocsi", couplings)``."""

from collections.abc import Sequence
from pathlib import Path

from cevnsfast.likelihood.base import Combined, Experiment

REAL_DATA = ("csi2021", "lar2020", "lar2020_3d")
LAR2020_PROJECTIONS = {"lar2020": "energy_time", "lar2020_3d": "energy_f90_time"}
"""LAr 2020 by name: energy × time (the published phenomenology's binning, De Romeri et al.,
arXiv:2211.11905) or COHERENT's energy × F90 × time grid; both with the release's CEvNS PDF
as the SM template (``likelihood.lar2020.LAr2020Settings``)."""
ASIMOV = ("nai", "cryocsi")


def experiment(
    names: str,
    couplings: Sequence[str] = (),
    tables_dir: Path | None = None,
    data_dir: Path | None = None,
) -> Experiment:
    """One experiment or an uncorrelated combination (``+``-separated names)."""
    parts = []
    for name in names.split("+"):
        name = name.strip()
        if name == "csi2021":
            from cevnsfast.likelihood.csi2021 import CsI2021

            parts.append(CsI2021(couplings, data_dir=data_dir, tables_dir=tables_dir))
        elif name in LAR2020_PROJECTIONS:
            from cevnsfast.likelihood.lar2020 import LAr2020, LAr2020Settings

            settings = LAr2020Settings(projection=LAR2020_PROJECTIONS[name])
            parts.append(LAr2020(couplings, data_dir, tables_dir, settings=settings, name=name))
        elif name in ASIMOV or name.endswith(".toml"):
            from cevnsfast.likelihood.asimov import AsimovExperiment

            parts.append(AsimovExperiment(name, couplings, tables_dir=tables_dir))
        else:
            known = ", ".join(REAL_DATA + ASIMOV)
            raise ValueError(f"unknown experiment {name!r}; known: {known} (join with '+')")
    return parts[0] if len(parts) == 1 else Combined(parts)
