"""Where cevnsfast reads data releases and keeps built tables.

Data directory (public COHERENT releases, never copied into the repository):
``$CEVNSFAST_DATA_DIR`` if set, else ``../shared/data`` beside a source checkout, else
``../shared/data`` relative to the working directory. The CLI's ``--data-dir`` sets the
environment variable for the commands it runs.

Tables directory (built Zarr stores): ``$CEVNSFAST_TABLES_DIR`` if set, else ``tables/`` in a
source checkout, else the per-user cache (``$XDG_CACHE_HOME/cevnsfast/tables`` or
``~/.cache/cevnsfast/tables``).
"""

import os
from pathlib import Path

DATA_DIR_ENV = "CEVNSFAST_DATA_DIR"
TABLES_DIR_ENV = "CEVNSFAST_TABLES_DIR"


def source_checkout_root() -> Path | None:
    """The repository root when running from a source checkout, else None."""
    root = Path(__file__).resolve().parent.parent
    return (
        root if (root / "pyproject.toml").is_file() and (root / "build_tables").is_dir() else None
    )


def data_dir() -> Path:
    """Directory holding the public data releases (``coherent-csi-2021/``, ...)."""
    if env := os.environ.get(DATA_DIR_ENV):
        return Path(env).expanduser()
    root = source_checkout_root()
    base = root.parent if root is not None else Path.cwd().parent
    return base / "shared" / "data"


def tables_dir() -> Path:
    """Directory holding built response tables (created on demand by the build)."""
    if env := os.environ.get(TABLES_DIR_ENV):
        return Path(env).expanduser()
    root = source_checkout_root()
    if root is not None:
        return root / "tables"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cevnsfast" / "tables"
