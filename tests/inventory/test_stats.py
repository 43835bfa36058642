"""`inventory stats` counts with plain SQL through the driver (sqlite3, psycopg), without
SQLAlchemy or the models (for start-up speed): here the names it reads and its stored values
are checked against the models and the recorded head schema, that it reads nothing else, and
its counts against the same counts made through the models, on both backends and both ways
in (a driver connection, a SQLAlchemy one)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from inventory import stats as stats_module
from inventory.models import (GENERATED, BusinessConnection, Cable, Device, ResidentialConnection, Site, Status,
                              TakeUp, metadata)
from netops import db as dbmod
from netops import dbapi
from tests.support.mini_city import build_mini_city


def test_names_and_values_are_the_models():
    head = dbapi.head_tables()
    for table, columns in stats_module.READS.items():
        assert table in metadata.tables and table in head, table
        assert set(columns) <= set(metadata.tables[table].columns.keys()) & set(head[table]), table
    assert (stats_module.ACTIVE, stats_module.GENERATED, stats_module.CONNECTED) == \
        (Status.ACTIVE, GENERATED, TakeUp.CONNECTED)


def test_it_reads_only_the_names_it_declares(tmp_path):
    """On a database holding only the READS tables and columns every query still runs."""
    conn = sqlite3.connect(tmp_path / "reads.db")
    for table, columns in stats_module.READS.items():
        conn.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    conn.execute("INSERT INTO site VALUES ('school', 'active', 'generated'), ('school', 'planned', 'osm')")
    conn.execute("INSERT INTO residentialconnection VALUES (4, 'connected', 'active'), (3, 'passed', 'active'), "
                 "(9, 'connected', 'planned')")
    result = stats_module.stats(conn)
    assert result["sites_by_kind_and_status"] == {"school": {"active": 1, "planned": 1}}
    assert (result["sites_real"], result["sites_generated"], result["trench_length_m"]) == (1, 1, 0.0)
    assert (result["customers"]["residential_units_passed"], result["customers"]["residential_units_connected"]) \
        == (7, 4)  # the planned connection's 9 homes count nowhere


@pytest.mark.parametrize("way_in", ["driver", "sqlalchemy"])
def test_counts_agree_with_the_models(engine, way_in):
    with dbmod.session_scope(engine) as session:
        build_mini_city(session)
    with dbmod.session_scope(engine) as session:
        sites = session.scalars(select(Site)).all()
        devices = session.scalars(select(Device)).all()
        cables = session.scalars(select(Cable)).all()
        homes = session.scalars(select(ResidentialConnection)).all()
        companies = session.scalars(select(BusinessConnection)).all()
        if way_in == "sqlalchemy":
            with engine.connect() as conn:
                result = stats_module.stats(conn)
        else:  # as the command opens it
            conn = dbapi.connect_checked(engine.url.render_as_string(hide_password=False), 5.0)
            assert conn is not None and "sqlalchemy" not in type(conn).__module__
            result = stats_module.stats(conn)
            conn.close()
    assert sites and devices and cables  # the mini city has something to count
    assert result["sites_by_kind"] == dict(sorted(Counter(str(s.kind) for s in sites).items()))
    assert result["sites_generated"] == sum(s.source == GENERATED for s in sites)
    assert result["devices_by_role"] == dict(sorted(Counter(str(d.role) for d in devices).items()))
    assert result["cables"] == len(cables)
    assert result["cable_length_m"] == round(sum(c.length_m or 0 for c in cables), 1)
    active_homes = [h for h in homes if h.status == Status.ACTIVE]
    assert result["customers"]["residential_units_passed"] == sum(h.units for h in active_homes)
    assert result["customers"]["residential_units_connected"] == \
        sum(h.units for h in active_homes if h.take_up == TakeUp.CONNECTED)
    assert result["customers"]["business_connections"] == sum(c.status == Status.ACTIVE for c in companies)


def test_the_command_prints_the_same_counts_as_the_function(engine):
    """`netops inventory stats --json` (the driver path) against the function on a SQLAlchemy
    connection: equal, on both backends."""
    from cli import app

    with dbmod.session_scope(engine) as session:
        build_mini_city(session)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["--db", url, "inventory", "stats", "--json"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert json.loads(result.stdout) == stats_module.stats(conn)


@pytest.mark.parametrize("url", ["sqlite:///{path}?timeout=5", "sqlite:///{path}.missing", "sqlite://",
                                 "mysql://localhost/netops"])
def test_urls_it_does_not_read_are_left_to_the_full_way(tmp_path, url):
    """A URL with options, an in-memory or missing database, another backend: no connection
    (the full way opens or refuses it), and nothing created."""
    url = url.format(path=tmp_path / "x.db")
    assert dbapi.connect_checked(url, 1.0) is None
    assert list(tmp_path.iterdir()) == []


def test_a_database_not_plainly_at_head_is_left_to_the_full_way(engine):
    """Whatever the full checks would refuse (an older revision, a missing column), the
    driver path does not open: the command then says what is wrong (tests/test_db_errors.py)."""
    from sqlalchemy import text

    url = engine.url.render_as_string(hide_password=False)
    conn = dbapi.connect_checked(url, 5.0)
    assert conn is not None
    conn.close()
    with engine.begin() as sa_conn:
        sa_conn.execute(text("ALTER TABLE site DROP COLUMN source"))
    assert dbapi.connect_checked(url, 5.0) is None
    with engine.begin() as sa_conn:
        sa_conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert dbapi.connect_checked(url, 5.0) is None


def test_a_locked_database_is_one_line_from_the_driver_path(tmp_path):
    """A driver error raised by sqlite3 itself (not wrapped by SQLAlchemy) is explained like
    any database error: one line, exit 4, no traceback."""
    from cli import app

    path = tmp_path / "netops.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # in WAL mode only this keeps readers out
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM site")
    try:
        result = CliRunner().invoke(app, ["--db", str(path), "inventory", "stats"],
                                    env={"NETOPS_DB_LOCK_TIMEOUT": "0.3"})
    finally:
        holder.close()
    assert result.exit_code == 4, result.output
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert "is locked" in result.stderr and "0.3 s" in result.stderr
    assert isinstance(result.exception, SystemExit)  # no traceback
