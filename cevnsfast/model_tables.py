"""Where model tables live, what they hash, and how evaluation reads them.

A model table (``build_tables.model_tables`` builds it) holds one detector's response for one
model of ``cevnsfast.models`` over the model's axis. This module is the evaluation side:
names, paths, input hashes and loading; the build registers itself to be called for missing
tables (``tables.set_builders``) and evaluation never imports it.
"""

import hashlib
import json
from pathlib import Path

from cevnsfast.detectors.detector import QuadratureSettings
from cevnsfast.detectors.spec import DetectorSpec, load_spec
from cevnsfast.models.scenarios import get_model
from cevnsfast.models.terms import Model
from cevnsfast.tables import Table, builder, input_hash, read_table, stored_hash, table_path

SEPARATOR = "__"


def model_table_name(detector_name: str, model: Model) -> str:
    """``<detector>__<model>``, plus ``-<8 hex>`` when the model's settings are not the
    defaults (so a custom grid never overwrites the default table)."""
    default = type(model)()
    suffix = ""
    if model.settings != default.settings:
        blob = json.dumps(model.settings, sort_keys=True).encode()
        suffix = "-" + hashlib.sha256(blob).hexdigest()[:8]
    return f"{detector_name}{SEPARATOR}{model.name}{suffix}"


def model_table_path(
    spec: str | Path | DetectorSpec, model: Model, directory: Path | None = None
) -> Path:
    """``<detector>__<model>[-<settings hash>]-<spec hash>.zarr`` (``tables.table_path``)."""
    spec = spec if isinstance(spec, DetectorSpec) else load_spec(spec)
    return table_path(model_table_name(spec.name, model), spec.hash(), directory)


def rebuild_command(detector: str | Path, model: Model) -> str:
    return f"python -m cevnsfast.build_tables.model_tables {detector} {model.name} --force"


def model_input_hash(spec, model: Model, settings: QuadratureSettings) -> str:
    return input_hash(
        spec.canonical_json(),
        {"quadrature": settings.as_dict(), "model": model.definition(), "kind": "model"},
    )


def load_model_table(
    name_or_path: str | Path,
    model: str | Model,
    directory: Path | None = None,
    build_missing: bool = True,
    rebuild_stale: bool = False,
    settings: QuadratureSettings = QuadratureSettings(),
) -> Table:
    """The up-to-date table of (detector, model): built when missing (and, with
    ``rebuild_stale``, when stale) if a model-table builder is registered
    (``tables.set_builders``); otherwise a missing or stale table is a ``TableError`` naming
    the build command, as for detector tables."""
    model = get_model(model) if isinstance(model, str) else model
    spec = load_spec(name_or_path)
    path = model_table_path(spec, model, directory)
    digest = model_input_hash(spec, model, settings)
    build = builder("model")
    if build is not None and (
        (not path.exists() and build_missing)
        or (rebuild_stale and path.exists() and stored_hash(path) != digest)
    ):
        build(name_or_path, model, settings, directory, force=True)
    return read_table(path, digest, rebuild_command(name_or_path, model))
