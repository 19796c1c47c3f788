"""Normalisation budget of the CsI 2021 Standard-Model CEvNS prediction (issue 10).

Every factor between our SM count and COHERENT's 341 ± 11 (th) ± 42 (exp) events
(arXiv:2110.07730) is toggled alone on the shipped ``csi2021`` spec and the SM count is
recomputed by direct integration (``reference.direct.direct_counts``, the twin of the table
path). A factor's effect is ``N(alternative) / N(shipped) − 1``; nothing here is fitted.

The shipped spec uses COHERENT's radiatively corrected couplings (``physics.weak_charge =
"radiative"``: g_V^p = 0.0298, g_V^n = −0.5117, PDG 2015 after Erler & Su; github.com/schol/
dukecevns xscns.cc ``sm_vector_couplings``); the "SM couplings" line is the tree level of the
seed paper (arXiv:2402.16953 Eq. 2).
"""

from dataclasses import dataclass, field
from typing import Any

from cevnsfast.data.csi2021 import (
    RELEASE_DIRNAME,
    load_efficiency_coefficients,
    load_quenching_coefficients,
)
from cevnsfast.detectors.detector import Detector
from cevnsfast.detectors.spec import load_spec
from cevnsfast.paths import data_dir
from cevnsfast.reference.direct import direct_counts

COHERENT_SM = (341.0, 43.0)
"""COHERENT's CsI 2021 SM prediction and its total uncertainty √(11² + 42²) (arXiv:2110.07730)."""


@dataclass(frozen=True)
class Factor:
    """One input of the prediction: ours, an alternative, and how to compute the alternative."""

    name: str
    ours: str
    alternative: str
    overrides: dict[str, Any] = field(default_factory=dict)


def _sources(overrides: dict[str, Any]) -> dict[str, Any]:
    """The spec requires a source for every number; a budget alternative cites this module."""
    cite = "cevnsfast.validation.budget (alternative value, see docs/normalisation.md)"
    roots = {k.split(".")[0] + "." + k.split(".")[1] for k in overrides}
    return overrides | {f"sources.{r}": cite for r in roots}


