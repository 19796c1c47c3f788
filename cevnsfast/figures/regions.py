"""Figures 6–9 of arXiv:2402.16953: 90 % C.L. regions (2 dof) of pairs of couplings.

Fig. 6: NaI, Cryo-CsI and NaI+Cryo-CsI for (ε_ee^uV, ε_μμ^uV) and (ε_ee^uV, ε_ee^dV);
Fig. 7: CsI 2021 against NaI+Cryo-CsI for four vector pairs; Fig. 8: two scalar pairs;
Fig. 9: two tensor pairs (Section V.2). Each region comes from a 2D grid scan with all
nuisances profiled and the other couplings at 0, Δχ² taken to the minimum over the plane
(polished with the exact χ²), and the cells the contour crosses refined 4× with the exact χ².
Axis ranges were chosen from a study of the regions so that the NaI+Cryo-CsI region lies
inside each frame; the CsI 2021 and single-detector bands are infinite and are cut by it.
The thin scalar bands get finer grids (at least two nodes across each band): 1201² for the cheap
Asimov χ² of the future detectors, exact everywhere, so it is not refined.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cevnsfast import plots  # noqa: E402
from cevnsfast.report import Artifact  # noqa: E402
from cevnsfast.scan.grid import GridScan, run_scan  # noqa: E402
from cevnsfast.scan.results import Region2D, best_fit, cl_label, region_2d  # noqa: E402
from cevnsfast.scan.spec import Axis, ScanSpec  # noqa: E402

CL = 0.90
DOF = 2
REFINE = 4
FUTURE = "nai+cryocsi"
SECTION = "coupling pairs"
STYLES = {
    "nai": {"color": "tab:blue", "ls": ":", "lw": 1.6, "label": "NaI"},
    "cryocsi": {"color": "tab:green", "ls": "-.", "lw": 1.4, "label": "Cryo-CsI"},
    FUTURE: {"color": "tab:red", "ls": "-", "lw": 1.0, "label": "NaI + Cryo-CsI", "fill": True},
    "csi2021": {"color": "k", "ls": "--", "lw": 1.3, "label": "CsI (2021)"},
}


def coupling_label(name: str) -> str:
    """``eps_emu_uV`` → ``$\\varepsilon_{e\\mu}^{uV}$``; other names (model parameters) as
    they are."""
    if not name.startswith("eps_") or name.count("_") != 2:
        return name
    _, flavours, qx = name.split("_")
    greek = flavours.replace("mu", r"\mu").replace("tau", r"\tau")
    return rf"$\varepsilon_{{{greek}}}^{{{qx}}}$"


@dataclass(frozen=True)
class Panel:
    """One pair of couplings, the frame (= scanned range) and the grid sizes."""

    x: str
    y: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    n_future: int = 301  # Asimov χ² is cheap (~10⁶ points/s)
    n_csi: int = 151  # CsI 2021 χ² profiles 7 nuisances (~10⁴ points/s)
    inset: float | None = None  # half-width of a zoom on the origin (thin bands)
    refine_future: int = REFINE  # 1: the Asimov grid is fine enough to be exact everywhere

    def refine(self, experiments: str) -> int:
        return REFINE if "csi2021" in experiments else self.refine_future

    def axes(self, experiments: str) -> tuple[Axis, Axis]:
        n = self.n_csi if "csi2021" in experiments else self.n_future
        return Axis(self.x, *self.x_range, n), Axis(self.y, *self.y_range, n)


EE_UV_EE_DV = Panel("eps_ee_uV", "eps_ee_dV", (-1.6, 1.3), (-1.2, 1.9))
FIGURES: dict[int, tuple[str, list[Panel], bool]] = {
    # number: (title, panels, future detectors shown separately)
    6: (
        "Fig. 6 — NaI, Cryo-CsI and combined vector NSI regions",
        [Panel("eps_ee_uV", "eps_mumu_uV", (-0.2, 0.6), (-0.15, 0.55)), EE_UV_EE_DV],
        True,
    ),
    7: (
        "Fig. 7 — vector NSI pairs: CsI 2021 vs NaI + Cryo-CsI",
        [
            EE_UV_EE_DV,
            Panel("eps_mumu_uV", "eps_mumu_dV", (-1.1, 0.75), (-0.7, 1.4)),
            Panel("eps_ee_uV", "eps_mumu_uV", (-0.2, 0.6), (-0.2, 0.6)),
            Panel("eps_ee_uV", "eps_emu_uV", (-0.2, 0.6), (-0.3, 0.3)),
        ],
        False,
    ),
    8: (
        "Fig. 8 — scalar GNI pairs: CsI 2021 vs NaI + Cryo-CsI",
        [
            Panel("eps_ee_uS", "eps_ee_dS", (-2.0, 2.0), (-2.0, 2.0), 1201, 181, 0.08, 1),
            Panel("eps_mumu_uS", "eps_mumu_dS", (-1.4, 1.4), (-1.4, 1.4), 1201, 181, 0.06, 1),
        ],
        False,
    ),
    9: (
        "Fig. 9 — tensor GNI pairs: CsI 2021 vs NaI + Cryo-CsI",
        [
            Panel("eps_emu_uT", "eps_emu_dT", (-0.8, 0.8), (-0.6, 0.6)),
            Panel("eps_etau_uT", "eps_etau_dT", (-1.1, 1.1), (-0.8, 0.8)),
        ],
        False,
    ),
}


def panel_series(number: int, include_csi: bool) -> list[str]:
    """Experiments drawn in each panel of figure ``number``, back to front."""
    separate = FIGURES[number][2]
    if separate:
        return [FUTURE, "nai", "cryocsi"]
    return [FUTURE, *(["csi2021"] if include_csi else [])]


def compute_region(experiments: str, panel: Panel) -> Region2D:
    """The 90 % C.L. (2 dof) region of ``experiments`` in ``panel``'s plane."""
    spec = ScanSpec(experiments, panel.axes(experiments))
    scanner = GridScan(spec)
    ds = run_scan(scanner, None, progress=False)
    fit = best_fit(ds, scanner)
    factor = panel.refine(experiments)
    return region_2d(ds, CL, DOF, scanner, factor=factor, min_chi2=fit.chi2_min)


