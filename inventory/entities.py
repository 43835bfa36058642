"""The entity kinds as files see them: natural keys instead of database ids.

Import, export and the dataset loader all speak in *file rows*: plain dicts whose
references to other rows are natural keys (a device names its site by ``site`` =
the site's code, a link names its ends by device and interface name). This module is
the single description of that mapping::

    file row  {"name": "school-1-sw1", "site": "school-1", "role": "access_switch", ...}
                 │ resolve refs (site code → site.id)            ▲ export (site.id → code)
                 ▼                                               │
    db row    {"name": "school-1-sw1", "site_id": 17, "role": "access_switch", ...}

Kinds are listed in dependency order: a kind only references kinds before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from sqlmodel import SQLModel

from inventory import pon
from inventory.models import (
    Building,
    BusinessConnection,
    Cable,
    CableSegment,
    Device,
    Interface,
    Link,
    LinkHop,
    OltPort,
    OpticType,
    PriceItem,
    PriceTable,
    ResidentialConnection,
    RouteNode,
    Site,
    SnmpProfile,
    SpliceClosure,
    Splitter,
    SshProfile,
    TrenchSegment,
)


@dataclass(frozen=True)
class Ref:
    """A foreign key as a file writes it: ``file_fields`` hold the target's natural key."""

    column: str  # e.g. "site_id"
    target: str  # kind name, e.g. "site"
    file_fields: tuple[str, ...]  # e.g. ("site",) or ("a_device", "a_interface")
    required: bool = True


@dataclass(frozen=True)
class EntityKind:
    name: str
    model: type[SQLModel]
    key: tuple[str, ...]  # natural key, in file fields
    refs: tuple[Ref, ...] = ()
    json_fields: tuple[str, ...] = ()  # columns holding JSON (geometry)
    geometry: str | None = None  # "point" (lat/lon) or "line" (geometry field) for GeoJSON
    path_of: str | None = None  # ordered rows of one parent, replaced as a whole (see store)
    skip_columns: tuple[str, ...] = field(default=("id", "plan_id"))
    # rules across rows (ports, capacity), run on an import's valid rows: see inventory/pon.py
    check: Callable[..., list] | None = None

    @cached_property
    def columns(self) -> list[str]:
        return [c.name for c in self.model.__table__.columns]

    @cached_property
    def schema(self) -> type[SQLModel]:
        """The model's plain (non-table) base: validates a row without building an ORM object."""
        return next(b for b in self.model.__mro__[1:] if issubclass(b, SQLModel) and b is not SQLModel)

    @cached_property
    def file_fields(self) -> list[str]:
        """Fields of a file row, in export order: refs replace their id columns."""
        by_column = {r.column: r for r in self.refs}
        fields: list[str] = []
        for column in self.columns:
            if column in self.skip_columns:
                continue
            if column in by_column:
                fields.extend(by_column[column].file_fields)
            else:
                fields.append(column)
        return fields

    def ref_columns(self) -> set[str]:
        return {r.column for r in self.refs}


def _ref(column: str, target: str, *file_fields: str, required: bool = True) -> Ref:
    return Ref(column, target, file_fields or (column.removesuffix("_id"),), required)


KINDS: dict[str, EntityKind] = {
    k.name: k
    for k in [
        EntityKind("snmp_profile", SnmpProfile, ("name",)),
        EntityKind("ssh_profile", SshProfile, ("name",)),
        EntityKind("optic", OpticType, ("name",)),
        EntityKind("price_table", PriceTable, ("region", "valid_from")),
        EntityKind(
            "price_item", PriceItem, ("region", "valid_from", "kind", "key"),
            refs=(_ref("table_id", "price_table", "region", "valid_from"),),
        ),
        EntityKind("site", Site, ("code",), geometry="point"),
        EntityKind("device", Device, ("name",), refs=(_ref("site_id", "site"),)),
        EntityKind(
            "interface", Interface, ("device", "name"),
            refs=(_ref("device_id", "device"), _ref("optic_id", "optic", "optic", required=False)),
        ),
        EntityKind(
            "route_node", RouteNode, ("code",),
            refs=(_ref("site_id", "site", required=False),), geometry="point",
        ),
        EntityKind(
            "segment", TrenchSegment, ("code",),
            refs=(_ref("a_node_id", "route_node"), _ref("b_node_id", "route_node")),
            json_fields=("geometry",), geometry="line",
        ),
        EntityKind("closure", SpliceClosure, ("code",), refs=(_ref("node_id", "route_node", "node"),)),
        EntityKind(
            "cable", Cable, ("code",),
            refs=(
                _ref("a_site_id", "site", required=False),
                _ref("a_closure_id", "closure", required=False),
                _ref("b_site_id", "site", required=False),
                _ref("b_closure_id", "closure", required=False),
            ),
        ),
        EntityKind(
            "cable_segment", CableSegment, ("cable", "seq"),
            refs=(_ref("cable_id", "cable"), _ref("segment_id", "segment")),
            skip_columns=(), path_of="cable_id",
        ),
        EntityKind(
            "link", Link, ("code",),
            refs=(
                _ref("a_interface_id", "interface", "a_device", "a_interface"),
                _ref("b_interface_id", "interface", "b_device", "b_interface"),
            ),
        ),
        EntityKind(
            "link_hop", LinkHop, ("link", "seq"),
            refs=(_ref("link_id", "link"), _ref("cable_id", "cable")),
            skip_columns=(), path_of="link_id",
        ),
        # customer access (inventory/models/access.py)
        EntityKind("building", Building, ("code",), geometry="point"),
        EntityKind(
            "business_connection", BusinessConnection, ("code",),
            refs=(
                _ref("building_id", "building", required=False),
                _ref("site_id", "site", required=False),
                _ref("link_id", "link", required=False),
                _ref("device_id", "device", required=False),
            ),
        ),
        EntityKind(
            "olt_port", OltPort, ("device", "interface"),
            refs=(_ref("interface_id", "interface", "device", "interface"),), check=pon.check_olt_ports,
        ),
        EntityKind(
            "splitter", Splitter, ("code",),
            refs=(
                _ref("node_id", "route_node", "node"),
                _ref("olt_port_id", "olt_port", "olt_device", "olt_interface", required=False),
                _ref("parent_id", "splitter", "parent", required=False),
                _ref("feeder_cable_id", "cable", "feeder_cable", required=False),
            ),
            check=pon.check_splitters,
        ),
        EntityKind(
            "residential_connection", ResidentialConnection, ("code",),
            refs=(
                _ref("building_id", "building"),
                _ref("splitter_id", "splitter"),
                _ref("drop_cable_id", "cable", "drop_cable", required=False),
            ),
            check=pon.check_residential,
        ),
    ]
}

ORDER: list[str] = list(KINDS)

#: table name -> element kind (``trenchsegment`` -> ``segment``): what output names a table's rows
KIND_OF_TABLE: dict[str, str] = {k.model.__tablename__: k.name for k in KINDS.values()}


def kind(name: str) -> EntityKind:
    from netops.errors import NetopsError, RowProblem
    from netops.vocabulary import unknown

    try:
        return KINDS[name]
    except KeyError:
        raise NetopsError(unknown("element kind", RowProblem.shorten(name), KINDS)) from None


def key_of(entity: EntityKind, file_row: dict[str, Any]) -> tuple:
    return tuple(_key_part(file_row.get(f)) for f in entity.key)


def _key_part(value: Any) -> Any:
    # dates and numbers arrive as strings from CSV and as objects from the database
    return None if value is None else str(value)
