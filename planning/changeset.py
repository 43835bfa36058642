"""Plans as change sets in the inventory.

Saving a plan writes every row it would build — site (if new), entry and junction
route nodes, new trench segments, one cable per route with its ordered trench path (a
route on spare strands: a drop cable from the site to the closure, and new cables
between closures or on to the PoP where it leaves the strands), the site switch (if the
site has none), interfaces, fibre links and their hops (on an existing cable: a free
strand pair assigned here, see ``planning.strands``) — with status ``planned`` and the
plan's ``plan_id``. What the plan changes on rows it does not own (a free duct taken in
an existing trench, a planned site going live, the strands it takes, the splices its pair
joins take in existing closures) is kept in
``Plan.summary["changes"]`` and done (or checked) by ``apply``. All of a plan's cables through one
trench share one duct (blown-in micro-duct cables), so a plan takes one free duct per
existing trench it uses; a new trench gets two ducts, one used and one spare.

``apply`` turns the whole plan into active inventory in one transaction (and refuses,
changing nothing, if a duct, strand or closure splice it counted on was taken meanwhile): status active, plan_id
cleared; ``discard`` deletes every row of the plan. The Plan row itself stays as the record (state applied or
discarded).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, update
from sqlmodel import Session, select

from inventory.models import (
    Building, BusinessConnection, Cable, CableSegment, Device, DeviceRole, Interface, InterfaceKind, Link,
    LinkHop, LinkMedium, NodeKind, OltPort, OpticType, Plan, PlanState, ResidentialConnection, RouteNode,
    Site, SiteKind, SpliceClosure, Splitter, Status, TrenchSegment,
)
from netops.errors import NetopsError, NotFoundError
from planning.connect import CABLE_KINDS, SiteSpec
from planning.network import ENTRY, EXISTING, NEW, SPLICE, STRAND, CandidateNetwork, Node
from planning.routing import Leg, Route
from planning.strands import free_splices, taken_strands, used_splices

SPLICES_PER_JOIN = 2  # a duplex pair joined in a closure: two fusion splices

SOURCE = "plan"
SITE_SWITCH_PLATFORM = "cisco_ios"


class PlanStateError(NetopsError):
    """The plan is not in a state that allows the operation (or the inventory moved on)."""


#: tables whose rows a plan owns, in the order they can be deleted
OWNED_TABLES = (ResidentialConnection, Splitter, OltPort, BusinessConnection, Building,
                Link, Interface, Device, Cable, SpliceClosure, TrenchSegment, RouteNode, Site)
STATUS_TABLES = (Site, Device, RouteNode, TrenchSegment, SpliceClosure, Cable, Link,
                 Building, BusinessConnection, OltPort, Splitter, ResidentialConnection)


@dataclass(frozen=True)
class SiteRoutes:
    site: SiteSpec
    routes: list[Route]
    optics: tuple[str | None, ...] = ()  # per route: the optic its loss budget chose


def _unique(session: Session, model, field: str, wanted: str) -> str:
    column = getattr(model, field)
    candidate, n = wanted, 1
    while session.exec(select(column).where(column == candidate)).first() is not None:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def _closer(position: list[float], node: dict) -> float:
    return (position[0] - node["lon"]) ** 2 + (position[1] - node["lat"]) ** 2


class _Writer:
    """Writes one plan's rows, remembering what it created for the nodes it meets."""

    def __init__(self, session: Session, net: CandidateNetwork, plan: Plan):
        self.session, self.net, self.plan = session, net, plan
        self.node_ids: dict[Node, int] = {}
        self.segment_ids: dict[tuple, int] = {}
        self.ducts_taken: set[int] = set()  # existing trenches whose free duct the plan takes
        self.activate_sites: list[int] = []
        self.activate_devices: list[int] = []
        self.strands: list[dict] = []  # spare strand pairs the plan takes
        self.taken: dict[int, set[int]] | None = None
        self.splices: list[dict] = []  # splices its pair joins take in existing closures
        self.free_splices: dict[int, int] | None = None
        self.counter = Counter()

    def code(self, what: str) -> str:
        self.counter[what] += 1
        return f"p{self.plan.id}-{what}-{self.counter[what]:03d}"

    def add(self, row):
        row.plan_id = self.plan.id
        self.session.add(row)
        self.session.flush()
        return row

    def site(self, spec: SiteSpec) -> Site:
        if spec.site_id is not None:
            site = self.session.get(Site, spec.site_id)
            if site.status != Status.ACTIVE:
                self.activate_sites.append(site.id)
            return site
        return self.add(Site(code=spec.code, name=spec.name, kind=SiteKind(spec.kind), lat=spec.lat,
                             lon=spec.lon, status=Status.PLANNED, source=SOURCE))

    def node(self, node: Node, site: Site | None = None) -> int:
        if node in self.node_ids:
            return self.node_ids[node]
        if node[0] == "n":
            self.node_ids[node] = node[1]
            return node[1]
        data = self.net.graph.nodes[node]
        if node[0] == "site":
            row = RouteNode(code=_unique(self.session, RouteNode, "code", f"entry-{site.code}"),
                            kind=NodeKind.SITE_ENTRY, lat=data["lat"], lon=data["lon"], site_id=site.id,
                            status=Status.PLANNED, source=SOURCE)
        else:
            row = RouteNode(code=self.code("jn"), kind=NodeKind.JUNCTION, lat=data["lat"], lon=data["lon"],
                            status=Status.PLANNED, source=SOURCE)
        self.node_ids[node] = self.add(row).id
        return self.node_ids[node]

    def segment(self, leg: Leg, site: Site) -> int | None:
        """The trench segment a leg runs through (created for new trenches)."""
        if leg.kind == EXISTING:
            self.ducts_taken.add(leg.trench_id)
            return leg.trench_id
        if leg.kind not in (NEW, ENTRY):
            return None  # the site's own, documented entry node: nothing in between
        if leg.edge_id not in self.segment_ids:
            edge = self.net.edge(leg.a, leg.b, leg.key)
            first, second = edge["ends"]
            coords = edge["coords"]
            if _closer(coords[-1], self.net.graph.nodes[first]) < _closer(coords[0], self.net.graph.nodes[first]):
                coords = coords[::-1]  # geometry runs from the a-node to the b-node
            a, b = self.node(first, site), self.node(second, site)
            row = TrenchSegment(code=self.code("seg"), a_node_id=a, b_node_id=b, geometry=coords,
                                length_m=round(leg.length_m, 1), laying_method=leg.laying_method,
                                ducts_total=2, ducts_used=1, year=dt.date.today().year,
                                status=Status.PLANNED, source=SOURCE)
            self.segment_ids[leg.edge_id] = self.add(row).id
        return self.segment_ids[leg.edge_id]

    def site_switch(self, site: Site) -> Device:
        devices = self.session.exec(select(Device).where(Device.site_id == site.id)
                                    .order_by(Device.id)).all()
        switches = [d for d in devices if d.role in (DeviceRole.ACCESS_SWITCH, DeviceRole.DISTRIBUTION_SWITCH)]
        if switches or devices:
            device = (switches or devices)[0]
            if device.status != Status.ACTIVE and device.plan_id is None:
                self.activate_devices.append(device.id)
            return device
        return self.add(Device(name=_unique(self.session, Device, "name", f"{site.code}-as1"), site_id=site.id,
                               role=DeviceRole.ACCESS_SWITCH, platform=SITE_SWITCH_PLATFORM,
                               status=Status.PLANNED, source=SOURCE))

    def pop_switch(self, pop_code: str) -> Device | None:
        return self.session.exec(
            select(Device).join(Site, Site.id == Device.site_id)
            .where(Site.code == pop_code, Device.status == Status.ACTIVE)
            .order_by((Device.role == DeviceRole.DISTRIBUTION_SWITCH).desc(), Device.id)
        ).first()

    def interface(self, device: Device, prefix: str, optic_id: int | None, description: str) -> Interface:
        taken = set(self.session.exec(select(Interface.name).where(Interface.device_id == device.id)).all())
        number = 1
        while f"{prefix}{number}" in taken:
            number += 1
        return self.add(Interface(device_id=device.id, name=f"{prefix}{number}", kind=InterfaceKind.FIBRE,
                                  speed_mbps=1000, optic_id=optic_id, description=description))

    def write(self, item: SiteRoutes) -> None:
        site = self.site(item.site)
        pop_ids = dict(self.session.exec(select(Site.code, Site.id).where(
            Site.code.in_([r.pop_code for r in item.routes]))).all())
        optic_ids = dict(self.session.exec(select(OpticType.name, OpticType.id).where(
            OpticType.name.in_([o for o in item.optics if o]))).all())
        switch = self.site_switch(site) if item.routes else None
        for index, route in enumerate(item.routes):
            optic_id = optic_ids.get(item.optics[index]) if index < len(item.optics) else None
            self.fibre_link(switch, "Gi1/1/", route, site, pop_ids[route.pop_code], optic_id)
        self.session.flush()

    def fibre_link(self, device: Device, prefix: str, route: Route, site, pop_id: int, optic_id: int | None,
                   start: dict | None = None) -> Link | None:
        """A fibre link from ``device`` to the switch of the route's PoP over the route's
        cables (``cables``); None when the PoP has no active switch (the fibre is planned,
        the link is not)."""
        hops = self.cables(route, site, pop_id, start)
        pop_switch = self.pop_switch(route.pop_code)
        if pop_switch is None:
            return None
        a = self.interface(device, prefix, optic_id, f"uplink to {route.pop_code}")
        b = self.interface(pop_switch, "Gi9/0/", optic_id, f"to {site.code}")
        link = self.add(Link(code=self.code("lnk"), a_interface_id=a.id, b_interface_id=b.id,
                             medium=LinkMedium.FIBRE, status=Status.PLANNED, source=SOURCE))
        for seq, (cable_id, (strand_a, strand_b)) in enumerate(hops):
            self.session.add(LinkHop(link_id=link.id, seq=seq, cable_id=cable_id, strand_a=strand_a,
                                     strand_b=strand_b))
        return link

    def cables(self, route: Route, site: Site, pop_id: int,
               start: dict | None = None) -> list[tuple[int, tuple[int, int]]]:
        """The cables a route's link runs over, site to PoP, each with its strand pair: new
        cables (from the site, or from a closure, to a closure or the PoP) on their first
        pair, existing cables on a free pair assigned here. ``start`` is the first cable's
        a-end when it is not the site (a building's entry closure: ``planning.access``)."""
        hops: list[tuple[int, tuple[int, int]]] = []
        run: list[Leg] = []
        start = start or {"a_site_id": site.id}
        for leg in route.legs:
            if leg.kind == SPLICE and leg.b[0] == "x":  # the new cable so far ends in this closure
                hops.append((self.new_cable(run, site, start, {"b_closure_id": self.closure_id(leg.b)}), (1, 2)))
                run = []
            elif leg.kind == SPLICE:  # a new cable leaves the closure
                start = {"a_closure_id": self.closure_id(leg.a)}
            elif leg.kind == STRAND:
                cable_id = self.net.edge(leg.a, leg.b, leg.key)["cable_id"]
                hops.append((cable_id, self.take_pair(cable_id, site)))
            else:
                run.append(leg)
        if run or not hops:
            hops.append((self.new_cable(run, site, start, {"b_site_id": pop_id}), (1, 2)))
        for closure in dict.fromkeys(node for leg in route.legs for node in (leg.a, leg.b) if node[0] == "x"):
            self.join_in(closure, site)
        return hops

    def closure_id(self, node: Node) -> int:
        return self.net.graph.nodes[node]["closure_id"]

    def new_cable(self, legs: list[Leg], site: Site, a_end: dict, b_end: dict) -> int:
        segments = [seg for seg in (self.segment(leg, site) for leg in legs) if seg is not None]
        length = sum(leg.length_m for leg in legs if leg.kind in CABLE_KINDS)
        cable = self.add(Cable(code=self.code("cab"), strands=self.net.costs.cable_strands(self.net.strands),
                               length_m=round(max(length, 1.0), 1), year=dt.date.today().year,
                               status=Status.PLANNED, source=SOURCE, **a_end, **b_end))
        for seq, segment_id in enumerate(segments):
            self.session.add(CableSegment(cable_id=cable.id, seq=seq, segment_id=segment_id))
        return cable.id

    def take_pair(self, cable_id: int, site: Site) -> tuple[int, int]:
        """The next free strand pair of an existing cable (as the inventory has it now)."""
        if self.taken is None:
            self.taken = taken_strands(self.session)
        taken = self.taken.setdefault(cable_id, set())
        spare = self.net.spare_cables[cable_id]
        free = [s for s in spare.free_strands if s not in taken]
        if len(free) < 2:
            raise PlanStateError(f"cable {spare.code} has no free strand pair left for {site.code}: re-plan")
        pair = (free[0], free[1])
        taken.update(pair)
        self.strands.append({"cable_id": cable_id, "cable": spare.code, "strands": list(pair), "site": site.code})
        return pair

    def join_in(self, node: Node, site: Site) -> None:
        """A pair join in an existing closure: two splices of its trays (as the inventory has them now)."""
        if self.free_splices is None:
            self.free_splices = free_splices(self.session)
        closure = self.closure_id(node)
        code = self.net.graph.nodes[node]["code"]
        if self.free_splices.get(closure, 0) < SPLICES_PER_JOIN:
            raise PlanStateError(f"closure {code} has no room for another pair join ({site.code}): re-plan")
        self.free_splices[closure] -= SPLICES_PER_JOIN
        self.splices.append({"closure_id": closure, "closure": code, "splices": SPLICES_PER_JOIN, "site": site.code})

    def finish(self) -> dict:
        return {"ducts": {str(k): 1 for k in sorted(self.ducts_taken)}, "strands": self.strands,
                "splices": self.splices,
                "activate_sites": self.activate_sites, "activate_devices": self.activate_devices}


