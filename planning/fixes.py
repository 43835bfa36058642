"""The cheapest fix for every weakness: for each site the audits call single-homed or
shared-risk, the cheapest new route that makes it truly redundant, ranked by the weight of
the sites it protects per euro.

A *weakness* is a failure the audits count (``topology.audits``: every trench, route node
and device by the sites its failure cuts off; the bridges and cut vertices of the
physical and cable layers; street corridors and buildings, ``topology.risk``) that cuts a
site off. A *fix* for site ``s`` is one new cable and link from ``s`` to a PoP, routed on
the candidate network of ``plan connect`` (free ducts, new trenches, new building
entries), that no weakness of ``s`` can take down::

      PoP A ══ J1 ══ J2 ══ B ══ C ══ s        one spur: every element on it cuts s, C and B
                                     ╲
      PoP D ── ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ s      the fix: a route avoiding all of them (no
                                               trench, manhole, building or street corridor
                                               of theirs), ending at another PoP

A route that avoids every failure cutting ``s`` protects ``s`` (each such failure leaves
the new link up, and nothing else can cut ``s``: adding a link never cuts anything). It
may protect more: closing a spur into a ring protects every site along it. What it
protects is the audit's answer on the network with the fix applied: ``protected_by_audit``
recomputes the audits on an in-memory copy of the inventory with the fix's rows added
(the reference), ``FailureIndex`` answers the same from the cut regions the audits' cut
trees give, failure by failure (fast; tests hold the two equal).

Weights: a site's weight is the audits' weight of its kind (hospital > school > Kita >
hotspot), through ``SiteWeights`` so that customer counts can be added to it. Sites
single-homed by design (hotspots, small cells) are not targets unless ``include_by_design``.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Callable, Hashable, Iterable, Mapping

import numpy as np

from netops.vocabulary import SINGLE_HOMED_BY_DESIGN, DeviceRole
from planning.connect import ConnectPlan, SiteSpec, best_loss_budget, bill_of_materials, bom_total
from planning.loss_budget import DEFAULT_MIN_MARGIN_DB, Optic, rate_note
from planning.network import ENTRY, EXISTING, NEW, OWN_ENTRY, STRAND, CandidateNetwork, Node, new_closure_node
from planning.routing import Route, fault_handles, make_leg, own_entry_nodes, risk_rules, route_view
from topology.audits import criticality_ranking, shared_risks, single_points_of_failure
from topology.network import FailureSet, Network
from topology.risk import DEFAULT_RULES, RouteView, building_keys, corridors, pair_risks, plant_risk_groups
from topology.rows import (CableRow, CableSegmentRow, HopRow, InterfaceRow, Inventory, LinkRow, NodeRow,
                           SegmentRow)

MAX_REROUTES = 24  # corridor and building conflicts forbidden one by one before giving up
#: new building entries considered per site (``plan connect`` takes the nearest 3): the nearest
#: manholes are often the old route's own, which a fix must avoid
FIX_ENTRY_CANDIDATES = 8
#: bounding-box margin of the corridor filter: 0.0005° is 35 m east-west at 51° N, far
#: more than a street corridor (``topology.risk``)
CORRIDOR_PAD_DEG = 0.0005


# -- weights -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SiteWeights:
    """What protecting a site is worth: the audits' weight of it (``Network.weight_of``: its
    kind's weight, and whatever the audits add to it), plus ``per_customer`` for each of its
    customers (``customers``: site id -> companies and homes behind it) where the caller
    counts them. The ranking only calls it, one site at a time."""

    net: Network
    per_customer: float = 0.0
    customers: Mapping[int, int] = field(default_factory=dict)

    def __call__(self, site_id: int) -> float:
        return self.net.weight_of([site_id]) + self.per_customer * self.customers.get(site_id, 0)

    def total(self, site_ids: Iterable[int]) -> float:
        return sum(self(s) for s in site_ids)


# -- the weaknesses: every failure the audits count that cuts a site off ------------------------
@dataclass(frozen=True)
class Failure:
    """One failure the audits count. ``what``: trench, node, device, link (service view),
    physical/cable (a bridge or cut vertex of that layer, reported with its own loss),
    corridor or building (a shared-risk group). ``lost``: the sites the audits name for it."""

    what: str
    label: str
    failure: FailureSet
    lost: frozenset[int]
    own: frozenset[int] = frozenset()
    layer: str | None = None  # physical | cable: reported only while it cuts a site on that layer
    layer_edge: Hashable = None  # the layer's edge key or node that fails
    layer_node: Hashable = None
    cable_sites: frozenset[int] = frozenset()  # a site's cable end failing: every cable ending there


def failures(net: Network) -> list[Failure]:
    """Every failure behind a single-point-of-failure or shared-risk finding, with the sites
    it cuts off; their union is exactly the sites those audits report (tests hold it)."""
    found: list[Failure] = []
    for element in criticality_ranking(net):
        if element.kind == "trench" and element.site_ids:
            found.append(Failure("trench", element.code, FailureSet(trenches=frozenset({element.id})),
                                 element.site_ids))
        elif element.kind in ("node", "device") and element.site_ids:
            own = (net.physical.site_of.get(element.id) if element.kind == "node"
                   else net.devices[element.id].site_id)
            field_name = "nodes" if element.kind == "node" else "devices"
            lost = element.site_ids - {own}
            if lost:
                found.append(Failure(element.kind, element.code, FailureSet(**{field_name: frozenset({element.id})}),
                                     lost, frozenset({own}) - {None}))
    logical = net.logical
    for key in logical.tree.bridge_child:
        lost = logical.lost_sites(logical.tree.cut_by_edge(key))
        if lost:
            found.append(Failure("link", net.links[key]["code"], FailureSet(links=frozenset({key})), frozenset(lost)))
    for layer in (net.physical, net.cable):
        tree = layer.tree
        for key in tree.bridge_child:
            lost = layer.lost_sites(tree.cut_by_edge(key))
            if lost:
                lost |= net.service_lost_by(layer.name, edge=key)
                found.append(_layer_failure(net, layer.name, key, None, lost, frozenset()))
        for node in tree.cut_children:
            own = frozenset({layer.site_of.get(node)}) - {None}
            lost = layer.lost_sites(tree.cut_by_node(node), [node]) - own
            if lost:
                lost |= net.service_lost_by(layer.name, node=node) - own
                found.append(_layer_failure(net, layer.name, None, node, lost, own))
    for group, members in plant_risk_groups(
            {s.id: (s.geometry, s.a_node_id, s.b_node_id) for s in net.segments.values()},
            {n.id: (n.lat, n.lon, n.site_id) for n in net.route_nodes.values()}):
        kind = "trenches" if group == "corridor" else "nodes"
        failure = FailureSet(**{kind: members})
        own = frozenset(net.physical.site_of.get(m) for m in members) - {None} if group == "building" else frozenset()
        lost = frozenset(net.service_cut(failure)[1]) - own
        if lost:
            codes = sorted(net.ref("trench" if group == "corridor" else "node", m).code for m in members)
            found.append(Failure(group, "+".join(codes), failure, lost, own))
    return found


def _layer_failure(net: Network, layer: str, edge, node, lost: set, own: frozenset) -> Failure:
    """A bridge (``edge``) or cut vertex (``node``) of the physical or cable layer."""
    cable_sites = frozenset()
    if layer == "physical":
        failure = FailureSet(trenches=frozenset({edge})) if node is None else FailureSet(nodes=frozenset({node}))
        label = net.ref("trench", edge).code if node is None else net.ref("node", node).code
    elif node is None:
        failure, label = FailureSet(cables=frozenset({edge})), net.ref("cable", edge).code
    elif node[0] == "closure":
        failure, label = FailureSet(closures=frozenset({node[1]})), net.ref("closure", node[1]).code
    else:  # a site's cable end: every cable ending there
        failure = FailureSet(cables=frozenset(k for keys in net.cable.adj[node].values() for k in keys))
        label, cable_sites = f"cable end {net.ref('cable_end', node).code}", frozenset({node[1]})
    return Failure(layer, label, failure, frozenset(lost), own, layer, edge, node, cable_sites)


def weak_sites(net: Network) -> dict[int, list[str]]:
    """Site -> the checks of the audit findings naming it (spof, shared_trench...)."""
    ids = {s.code: s.id for s in net.sites.values()}
    weak: dict[int, list[str]] = defaultdict(list)
    for finding in single_points_of_failure(net) + shared_risks(net):
        for code in finding.sites:
            if finding.audit not in weak[ids[code]]:
                weak[ids[code]].append(finding.audit)
    return {site: sorted(checks) for site, checks in weak.items()}


def is_target(net: Network, site_id: int, include_by_design: bool) -> bool:
    return include_by_design or str(net.sites[site_id].kind) not in SINGLE_HOMED_BY_DESIGN


# -- a fix: one new route, and what it adds to the inventory -------------------------------------
@dataclass
class Fix:
    """One new cable and link from a weak site to a PoP (a single-route ``ConnectPlan``:
    route, BOM, cost, loss budget) and the targets it protects (site ids)."""

    plan: ConnectPlan
    protected: frozenset[int] = frozenset()
    weight: float = 0.0

    @property
    def site(self) -> SiteSpec:
        return self.plan.site

    @property
    def route(self) -> Route:
        return self.plan.routes[0]

    @property
    def total_eur(self) -> float:
        return self.plan.total_eur

    @property
    def per_keur(self) -> float:
        """Weight protected per thousand euros: the ranking."""
        return 1000 * self.weight / self.total_eur if self.total_eur > 0 else float("inf")

    @property
    def new_trench_m(self) -> float:
        return sum(leg.length_m for leg in self.route.legs if leg.kind in (NEW, ENTRY))

    def new_trenches(self, cand: CandidateNetwork) -> dict[Hashable, tuple]:
        """The fix's new trenches: edge id -> (geometry, one end, the other end)."""
        position = lambda node: [cand.graph.nodes[node]["lon"], cand.graph.nodes[node]["lat"]]  # noqa: E731
        return {leg.edge_id: (cand.coords_of(leg.a, leg.b, leg.key), position(leg.a), position(leg.b))
                for leg in self.route.legs if leg.kind in (NEW, ENTRY)}


