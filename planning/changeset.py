"""Plans as change sets in the inventory.

Saving a plan writes every row it would build — site (if new), entry and junction
route nodes, new trench segments, one cable per route with its ordered trench path (a
route on spare strands: a drop cable from the site to the closure, and new cables
between closures or on to the PoP where it leaves the strands), the site switch (if the
site has none), interfaces, fibre links and their hops (on an existing cable: a free
strand pair assigned here, see ``planning.strands``) — with status ``planned`` and the
plan's ``plan_id``. What the plan changes on rows it does not own (a free duct taken in
an existing trench, a planned site going live, the strands it takes, the splices its pair
joins take in existing closures, an existing cable split at a new closure mid-span) is kept in
``Plan.summary["changes"]`` and done (or checked) by ``apply``. All of a plan's cables through one
trench share one duct (blown-in micro-duct cables), so a plan takes one free duct per
existing trench it uses; a new trench gets two ducts, one used and one spare.

``apply`` turns the whole plan into active inventory in one transaction (and refuses,
changing nothing, if a duct, strand or closure splice it counted on was taken meanwhile, or
a cable it splits changed): status active, plan_id
cleared; ``discard`` deletes every row of the plan. The Plan row itself stays as the record (state applied or
discarded).
"""

from __future__ import annotations

import datetime as dt
import re
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
from inventory.plant import closure_size
from planning.network import (
    ENTRY, EXISTING, NEW, SPLICE, CandidateNetwork, Node, is_new_closure, new_closure_node, part_lengths,
    trench_walk,
)
from planning.routing import Leg, Route
from inventory.plan_changes import changes_of
from planning.strands import free_splices, leg_cable, pon_cables, route_limits, taken_strands, used_splices

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
        self.new_closures: dict[Node, SpliceClosure] = {}  # closures the plan opens mid-span in existing cables
        self.cuts: dict[tuple[int, int], dict] = {}  # (cable id, manhole) -> where apply splits the cable
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
            elif (cable_id := leg_cable(leg)) is not None:
                edge = self.net.edge(leg.a, leg.b, leg.key)
                span = {}
                if "midspan" in edge:
                    span = {"midspan": self.cut(cable_id, edge["midspan"], new_closure_node(edge["midspan"])),
                            "side": edge["side"]}
                hops.append((cable_id, self.take_pair(cable_id, site, span)))
            else:
                run.append(leg)
        if run or not hops:
            hops.append((self.new_cable(run, site, start, {"b_site_id": pop_id}), (1, 2)))
        for limit in route_limits(route):  # a pair join in each closure it passes
            if limit[0] == "closure":
                self.join_in(limit[1], site)
        return hops

    def closure_id(self, node: Node) -> int:
        if not is_new_closure(node):
            return self.net.graph.nodes[node]["closure_id"]
        if node not in self.new_closures:
            manhole = self.session.get(RouteNode, node[1])
            self.new_closures[node] = self.add(SpliceClosure(
                code=_unique(self.session, SpliceClosure, "code", f"cl-{manhole.code}"), node_id=manhole.id,
                capacity_splices=closure_size(0), status=Status.PLANNED, source=SOURCE))
        return self.new_closures[node].id

    def cut(self, cable_id: int, manhole: int, closure: Node) -> int:
        """Where ``apply`` splits an existing cable (at a new closure), with the cable as it
        is now: apply refuses if it changed meanwhile."""
        if (cable_id, manhole) not in self.cuts:
            cable = self.session.get(Cable, cable_id)
            self.cuts[(cable_id, manhole)] = {
                "cable_id": cable_id, "cable": cable.code, "node_id": manhole,
                "closure_id": self.closure_id(closure), "closure": self.new_closures[closure].code,
                "shape": cable_shape(self.session, cable)}
        return manhole

    def new_cable(self, legs: list[Leg], site: Site, a_end: dict, b_end: dict) -> int:
        segments = [seg for seg in (self.segment(leg, site) for leg in legs) if seg is not None]
        length = sum(leg.length_m for leg in legs if leg.kind in CABLE_KINDS)
        cable = self.add(Cable(code=self.code("cab"), strands=self.net.costs.cable_strands(self.net.strands),
                               length_m=round(max(length, 1.0), 1), year=dt.date.today().year,
                               status=Status.PLANNED, source=SOURCE, **a_end, **b_end))
        for seq, segment_id in enumerate(segments):
            self.session.add(CableSegment(cable_id=cable.id, seq=seq, segment_id=segment_id))
        return cable.id

    def take_pair(self, cable_id: int, site: Site, span: dict | None = None) -> tuple[int, int]:
        """The next free strand pair of an existing cable (as the inventory has it now);
        ``span``: the part it is taken on, from a new closure mid-span to one end."""
        if self.taken is None:
            self.taken = taken_strands(self.session)
        taken = self.taken.setdefault(cable_id, set())
        spare = self.net.spare_cables[cable_id]
        free = [s for s in spare.free_strands if s not in taken]
        if len(free) < 2:
            raise PlanStateError(f"cable {spare.code} has no free strand pair left for {site.code}: re-plan")
        pair = (free[0], free[1])
        taken.update(pair)
        self.strands.append({"cable_id": cable_id, "cable": spare.code, "strands": list(pair), "site": site.code,
                             **(span or {})})
        return pair

    def join_in(self, node: Node, site: Site) -> None:
        """A pair join in an existing closure: two splices of its trays (as the inventory has them now)."""
        if self.free_splices is None:
            self.free_splices = free_splices(self.session)
        closure = self.closure_id(node)
        code = self.net.graph.nodes[node]["code"]
        if node in self.new_closures:  # sized to what it takes in ``finish``
            code = self.new_closures[node].code
            self.free_splices.setdefault(closure, 0)
            self.free_splices[closure] += SPLICES_PER_JOIN
        if self.free_splices.get(closure, 0) < SPLICES_PER_JOIN:
            raise PlanStateError(f"closure {code} has no room for another pair join ({site.code}): re-plan")
        self.free_splices[closure] -= SPLICES_PER_JOIN
        self.splices.append({"closure_id": closure, "closure": code, "splices": SPLICES_PER_JOIN, "site": site.code})

    def finish(self) -> dict:
        self.size_new_closures()
        return {"ducts": {str(k): 1 for k in sorted(self.ducts_taken)}, "strands": self.strands,
                "splices": self.splices, "midspan": list(self.cuts.values()),
                "activate_sites": self.activate_sites, "activate_devices": self.activate_devices}


    def size_new_closures(self) -> None:
        """Each new closure the smallest standard size (the seed's steps, + 25 % headroom)
        for the plan's joins and, counted as spliced (the model has no uncut fibre), the
        strands of the cables it splits that are in use now."""
        joins = Counter()
        for use in self.splices:
            joins[use["closure_id"]] += use["splices"]
        if self.taken is None:
            self.taken = taken_strands(self.session)
        for cut in self.cuts.values():
            joins[cut["closure_id"]] += len(self.taken.get(cut["cable_id"], ()))
        for row in self.new_closures.values():
            row.capacity_splices = closure_size(joins[row.id])
            self.session.add(row)


