"""Plain, read-only rows of the inventory, as the topology graphs need them.

The graph builders take these (or any object with the same attributes, such as the
SQLModel rows themselves), so tests build small networks by hand without a database,
and the loader reads the database with one column query per table through the DBAPI
cursor (no ORM objects, no SQLAlchemy result rows) into named tuples, which are cheap to
make and keep a 100x city in memory compactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlmodel import Session

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
    ResidentialConnection,
    RouteNode,
    Site,
    SpliceClosure,
    Splitter,
    TrenchSegment,
)
from inventory.models.common import Status
from topology.gc_pause import gc_paused

ACTIVE = Status.ACTIVE.value
PLANNED = Status.PLANNED.value


def in_scope(status: str | None, include_planned: bool) -> bool:
    """Decommissioned rows never count; planned rows only when a plan is being evaluated."""
    status = status or ACTIVE
    return status == ACTIVE or (include_planned and status == PLANNED)


class SiteRow(NamedTuple):
    id: int
    code: str
    kind: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    criticality: str | None = None
    status: str = ACTIVE


class NodeRow(NamedTuple):
    id: int
    code: str
    kind: str = "manhole"
    lat: float = 51.5
    lon: float = 7.1
    site_id: int | None = None
    status: str = ACTIVE


class SegmentRow(NamedTuple):
    id: int
    code: str
    a_node_id: int
    b_node_id: int
    length_m: float = 100.0
    laying_method: str = "open_trench"
    ducts_total: int = 2
    ducts_used: int = 1
    status: str = ACTIVE
    geometry: tuple | list = ()  # [[lon, lat], ...] from a-node to b-node; empty when not loaded


class ClosureRow(NamedTuple):
    id: int
    code: str
    node_id: int
    status: str = ACTIVE


class CableRow(NamedTuple):
    id: int
    code: str
    strands: int = 24
    a_site_id: int | None = None
    a_closure_id: int | None = None
    b_site_id: int | None = None
    b_closure_id: int | None = None
    length_m: float = 100.0
    status: str = ACTIVE


class CableSegmentRow(NamedTuple):
    cable_id: int
    seq: int
    segment_id: int


class DeviceRow(NamedTuple):
    id: int
    name: str
    site_id: int
    role: str = "access_switch"
    platform: str = "cisco_ios"
    mgmt_ip: str | None = None
    status: str = ACTIVE


class InterfaceRow(NamedTuple):
    id: int
    device_id: int
    name: str = "if"


class LinkRow(NamedTuple):
    id: int
    code: str
    a_interface_id: int
    b_interface_id: int
    medium: str = "fibre"
    status: str = ACTIVE


class HopRow(NamedTuple):
    link_id: int
    seq: int
    cable_id: int
    strand_a: int = 1
    strand_b: int = 2


class BuildingRow(NamedTuple):
    id: int
    code: str
    lat: float = 51.5
    lon: float = 7.1
    residential_units: int = 0
    status: str = ACTIVE


class BusinessRow(NamedTuple):
    """A company's connection: carried by a link (point-to-point fibre) or a device (an
    Ethernet service on a switch), at a building or a site."""

    id: int
    code: str
    service_class: str = "business"
    link_id: int | None = None
    device_id: int | None = None
    building_id: int | None = None
    site_id: int | None = None
    status: str = ACTIVE


class OltPortRow(NamedTuple):
    id: int
    interface_id: int
    optics_class: str = "b_plus"
    status: str = ACTIVE


class SplitterRow(NamedTuple):
    id: int
    code: str
    ratio: int
    node_id: int
    olt_port_id: int | None = None
    parent_id: int | None = None
    parent_port: int | None = None
    feeder_cable_id: int | None = None
    feeder_strand: int | None = None
    status: str = ACTIVE


class ResidentialRow(NamedTuple):
    """An ONT in a building on one splitter port, serving ``units`` homes."""

    id: int
    code: str
    building_id: int
    splitter_id: int
    splitter_port: int
    units: int = 1
    take_up: str = "connected"
    drop_cable_id: int | None = None
    drop_strand: int | None = None
    status: str = ACTIVE


@dataclass(slots=True)
class Inventory:
    """Everything the topology needs, as plain rows (all statuses; builders filter)."""

    sites: list[SiteRow] = field(default_factory=list)
    nodes: list[NodeRow] = field(default_factory=list)
    segments: list[SegmentRow] = field(default_factory=list)
    closures: list[ClosureRow] = field(default_factory=list)
    cables: list[CableRow] = field(default_factory=list)
    cable_segments: list[CableSegmentRow] = field(default_factory=list)
    devices: list[DeviceRow] = field(default_factory=list)
    interfaces: list[InterfaceRow] = field(default_factory=list)
    links: list[LinkRow] = field(default_factory=list)
    hops: list[HopRow] = field(default_factory=list)
    # customers (``inventory/models/access.py``)
    buildings: list[BuildingRow] = field(default_factory=list)
    businesses: list[BusinessRow] = field(default_factory=list)
    olt_ports: list[OltPortRow] = field(default_factory=list)
    splitters: list[SplitterRow] = field(default_factory=list)
    residential: list[ResidentialRow] = field(default_factory=list)


def _select(cursor, *columns, order_by=()) -> list[tuple]:
    """One column query of one table, in a fixed order (the first column, the id, unless
    told): graphs built from the rows, and every answer that depends on the order of a
    search, are then the same on SQLite and PostgreSQL, whose scans return rows in
    different orders. Through the DBAPI cursor: plain tuples, no SQLAlchemy result rows."""
    table = columns[0].expression.table.name
    names = ", ".join(f'"{c.expression.name}"' for c in columns)
    order = ", ".join(f'"{c.expression.name}"' for c in (order_by or columns[:1]))
    cursor.execute(f'SELECT {names} FROM "{table}" ORDER BY {order}')
    return cursor.fetchall()


def _rows(cursor, row_type, *columns, order_by=()) -> list:
    rows = _select(cursor, *columns, order_by=order_by)
    if len(columns) < len(row_type._fields):
        return [row_type(*values) for values in rows]  # the fields not read take their defaults
    make = row_type._make
    return [make(values) for values in rows]


def _geometry(value) -> tuple | list:
    """A trench's LineString: JSON text from SQLite, already a list from PostgreSQL's json."""
    if isinstance(value, str):
        value = json.loads(value)
    return value or ()


@gc_paused()
def load_inventory(session: Session, *, geometry: bool = False) -> Inventory:
    """Read the inventory with column queries (no ORM objects). ``geometry`` also loads the
    trench LineStrings, which only the consistency audit and GeoJSON output need."""
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        return _load(cursor, geometry)
    finally:
        cursor.close()


def _load(cursor, geometry: bool) -> Inventory:
    segment_columns = [
        TrenchSegment.id, TrenchSegment.code, TrenchSegment.a_node_id, TrenchSegment.b_node_id,
        TrenchSegment.length_m, TrenchSegment.laying_method, TrenchSegment.ducts_total,
        TrenchSegment.ducts_used, TrenchSegment.status,
    ]
    if geometry:
        segments = [SegmentRow(*values[:-1], _geometry(values[-1]))
                    for values in _select(cursor, *segment_columns, TrenchSegment.geometry)]
    else:
        segments = _rows(cursor, SegmentRow, *segment_columns)
    return Inventory(
        sites=_rows(cursor, SiteRow, Site.id, Site.code, Site.kind, Site.name, Site.lat, Site.lon,
                    Site.criticality, Site.status),
        nodes=_rows(cursor, NodeRow, RouteNode.id, RouteNode.code, RouteNode.kind, RouteNode.lat,
                    RouteNode.lon, RouteNode.site_id, RouteNode.status),
        segments=segments,
        closures=_rows(cursor, ClosureRow, SpliceClosure.id, SpliceClosure.code,
                       SpliceClosure.node_id, SpliceClosure.status),
        cables=_rows(cursor, CableRow, Cable.id, Cable.code, Cable.strands, Cable.a_site_id,
                     Cable.a_closure_id, Cable.b_site_id, Cable.b_closure_id, Cable.length_m,
                     Cable.status),
        cable_segments=_rows(cursor, CableSegmentRow, CableSegment.cable_id, CableSegment.seq,
                             CableSegment.segment_id,
                             order_by=(CableSegment.cable_id, CableSegment.seq)),
        devices=_rows(cursor, DeviceRow, Device.id, Device.name, Device.site_id, Device.role,
                      Device.platform, Device.mgmt_ip, Device.status),
        interfaces=_rows(cursor, InterfaceRow, Interface.id, Interface.device_id, Interface.name),
        links=_rows(cursor, LinkRow, Link.id, Link.code, Link.a_interface_id, Link.b_interface_id,
                    Link.medium, Link.status),
        hops=_rows(cursor, HopRow, LinkHop.link_id, LinkHop.seq, LinkHop.cable_id,
                   LinkHop.strand_a, LinkHop.strand_b, order_by=(LinkHop.link_id, LinkHop.seq)),
        buildings=_rows(cursor, BuildingRow, Building.id, Building.code, Building.lat, Building.lon,
                        Building.residential_units, Building.status),
        businesses=_rows(cursor, BusinessRow, BusinessConnection.id, BusinessConnection.code,
                         BusinessConnection.service_class, BusinessConnection.link_id, BusinessConnection.device_id,
                         BusinessConnection.building_id, BusinessConnection.site_id, BusinessConnection.status),
        olt_ports=_rows(cursor, OltPortRow, OltPort.id, OltPort.interface_id, OltPort.optics_class, OltPort.status),
        splitters=_rows(cursor, SplitterRow, Splitter.id, Splitter.code, Splitter.ratio, Splitter.node_id,
                        Splitter.olt_port_id, Splitter.parent_id, Splitter.parent_port, Splitter.feeder_cable_id,
                        Splitter.feeder_strand, Splitter.status),
        residential=_rows(cursor, ResidentialRow, ResidentialConnection.id, ResidentialConnection.code,
                          ResidentialConnection.building_id, ResidentialConnection.splitter_id,
                          ResidentialConnection.splitter_port, ResidentialConnection.units,
                          ResidentialConnection.take_up, ResidentialConnection.drop_cable_id,
                          ResidentialConnection.drop_strand, ResidentialConnection.status),
    )
