"""Read-side questions people ask of the inventory: what is there, and show me one thing."""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from inventory.entities import KINDS, kind
from inventory.models import (
    GENERATED, Building, BusinessConnection, Cable, Device, Link, ResidentialConnection, Site, Status, TakeUp,
    TrenchSegment,
)
from inventory.store import KeyIndex
from netops.errors import NetopsError, NotFoundError


def stats(session: Session) -> dict[str, Any]:
    def grouped(column_a, column_b=None) -> dict:
        cols = [column_a] if column_b is None else [column_a, column_b]
        out: dict = {}
        for row in session.execute(select(*cols, func.count()).group_by(*cols)):
            if column_b is None:
                out[str(row[0])] = row[1]
            else:
                out.setdefault(str(row[0]), {})[str(row[1])] = row[2]
        return dict(sorted(out.items()))

    cable_m = session.execute(select(func.coalesce(func.sum(Cable.length_m), 0.0))).scalar_one()
    trench_m = session.execute(select(func.coalesce(func.sum(TrenchSegment.length_m), 0.0))).scalar_one()
    total_sites = session.execute(select(func.count()).select_from(Site)).scalar_one()
    generated = session.execute(
        select(func.count()).select_from(Site).where(Site.source == GENERATED)).scalar_one()
    return {
        "sites_by_kind": grouped(Site.kind),
        "sites_by_kind_and_status": grouped(Site.kind, Site.status),
        "sites_real": total_sites - generated,
        "sites_generated": generated,
        "devices_by_role": grouped(Device.role),
        "devices_by_platform": grouped(Device.platform),
        "links_by_medium": grouped(Link.medium),
        "trench_segments": session.execute(select(func.count()).select_from(TrenchSegment)).scalar_one(),
        "trench_length_m": round(float(trench_m), 1),
        "trench_length_by_method_m": {
            str(m): round(float(v), 1)
            for m, v in session.execute(
                select(TrenchSegment.laying_method, func.sum(TrenchSegment.length_m))
                .group_by(TrenchSegment.laying_method).order_by(TrenchSegment.laying_method))
        },
        "cables": session.execute(select(func.count()).select_from(Cable)).scalar_one(),
        "cable_length_m": round(float(cable_m), 1),
        "customers": customers(session),
    }


def customers(session: Session) -> dict[str, Any]:
    """Who the network serves: buildings and their homes, companies by service class.
    Homes count as passed when an active connection reaches them (connected ones too)."""
    def units(*where) -> int:
        query = select(func.coalesce(func.sum(ResidentialConnection.units), 0)).where(
            ResidentialConnection.status == Status.ACTIVE, *where)
        return int(session.execute(query).scalar_one())

    buildings, residential = session.execute(
        select(func.count(), func.coalesce(func.sum(Building.residential_units), 0))).one()
    by_class = dict(session.execute(select(BusinessConnection.service_class, func.count())
                                    .where(BusinessConnection.status == Status.ACTIVE)
                                    .group_by(BusinessConnection.service_class)).all())
    return {
        "buildings": buildings,
        "residential_units": int(residential),
        "residential_units_passed": units(),
        "residential_units_connected": units(ResidentialConnection.take_up == TakeUp.CONNECTED),
        "business_connections": sum(by_class.values()),
        "business_connections_by_service_class": {str(k): by_class[k] for k in sorted(by_class)},
    }


def list_rows(session: Session, kind_name: str, filters: dict[str, str] | None = None,
              limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of a kind as file rows (natural keys), filtered by exact field values."""
    entity = kind(kind_name)
    filters = filters or {}
    unknown = set(filters) - set(entity.file_fields)
    if unknown:
        raise NetopsError(
            f"unknown filter field(s) {', '.join(sorted(unknown))} for {kind_name}; "
            f"fields: {', '.join(entity.file_fields)}"
        )
    index = KeyIndex(session)
    index.ensure(kind_name)
    rows = []
    for db_row in index.rows[kind_name].values():
        row = index.to_file_row(entity, db_row)
        if all(str(_plain(row.get(f))) == v for f, v in filters.items()):
            rows.append(row)
    rows.sort(key=lambda r: tuple(str(r.get(f)) for f in entity.key))
    return rows[:limit] if limit else rows


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


#: what `netops inventory show` looks a name up in, in this order
SHOWN_KINDS = ("site", "device", "cable", "segment", "route_node", "link", "closure")


def show(session: Session, name: str) -> dict[str, Any]:
    """One site, device, cable, segment, link or node by its code/name, with what hangs on it."""
    for kind_name in SHOWN_KINDS:
        matches = list_rows(session, kind_name, {KINDS[kind_name].key[0]: name})
        if matches:
            result = {"kind": kind_name, kind_name: matches[0]}
            if kind_name == "site":
                result["devices"] = list_rows(session, "device", {"site": name})
                result["interfaces"] = [
                    i for d in result["devices"] for i in list_rows(session, "interface", {"device": d["name"]})
                ]
            elif kind_name == "device":
                result["interfaces"] = list_rows(session, "interface", {"device": name})
                result["links"] = [
                    link for link in list_rows(session, "link")
                    if name in (link["a_device"], link["b_device"])
                ]
            elif kind_name == "cable":
                result["segments"] = list_rows(session, "cable_segment", {"cable": name})
                result["hops"] = list_rows(session, "link_hop", {"cable": name})
            elif kind_name == "link":
                result["hops"] = list_rows(session, "link_hop", {"link": name})
            return result
    known = [n for k in SHOWN_KINDS for n in session.scalars(select(getattr(KINDS[k].model, KINDS[k].key[0])))]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.75)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise NotFoundError(f"nothing named {name!r} (looked at sites, devices, cables, segments, nodes, links, "
                        f"closures){hint}")
