"""The ``cevnsfast`` command line."""

import json
import os
import sys
from pathlib import Path

import click
import numpy as np

from cevnsfast.paths import DATA_DIR_ENV, TABLES_DIR_ENV


def _parse_assignments(assignments: tuple[str, ...]) -> dict[str, float]:
    """``NAME=VALUE`` pairs → dict; bad syntax or unknown names raise a usage error."""
    from cevnsfast.models.couplings import parse_coupling

    values = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--set")
        try:
            canonical = parse_coupling(name.strip()).name
            values[canonical] = float(raw)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--set") from None
    return values


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"COHERENT data releases (default ../shared/data; env {DATA_DIR_ENV}).",
)
@click.option(
    "--tables-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory for built tables (default tables/ in a checkout; env {TABLES_DIR_ENV}).",
)
def main(data_dir: Path | None, tables_dir: Path | None) -> None:
    """cevnsfast: fast CEvNS phenomenology at the SNS (tables + numba kernels)."""
    if data_dir is not None:
        os.environ[DATA_DIR_ENV] = str(data_dir)
    if tables_dir is not None:
        os.environ[TABLES_DIR_ENV] = str(tables_dir)


@main.command()
@click.argument("detectors", nargs=-1)
@click.option("--force", is_flag=True, help="Rebuild even when the table is up to date.")
def build(detectors: tuple[str, ...], force: bool) -> None:
    """Build response tables for DETECTORS (names or .toml paths; default: all shipped)."""
    from build_tables.build import build_all

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
        click.echo(json.dumps(payload))
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
    try:
        main(standalone_mode=True)
    except Exception as err:  # library errors carry their own fix; no traceback for users
        if os.environ.get("CEVNSFAST_DEBUG"):
            raise
        click.echo(f"error: {err}", err=True)
        sys.exit(1)


np.set_printoptions(linewidth=120)
