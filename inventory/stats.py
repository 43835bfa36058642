"""What is in the inventory, counted: `netops inventory stats`.

Plain SQL through the DBAPI connection (sqlite3 or psycopg, see :mod:`netops.dbapi`), so the
command imports neither SQLAlchemy nor the models: their import costs several times what
every query here does. The SQL is the subset SQLite and PostgreSQL read alike (no
parameters: the few values compared with are the constants below), every name in it is one
of :data:`READS`, which tests/inventory/test_stats.py checks against the models and the
recorded head schema, and the counts against counts made through the models on both
backends. Orders are made here, not by the database (the two collate differently).
"""

from __future__ import annotations

from typing import Any

from netops.dbapi import rows

#: stored values this module counts by (``Status.ACTIVE``, ``GENERATED``, ``TakeUp.CONNECTED``)
ACTIVE, GENERATED, CONNECTED = "active", "generated", "connected"

#: table -> the columns the queries below read
READS = {
    "site": ("kind", "status", "source"),
    "device": ("role", "platform"),
    "link": ("medium",),
    "trenchsegment": ("length_m", "laying_method"),
    "cable": ("length_m",),
    "building": ("residential_units",),
    "residentialconnection": ("units", "take_up", "status"),
    "businessconnection": ("service_class", "status", "company"),
}


def stats(conn) -> dict[str, Any]:
    """The counts of `netops inventory stats`. ``conn``: a DBAPI connection, or a SQLAlchemy
    Connection (its driver connection is used, in its transaction)."""
    conn = _driver(conn)

    def grouped(table: str, *columns: str) -> dict:
        # names are spliced into the SQL: only the declared ones, never a caller's value
        if not set(columns) <= set(READS.get(table, ())):
            raise ValueError(f"stats: {table}.{columns} is not in READS")
        names = ", ".join(columns)
        out: dict = {}
        for *keys, count in rows(conn, f"SELECT {names}, COUNT(*) FROM {table} GROUP BY {names}"):
            if len(keys) == 1:
                out[str(keys[0])] = count
            else:
                out.setdefault(str(keys[0]), {})[str(keys[1])] = count
        return dict(sorted(out.items()))

    sites, generated = rows(conn, f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN source = '{GENERATED}' THEN 1 ELSE 0 "
                                  "END), 0) FROM site")[0]
    trenches, trench_m = rows(conn, "SELECT COUNT(*), COALESCE(SUM(length_m), 0.0) FROM trenchsegment")[0]
    cables, cable_m = rows(conn, "SELECT COUNT(*), COALESCE(SUM(length_m), 0.0) FROM cable")[0]
    by_method = rows(conn, "SELECT laying_method, SUM(length_m) FROM trenchsegment GROUP BY laying_method")
    return {
        "sites_by_kind": grouped("site", "kind"),
        "sites_by_kind_and_status": grouped("site", "kind", "status"),
        "sites_real": sites - int(generated),
        "sites_generated": int(generated),
        "devices_by_role": grouped("device", "role"),
        "devices_by_platform": grouped("device", "platform"),
        "links_by_medium": grouped("link", "medium"),
        "trench_segments": trenches,
        "trench_length_m": round(float(trench_m), 1),
        "trench_length_by_method_m": {str(m): round(float(v), 1)
                                      for m, v in sorted(by_method, key=lambda row: str(row[0]))},
        "cables": cables,
        "cable_length_m": round(float(cable_m), 1),
        "customers": customers(conn),
    }


def customers(conn) -> dict[str, Any]:
    """Who the network serves: buildings and their homes, companies by service class.
    Homes count as passed when an active connection reaches them (connected ones too);
    companies are counted by name (one company with two lines is one company, two lines).
    ``conn`` as for :func:`stats`."""
    conn = _driver(conn)
    buildings, residential = rows(conn, "SELECT COUNT(*), COALESCE(SUM(residential_units), 0) FROM building")[0]
    passed, connected = rows(conn, "SELECT COALESCE(SUM(units), 0), "
                                   f"COALESCE(SUM(CASE WHEN take_up = '{CONNECTED}' THEN units ELSE 0 END), 0) "
                                   f"FROM residentialconnection WHERE status = '{ACTIVE}'")[0]
    by_class = dict(rows(conn, f"SELECT service_class, COUNT(*) FROM businessconnection WHERE status = '{ACTIVE}' "
                               "GROUP BY service_class"))
    companies = rows(conn, f"SELECT COUNT(DISTINCT company) FROM businessconnection WHERE status = '{ACTIVE}'")[0][0]
    return {
        "buildings": buildings,
        "residential_units": int(residential),
        "residential_units_passed": int(passed),
        "residential_units_connected": int(connected),
        "companies": companies,
        "business_connections": sum(by_class.values()),
        "business_connections_by_service_class": {str(k): by_class[k] for k in sorted(by_class, key=str)},
    }


def _driver(conn):
    """The DBAPI connection of a SQLAlchemy Connection (a session's, in its transaction)."""
    return conn.connection.driver_connection if hasattr(conn, "exec_driver_sql") else conn
