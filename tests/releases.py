"""Where the tests find the COHERENT data releases: the copy bundled with the package (or
``$CEVNSFAST_DATA_DIR``). Tests that read them never skip: the data ship with cevnsfast, so a
missing release is a failure, not a reason to test less."""

from cevnsfast.data import csi2021, lar2020
from cevnsfast.paths import data_dir

CSI_RELEASE = data_dir() / csi2021.RELEASE_DIRNAME
LAR_RELEASE = data_dir() / lar2020.RELEASE_DIRNAME