def draw_region(ax, region: Region2D, style: dict) -> None:
    """Filled (``style['fill']``: the region's precomputed allowed area, as contourf would
    fill it) or outlined region on ``ax``."""
    vertices, codes = region.area
    if style.get("fill") and codes.size:
        ax.add_collection(
            PathCollection(
                [MplPath(vertices, codes)],
                facecolors=style["color"],
                edgecolors="none",
                alpha=0.55,
                antialiaseds=False,  # contourf's default for fills: no seams
            )
        )
    for line in region.lines:
        ax.plot(line[:, 0], line[:, 1], color=style["color"], ls=style["ls"], lw=style["lw"])


def region_figure(
    region: Region2D,
    title: str = "",
    style: dict | None = None,
    log_axes: tuple[bool, bool] = (False, False),
    labels: tuple[str, str] | None = None,
) -> plt.Figure:
    """One region (e.g. from ``cevnsfast scan --plot``); ``log_axes`` for log-spaced scans,
    ``labels`` to name the axes with units."""
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    draw_region(ax, region, style or {"color": "tab:red", "ls": "-", "lw": 1.0, "fill": True})
    _frame(
        ax, region.x_name, region.y_name, (region.x[0], region.x[-1]), (region.y[0], region.y[-1])
    )
    if labels is not None:
        ax.set_xlabel(labels[0], fontsize=11)
        ax.set_ylabel(labels[1], fontsize=11)
    for axis, log in zip("xy", log_axes, strict=True):
        if log:
            plots.log_scale(ax, axis)
    ax.set_title(f"{title}  {cl_label(region.cl)} C.L., {region.dof} dof".strip(), fontsize=9)
    return fig