def _site_device(inv: Inventory, site_id: int) -> int | None:
    """The device a new link at a site ends on, as ``planning.changeset`` chooses it: the
    site's first switch, else its first device."""
    devices = sorted((d for d in inv.devices if d.site_id == site_id), key=lambda d: d.id)
    switches = [d for d in devices if str(d.role) in (DeviceRole.ACCESS_SWITCH, DeviceRole.DISTRIBUTION_SWITCH)]
    chosen = (switches or devices)[:1]
    return chosen[0].id if chosen else None


def _pop_device(inv: Inventory, site_id: int) -> int | None:
    """The PoP device a new link ends on (``planning.changeset``): active, distribution switch first."""
    devices = sorted((d for d in inv.devices if d.site_id == site_id and str(d.status) == "active"),
                     key=lambda d: (str(d.role) != DeviceRole.DISTRIBUTION_SWITCH, d.id))
    return devices[0].id if devices else None


@dataclass(frozen=True)
class FixShape:
    """What a fix adds, in the terms of the audited network: the old trenches and route
    nodes its cable runs through, its new route nodes and trenches, and the devices and
    sites its new link and cable join."""

    site_id: int
    pop_site_id: int
    site_device: int | None
    pop_device: int | None
    old_trenches: frozenset[int]
    old_nodes: frozenset[int]
    path: tuple[Hashable, ...]  # route nodes from the site to the PoP: old ids, or ("new", node)
    alive_legs: tuple[tuple[Hashable, Hashable, int | None], ...]  # (a, b, old trench id or None)
    new_entry: bool  # a new building entry node in the site's building


