from __future__ import annotations

import itertools
import logging
import os

import pytest
from sqlalchemy import text

from netops import db as dbmod
from tests.support import postgres

logging.getLogger("fakenos").setLevel(logging.CRITICAL)
logging.getLogger("paramiko").setLevel(logging.CRITICAL)

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL server for the whole run; each test gets its own database."""
    if not postgres.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries missing in CI: `make test` should have installed them")
        pytest.skip("PostgreSQL not installed (run `make test`)")
    server = postgres.start()
    yield server
    server.stop()


def _fresh_postgres_url(server) -> str:
    name = f"netops_test_{os.getpid()}_{next(_db_counter)}"
    admin = dbmod.make_engine(server.url())
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database on each backend: the same test runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'netops.db'}"
    return _fresh_postgres_url(request.getfixturevalue("pg_server"))


@pytest.fixture
def engine(db_url):
    """An engine on a fresh database with the schema at head."""
    eng = dbmod.make_engine(db_url)
    dbmod.upgrade(eng)
    yield eng
    eng.dispose()
