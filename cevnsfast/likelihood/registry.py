"""Experiments by name: ``experiment("csi2021+nai+cryocsi", couplings)``, for NSI/GNI couplings
(the default model) or for any model of ``cevnsfast models`` (``model="weak_mixing_angle"``).
"""

from collections.abc import Sequence
from pathlib import Path

from cevnsfast.likelihood.base import Combined, Experiment, ParameterSubset

REAL_DATA = ("csi2021", "lar2020", "lar2020_3d")
LAR2020_PROJECTIONS = {"lar2020": "energy_time", "lar2020_3d": "energy_f90_time"}
"""LAr 2020 by name: energy × time (the published phenomenology's binning, De Romeri et al.,
arXiv:2211.11905) or COHERENT's energy × F90 × time grid; both with the release's CEvNS PDF
as the SM template (``likelihood.lar2020.LAr2020Settings``)."""
ASIMOV = ("nai", "cryocsi")
NSI_MODEL = "nsi"
"""The default model: contact NSI/GNI couplings ``eps_<ab>_<q><X>`` (``cevnsfast couplings``)."""
COUPLING_UNIT = "1 (units of G_F)"


def _is_nsi(model: str | None) -> bool:
    return model is None or model == NSI_MODEL


def canonical_parameter(name: str, model: str | None = None) -> str:
    """The canonical name of a coupling (NSI model) or the model's parameter ``name``;
    an unknown name is a ``ValueError`` listing the valid ones."""
    if _is_nsi(model):
        from cevnsfast.models.couplings import parse_coupling

        return parse_coupling(name).name
    from cevnsfast.likelihood.scenarios import scenario_for

    params = [p.name for p in scenario_for(model).parameters]
    if name not in params:
        raise ValueError(f"model {model!r} has parameters {', '.join(params)}; not {name!r}")
    return name


def parameter_unit(name: str, model: str | None = None) -> str:
    """Unit of a coupling (NSI model: units of G_F) or of a model parameter."""
    if _is_nsi(model):
        return COUPLING_UNIT
    from cevnsfast.likelihood.scenarios import scenario_for

    return {p.name: p.unit for p in scenario_for(model).parameters}[name]


def experiment(
    names: str,
    couplings: Sequence[str] = (),
    tables_dir: Path | None = None,
    data_dir: Path | None = None,
    model: str | None = None,
    csi2021_settings=None,
) -> Experiment:
    """One experiment or an uncorrelated combination (``+``-separated names) whose χ² takes
    the columns ``couplings``: NSI/GNI couplings, or (``model``) the model's parameters, any
    subset in any order — parameters left out stay at the model's SM point.

    ``csi2021_settings``: a ``CsI2021Settings`` for csi2021 (default: its defaults)."""
    if not _is_nsi(model):
        from cevnsfast.likelihood.models import model_experiment

        full = model_experiment(
            names,
            model,
            tables_dir=tables_dir,
            data_dir=data_dir,
            csi2021_settings=csi2021_settings,
        )
        columns = [canonical_parameter(c, model) for c in couplings]
        return full if columns == full.coupling_names else ParameterSubset(full, columns)
    parts = []
    for name in names.split("+"):
        name = name.strip()
        if name == "csi2021":
            from cevnsfast.likelihood.csi2021 import CsI2021, CsI2021Settings

            settings = csi2021_settings or CsI2021Settings()
            parts.append(CsI2021(couplings, data_dir, tables_dir, settings))
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
