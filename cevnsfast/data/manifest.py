"""Pinned content of the official COHERENT release files: a modified release is an error.

``release_manifest.json`` (beside this module) lists, per release directory name and file
name, the sha256, size and number of data lines of every file as published. A release file
whose content differs — cut in half, edited, re-exported — is refused with an error naming
the file and what differs, so a damaged release is never fitted silently. Users who modify a
release on purpose opt out explicitly: ``allow_modified_release=True`` in the loaders, the CLI
option ``--allow-modified-data`` or the environment variable ``CEVNSFAST_ALLOW_MODIFIED_DATA=1``.

The manifest is keyed by release and file name, not by location, so it applies wherever the
data are read from (data directory, package data, a user's copy).
"""

import hashlib
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from cevnsfast.data.errors import DataFormatError

MANIFEST_FILE = Path(__file__).resolve().with_name("release_manifest.json")
ALLOW_MODIFIED_ENV = "CEVNSFAST_ALLOW_MODIFIED_DATA"


@cache
def manifest() -> dict[str, dict[str, dict]]:
    """Release directory name → file name → {"sha256", "bytes", "data_lines"}."""
    return json.loads(MANIFEST_FILE.read_text(encoding="utf-8"))["releases"]


def modified_allowed(allow_modified_release: bool = False) -> bool:
    """The opt-out: the argument, or ``CEVNSFAST_ALLOW_MODIFIED_DATA`` set to 1/true/yes."""
    env = os.environ.get(ALLOW_MODIFIED_ENV, "").strip().lower()
    return allow_modified_release or env in ("1", "true", "yes")


def verify_release(
    release_dir: Path, names: tuple[str, ...], allow_modified_release: bool = False
) -> None:
    """Check every file ``names`` of ``release_dir`` against the manifest entry of its
    release (``release_dir.name``); raise ``DataFormatError`` naming the first that differs."""
    if modified_allowed(allow_modified_release):
        return
    pinned = manifest().get(Path(release_dir).name, {})
    for name in names:
        path = Path(release_dir) / name
        expected = pinned.get(name)
        if expected is None or not path.is_file():
            continue  # not an official file / missing: the loader reports it
        blob = path.read_bytes()
        if hashlib.sha256(blob).hexdigest() == expected["sha256"]:
            continue
        lines = sum(1 for line in blob.decode("utf-8", "replace").splitlines()
                    if line.strip() and not line.strip().startswith("#"))  # fmt: skip
        raise DataFormatError(
            path,
            None,
            f"differs from the official release ({len(blob)} bytes and {lines} data lines; "
            f"published: {expected['bytes']} bytes, {expected['data_lines']} data lines, "
            f"sha256 {expected['sha256'][:16]}…). Restore the official file, or accept a "
            f"modified release on purpose with --allow-modified-data, "
            f"{ALLOW_MODIFIED_ENV}=1 or allow_modified_release=True",
        )


def release_sha256(files: Mapping[str, Path]) -> str:
    """SHA-256 (hex) of a release's files, for provenance and as a cache key: for each file
    name in sorted order, the name, its byte length and its bytes (the framing keeps a rename
    or a byte moved between files from colliding). ``files`` maps name → existing path."""
    h = hashlib.sha256()
    for name in sorted(files):
        blob = Path(files[name]).read_bytes()
        h.update(f"{name}\0{len(blob)}\0".encode())
        h.update(blob)
    return h.hexdigest()
