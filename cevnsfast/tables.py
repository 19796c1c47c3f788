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
- A table is read and verified once per process while its files stay unchanged on disk
  (cache keyed by path and the files' inode, size and modification times).
"""

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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


@functools.cache
def code_hash() -> str:
    """sha256 over the source of every module that influences built numbers, computed once
    per process: the code that runs is the code imported (a module edited after import does
    not run until the process restarts), and re-reading ~50 files for every table load cost
    0.3 s of the scenario fits' set-up."""
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
    """The file lock that serialises builds and writes of the table at ``path`` (one instance
    per path in a process, so a build holding it can call ``write_table``)."""
    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S, is_singleton=True)


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
                # one chunk per array: tables are read whole, and zarr's default chunking
                # (tens of chunks for a nuisance grid) doubled write and read time
                group.create_array(key, data=value, chunks=value.shape)
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
    derived: dict[Any, Any] = field(default_factory=dict, repr=False)
    """Read-only arrays its users compute from it, memoised here (keyed by what they depend
    on) so that they live and die with this verified state of the table."""


_VERIFIED: dict[str, tuple[tuple, Table]] = {}
"""Tables read and verified in this process, by resolved path, with the stamp
(``_files_stamp``) of the store's files when they were read."""


def _files_stamp(path: Path) -> tuple:
    """(relative name, inode, size, mtime_ns, ctime_ns) of every file of the store at ``path``.

    A rebuilt table (new files swapped in), a deleted, truncated or rewritten chunk or an
    edited attribute changes the stamp, so the table is read and verified again. Blind spot:
    an in-place rewrite of a file to the same size within one tick of the file system's
    clock (a few ms) by another program after this process read it."""
    stamp = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            st = os.stat(full)
            stamp.append(
                (os.path.relpath(full, path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            )
    return tuple(stamp)


def _read_verified(path: Path) -> Table:
    """Read every array and check it against the stored checksums, once per process per
    state of the store's files (``_files_stamp``): a table unchanged on disk since this
    process verified it is served from memory. Raises ``TableError`` (without the rebuild
    hint, which the caller adds) on any damage."""
    key = str(path.resolve())
    stamp = _files_stamp(path)  # taken before reading: a change during the read re-reads later
    cached = _VERIFIED.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    _VERIFIED.pop(key, None)  # a changed or damaged table must not stay reachable
    try:
        group = zarr.open_group(path, mode="r")
        attrs = dict(group.attrs)
    except Exception as err:
        raise TableError(f"table {path} is unreadable ({type(err).__name__}: {err})") from err
    expected = attrs.get("array_sha256")
    if not isinstance(expected, dict) or not expected:
        raise TableError(f"table {path} carries no checksums (built by an older cevnsfast)")
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
    _VERIFIED[key] = (stamp, table)
    return table


def stored_hash(path: Path) -> str | None:
    """The input hash of an intact table at ``path``; None if it is missing or damaged."""
    if not Path(path).exists():
        return None
    try:
        return _read_verified(Path(path)).attrs.get("input_hash")
    except TableError:
        return None


def read_table(
    path: Path, expected_hash: str | Callable[[Mapping[str, Any]], str], rebuild_hint: str
) -> Table:
    """Load a table, refusing it if it is missing, damaged or its provenance hash differs.

    ``expected_hash`` may be a function of the stored attributes (a detector table's hash
    covers the integration settings it was built with), so the store is read once."""
    path = Path(path)
    if not path.exists():
        raise TableError(f"no table at {path}; build it with: {rebuild_hint}")
    try:
        table = _read_verified(path)
    except TableError as err:
        raise TableError(f"{err}. Rebuild it with: {rebuild_hint}") from err
    if callable(expected_hash):
        expected_hash = expected_hash(table.attrs)
    if table.attrs.get("input_hash") != expected_hash:
        raise TableError(
            f"table {path} is stale: it was built from other inputs (settings or code "
            f"changed since). Rebuild it with: {rebuild_hint}"
        )
    return table
