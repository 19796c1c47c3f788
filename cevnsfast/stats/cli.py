"""Command-line face of the statistics layer: ``profile … --toys``, ``scan … --toys``,
``limit``, ``coverage`` and ``sample``."""

from pathlib import Path

import click
import numpy as np


def parse_cl(text: str) -> float | str:
    """'0.9' → 0.9; '90%', '1sigma' stay strings (the scan command's parser)."""
    from cevnsfast.scan.cli import _parse_cl

    return _parse_cl(text)


def interval_dicts(intervals) -> list[dict]:
    return [{"lo": i.lo, "hi": i.hi, "lo_open": i.lo_open, "hi_open": i.hi_open} for i in intervals]


def _dump(payload: dict) -> str:
    """Strict JSON (``cevnsfast.strict_json``): never a NaN or Infinity token."""
    from cevnsfast import strict_json

    return strict_json.dumps(payload)


def fc_options(func):
    """Options of a Feldman–Cousins run (``--toys`` switches it on)."""
    options = [
        click.option(
            "--toys",
            type=click.IntRange(0),
            default=0,
            show_default=True,
            help="Toys per grid point for Feldman–Cousins critical values (0: Wilks only).",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Toy random seed."),
        click.option(
            "--stride",
            type=click.IntRange(1),
            default=4,
            show_default=True,
            help="Toy best-fit search: coarse nodes every STRIDE, then every node near the "
            "two lowest coarse minima (1: every node).",
        ),
        click.option(
            "--toys-out",
            type=click.Path(path_type=Path),
            help="Zarr store for the toys (resumable with --toys-resume).",
        ),
        click.option("--toys-resume", is_flag=True, help="Continue the store at --toys-out."),
        click.option(
            "--toys-workers",
            type=click.IntRange(1),
            help="Run the toys on a local Dask cluster of N processes (needs --toys-out).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_belt(experiments: str, axes, fixed: dict, fc: dict, model: str | None = None):
    from cevnsfast.stats.feldman_cousins import BeltSpec, run_belt

    if fc["toys"] < 10:
        raise click.BadParameter("needs at least 10 toys per point", param_hint="--toys")
    if fc["toys_workers"] and fc["toys_out"] is None:
        raise click.UsageError("--toys-workers needs --toys-out STORE")
    spec = BeltSpec(experiments, tuple(axes), fixed, model, fc["toys"], fc["seed"], fc["stride"])
    try:
        return run_belt(
            spec,
            fc["toys_out"],
            resume=fc["toys_resume"],
            workers=fc["toys_workers"],
            progress=False,
        )
    except (FileExistsError, ValueError) as err:
        raise click.ClickException(str(err)) from None


def fc_profile(
    experiments: str,
    result,
    cl,
    fc: dict,
    plot: Path | None,
    as_json: bool,
    model: str | None = None,
    log_spaced: bool = False,
) -> None:
    """``profile --toys``: FC critical values and intervals beside the Wilks ones."""
    from cevnsfast import plots
    from cevnsfast.scan.intervals import delta_chi2_threshold, format_intervals
    from cevnsfast.scan.results import cl_label
    from cevnsfast.scan.spec import Axis
    from cevnsfast.stats.feldman_cousins import fc_intervals
    from cevnsfast.stats.figures import fc_profile_figure

    v = result.values
    scale = "log" if log_spaced else "linear"
    axis = Axis(result.param, float(v[0]), float(v[-1]), v.size, scale)
    belt = _run_belt(experiments, [axis], result.fixed, fc, model)
    crit, err = belt.critical(cl)
    d = result.delta_chi2
    fc_iv = fc_intervals(v, d, crit)
    wilks = result.intervals(cl)
    if plot is not None:
        fig = fc_profile_figure(
            v, d, crit, err, delta_chi2_threshold(cl, 1), result.param,
            f"{experiments}: Feldman–Cousins ({fc['toys']} toys/point) vs Wilks", cl_label(cl),
        )  # fmt: skip
        for written in plots.save(fig, plot):
            click.echo(f"wrote {written}", err=True)
    if as_json:
        payload = result.as_dict() | {
            "cl": cl,
            "intervals": interval_dicts(wilks),
            "fc_intervals": interval_dicts(fc_iv),
            "critical_delta_chi2": crit.tolist(),
            "critical_delta_chi2_error": err.tolist(),
            "wilks_delta_chi2": delta_chi2_threshold(cl, 1),
            "toys": fc["toys"],
            "seed": fc["seed"],
        }
        click.echo(_dump(payload))
        return
    click.echo(f"{experiments}: profile of {result.param}, best fit {result.best_fit:.5g}")
    click.echo(f"  {cl_label(cl)} C.L. Wilks           : {format_intervals(wilks, 4)}")
    click.echo(f"  {cl_label(cl)} C.L. Feldman–Cousins : {format_intervals(fc_iv, 4)}")
    click.echo(f"{result.param:>16} {'delta chi2':>11} {'critical':>9} {'± MC':>7}")
    step = max(1, v.size // 25)
    for x, di, c, e in zip(v[::step], d[::step], crit[::step], err[::step], strict=True):
        click.echo(f"{x:16.5g} {di:11.4f} {c:9.3f} {e:7.3f}")


def fc_scan(experiments: str, ds, spec, cl, fc: dict, plot: Path | None) -> dict:
    """``scan --toys`` in 2D: critical values on the scan grid and the FC region."""
    from cevnsfast import plots
    from cevnsfast.scan.intervals import delta_chi2_threshold
    from cevnsfast.stats.feldman_cousins import fc_region
    from cevnsfast.stats.figures import fc_region_figure

    if len(spec.axes) != 2 or spec.profiled:
        raise click.UsageError("--toys in scan needs exactly two axes and no --profile")
    belt = _run_belt(experiments, spec.axes, dict(spec.fixed), fc, spec.model)
    crit, err = belt.critical(cl)
    chi2 = ds["chi2"].values
    d = chi2 - np.min(chi2[np.isfinite(chi2)])
    x, y = (a.values for a in spec.axes)
    lines = fc_region(x, y, d, crit)
    allowed = d <= crit
    box = None
    if allowed.any():
        xs, ys = x[allowed.any(axis=1)], y[allowed.any(axis=0)]
        box = [[float(xs.min()), float(xs.max())], [float(ys.min()), float(ys.max())]]
    if plot is not None:
        wilks = delta_chi2_threshold(cl, 2)
        fig = fc_region_figure(
            x, y, d, crit, wilks, spec.axis_names, f"{experiments}: FC ({fc['toys']} toys) vs Wilks"
        )
        stem = Path(plot)
        for written in plots.save(fig, stem.with_name(stem.stem + "_fc" + stem.suffix)):
            click.echo(f"wrote {written}", err=True)
    return {
        "critical_delta_chi2": crit.tolist(),
        "critical_delta_chi2_error": err.tolist(),
        "fc_region": {
            "lines": len(lines),
            "allowed_fraction": float(allowed.mean()),
            "bounding_box": box,
        },
        "toys": fc["toys"],
        "seed": fc["seed"],
    }


def _grid(experiments, model, param, lo, hi, points, assignments):
    from cevnsfast.likelihood.registry import canonical_parameter
    from cevnsfast.scan.spec import Axis
    from cevnsfast.stats.feldman_cousins import build_experiment, grid_points

    fixed = {}
    try:
        for item in assignments:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ValueError(f"{item!r} is not NAME=VALUE")
            fixed[canonical_parameter(key.strip(), model)] = float(raw)
        param = canonical_parameter(param, model)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--param/--set") from None
    try:
        axis = Axis(param, lo, hi, points)
        exp = build_experiment(experiments, [param, *fixed], model)
        return exp, grid_points(exp, [axis], fixed), axis
    except ValueError as err:
        raise click.ClickException(str(err)) from None


def _grid_options(func):
    options = [
        click.argument("experiments"),
        click.option("--model", help="A scenario or model (cevnsfast scenario lists them)."),
        click.option("--param", required=True, help="The parameter, e.g. mu_nue or eps_ee_uV."),
        click.option("--range", "value_range", nargs=2, type=float, metavar="LO HI"),
        click.option("--points", type=click.IntRange(3), default=41, show_default=True),
        click.option(
            "--set",
            "assignments",
            multiple=True,
            metavar="NAME=VALUE",
            help="Other parameters held fixed (others 0).",
        ),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _range(model, param, value_range, default_lo=None):
    if value_range is not None:
        lo, hi = value_range
    elif model is not None:
        pars = _model_parameters(model)
        if param not in pars:
            raise click.UsageError(f"give --range LO HI for {param}")
        lo, hi = pars[param].lo, pars[param].hi
    else:
        raise click.UsageError(f"give --range LO HI for {param}")
    if default_lo is not None and value_range is None:
        lo = default_lo
    if not lo < hi:
        raise click.BadParameter(f"needs LO < HI, got {lo} {hi}", param_hint="--range")
    return lo, hi


@click.command()
@_grid_options
@click.option("--cl", default="0.95", show_default=True, help="C.L. of the limit.")
@click.option("--toys", type=click.IntRange(0), default=0, show_default=True)
@click.option("--stride", type=click.IntRange(1), default=4, show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="CLs figure.")
def limit(experiments, model, param, value_range, points, assignments, seed, as_json, cl, toys,
          stride, plot) -> None:  # fmt: skip
    """CLs upper limit on a one-sided PARAM of EXPERIMENTS: asymptotic (Asimov bands) and,
    with --toys N, from toys. The grid runs from LO (the null value; default 0) to HI."""
    from cevnsfast import plots
    from cevnsfast.stats.cls import cls_limits
    from cevnsfast.stats.feldman_cousins import cl_probability
    from cevnsfast.stats.figures import cls_figure

    lo, hi = _range(model, param, value_range, default_lo=0.0)
    exp, pts, axis = _grid(experiments, model, param, lo, hi, points, assignments)
    result = cls_limits(exp, pts, axis.name, cl_probability(parse_cl(cl)), toys, seed, stride)
    if plot is not None:
        for written in plots.save(cls_figure(result, f"{experiments}: CLs on {param}"), plot):
            click.echo(f"wrote {written}", err=True)
    if as_json:
        click.echo(_dump({"experiments": experiments, "model": model} | result.as_dict()))
        return

    def show(v):
        return "not excluded in the grid" if v is None else f"{v:.5g}"

    click.echo(f"{experiments}: CLs upper limit on {param} at {100 * result.cl:g} % C.L.")
    click.echo(f"  observed (asymptotic): {show(result.limit_asymptotic)}")
    if toys:
        click.echo(f"  observed (toys, {toys}/point): {show(result.limit_toys)}")
    for n, v in result.expected_limits.items():
        click.echo(f"  expected {n:+d} sigma: {show(v)}")


@click.command()
@_grid_options
@click.option("--true", "true_value", type=float, required=True, help="True PARAM value.")
@click.option("--cl", default="0.9", show_default=True)
@click.option("--toys", type=click.IntRange(10), default=500, show_default=True)
@click.option("--stride", type=click.IntRange(1), default=4, show_default=True)
def coverage(experiments, model, param, value_range, points, assignments, seed, as_json,
             true_value, cl, toys, stride) -> None:  # fmt: skip
    """Empirical coverage of Wilks and Feldman–Cousins intervals of PARAM at --true."""
    from cevnsfast.stats.coverage import coverage as run_coverage

    lo, hi = _range(model, param, value_range)
    if not lo <= true_value <= hi:
        raise click.BadParameter(f"must lie in [{lo}, {hi}]", param_hint="--true")
    values = np.union1d(np.linspace(lo, hi, points), [true_value])
    exp, pts, axis = _grid(experiments, model, param, lo, hi, points, assignments)
    column = list(exp.coupling_names).index(axis.name)
    pts = np.repeat(pts[:1], values.size, axis=0)
    pts[:, column] = values
    index = int(np.flatnonzero(values == true_value)[0])
    res = run_coverage(exp, pts, (values.size,), index, parse_cl(cl), toys, None, seed, stride)
    if as_json:
        click.echo(_dump({"experiments": experiments, "param": param, "true": true_value}
                         | res.as_dict()))  # fmt: skip
        return
    click.echo(f"{experiments}: coverage at {param} = {true_value:g} ({toys} toys)")
    click.echo(
        f"  Wilks (Δχ² ≤ {res.wilks_threshold:.3f}): {res.wilks:.3f} ± {res.wilks_error:.3f}"
    )
    click.echo(
        f"  FC    (Δχ² ≤ {res.fc_critical:.3f} ± {res.fc_critical_error:.3f}): "
        f"{res.fc:.3f} ± {res.fc_error:.3f}   (nominal {res.cl:.4g})"
    )


def _model_parameters(model: str | None) -> dict:
    """The parameters (with ranges and scales) of a model or scenario; {} for NSI/GNI."""
    if model is None:
        return {}
    from cevnsfast.likelihood.scenarios import scenario_for

    try:
        return {p.name: p for p in scenario_for(model).parameters}
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--model") from None


def _priors(model, params: tuple[str, ...]):
    """Priors from --param NAME[=LO:HI[:log]]; default: every parameter of the model with its
    range and scale (``likelihood.models``)."""
    from cevnsfast.stats.bayes import Prior

    ranges = {n: (p.lo, p.hi, p.scale) for n, p in _model_parameters(model).items()}
    if not params:
        if not ranges:
            raise click.UsageError("give --param NAME=LO:HI[:log] for each sampled parameter")
        params = tuple(ranges)
    priors = []
    for text in params:
        name, sep, rest = text.partition("=")
        name = name.strip()
        try:
            if sep:
                parts = rest.split(":")
                scale = parts[2] if len(parts) > 2 else "linear"
                priors.append(Prior(name, float(parts[0]), float(parts[1]), scale))
            elif name in ranges:
                priors.append(Prior(name, *ranges[name]))
            else:
                raise ValueError(f"{name}: give its prior range as {name}=LO:HI[:log]")
        except (ValueError, IndexError) as err:
            raise click.BadParameter(str(err), param_hint="--param") from None
    return priors


@click.command()
@click.argument("experiments")
@click.option("--model", help="A scenario or model (cevnsfast scenario lists them).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME[=LO:HI[:log]]",
    help="A sampled parameter and its prior (default: the scenario's ranges; ':log' for "
    "log-uniform).",
)
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE")
@click.option("--live", type=click.IntRange(20), default=150, show_default=True)
@click.option("--dlogz", type=float, default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--prob", type=float, default=0.6827, show_default=True, help="Credible mass.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Corner figure.")
@click.option("--json", "as_json", is_flag=True)
def sample(experiments, model, params, assignments, live, dlogz, seed, prob, plot,
           as_json) -> None:  # fmt: skip
    """Posterior, evidence and credible intervals of EXPERIMENTS by nested sampling (dynesty):
    ln L = −χ²/2 with the nuisances profiled; uniform or log-uniform priors."""
    from cevnsfast import plots
    from cevnsfast.stats.bayes import sample as run_sample
    from cevnsfast.stats.feldman_cousins import build_experiment
    from cevnsfast.stats.figures import corner_figure

    fixed = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--set")
        fixed[key.strip()] = float(raw)
    priors = _priors(model, params)
    try:
        exp = build_experiment(experiments, [*(p.name for p in priors), *fixed], model)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    post = run_sample(exp, priors, fixed, live, dlogz, seed)
    if plot is not None:
        fig = corner_figure(post.samples, post.weights, post.names, f"{experiments} {model or ''}")
        for written in plots.save(fig, plot):
            click.echo(f"wrote {written}", err=True)
    payload = {"experiments": experiments, "model": model} | post.as_dict(prob)
    if as_json:
        click.echo(_dump(payload))
        return
    click.echo(f"{experiments} {model or ''}: ln Z = {post.logz:.3f} ± {post.logz_error:.3f}")
    for n, s in payload["summary"].items():
        lo, hi = s["central_interval"]
        click.echo(
            f"  {n:16} median {s['median']:.5g}, {100 * prob:.3g} % central [{lo:.5g}, {hi:.5g}]"
        )


__all__ = ["coverage", "fc_options", "fc_profile", "fc_scan", "limit", "parse_cl", "sample"]