def cable_shape(session: Session, cable: Cable) -> dict:
    """What a plan that splits the cable relies on: its ends, length and trench path."""
    segments = session.exec(select(CableSegment.segment_id).where(CableSegment.cable_id == cable.id)
                            .order_by(CableSegment.seq)).all()
    return {"ends": [cable.a_site_id, cable.a_closure_id, cable.b_site_id, cable.b_closure_id],
            "length_m": cable.length_m, "segments": list(segments), "status": str(cable.status)}


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
    # an id is ASCII digits that fit a 64-bit INTEGER (`²` is a digit to str.isdigit, not to int)
    plan = session.get(Plan, int(ref)) if re.fullmatch(r"[0-9]{1,18}", ref) else None
    plan = plan or session.exec(select(Plan).where(Plan.name == ref)).first()
    if plan is None:
        from netops.vocabulary import did_you_mean  # only on this error path: no import for the others

        raise NotFoundError(f"no plan {ref!r}{did_you_mean(ref, session.exec(select(Plan.name)).all())}")
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
    changes = changes_of(plan.name, plan.summary)
    out = []
    for trench_id, cables in changes.get("ducts", {}).items():
        row = session.get(TrenchSegment, int(trench_id))
        if row is not None:
            out.append({"table": "trenchsegment", "code": row.code, "field": "ducts_used",
                        "before": row.ducts_used, "after": row.ducts_used + cables})
    for use in changes.get("strands", []):
        out.append({"table": "cable", "code": use["cable"], "field": "strands",
                    "before": "free", "after": f"{'/'.join(map(str, use['strands']))} to {use['site']}"})
    for cut in changes.get("midspan", []):
        out.append({"table": "cable", "code": cut["cable"], "field": "split", "before": "whole",
                    "after": f"split at the new closure {cut['closure']}"})
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
    changes = changes_of(plan.name, plan.summary)
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
    cuts = changes.get("midspan", [])
    _check_cuts(session, plan, cuts)
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
    _split_cables(session, plan, cuts)
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