def save_plan(session: Session, net: CandidateNetwork, *, name: str, kind: str, items: list[SiteRoutes],
              total_eur: float, summary: dict, write_more: Callable[[_Writer], None] | None = None) -> Plan:
    """Store the plan and its change set (one transaction: the caller's session).
    ``write_more`` writes rows of other kinds with the same writer (customer access:
    ``planning.access``)."""
    if session.exec(select(Plan.id).where(Plan.name == name)).first() is not None:
        raise PlanStateError(f"a plan named {name!r} exists already")
    plan = Plan(name=name, kind=kind, price_table_id=net.costs.table_id, total_cost_eur=total_eur,
                summary=summary)
    session.add(plan)
    session.flush()
    writer = _Writer(session, net, plan)
    for item in items:
        writer.write(item)
    if write_more is not None:
        write_more(writer)
    plan.summary = {**summary, "changes": writer.finish()}
    session.add(plan)
    session.flush()
    return plan


def get_plan(session: Session, ref: str) -> Plan:
    """A plan by id or name."""
    plan = session.get(Plan, int(ref)) if ref.isdigit() else None
    plan = plan or session.exec(select(Plan).where(Plan.name == ref)).first()
    if plan is None:
        raise NotFoundError(f"no plan {ref!r}")
    return plan


