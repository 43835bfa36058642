"""What is in the inventory, counted: `netops inventory stats`.

Written on SQLAlchemy Core (lightweight ``table()`` clauses naming the columns it reads)
rather than the SQLModel classes: importing the models builds about twenty pydantic
models, which cost more CPU than every query here together. The same statements run on
SQLite and PostgreSQL; the names are checked against the models by
tests/inventory/test_stats.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, func, select, table
from sqlalchemy.engine import Connection

#: stored values this module counts by (``Status.ACTIVE``, ``GENERATED``, ``TakeUp.CONNECTED``)
ACTIVE, GENERATED, CONNECTED = "active", "generated", "connected"

SITE = table("site", column("kind"), column("status"), column("source"))
DEVICE = table("device", column("role"), column("platform"))
LINK = table("link", column("medium"))
TRENCH = table("trenchsegment", column("length_m"), column("laying_method"))
CABLE = table("cable", column("length_m"))
BUILDING = table("building", column("residential_units"))
RESIDENTIAL = table("residentialconnection", column("units"), column("take_up"), column("status"))
BUSINESS = table("businessconnection", column("service_class"), column("status"), column("company"))


def stats(conn: Connection) -> dict[str, Any]:
    def grouped(column_a, column_b=None) -> dict:
        cols = [column_a] if column_b is None else [column_a, column_b]
        out: dict = {}
        for row in conn.execute(select(*cols, func.count()).group_by(*cols)):
            if column_b is None:
                out[str(row[0])] = row[1]
            else:
                out.setdefault(str(row[0]), {})[str(row[1])] = row[2]
        return dict(sorted(out.items()))

    def scalar(query) -> Any:
        return conn.execute(query).scalar_one()

    cable_m = scalar(select(func.coalesce(func.sum(CABLE.c.length_m), 0.0)))
    trench_m = scalar(select(func.coalesce(func.sum(TRENCH.c.length_m), 0.0)))
    total_sites = scalar(select(func.count()).select_from(SITE))
    generated = scalar(select(func.count()).select_from(SITE).where(SITE.c.source == GENERATED))
    return {
        "sites_by_kind": grouped(SITE.c.kind),
        "sites_by_kind_and_status": grouped(SITE.c.kind, SITE.c.status),
        "sites_real": total_sites - generated,
        "sites_generated": generated,
        "devices_by_role": grouped(DEVICE.c.role),
        "devices_by_platform": grouped(DEVICE.c.platform),
        "links_by_medium": grouped(LINK.c.medium),
        "trench_segments": scalar(select(func.count()).select_from(TRENCH)),
        "trench_length_m": round(float(trench_m), 1),
        "trench_length_by_method_m": {
            str(m): round(float(v), 1)
            for m, v in conn.execute(select(TRENCH.c.laying_method, func.sum(TRENCH.c.length_m))
                                     .group_by(TRENCH.c.laying_method).order_by(TRENCH.c.laying_method))
        },
        "cables": scalar(select(func.count()).select_from(CABLE)),
        "cable_length_m": round(float(cable_m), 1),
        "customers": customers(conn),
    }


def customers(conn: Connection) -> dict[str, Any]:
    """Who the network serves: buildings and their homes, companies by service class.
    Homes count as passed when an active connection reaches them (connected ones too);
    companies are counted by name (one company with two lines is one company, two lines)."""
    def units(*where) -> int:
        query = select(func.coalesce(func.sum(RESIDENTIAL.c.units), 0)).where(
            RESIDENTIAL.c.status == ACTIVE, *where)
        return int(conn.execute(query).scalar_one())

    buildings, residential = conn.execute(
        select(func.count(), func.coalesce(func.sum(BUILDING.c.residential_units), 0)).select_from(BUILDING)).one()
    by_class = dict(conn.execute(select(BUSINESS.c.service_class, func.count())
                                 .where(BUSINESS.c.status == ACTIVE)
                                 .group_by(BUSINESS.c.service_class)).all())
    companies = conn.execute(select(func.count(func.distinct(BUSINESS.c.company)))
                             .where(BUSINESS.c.status == ACTIVE)).scalar_one()
    return {
        "buildings": buildings,
        "residential_units": int(residential),
        "residential_units_passed": units(),
        "residential_units_connected": units(RESIDENTIAL.c.take_up == CONNECTED),
        "companies": companies,
        "business_connections": sum(by_class.values()),
        "business_connections_by_service_class": {str(k): by_class[k] for k in sorted(by_class)},
    }
