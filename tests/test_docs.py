"""The documentation, API reference included, builds offline from the docstrings."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mkdocs_builds_the_api_reference(tmp_path):
    pytest.importorskip("mkdocstrings_handlers.python")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    page = (tmp_path / "site" / "api" / "rates" / "index.html").read_text()
    assert "RatePredictor" in page and "counts_batch" in page
