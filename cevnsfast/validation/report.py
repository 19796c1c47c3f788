"""Our numbers beside the published ones for the COHERENT CsI 2021 and LAr 2020 data (issue 10).

``python -m cevnsfast.validation`` writes ``docs/validation.md`` (this comparison) and
``docs/normalisation.md`` (the CsI SM normalisation budget, ``budget.py``). Every number of
ours is computed here from the shipped specs, tables and data releases; the published numbers
are constants below with their source, marked when we could not verify them against the
paper's text.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from cevnsfast.data import csi2021 as csi
from cevnsfast.paths import data_dir


@dataclass(frozen=True)
class Published:
    value: float
    minus: float
    plus: float
    source: str
    verified: bool
    """False: recalled, not checked against the paper's text here (stored copies strip numbers)."""

    def text(self, digits: int = 3) -> str:
        if self.minus == self.plus == 0:
            core = f"{self.value:.{digits}g}"
        elif self.minus == self.plus:
            core = f"{self.value:.{digits}g} ± {self.plus:.2g}"
        else:
            core = f"{self.value:.{digits}g} +{self.plus:.2g} −{self.minus:.2g}"
        return core if self.verified else core + " (unverified)"


CSI_SM = Published(
    341.0,
    43.0,
    43.0,
    "COHERENT arXiv:2110.07730: 341 ± 11 (th) ± 42 (exp); docs/physics-reference.md",
    True,
)
CSI_FIT = Published(306.0, 20.0, 20.0, "COHERENT arXiv:2110.07730; docs/physics-reference.md", True)
CSI_SIN2W = Published(
    0.220, 0.026, 0.028, "COHERENT arXiv:2110.07730 abstract (CsI alone, Q ≈ 50 MeV)", False
)
LAR_SM = Published(
    128.0, 17.0, 17.0, "COHERENT arXiv:2003.10630 Analysis A; docs/physics-reference.md", True
)
LAR_FIT = Published(
    159.0, 43.0, 43.0, "COHERENT arXiv:2003.10630 Analysis A; docs/physics-reference.md", True
)
EXPOSURE_RATIO = Published(
    1.0, 0.0, 0.0, "τ = 1: C and AC files cover the same 0–6 µs of the same triggers", False
)
TIMING_DECAY = Published(0.0494, 0.0, 0.0, "CsI 2021 release notes: ε_T ∝ exp(−0.0494/µs Δt)", True)


def ac_time_slope(pe_range=(0.0, 250.0)) -> tuple[float, float, float]:
    """Exponential slope k (µs⁻¹) of the AC sample's arrival times on [0, 6) µs, its 1σ error,
    and Δχ² of a flat distribution against the best fit (unbinned likelihood)."""
    events = csi.load_events(data_dir() / csi.RELEASE_DIRNAME / "dataBeamOnAC.txt")
    inside = (events[:, 0] >= pe_range[0]) & (events[:, 0] < pe_range[1]) & (events[:, 1] < 6.0)
    t = events[inside, 1]

    def nll(k: float) -> float:
        norm = 6.0 if abs(k) < 1e-12 else (1.0 - np.exp(-6.0 * k)) / k
        return float(k * t.sum() + t.size * np.log(norm))

    best = minimize_scalar(nll, bounds=(-1.0, 1.0), method="bounded", options={"xatol": 1e-9})
    h = 1e-3
    curvature = (nll(best.x + h) - 2 * nll(best.x) + nll(best.x - h)) / h**2
    return float(best.x), float(1 / np.sqrt(curvature)), 2 * (nll(0.0) - float(best.fun))


def c_over_ac(pe_range=(60.0, 250.0)) -> tuple[float, float]:
    """Ratio of coincidence to anti-coincidence events on 0–6 µs in a PE range where CEvNS is
    negligible, and its Poisson error: a check of the AC/C exposure ratio τ = 1 (beam-related
    neutrons in the C window make it an upper bound)."""
    n = []
    for name in ("dataBeamOnC.txt", "dataBeamOnAC.txt"):
        ev = csi.load_events(data_dir() / csi.RELEASE_DIRNAME / name)
        sel = (ev[:, 0] >= pe_range[0]) & (ev[:, 0] < pe_range[1]) & (ev[:, 1] < 6.0)
        n.append(float(sel.sum()))
    ratio = n[0] / n[1]
    return ratio, ratio * float(np.sqrt(1 / n[0] + 1 / n[1]))


