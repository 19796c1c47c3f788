"""The talk's scenarios, fitted and drawn for ``cevnsfast reproduce`` (the face).

For each scenario (``likelihood.scenarios.SCENARIOS``) and each experiment (CsI 2021, LAr 2020,
CsI+LAr): a coarse-to-fine scan of the profiled χ² in the scenario's physical parameters, the
best fit (flagged when it sits on a range edge), χ²_min/dof, Δχ² against the SM, and one
figure per scenario; the light mediators' SM-mimicking band is scanned along the
cancellation coupling so it is drawn continuously (docs/models.md). The likelihoods return
numbers; this module draws them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cevnsfast.likelihood.base import Experiment
from cevnsfast.likelihood.models import ModelExperiment, model_experiment, scan
from cevnsfast.likelihood.scenarios import SCENARIOS, ScanParameter, Scenario
from cevnsfast.nuclei import isotope
from cevnsfast.rates import RatePredictor
from cevnsfast.scan.coarse_to_fine import coarse_to_fine, coarse_to_fine_sum

SECTION = "New-physics scenarios of the talk (CsI 2021, LAr 2020)"
CL90 = {1: 2.706, 2: 4.605}
"""Δχ² of 90 % C.L. for 1 and 2 parameters."""


@dataclass
class ScenarioFit:
    """Grid best fit of one scenario on one experiment."""

    scenario: str
    experiment: str
    best: dict[str, float]
    chi2_min: float
    ndof: int
    chi2_sm: float | None
    grids: list[np.ndarray]
    chi2: np.ndarray
    parameters: tuple[ScanParameter, ...] = ()
    on_edge: tuple[str, ...] = ()
    """"name=lo|hi" of every parameter whose best fit is on an arbitrary range edge."""
    at_bound: tuple[str, ...] = ()
    """"name=lo|hi" of every parameter whose best fit is on a physical bound (μ = 0, g → 0,
    R_n = R_p, …): expected, reported, not warned about."""
    band: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    """(masses (n,), g (n, k), χ² (n, k)) of ``cancellation_band_scan``, or None."""
    conventions: tuple[str, ...] = ()
    """``experiment_convention`` of every part of the fitted experiment."""
    sign_free: tuple[str, ...] = ()
    """Parameters whose sign the fit does not determine (``mirror_degenerate``)."""

    @property
    def chi2_per_dof(self) -> float:
        return self.chi2_min / self.ndof


def edges_of(
    parameters: Sequence[ScanParameter],
    best: Mapping[str, float],
    sizes,
    flat_beyond: Sequence[str] = (),
) -> tuple:
    """(on_edge, at_bound) of a best fit: parameters within half a grid step of a range end,
    split into arbitrary range edges and physical bounds (``ScanParameter.physical_lo/hi``);
    an arbitrary edge listed in ``flat_beyond`` is marked "(flat beyond)"."""
    on_edge, at_bound = [], []
    for p, n in zip(parameters, sizes, strict=True):
        end = p.edge(best[p.name], n)
        if end is None:
            continue
        tag = f"{p.name}={end}"
        if p.physical_lo if end == "lo" else p.physical_hi:
            at_bound.append(tag)
        else:
            on_edge.append(tag + (" (flat beyond)" if tag in flat_beyond else ""))
    return tuple(on_edge), tuple(at_bound)


def available_experiments(tables_dir: Path | None = None) -> tuple[list[str], list[str]]:
    """(experiments to fit, notes): CsI 2021 always; LAr 2020 and CsI+LAr when its data
    release is there and ``registry.experiment("lar2020")`` takes its signal from a predictor.
    Any other failure (e.g. a stale or damaged LAr table) raises: leaving LAr out of the
    summary for it would pass a broken set-up off as a CsI-only result."""
    from cevnsfast.likelihood.registry import experiment

    names, notes = ["csi2021"], []
    try:
        lar = experiment("lar2020", (), tables_dir=tables_dir)
    except FileNotFoundError as exc:  # a release file (DataNotFoundError, SpecInputMissing)
        notes.append(f"LAr 2020 left out of the new-physics fits: {exc}")
        return names, notes
    if not isinstance(getattr(lar, "predictor", None), RatePredictor):
        notes.append(
            "LAr 2020 left out of the new-physics fits: its signal does not come from a "
            "RatePredictor"
        )
        return names, notes
    return names + ["lar2020", "csi2021+lar2020"], notes


def fit_scenario(
    scenario: str,
    experiments: str,
    n_points: Sequence[int] | None = None,
    tables_dir: Path | None = None,
    rebuild_stale: bool = True,
    band: bool = True,
    part_grids: dict | None = None,
) -> ScenarioFit:
    """χ² of ``experiments`` on the scenario's summary grid (outer product of its parameter
    grids), with every nuisance profiled at every point, plus (``band``) the scan along a
    mediator's cancellation band (``cancellation_band_scan``); the minimum over both,
    refined by Nelder–Mead, is the best fit. Best fits within half a grid step of a range
    end are listed in ``on_edge`` (arbitrary edge) or ``at_bound`` (physical bound).

    Planes are evaluated coarse to fine (``scan.coarse_to_fine``: exact where Δχ² < 25, NaN
    far beyond); ``part_grids`` (a dict shared between calls) keeps each experiment's plane,
    so a combination with independent nuisances adds its parts' χ² instead of refitting."""
    sc = SCENARIOS[scenario]
    exp = model_experiment(
        experiments, scenario, tables_dir=tables_dir, rebuild_stale=rebuild_stale
    )
    params = sc.parameters_for(exp.name)
    sizes = list(n_points or sc.n_points)
    grids = [p.grid(n) for p, n in zip(params, sizes, strict=True)]
    chi2 = scan(exp, grids) if len(grids) != 2 else _plane(exp, grids, part_grids)
    at = np.unravel_index(int(np.nanargmin(chi2)), chi2.shape)
    start = np.array([g[i] for g, i in zip(grids, at, strict=True)])
    best_point, chi2_min = _refine(exp, params, start, float(chi2[at]))
    chi2_sm = exp.chi2(dict(zip(exp.coupling_names, sc.sm, strict=True))) if sc.sm else None
    band_scan = cancellation_band_scan(exp, grids[0], params) if band and _has_band(exp) else None
    if band_scan is not None and np.nanmin(band_scan[2]) < chi2_min:  # the band holds the minimum
        i, j = np.unravel_index(int(np.nanargmin(band_scan[2])), band_scan[2].shape)
        start = np.array([band_scan[0][i], band_scan[1][i, j]])
        best_point, chi2_min = _refine(exp, params, start, float(band_scan[2][i, j]))
    best = dict(zip(exp.coupling_names, map(float, best_point), strict=True))
    fit = exp.fit(best)
    sign_free = mirror_degenerate(exp, params, best, chi2_min)
    ndof = fit.ndof - len(sc.parameters)
    on_edge, at_bound = edges_of(params, best, sizes, sc.flat_beyond)
    return ScenarioFit(
        scenario,
        exp.name,
        best,
        chi2_min,
        ndof,
        chi2_sm,
        grids,
        chi2,
        params,
        on_edge,
        at_bound,
        band_scan,
        tuple(experiment_convention(p) for p in exp.parts),
        sign_free,
    )


