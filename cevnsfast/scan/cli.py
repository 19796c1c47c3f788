"""``cevnsfast scan``: dense profile-likelihood grid scans from the command line."""

import sys
from pathlib import Path

import click
import numpy as np

from cevnsfast import strict_json
from cevnsfast.stats.cli import fc_options, fc_scan


def _parse_cl(text: str) -> float | str:
    """'0.9' → 0.9; '90%', '1sigma' stay strings (``delta_chi2_threshold`` reads them)."""
    from cevnsfast.scan.intervals import delta_chi2_threshold

    try:
        cl: float | str = float(text)
    except ValueError:
        cl = text
    try:
        delta_chi2_threshold(cl, 1)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--cl") from None
    return cl


def _build_spec(experiments, params, assignments, profiled, chunk, model=None):
    from cevnsfast.cli import _parse_assignments
    from cevnsfast.scan.spec import DEFAULT_PROFILE_RANGE, Axis, ScanSpec

    try:
        axes = tuple(Axis.parse(p) for p in params)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--param") from None
    try:
        prof = tuple(Axis.parse(p, DEFAULT_PROFILE_RANGE) for p in profiled)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--profile") from None
    chunks = None
    if chunk:
        try:
            chunks = tuple(int(c) for c in chunk.split(","))
        except ValueError:
            raise click.BadParameter(f"{chunk!r} is not N[,N…]", param_hint="--chunk") from None
    try:
        fixed = _parse_assignments(assignments, model)
        return ScanSpec(experiments, axes, fixed, prof, chunks, model=model)
    except ValueError as err:
        raise click.UsageError(str(err)) from None


def _summary(ds, scanner, cl, refine: int) -> dict:
    """Best fit, χ²_min, 1D intervals (1 dof) and the joint region (N dof)."""
    from cevnsfast.scan.intervals import delta_chi2_threshold
    from cevnsfast.scan.results import best_fit, intervals, region_2d

    fit = best_fit(ds, scanner)
    dims = list(ds["chi2"].dims)
    out = {
        "experiments": ds.attrs["experiments"],
        "axes": {d: [float(ds[d].values[0]), float(ds[d].values[-1]), ds[d].size] for d in dims},
        "fixed": ds.attrs["fixed"],
        "profiled": fit.profiled,
        "best_fit": fit.values,
        "chi2_min": fit.chi2_min,
        "grid_chi2_min": fit.grid_chi2_min,
        "cl": cl,
        "intervals_1d": {},
    }
    ivs = intervals(ds, cl, scanner if len(dims) == 1 else None, min_chi2=fit.chi2_min)
    out["intervals_1d"] = {
        k: [{"lo": i.lo, "hi": i.hi, "lo_open": i.lo_open, "hi_open": i.hi_open} for i in v]
        for k, v in ivs.items()
    }
    out["_intervals"] = ivs
    if len(dims) == 2:
        region = region_2d(ds, cl, 2, scanner, factor=refine, min_chi2=fit.chi2_min)
        box = region.bounding_box()
        out["region"] = {
            "dof": 2,
            "threshold": region.threshold,
            "lines": len(region.lines),
            "closed": region.closed,
            "bounding_box": box,
            "refined_evaluations": region.n_evaluations,
        }
        out["_region"] = region
    elif len(dims) > 2:
        threshold = delta_chi2_threshold(cl, len(dims))
        allowed = ds["chi2"].values - fit.chi2_min <= threshold
        box = {}
        for k, d in enumerate(dims):
            axis_any = allowed.any(axis=tuple(i for i in range(len(dims)) if i != k))
            vals = ds[d].values[axis_any]
            box[d] = [float(vals.min()), float(vals.max())] if vals.size else None
        out["region"] = {
            "dof": len(dims),
            "threshold": threshold,
            "allowed_fraction": float(allowed.mean()),
            "bounding_box": box,
        }
    out["warnings"] = _profile_edge_warnings(ds, scanner, fit.chi2_min, cl)
    return out


