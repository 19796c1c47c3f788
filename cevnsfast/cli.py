"""The ``cevnsfast`` command line."""

import atexit
import gc
import math
import os
import sys
from pathlib import Path

import click
import numpy as np

from cevnsfast import __version__, strict_json
from cevnsfast.data.manifest import ALLOW_MODIFIED_ENV
from cevnsfast.paths import DATA_DIR_ENV, TABLES_DIR_ENV
from cevnsfast.stats.cli import fc_options, fc_profile, interval_dicts, parse_cl


def _parse_assignments(assignments: tuple[str, ...], model: str | None = None) -> dict[str, float]:
    """``NAME=VALUE`` pairs → dict; bad syntax, names unknown to ``model`` (default: NSI/GNI
    couplings) or non-finite values raise a usage error. Couplings are bounded by
    ``MAX_ABS_COUPLING``; model parameters (masses up to 1e7 MeV) only need to be finite."""
    from cevnsfast.likelihood.registry import canonical_parameter
    from cevnsfast.models.couplings import MAX_ABS_COUPLING, parse_assignments

    try:
        return parse_assignments(
            assignments,
            lambda name: canonical_parameter(name, model),
            MAX_ABS_COUPLING if model is None else sys.float_info.max,
        )
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--set") from None


MODEL_OPTION = click.option(
    "--model",
    default=None,
    metavar="NAME",
    help="Model whose parameters --set/--param name (default: NSI/GNI couplings; list: "
    "cevnsfast models).",
)


