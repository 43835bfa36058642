"""The network as the audits see it: the three layer graphs, the core of each, and the
mapping that turns a trench, node, closure, cable or device failure into the logical links
it takes down (the *service* view: the logical layer with every link's shared-risk group).

The failure model: a live link (in service, between devices in service) is down when any
element it depends on fails, whatever that element's own status says: its two devices, the
cables of its hops, the trench segments those cables run through, the route nodes at the
ends of those segments, and the closures where its cables end. A route node failing takes
its trench segments and closures with it; a closure failing takes the cables ending there.
Plant that live links run through therefore stays in the physical and cable graphs even
when it is recorded out of service (``topology.graphs.live_plant``).

A site counts as cut off on a layer when every one of its nodes that could reach the core
before the failure (its devices on the logical layer, its building entries on the
physical one) has failed or lost the core. Core sites are the core and are never counted.

An NTU (role ``ntu``, a business line's termination) is its company's, not its site's: it
keeps no site connected, and one standing at a PoP is not the core either; it reaches the
core over its own links only. One whose only links end at devices out of the network (a
switch decommissioned: the row is gone from every graph, and so are the links to it) has no
service before anything fails: its company is not served, its failure cuts nothing off,
and the reachability audit names the NTU as a device with no path to the core.

Transit. By default every device at a core site (NTUs aside) is the core (a PoP is taken
to hold together), and a site that reaches it by any path counts as connected, even a path
through another customer's switch (a school dual-homed to two PoPs carries traffic between
them).
``AuditConfig(transit=False)`` (``netops audit --no-transit``) is the stricter network:
customers' switches (devices at schools, Kitas, hospitals, business parks, public
buildings: ``CUSTOMER_KINDS``) forward nothing for other sites, and the core is the PoP
routers (devices of role ``core_router``; a core site without one is core as a whole). A
PoP's distribution switch then reaches the core only through its own router, so the router
and the link to it become single points of failure for every site homed on that PoP alone.
The city's own devices (hotspot APs meshed by radio, cabinets, small cells) still forward.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Hashable, Iterable

import networkx as nx

from inventory.models.sites import DEFAULT_CRITICALITY, SiteKind
from topology.customers import CustomerLoss
from topology.cuts import CutTree, FailureSearch, plain_adjacency
from netops.vocabulary import CUSTOMER_WEIGHTS, MASS_OUTAGE_WEIGHT, SITE_WEIGHTS, DeviceRole
from topology.findings import ElementRef, Severity, impact_severity
from topology.gc_pause import gc_paused
from topology.graphs import cable_from, cable_paths, live_plant, logical_from, physical_from, shared_risk_groups
from topology.reference import naive_cut_off
from topology.rows import Inventory, in_scope, load_inventory

if TYPE_CHECKING:  # the audits read rows, not a session; only audit_network opens one
    from sqlmodel import Session

#: what cutting off a site of a kind, a company of a service class or one home weighs
DEFAULT_WEIGHTS: dict[str, float] = {**SITE_WEIGHTS, **CUSTOMER_WEIGHTS}


@dataclass(frozen=True)
class AuditConfig:
    """Tunable policy of the audits (CLI options map onto these)."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # an element whose failure cuts off at least this much weight is critical whatever the sites
    # (a mass outage, ``netops.vocabulary.MASS_OUTAGE_WEIGHT``)
    critical_weight: float = MASS_OUTAGE_WEIGHT
    # recorded trench length may differ from its geometry by this fraction (or these metres)
    length_tolerance: float = 0.10
    length_tolerance_m: float = 10.0
    # a cable or trench this full is reported (info); completely full is a warning
    capacity_info_ratio: float = 0.9
    include_planned: bool = False
    # False: customers' switches forward no other site's traffic and the core is the PoP
    # routers (``--no-transit``, see ``without_transit``)
    transit: bool = True

    def weight(self, kind: str) -> float:
        return self.weights.get(kind, 1.0)


#: sites whose devices belong to a customer: with ``transit=False`` they carry no other site's traffic
CUSTOMER_KINDS = frozenset({SiteKind.SCHOOL, SiteKind.KINDERGARTEN, SiteKind.HOSPITAL, SiteKind.BUSINESS_PARK,
                            SiteKind.PUBLIC_BUILDING})


