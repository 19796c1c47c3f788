"""Zarr response tables: atomic writes, provenance attributes and staleness checks.

A table is a Zarr group holding arrays (base integrals, the response tensor, bin edges, …)
and, as attributes, the spec it was built from, the package version, the integration
settings and ``input_hash`` — sha256 of spec + settings + the source code of every module
that shapes the numbers. Loading a table whose hash no longer matches is an error naming the
rebuild command: never a silent stale result.
"""

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from cevnsfast import __version__
from cevnsfast.paths import build_package_dir, tables_dir

TABLE_FORMAT = 1
_PACKAGE_ROOT = Path(__file__).resolve().parent
_BUILD_SOURCES = (
    "constants.py",
    "nuclei.py",
    "physics",
    "detectors",
    "models",
)


class TableError(RuntimeError):
    """A table is missing, stale or unreadable; the message says which command fixes it."""


def code_hash() -> str:
    """sha256 over the source of every module that influences built numbers."""
    digest = hashlib.sha256()
    for path in [_PACKAGE_ROOT / entry for entry in _BUILD_SOURCES] + [build_package_dir()]:
        files = (
            sorted(path.rglob("*.py")) + sorted(path.rglob("*.toml")) if path.is_dir() else [path]
        )
        for f in files:
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def input_hash(spec_json: str, settings: dict[str, Any]) -> str:
    """Provenance hash of a table: spec, integration settings, table format and code."""
    payload = json.dumps(
        {
            "spec": json.loads(spec_json),
            "settings": settings,
            "format": TABLE_FORMAT,
            "code": code_hash(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def table_path(name: str, directory: Path | None = None) -> Path:
    """Where the table of detector ``name`` lives."""
    return Path(directory or tables_dir()) / f"{name}.zarr"


def write_table(path: Path, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> None:
    """Write a table atomically: build it beside the target, then swap it in by rename.

    An interrupted write leaves only a ``.tmp-*`` directory; the previous table stays intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{path.name}.tmp-", dir=path.parent))
    try:
        group = zarr.open_group(tmp, mode="w")
        for key, value in arrays.items():
            group.create_array(key, data=np.asarray(value))
        group.attrs.update({**attrs, "package_version": __version__, "table_format": TABLE_FORMAT})
        if path.exists():
            old = path.with_name(f"{path.name}.old-{os.getpid()}")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@dataclass
class Table:
    """A loaded table: its arrays (in memory) and attributes."""

    path: Path
    arrays: dict[str, np.ndarray]
    attrs: dict[str, Any]


def stored_hash(path: Path) -> str | None:
    """The input hash recorded in a table, or None if there is no readable table."""
    try:
        return zarr.open_group(path, mode="r").attrs.get("input_hash")
    except (FileNotFoundError, ValueError, KeyError, zarr.errors.GroupNotFoundError):
        return None


def read_table(path: Path, expected_hash: str, rebuild_hint: str) -> Table:
    """Load a table, refusing it if it is missing or its provenance hash differs."""
    path = Path(path)
    if not path.exists():
        raise TableError(f"no table at {path}; build it with: {rebuild_hint}")
    group = zarr.open_group(path, mode="r")
    attrs = dict(group.attrs)
    if attrs.get("input_hash") != expected_hash:
        raise TableError(
            f"table {path} is stale: it was built from other inputs (spec, settings or code "
            f"changed since). Rebuild it with: {rebuild_hint}"
        )
    arrays = {key: group[key][...] for key in group.array_keys()}
    return Table(path, arrays, attrs)