def csi2021_factors() -> list[Factor]:
    """The budget's factors, each an alternative to the shipped ``csi2021`` spec."""
    spec = load_spec("csi2021")
    release = data_dir() / RELEASE_DIRNAME
    eff = load_efficiency_coefficients(release / "effCoefficients.txt")
    qf = load_quenching_coefficients(release / "scintRespCoefficients.txt")
    edges_t = list(spec.timing["edges_us"])
    edges_pe = list(spec.bin_edges)
    eff_keys = ("a", "b", "c", "d")

    def efficiency(row: str) -> dict[str, float]:
        return {f"response.efficiency.{k}": v for k, v in zip(eff_keys, eff[row], strict=True)}

    def quenching(row: str) -> dict[str, Any]:
        return {"response.quenching.coefficients": list(qf[row])}

    return [
        Factor(
            "ν per POT per flavour",
            "0.0848 (CsI 2021 release notes)",
            "0.08 (COHERENT 2017, arXiv:1708.01294)",
            {"exposure.nu_per_flavour_per_pot": 0.08},
        ),
        Factor(
            "protons on target",
            "3.198e23 (release notes, 13.99 GWh)",
            "+1 %",
            {"exposure.pot": spec.pot * 1.01},
        ),
        Factor(
            "distance",
            "19.3 m (arXiv:2110.07730)",
            "+1 %",
            {"exposure.distance_m": spec.distance_m * 1.01},
        ),
        Factor(
            "CsI mass",
            "14.6 kg (arXiv:2110.07730)",
            "14.57 kg (COHERENT rate code, dukecevns csicheck.json)",
            {"target.mass_kg": 14.57},
        ),
        Factor(
            "form factor radius",
            "Klein–Nystrand R_A = 1.2 A^1/3 fm, a_k = 0.7 fm "
            "(COHERENT rate code; shipped since issue 10)",
            "R_A = 1.23 A^1/3 fm (the value shipped before issue 10, [assumed])",
            {"physics.form_factor_params": {"r0_fm": 1.23, "ak_fm": 0.7}},
        ),
        Factor(
            "form factor model",
            "Klein–Nystrand (COHERENT; arXiv:2402.16953 Eq. 3)",
            "Helm, Lewin & Smith parameters (s = 0.9 fm)",
            {"physics.form_factor": "helm", "physics.form_factor_params": {}},
        ),
        Factor(
            "SM couplings",
            "radiative g_V^p = 0.0298, g_V^n = −0.5117 (PDG 2015 after Erler & Su; "
            "COHERENT rate code; shipped since issue 10)",
            "tree level, sin²θ_W = 0.23857 (arXiv:2402.16953 Eq. 2; shipped before)",
            {"physics.weak_charge": "tree"},
        ),
        Factor(
            "quenching",
            "release polynomial, nominal row",
            "release syst. model 0, +1σ row",
            quenching("syst0_plus1sigma"),
        ),
        Factor(
            "quenching",
            "release polynomial, nominal row",
            "release syst. model 0, −1σ row",
            quenching("syst0_minus1sigma"),
        ),
        Factor(
            "light yield",
            "13.35 PE/keVee (release notes; = 1/a of the smearing)",
            "+1 % (light yield and smearing a = 0.0749/E_ee together)",
            {
                "response.light_yield_pe_per_keVee": spec.light_yield_pe_per_kev_ee * 1.01,
                "response.smearing.a_keVee": spec.smearing["a_keVee"] / 1.01,
            },
        ),
        Factor(
            "detection efficiency",
            "release logistic, nominal row",
            "release +1σ row",
            efficiency("plus1sigma"),
        ),
        Factor(
            "detection efficiency",
            "release logistic, nominal row",
            "release −1σ row",
            efficiency("minus1sigma"),
        ),
        Factor(
            "timing efficiency",
            "ε_T = 1 to 0.52 µs, then exp(−0.0494/µs Δt) (release notes)",
            "none (ε_T = 1)",
            {"timing.efficiency_decay_per_us": 0.0},
        ),
        Factor(
            "time window",
            "0–6 µs (release: trec < 6 µs for the CEvNS fit)",
            "0–100 µs (every delayed neutrino)",
            {"timing.edges_us": [*edges_t, 100.0]},
        ),
        Factor(
            "PE region",
            "0–60 PE (release: PE < 60 for the CEvNS fit)",
            "0–250 PE (all released events)",
            {"binning.edges": [*edges_pe, 250.0]},
        ),
        Factor(
            "beam timing",
            "proton pulse mean 0.44 µs (LAr 2020 release, [assumed] for CsI)",
            "mean + 0.115 µs (our best-fit α7)",
            {"timing.pulse_mean_us": spec.timing["pulse_mean_us"] + 0.115},
        ),
    ]


def sm_count(overrides: dict[str, Any] | None = None) -> float:
    """SM CEvNS events of ``csi2021`` (direct integration) with spec ``overrides``."""
    detector = Detector.load("csi2021", _sources(overrides or {}))
    return float(direct_counts(detector, {}).sum())


@dataclass(frozen=True)
class BudgetLine:
    factor: Factor
    count: float
    effect: float
    """Relative change of the SM count, N(alternative)/N(shipped) − 1."""


def budget() -> tuple[float, list[BudgetLine]]:
    """(shipped SM count, one line per factor)."""
    nominal = sm_count()
    lines = []
    for f in csi2021_factors():
        n = sm_count(f.overrides)
        lines.append(BudgetLine(f, n, n / nominal - 1.0))
    return nominal, lines


BEFORE_ISSUE_10 = {
    "physics.weak_charge": "tree",
    "physics.form_factor_params": {"r0_fm": 1.23, "ak_fm": 0.7},
}
"""The two physics inputs issue 10 changed (tree-level couplings, R_A = 1.23 A^1/3 fm)."""


def before_issue_10() -> float:
    """The SM count with the physics shipped before issue 10, for the record."""
    return sm_count(BEFORE_ISSUE_10)