SIGN_TOLERANCE = 1e-6
"""Largest χ² difference between a best fit and its mirror image in one parameter (p → −p,
the others kept) for which the two count as equally good (the profiles converge to 1e-10)."""


def mirror_degenerate(
    exp: Experiment, params: Sequence[ScanParameter], best: Mapping[str, float], chi2_min: float
) -> tuple[str, ...]:
    """Names of the parameters (ranges around 0) whose best-fit sign the data do not fix:
    χ² at p → −p equals χ²_min within ``SIGN_TOLERANCE``. Couplings that enter the rate only
    squared (flavour-changing NSI, the GNI scalar and tensor terms, which do not interfere
    with the SM vector current) have exactly mirrored minima, and which of the two the fit
    lands on is decided by round-off, not by the data."""
    names = []
    for p in params:
        value = best[p.name]
        if not (p.lo < 0.0 < p.hi) or value == 0.0 or not p.lo <= -value <= p.hi:
            continue
        if abs(exp.chi2({**best, p.name: -value}) - chi2_min) <= SIGN_TOLERANCE:
            names.append(p.name)
    return tuple(names)


def _plane(exp: ModelExperiment, grids: Sequence[np.ndarray], part_grids: dict | None):
    """χ² on a 2D grid, coarse to fine. A combination (independent nuisances, a sum of its
    parts' χ²) reuses its parts' planes, each computed once per ``part_grids``
    (``scan.coarse_to_fine.coarse_to_fine_sum``: only points the sum needs beyond them are
    fitted)."""
    cache = {} if part_grids is None else part_grids
    shape = (grids[0].size, grids[1].size)
    parts = []
    for part in exp.parts:
        alone = ModelExperiment([part], exp.scenario, exp.model)

        def evaluate(index, alone=alone):
            return alone.chi2_batch(np.stack([grids[0][index[:, 0]], grids[1][index[:, 1]]], 1))

        key = (exp.scenario.name, part.name, *(g.tobytes() for g in grids))
        if key not in cache:
            cache[key] = coarse_to_fine(evaluate, shape)
        parts.append((cache[key], evaluate))
    return parts[0][0] if len(parts) == 1 else coarse_to_fine_sum(parts)


