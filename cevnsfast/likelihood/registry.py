"""Experiments by name: ``experiment("csi2021+nai+cryocsi", couplings)``."""

from collections.abc import Sequence
from pathlib import Path

from cevnsfast.likelihood.base import Combined, Experiment

REAL_DATA = ("csi2021", "lar2020")
ASIMOV = ("nai", "cryocsi")


def experiment(
    names: str,
    couplings: Sequence[str] = (),
    tables_dir: Path | None = None,
    data_dir: Path | None = None,
    csi2021_settings=None,
) -> Experiment:
    """One experiment or an uncorrelated combination (``+``-separated names).

    ``csi2021_settings``: a ``CsI2021Settings`` for csi2021 (default: its defaults)."""
    parts = []
    for name in names.split("+"):
        name = name.strip()
        if name == "csi2021":
            from cevnsfast.likelihood.csi2021 import CsI2021, CsI2021Settings

            settings = csi2021_settings or CsI2021Settings()
            parts.append(CsI2021(couplings, data_dir, tables_dir, settings))
        elif name == "lar2020":
            from cevnsfast.likelihood.lar2020 import LAr2020

            parts.append(LAr2020(couplings, data_dir=data_dir, tables_dir=tables_dir))
        elif name in ASIMOV or name.endswith(".toml"):
            from cevnsfast.likelihood.asimov import AsimovExperiment

            parts.append(AsimovExperiment(name, couplings, tables_dir=tables_dir))
        else:
            known = ", ".join(REAL_DATA + ASIMOV)
            raise ValueError(f"unknown experiment {name!r}; known: {known} (join with '+')")
    return parts[0] if len(parts) == 1 else Combined(parts)