def _require_draft(plan: Plan, action: str) -> None:
    if plan.state != PlanState.DRAFT:
        raise PlanStateError(f"plan {plan.name} is {plan.state}: only a draft plan can be {action}")


def plan_rows(session: Session, plan: Plan) -> dict[str, list[str]]:
    """What the plan adds: table -> codes (names) of its rows."""
    rows: dict[str, list[str]] = {}
    for model in reversed(OWNED_TABLES):
        # an OLT port has no name of its own (it is an interface's): its row id stands in
        label = next(getattr(model, f) for f in ("code", "name", "id") if f in model.model_fields)
        found = session.exec(select(label).where(model.plan_id == plan.id)).all()
        if found:
            rows[model.__tablename__] = sorted(str(v) for v in found)
    return rows


def plan_changes(session: Session, plan: Plan) -> list[dict]:
    """What the plan changes on rows it does not own, as before/after pairs."""
    changes = plan.summary.get("changes", {})
    out = []
    for trench_id, cables in changes.get("ducts", {}).items():
        row = session.get(TrenchSegment, int(trench_id))
        if row is not None:
            out.append({"table": "trenchsegment", "code": row.code, "field": "ducts_used",
                        "before": row.ducts_used, "after": row.ducts_used + cables})
    for use in changes.get("strands", []):
        out.append({"table": "cable", "code": use["cable"], "field": "strands",
                    "before": "free", "after": f"{'/'.join(map(str, use['strands']))} to {use['site']}"})
    for use in changes.get("splices", []):
        out.append({"table": "spliceclosure", "code": use["closure"], "field": "splices",
                    "before": "free", "after": f"{use['splices']} to {use['site']}"})
    for model, key in ((Site, "activate_sites"), (Device, "activate_devices")):
        for row_id in changes.get(key, []):
            row = session.get(model, row_id)
            if row is not None:
                out.append({"table": model.__tablename__, "code": getattr(row, "code", None) or row.name,
                            "field": "status", "before": str(row.status), "after": Status.ACTIVE.value})
    return out