def _frame(ax, x_name: str, y_name: str, x_range, y_range) -> None:
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    ax.set_xlabel(coupling_label(x_name), fontsize=12)
    ax.set_ylabel(coupling_label(y_name), fontsize=12)
    ax.axhline(0, color="0.8", lw=0.5, zorder=0)
    ax.axvline(0, color="0.8", lw=0.5, zorder=0)
    ax.plot([0], [0], marker="+", color="0.3", ms=7, zorder=5)
    ax.tick_params(labelsize=9)


def _inset(ax, panel: Panel, drawn: list[tuple[Region2D, dict]]) -> None:
    """A zoom on the origin in the lower-left corner, where thin bands show their width."""
    w = panel.inset
    sub = ax.inset_axes([0.14, 0.1, 0.32, 0.32])
    for region, style in drawn:
        draw_region(sub, region, style)
    sub.set_xlim(-w, w)
    sub.set_ylim(-w, w)
    sub.plot([0], [0], marker="+", color="0.3", ms=6)
    sub.tick_params(labelsize=6)
    sub.xaxis.set_major_locator(MaxNLocator(3))
    sub.yaxis.set_major_locator(MaxNLocator(3))
    sub.set_title(f"zoom ±{w:g}", fontsize=7, pad=2)
    ax.indicate_inset_zoom(sub, edgecolor="0.5")


def _legend(ax, series: list[str]) -> None:
    handles = []
    for name in series:
        s = STYLES[name]
        if s.get("fill"):
            handles.append(
                Patch(facecolor=s["color"], alpha=0.55, edgecolor=s["color"], label=s["label"])
            )
        else:
            handles.append(
                Line2D([], [], color=s["color"], ls=s["ls"], lw=s["lw"], label=s["label"])
            )
    ax.legend(handles=handles, fontsize=8, loc="best", framealpha=0.85)


def _caption(number: int, include_csi: bool, panels: list[Panel]) -> str:
    level = "90 % C.L. allowed regions for two degrees of freedom (Δχ² ≤ 4.61 to the minimum "
    level += "over the plane; all nuisances profiled, the other couplings at 0)"
    if number == 6:
        what = (
            "NaI (blue dotted), Cryo-CsI (green dash-dotted) and their combination (red "
            "filled), 3 years each"
        )
    else:
        what = "NaI + Cryo-CsI, 3 years each (red filled)"
        what += (
            "; COHERENT CsI 2021 data (black dashed)"
            if include_csi
            else "; the CsI 2021 regions are not drawn because the CsI 2021 data release was "
            "not found (only the future detectors are shown)"
        )
    grids = []
    for exp in panel_series(number, include_csi):
        for p in panels:
            n, factor = p.axes(exp)[0].n, p.refine(exp)
            refined = f", refined {factor}× near the contour" if factor > 1 else ""
            text = f"{n}² ({STYLES[exp]['label']}{refined})"
            if text not in grids:
                grids.append(text)
    zoom = (
        " Insets zoom on the origin to show the width of the bands."
        if any(p.inset for p in panels)
        else ""
    )
    return (
        f"{level}: {what}. Grids per panel: {', '.join(grids)}; the refinement evaluates the "
        f"exact χ² in the grid cells the contour crosses. The + marks the Standard Model.{zoom}"
    )


def region_jobs(include_csi: bool) -> list[tuple[str, Panel]]:
    """Every (experiments, panel) region Figs. 6–9 draw, once each (independent scans:
    ``compute_region``)."""
    jobs = []
    for number, (_, panels, _) in FIGURES.items():
        for panel in panels:
            for exp in panel_series(number, include_csi):
                if (exp, panel) not in jobs:
                    jobs.append((exp, panel))
    return jobs


def paper_region_figures(out_dir: Path, include_csi: bool, progress: bool = True) -> list[Artifact]:
    """Figs. 6–9 (PNG + PDF) and a table of each region's extent, into ``out_dir``."""
    from tqdm import tqdm

    jobs = region_jobs(include_csi)
    regions: dict[tuple[str, Panel], Region2D] = {}
    with tqdm(
        total=len(jobs), desc="regions (Figs. 6-9)", unit="scan", disable=not progress
    ) as bar:
        for exp, panel in jobs:
            bar.set_postfix_str(f"{exp} {panel.x} {panel.y}", refresh=True)
            regions[(exp, panel)] = compute_region(exp, panel)
            bar.update(1)
    return draw_region_figures(out_dir, include_csi, regions)