def interval_1sigma(grid: np.ndarray, chi2: np.ndarray) -> tuple[float, float]:
    """Where Δχ² = 1 on each side of the grid minimum (linear interpolation; grid ends if not
    reached)."""
    d = chi2 - chi2.min()
    i = int(np.argmin(d))
    lo, hi = grid[0], grid[-1]
    for j in range(i, 0, -1):
        if d[j - 1] >= 1.0:
            lo = np.interp(1.0, [d[j], d[j - 1]], [grid[j], grid[j - 1]])
            break
    for j in range(i, len(grid) - 1):
        if d[j + 1] >= 1.0:
            hi = np.interp(1.0, [d[j], d[j + 1]], [grid[j], grid[j + 1]])
            break
    return float(lo), float(hi)


def _lar_free_fit(projection: str) -> float:
    """Fitted CEvNS events of the LAr 2020 likelihood with the normalisation free (as in
    COHERENT's own fit, 159 ± 43) on ``projection``."""
    from cevnsfast.likelihood.lar2020 import LAr2020, LAr2020Settings

    settings = LAr2020Settings(projection=projection, sigma_cevns=float("inf"))
    return LAr2020(settings=settings).fit().counts["cevns"]


def csi_fits() -> dict[str, dict]:
    """SM fit of CsI 2021 with each SSB model: ``FitResult.as_dict()`` per model."""
    from cevnsfast.likelihood.csi2021 import CsI2021, CsI2021Settings

    return {
        m: CsI2021(settings=CsI2021Settings(ssb_model=m)).fit().as_dict() for m in csi.SSB_MODELS
    }


def scenario_interval(scenario: str, experiment: str = "csi2021") -> tuple[float, float, float]:
    """Best fit and 1σ interval of a one-parameter scenario of the talk."""
    from cevnsfast.scenario_summary import fit_scenario

    fit = fit_scenario(scenario, experiment)
    (name,) = fit.best
    lo, hi = interval_1sigma(fit.grids[0], fit.chi2)
    return fit.best[name], lo, hi


def _row(quantity: str, ours: float, theirs: Published, why: str, digits: int = 3) -> str:
    ours_text = f"{ours:.{digits}g}"
    diff = f"{ours - theirs.value:+.{digits}g}"
    if theirs.plus > 0:
        sigma = theirs.plus if ours > theirs.value else theirs.minus
        diff += f" ({(ours - theirs.value) / sigma:+.1f}σ)"
    return (
        f"| {quantity} | {ours_text} | {theirs.text(digits)} | {diff} | {theirs.source} | {why} |"
    )


