"""Shared fixtures: tables are built once per test session into a temporary directory."""

import pytest

from cevnsfast.paths import TABLES_DIR_ENV


@pytest.fixture(scope="session")
def tables_dir(tmp_path_factory):
    """A session-wide tables directory with every shipped detector built."""
    from cevnsfast.build_tables.build import build_all

    directory = tmp_path_factory.mktemp("tables")
    build_all(directory=directory, progress=False)
    return directory


@pytest.fixture(autouse=True)
def _isolated_tables(monkeypatch, tables_dir):
    """Point every test at the session tables, never at the checkout's tables/."""
    monkeypatch.setenv(TABLES_DIR_ENV, str(tables_dir))