def apply_plan(session: Session, plan: Plan) -> dict[str, int]:
    """planned -> active for everything the plan built, in the caller's transaction."""
    _require_draft(plan, "applied")
    changes = plan.summary.get("changes", {})
    for trench_id, cables in changes.get("ducts", {}).items():
        row = session.get(TrenchSegment, int(trench_id))
        if row is None or row.ducts_used + cables > row.ducts_total:
            free = None if row is None else row.ducts_total - row.ducts_used
            raise PlanStateError(f"plan {plan.name} needs {cables} free duct(s) in trench "
                                 f"{row.code if row else trench_id}, which has {free}: re-plan")
        row.ducts_used += cables
        session.add(row)
    taken = taken_strands(session, except_plan=plan)
    for use in changes.get("strands", []):
        clash = taken.get(use["cable_id"], set()) & set(use["strands"])
        if clash:
            raise PlanStateError(f"plan {plan.name} needs strand(s) {sorted(clash)} of cable {use['cable']}, "
                                 f"which something else uses now: re-plan")
    needed: dict[int, int] = Counter()
    for use in changes.get("splices", []):
        needed[use["closure_id"]] += use["splices"]
    if needed:
        used = used_splices(session, except_plan=plan)
        for closure_id, splices in sorted(needed.items()):
            row = session.get(SpliceClosure, closure_id)
            if row is None or used.get(closure_id, 0) + splices > row.capacity_splices:
                room = None if row is None else row.capacity_splices - used.get(closure_id, 0)
                raise PlanStateError(f"plan {plan.name} needs {splices} splices in closure "
                                     f"{row.code if row else closure_id}, which has room for {room}: re-plan")
    counts = {}
    for model in STATUS_TABLES:
        result = session.execute(update(model).where(model.plan_id == plan.id).values(status=Status.ACTIVE))
        counts[model.__tablename__] = result.rowcount
    # built rows are ordinary inventory now (their source stays "plan"); readers that take a
    # plan_id for "planned", like the report, must not see them as planned any more
    for model in OWNED_TABLES:
        session.execute(update(model).where(model.plan_id == plan.id).values(plan_id=None))
    for model, key in ((Site, "activate_sites"), (Device, "activate_devices")):
        ids = changes.get(key, [])
        if ids:
            session.execute(update(model).where(model.id.in_(ids)).values(status=Status.ACTIVE))
    plan.state = PlanState.APPLIED
    session.add(plan)
    session.flush()
    return counts


def discard_plan(session: Session, plan: Plan) -> dict[str, int]:
    """Delete every row the plan created; the plan stays as a discarded record."""
    _require_draft(plan, "discarded")
    links = select(Link.id).where(Link.plan_id == plan.id)
    cables = select(Cable.id).where(Cable.plan_id == plan.id)
    counts = {
        "linkhop": session.execute(delete(LinkHop).where(
            LinkHop.link_id.in_(links) | LinkHop.cable_id.in_(cables))).rowcount,
        "cablesegment": session.execute(delete(CableSegment).where(CableSegment.cable_id.in_(cables))).rowcount,
    }
    for model in OWNED_TABLES:
        counts[model.__tablename__] = session.execute(delete(model).where(model.plan_id == plan.id)).rowcount
    plan.state = PlanState.DISCARDED
    session.add(plan)
    session.flush()
    return counts


def list_plans(session: Session) -> list[Plan]:
    return list(session.exec(select(Plan).order_by(Plan.id)).all())
