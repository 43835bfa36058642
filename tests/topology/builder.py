"""Build small inventories by hand, in the vocabulary of the audits, without a database."""

from __future__ import annotations

import dataclasses
import itertools

from netops.geo import line_length_m
from topology.rows import (
    BuildingRow, BusinessRow, CableRow, CableSegmentRow, ClosureRow, DeviceRow, HopRow, InterfaceRow, Inventory,
    LinkRow, NodeRow, OltPortRow, ResidentialRow, SegmentRow, SiteRow, SplitterRow,
)


class InventoryBuilder:
    """Sites get an entry node ``E-<site>`` (unless ``entry=False``; trenches may name it by
    the site code) and one device
    ``<site>-sw``; a fibre link gets its own cable from site to site through the trenches
    given, in order from the a-site; lengths match the straight-line geometry."""

    def __init__(self):
        self.inv = Inventory()
        self._ids = itertools.count(1)
        self._grid = itertools.count()
        self.site_ids: dict[str, int] = {}
        self.node_ids: dict[str, int] = {}
        self.node_pos: dict[int, tuple[float, float]] = {}
        self.segment_ids: dict[str, int] = {}
        self.device_ids: dict[str, int] = {}
        self.link_ids: dict[str, int] = {}
        self.cable_ids: dict[str, int] = {}
        self.closure_ids: dict[str, int] = {}
        self.building_ids: dict[str, int] = {}
        self.port_ids: dict[str, int] = {}
        self.splitter_ids: dict[str, int] = {}
        self.ont_ids: dict[str, int] = {}
        self.company_ids: dict[str, int] = {}

    def __repr__(self) -> str:
        """Every row, so that hypothesis prints a failing example that can be read."""
        return "\n".join(f"{f.name}: {getattr(self.inv, f.name)}" for f in dataclasses.fields(Inventory)
                         if getattr(self.inv, f.name))

    def _position(self) -> tuple[float, float]:
        i = next(self._grid)
        return 7.0 + 0.01 * (i % 10), 51.5 + 0.01 * (i // 10)

    def node(self, code: str, kind: str = "manhole", site: str | None = None) -> int:
        ident = next(self._ids)
        lon, lat = self._position()
        self.inv.nodes.append(NodeRow(ident, code, kind, lat, lon, self.site_ids.get(site)))
        self.node_ids[code] = ident
        self.node_pos[ident] = (lon, lat)
        return ident

    def site(self, code: str, kind: str, *, entry: bool = True, device: bool = True,
             mgmt_ip: str | None = "auto", coordinates: bool = True, role: str | None = None) -> int:
        ident = next(self._ids)
        lon, lat = self._position() if coordinates else (None, None)
        self.inv.sites.append(SiteRow(ident, code, kind, code, lat, lon))
        self.site_ids[code] = ident
        if entry:
            self.node_ids[code] = self.node(f"E-{code}", "site_entry", site=code)
        if device:
            role = role or ("distribution_switch" if kind == "core" else "access_switch")
            ip = f"127.1.{ident // 250}.{ident % 250 + 1}" if mgmt_ip == "auto" else mgmt_ip
            self.device(f"{code}-sw", code, role=role, mgmt_ip=ip)
        return ident

    def device(self, name: str, site: str, *, role: str = "access_switch", mgmt_ip: str | None = None) -> int:
        ident = next(self._ids)
        self.inv.devices.append(DeviceRow(ident, name, self.site_ids[site], role, "cisco_ios", mgmt_ip))
        self.device_ids[name] = ident
        return ident

    def trench(self, code: str, a: str, b: str, *, ducts_total: int = 4, ducts_used: int = 1,
               length_factor: float = 1.0) -> int:
        ident = next(self._ids)
        a_id, b_id = self.node_ids[a], self.node_ids[b]
        geometry = (self.node_pos[a_id], self.node_pos[b_id])
        self.inv.segments.append(SegmentRow(ident, code, a_id, b_id, line_length_m(geometry) * length_factor,
                                            "open_trench", ducts_total, ducts_used, "active", geometry))
        self.segment_ids[code] = ident
        return ident

    def closure(self, code: str, node: str) -> int:
        ident = next(self._ids)
        self.inv.closures.append(ClosureRow(ident, code, self.node_ids[node]))
        self.closure_ids[code] = ident
        return ident

    def cable(self, code: str, a: str, b: str, via: list[str], *, strands: int = 24, length_m: float = 100.0) -> int:
        """A cable from ``a`` to ``b``, each a site code or a closure code."""
        ident = next(self._ids)

        def end(name):
            return (None, self.closure_ids[name]) if name in self.closure_ids else (self.site_ids[name], None)

        (a_site, a_closure), (b_site, b_closure) = end(a), end(b)
        self.inv.cables.append(CableRow(ident, code, strands, a_site_id=a_site, a_closure_id=a_closure,
                                        b_site_id=b_site, b_closure_id=b_closure, length_m=length_m))
        self.inv.cable_segments.extend(CableSegmentRow(ident, seq, self.segment_ids[t])
                                       for seq, t in enumerate(via))
        self.cable_ids[code] = ident
        return ident

    def set_status(self, kind: str, code: str, status: str) -> None:
        """Give one row (site, node, segment, closure, cable, device or link) another status."""
        rows = getattr(self.inv, {"node": "nodes", "segment": "segments", "closure": "closures",
                                  "cable": "cables", "device": "devices", "link": "links", "site": "sites",
                                  "splitter": "splitters", "ont": "residential", "company": "businesses",
                                  "olt_port": "olt_ports"}[kind])
        name = {"device": "name", "olt_port": "id"}.get(kind, "code")
        code = self.port_ids.get(code, code) if kind == "olt_port" else code
        i = next(i for i, row in enumerate(rows) if getattr(row, name) == code)
        rows[i] = rows[i]._replace(status=status)

    def link(self, code: str, a: str, b: str, via: list[str] = (), *, medium: str = "fibre",
             cable: str | None = None, strands: tuple[int, int] = (1, 2), cable_strands: int = 24,
             cables: list[str] = ()) -> int:
        """A link between devices ``a`` and ``b`` (device names, or site codes for their
        ``-sw``); a fibre link with ``via`` trenches gets its own cable unless ``cable``
        (or ``cables``, hop by hop)."""
        dev_a, dev_b = (self.device_ids.get(x) or self.device_ids[f"{x}-sw"] for x in (a, b))
        ident = next(self._ids)
        if_a, if_b = next(self._ids), next(self._ids)
        self.inv.interfaces += [InterfaceRow(if_a, dev_a, f"to-{code}"), InterfaceRow(if_b, dev_b, f"to-{code}")]
        self.inv.links.append(LinkRow(ident, code, if_a, if_b, medium))
        self.link_ids[code] = ident
        if via and cable is None:
            site_of = {d.id: d.site_id for d in self.inv.devices}
            code_of = {v: k for k, v in self.site_ids.items()}
            cable = f"C-{code}"
            self.cable(cable, code_of[site_of[dev_a]], code_of[site_of[dev_b]], list(via), strands=cable_strands)
        for seq, hop in enumerate([cable] if cable is not None else cables):
            self.inv.hops.append(HopRow(ident, seq, self.cable_ids[hop], *strands))
        return ident

    def route(self, link: str, a: str, b: str, trenches: list[str], *, through: list[str] = ()) -> int:
        """The trenches ``trenches`` from site ``a`` through the nodes ``through`` to site ``b``
        (those not laid yet), and the fibre link ``link`` from ``a``'s device to ``b``'s over them."""
        points = [a, *through, b]
        assert len(trenches) == len(points) - 1, (trenches, points)
        for code, (x, y) in zip(trenches, zip(points, points[1:])):
            if code not in self.segment_ids:
                self.trench(code, x, y)
        return self.link(link, a, b, trenches)

    # -- customers ------------------------------------------------------------------------
    def building(self, code: str, units: int = 10) -> int:
        ident = next(self._ids)
        lon, lat = self._position()
        self.inv.buildings.append(BuildingRow(ident, code, lat, lon, units))
        self.building_ids[code] = ident
        return ident

    def olt_port(self, name: str, olt: str, optics_class: str = "b_plus") -> int:
        """A PON port ``name`` on the OLT device ``olt`` (made at the PoP ``olt`` names as
        ``<site>-olt`` on first use)."""
        if olt not in self.device_ids:
            self.device(olt, olt.removesuffix("-olt"), role="olt")
        interface = next(self._ids)
        self.inv.interfaces.append(InterfaceRow(interface, self.device_ids[olt], name))
        ident = next(self._ids)
        self.inv.olt_ports.append(OltPortRow(ident, interface, optics_class))
        self.port_ids[name] = ident
        return ident

    def splitter(self, code: str, ratio: int, node: str, *, port: str | None = None, parent: str | None = None,
                 parent_port: int | None = None, feeder: str | None = None) -> int:
        """On the OLT port ``port`` or on ``parent_port`` of splitter ``parent``; ``feeder`` a cable code."""
        ident = next(self._ids)
        self.inv.splitters.append(SplitterRow(
            ident, code, ratio, self.node_ids[node], self.port_ids.get(port), self.splitter_ids.get(parent),
            parent_port, self.cable_ids.get(feeder), 1 if feeder else None))
        self.splitter_ids[code] = ident
        return ident

    def first_splitter(self, code: str, ratio: int, node: str, *, port: str, pop: str, feeder: str, closure: str,
                       via: list[str]) -> int:
        """A first-stage splitter in ``node`` on a new PON port ``port`` of ``pop``'s OLT, fed
        over the cable ``feeder`` from ``pop`` through ``via`` to the closure ``closure`` at
        ``node`` (closure and cable made on first use)."""
        if closure not in self.closure_ids:
            self.closure(closure, node)
        if feeder not in self.cable_ids:
            self.cable(feeder, pop, closure, via)
        self.olt_port(port, f"{pop}-olt")
        return self.splitter(code, ratio, node, port=port, feeder=feeder)

    def ont(self, code: str, building: str, splitter: str, port: int, *, units: int = 10,
            take_up: str = "connected", drop: str | None = None) -> int:
        ident = next(self._ids)
        self.inv.residential.append(ResidentialRow(
            ident, code, self.building_ids[building], self.splitter_ids[splitter], port, units, take_up,
            self.cable_ids.get(drop), 2 if drop else None))
        self.ont_ids[code] = ident
        return ident

    def company(self, code: str, service_class: str = "business", *, link: str | None = None,
                device: str | None = None, building: str | None = None, site: str | None = None) -> int:
        """Carried by ``link`` and/or ``device`` (a device name or a site code for its ``-sw``)."""
        ident = next(self._ids)
        device_id = (self.device_ids.get(device) or self.device_ids[f"{device}-sw"]) if device else None
        self.inv.businesses.append(BusinessRow(
            ident, code, service_class, self.link_ids.get(link), device_id, self.building_ids.get(building),
            self.site_ids.get(site)))
        self.company_ids[code] = ident
        return ident


def store(inv: Inventory, session, *, shuffle=None) -> None:
    """Write hand-built rows into a real database, parents before children; ``shuffle`` (a
    ``random.Random``) writes each table's rows in a random order, so nothing may depend
    on the order a database returns them in."""
    from inventory.models import (
        Building, BusinessConnection, Cable, CableSegment, Device, Interface, Link, LinkHop, OltPort,
        ResidentialConnection, RouteNode, Site, SpliceClosure, Splitter, TrenchSegment,
    )

    def add(rows):
        rows = list(rows)
        if shuffle is not None:
            shuffle.shuffle(rows)
        session.add_all(rows)
        session.flush()

    add([Site(id=s.id, code=s.code, name=s.name, kind=s.kind, lat=s.lat, lon=s.lon, status=s.status,
              source="test") for s in inv.sites])
    add([RouteNode(id=n.id, code=n.code, kind=n.kind, lat=n.lat, lon=n.lon, site_id=n.site_id, status=n.status,
                   source="test") for n in inv.nodes])
    add([TrenchSegment(id=s.id, code=s.code, a_node_id=s.a_node_id, b_node_id=s.b_node_id,
                       geometry=[list(p) for p in s.geometry], length_m=s.length_m,
                       laying_method=s.laying_method, ducts_total=s.ducts_total, ducts_used=s.ducts_used,
                       status=s.status, source="test") for s in inv.segments])
    add([SpliceClosure(id=c.id, code=c.code, node_id=c.node_id, status=c.status, source="test")
         for c in inv.closures])
    add([Cable(id=c.id, code=c.code, strands=c.strands, a_site_id=c.a_site_id, b_site_id=c.b_site_id,
               a_closure_id=c.a_closure_id, b_closure_id=c.b_closure_id, length_m=c.length_m, status=c.status,
               source="test") for c in inv.cables])
    add([CableSegment(cable_id=c.cable_id, seq=c.seq, segment_id=c.segment_id) for c in inv.cable_segments])
    add([Device(id=d.id, name=d.name, site_id=d.site_id, role=d.role, platform=d.platform,
                mgmt_ip=d.mgmt_ip, status=d.status, source="test") for d in inv.devices])
    add([Interface(id=i.id, device_id=i.device_id, name=i.name, kind="fibre") for i in inv.interfaces])
    add([Link(id=k.id, code=k.code, a_interface_id=k.a_interface_id, b_interface_id=k.b_interface_id,
              medium=k.medium, status=k.status, source="test") for k in inv.links])
    add([LinkHop(link_id=h.link_id, seq=h.seq, cable_id=h.cable_id, strand_a=h.strand_a,
                 strand_b=h.strand_b) for h in inv.hops])
    add([Building(id=b.id, code=b.code, address=f"{b.code} street 1", lat=b.lat, lon=b.lon,
                  residential_units=b.residential_units, status=b.status, source="test") for b in inv.buildings])
    add([BusinessConnection(id=c.id, code=c.code, company=c.code, building_id=c.building_id, site_id=c.site_id,
                            service_class=c.service_class, access="p2p_fibre" if c.link_id else "ethernet_service",
                            bandwidth_mbps=100, link_id=c.link_id, device_id=c.device_id, status=c.status,
                            source="test") for c in inv.businesses])
    add([OltPort(id=p.id, interface_id=p.interface_id, optics_class=p.optics_class, status=p.status, source="test")
         for p in inv.olt_ports])
    placed: set[int] = set()
    while len(placed) < len(inv.splitters):  # a cascade's parents first
        wave = [s for s in inv.splitters if s.id not in placed and (s.parent_id is None or s.parent_id in placed)]
        add([Splitter(id=s.id, code=s.code, ratio=s.ratio, node_id=s.node_id, olt_port_id=s.olt_port_id,
                      parent_id=s.parent_id, parent_port=s.parent_port, feeder_cable_id=s.feeder_cable_id,
                      feeder_strand=s.feeder_strand, status=s.status, source="test") for s in wave])
        placed |= {s.id for s in wave}
    add([ResidentialConnection(id=r.id, code=r.code, building_id=r.building_id, splitter_id=r.splitter_id,
                               splitter_port=r.splitter_port, units=r.units, take_up=r.take_up,
                               drop_cable_id=r.drop_cable_id, drop_strand=r.drop_strand, status=r.status,
                               source="test") for r in inv.residential])
