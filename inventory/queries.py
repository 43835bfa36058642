"""Read-side questions people ask of the inventory: list a kind, and show me one thing
(counts are in :mod:`inventory.stats`)."""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from inventory.entities import KINDS, kind
from inventory.store import KeyIndex
from netops.errors import NetopsError, NotFoundError


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