def figure_jobs(number: int, include_csi: bool) -> list[tuple[str, Panel]]:
    """The (experiments, panel) regions Fig. ``number`` draws (a subset of ``region_jobs``)."""
    _, panels, _ = FIGURES[number]
    return [(exp, panel) for panel in panels for exp in panel_series(number, include_csi)]


def draw_region_figure(
    out_dir: Path, number: int, include_csi: bool, regions: dict[tuple[str, Panel], Region2D]
) -> Artifact:
    """Fig. ``number`` (PNG + PDF) from its computed ``regions`` (``figure_jobs``)."""
    title, panels, _ = FIGURES[number]
    series = panel_series(number, include_csi)
    ncols = min(2, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.8 * ncols, 4.3 * nrows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    for ax, panel in zip(axes.ravel(), panels, strict=False):
        for exp in series:
            draw_region(ax, regions[(exp, panel)], STYLES[exp])
        _frame(ax, panel.x, panel.y, panel.x_range, panel.y_range)
        _legend(ax, series)
        if panel.inset:
            _inset(ax, panel, [(regions[(exp, panel)], STYLES[exp]) for exp in series])
    fig.suptitle(title.split(" — ")[1] + " (90 % C.L., 2 dof)", fontsize=11)
    fig.tight_layout()
    paths = plots.save(fig, Path(out_dir) / f"fig{number}_regions")
    return Artifact(
        SECTION, title, "figure", paths[0], _caption(number, include_csi, panels), paths[1:]
    )


def draw_region_figures(
    out_dir: Path, include_csi: bool, regions: dict[tuple[str, Panel], Region2D]
) -> list[Artifact]:
    """Figs. 6–9 and the extent table from the computed ``regions`` (``region_jobs``)."""
    artifacts = [draw_region_figure(out_dir, n, include_csi, regions) for n in FIGURES]
    return [*artifacts, region_extent_table(out_dir, regions, include_csi)]


def region_extent_table(out_dir: Path, regions: dict, include_csi: bool) -> Artifact:
    """Markdown + CSV: each region's extent on the grid and whether it closes in the frame."""
    rows = []
    for number, (_, panels, _) in FIGURES.items():
        for panel in panels:
            for exp in panel_series(number, include_csi):
                region = regions[(exp, panel)]
                box = region.bounding_box()
                (x0, x1), (y0, y1) = box if box else ((np.nan, np.nan), (np.nan, np.nan))
                row = (number, panel.x, panel.y, exp, x0, x1, y0, y1, region.closed)
                if row not in rows:
                    rows.append(row)
    header = ["fig", "x", "y", "experiments", "x_lo", "x_hi", "y_lo", "y_hi", "closed"]
    csv_path = out_dir / "regions_extent.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            writer.writerow([*r[:4], *(f"{v:.4g}" for v in r[4:8]), r[8]])
    md = [
        "| Fig. | pair | experiments | x range | y range | inside frame |",
        "|---|---|---|---|---|---|",
    ]
    for n, x, y, exp, x0, x1, y0, y1, closed in rows:
        md.append(
            f"| {n} | ({x}, {y}) | {STYLES[exp]['label']} | [{x0:.3g}, {x1:.3g}] | "
            f"[{y0:.3g}, {y1:.3g}] | {'yes' if closed else 'no (cut by the frame)'} |"
        )
    md_text = "\n".join(md)
    md_path = out_dir / "regions_extent.md"
    md_path.write_text(md_text + "\n", encoding="utf-8")
    return Artifact(
        SECTION,
        "Figs. 6–9 — extent of the 90 % C.L. regions",
        "table",
        md_path,
        "Smallest and largest allowed grid values of each coupling in each panel's frame "
        "(2 dof, 90 % C.L.); regions cut by the frame extend beyond it.",
        [csv_path],
        md_text,
    )