def validation_markdown() -> str:
    """The text of docs/validation.md."""
    from cevnsfast.likelihood.registry import experiment
    from cevnsfast.rates import RatePredictor

    fits = csi_fits()
    default = fits["flat_time"]
    k, dk, dchi2 = ac_time_slope()
    k60, dk60, _ = ac_time_slope((0.0, 60.0))
    ratio, d_ratio = c_over_ac()
    s2w, s2w_lo, s2w_hi = scenario_interval("weak_mixing_angle")
    rn, rn_lo, rn_hi = scenario_interval("neutron_radius")
    lar = experiment("lar2020").fit().as_dict()
    lar_engine = RatePredictor("lar2020").counts().sum()  # the engine's own SM prediction
    lar_free = {p: _lar_free_fit(p) for p in ("energy_f90_time", "energy_time")}
    c = default["counts"]
    rows = [
        _row(
            "SM CEvNS events (prediction)",
            c["cevns_nominal"],
            CSI_SM,
            "Budget in docs/normalisation.md: COHERENT's form-factor radius and radiative "
            "couplings (the tree-level count is there too), modelled arrival times",
        ),
        _row(
            "fitted CEvNS events",
            c["cevns"],
            CSI_FIT,
            "Same data, SSB flat in time (ε_T shape) from the AC sample; our α0 pulls "
            f"{default['nuisances']['alpha0']:+.3f}",
        ),
        _row(
            "sin²θ_W (CsI alone)",
            s2w,
            CSI_SIN2W,
            f"Ours 1σ [{s2w_lo:.3f}, {s2w_hi:.3f}]; radiative couplings as COHERENT's, our SM "
            "normalisation shifts it; the published value is recalled, not checked here",
            digits=3,
        ),
        _row(
            "AC-sample time slope k [1/µs], 0–250 PE",
            k,
            TIMING_DECAY,
            f"Ours ± {dk:.3f} (0–60 PE: {k60:.3f} ± {dk60:.3f}); flat rejected by Δχ² = "
            f"{dchi2:.1f}: the SSB passes the same timing efficiency",
            digits=3,
        ),
        _row(
            "C/AC events, 60–250 PE (τ check)",
            ratio,
            EXPOSURE_RATIO,
            f"Ours ± {d_ratio:.3f}; no CEvNS there, BRN only raise C: consistent with τ = 1 "
            "(`CsI2021Settings.ac_exposure_ratio`)",
        ),
        _row(
            "LAr SM CEvNS events (prediction)",
            lar["counts"]["cevns_nominal"],
            LAR_SM,
            'The release\'s CEvNS PDF is the SM template (`cevns_template = "release"`); the '
            f"engine's own prediction is {lar_engine:.1f}: budget in docs/normalisation-lar.md",
        ),
        _row(
            "LAr fitted CEvNS events, 3D grid, normalisation free",
            lar_free["energy_f90_time"],
            LAR_FIT,
            "`lar2020_3d`: COHERENT's own energy × F90 × time grid, as their fit",
        ),
        _row(
            "LAr fitted CEvNS events, energy × time, normalisation free",
            lar_free["energy_time"],
            LAR_FIT,
            "`lar2020` (default, the published phenomenology's binning): without F90 the SS "
            "background separates less; COHERENT fit the 3D grid",
        ),
    ]
    gof = [
        f"| {m} | {f['chi2_min']:.2f} | {f['ndof']} | {f['chi2_per_dof']:.3f} | "
        f"{f['p_value']:.3f} | {f['counts']['cevns']:.1f} | {f['counts']['ssb']:.1f} |"
        for m, f in fits.items()
    ]
    lines = [
        "# Validation against published numbers",
        "",
        "Generated by `python -m cevnsfast.validation` (cevnsfast/validation/report.py); do not",
        "edit by hand. Our numbers come from the shipped specs, tables and the COHERENT data",
        'releases; published numbers carry their source, and "(unverified)" where we could not',
        "check the paper's text here. Difference in units of the published 1σ.",
        "",
        "| quantity | ours | published | ours − published | source | why |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Neutron rms radius of CsI (the `neutron_radius` scenario, docs/models.md): ours "
        f"{rn:.2f} fm, 1σ [{rn_lo:.2f}, {rn_hi:.2f}] fm. Published CsI 2021 values (e.g. Atzori "
        "Corona et al., arXiv:2303.09360) were not retrieved here: no comparison made.",
        "Published NSI ranges: not compared (not retrieved).",
        "",
        "## CsI 2021 SM fit by steady-state-background model",
        "",
        "`CsI2021Settings.ssb_model` (default `flat_time`). ndof = bins − free parameters; with",
        "`ac_measurement` the 9 AC totals are measurements and the 9 SSB normalisations free.",
        "",
        "| SSB model | χ²_min | ndof | χ²/dof | p-value | fitted CEvNS | fitted SSB |",
        "|---|---|---|---|---|---|---|",
        *gof,
        "",
        f"LAr 2020 (default likelihood: energy × time, release template, SM): χ²_min = "
        f"{lar['chi2_min']:.1f}, ndof = {lar['ndof']}, "
        f"χ²/dof = {lar['chi2_per_dof']:.3f}, p-value = {lar['p_value']:.3f}.",
        "",
    ]
    return "\n".join(lines)