def without_transit(logical: nx.MultiGraph, customer_sites: set[int]) -> nx.MultiGraph:
    """The logical graph with no path through a customer's switch: each link from a
    customer's device to another site ends in a leaf of its own ("uplink", link id), which
    stands for that device as seen through that link, so nothing can pass through it; links
    between two customers' sites are left out (neither forwards). Every node keeps the
    ``device`` it stands for."""
    graph = nx.MultiGraph(layer="logical")
    for device, data in logical.nodes(data=True):
        graph.add_node(device, **data, device=device)
    for u, v, key, data in logical.edges(keys=True, data=True):
        site_u, site_v = logical.nodes[u]["site_id"], logical.nodes[v]["site_id"]
        customer_u, customer_v = site_u in customer_sites, site_v in customer_sites
        if site_u == site_v or not (customer_u or customer_v):
            graph.add_edge(u, v, key=key, **data)
        elif not (customer_u and customer_v):
            customer, other = (u, v) if customer_u else (v, u)
            leaf = ("uplink", key)
            graph.add_node(leaf, **logical.nodes[customer], device=customer)
            graph.add_edge(leaf, other, key=key, **data)
    return graph


class Layer:
    """One graph with its core, and what failures on it cut off, site by site."""

    def __init__(self, name: str, graph: nx.MultiGraph, sources: Iterable[Hashable],
                 site_of: dict, core_sites: set[int]):
        self.name = name
        self.graph = graph
        # a logical node stands for a device: itself, or one of its uplinks without transit
        self.device_of = dict(graph.nodes(data="device", default=None))
        self.sources = [s for s in sources if s in graph]
        self.site_of = site_of  # node -> site id (nodes of no site are absent)
        self.core_sites = core_sites

    @cached_property
    def adj(self) -> dict:
        return plain_adjacency(self.graph)

    @cached_property
    def tree(self) -> CutTree:
        return CutTree(self.graph, self.sources, self.adj)

    @cached_property
    def search(self) -> FailureSearch:
        return FailureSearch(self.graph, self.sources, self.adj, self.tree)

    @cached_property
    def reachable(self) -> set:
        return set(self.tree.reachable)

    @cached_property
    def site_node_count(self) -> Counter:
        """Per site, how many of its nodes reach the core with nothing failed."""
        return Counter(self.site_of[n] for n in self.reachable if n in self.site_of)

    def lost_sites(self, cut_nodes: Iterable, failed_nodes: Iterable = ()) -> set[int]:
        if not cut_nodes and not failed_nodes:
            return set()  # most failures of a ranking: links on cycles, nothing cut off
        site_of, reachable = self.site_of, self.reachable
        gone: dict[int, int] = {}
        for group in (cut_nodes, failed_nodes):
            for n in group:
                site = site_of.get(n)
                if site is not None and n in reachable:
                    gone[site] = gone.get(site, 0) + 1
        if not gone:
            return set()
        count, core = self.site_node_count, self.core_sites
        return {s for s, c in gone.items() if c == count[s] and s not in core}

    def cut_off(self, failed_edges: Iterable = (), failed_nodes: Iterable = (), *, naive: bool = False) -> set:
        """Nodes that lose the core; the naive engine is the reference for tests and benchmark."""
        failed_edges, failed_nodes = set(failed_edges), set(failed_nodes)
        if naive:
            return naive_cut_off(self.graph, self.sources, failed_edges, failed_nodes, self.reachable)
        if not failed_nodes:
            cut = self.tree.cut_by_edges(failed_edges, self.search.edge_ends)
            if cut is not None:
                return cut
        if not failed_edges and len(failed_nodes) == 1:
            return set(self.tree.cut_by_node(next(iter(failed_nodes))))
        return self.search.cut_off(failed_edges, failed_nodes)

    @cached_property
    def nodes_of_site(self) -> dict[int, list]:
        """Site -> its nodes on this layer (devices, building entries, its cable end)."""
        nodes: dict[int, list] = defaultdict(list)
        for node, site in self.site_of.items():
            nodes[site].append(node)
        return dict(nodes)

    @cached_property
    def nodes_of_device(self) -> dict:
        nodes: dict = defaultdict(list)
        for node, device in self.device_of.items():
            nodes[node if device is None else device].append(node)
        return dict(nodes)

    def device(self, node):
        """The device a logical node stands for (the node itself on other layers)."""
        device = self.device_of.get(node)
        return node if device is None else device

    def nodes_for(self, devices: Iterable) -> set:
        """The graph nodes that fail with these devices."""
        return {n for d in devices for n in self.nodes_of_device.get(d, ())}

    def devices_in(self, nodes: Iterable, among: frozenset | None = None) -> set:
        """The devices (``among`` these, if given) some of these nodes stand for, and none of
        the others reached."""
        nodes = set(nodes)
        devices = {self.device(n) for n in nodes}
        if among is not None:
            devices &= among
        return {d for d in devices
                if all(n in nodes or n not in self.reachable for n in self.nodes_of_device[d])}

    @property
    def sites_present(self):
        """Sites with at least one node on this layer."""
        return self.nodes_of_site.keys()

    def unreachable_sites(self) -> set[int]:
        """Sites with nodes on this layer of which none reaches the core."""
        return self.sites_present - set(self.site_node_count) - self.core_sites

    @cached_property
    def single_homed_sites(self) -> dict[int, Hashable]:
        """Reachable sites that one edge failure cuts off: site -> that edge (the bridge
        nearest the core, common to the core paths of all the site's nodes)."""
        top: dict[int, set] = defaultdict(set)
        for node in self.reachable:
            site = self.site_of.get(node)
            if site is not None and site not in self.core_sites:
                top[site].add(self.tree.top_bridge.get(node))
        return {site: next(iter(b)) for site, b in top.items() if len(b) == 1 and None not in b}