BAND_G_WINDOW = (0.7, 1.45)
"""g range scanned around the cancellation coupling g_c(m), as factors (ε: ×0.5 … ×2.1)."""
BAND_POINTS = (121, 41)
"""(masses, g values) of the band scan: ≈ 1.8 % steps in g across the band."""
BAND_Q_MEV = 50.0
"""|q| used in g_c(m)² ∝ m² + q²: the typical momentum transfer of CsI/Ar recoils (√(2MT)
≈ 45–60 MeV); the g window absorbs the spread."""


def _has_band(exp: ModelExperiment) -> bool:
    return exp.model is not None and _band_eps(exp) is not None


def _band_eps(exp: ModelExperiment) -> float | None:
    """Mean over the experiment's nuclei of the model's heavy-limit cancellation coupling."""
    fn = getattr(exp.model, "cancellation_eps", None)
    if fn is None:
        return None
    values = []
    for predictor in exp.predictors:
        physics = predictor.table.attrs["physics"]  # the validated spec's, defaults filled
        for name in predictor.table.attrs["nuclei"]:
            values.append(fn(isotope(name), physics))
    if not values or any(v is None for v in values):
        return None
    return float(np.mean(values))


def cancellation_band_scan(exp: ModelExperiment, masses: np.ndarray, params):
    """χ² on a grid that follows the narrow band where the mediator amplitude cancels twice
    the SM one: ``BAND_POINTS[0]`` masses log-spaced over ``masses``, for each g from
    ``BAND_G_WINDOW`` × g_c(m), g_c the coupling of ``cancellation_eps`` at |q| =
    ``BAND_Q_MEV`` (g_c ∝ m for m ≫ q), the window clipped to the g range of ``params``
    (masses whose window lies outside it are dropped). Returns (masses (n,), g (n, k),
    χ² (n, k), coarse to fine: NaN where Δχ² ≫ 25), or None if no mass does."""
    eps_c = _band_eps(exp)
    m = np.geomspace(masses[0], masses[-1], BAND_POINTS[0])
    # the tables' ε = factor g²/(√2 G_F (m² + μ²)) at the heavy limit, with q → BAND_Q_MEV
    eps_at_g1 = exp.model.coupling_from_physical(m, np.ones_like(m))
    mu2 = exp.model.settings["mu_ref_mev"] ** 2
    g_c = np.sqrt(eps_c * (m**2 + BAND_Q_MEV**2) / (eps_at_g1 * (m**2 + mu2)))
    lo = np.maximum(g_c * BAND_G_WINDOW[0], params[1].lo)
    hi = np.minimum(g_c * BAND_G_WINDOW[1], params[1].hi)
    inside = hi > lo * 1.01
    if not inside.any():
        return None
    m, lo, hi = m[inside], lo[inside], hi[inside]
    g = np.geomspace(lo, hi, BAND_POINTS[1], axis=1)  # the window, clipped to the g range

    def evaluate(index):
        return exp.chi2_batch(np.stack([m[index[:, 0]], g[index[:, 0], index[:, 1]]], axis=1))

    return m, g, coarse_to_fine(evaluate, g.shape)