_NORMALISATION_TEXT = """\
# CsI 2021: normalisation budget of the SM prediction

Generated by `python -m cevnsfast.validation` (cevnsfast/validation/budget.py); do not edit
by hand. Each line changes one input of the shipped `csi2021` spec and recomputes the SM
CEvNS count by direct integration (`reference.direct`, the twin of the table path):
effect = N(alternative)/N(shipped) − 1. Nothing is fitted.

- Shipped SM prediction: **{nominal:.1f}** events (before issue 10, with tree-level
  couplings and R_A = 1.23 A^1/3 fm: {old:.1f}).
- COHERENT (arXiv:2110.07730): 341 ± 11 (th) ± 42 (exp); issue 10 target ±5 %: [{low:.0f},
  {high:.0f}].
- With tree-level couplings (the seed paper's convention, `physics.weak_charge = "tree"`):
  **{tree:.1f}**.

| factor | ours (source) | alternative (source) | SM events | effect |
|---|---|---|---|---|
{table}

## What was changed, and why

- **Form-factor radius.** COHERENT's own CEvNS rate code (github.com/schol/dukecevns,
  `FormFactor.cc`, `Klein::FFval`) uses Klein–Nystrand with R_A = 1.2 A^1/3 fm and a_k from
  its configuration (0.7 fm in its example configurations). The 1.23 A^1/3 fm shipped before
  was tagged [assumed] (it is, e.g., MARLEY's default). The csi2021 spec now sets
  `physics.form_factor_params = {{r0_fm = 1.2, ak_fm = 0.7}}`; the other detectors keep 1.23
  until their owners decide (their reference analyses are not COHERENT's own).
- **SM couplings.** COHERENT's code uses the radiatively corrected g_V^p = 0.0298,
  g_V^n = −0.5117 (PDG 2015 after Erler & Su, Prog. Part. Nucl. Phys. 71 (2013) 119;
  `xscns.cc` `sm_vector_couplings`). The csi2021 and lar2020 specs set
  `physics.weak_charge = "radiative"` (`cross_sections.nucleon_vector_couplings`, one
  function for both modes, used by the tables, the direct twin and every model); the
  projections (nai, cryocsi) keep the seed paper's tree level. Effect {couplings:+.1f} %
  against tree level: the per-nucleus (Q_V^rad/Q_V^tree)² (tests). sin²θ_W enters the
  radiative g_V^p with the tree-level slope, g_V^p = 0.0298 − 2 (sin²θ_W − 0.23857)
  (docs/physics.md).

## What is not changed, and why

- **Helm vs Klein–Nystrand.** Helm with the Lewin–Smith radius gives {helm:+.1f} % but is not
  the form the collaboration's analysis is followed with (arXiv:2402.16953 Sec. II uses
  Klein–Nystrand "following the COHERENT collaboration").
- **Timing efficiency and 6 µs window.** Both belong to COHERENT's selection: the AC sample
  itself falls in time like ε_T (docs/validation.md), so a prediction after cuts includes
  them. Dropping either would raise the count by 5–7 % without a physical reason.
- **Detection efficiency and quenching.** The release's nominal rows; their ±1σ rows move
  the count by about ±10 % and ±1 %: COHERENT's ±42 (exp) is dominated by such terms.
- **Light yield.** The release's smearing fixes the mean PE per keVee (a = 0.0749/E_ee, so
  1/0.0749 = 13.35 PE/keVee); the +1 % line varies both together.
- **Arrival times.** Modelled (proton pulse of the LAr release, π and μ lifetimes): the
  release's flux file is not public here. Our best-fit timing shift moves the count by less
  than 1 %.

## Conclusion

With public inputs and the collaboration's own conventions (its form-factor radius and
radiative couplings) the engine gives {nominal:.1f} against 341 ± 43 ({gap:+.1f} %: inside
the ±5 % target and COHERENT's own 1σ; {tree:.1f} at tree level). The remaining few per cent
lie within the efficiency, quenching and flux systematics (about ±10 %, ±1 % and ±10 %),
which the public release does not let us pin down further.
"""


def normalisation_markdown() -> str:
    """The text of docs/normalisation.md."""
    from cevnsfast.validation.budget import COHERENT_SM, before_issue_10, budget

    nominal, lines = budget()
    by_name = {ln.factor.name: ln for ln in lines}
    table = "\n".join(
        f"| {ln.factor.name} | {ln.factor.ours} | {ln.factor.alternative} | "
        f"{ln.count:.1f} | {100 * ln.effect:+.2f} % |"
        for ln in lines
    )
    return _NORMALISATION_TEXT.format(
        nominal=nominal,
        old=before_issue_10(),
        low=0.95 * COHERENT_SM[0],
        high=1.05 * COHERENT_SM[0],
        tree=by_name["SM couplings"].count,
        couplings=100 * (1.0 / (1.0 + by_name["SM couplings"].effect) - 1.0),
        table=table,
        helm=100 * by_name["form factor model"].effect,
        gap=100 * (nominal / COHERENT_SM[0] - 1),
    )
