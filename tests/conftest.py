from __future__ import annotations

import itertools
import logging
import os
import sys

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import text

from netops import db as dbmod
from tests.support import postgres

logging.getLogger("fakenos").setLevel(logging.CRITICAL)
logging.getLogger("paramiko").setLevel(logging.CRITICAL)

_db_counter = itertools.count()

# Property tests: `make test` (and CI) run the "ci" profile, the same examples every run
# (derandomised: a gate that cannot flip on a random draw). Hunting for new failures is a
# separate command, `make fuzz` (profile "hunt": fresh random seeds, more examples where a
# test does not pin its count, failures kept in tests/.hypothesis-examples to replay in the
# next hunt; turn each into an @example so that CI checks it from then on).
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "hunt", max_examples=2_000, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow],
    database=DirectoryBasedExampleDatabase(os.path.join(os.path.dirname(__file__), ".hypothesis-examples")))
settings.load_profile(os.environ.get("NETOPS_HYPOTHESIS_PROFILE", "ci"))


def _import_the_whole_project() -> None:
    """Hypothesis mixes the literals of every project module imported so far into its draws,
    so a derandomised property test drew other examples alone than in the whole run (session
    12: a scrub leak showed only when its file ran alone). Importing everything first makes
    the examples a function of the code, not of which tests were selected."""
    import importlib
    import pkgutil

    importlib.import_module("cli")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
    importlib.import_module("planning_bench")  # the one benchmark a test imports (its checks)
    for name in ("netops", "inventory", "topology", "exporters", "commands", "planning", "report", "configs"):
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            importlib.import_module(module.name)


_import_the_whole_project()


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