def fix_shape(net: Network, cand: CandidateNetwork, fix: Fix) -> FixShape:
    pop_site = next(s.id for s in net.sites.values() if s.code == fix.route.pop_code)

    def node_ref(node: Node) -> Hashable:
        return node[1] if node[0] == "n" else ("new", node)

    legs = [leg for leg in fix.route.legs if leg.kind != OWN_ENTRY]
    path = [node_ref(legs[0].a)] + [node_ref(leg.b) for leg in legs] if legs else []
    return FixShape(
        site_id=fix.site.site_id, pop_site_id=pop_site,
        site_device=_site_device(net.inv, fix.site.site_id), pop_device=_pop_device(net.inv, pop_site),
        old_trenches=frozenset(leg.trench_id for leg in legs if leg.kind == EXISTING),
        old_nodes=frozenset(n for n in path if not isinstance(n, tuple)),
        path=tuple(path),
        alive_legs=tuple((node_ref(leg.a), node_ref(leg.b), leg.trench_id if leg.kind == EXISTING else None)
                         for leg in legs),
        new_entry=any(leg.a[0] == "site" and leg.kind == ENTRY for leg in legs))


def applied_inventory(inv: Inventory, cand: CandidateNetwork, fix: Fix) -> Inventory:
    """A copy of ``inv`` with the fix built (active), the rows ``plan apply`` would leave:
    new entry and junction route nodes, new trenches, the cable through its trenches, two
    interfaces and the link over the cable."""
    def new_id(rows) -> int:
        return max((r.id for r in rows), default=0) + 1

    out = Inventory(**{f.name: list(getattr(inv, f.name)) for f in fields(Inventory)})
    node_ids: dict[Node, int] = {}

    def node(n: Node) -> int:
        if n[0] == "n":
            return n[1]
        if n not in node_ids:
            data = cand.graph.nodes[n]
            row = NodeRow(new_id(out.nodes), f"fix-{fix.site.code}-{len(node_ids) + 1}",
                          "site_entry" if n[0] == "site" else "junction", data["lat"], data["lon"],
                          fix.site.site_id if n[0] == "site" else None)
            out.nodes.append(row)
            node_ids[n] = row.id
        return node_ids[n]

    segments = []
    for leg in fix.route.legs:
        if leg.kind == EXISTING:
            segments.append(leg.trench_id)
        elif leg.kind in (NEW, ENTRY):
            edge = cand.edge(leg.a, leg.b, leg.key)
            a, b = (node(end) for end in edge["ends"])
            row = SegmentRow(new_id(out.segments), f"fix-{fix.site.code}-seg-{len(segments) + 1}", a, b,
                             round(leg.length_m, 1), leg.laying_method, 2, 1, geometry=edge["coords"])
            out.segments.append(row)
            segments.append(row.id)
    pop_site = next(s.id for s in inv.sites if s.code == fix.route.pop_code)
    cable = CableRow(new_id(out.cables), f"fix-{fix.site.code}-cab", 12, a_site_id=fix.site.site_id,
                     b_site_id=pop_site, length_m=round(max(fix.route.length_m, 1.0), 1))
    out.cables.append(cable)
    out.cable_segments.extend(CableSegmentRow(cable.id, seq, seg) for seq, seg in enumerate(segments))
    site_device, pop_device = _site_device(inv, fix.site.site_id), _pop_device(inv, pop_site)
    if site_device is not None and pop_device is not None:
        a = InterfaceRow(new_id(out.interfaces), site_device, "fix-up")
        out.interfaces.append(a)
        b = InterfaceRow(new_id(out.interfaces), pop_device, f"fix-{fix.site.code}")
        out.interfaces.append(b)
        link = LinkRow(new_id(out.links), f"fix-{fix.site.code}-lnk", a.id, b.id)
        out.links.append(link)
        out.hops.append(HopRow(link.id, 0, cable.id))
        out.devices = [d._replace(status="active") if d.id == site_device else d for d in out.devices]
    return out


