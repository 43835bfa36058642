import pytest
from typer.testing import CliRunner

from inventory.seed import generate
from tests.support.mini_pon import PON_ROWS


@pytest.fixture(scope="session")
def city():
    """The generated city, once per run (generation is deterministic)."""
    return generate()


@pytest.fixture
def run_cli(db_url):
    """Run `netops` against the test database; returns the click Result."""
    from cli import app

    runner = CliRunner()

    def run(*args: str, **kwargs):
        return runner.invoke(app, ["--db", db_url, *args], catch_exceptions=False, **kwargs)

    return run


# -- one small database per backend, shared by a module's rejection tests --------------

#: rows that give every entity kind at least one row in the mini city
MINI_EXTRAS = {
    "snmp_profile": [{"name": "public_v2", "version": "v2c"},
                     {"name": "city_v3", "version": "v3", "user": "netops", "auth_protocol": "sha256",
                      "priv_protocol": "aes"}],
    "ssh_profile": [{"name": "netops_ro", "username": "netops"}],
    "price_table": [{"region": "Gelsenkirchen", "valid_from": "2024-01-01", "source": "test"}],
    "price_item": [{"region": "Gelsenkirchen", "valid_from": "2024-01-01", "kind": "trench_per_m",
                    "key": "open_trench", "price_eur": "180.5"},
                   {"region": "Gelsenkirchen", "valid_from": "2024-01-01", "kind": "cable_per_m",
                    "key": "24", "price_eur": "4.2"}],
    "closure": [{"code": "cl-M-1", "node": "M-1", "capacity_splices": "48", "source": "test"}],
    **PON_ROWS,  # customers and the PON
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def mini_db(request, tmp_path_factory):
    """(url, engine) of the mini city (tests/support/mini_city.py) plus a row of every other
    kind, once per backend and module: for tests that must leave it unchanged."""
    from inventory.store import SourceRow, write
    from netops import db as dbmod
    from tests.conftest import _fresh_postgres_url
    from tests.support.mini_city import build_mini_city

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('mini') / 'netops.db'}"
    else:
        url = _fresh_postgres_url(request.getfixturevalue("pg_server"))
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        build_mini_city(session)
        write(session, [(kind, [SourceRow(dict(r)) for r in rows]) for kind, rows in MINI_EXTRAS.items()])
    yield url, engine
    engine.dispose()


def dump(engine) -> dict[str, list[str]]:
    """Every row of every table, as text: equal dumps, equal databases."""
    from sqlalchemy import select

    from inventory.models import metadata

    with engine.connect() as conn:
        return {table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for table in metadata.sorted_tables}


@pytest.fixture(scope="module")
def mini_cli(mini_db):
    """Run the real `netops` CLI on the module's mini database (one engine for all calls:
    hundreds of calls must not open hundreds of connection pools)."""
    from cli import app
    from netops import db as dbmod

    url, engine = mini_db
    runner = CliRunner()
    patch = pytest.MonkeyPatch()
    patch.setattr(dbmod, "make_engine", lambda *_args, **_kwargs: engine)

    def run(*args: str):
        return runner.invoke(app, ["--db", url, *args], catch_exceptions=False)

    yield run
    patch.undo()
