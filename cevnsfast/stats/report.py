"""The ``reproduce`` section "Beyond Wilks": Feldman–Cousins against Wilks for the CsI 2021
ε_ee^uV and ε_μμ^uV profiles, and the empirical coverage of both at the SM point.

Modest toy numbers keep it to seconds (``TOYS``); the benchmark (bench/stats_bench.py) and
``cevnsfast profile … --toys 1000`` give the full-precision bands.
"""

from pathlib import Path

import numpy as np

SECTION = "Beyond Wilks: Feldman–Cousins and coverage (CsI 2021)"
PARAMS = {"eps_ee_uV": (-0.2, 0.6), "eps_mumu_uV": (-0.2, 0.6)}
"""Profiles of the section and their ranges (both degenerate minima inside)."""
POINTS = 31
TOYS = 80
COVERAGE_TOYS = 200
CL = 0.9


def fc_section(out_dir: Path, include_csi: bool = True, seed: int = 0) -> list:
    """Figures (Δχ², FC critical value, Wilks line) and one table (Wilks and FC 90 % C.L.
    intervals; coverage of both at ε = 0 with binomial errors) → ``Artifact`` list."""
    from cevnsfast.likelihood.registry import experiment
    from cevnsfast.plots import save
    from cevnsfast.report import Artifact
    from cevnsfast.scan.intervals import delta_chi2_threshold, format_intervals, intervals_1d
    from cevnsfast.scan.spec import Axis
    from cevnsfast.stats.coverage import coverage
    from cevnsfast.stats.feldman_cousins import (
        BeltSpec,
        fc_intervals,
        grid_points,
        observed_delta_chi2,
        run_belt,
    )
    from cevnsfast.stats.figures import fc_profile_figure

    if not include_csi:
        return [Artifact(SECTION, "Skipped", "note", None, "Needs the CsI 2021 data release.")]
    out = Path(out_dir) / "stats"
    out.mkdir(parents=True, exist_ok=True)
    wilks = delta_chi2_threshold(CL, 1)
    rows, artifacts = [], []
    for param, (lo, hi) in PARAMS.items():
        axis = Axis(param, lo, hi, POINTS)
        exp = experiment("csi2021", [param])
        points = grid_points(exp, [axis], {})
        spec = BeltSpec("csi2021", (axis,), {}, None, TOYS, seed)
        belt = run_belt(spec, progress=False, experiment=exp)
        crit, err = belt.critical(CL)
        d = observed_delta_chi2(exp, points)
        fc_iv = fc_intervals(axis.values, d, crit)
        w_iv = intervals_1d(axis.values, d, wilks, min_chi2=0.0)
        sm = int(np.argmin(np.abs(axis.values)))
        cov = coverage(exp, points, (POINTS,), sm, CL, COVERAGE_TOYS, TOYS, seed)
        fig = fc_profile_figure(
            axis.values, d, crit, err, wilks, param,
            f"CsI 2021: Feldman–Cousins ({TOYS} toys/point) vs Wilks", "90 %",
        )  # fmt: skip
        paths = save(fig, out / f"fc_csi2021_{param}")
        artifacts.append(
            Artifact(
                SECTION,
                f"Feldman–Cousins vs Wilks: {param}",
                "figure",
                paths[0],
                f"Δχ² of the CsI 2021 data (nuisances profiled), the toy critical value "
                f"c({param}) at 90 % C.L. (band: MC error, {TOYS} toys per point, nuisances at "
                "their conditional fit, auxiliary measurements fluctuated) and Wilks' 2.71.",
                paths[1:],
            )
        )
        rows.append(
            (param, format_intervals(w_iv, 3), format_intervals(fc_iv, 3),
             f"{cov.wilks:.3f} ± {cov.wilks_error:.3f}", f"{cov.fc:.3f} ± {cov.fc_error:.3f}",
             f"{cov.fc_critical:.2f} ± {cov.fc_critical_error:.2f}")
        )  # fmt: skip
    header = ("parameter", "Wilks 90 %", "FC 90 %", "coverage Wilks", "coverage FC", "c(0)")
    md = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(r) + " |" for r in rows]
    )
    md_path = out / "fc_vs_wilks.md"
    md_path.write_text(md + "\n", encoding="utf-8")
    csv_path = out / "fc_vs_wilks.csv"
    csv_path.write_text(
        "\n".join([",".join(header)] + [",".join(f'"{c}"' for c in r) for r in rows]) + "\n",
        encoding="utf-8",
    )
    artifacts.append(
        Artifact(
            SECTION,
            "Intervals and coverage at the SM point",
            "table",
            md_path,
            f"90 % C.L. intervals on the {POINTS}-point grid; coverage at ε = 0 from "
            f"{COVERAGE_TOYS} toys (binomial errors), c(0) from an independent {TOYS}.",
            [csv_path],
            md,
        )
    )
    return artifacts