@dataclass(frozen=True)
class FailureSet:
    """Elements failing at the same time (an excavator, a flooded manhole, a dead switch)."""

    trenches: frozenset[int] = frozenset()
    nodes: frozenset[int] = frozenset()
    cables: frozenset[int] = frozenset()
    devices: frozenset[int] = frozenset()
    links: frozenset[int] = frozenset()
    closures: frozenset[int] = frozenset()
    splitters: frozenset[int] = frozenset()  # a PON splitter (its homes; nothing else runs through it)


class Network:
    """Inventory rows plus the layer graphs and indexes every audit shares (built once)."""

    @gc_paused()
    def __init__(self, inv: Inventory, config: AuditConfig | None = None):
        self.inv = inv
        self.config = config or AuditConfig()
        planned = self.config.include_planned
        self.sites = {s.id: s for s in inv.sites if in_scope(s.status, planned)}
        self.core_sites = {s.id for s in self.sites.values() if str(s.kind) == SiteKind.CORE}
        self.cable_paths = cable_paths(inv.cable_segments)  # cable -> its trench segments, in order
        self.logical_graph = logical_from(inv, include_planned=planned, paths=self.cable_paths)
        live_cables, live_segments = live_plant(self.logical_graph)
        self.cable_graph = cable_from(inv, include_planned=planned, carrying=live_cables, paths=self.cable_paths)
        # each graph's edges walked once (a networkx edge view costs a Python call per edge)
        self.cable_ends = {k: (u, v) for u, v, k in self.cable_graph.edges(keys=True)}
        cable_nodes = self.cable_graph.nodes
        closure_nodes = frozenset(  # the manholes where live cables are spliced
            cable_nodes[end]["node_id"] for k, ends in self.cable_ends.items()
            if k in live_cables for end in ends if end[0] == "closure")
        self.physical_graph = physical_from(inv, include_planned=planned, carrying=live_segments,
                                            holding=closure_nodes)
        in_graph = {k for _, _, k in self.physical_graph.edges(keys=True)}
        self.segments = {s.id: s for s in inv.segments if s.id in in_graph}
        self.route_nodes = {n.id: n for n in inv.nodes if n.id in self.physical_graph}
        self.cables = {c.id: c for c in inv.cables if c.id in self.cable_ends}
        self.closures = {c.id: c for c in inv.closures if ("closure", c.id) in self.cable_graph}
        self.devices = {d.id: d for d in inv.devices if d.id in self.logical_graph}
        self.links: dict[int, dict] = {}  # link id -> its edge data
        self.link_ends: dict[int, tuple[int, int]] = {}
        for u, v, k, data in self.logical_graph.edges(keys=True, data=True):
            self.links[k] = data
            self.link_ends[k] = (u, v)
        # trench segment -> the links it takes down, one frozenset per distinct set: the
        # consecutive segments of a route share it, and its hash, as a key of the memo
        interned: dict[frozenset, frozenset] = {}
        self.trench_links: dict[int, frozenset[int]] = {
            trench: interned.setdefault(links, links)
            for trench, links in ((t, frozenset(ls)) for t, ls in shared_risk_groups(self.logical_graph).items())}
        self.memo: dict = {}  # results several audits share (the criticality ranking)
        self._closure_links: dict[int, frozenset[int]] = {}
        links_by_cable: dict[int, set[int]] = defaultdict(set)
        for link_id, data in self.links.items():
            for cable_id in data["cable_ids"]:
                links_by_cable[cable_id].add(link_id)
        # interned with the trenches' sets: a cable usually fails what its trenches do, and the
        # memo then finds the answer by the set's identity, its hash already known
        self.links_by_cable: dict[int, frozenset[int]] = {
            cable: interned.setdefault(links, links)
            for cable, links in ((c, frozenset(ls)) for c, ls in links_by_cable.items())}

    # -- layers -----------------------------------------------------------------------
    @gc_paused()
    def _layer(self, name: str, graph: nx.MultiGraph, sources: list | None = None) -> Layer:
        # a business line's NTU is its company's, not its serving site's: it neither keeps the
        # site connected nor is counted with it (``topology.customers``)
        site_of = {n: d["site_id"] for n, d in graph.nodes(data=True)
                   if d["site_id"] in self.sites and d.get("role") != DeviceRole.NTU}
        if sources is None:
            sources = [n for n, s in site_of.items() if s in self.core_sites]
        return Layer(name, graph, sources, site_of, self.core_sites)

    @cached_property
    def physical(self) -> Layer:
        return self._layer("physical", self.physical_graph)

    @cached_property
    def cable(self) -> Layer:
        return self._layer("cable", self.cable_graph)

    @cached_property
    def logical(self) -> Layer:
        if self.config.transit:
            return self._layer("logical", self.logical_graph)
        customers = {s for s, row in self.sites.items() if str(row.kind) in CUSTOMER_KINDS}
        graph = without_transit(self.logical_graph, customers)
        routers = {d.site_id for d in self.devices.values()
                   if d.site_id in self.core_sites and str(d.role) == "core_router"}
        sources = [n for n, data in graph.nodes(data=True) if data["site_id"] in self.core_sites
                   and data["role"] != DeviceRole.NTU
                   and (data["site_id"] not in routers or data["role"] == "core_router")]
        return self._layer("logical", graph, sources)

    # -- the service view: failures of any layer mapped onto logical links ------------------
    def links_failed_by(self, failure: FailureSet) -> set[int]:
        links = set(failure.links)
        for trench in failure.trenches:
            links |= self.trench_links.get(trench, NO_LINKS)
        for node in failure.nodes:
            links |= self.node_links(node)
        for closure in failure.closures:
            links |= self.closure_links(closure)
        for cable in failure.cables:
            links |= self.links_by_cable.get(cable, NO_LINKS)
        return links

    def node_links(self, node: int) -> set[int]:
        """The links a route node takes down: those of its trench segments and closures."""
        links: set[int] = set()
        for keys in self.physical.adj.get(node, {}).values():
            for trench in keys:
                links |= self.trench_links.get(trench, NO_LINKS)
        for closure in self.closures_at.get(node, ()):
            links |= self.closure_links(closure)
        return links

    def closure_links(self, closure: int) -> frozenset[int]:
        """The links a closure takes down: those of the cables spliced in it (worked out once
        per closure: the ranking asks it for every route node holding the closure, spof again)."""
        links = self._closure_links.get(closure)
        if links is None:
            found: set[int] = set()
            for keys in self.cable.adj.get(("closure", closure), {}).values():
                for cable in keys:
                    found |= self.links_by_cable.get(cable, NO_LINKS)
            links = self._closure_links[closure] = frozenset(found)
        return links

    def element_links(self, kind: str, ident) -> frozenset[int]:
        """The links one element's failure takes down (``links_failed_by`` of ``failure_of``,
        without building the failure: the ranking asks it of half a million elements)."""
        if kind == "trench":
            return self.trench_links.get(ident, NO_LINKS)
        if kind == "node":
            return frozenset(self.node_links(ident))
        if kind == "closure":
            return self.closure_links(ident)
        if kind == "cable":
            return self.links_by_cable.get(ident, NO_LINKS)
        if kind == "link":
            return frozenset({ident})
        return NO_LINKS  # a device or a splitter fails no link of its own

    def element_loss(self, kind: str, ident, *, naive: bool = False,
                     links: frozenset[int] | None = None) -> tuple[frozenset[int], CustomerLoss]:
        """``loss_of(failure_of(kind, ident))`` for one trench, node, closure, cable, link,
        device or splitter, with the failure's links (``element_links``, if known) and
        customers looked up directly."""
        if naive:
            return self.loss_of(self.failure_of(kind, ident), naive=True)
        if links is None:
            links = self.element_links(kind, ident)
        devices = frozenset({ident}) if kind == "device" else NO_LINKS
        sites, lost_devices = self.service_loss(links, devices)
        return sites, self.customers.lost(((kind, ident),), links, lost_devices)

    def failure_of(self, kind: str, ident) -> FailureSet:
        """One element failing: a trench, node, cable, closure, device, link or splitter, or
        a cable-graph node (``cable_end``: a closure, or a site's cable end, which takes every
        cable ending there)."""
        if kind == "cable_end":
            end_kind, end_id = ident
            if end_kind == "closure":
                return FailureSet(closures=frozenset({end_id}))
            return FailureSet(cables=frozenset(k for keys in self.cable.adj[ident].values() for k in keys))
        return FailureSet(**{FAILURE_FIELDS[kind]: frozenset({ident})})

    def node_element(self, layer: str, node) -> tuple[str, Hashable]:
        """A layer graph's node as the element that fails: a device, a route node, a closure,
        or a site's cable end (``cable_end``, every cable ending there)."""
        node_kind, _ = LAYER_KINDS[layer]
        if node_kind == "device":
            return "device", self.logical.device(node)
        if node_kind == "cable_end" and node[0] == "closure":
            return "closure", node[1]
        return node_kind, node

    def service_lost_by(self, layer: str, *, edge=None, node=None) -> frozenset[int]:
        """Sites that lose service when one element (an edge or a node) of a layer's graph fails."""
        kind, ident = (LAYER_KINDS[layer][1], edge) if node is None else self.node_element(layer, node)
        return frozenset(self.loss_of(self.failure_of(kind, ident))[0])

    def loss_of(self, failure: FailureSet, *, naive: bool = False):
        """(sites, ``CustomerLoss``) that lose service when everything in ``failure`` fails."""
        links = frozenset(self.links_failed_by(failure))
        sites, devices = self.service_loss(links, failure.devices, naive=naive)
        return sites, self.customers.lost_by(failure, links, devices)

    @cached_property
    def closures_at(self) -> dict[int, list[int]]:
        """Route node -> the splice closures in it."""
        closures: dict[int, list[int]] = defaultdict(list)
        for closure in self.closures.values():
            closures[closure.node_id].append(closure.id)
        return closures

    def sites_lost(self, links: frozenset, devices: frozenset = frozenset(), *, naive: bool = False) -> frozenset[int]:
        """Sites cut off when these links and devices fail."""
        return self.service_loss(links, devices, naive=naive)[0]

    def service_loss(self, links: frozenset, devices: frozenset = frozenset(), *,
                     naive: bool = False) -> tuple[frozenset[int], frozenset[int]]:
        """(sites cut off, devices failed or cut off among those customers hang on) when
        these links and devices fail (memoised: many elements of a ranking fail the same
        links, e.g. consecutive trench segments of one route; only the customers' devices are
        kept, the rest would be memory for nothing)."""
        # a device's own failure is asked once (by the ranking): not kept
        memoise = not naive and not devices
        key = ("lost", links, devices)
        if memoise and key in self.memo:
            return self.memo[key]
        failed = self.logical.nodes_for(devices) if devices else set()
        cut = self.logical.cut_off(links, failed, naive=naive)
        watched = self.customers.watched_devices
        answer = (frozenset(self.logical.lost_sites(cut, failed)),
                  frozenset(self.logical.devices_in(cut, watched)) | (devices & watched))
        if memoise:
            self.memo[key] = answer
        return answer

    @cached_property
    def devices_reached(self) -> frozenset:
        """Devices that reach the core with nothing failed."""
        return frozenset(self.logical.device(n) for n in self.logical.reachable)

    @cached_property
    def customers(self):
        """The companies and homes the network serves (``topology.customers``)."""
        from topology.customers import Customers

        return Customers(self)

    def service_cut(self, failure: FailureSet, *, naive: bool = False) -> tuple[set, set[int]]:
        """(devices cut off, sites cut off) when everything in ``failure`` fails at once."""
        failed = self.logical.nodes_for(failure.devices)
        cut = self.logical.cut_off(self.links_failed_by(failure), failed, naive=naive)
        return self.logical.devices_in(cut) - set(failure.devices), self.logical.lost_sites(cut, failed)

    def physical_cut(self, failure: FailureSet) -> set[int]:
        """Sites whose building entries lose every trench route to a PoP."""
        cut = self.physical.cut_off(failure.trenches, failure.nodes)
        return self.physical.lost_sites(cut, failure.nodes)

    # -- naming -------------------------------------------------------------------------
    def weight_of(self, site_ids: Iterable[int]) -> float:
        if not site_ids:
            return 0.0
        return sum(self.config.weight(str(self.sites[s].kind)) for s in site_ids)

    def impact_weight(self, site_ids: Iterable[int], customers=None, site_weight: float | None = None) -> float:
        """Weight of the sites and of the customers (a ``CustomerLoss``) cut off
        (``site_weight``: ``weight_of(site_ids)``, if known)."""
        if site_weight is None:
            site_weight = self.weight_of(site_ids)
        if not customers:
            return site_weight
        return round(site_weight + self.customers.weight(customers), 9)

    def site_codes(self, site_ids: Iterable[int]) -> tuple[str, ...]:
        if not site_ids:
            return ()
        return tuple(sorted(self.sites[s].code for s in site_ids))

    def site_criticality(self, site_id: int) -> str:
        site = self.sites[site_id]
        return str(site.criticality or DEFAULT_CRITICALITY[SiteKind(str(site.kind))])

    def impact_severity(self, site_ids: Iterable[int], customers=None, weight: float | None = None) -> Severity:
        """The severity of cutting off these sites and ``customers`` (a ``CustomerLoss``;
        ``weight`` if known): ``topology.findings.impact_severity``, the audits' one rule."""
        if weight is None:
            weight = self.impact_weight(site_ids, customers)
        classes, homes, pons = self.customers.severity_terms(customers) if customers else ((), 0, 0)
        return impact_severity([self.site_criticality(s) for s in site_ids], classes, homes, pons, weight,
                               self.config.critical_weight)

    def name(self, kind: str, ident) -> str:
        """The code (a device's name) of a trench, route node or device, else of ``ref``."""
        if kind == "trench":
            return self.segments[ident].code
        if kind == "node":
            return self.route_nodes[ident].code
        if kind == "device":
            return self.devices[ident].name
        return self.ref(kind, ident).code

    def ref(self, kind: str, ident) -> ElementRef:
        """An ``ElementRef`` for a graph element of any layer."""
        if kind in ("trench", "node", "device"):
            return ElementRef(kind, ident, self.name(kind, ident))
        if kind == "link":
            return ElementRef("link", ident, self.links[ident]["code"])
        if kind == "cable":
            return ElementRef("cable", ident, self.cables[ident].code)
        if kind == "cable_end":  # a cable-graph node: ("site", id) or ("closure", id)
            end_kind, end_id = ident
            return ElementRef(end_kind, end_id, self.cable_graph.nodes[ident]["code"])
        if kind == "site":
            return ElementRef("site", ident, self.sites[ident].code)
        if kind == "closure":
            return ElementRef("closure", ident, self.closures[ident].code)
        if kind == "splitter":
            return ElementRef("splitter", ident, self.customers.splitters[ident].code)
        raise ValueError(f"unknown element kind {kind!r}")


def audit_network(session: Session, config: AuditConfig | None = None) -> Network:
    """The network of the inventory in ``session`` as the audits read it: with the trench
    geometry, which the consistency audit measures each segment's recorded length against
    (a network loaded without it skips that check and misses the length-mismatch finding).
    ``netops audit``, the report and the exporter's audit gauges all take it from here, so
    their findings agree."""
    return Network(load_inventory(session, geometry=True), config)


NO_LINKS: frozenset = frozenset()

#: the ``FailureSet`` field of each kind of element
FAILURE_FIELDS = {"trench": "trenches", "node": "nodes", "cable": "cables", "closure": "closures",
                  "device": "devices", "link": "links", "splitter": "splitters"}

# what a layer's graph nodes and edge keys are, as element kinds
LAYER_KINDS = {
    "physical": ("node", "trench"),
    "cable": ("cable_end", "cable"),
    "logical": ("device", "link"),
}

