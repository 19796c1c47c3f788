"""Errors raised by the data-release loaders (CsI 2021, LAr 2020)."""

from pathlib import Path

import numpy as np

from cevnsfast.paths import DATA_DIR_ENV


class DataFormatError(ValueError):
    """A release file exists but its content is not what the loader expects.

    The message reads ``<file>, line <n>: <reason>`` (``<file>: <reason>`` when the problem is
    not tied to one line, e.g. an empty selection).
    """

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = Path(path), line, reason
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # keep the structured fields across pickling (multiprocessing, Dask)
        return type(self), (self.path, self.line, self.reason)


class DataNotFoundError(FileNotFoundError):
    """A release file or directory is missing; the message says how to point at the data."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(
            f"COHERENT data release file not found: {path}. Download the official release and "
            f"point cevnsfast at the directory that contains it with the environment variable "
            f"{DATA_DIR_ENV} or the CLI option --data-dir."
        )

    def __reduce__(self):
        return type(self), (self.path,)


def parse_numeric_row(path: Path, lineno: int, text: str, ncols: int) -> list[float]:
    """One whitespace-separated row of ``ncols`` finite numbers, or a DataFormatError naming
    the file and line (shared by the release loaders)."""
    fields = text.split()
    if len(fields) != ncols:
        raise DataFormatError(path, lineno, f"expected {ncols} columns, got {len(fields)}")
    try:
        values = [float(x) for x in fields]
    except ValueError:
        raise DataFormatError(path, lineno, f"non-numeric value in {text!r}") from None
    if not all(np.isfinite(values)):
        raise DataFormatError(path, lineno, f"non-finite value in {text!r}")
    return values


def read_release_text(path: Path) -> str:
    """The UTF-8 text of a release file; binary junk or another encoding is a DataFormatError
    naming the file (never a bare UnicodeDecodeError)."""
    try:
        return Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(
            path, None, f"is not UTF-8 text (byte {err.start}: binary or corrupted file?)"
        ) from None