def _check_cuts(session: Session, plan: Plan, cuts: list[dict]) -> None:
    """Each cable the plan opens mid-span is still as planned, carries no PON strand, and
    its manhole is one."""
    pon = pon_cables(session) if cuts else set()
    for cut in cuts:
        cable = session.get(Cable, cut["cable_id"])
        node = session.get(RouteNode, cut["node_id"])
        where = f"plan {plan.name} opens cable {cut['cable']} at {node.code if node else cut['node_id']}"
        if cable is None:
            raise PlanStateError(f"{where}, which no longer exists: re-plan")
        now = cable_shape(session, cable)
        if now != cut["shape"]:
            changed = ", ".join(k.replace("_", " ") for k in cut["shape"] if cut["shape"][k] != now.get(k))
            raise PlanStateError(f"{where}, but the cable changed since the plan was made ({changed}): re-plan")
        if cable.id in pon:
            raise PlanStateError(f"{where}, but PON feeder or drop strands ride it now (the model records one "
                                 f"cable per PON strand, a split would cut it): re-plan")
        if node is None or node.status != Status.ACTIVE or node.kind != NodeKind.MANHOLE:
            raise PlanStateError(f"{where}, which is no manhole in service now: re-plan")


def _split_cables(session: Session, plan: Plan, cuts: list[dict]) -> None:
    """Split every cable the plan opens mid-span at its new closures: the cable keeps its
    row as the part from its a-end, each further part is a new cable (code ``<code>.2``,
    ``.3``, ...) with its share of the length and the trench path. Link hops on the cable take
    every part in turn (strands not cut pass through the closure uncut), but the plan's
    own, which take the parts between their closure and their end; plans' strand records
    likewise."""
    by_cable: dict[int, list[dict]] = {}
    for cut in cuts:
        by_cable.setdefault(cut["cable_id"], []).append(cut)
    for cable_id, on_cable in sorted(by_cable.items()):
        cable = session.get(Cable, cable_id)
        segments = on_cable[0]["shape"]["segments"]
        trenches = {t.id: t for t in session.exec(select(TrenchSegment).where(TrenchSegment.id.in_(segments)))}
        ends = [(trenches[t].a_node_id, trenches[t].b_node_id) for t in segments]
        start = ends[0][0] if ends[0][0] not in ends[1] else ends[0][1]
        nodes = trench_walk(start, ends)
        if nodes is None or any(c["node_id"] not in nodes[1:-1] for c in on_cable):
            raise PlanStateError(f"plan {plan.name}: cable {cable.code}'s trench path does not pass its cut: re-plan")
        at = sorted(((nodes.index(c["node_id"]), c) for c in on_cable), key=lambda cut: cut[0])
        lengths = part_lengths(cable.length_m, [trenches[t].length_m for t in segments], [i for i, _ in at])
        closures = [c["closure_id"] for _, c in at]
        far_end = {"b_site_id": cable.b_site_id, "b_closure_id": cable.b_closure_id}
        whole_ends = (_end_of(cable, "a"), _end_of(cable, "b"))
        cable.b_site_id, cable.b_closure_id, cable.length_m = None, closures[0], lengths[0]
        session.add(cable)
        parts = [cable]
        for j in range(1, len(at) + 1):
            b_end = {"b_site_id": None, "b_closure_id": closures[j]} if j < len(at) else far_end
            parts.append(_add_row(session, Cable(
                code=_part_code(session, cable.code), strands=cable.strands,
                a_closure_id=closures[j - 1], length_m=lengths[j], year=cable.year, status=cable.status,
                source=cable.source, **b_end)))
        session.execute(delete(CableSegment).where(CableSegment.cable_id == cable.id, CableSegment.seq >= at[0][0]))
        bounds = [i for i, _ in at] + [len(segments)]
        for part, first, last in zip(parts[1:], bounds, bounds[1:]):
            for seq, segment in enumerate(segments[first:last]):
                session.add(CableSegment(cable_id=part.id, seq=seq, segment_id=segment))
        position = {c["node_id"]: k for k, (_, c) in enumerate(at)}

        def span(use: dict) -> list[Cable]:  # the parts a plan's strand use takes
            if "midspan" not in use or use["midspan"] not in position:
                return parts
            k = position[use["midspan"]]
            return parts[:k + 1] if use["side"] == "a" else parts[k + 1:]

        own = {tuple(u["strands"]): span(u) for u in plan.summary["changes"]["strands"] if u["cable_id"] == cable_id}
        _rewrite_hops(session, plan, cable_id, whole_ends, own, parts)
        _rewrite_strand_records(session, plan, cable_id, span)
    session.flush()