def _refine(exp: ModelExperiment, params, start: np.ndarray, chi2_start: float):
    """Nelder–Mead from the grid minimum, in the scan coordinates (log for log parameters),
    kept inside the scan ranges ``params``; returns the better of the two points."""
    from scipy.optimize import minimize

    logs = np.array([p.scale == "log" for p in params])
    lo = np.array([p.lo for p in params])
    hi = np.array([p.hi for p in params])

    def to_point(u):
        point = np.array(u, dtype=float)
        point[logs] = np.exp(point[logs])
        return point

    def objective(u):
        point = to_point(u)
        if np.any(point < lo) or np.any(point > hi):
            return np.inf
        return float(exp.chi2_batch(point[None, :])[0])

    u0 = np.array(start, dtype=float)
    u0[logs] = np.log(u0[logs])
    step = np.where(logs, 0.05, 0.01 * (hi - lo))
    simplex = np.vstack([u0] + [u0 + np.eye(len(u0))[k] * step[k] for k in range(len(u0))])
    # Out-of-range vertices are +inf; scipy's convergence test subtracts them (inf − inf), a
    # harmless NaN comparison that would otherwise print a RuntimeWarning in every reproduce.
    with np.errstate(invalid="ignore"):
        result = minimize(
            objective,
            u0,
            method="Nelder-Mead",
            options={"initial_simplex": simplex, "xatol": 1e-6, "fatol": 1e-6, "maxfev": 400},
        )
    if result.fun < chi2_start:
        return to_point(result.x), float(result.fun)
    return start, chi2_start


def experiment_convention(part: Experiment) -> str:
    """How an experiment's likelihood is set up, read from the experiment itself: its
    settings dataclass (e.g. LAr 2020 ``projection``, CsI 2021 SSB choice — whatever the
    experiment defines) and its number of analysis bins."""
    import dataclasses

    settings = getattr(part, "settings", None)
    fields = []
    if dataclasses.is_dataclass(settings):
        fields = [f"{f.name}={getattr(settings, f.name)!r}" for f in dataclasses.fields(settings)]
    bins = np.asarray(getattr(part, "observed", [])).size
    return f"{part.name}: {bins} bins; " + (", ".join(fields) or "default settings")


def _format_best(fit: ScenarioFit) -> str:
    parts = []
    for p in fit.parameters:
        unit = "" if p.unit in ("", "1") else f" {p.unit}"
        value = fit.best[p.name]
        shown = f"±{abs(value):.4g}" if p.name in fit.sign_free else f"{value:.4g}"
        parts.append(f"{p.label or p.name} = {shown}{unit}")
    return ", ".join(parts)


BAND_MASK_OVERLAP = 1.15
"""The summary grid is masked only inside the band window shrunk by this factor at both
ends, so the two grids overlap and a contour crossing the window edge has no gap."""