def protected_by_audit(net: Network, cand: CandidateNetwork, fix: Fix, targets: Iterable[int]) -> frozenset[int]:
    """The reference: the targets the audits report now and stop reporting once the fix is
    built (the audits run again on the inventory with the fix's rows)."""
    after = Network(applied_inventory(net.inv, cand, fix), net.config)
    still = set(weak_sites(after))
    before = set(weak_sites(net))
    return frozenset(s for s in targets if s in before and s not in still)


# -- what a fix protects, fast: the cut regions of the failures, reconnected by the fix ------------
def _components(adj: Mapping, cut: Iterable, failed_edges: set) -> dict:
    """Node -> component id within the cut-off nodes, over the edges still up."""
    cut = set(cut)
    comp: dict = {}
    for start in cut:
        if start in comp:
            continue
        comp[start] = start
        stack = [start]
        while stack:
            v = stack.pop()
            for w, keys in adj[v].items():
                if w in cut and w not in comp and any(k not in failed_edges for k in keys):
                    comp[w] = start
                    stack.append(w)
    return comp


@dataclass
class _Region:
    """What one failure cuts off on one layer: the sites, and the components of the cut."""

    lost: frozenset[int]
    comp: dict
    comp_sites: dict

    @classmethod
    def of(cls, layer, cut: Iterable, failed_nodes: Iterable, failed_edges: set) -> "_Region":
        cut = list(cut)
        comp = _components(layer.adj, cut, failed_edges)
        comp_sites: dict = defaultdict(set)
        for node, c in comp.items():
            if node in layer.site_of:
                comp_sites[c].add(layer.site_of[node])
        return cls(frozenset(layer.lost_sites(cut, failed_nodes)), comp, comp_sites)

    def after(self, reconnected: Iterable) -> frozenset[int]:
        """The sites still lost once these components reach the core again."""
        back = set().union(*(self.comp_sites.get(c, ()) for c in reconnected))
        return self.lost - back