def _profile_edge_warnings(ds, scanner, chi2_min: float, cl) -> list[str]:
    """Profiled couplings whose best value sits on their range edge inside the region."""
    from cevnsfast.scan.intervals import delta_chi2_threshold

    allowed = ds["chi2"].values - chi2_min <= delta_chi2_threshold(cl, ds["chi2"].ndim)
    notes = []
    for axis in scanner.spec.profiled:
        best = ds[f"best_{axis.name}"].values[allowed]
        tol = 1e-9 * (axis.hi - axis.lo)
        if np.any(best <= axis.lo + tol) or np.any(best >= axis.hi - tol):
            notes.append(
                f"profiled {axis.name} reaches the edge of its range [{axis.lo:g}, {axis.hi:g}] "
                "inside the allowed region: widen it (--profile NAME=LO:HI:N)"
            )
    return notes


def _print_summary(info: dict, ds) -> None:
    from cevnsfast.scan.intervals import format_intervals
    from cevnsfast.scan.results import cl_label

    axes = ", ".join(f"{k} [{lo:g}, {hi:g}] ({n})" for k, (lo, hi, n) in info["axes"].items())
    click.echo(f"{info['experiments']}: grid over {axes}")
    if info["fixed"]:
        click.echo("  fixed: " + ", ".join(f"{k} = {v:g}" for k, v in info["fixed"].items()))
    done, total = ds.attrs["chunks_done"], ds.attrs["chunks_total"]
    if done < total:
        click.echo(f"  WARNING: only {done} of {total} chunks are done; results are partial")
    fit = ", ".join(f"{k} = {v:.6g}" for k, v in info["best_fit"].items())
    click.echo(f"  best fit: {fit}")
    for k, v in info["profiled"].items():
        click.echo(f"    profiled {k} = {v:.6g}")
    click.echo(
        f"  chi2_min = {info['chi2_min']:.6f}  (lowest grid point {info['grid_chi2_min']:.6f})"
    )
    how = " (other axes minimised on the grid)" if len(info["axes"]) > 1 else ""
    click.echo(f"  {cl_label(info['cl'])} C.L. intervals, 1 dof{how}:")
    for k, v in info["_intervals"].items():
        click.echo(f"    {k:16} {format_intervals(v, 4)}")
    if "_region" in info:
        click.echo(f"  joint region: {info['_region'].summary()}")
    elif "region" in info:
        r = info["region"]
        click.echo(
            f"  joint region ({r['dof']} dof, Δχ² ≤ {r['threshold']:.3f}): "
            f"{100 * r['allowed_fraction']:.3g} % of the grid allowed; extent:"
        )
        for k, v in r["bounding_box"].items():
            shown = "none" if v is None else f"[{v[0]:.4g}, {v[1]:.4g}]"
            click.echo(f"    {k:16} {shown}")