def _path_options() -> list[click.Option]:
    """``--data-dir``, ``--tables-dir`` and ``--allow-modified-data``: accepted before the
    subcommand and after it."""

    def directory_option(flag: str, variable: str, help_text: str) -> click.Option:
        def to_env(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
            if value is not None:
                os.environ[variable] = str(value)

        return click.Option(
            [flag],
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            is_eager=True,
            callback=to_env,
            help=f"{help_text}; env {variable}).",
        )

    return [
        directory_option(
            "--data-dir",
            DATA_DIR_ENV,
            "COHERENT data releases (default: the copy bundled with cevnsfast",
        ),
        directory_option(
            "--tables-dir",
            TABLES_DIR_ENV,
            "Directory for built tables (default tables/ in a checkout, else the user cache",
        ),
        click.Option(
            ["--allow-modified-data"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=lambda ctx, param, value: (
                value and os.environ.update({ALLOW_MODIFIED_ENV: "1"})
            ),
            help=f"Accept release files that differ from the official ones (env "
            f"{ALLOW_MODIFIED_ENV}=1).",
        ),
    ]


class _Group(click.Group):
    """Every subcommand also takes the path options, so ``cevnsfast fit --data-dir D`` works."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(_path_options())
        super().add_command(cmd, name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cevnsfast")
def main() -> None:
    """cevnsfast: fast CEvNS phenomenology at the SNS (tables + numba kernels)."""
    from cevnsfast.build_tables import enable_builds

    enable_builds()  # the command line builds a missing table on first use
    _avoid_hugepage_stalls()


HUGEPAGE_ENV = "NUMPY_MADVISE_HUGEPAGE"


def _avoid_hugepage_stalls() -> None:
    """Turn off numpy's transparent-hugepage advice for arrays ≥ 4 MB in this command and the
    processes it spawns, unless the user set ``NUMPY_MADVISE_HUGEPAGE`` (numpy's switch,
    numpy.org/doc/stable/reference/global_state.html). Where the kernel's THP ``defrag``
    setting is ``madvise`` (Ubuntu's default) and memory is fragmented, faulting in such an
    array stalls in synchronous compaction (numpy issue #31590): measured here, building a
    model table's kernel tensors took 0.65 s instead of 0.07 s, and reproduce spent 13 s of
    system time in page faults. Our arrays are ≤ 60 MB and read in short passes, so huge
    pages gain nothing measurable (README, "Performance")."""
    if HUGEPAGE_ENV in os.environ:
        return
    os.environ[HUGEPAGE_ENV] = "0"  # spawned workers read it when they import numpy
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _set_madvise_hugepage
    _set_madvise_hugepage(False)


main.params.extend(_path_options())


@main.command()
@click.argument("detectors", nargs=-1)
@click.option("--force", is_flag=True, help="Rebuild even when the table is up to date.")
def build(detectors: tuple[str, ...], force: bool) -> None:
    """Build response tables for DETECTORS (names or .toml paths; default: all shipped)."""
    from cevnsfast.build_tables.build import build_all

    for result in build_all(detectors or None, force=force):
        state = "built" if result.built else "up to date"
        click.echo(f"{result.name:>10}: {state} ({result.seconds:.2f} s) -> {result.path}")


@main.command()
@click.argument("detector")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Coupling value, e.g. --set eps_ee_uV=0.1 (repeatable; others are 0).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rates(detector: str, assignments: tuple[str, ...], as_json: bool) -> None:
    """Expected CEvNS counts per reconstructed bin and in total."""
    from cevnsfast.rates import RatePredictor

    values = _parse_assignments(assignments)
    predictor = RatePredictor(detector, couplings=list(values))
    edges, time_edges = predictor.bin_edges, predictor.time_edges_us
    grid = predictor.counts(values).reshape(len(edges) - 1, -1)  # [energy bin, time bin]
    energy = grid.sum(axis=1)
    if as_json:
        bins = {"edges": edges.tolist(), "units": predictor.unit, "counts": energy.tolist()}
        if time_edges is not None:
            bins |= {"time_edges_us": time_edges.tolist(), "counts_energy_time": grid.tolist()}
        payload = {
            "detector": predictor.detector,
            "couplings": values,
            "total": float(grid.sum()),
            "bins": bins,
        }
        click.echo(strict_json.dumps(payload))
        return
    shown = ", ".join(f"{k} = {v:g}" for k, v in values.items()) or "Standard Model"
    click.echo(f"{predictor.detector}: expected CEvNS events ({shown})")
    _print_projection(f"bin [{predictor.unit}]", edges, energy)
    if time_edges is not None:
        _print_projection("time [us]", time_edges, grid.sum(axis=0))
    click.echo(f"{'total':>20} {grid.sum():12.4f}")


def _print_projection(label: str, edges: np.ndarray, counts: np.ndarray) -> None:
    click.echo(f"{label:>20} {'events':>12}")
    for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True):
        click.echo(f"{f'{lo:g} - {hi:g}':>20} {n:12.4f}")


@main.command()
@click.argument("experiments")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Coupling value at which to fit the nuisances (repeatable; others 0).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw data and fitted components (PE and time projections) to FILE.png/.pdf.",
)
@MODEL_OPTION
@click.option(
    "--ssb-model",
    type=click.Choice(["flat_time", "ac_measurement", "raw_ac"]),
    default="flat_time",
    show_default=True,
    help="CsI 2021 steady-state background from the AC sample (docs/physics.md).",
)
def fit(
    experiments: str,
    assignments: tuple[str, ...],
    as_json: bool,
    plot: Path | None,
    model: str | None,
    ssb_model: str,
) -> None:
    """Best-fit nuisances and fitted counts of EXPERIMENTS (e.g. csi2021, nai+cryocsi)."""
    from cevnsfast.likelihood.csi2021 import CsI2021Settings
    from cevnsfast.likelihood.registry import experiment

    values = _parse_assignments(assignments, model)
    settings = CsI2021Settings(ssb_model=ssb_model)
    exp = experiment(experiments, list(values), model=model, csi2021_settings=settings)
    result = exp.fit(values)
    if plot is not None:
        _plot_fit(exp, values, plot)
    if as_json:
        click.echo(strict_json.dumps(result.as_dict()))
        return
    shown = ", ".join(f"{k} = {v:g}" for k, v in values.items()) or "Standard Model"
    click.echo(f"{result.experiment} at {shown}")
    click.echo(f"  chi2_min = {result.chi2_min:.4f}  (ndof = {result.ndof})")
    if result.ndof > 0:
        click.echo(f"  chi2/dof = {result.chi2_per_dof:.4f}  p-value = {result.p_value:.4g}")
    click.echo("  nuisances:")
    for k, v in result.nuisances.items():
        click.echo(f"    {k:24} {v:+.5f}")
    click.echo("  counts:")
    for k, v in result.counts.items():
        click.echo(f"    {k:24} {v:10.2f}")


def _plot_fit(exp, values: dict, path: Path) -> None:
    from cevnsfast import plots

    parts = getattr(exp, "parts", [exp])
    for part in parts:
        if not hasattr(part, "fit_plot_data"):
            click.echo(f"(no fit plot for {part.name}: Asimov experiments have no data)", err=True)
            continue
        components, axes = part.fit_plot_data(values)
        fig = plots.fit_projections(components, axes, f"{part.name}: data and fitted components")
        target = path if len(parts) == 1 else path.with_name(f"{path.stem}_{part.name}")
        for written in plots.save(fig, target):
            click.echo(f"wrote {written}", err=True)


@main.command()
@click.argument("experiments")
@click.option("--param", required=True, help="Coupling (or --model parameter) to scan.")
@click.option("--range", "value_range", nargs=2, type=float, required=True, metavar="LO HI")
@click.option("--points", type=click.IntRange(2, 1_000_000), default=201, show_default=True)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Other couplings held fixed (repeatable; others 0).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot", type=click.Path(dir_okay=False, path_type=Path), help="Draw Δχ² to FILE.png/.pdf."
)
@click.option(
    "--log", "log_spaced", is_flag=True, help="Space the points logarithmically (LO > 0)."
)
@MODEL_OPTION
@click.option("--cl", default="0.9", show_default=True, help="C.L. of `intervals` (and FC).")
@fc_options
def profile(
    experiments: str,
    param: str,
    value_range: tuple[float, float],
    points: int,
    assignments: tuple[str, ...],
    as_json: bool,
    plot: Path | None,
    log_spaced: bool,
    model: str | None,
    cl: str,
    **fc,
) -> None:
    """Δχ²(PARAM) with all nuisances profiled, and its 1σ / 90 % C.L. intervals; with
    --toys N, Feldman–Cousins critical values and intervals beside the Wilks ones."""
    from cevnsfast.likelihood.registry import canonical_parameter, experiment
    from cevnsfast.scan.intervals import format_intervals
    from cevnsfast.scan.profile import profile_1d

    try:
        param = canonical_parameter(param, model)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--param") from None
    lo, hi = value_range
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise click.BadParameter(f"needs finite LO < HI, got {lo} {hi}", param_hint="--range")
    if log_spaced and lo <= 0:
        raise click.BadParameter(f"--log needs LO > 0, got {lo}", param_hint="--range")
    fixed = _parse_assignments(assignments, model)
    grid = np.geomspace(lo, hi, points) if log_spaced else np.linspace(lo, hi, points)
    result = profile_1d(
        lambda names: experiment(experiments, names, model=model), param, grid, fixed
    )
    cl_value = parse_cl(cl)
    if fc["toys"]:
        fc_profile(experiments, result, cl_value, fc, plot, as_json, model, log_spaced)
        return
    if plot is not None:
        from cevnsfast import plots

        fig = plots.profiles([(experiments, result.values, result.delta_chi2, {})], param)
        for written in plots.save(fig, plot):
            click.echo(f"wrote {written}", err=True)
    if as_json:
        wilks = interval_dicts(result.intervals(cl_value))
        payload = result.as_dict() | {"cl": cl_value, "intervals": wilks}
        click.echo(strict_json.dumps(payload))
        return
    click.echo(
        f"{experiments}: profile of {param} (chi2_min = {result.chi2.min():.4f} at "
        f"{result.best_fit:.5g})"
    )
    click.echo(f"  1 sigma: {format_intervals(result.intervals('1sigma'))}")
    click.echo(f"  90% CL : {format_intervals(result.intervals(0.90))}")
    step = max(1, points // 25)
    click.echo(f"{param:>16} {'delta chi2':>12}")
    for v, d in zip(result.values[::step], result.delta_chi2[::step], strict=True):
        click.echo(f"{v:16.5g} {d:12.4f}")


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reproduce"),
    show_default=True,
    help="Output folder.",
)
def reproduce(out_dir: Path) -> None:
    """Reproduce the paper's figures and tables (building missing tables) into --out."""
    from cevnsfast.reproduce import reproduce as run_reproduce

    artifacts = run_reproduce(out_dir)
    for a in artifacts:
        if a.kind == "note":
            click.echo(f"note: {a.caption}", err=True)
    click.echo(f"wrote {len(artifacts)} results; open {out_dir / 'index.md'}")


@main.command()
def models() -> None:
    """List the models (and the talk's scenarios) with their parameters, units and ranges."""
    from cevnsfast.likelihood.registry import NSI_MODEL
    from cevnsfast.likelihood.scenarios import SCENARIOS, scenario_for
    from cevnsfast.models.scenarios import model_names

    click.echo(f"{NSI_MODEL:32} the default: NSI/GNI couplings (cevnsfast couplings)")
    for key in [*SCENARIOS, *(m for m in model_names() if m not in SCENARIOS)]:
        sc = scenario_for(key)
        params = ", ".join(
            f"{p.name} [{p.unit}] {p.lo:g}..{p.hi:g}{' log' if p.scale == 'log' else ''}"
            for p in sc.parameters
        )
        click.echo(f"{key:32} {params}")


@main.command()
@click.argument("experiments", required=False)
@click.argument("name", required=False)
@click.option("--set", "assignments", multiple=True, metavar="PARAM=VALUE")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def scenario(
    ctx: click.Context,
    experiments: str | None,
    name: str | None,
    assignments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Alias: ``scenario EXPERIMENTS NAME`` is ``fit EXPERIMENTS --model NAME``; without
    arguments it is ``models``."""
    if experiments is None or name is None:
        ctx.invoke(models)
        return
    ctx.invoke(
        fit,
        experiments=experiments,
        assignments=assignments,
        as_json=as_json,
        plot=None,
        model=name,
    )


@main.command()
def detectors() -> None:
    """List shipped detector specs and the values they take as [assumed]."""
    from cevnsfast.detectors.spec import load_spec, shipped_spec_names

    for name in shipped_spec_names():
        spec = load_spec(name)
        click.echo(f"{name}: {spec.description}")
        for field, source in spec.assumed_values().items():
            click.echo(f"    {field}: {source}")


@main.command()
def couplings() -> None:
    """List the coupling names accepted by --set."""
    from cevnsfast.models.couplings import ALL_COUPLINGS

    for c in ALL_COUPLINGS:
        flavours = c.alpha + c.beta
        click.echo(f"{c.name:16} structure {c.structure}  quark {c.quark}  flavours {flavours}")


def run() -> None:  # pragma: no cover - console entry with clean error reporting
    # every output is written and closed before exit: skip the interpreter's final garbage
    # collections over the whole heap (matplotlib, numba, zarr), ~0.9 s at the end of
    # `reproduce` (0.14 s instead of 1.0 s from its last line to the exit)
    atexit.register(gc.freeze)
    try:
        main(standalone_mode=True)
    except Exception as err:  # library errors carry their own fix; no traceback for users
        if os.environ.get("CEVNSFAST_DEBUG"):
            raise
        click.echo(f"error: {err}", err=True)
        sys.exit(1)


from cevnsfast.scan.cli import scan as _scan  # noqa: E402
from cevnsfast.stats.cli import coverage as _coverage  # noqa: E402
from cevnsfast.stats.cli import limit as _limit  # noqa: E402
from cevnsfast.stats.cli import sample as _sample  # noqa: E402

main.add_command(_scan)
for _command in (_limit, _sample, _coverage):
    main.add_command(_command)