class FailureIndex:
    """Every failure cutting off a target, with its cut regions (service view, and the
    layer's own for the physical and cable layers' bridges and cut vertices). A fix adds
    one link (and its cable and trenches): a failure that leaves it up reconnects exactly
    the cut-off components its route touches, so what the audits report afterwards is
    read off the regions without searching the network again."""

    def __init__(self, net: Network, family: list[Failure], targets: Iterable[int]):
        self.net = net
        self.targets = frozenset(targets)
        self.family = [f for f in family if f.lost & self.targets]
        self.weak = frozenset(s for f in self.family for s in f.lost) & self.targets
        self.service = [self._service(f) for f in self.family]
        self.layer = [self._layer(f) for f in self.family]
        ranking = criticality_ranking(net)
        self.trench_lost = {e.id: e.site_ids for e in ranking if e.kind == "trench" and e.site_ids & self.targets}
        self.node_lost = {e.id: e.site_ids for e in ranking if e.kind == "node"}
        self.building_nodes = _building_nodes(net)
        position = {n.id: [n.lon, n.lat] for n in net.route_nodes.values()}
        self._old_lines = {}
        for t in self.trench_lost:
            seg = net.segments[t]
            ends = (position[seg.a_node_id], position[seg.b_node_id])
            self._old_lines[t] = (seg.geometry or list(ends), ends)
        self._old_keys = list(self._old_lines)
        self._old_boxes = np.array([_box(self._old_lines[t][0]) for t in self._old_keys]).reshape(-1, 4)

    def _old_trenches_near(self, coords) -> list[int]:
        """Trenches whose cut takes down targets and whose bounding box comes within a
        street corridor of this line's (a filter before ``corridors`` measures)."""
        lon0, lat0, lon1, lat1 = _box(coords)
        pad = CORRIDOR_PAD_DEG
        boxes = self._old_boxes
        near = ((boxes[:, 0] <= lon1 + pad) & (boxes[:, 2] >= lon0 - pad)
                & (boxes[:, 1] <= lat1 + pad) & (boxes[:, 3] >= lat0 - pad))
        return [self._old_keys[i] for i in np.flatnonzero(near)]

    def _service(self, failure: Failure) -> _Region:
        logical = self.net.logical
        links = self.net.links_failed_by(failure.failure)
        failed = logical.nodes_for(failure.failure.devices)
        return _Region.of(logical, logical.cut_off(links, failed), failed, set(links))

    def _layer(self, failure: Failure) -> _Region | None:
        if failure.layer is None:
            return None
        layer = self.net.physical if failure.layer == "physical" else self.net.cable
        if failure.layer_node is None:
            return _Region.of(layer, layer.tree.cut_by_edge(failure.layer_edge), (), {failure.layer_edge})
        return _Region.of(layer, layer.tree.cut_by_node(failure.layer_node), [failure.layer_node], set())

    def still_weak(self, shape: FixShape, new_trenches: Mapping[Hashable, tuple]) -> frozenset[int]:
        """The targets the audits would still report with the fix built. ``new_trenches``:
        the fix's new trenches, id -> (geometry, end, end) for the corridor rule."""
        logical, physical = self.net.logical, self.net.physical
        site_nodes = logical.nodes_for([shape.site_device]) if shape.site_device is not None else set()
        weak: set[int] = set()
        for failure, service, layer in zip(self.family, self.service, self.layer):
            down = failure.failure
            link_down = (shape.site_device is None or shape.pop_device is None
                         or bool(down.trenches & shape.old_trenches) or bool(down.nodes & shape.old_nodes)
                         or bool(down.devices & {shape.site_device, shape.pop_device})
                         or bool(failure.cable_sites & {shape.site_id, shape.pop_site_id})
                         or (failure.what == "building" and shape.new_entry and shape.site_id in failure.own))
            reconnected = () if link_down else [service.comp[n] for n in site_nodes if n in service.comp]
            lost = service.after(reconnected) if reconnected else service.lost
            if layer is not None:
                if failure.layer == "physical" and (shape.site_id in layer.lost
                                                    or any(n in layer.comp for n in shape.old_nodes)):
                    reconnected, entry_up = _reconnected(shape, down, layer, physical)
                    layer_lost = layer.after(reconnected) - ({shape.site_id} if entry_up else set())
                elif failure.layer == "physical":  # the fix touches nothing this failure cuts off
                    layer_lost = layer.lost
                else:
                    cable_down = bool(failure.cable_sites & {shape.site_id, shape.pop_site_id})
                    end = ("site", shape.site_id)
                    layer_lost = layer.lost if cable_down or end not in layer.comp else layer.after({layer.comp[end]})
                if not layer_lost - failure.own:
                    continue
                lost = lost | layer_lost
            weak |= lost - failure.own
        weak |= self._new_groups(shape, new_trenches)
        if shape.site_id not in physical.site_node_count or shape.site_id not in self.net.cable.site_node_count:
            weak.add(shape.site_id)  # its first fibre of its own: a single route, one bridge after another
        return frozenset(weak) & self.weak

    def _new_groups(self, shape: FixShape, new_trenches: Mapping[Hashable, tuple]) -> set[int]:
        """Shared risks the fix itself creates: a new trench in a street corridor with a
        trench whose cut takes down targets, a second entry node in a building that had one
        (each fails the fix's link together with what the old element fails)."""
        weak: set[int] = set()
        if new_trenches and self.trench_lost:
            lines, ends = {}, {}
            for key, (coords, a, b) in new_trenches.items():
                lines[("new", key)], ends[("new", key)] = coords, (a, b)
                for t in self._old_trenches_near(coords):
                    lines[("old", t)], ends[("old", t)] = self._old_lines[t]
            for pair in corridors(lines, ends, DEFAULT_RULES, groups={k: k[0] for k in lines}):
                old = next(k[1] for k in pair if k[0] == "old")
                weak |= self.trench_lost[old]
        if shape.new_entry:
            building = next((nodes for nodes in self.building_nodes if shape.site_id in nodes.values()), {})
            if len(building) == 1:
                (node,) = building
                weak |= self.node_lost.get(node, frozenset()) - set(building.values())
        return weak


def _box(coords) -> tuple[float, float, float, float]:
    lons, lats = [p[0] for p in coords], [p[1] for p in coords]
    return min(lons), min(lats), max(lons), max(lats)


def _building_nodes(net: Network) -> list[dict[int, int]]:
    """Each building's route nodes (node -> its site), sites a few metres apart as one."""
    sites = {n.site_id: (net.sites[n.site_id].lat, net.sites[n.site_id].lon) for n in net.route_nodes.values()
             if n.site_id in net.sites and net.sites[n.site_id].lat is not None}
    building = building_keys(sites)
    nodes: dict[Hashable, dict[int, int]] = defaultdict(dict)
    for n in net.route_nodes.values():
        if n.site_id in building:
            nodes[building[n.site_id]][n.id] = n.site_id
    return list(nodes.values())


