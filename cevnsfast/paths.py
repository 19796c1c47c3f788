"""Where cevnsfast reads data releases and keeps built tables.

Data directory (the public COHERENT releases): ``$CEVNSFAST_DATA_DIR`` if set, else the copy
bundled with the package (``cevnsfast/data/releases/``, see its README for citations). Every
command's ``--data-dir`` sets the environment variable for the work it runs.

Tables directory (built Zarr stores): ``$CEVNSFAST_TABLES_DIR`` if set, else ``tables/`` in a
source checkout, else the per-user cache (``$XDG_CACHE_HOME/cevnsfast/<version>/tables`` or
``~/.cache/cevnsfast/<version>/tables``): installed versions keep their tables apart.
"""

import importlib.util
import os
from pathlib import Path

from cevnsfast import __version__

DATA_DIR_ENV = "CEVNSFAST_DATA_DIR"
TABLES_DIR_ENV = "CEVNSFAST_TABLES_DIR"
BUNDLED_DATA_DIR = Path(__file__).resolve().parent / "data" / "releases"


def source_checkout_root() -> Path | None:
    """The repository root when running from a source checkout, else None."""
    root = Path(__file__).resolve().parent.parent
    return (
        root if (root / "pyproject.toml").is_file() and (root / "build_tables").is_dir() else None
    )


def build_package_dir() -> Path:
    """Folder of the build step: the repository's ``build_tables/``, installed as
    ``cevnsfast.build_tables``. Located without importing it (evaluation never imports the
    build; it only hashes its source and reads the shipped specs)."""
    spec = importlib.util.find_spec("cevnsfast.build_tables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cevnsfast.build_tables is not installed: reinstall cevnsfast")
    return Path(next(iter(spec.submodule_search_locations)))


def data_dir() -> Path:
    """Directory holding the public data releases (``coherent-csi-2021/``, ...)."""
    if env := os.environ.get(DATA_DIR_ENV):
        return Path(env).expanduser()
    return BUNDLED_DATA_DIR


def tables_dir() -> Path:
    """Directory holding built response tables (created on demand by the build)."""
    if env := os.environ.get(TABLES_DIR_ENV):
        return Path(env).expanduser()
    root = source_checkout_root()
    if root is not None:
        return root / "tables"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cevnsfast" / __version__ / "tables"