@click.command()
@click.argument("experiments")
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="NAME=LO:HI:N[:log]",
    help="A grid axis, e.g. eps_ee_uV=-0.5:0.5:201 or g=1e-5:1e-3:61:log (repeat for more "
    "dimensions).",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Another coupling held fixed (repeatable; couplings not named are 0).",
)
@click.option(
    "--profile",
    "profiled",
    multiple=True,
    metavar="NAME[=LO:HI:N]",
    help="A coupling minimised at every grid point over LO..HI, N coarse nodes then a local "
    "polish (default -1:1:41).",
)
@click.option("--out", type=click.Path(path_type=Path), help="Zarr store for the results.")
@click.option("--resume", is_flag=True, help="Continue the store at --out (unfinished chunks).")
@click.option("--overwrite", is_flag=True, help="Replace an existing store at --out.")
@click.option("--scheduler", metavar="ADDRESS", help="Run on this Dask scheduler.")
@click.option("--workers", type=click.IntRange(1), help="Run on a local Dask cluster of N.")
@click.option("--chunk", metavar="N[,N…]", help="Chunk shape (default: ~10^4 points a chunk).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every grid point (couplings, chi2, delta_chi2, profiled values) to FILE.",
)
@click.option("--cl", default="0.9", show_default=True, help="0.9, '95%', '1sigma', …")
@click.option(
    "--refine",
    type=click.IntRange(1),
    default=4,
    show_default=True,
    help="Subdivision of 2D cells crossed by the contour (exact χ² there).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="2D scans: draw the region to FILE.png/.pdf.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--model",
    default=None,
    metavar="NAME",
    help="Model whose parameters --param/--set/--profile name (default: NSI/GNI couplings; "
    "list: cevnsfast models).",
)
@fc_options
def scan(
    experiments: str,
    params: tuple[str, ...],
    assignments: tuple[str, ...],
    profiled: tuple[str, ...],
    out: Path | None,
    resume: bool,
    overwrite: bool,
    scheduler: str | None,
    workers: int | None,
    chunk: str | None,
    csv_path: Path | None,
    cl: str,
    refine: int,
    plot: Path | None,
    as_json: bool,
    no_progress: bool,
    model: str | None,
    **fc,
) -> None:
    """Profile-likelihood grid scan of EXPERIMENTS (e.g. csi2021, nai+cryocsi).

    Every grid point's χ² has all nuisances profiled; prints the best fit, χ²_min, 1D
    intervals and the 2D region (or N-dimensional extent) at --cl; with --toys N (2D),
    Feldman–Cousins critical values on the grid and the FC region as well.
    """
    from cevnsfast.scan.grid import GridScan, run_scan
    from cevnsfast.scan.store import to_csv

    cl_value = _parse_cl(cl)
    if resume and out is None:
        raise click.UsageError("--resume needs --out STORE")
    if scheduler and workers:
        raise click.UsageError("give --scheduler ADDRESS or --workers N, not both")
    if (scheduler or workers) and out is None:
        raise click.UsageError("a Dask scan writes to a store: give --out STORE")
    spec = _build_spec(experiments, params, assignments, profiled, chunk, model)
    scanner = GridScan(spec)
    progress = not no_progress and not as_json
    try:
        if scheduler or workers:
            from cevnsfast.scan.distributed import run_scan_dask

            ds = run_scan_dask(
                scanner,
                out,
                scheduler=scheduler,
                workers=workers,
                resume=resume,
                overwrite=overwrite,
                progress=progress,
            )
        else:
            ds = run_scan(scanner, out, resume=resume, overwrite=overwrite, progress=progress)
    except KeyboardInterrupt:
        where = f"{out}; continue with --resume" if out else "memory only (no --out): lost"
        click.echo(f"\ninterrupted: finished chunks are in {where}", err=True)
        sys.exit(130)
    except (FileExistsError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    if csv_path is not None:
        click.echo(f"wrote {to_csv(ds, csv_path)}", err=True)
    info = _summary(ds, scanner, cl_value, refine)
    if fc["toys"]:
        info["feldman_cousins"] = fc_scan(experiments, ds, spec, cl_value, fc, plot)
    if plot is not None and "_region" in info:
        from cevnsfast import plots
        from cevnsfast.figures.regions import region_figure
        from cevnsfast.likelihood.registry import parameter_unit

        axes = spec.axes
        fig = region_figure(
            info["_region"],
            title=experiments + (f", {model}" if model else ""),
            log_axes=(axes[0].scale == "log", axes[1].scale == "log"),
            labels=tuple(f"{a.name} [{parameter_unit(a.name, model)}]" for a in axes),
        )
        for written in plots.save(fig, plot):
            click.echo(f"wrote {written}", err=True)
    if as_json:
        payload = {k: v for k, v in info.items() if not k.startswith("_")}
        click.echo(strict_json.dumps(payload))
        return
    _print_summary(info, ds)
    if "feldman_cousins" in info:
        r = info["feldman_cousins"]["fc_region"]
        click.echo(
            f"  Feldman–Cousins region ({fc['toys']} toys/point): "
            f"{100 * r['allowed_fraction']:.3g} % of the grid, box {r['bounding_box']}"
        )
    for note in info["warnings"]:
        click.echo(f"  WARNING: {note}")
    if out is not None:
        click.echo(f"  store: {out}")