def _reconnected(shape: FixShape, down: FailureSet, region: _Region, physical) -> tuple[set, bool]:
    """Physical layer: the cut-off components the fix's surviving trenches join to the core,
    and whether its new building entry reaches the core. The route's legs that the failure
    leaves up join their ends (union-find); an end that still reaches the core is the core."""
    core = ("core",)
    parent: dict = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def klass(node):
        if isinstance(node, tuple):
            return node  # a new node of the fix
        if node in down.nodes:
            return None
        if node in region.comp:
            return ("comp", region.comp[node])
        return core if node in physical.reachable else ("isolated", node)

    for a, b, trench in shape.alive_legs:
        ka, kb = klass(a), klass(b)
        if ka is None or kb is None or (trench is not None and trench in down.trenches):
            continue
        ra, rb = find(ka), find(kb)
        if ra != rb:
            if rb == core:
                ra, rb = rb, ra
            parent[rb] = ra
    reconnected = {k[1] for k in map(klass, shape.path) if k and k[0] == "comp" and find(k) == core}
    entry = next((n for n in shape.path if isinstance(n, tuple) and n[1][0] == "site"), None)
    return reconnected, entry is not None and find(entry) == core


# -- routing a fix: the cheapest route no weakness of the site can take down ---------------------
@dataclass
class Places:
    """The candidate network's nodes by building and by PoP, and where each lies (built once
    for all the fixes routed on it)."""

    by_building: dict[Hashable, list[Node]]
    by_pop: dict[str, list[Node]]
    position: dict[Node, list[float]]
    costs: dict[Node, dict[Node, dict[Hashable, float]]]  # u -> v -> edge key -> € for one cable
    strand_ways: list[tuple[Hashable, frozenset[int], frozenset[int]]]  # strand edge id, its trenches, route nodes

    @classmethod
    def of(cls, cand: CandidateNetwork) -> "Places":
        by_building, by_pop, position = defaultdict(list), defaultdict(list), {}
        costs = {u: {v: {k: d["fixed_eur"] + d["per_cable_eur"] for k, d in keys.items()} for v, keys in nbrs.items()}
                 for u, nbrs in cand.graph.adj.items()}
        for node, data in cand.graph.nodes(data=True):
            position[node] = [data["lon"], data["lat"]]
            building = cand.building_of(node) if node[0] == "n" else None
            if building is not None:
                by_building[building].append(node)
            if node in cand.pops:
                by_pop[cand.pops[node]].append(node)
        strand_ways = [((frozenset((u, v)), k), frozenset(t for t, _, _ in d["trenches"]),
                        frozenset(n for _, a, b in d["trenches"] for n in (a, b)))
                       for u, v, k, d in cand.graph.edges(keys=True, data=True) if d["kind"] == STRAND]
        return cls(dict(by_building), dict(by_pop), position, costs, strand_ways)


def _avoid(net: Network, cand: CandidateNetwork, places: Places, weaknesses: list[Failure], own: set
           ) -> tuple[set, RouteView]:
    """The candidate edges and nodes a fix must not use, and the weaknesses as a route
    view for the corridor and building rules (``topology.risk``)."""
    trenches, nodes, pop_sites = set(), set(), set()
    for weakness in weaknesses:
        trenches |= weakness.failure.trenches
        nodes |= weakness.failure.nodes
        pop_sites |= {net.devices[d].site_id for d in weakness.failure.devices} & net.core_sites
        pop_sites |= weakness.cable_sites & net.core_sites
    forbidden: set = {("n", n) for n in nodes} | {new_closure_node(n) for n in nodes}
    # a cable's strands lie in every trench and manhole it runs through: a strand edge (end to
    # end, or a part from a new closure mid-span) over one of them is barred at once, not one
    # conflict at a time (a cable offers a part at each of its manholes)
    forbidden |= {edge for edge, ts, ns in places.strand_ways if ts & trenches or ns & nodes}
    for building in {cand.building_of(("n", n)) for n in nodes} - {None} - own:
        forbidden.update(places.by_building.get(building, ()))
    for site in pop_sites:
        forbidden.update(places.by_pop.get(net.sites[site].code, ()))
    lines, ends = {}, {}
    for t in trenches:
        seg = net.segments[t]
        a, b = ("n", seg.a_node_id), ("n", seg.b_node_id)
        forbidden |= {(frozenset((a, b)), ("t", t)), (frozenset((a, b)), ("parallel", t))}
        ends[("weak", t)] = (places.position[a], places.position[b])
        lines[("weak", t)] = seg.geometry or list(ends[("weak", t)])
    view = RouteView(trenches=lines, trench_ends=ends,
                     nodes={("n", n): cand.building_of(("n", n)) for n in nodes if ("n", n) in cand.graph})
    return forbidden, view


