"""Zarr response tables: identity, integrity, atomic locked writes and staleness checks.

A table is a Zarr group holding arrays (base integrals, the response tensor, bin edges, …)
and, as attributes, the spec it was built from, the package version, the integration
settings, ``input_hash`` — sha256 of spec + settings + the source code of every module that
shapes the numbers — and ``array_sha256``, the sha256 of every stored array's content.

- Identity: a table's file name is its spec's name plus a short hash of the spec's content
  (``nai-0123456789ab.zarr``), so a user spec that keeps ``name = "nai"`` never replaces or
  stales the shipped table, and two specs never fight over one store.
- Integrity: loading recomputes every array's sha256; a missing or damaged chunk (zarr fills
  a missing chunk with zeros, which would read as valid) is an error naming the path and the
  rebuild command, and ``cevnsfast build`` rebuilds a damaged table without ``--force``.
- Staleness: a table whose input hash no longer matches is an error naming the rebuild
  command: never a silent stale result.
- Writes are atomic (built beside the target, swapped in by rename) under a file lock per
  table, so concurrent builds wait instead of failing; debris of interrupted builds is
  removed under that lock.
- A table is read once per process (cache keyed by path and content hashes).
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from filelock import FileLock

from cevnsfast import __version__
from cevnsfast.paths import build_package_dir, tables_dir

TABLE_FORMAT = 2
"""2: per-array sha256 in ``array_sha256``; content-addressed file names."""
SPEC_HASH_CHARS = 12
"""Hex digits of the spec hash in a table's file name (48 bits: collisions are negligible)."""
LOCK_TIMEOUT_S = 600.0
"""How long a build waits for another process building the same table."""
_PACKAGE_ROOT = Path(__file__).resolve().parent
_BUILD_SOURCES = (
    "constants.py",
    "nuclei.py",
    "physics",
    "detectors",
    "models",
)


TableBuilder = Callable[..., Any]
_BUILDERS: dict[str, TableBuilder] = {}


def set_builders(detector: TableBuilder | None, model: TableBuilder | None) -> None:
    """Let evaluation build a missing table on first use. Evaluation never imports the build
    step: the face (CLI, ``reproduce``) or a script decides, by calling
    ``cevnsfast.build_tables.enable_builds()``, which registers its builders here; without
    them a missing table is an error naming the build command. ``None`` unregisters."""
    for kind, fn in (("detector", detector), ("model", model)):
        if fn is None:
            _BUILDERS.pop(kind, None)
        else:
            _BUILDERS[kind] = fn


def builder(kind: str) -> TableBuilder | None:
    """The registered builder of ``"detector"`` or ``"model"`` tables, if any."""
    return _BUILDERS.get(kind)


def detector_rebuild_command(name_or_path: str | Path) -> str:
    return f"cevnsfast build {name_or_path} --force"


class TableError(RuntimeError):
    """A table is missing, stale, damaged or unreadable; the message says which command fixes
    it."""


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


def safe_name(name: str) -> str:
    """``name`` reduced to letters, digits, ``_`` and ``-`` (no path separators, no ``..``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "table"


def table_path(name: str, spec_hash: str, directory: Path | None = None) -> Path:
    """Where the table of spec ``name`` with content hash ``spec_hash`` lives."""
    return Path(directory or tables_dir()) / f"{safe_name(name)}-{spec_hash[:SPEC_HASH_CHARS]}.zarr"


def array_sha256(value: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and content (C order)."""
    value = np.ascontiguousarray(value)
    digest = hashlib.sha256(f"{value.dtype.str}{value.shape}".encode())
    digest.update(value.tobytes())
    return digest.hexdigest()


def build_lock(path: Path) -> FileLock:
    """The file lock that serialises writes of the table at ``path``."""
    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)


def write_table(path: Path, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> None:
    """Write a table atomically under its lock: build it beside the target, then swap it in.

    An interrupted write leaves at most a ``.tmp-*`` directory, removed by the next write of
    the same table (it holds the lock, so no other writer can own that directory).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {key: np.asarray(value) for key, value in arrays.items()}
    checksums = {key: array_sha256(value) for key, value in arrays.items()}
    with build_lock(path):
        for debris in path.parent.glob(f"{path.name}.tmp-*"):
            shutil.rmtree(debris, ignore_errors=True)
        for debris in path.parent.glob(f"{path.name}.old-*"):
            shutil.rmtree(debris, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{path.name}.tmp-", dir=path.parent))
        try:
            group = zarr.open_group(tmp, mode="w")
            for key, value in arrays.items():
                group.create_array(key, data=value)
            group.attrs.update(
                {
                    **attrs,
                    "array_sha256": checksums,
                    "package_version": __version__,
                    "table_format": TABLE_FORMAT,
                }
            )
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
    """A loaded table: its arrays (in memory, read-only: shared by the load cache) and
    attributes."""

    path: Path
    arrays: dict[str, np.ndarray]
    attrs: dict[str, Any]


_LOADED: dict[tuple[str, str], Table] = {}
"""Tables already read and verified in this process, by (path, content hash)."""


def _content_key(attrs: dict[str, Any]) -> str:
    payload = {"input": attrs.get("input_hash"), "arrays": attrs.get("array_sha256")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _read_verified(path: Path, cached: bool = True) -> Table:
    """Read every array and check it against the stored checksums (``cached``: reuse this
    process's earlier read). Raises ``TableError`` (without the rebuild hint, which the caller
    adds) on any damage."""
    try:
        group = zarr.open_group(path, mode="r")
        attrs = dict(group.attrs)
    except Exception as err:
        raise TableError(f"table {path} is unreadable ({type(err).__name__}: {err})") from err
    expected = attrs.get("array_sha256")
    if not isinstance(expected, dict) or not expected:
        raise TableError(f"table {path} carries no checksums (built by an older cevnsfast)")
    key = (str(path.resolve()), _content_key(attrs))
    if cached and key in _LOADED:
        return _LOADED[key]
    arrays = {}
    for name, sha in expected.items():
        try:
            value = group[name][...]
        except Exception as err:
            raise TableError(
                f"table {path} is damaged: array {name!r} is unreadable "
                f"({type(err).__name__}: {err})"
            ) from err
        if array_sha256(value) != sha:
            raise TableError(
                f"table {path} is damaged: array {name!r} does not match its checksum "
                "(a chunk is missing, truncated or altered)"
            )
        value.flags.writeable = False
        arrays[name] = value
    table = Table(path, arrays, attrs)
    _LOADED[key] = table
    return table


def stored_hash(path: Path) -> str | None:
    """The input hash of an intact table at ``path``; None if it is missing or damaged."""
    if not Path(path).exists():
        return None
    try:
        return _read_verified(Path(path), cached=False).attrs.get("input_hash")
    except TableError:
        return None


def read_table(path: Path, expected_hash: str, rebuild_hint: str) -> Table:
    """Load a table, refusing it if it is missing, damaged or its provenance hash differs."""
    path = Path(path)
    if not path.exists():
        raise TableError(f"no table at {path}; build it with: {rebuild_hint}")
    try:
        table = _read_verified(path)
    except TableError as err:
        raise TableError(f"{err}. Rebuild it with: {rebuild_hint}") from err
    if table.attrs.get("input_hash") != expected_hash:
        raise TableError(
            f"table {path} is stale: it was built from other inputs (settings or code "
            f"changed since). Rebuild it with: {rebuild_hint}"
        )
    return table
