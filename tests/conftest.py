"""Shared fixtures: tables are built once per test session into a temporary directory."""

import pytest

from cevnsfast.data.manifest import ALLOW_MODIFIED_ENV
from cevnsfast.paths import DATA_DIR_ENV, TABLES_DIR_ENV, data_dir

DEFAULT_DATA_DIR = data_dir()


@pytest.fixture(scope="session")
def tables_dir(tmp_path_factory):
    """A session-wide tables directory with every shipped detector built; other tables
    (model tables, user specs) are built on first use, as the CLI does."""
    from cevnsfast.build_tables import enable_builds
    from cevnsfast.build_tables.build import build_all

    enable_builds()

    directory = tmp_path_factory.mktemp("tables")
    build_all(directory=directory, progress=False)
    return directory


@pytest.fixture(autouse=True)
def _isolated_tables(monkeypatch, tables_dir):
    """Point every test at the session tables, never at the checkout's tables/, and at the
    default data; check data releases strictly. (The CLI's --data-dir, --tables-dir and
    --allow-modified-data set environment variables: monkeypatch restores them after each
    test, so one test's CLI run cannot redirect the next.)"""
    monkeypatch.setenv(TABLES_DIR_ENV, str(tables_dir))
    monkeypatch.setenv(DATA_DIR_ENV, str(DEFAULT_DATA_DIR))
    monkeypatch.setenv(ALLOW_MODIFIED_ENV, "0")