def cheapest_route(cand: CandidateNetwork, origin: Node, forbidden: set, places: Places | None = None
                   ) -> Route | None:
    """The cheapest single-cable route from ``origin`` to any PoP (Dijkstra), using no
    ``forbidden`` node or edge id; it passes no other site and ends at the first PoP."""
    costs = places.costs if places is not None else {}
    dist = {origin: 0.0}
    via: dict[Node, tuple[Node, Hashable]] = {}
    tie = itertools.count()
    heap = [(0.0, next(tie), origin)]
    done = set()
    while heap:
        d, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node in cand.pops:
            legs = []
            while node != origin:
                previous, key = via[node]
                legs.append(make_leg(cand, previous, node, key))
                node = previous
            end = legs[0].b
            return Route(tuple(reversed(legs)), end, cand.pops[end])
        neighbours = costs.get(node) if node != origin else None
        if neighbours is None:  # the origin (attached after the index was made), or no index
            neighbours = {v: {k: e["fixed_eur"] + e["per_cable_eur"] for k, e in keys.items()}
                          for v, keys in cand.graph.adj[node].items()}
        for neighbour, keys in neighbours.items():
            if neighbour in done or neighbour in forbidden or (neighbour[0] == "site" and neighbour != origin):
                continue
            best = None
            for key, cost in keys.items():
                if (best is None or cost < best[0]) and (frozenset((node, neighbour)), key) not in forbidden:
                    best = (cost, key)
            if best is not None and d + best[0] < dist.get(neighbour, float("inf")) - 1e-9:
                dist[neighbour] = d + best[0]
                via[neighbour] = (node, best[1])
                heapq.heappush(heap, (dist[neighbour], next(tie), neighbour))
    return None


def route_fix(net: Network, cand: CandidateNetwork, site: SiteSpec, weaknesses: list[Failure],
              places: Places | None = None) -> Route | None:
    """The cheapest route from ``site`` to a PoP sharing nothing with its weaknesses: none
    of their trenches (nor a new one beside), manholes, buildings or PoPs, and not doubling
    back nor running along itself: the one rule of a redundant pair
    (``topology.risk.pair_risks``, as ``plan connect --redundant`` and the redundant batch
    judge theirs), with the weaknesses as the other route. A route breaking it is re-routed
    without the legs and nodes that bring it to the fault (``fault_handles``; up to
    ``MAX_REROUTES`` times). None when no such route exists."""
    cand.entry_candidates = max(cand.entry_candidates, FIX_ENTRY_CANDIDATES)
    origin = cand.attach_site(site.code, site.lat, site.lon, site.entry_node)
    own = {origin} | {cand.building_of(n) for n in own_entry_nodes(cand, origin)} - {None}
    places = places or Places.of(cand)
    forbidden, weak_view = _avoid(net, cand, places, weaknesses, own)
    for _ in range(MAX_REROUTES):
        route = cheapest_route(cand, origin, forbidden, places)
        if route is None:
            return None
        # the weaknesses are no walked route: nothing of their own counts (``own_risks``)
        faults = pair_risks(weak_view, route_view(cand, route, origin), own, risk_rules(cand), own_risks=([], None))
        if not faults:
            return route
        for fault in faults:  # the fix's side of each: its element of a shared one, all of its own
            mine = fault.elements if fault.route == 2 else fault.elements[-1:]
            forbidden |= {*mine, *fault_handles(cand, [route], mine)}
    return None


# -- the ranking --------------------------------------------------------------------------------
@dataclass
class FixRanking:
    fixes: list[Fix]  # best first: weight protected per euro
    weak: dict[int, list[str]]  # target site -> the audit checks naming it
    unfixable: dict[int, str]  # target site -> why no fix was found
    weights: SiteWeights

    def cheapest_for(self, site_id: int) -> Fix | None:
        return min((f for f in self.fixes if site_id in f.protected), key=lambda f: f.total_eur, default=None)


def site_specs(net: Network, site_ids: Iterable[int]) -> dict[int, SiteSpec]:
    """The weak sites as the planner takes them, each with its documented entry node."""
    entry: dict[int, int] = {}
    for node in sorted(net.route_nodes.values(), key=lambda n: n.id):
        if node.site_id is not None:
            entry.setdefault(node.site_id, node.id)
    specs = {}
    for s in site_ids:
        row = net.sites[s]
        specs[s] = SiteSpec(row.code, row.name, str(row.kind), row.lat, row.lon, s,
                            ("n", entry[s]) if s in entry else None)
    return specs