def _part_code(session: Session, code: str) -> str:
    """The next free ``<code>.<n>`` (n from 2: the cable's own row is part 1)."""
    n = 2
    while session.exec(select(Cable.id).where(Cable.code == f"{code}.{n}")).first() is not None:
        n += 1
    return f"{code}.{n}"


def _add_row(session: Session, row):
    session.add(row)
    session.flush()
    return row


def _end_of(cable: Cable, end: str) -> tuple[str, int]:
    closure = getattr(cable, f"{end}_closure_id")
    return ("closure", closure) if closure is not None else ("site", getattr(cable, f"{end}_site_id"))


def _rewrite_hops(session: Session, plan: Plan, cable_id: int, whole_ends: tuple, own: dict[tuple, list[Cable]],
                  parts: list[Cable]) -> None:
    """Every link over the split cable rides its parts (in the link's direction: the part
    facing the previous hop's cable first)."""
    links = session.exec(select(LinkHop.link_id).where(LinkHop.cable_id == cable_id).distinct()).all()
    for link_id in sorted(links):
        mine = session.get(Link, link_id).plan_id == plan.id
        hops = session.exec(select(LinkHop).where(LinkHop.link_id == link_id).order_by(LinkHop.seq)).all()
        rows = [(h.cable_id, h.strand_a, h.strand_b) for h in hops]
        ends = {cid: {_end_of(c, "a"), _end_of(c, "b")} for cid in {r[0] for r in rows}
                if cid != cable_id and (c := session.get(Cable, cid)) is not None}
        ends[cable_id] = set(whole_ends)
        new = []
        for p, (cid, a, b) in enumerate(rows):
            if cid != cable_id:
                new.append((cid, a, b))
                continue
            run = own.get((a, b), parts) if mine else parts
            before = ends[rows[p - 1][0]] if p > 0 else set()
            after = ends[rows[p + 1][0]] if p + 1 < len(rows) else set()
            if _end_of(run[-1], "b") in before or _end_of(run[0], "a") in after:
                run = run[::-1]
            new += [(part.id, a, b) for part in run]
        for hop in hops:
            session.delete(hop)
        session.flush()
        for seq, (cid, a, b) in enumerate(new):
            session.add(LinkHop(link_id=link_id, seq=seq, cable_id=cid, strand_a=a, strand_b=b))
        session.flush()


def _rewrite_strand_records(session: Session, plan: Plan, cable_id: int, span: Callable[[dict], list[Cable]]) -> None:
    """Plans' records of strands taken on the split cable name its parts (this plan's the
    parts it takes, every other plan's all of them: its strands pass through uncut)."""
    for other in session.exec(select(Plan).where(Plan.state.in_([PlanState.DRAFT, PlanState.APPLIED]))).all():
        changes = changes_of(other.name, other.summary)
        uses = changes.get("strands", [])
        if not any(u["cable_id"] == cable_id for u in uses):
            continue
        rewritten = []
        for use in uses:
            if use["cable_id"] != cable_id:
                rewritten.append(use)
                continue
            plain = {k: v for k, v in use.items() if k not in ("midspan", "side")}
            parts = span(use) if other.id == plan.id else span(plain)
            rewritten += [{**plain, "cable_id": part.id, "cable": part.code} for part in parts]
        other.summary = {**other.summary, "changes": {**changes, "strands": rewritten}}
        session.add(other)


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
