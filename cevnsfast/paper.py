"""The single-coupling results of arXiv:2402.16953 §V.1: Figs. 1–5 and Tables 2–4.

Profiles are Δχ²(ε) with one coupling non-zero and every nuisance profiled; for CsI 2021
Δχ² is taken to the minimum along the scanned line (real data), for the Asimov future
detectors to the SM point (χ² = 0 there). Intervals are the unions of disjoint allowed
ranges at 1σ (Δχ² = 1) and 90 % C.L. (Δχ² = 2.706), one degree of freedom.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cevnsfast import plots
from cevnsfast.likelihood.registry import experiment
from cevnsfast.report import Artifact
from cevnsfast.scan.intervals import Interval, delta_chi2_threshold, format_intervals, intervals_1d

FUTURE = "nai+cryocsi"
VECTOR = [f"eps_{f}_{q}V" for q in "ud" for f in ("ee", "emu", "mumu")]
SCALAR = [f"eps_{f}_{q}S" for q in "ud" for f in ("ee", "emu", "mumu")]
TENSOR = [f"eps_{f}_{q}T" for q in "ud" for f in ("emu", "etau", "mutau")]
STYLE = {
    "csi2021": {"color": "k", "ls": "--", "label": "CsI (2021)"},
    "nai": {"color": "tab:blue", "ls": ":", "label": "NaI"},
    "cryocsi": {"color": "tab:green", "ls": "-.", "label": "Cryo-CsI"},
    FUTURE: {"color": "tab:red", "ls": "-", "label": "NaI + Cryo-CsI"},
}
POINTS = 801
LEVELS = {"1σ": "1sigma", "90% C.L.": 0.90}


def latex_name(coupling: str) -> str:
    """eps_emu_uV → $\\varepsilon_{e\\mu}^{uV}$ for axis labels."""
    _, flavours, qx = coupling.split("_")
    greek = flavours.replace("mu", r"\mu").replace("tau", r"\tau")
    return rf"$\varepsilon_{{{greek}}}^{{{qx}}}$"


@dataclass
class CouplingProfile:
    experiment: str
    coupling: str
    values: np.ndarray
    delta_chi2: np.ndarray

    def intervals(self, cl) -> list[Interval]:
        return intervals_1d(self.values, self.delta_chi2, delta_chi2_threshold(cl, 1))


COARSE_SPAN = 1.0
COARSE_POINTS = 2001
KEEP_DELTA_CHI2 = 16.0


def scan_range(chi2_of: Callable[[np.ndarray], np.ndarray]) -> tuple[float, float]:
    """Range holding every region with Δχ² < 16 (all allowed regions, including disjoint
    degenerate minima far from zero), from a coarse scan over ±1 that widens ×4 while the
    allowed set touches its edge; padded by a quarter of its width."""
    span = COARSE_SPAN
    for _ in range(6):
        coarse = np.linspace(-span, span, COARSE_POINTS)
        chi2 = chi2_of(coarse)
        kept = coarse[chi2 - chi2.min() < KEEP_DELTA_CHI2]
        if -span < kept.min() and kept.max() < span:
            break
        span *= 4.0
    step = coarse[1] - coarse[0]
    pad = max(0.25 * (kept.max() - kept.min()), 4 * step)
    return kept.min() - pad, kept.max() + pad


def profiles_on_common_grid(names: list[str], coupling: str) -> dict:
    """Δχ²(coupling) of each experiment (nuisances profiled) on one fine grid spanning every
    experiment's allowed regions, so that e.g. a second minimum that one experiment allows
    and a combination lifts shows in both curves."""
    chi2_of = {}
    for name in names:
        exp = experiment(name, [coupling])
        chi2_of[name] = lambda grid, exp=exp: exp.chi2_batch(grid[:, None])
    ranges = [scan_range(f) for f in chi2_of.values()]
    grid = np.linspace(min(r[0] for r in ranges), max(r[1] for r in ranges), POINTS)
    out = {}
    for name, f in chi2_of.items():
        chi2 = f(grid)
        out[(name, coupling)] = CouplingProfile(name, coupling, grid, chi2 - chi2.min())
    return out


def spectra_figure(out_dir: Path) -> Artifact:
    """Fig. 1: expected SM signal and steady-state background of NaI and Cryo-CsI."""
    from cevnsfast.detectors.spec import load_spec
    from cevnsfast.likelihood.asimov import steady_state_background
    from cevnsfast.rates import RatePredictor

    fig, axes = plots.plt.subplots(1, 2, figsize=(11, 4.2))
    totals = {}
    for ax, name, title in zip(
        axes, ("nai", "cryocsi"), ("NaI (Na recoils)", "Cryo-CsI"), strict=True
    ):
        pred = RatePredictor(name, [])
        edges = pred.bin_edges
        signal = pred.counts()
        background = steady_state_background(load_spec(name))
        totals[name] = (signal.sum(), background.sum())
        ax.stairs(signal, edges, color="tab:red", lw=1.8, label=f"CEvNS, SM ({signal.sum():.0f})")
        ax.stairs(
            background,
            edges,
            color="tab:gray",
            lw=1.5,
            ls="--",
            label=f"steady-state bkg. ({background.sum():.0f})",
        )
        plots.log_scale(ax, "y")
        ax.set_xlabel(f"reconstructed energy [{pred.unit}]")
        ax.set_ylabel("events / bin (3 years)")
        ax.set_title(title)
        ax.legend(fontsize=8)
    path = plots.save(fig, out_dir / "fig1_spectra")
    caption = (
        "Expected SM CEvNS signal and steady-state background after 3 years at 2 MW "
        f"(NaI: {totals['nai'][0]:.0f} signal / {totals['nai'][1]:.3g} background events; "
        f"Cryo-CsI: {totals['cryocsi'][0]:.0f} / {totals['cryocsi'][1]:.3g}). Background levels "
        "are [assumed] settings of the detector specs (docs/physics.md)."
    )
    return Artifact(
        "future detectors", "Fig. 1 — expected spectra", "figure", path[0], caption, path[1:]
    )


def event_totals_table(out_dir: Path, detectors: list[str]) -> Artifact:
    """SM CEvNS events per detector and flux component (prompt ν_μ, delayed ν_e, ν̄_μ), with
    the steady-state background of the Asimov detectors: the totals behind Fig. 1."""
    from cevnsfast.detectors.spec import load_spec
    from cevnsfast.likelihood.asimov import steady_state_background
    from cevnsfast.nuclei import isotope
    from cevnsfast.physics.cross_sections import weak_charge_sm
    from cevnsfast.physics.flux import COMPONENT_NAMES
    from cevnsfast.rates import load_detector_table

    header = ["detector", *COMPONENT_NAMES, "CEvNS total", "background"]
    rows = []
    for name in detectors:
        table = load_detector_table(name)
        base = table.arrays["base"]  # [nucleus, component, structure, bin]
        physics = table.attrs["physics"]  # the validated spec's, defaults filled
        q2 = np.array(
            [
                weak_charge_sm(isotope(n), physics["sin2_theta_w"], physics["weak_charge"]) ** 2
                for n in table.attrs["nuclei"]
            ]
        )
        per_component = np.einsum("n,nfb->f", q2, base[:, :, 0, :])
        spec = load_spec(name)
        background = steady_state_background(spec).sum() if "background" in spec.raw else None
        rows.append(
            [
                name,
                *(f"{v:.1f}" for v in per_component),
                f"{per_component.sum():.1f}",
                "—" if background is None else f"{background:.4g}",
            ]
        )
    md = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
    md += "".join("| " + " | ".join(r) + " |\n" for r in rows)
    md_path, csv_path = out_dir / "event_totals.md", out_dir / "event_totals.csv"
    md_path.write_text(f"# SM event totals\n\n{md}", encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    caption = (
        "Standard-Model CEvNS events in the analysis bins by flux component (numu: prompt "
        "ν_μ; nue, numubar: delayed), and the steady-state background of the future "
        "detectors (csi2021: in the 9 × 11 PE × time grid, after the timing efficiency)."
    )
    return Artifact("future detectors", "Event totals", "table", md_path, caption, [csv_path], md)


def profile_figure(
    out_dir: Path,
    stem: str,
    title: str,
    couplings: list[str],
    experiments: list[str],
    profiles: dict,
) -> Artifact:
    """A grid of Δχ² panels (u couplings on top, d below)."""
    n_cols = len(couplings) // 2 if len(couplings) > 2 else len(couplings)
    n_rows = 2 if len(couplings) > 2 else 1
    fig, axes = plots.plt.subplots(
        n_rows, n_cols, figsize=(4.2 * n_cols, 3.6 * n_rows), squeeze=False
    )
    for ax, coupling in zip(axes.ravel(), couplings, strict=True):
        for name in experiments:
            p = profiles[(name, coupling)]
            style = dict(STYLE[name])
            ax.plot(
                p.values, p.delta_chi2, color=style["color"], ls=style["ls"], label=style["label"]
            )
        ax.set_xlim(p.values[0], p.values[-1])
        for level in (1.0, 2.706):
            ax.axhline(level, color="0.6", lw=0.6, ls=":")
        ax.set_ylim(0, 10)
        ax.set_xlabel(latex_name(coupling))
        ax.set_ylabel(r"$\Delta\chi^2$")
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path = plots.save(fig, out_dir / stem)
    return Artifact(
        "single couplings",
        title,
        "figure",
        path[0],
        "Dotted lines: Δχ² = 1 (1σ) and 2.706 (90 % C.L.), one degree of freedom.",
        path[1:],
    )


def interval_table(
    out_dir: Path,
    stem: str,
    title: str,
    couplings: list[str],
    experiments: list[str],
    profiles: dict,
) -> Artifact:
    """Tables 2–4: 1σ and 90 % C.L. allowed ranges, Markdown and CSV."""
    header = ["coupling"] + [f"{STYLE[e]['label']} {lvl}" for e in experiments for lvl in LEVELS]
    rows = []
    for coupling in couplings:
        row = [coupling]
        for name in experiments:
            for cl in LEVELS.values():
                row.append(format_intervals(profiles[(name, coupling)].intervals(cl)))
        rows.append(row)
    md = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
    md += "".join("| " + " | ".join(r) + " |\n" for r in rows)
    md_path = out_dir / f"{stem}.md"
    csv_path = out_dir / f"{stem}.csv"
    md_path.write_text(f"# {title}\n\n{md}", encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return Artifact(
        "single couplings",
        title,
        "table",
        md_path,
        "Disjoint allowed ranges are listed as unions.",
        [csv_path],
        md,
    )


def single_coupling_results(out_dir: Path, include_csi: bool, progress=None) -> list[Artifact]:
    """Figs. 2–5 and Tables 2–4 (CsI 2021 columns only when its data release is available)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    main = (["csi2021"] if include_csi else []) + [FUTURE]
    jobs = [(["nai", "cryocsi", FUTURE], c) for c in ("eps_ee_uV", "eps_mumu_uV")]
    jobs += [(main, c) for c in VECTOR + SCALAR + TENSOR]
    profiles, fig2 = {}, {}
    for names, coupling in jobs:
        target = fig2 if len(names) == 3 else profiles
        target.update(profiles_on_common_grid(names, coupling))
        if progress is not None:
            progress.update(1)
    artifacts = [
        profile_figure(
            out_dir,
            "fig2_nai_cryocsi",
            "Fig. 2 — flavour-diagonal vector NSI",
            ["eps_ee_uV", "eps_mumu_uV"],
            ["nai", "cryocsi", FUTURE],
            fig2,
        ),
    ]
    for stem, title, couplings in (
        ("fig3_vector", "Fig. 3 — vector couplings", VECTOR),
        ("fig4_scalar", "Fig. 4 — scalar couplings", SCALAR),
        ("fig5_tensor", "Fig. 5 — tensor couplings", TENSOR),
    ):
        artifacts.append(profile_figure(out_dir, stem, title, couplings, main, profiles))
    for stem, title, couplings in (
        ("table2_vector", "Table 2 — vector couplings", VECTOR),
        ("table3_scalar", "Table 3 — scalar couplings", SCALAR),
        ("table4_tensor", "Table 4 — tensor couplings", TENSOR),
    ):
        artifacts.append(interval_table(out_dir, stem, title, couplings, main, profiles))
    return artifacts


def n_profile_jobs() -> int:
    """Progress-bar steps of ``single_coupling_results``: one per coupling panel."""
    return 2 + len(VECTOR + SCALAR + TENSOR)