def _in_band_window(band, mass: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Points (mass, g) well inside the g window of a band scan (log-interpolated in mass;
    ``BAND_MASK_OVERLAP``)."""
    m, g_band, _ = band
    log_m = np.log(mass)
    covered = (log_m >= np.log(m[0])) & (log_m <= np.log(m[-1]))
    lo = np.exp(np.interp(log_m, np.log(m), np.log(g_band[:, 0])))
    hi = np.exp(np.interp(log_m, np.log(m), np.log(g_band[:, -1])))
    return covered & (g >= lo * BAND_MASK_OVERLAP) & (g <= hi / BAND_MASK_OVERLAP)


def _figure(sc: Scenario, fits: list[ScenarioFit]):
    import matplotlib.pyplot as plt

    from cevnsfast.plots import log_scale

    colours = {"csi2021": "tab:red", "lar2020": "tab:blue", "csi2021+lar2020": "k"}
    fig, ax = plt.subplots(figsize=(5.4, 4.2))
    # margins that hold the y label and the " 90 % C.L." note beside the axes: nothing
    # reaches past the canvas, so ``plots.save`` cuts the PNG from its first render
    fig.subplots_adjust(left=0.14, right=0.88)
    if len(sc.parameters) == 1:
        for f in fits:
            ax.plot(
                f.grids[0], f.chi2 - f.chi2_min, color=colours.get(f.experiment), label=f.experiment
            )
        ax.axhline(CL90[1], color="k", lw=0.6, ls=":")
        ax.text(ax.get_xlim()[1], CL90[1], " 90 % C.L.", va="center", fontsize=8)
        ax.set_ylim(0, 12)
        ax.set_xlabel(sc.parameters[0].axis_label)
        ax.set_ylabel("Δχ²")
    else:
        for f in fits:
            x, y = np.meshgrid(f.grids[0], f.grids[1], indexing="ij")
            colour = colours.get(f.experiment)
            delta = f.chi2 - f.chi2_min
            if f.band is not None:  # the band scan draws the cancellation band's window
                delta = np.where(_in_band_window(f.band, x, y), np.nan, delta)
                m, g, band_chi2 = f.band
                ax.contour(
                    np.broadcast_to(m[:, None], g.shape),
                    g,
                    band_chi2 - f.chi2_min,
                    levels=[CL90[2]],
                    colors=[colour],
                )
            ax.contour(x, y, delta, levels=[CL90[2]], colors=[colour])
            ax.plot([], [], color=colour, label=f.experiment)
            ax.plot(
                f.best[sc.parameters[0].name],
                f.best[sc.parameters[1].name],
                "+",
                color=colours.get(f.experiment),
            )
        for axis, p in (("x", sc.parameters[0]), ("y", sc.parameters[1])):
            if p.scale == "log":
                log_scale(ax, axis)
            getattr(ax, f"set_{axis}label")(p.axis_label)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=8)
    ax.set_title(
        f"{sc.title}" + ("" if len(sc.parameters) == 1 else " — 90 % C.L. (2 dof)"), fontsize=9
    )
    return fig


def scenario_summary(
    out_dir: Path,
    include_data: bool = True,
    scenarios: Sequence[str] | None = None,
    quick: bool = False,
    tables_dir: Path | None = None,
    progress: bool = False,
) -> list:
    """Best fit and χ²_min of every scenario (``SCENARIOS``) on CsI 2021, LAr 2020 and
    CsI+LAr (when LAr is available): a Markdown + CSV summary table (scenario × experiment:
    χ²_min, dof, χ²_min/dof, best fit, Δχ² of the SM) and one figure per scenario (Δχ²
    profile in 1D, 90 % C.L. contours in 2D), written to ``out_dir/models``. The best fit
    is the grid minimum refined by Nelder–Mead inside the scenario's ranges.

    ``include_data`` False (the data releases are missing) writes nothing but a note;
    ``quick`` uses coarse grids (for tests). Model tables are built (or rebuilt when stale)
    on demand. Returns ``cevnsfast.report.Artifact`` objects for ``cevnsfast reproduce``.
    """
    import csv

    from tqdm import tqdm

    from cevnsfast.plots import save
    from cevnsfast.report import Artifact

    if not include_data:
        return [
            Artifact(
                SECTION,
                "New-physics scenarios skipped",
                "note",
                None,
                "The CsI 2021 (and LAr 2020) data releases are needed for the new-physics fits "
                "of the talk; they were not found, so this section is left out.",
            )
        ]
    out = Path(out_dir) / "models"
    out.mkdir(parents=True, exist_ok=True)
    experiments, notes = available_experiments(tables_dir)
    names = list(scenarios or SCENARIOS)
    artifacts = [Artifact(SECTION, "LAr 2020 not included", "note", None, n) for n in notes]
    rows, fits_by, part_grids = [], {}, {}
    jobs = [(s, e) for s in names for e in experiments if SCENARIOS[s].combine or "+" not in e]
    for scenario, exp_name in tqdm(jobs, desc="scenarios", unit="fit", disable=not progress):
        n = None
        if quick:
            n = [9 if len(SCENARIOS[scenario].parameters) == 2 else 25] * len(
                SCENARIOS[scenario].parameters
            )
        fit = fit_scenario(scenario, exp_name, n, tables_dir, band=not quick, part_grids=part_grids)
        fits_by.setdefault(scenario, []).append(fit)
        rows.append(fit)
    header = [
        "scenario",
        "experiment",
        "best fit",
        "chi2_min",
        "dof",
        "chi2_min/dof",
        "dchi2_SM",
        "best_fit_on_edge",
        "best_fit_at_physical_bound",
    ]
    csv_path = out / "scenario_summary.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for f in rows:
            d_sm = "" if f.chi2_sm is None else f"{f.chi2_sm - f.chi2_min:.4f}"
            writer.writerow(
                [
                    f.scenario,
                    f.experiment,
                    _format_best(f),
                    f"{f.chi2_min:.4f}",
                    f.ndof,
                    f"{f.chi2_per_dof:.4f}",
                    d_sm,
                    " ".join(f.on_edge),
                    " ".join(f.at_bound),
                ]
            )
    artifacts += _edge_and_convention_notes(rows)
    md = _markdown_table(names, experiments, fits_by)
    md_path = out / "scenario_summary.md"
    md_path.write_text(md + "\n", encoding="utf-8")
    artifacts.append(
        Artifact(
            SECTION,
            "Scenario summary: χ²_min and χ²_min/dof",
            "table",
            md_path,
            "Minimum of the profiled χ² (every nuisance of each experiment profiled; grid "
            "minimum refined by Nelder–Mead) per scenario and experiment; dof = bins − free "
            "nuisances − scenario parameters. "
            "Best fits and Δχ² of the SM point are in the CSV.",
            [csv_path],
            md,
        )
    )
    for scenario in names:
        sc = SCENARIOS[scenario]
        paths = save(_figure(sc, fits_by[scenario]), out / f"{scenario}")
        artifacts.append(
            Artifact(
                SECTION,
                sc.title,
                "figure",
                paths[0],
                ("Δχ² profile" if len(sc.parameters) == 1 else "90 % C.L. allowed regions")
                + f" ({sc.model} tables; {sc.note or 'SM at zero coupling'}).",
                paths[1:],
            )
        )
    return artifacts


def _edge_and_convention_notes(fits: list[ScenarioFit]) -> list:
    """Index notes: the likelihood convention of each experiment (as the fits used it), and
    every best fit on an arbitrary range edge (also a ``UserWarning``: such a χ²_min is an
    upper bound)."""
    import warnings

    from cevnsfast.report import Artifact

    conventions = list(dict.fromkeys(c for f in fits for c in f.conventions))
    notes = [
        Artifact(
            SECTION,
            "Likelihood convention of these fits",
            "note",
            None,
            "Each experiment's likelihood as set up for these fits (its own settings; "
            "combinations add the χ² of the parts): "
            + "; ".join(f"`{c}`" for c in conventions)
            + ". Magnetic-moment, charge-radius and millicharge fits are CEvNS + ν–e "
            "scattering on CsI (electron recoils at E_ee = T_e), CEvNS only on LAr (F90 "
            "rejects electron recoils); docs/models.md §3.3. Best fits on a physical bound "
            "(μ = 0, g → 0, R_n = R_p, sin²2θ ∈ [0, 1]) "
            "are listed in the CSV column `best_fit_at_physical_bound`.",
        )
    ]
    edged = [f for f in fits if f.on_edge]
    for f in edged:
        warnings.warn(
            f"scenario {f.scenario} on {f.experiment}: best fit on the scan-range edge "
            f"({', '.join(f.on_edge)}); χ²_min is an upper bound unless χ² is flat beyond",
            stacklevel=3,
        )
    text = (
        "Best fits on a scan-range edge (column `best_fit_on_edge` of the CSV; χ²_min is "
        'then an upper bound, except at ends marked "flat beyond", where χ² no longer '
        "depends on the parameter — massless or contact mediator, Δm² → 0 or averaged "
        "oscillation, a degenerate NSI valley): "
        + "; ".join(f"{f.scenario} on {f.experiment} ({', '.join(f.on_edge)})" for f in edged)
        if edged
        else "No best fit lies on an arbitrary scan-range edge."
    )
    notes.append(Artifact(SECTION, "Best fits on range edges", "note", None, text))
    mirrored = [f for f in fits if f.sign_free]
    if mirrored:
        notes.append(
            Artifact(
                SECTION,
                "Best fits with an undetermined sign",
                "note",
                None,
                "A best-fit value printed as ±|p| has a mirror-image minimum at −p with the "
                f"same χ²_min (within {SIGN_TOLERANCE:g}); the data do not fix its sign "
                "(couplings that enter the rate only squared): "
                + "; ".join(
                    f"{f.scenario} on {f.experiment} ({', '.join(f.sign_free)})" for f in mirrored
                ),
            )
        )
    return notes


def _markdown_table(names, experiments, fits_by) -> str:
    lines = [
        "| scenario | " + " | ".join(f"{e} χ²_min (χ²/dof)" for e in experiments) + " |",
        "|---|" + "---|" * len(experiments),
    ]
    for scenario in names:
        cells = []
        by_exp = {f.experiment: f for f in fits_by[scenario]}
        for e in experiments:
            f = by_exp.get(e)
            cells.append("—" if f is None else f"{f.chi2_min:.2f} ({f.chi2_per_dof:.3f})")
        lines.append(f"| {SCENARIOS[scenario].title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