def rank_fixes(net: Network, cand: CandidateNetwork, optics: list[Optic], *, include_by_design: bool = False,
               weights: SiteWeights | None = None, min_margin_db: float = DEFAULT_MIN_MARGIN_DB,
               reference: bool = False, progress: Callable[[int, int, str], None] | None = None) -> FixRanking:
    """The cheapest fix of every weak site (``weak_sites``; by-design ones only with
    ``include_by_design``), each with every target it protects, best weight per euro
    first. ``reference=True`` counts protected sites by running the audits again on the
    fixed inventory (``protected_by_audit``) instead of ``FailureIndex``."""
    weights = weights or SiteWeights(net)
    weak = {s: checks for s, checks in weak_sites(net).items() if is_target(net, s, include_by_design)}
    family = failures(net)
    index = FailureIndex(net, family, weak)
    places = Places.of(cand)
    fixes, unfixable = [], {}
    specs = sorted(site_specs(net, weak).items(), key=lambda kv: kv[1].code)
    for done, (site_id, spec) in enumerate(specs):
        if progress:
            progress(done, len(specs), spec.code)
        if spec.lat is None or spec.lon is None:
            unfixable[site_id] = "site has no coordinates to plan from"
            continue
        route = route_fix(net, cand, spec, [f for f in family if site_id in f.lost], places)
        if route is None:
            unfixable[site_id] = "no route to a PoP avoids every trench, manhole, building and corridor it depends on"
            continue
        lines = bill_of_materials([route], cand.costs, cand.strands)
        budget = best_loss_budget(route, optics, min_margin_db=min_margin_db)
        fix = Fix(ConnectPlan(spec, [route], [], lines, bom_total(lines), [budget], cand.costs, cand.strands,
                              redundant=False, notes=[note] if (note := rate_note(budget)) else []))
        if reference:
            fix.protected = protected_by_audit(net, cand, fix, weak)
        else:
            fix.protected = index.weak - index.still_weak(fix_shape(net, cand, fix), fix.new_trenches(cand))
        if site_id not in fix.protected:  # radio-meshed: its first fibre, one route, is one bridge after another
            unfixable[site_id] = ("no fibre of its own yet: one new route would be its only one "
                                  "(`plan connect --redundant` plans two)")
            continue
        fix.weight = weights.total(fix.protected)
        fixes.append(fix)
    fixes.sort(key=lambda f: (-f.per_keur, f.total_eur, f.site.code))
    protected = {s for f in fixes for s in f.protected}  # another site's fix may protect it (a ring)
    return FixRanking(fixes, weak, {s: why for s, why in unfixable.items() if s not in protected}, weights)


def fix_dict(net: Network, fix: Fix, rank: int) -> dict:
    """One line of the ranking, as JSON carries it (the route and BOM as ``plan connect``'s)."""
    plan = fix.plan.to_dict()
    return {"rank": rank, "site": fix.site.code, "kind": fix.site.kind, "pop": fix.route.pop_code,
            "total_eur": fix.total_eur, "protected": list(net.site_codes(fix.protected)),
            "protected_weight": fix.weight, "weight_per_keur": round(fix.per_keur, 4),
            "length_m": round(fix.route.length_m, 1), "new_trench_m": round(fix.new_trench_m, 1),
            "route": plan["routes"][0], "bom": plan["bom"], "loss_budget": plan["loss_budget"][0],
            "flagged": plan["flagged"], "notes": plan["notes"]}


# -- as the CLI uses it: from the inventory, and stored as change sets ------------------------------
@dataclass
class FixesResult:
    ranking: FixRanking
    net: Network
    cand: CandidateNetwork

    def line(self, site_code: str) -> Fix | None:
        return next((f for f in self.ranking.fixes if f.site.code == site_code), None)

    def to_dict(self, fixes: list[Fix]) -> dict:
        net, ranking = self.net, self.ranking
        rank = {id(f): i for i, f in enumerate(ranking.fixes, start=1)}
        sites = []
        for site_id in sorted(ranking.weak, key=lambda s: net.sites[s].code):
            best = ranking.cheapest_for(site_id)
            sites.append({"site": net.sites[site_id].code, "kind": str(net.sites[site_id].kind),
                          "weight": ranking.weights(site_id), "checks": ranking.weak[site_id],
                          "cheapest_fix": best.site.code if best else None,
                          "cheapest_rank": rank[id(best)] if best else None,
                          "cheapest_eur": best.total_eur if best else None,
                          "unfixable": ranking.unfixable.get(site_id)})
        costs = self.cand.costs
        return {"price_table": {"id": costs.table_id, "region": costs.region,
                                "valid_from": costs.valid_from.isoformat(), "currency": costs.currency},
                "fixes": [fix_dict(net, f, rank[id(f)]) for f in fixes],
                "sites": sites}


def plan_fixes(session, options, *, include_by_design: bool = False, min_margin_db: float = DEFAULT_MIN_MARGIN_DB,
               reference: bool = False, progress: Callable[[int, int, str], None] | None = None) -> FixesResult:
    """The ranking for the inventory in ``session`` (the audits' network, the planner's
    candidate network with ``options``: streets, strands, price table)."""
    from planning.context import load_network
    from planning.loss_budget import optics_from_inventory
    from topology.rows import load_inventory

    net = Network(load_inventory(session, geometry=True))
    cand = load_network(session, options)
    ranking = rank_fixes(net, cand, optics_from_inventory(session), include_by_design=include_by_design,
                         min_margin_db=min_margin_db, reference=reference, progress=progress)
    return FixesResult(ranking, net, cand)


def store_fix(session, result: FixesResult, fix: Fix, name: str | None = None):
    """Store one line as a draft plan (kind ``fix``), the way ``plan connect`` stores its
    plans: ``plan diff``, ``apply`` and ``discard`` take it from there."""
    from planning.changeset import SiteRoutes, save_plan
    from planning.plans import _free_name

    summary = {**fix.plan.to_dict(), "fix": {"protected": list(result.net.site_codes(fix.protected)),
                                             "protected_weight": fix.weight}}
    return save_plan(session, result.cand, name=name or _free_name(session, f"fix-{fix.site.code}"), kind="fix",
                     items=[SiteRoutes(fix.site, [fix.route], tuple(b.optic for b in fix.plan.loss))],
                     total_eur=fix.total_eur, summary=summary)
