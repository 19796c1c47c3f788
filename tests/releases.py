"""Skip markers for tests that need a COHERENT data release in the data directory.

CI has the releases beside the checkout; a newcomer without them still runs every test that
does not read real data.
"""

import pytest

from cevnsfast.data import csi2021, lar2020
from cevnsfast.paths import DATA_DIR_ENV, data_dir

CSI_RELEASE = data_dir() / csi2021.RELEASE_DIRNAME
LAR_RELEASE = data_dir() / lar2020.RELEASE_DIRNAME

needs_csi = pytest.mark.skipif(
    not CSI_RELEASE.is_dir(),
    reason=f"CsI 2021 release not found at {CSI_RELEASE}; set {DATA_DIR_ENV} to the data directory",
)
needs_lar = pytest.mark.skipif(
    not LAR_RELEASE.is_dir(),
    reason=f"LAr 2020 release not found at {LAR_RELEASE}; set {DATA_DIR_ENV} to the data directory",
)
