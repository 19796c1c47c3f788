"""cevnsfast — fast coherent elastic neutrino-nucleus scattering (CEvNS) phenomenology.

Design (see ``docs/architecture.md``): a one-off build integrates flux × cross section ×
detector response per *operator structure* into Zarr tables; predictions at any coupling
point are then a quadratic form N_b = Σ x_i x_j T_ij,b evaluated by numba kernels.

Units: MeV and cm inside the physics code; keVnr / keVee / PE only at the detector edge,
and names say which (``t_keVnr``, ``e_pe``).
"""

import hashlib
import os
import sys
from pathlib import Path

__version__ = "0.1.0"


def _numba_cache_dir() -> None:
    """Key numba's on-disk cache on the package source.

    numba invalidates a cached function only when its own file changes, not when a kernel it
    calls from another module does; a cache directory per source hash makes every edit start
    from a clean cache. The environment variable reaches worker processes; when numba was
    imported before cevnsfast (it reads its configuration once, at import), its
    configuration is set too — else the kernels would use the default cache next to the
    sources, where a kernel compiled against an older version of a callee stays valid.
    ``NUMBA_CACHE_DIR`` wins if set.
    """
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache_dir = str(base / "cevnsfast" / "numba" / digest.hexdigest()[:16])
    os.environ["NUMBA_CACHE_DIR"] = cache_dir
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = cache_dir


_numba_cache_dir()
