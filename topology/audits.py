"""The resilience audits: what breaks the city's network, and what is only one cut away.

Every audit is a function of a ``Network`` returning typed records; ``run_audits`` gathers
the findings of several into one ``AuditReport``. The service view (logical links over the
trenches they run through) decides what a trench or manhole failure really cuts off;
the physical and cable layers add what the plant itself allows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from netops.errors import NetopsError, NotFoundError
from netops.geo import line_length_m
from netops.vocabulary import did_you_mean
from topology.customers import NO_LOSS, CustomerLoss
from topology.findings import AuditReport, ElementRef, Finding, Severity
from topology.gc_pause import gc_paused
from topology.network import CUSTOMER_KINDS, FAILURE_FIELDS, LAYER_KINDS, FailureSet, Network
from topology.pon import pon_findings
from topology.rows import in_scope
from topology.risk import plant_risk_groups


# -- 1. reachability --------------------------------------------------------------------
def reachability(net: Network) -> list[Finding]:
    """Sites and devices with no path to any core PoP (logical), and sites whose building
    entries have no trench route to any PoP (physical)."""
    findings = []
    for site in sorted(net.logical.unreachable_sites(), key=lambda s: net.sites[s].code):
        findings.append(Finding(
            "reachability", Severity.CRITICAL, "logical", "site has no path to any core PoP",
            (net.ref("site", site),), net.site_codes([site]), net.weight_of([site])))
    lost_sites = net.logical.unreachable_sites()
    reached = {net.logical.device(n) for n in net.logical.reachable}
    if not net.config.transit:  # a customer's devices reach the core through its site's uplinks
        reached |= {d for d, row in net.devices.items()
                    if row.site_id in net.logical.site_node_count and str(net.sites[row.site_id].kind) in CUSTOMER_KINDS}
    stray = [d for d in net.logical_graph if d not in reached and net.devices[d].site_id not in lost_sites]
    for device in sorted(stray, key=lambda d: net.devices[d].name):
        site = net.devices[device].site_id
        findings.append(Finding(
            "reachability", Severity.WARNING, "logical", "device has no path to any core PoP",
            (net.ref("device", device),), net.site_codes([site]) if site in net.sites else ()))
    for site in sorted(net.physical.unreachable_sites(), key=lambda s: net.sites[s].code):
        findings.append(Finding(
            "reachability", Severity.WARNING, "physical", "building entry has no trench route to any PoP",
            (net.ref("site", site),), net.site_codes([site]), net.weight_of([site])))
    return findings


# -- 2. single points of failure ----------------------------------------------------------
def customer_fields(net: Network, loss: CustomerLoss) -> dict:
    """The customer columns of a finding: companies, homes, buildings, PONs."""
    if not loss:
        return {}
    customers = net.customers
    return {"companies": customers.company_codes(loss), "residential_units": customers.units(loss.onts),
            "buildings": customers.building_codes(loss), "pons": customers.pons(loss)}


def _impact(net: Network, sites: set[int], loss: CustomerLoss) -> dict:
    """Severity, site codes, weight and customer columns of what a failure cuts off."""
    weight = net.impact_weight(sites, loss)
    return {"severity": net.impact_severity(sites, loss, weight), "sites": net.site_codes(sites), "weight": weight,
            **customer_fields(net, loss)}


def single_points_of_failure(net: Network) -> list[Finding]:
    """Cut edges and cut nodes of every layer that cut sites off (beyond their own site), and
    every element whose failure alone cuts customers off (companies, homes).
    The sites a finding names are those its elements cut off on their own layer (building
    entries without a trench route, cable ends without a cable path) together with those
    that lose service (as ``rank`` and ``cut`` count them: a hotspot radio-meshed behind a
    spur is lost with it although no trench of its own runs there). Elements that cut off
    the same sites and customers form one finding: a spur of five trench segments, its cable
    and the link over it are one weakness, not seven.

    Severity is the audits' one rule (``topology.findings.impact_severity``): a PON is a tree
    by design, so a finding that cuts off only homes of one PON (one OLT port), or of several
    PONs' feeder up to ``PON_TREE_BY_DESIGN_MAX_HOMES`` homes, is information and by design
    (listed with ``--all``, like a hotspot's spur); more homes on one element are a warning,
    a mass outage critical."""
    by_impact: dict[tuple[frozenset, CustomerLoss], list[tuple[str, ElementRef]]] = defaultdict(list)
    seen = set()
    # what the ranking has answered already (trenches, route nodes, devices) is not asked again
    ranking = criticality_ranking(net)
    ranked: dict[str, dict[int, RankedElement]] = {"trench": {}, "node": {}, "device": {}}
    for element in ranking:
        ranked[element.kind][element.id] = element

    def loss_of(kind: str, ident) -> tuple[frozenset, CustomerLoss]:
        element = ranked[kind].get(ident) if kind in ranked else None
        if element is not None:
            return element.site_ids, element.customers
        if kind in FAILURE_FIELDS:
            return net.element_loss(kind, ident)
        return net.loss_of(net.failure_of(kind, ident))

    for layer in (net.physical, net.cable, net.logical):
        node_kind, edge_kind = LAYER_KINDS[layer.name]
        tree = layer.tree
        for key in tree.bridge_child:
            lost = layer.lost_sites(tree.cut_by_edge(key))
            if lost:
                sites, loss = loss_of(edge_kind, key)
                by_impact[frozenset(lost | sites), loss].append((layer.name, net.ref(edge_kind, key)))
                seen.add((edge_kind, key))
        for node in tree.cut_children:
            own_site = layer.site_of.get(node)
            lost = layer.lost_sites(tree.cut_by_node(node), [node]) - {own_site}
            if lost:
                kind, ident = net.node_element(layer.name, node)
                sites, loss = loss_of(kind, ident)
                by_impact[frozenset(lost | sites - {own_site}), loss].append((layer.name, net.ref(kind, ident)))
                seen.add((kind, ident))
    layer_of = {"trench": "physical", "node": "physical", "cable": "cable", "closure": "cable", "link": "logical",
                "device": "logical", "splitter": "pon"}
    # a PoP's building entries are the core of the physical layer (never its cut vertices), yet
    # every cable into the PoP runs through one of them: what one cuts off in service is a finding
    pop_entries = {n for n, site in net.physical.site_of.items() if site in net.core_sites}
    # only an element that cuts customers off (or a PoP's entry cutting sites off) can be a
    # finding here: the ranking has that answer, the other kinds are asked only when they can
    candidates = [(e.kind, e.id, e.site_ids, e.customers) for e in ranking
                  if e.customers or (e.site_ids and e.kind == "node" and e.id in pop_entries)]
    # (an element a layer's bridge or cut vertex is a finding of already is not asked again)
    candidates += [(kind, ident, *loss_of(kind, ident)) for kind, ident in _may_cut_customers_off(net)
                   if (kind, ident) not in seen]
    for kind, ident, sites, loss in candidates:
        if (kind, ident) in seen:
            continue
        loss = net.customers.beyond_own_access(kind, ident, loss)
        if loss or (sites and kind == "node" and ident in pop_entries):
            own_site = net.physical.site_of.get(ident) if kind == "node" else (
                net.devices[ident].site_id if kind == "device" else None)
            by_impact[frozenset(sites - {own_site}), loss].append((layer_of[kind], net.ref(kind, ident)))
    findings = []
    for (lost, loss), elements in by_impact.items():
        layers = sorted({layer for layer, _ in elements})
        refs = tuple(sorted((ref for _, ref in elements), key=lambda r: (r.kind, r.code)))
        impact = _impact(net, set(lost), loss)
        cut_off = [f"{len(lost)} site(s)"] if lost else []
        if loss.companies:
            cut_off.append(f"{len(loss.companies)} compan{'y' if len(loss.companies) == 1 else 'ies'}")
        if loss.onts:
            cut_off.append(f"{impact['residential_units']} home(s) on {impact['pons']} PON(s)")
        findings.append(Finding(
            "spof", layer=",".join(layers), title="single point of failure", elements=refs,
            detail=f"each of these {len(refs)} element(s) alone cuts off {' and '.join(cut_off)}", **impact))
    return findings


def _may_cut_customers_off(net: Network) -> Iterator[tuple[str, int]]:
    """The cables, closures, links and splitters whose failure alone may cut customers off
    (``Customers.lost``): those a home's PON hangs on, and those taking down some link (a
    link: one that is a bridge of the service graph, so its failure can cut devices off, or
    one a company's line rides or an NTU is patched over)."""
    customers, tree = net.customers, net.logical.tree
    feeding = customers.feeding
    for cable in net.cables:
        if ("cable", cable) in feeding or net.links_by_cable.get(cable):
            yield "cable", cable
    for closure in net.closures:
        if ("closure", closure) in feeding or net.closure_links(closure):
            yield "closure", closure
    for link in net.links:
        if link in tree.bridge_child or link in customers.companies_on_link or link in customers.patched_by_link:
            yield "link", link
    for splitter in customers.splitters:
        if ("splitter", splitter) in feeding:
            yield "splitter", splitter


# -- 3. path diversity -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SiteDiversity:
    """Disjoint paths to the core, counted 0, 1 or 2 (meaning two or more).

    ``logical_paths``: edge-disjoint device paths (links). ``physical_paths``: trench-disjoint
    routes from the building entry (None: the site has no entry node). ``trench_cuts``:
    trench segments that alone take the site down, because every path it has runs
    through them (empty means the site survives any single trench cut)."""

    site: str
    kind: str
    logical_paths: int
    physical_paths: int | None
    trench_cuts: tuple[str, ...]


def _paths(layer, site_id: int) -> int | None:
    if site_id not in layer.sites_present:
        return None
    if site_id not in layer.site_node_count:
        return 0
    return 1 if site_id in layer.single_homed_sites else 2


def trench_cuts(net: Network) -> dict[int, frozenset[int]]:
    """Trench segment -> sites its cut takes down (the service view), every trench at once."""
    return {e.id: e.site_ids for e in criticality_ranking(net) if e.kind == "trench" and e.site_ids}


def path_diversity(net: Network) -> list[SiteDiversity]:
    cuts_of_site: dict[int, list[str]] = defaultdict(list)
    for trench, sites in trench_cuts(net).items():
        for site in sites:
            cuts_of_site[site].append(net.segments[trench].code)
    rows = []
    for site_id in sorted(net.logical.sites_present - net.core_sites, key=lambda s: net.sites[s].code):
        site = net.sites[site_id]
        rows.append(SiteDiversity(site.code, str(site.kind), _paths(net.logical, site_id),
                                  _paths(net.physical, site_id), tuple(sorted(cuts_of_site[site_id]))))
    return rows


def shared_risks(net: Network) -> list[Finding]:
    """Sites with two or more disjoint logical paths that one trench cut, or one manhole
    (cabinet, junction) failure, still takes down: their "redundant" links share it.
    Elements defeating the same sites' redundancy (consecutive segments of one shared
    route) form one finding. A site's own building entry is not counted against it."""
    single = net.logical.single_homed_sites
    by_sites: dict[tuple[str, frozenset], list[int]] = defaultdict(list)
    for element in criticality_ranking(net):
        if element.kind not in ("trench", "node") or not element.site_ids:
            continue
        own_site = net.physical.site_of.get(element.id) if element.kind == "node" else None
        redundant = frozenset(s for s in element.site_ids if s not in single and s != own_site)
        if redundant:
            by_sites[element.kind, redundant].append(element.id)
    findings = []
    for (kind, sites), idents in by_sites.items():
        site_devices = {net.logical.device(n) for s in sites for n in net.logical.nodes_of_site[s]}
        failure = FailureSet(**{"trenches" if kind == "trench" else "nodes": frozenset(idents)})
        shared_links = {link for link in net.links_failed_by(failure) if site_devices & set(net.link_ends[link])}
        refs = tuple(sorted((net.ref(kind, i) for i in idents), key=lambda r: r.code))
        refs += tuple(net.ref("link", link) for link in sorted(shared_links, key=lambda k: net.links[k]["code"]))
        where = "trench" if kind == "trench" else "route node"
        findings.append(Finding(
            f"shared_{kind}", net.impact_severity(set(sites)), "service",
            f"redundant links share a {where}: one failure takes down every path",
            refs, net.site_codes(sites), net.weight_of(sites),
            detail=f"{len(shared_links)} link(s) of these sites depend on each of {len(idents)} {where}(s)"))
    return findings + _shared_groups(net)


def _shared_groups(net: Network) -> list[Finding]:
    """Shared risks of several elements at once (``topology.risk``, the planner's rule too):
    two trenches in one street corridor, the route nodes of one building. Sites one of
    the elements takes down alone are reported above already."""
    single = net.logical.single_homed_sites
    alone = {(e.kind, e.id): e.site_ids for e in criticality_ranking(net) if e.kind in ("trench", "node")}
    groups = plant_risk_groups({s.id: (s.geometry, s.a_node_id, s.b_node_id) for s in net.segments.values()},
                               {n.id: (n.lat, n.lon, n.site_id) for n in net.route_nodes.values()})
    findings = []
    for group, members in groups:
        kind = "trench" if group == "corridor" else "node"
        _, lost = net.service_cut(FailureSet(**{"trenches" if kind == "trench" else "nodes": members}))
        own = {net.physical.site_of.get(m) for m in members} if kind == "node" else set()
        before = set().union(*(alone.get((kind, m), ()) for m in members))
        sites = {s for s in lost if s not in single and s not in own and s not in before}
        if sites:
            what = "street corridor (trenches within 5 m)" if group == "corridor" else "building"
            findings.append(Finding(
                f"shared_{group}", net.impact_severity(sites), "service",
                f"redundant links share a {what}: one failure takes down every path",
                tuple(sorted((net.ref(kind, m) for m in members), key=lambda r: r.code)),
                net.site_codes(sites), net.weight_of(sites)))
    return findings


# -- 4. blast radius and criticality ranking ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class RankedElement:
    kind: str  # trench, node or device
    id: int
    code: str
    weight: float  # of the sites and customers cut off
    site_ids: frozenset[int]
    sites: tuple[str, ...]
    customers: CustomerLoss = NO_LOSS


def ranked_elements(net: Network) -> list[tuple[str, int]]:
    """What the criticality ranking ranks: every trench segment, route node and device."""
    return ([("trench", t) for t in net.segments] + [("node", n) for n in net.route_nodes]
            + [("device", d) for d in net.devices])


@gc_paused()
def criticality_ranking(net: Network, *, naive: bool = False,
                        elements: list[tuple[str, int]] | None = None) -> list[RankedElement]:
    """Every trench segment, route node and device (or just ``elements``), by the weighted
    sites and customers its failure alone cuts off (service view), worst first.

    Fast engine: one low-link DFS per layer (``CutTree``) gives the bridges, cut vertices and
    2-edge-connected components; a failure whose links are bridges, or non-bridges in
    distinct components, is answered from it directly (a device failure too). Only a
    shared-risk group, two or more of the failed links in one component, goes to the local
    failure search around it; trenches carrying the same set of links (consecutive segments
    of the same routes) are answered once. ``naive=True`` removes each
    element and searches the whole network again: the reference for tests and benchmark.
    """
    key = ("ranking", naive)
    if elements is None and key in net.memo:
        return net.memo[key]

    ranking = []
    # weight and codes of each answer's sites, computed once: many elements share an answer
    # (the memo of ``Network.service_loss`` returns the same object)
    impact: dict[int, tuple[frozenset, float, tuple[str, ...]]] = {}
    # a trench or route node no home's PON hangs on loses what its links do: consecutive
    # segments of a route and the nodes between them fail the same links (the trenches' sets
    # interned), so the whole answer, weight and codes too, is worked out once per set
    feeding = net.customers.feeding
    by_links: dict[frozenset, tuple[frozenset, CustomerLoss, float, tuple[str, ...]]] = {}
    for kind, ident in ranked_elements(net) if elements is None else elements:
        links = net.element_links(kind, ident) if kind in ("trench", "node") and not naive \
            and (kind, ident) not in feeding else None
        answer = by_links.get(links) if links is not None else None
        if answer is None:
            sites, loss = net.element_loss(kind, ident, naive=naive, links=links)
            known = impact.get(id(sites))
            if known is None or known[0] is not sites:
                known = impact[id(sites)] = sites, net.weight_of(sites), net.site_codes(sites)
            _, weight, codes = known
            if loss:
                weight = net.impact_weight(sites, loss, site_weight=weight)
            answer = sites, loss, weight, codes
            if links is not None:
                by_links[links] = answer
        sites, loss, weight, codes = answer
        ranking.append(RankedElement(kind, ident, net.name(kind, ident), weight, sites, codes, loss))
    ranking = _worst_first(ranking)
    if elements is None:
        net.memo[key] = ranking
    return ranking


def _worst_first(ranking: list[RankedElement]) -> list[RankedElement]:
    """``sorted(ranking, key=(-weight, -number of sites, kind, code))``, as one stable numpy
    lexsort over arrays: at 100x a Python sort compares ~620,000 key tuples, mostly down to
    the code (most weights tie). Codes are ranked once per kind, as plain strings."""
    kinds = sorted({e.kind for e in ranking})
    name_rank = np.empty(len(ranking), dtype=np.int64)
    for kind_rank, kind in enumerate(kinds):
        members = [i for i, e in enumerate(ranking) if e.kind == kind]
        by_code = sorted(range(len(members)), key=[ranking[i].code for i in members].__getitem__)
        ranked = np.empty(len(members), dtype=np.int64)
        ranked[by_code] = np.arange(len(members))
        name_rank[members] = kind_rank * len(ranking) + ranked
    weights = np.fromiter((e.weight for e in ranking), dtype=np.float64, count=len(ranking))
    sizes = np.fromiter((len(e.site_ids) for e in ranking), dtype=np.int64, count=len(ranking))
    order = np.lexsort((name_rank, -sizes, -weights))
    return [ranking[i] for i in order.tolist()]


@dataclass(frozen=True, slots=True)
class BlastRadius:
    """What loses its connection to the core when all of ``failed`` fail at once."""

    failed: tuple[ElementRef, ...]
    links_down: tuple[str, ...]
    devices_cut: tuple[str, ...]
    sites_cut: tuple[str, ...]
    sites_by_kind: dict[str, int]
    hotspots_cut: int
    weight: float  # of the sites and customers cut off
    physically_isolated: tuple[str, ...]  # sites whose building entries lose every trench route
    companies_cut: tuple[str, ...] = ()
    residential_units_cut: int = 0
    buildings_cut: tuple[str, ...] = ()
    pons_cut: int = 0
    severity: str = "info"  # of what is cut off: the audits' one rule (``Network.impact_severity``)


#: what ``netops audit cut`` can fail, in the order a bare code is looked up
FAILABLE_KINDS = ("trench", "node", "closure", "cable", "device", "link", "site", "splitter")


def _names_in_network(net: Network) -> dict[str, dict[str, int]]:
    return {
        "trench": {s.code: s.id for s in net.segments.values()},
        "node": {n.code: n.id for n in net.route_nodes.values()},
        "closure": {c.code: c.id for c in net.closures.values()},
        "cable": {c.code: c.id for c in net.cables.values()},
        "device": {d.name: d.id for d in net.devices.values()},
        "link": {data["code"]: k for k, data in net.links.items()},
        "site": {s.code: s.id for s in net.sites.values()},
        "splitter": {s.code: s.id for s in net.customers.splitters.values()},
    }


def _names_in_inventory(net: Network) -> dict[str, dict[str, str]]:
    """Every row's name -> its status, also the rows the audited network leaves out."""
    inv = net.inv
    return {
        "trench": {s.code: s.status for s in inv.segments},
        "node": {n.code: n.status for n in inv.nodes},
        "closure": {c.code: c.status for c in inv.closures},
        "cable": {c.code: c.status for c in inv.cables},
        "device": {d.name: d.status for d in inv.devices},
        "link": {k.code: k.status for k in inv.links},
        "site": {s.code: s.status for s in inv.sites},
        "splitter": {s.code: s.status for s in inv.splitters},
    }


def _not_found(net: Network, kinds: list[str], code: str, name: str) -> NotFoundError:
    """The one-line answer for a name the network does not have: why, or what was meant."""
    index = _names_in_network(net)
    elsewhere = [k for k in FAILABLE_KINDS if k not in kinds and code in index[k]]
    if elsewhere:
        return NotFoundError(f"no {kinds[0]} named {_cut(code)}: it is a {elsewhere[0]} "
                             f"(write {elsewhere[0]}:{code})")
    for kind, rows in _names_in_inventory(net).items():
        if kind in kinds and code in rows:
            planned = "; add --planned to count planned rows" if rows[code] == "planned" else ""
            unused = " and no live link runs through it" if kind in ("trench", "node", "closure", "cable") else ""
            return NotFoundError(f"{kind} {code!r} is {rows[code]}{unused}, so it is not part of the "
                                 f"audited network{planned}")
    hint = did_you_mean(code, {n for k in kinds for n in index[k]})
    return NotFoundError(f"no {_either(kinds)} named {_cut(name)}{hint}")


def _either(kinds: list[str]) -> str:
    return kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"


def _cut(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def resolve_failures(net: Network, names: Iterable[str]) -> tuple[FailureSet, tuple[ElementRef, ...]]:
    """Turn ``trench:T-12``, ``node:M-7``, ``closure:CL-2``, ``cable:C-3``, ``device:sw1``,
    ``link:L-9``, ``site:SCH-4`` (all its devices), ``splitter:SPL-1`` or a bare code that names exactly one
    element into the failure of all of them at once."""
    index = _names_in_network(net)
    chosen: dict[str, set[int]] = defaultdict(set)
    refs = []
    for name in names:
        prefix, _, rest = name.partition(":")
        kind, code = (prefix, rest) if prefix in index and rest else ("", name)
        kinds = [kind] if kind else [k for k in FAILABLE_KINDS if code in index[k]]
        if not kinds or code not in index[kinds[0]]:
            raise _not_found(net, kinds or list(FAILABLE_KINDS), code, name)
        if len(kinds) > 1:
            raise NetopsError(f"{_cut(name)} is ambiguous ({', '.join(kinds)}): write e.g. {kinds[0]}:{code}")
        ident = index[kinds[0]][code]
        chosen[kinds[0]].add(ident)
        refs.append(net.ref(kinds[0], ident))
    devices = set(chosen["device"])
    devices |= {d for d, data in net.devices.items() if data.site_id in chosen["site"]}
    failure = FailureSet(trenches=frozenset(chosen["trench"]), nodes=frozenset(chosen["node"]),
                         cables=frozenset(chosen["cable"]), devices=frozenset(devices),
                         links=frozenset(chosen["link"]), closures=frozenset(chosen["closure"]),
                         splitters=frozenset(chosen["splitter"]))
    return failure, tuple(refs)


def blast_radius(net: Network, failure: FailureSet, failed: tuple[ElementRef, ...] = ()) -> BlastRadius:
    devices, sites = net.service_cut(failure)
    links = net.links_failed_by(failure)
    loss = net.customers.lost_by(failure, links, devices | failure.devices)
    kinds = Counter(str(net.sites[s].kind) for s in sites)
    customers = customer_fields(net, loss)
    weight = net.impact_weight(sites, loss)
    return BlastRadius(
        failed=failed,
        links_down=tuple(sorted(net.links[k]["code"] for k in links)),
        devices_cut=tuple(sorted(net.devices[d].name for d in devices)),
        sites_cut=net.site_codes(sites),
        sites_by_kind=dict(sorted(kinds.items())),
        hotspots_cut=kinds.get("hotspot", 0),
        weight=weight,
        physically_isolated=net.site_codes(net.physical_cut(failure)),
        companies_cut=customers.get("companies", ()),
        residential_units_cut=customers.get("residential_units", 0),
        buildings_cut=customers.get("buildings", ()),
        pons_cut=customers.get("pons", 0),
        severity=net.impact_severity(sites, loss, weight).value,
    )


# -- 5. capacity ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CapacityRow:
    kind: str  # cable (strands) or trench (ducts)
    id: int
    code: str
    total: int
    used: int
    drop: bool = False  # a trench into one (non-PoP) building: when full, only that one is affected

    @property
    def free(self) -> int:
        return self.total - self.used

    @property
    def ratio(self) -> float:
        return self.used / self.total if self.total else 1.0


def capacity(net: Network) -> list[CapacityRow]:
    """Strands used per cable (distinct strands its link hops occupy) and ducts used per
    trench segment, fullest first."""
    strands: dict[int, set[int]] = defaultdict(set)
    for hop in net.inv.hops:
        if hop.link_id in net.links:
            strands[hop.cable_id].update((hop.strand_a, hop.strand_b))
    entries = {n for n, site in net.physical.site_of.items() if site not in net.core_sites}
    rows = [CapacityRow("cable", c.id, c.code, c.strands, len(strands[c.id])) for c in net.cables.values()]
    rows += [CapacityRow("trench", s.id, s.code, s.ducts_total, s.ducts_used,
                         drop=s.a_node_id in entries or s.b_node_id in entries)
             for s in net.segments.values()]
    return sorted(rows, key=lambda r: (-r.ratio, r.kind, r.code))


def capacity_findings(net: Network) -> list[Finding]:
    """Full cables and full trunk trenches block new connections (warning); a full building
    drop or a nearly full element is worth knowing (info)."""
    findings = []
    unit = {"cable": "strands", "trench": "ducts"}
    for row in capacity(net):
        if row.ratio < net.config.capacity_info_ratio:
            break  # sorted fullest first
        full = row.free <= 0
        what = "building drop" if row.drop else row.kind
        findings.append(Finding(
            "capacity", Severity.WARNING if full and not row.drop else Severity.INFO,
            "physical" if row.kind == "trench" else "cable",
            f"{what} {'full' if full else f'{row.ratio:.0%} used'}: {row.used}/{row.total} {unit[row.kind]} used",
            (ElementRef(row.kind, row.id, row.code),)))
    return findings


# -- 6. consistency ------------------------------------------------------------------------------
def consistency(net: Network) -> list[Finding]:
    return [*_cable_paths(net), *_link_paths(net), *_lengths(net), *_devices(net), *_sites(net),
            *_out_of_service_in_use(net)]


def _out_of_service_in_use(net: Network) -> list[Finding]:
    """Rows recorded out of service that live links still use (they stay in the failure
    model: a link is down when anything it runs through fails, whatever its status)."""
    planned = net.config.include_planned
    findings = []
    for kind, rows, how in (("trench", net.segments, "run through it"), ("node", net.route_nodes, "pass it"),
                            ("closure", net.closures, "are spliced in it"), ("cable", net.cables, "run over it")):
        for row in sorted((r for r in rows.values() if not in_scope(r.status, planned)), key=lambda r: r.code):
            findings.append(Finding("consistency", Severity.WARNING, "inventory",
                                    f"{kind} is {row.status} but live links {how}", (net.ref(kind, row.id),)))
    status_of_site = {s.id: s.status for s in net.inv.sites}
    for device in sorted((d for d in net.devices.values() if d.site_id not in net.sites), key=lambda d: d.name):
        # a site id no row has: written around the database's foreign key (SQLite without it)
        where = (f"at a site that is {status_of_site[device.site_id]}" if device.site_id in status_of_site
                 else f"at a site the inventory does not hold (site id {device.site_id})")
        findings.append(Finding("consistency", Severity.WARNING, "inventory", f"device is in service {where}",
                                (net.ref("device", device.id),)))
    return findings


def _cable_paths(net: Network) -> list[Finding]:
    findings = []
    paths = {k: data["segment_ids"] for _, _, k, data in net.cable_graph.edges(keys=True, data=True)}
    ends = {k: (u, v) for u, v, k in net.cable_graph.edges(keys=True)}
    entries: dict[int, set[int]] = defaultdict(set)  # site -> its building entries, whatever its status
    for node, site in net.physical_graph.nodes(data="site_id"):
        entries[site].add(node)

    def end_nodes(end: tuple[str, int]) -> set[int]:
        """Route nodes where a cable end lies: a closure's node, or a site's entry nodes."""
        kind, ident = end
        return {net.cable_graph.nodes[end]["node_id"]} if kind == "closure" else entries.get(ident, set())

    for cable_id, path in sorted(paths.items(), key=lambda item: net.cables[item[0]].code):
        problem = None
        if not path:
            problem = "cable runs through no trench segment"
        elif any(s not in net.segments for s in path):
            problem = "cable runs through a trench segment that is not in service"
        else:
            a, b = ends[cable_id]
            starts, goals = end_nodes(a), end_nodes(b)
            if not any(_walk(net, start, path) in goals for start in starts) and \
                    not any(_walk(net, start, path) in starts for start in goals):
                problem = "cable's trench segments do not form a route between its two ends"
        if problem:
            findings.append(Finding("consistency", Severity.WARNING, "cable", problem,
                                    (net.ref("cable", cable_id),)))
    return findings


def _walk(net: Network, start: int, path: tuple[int, ...]) -> int | None:
    """Follow segments from ``start``; the node reached, or None if they do not join up."""
    here = start
    for segment_id in path:
        seg = net.segments[segment_id]
        if here == seg.a_node_id:
            here = seg.b_node_id
        elif here == seg.b_node_id:
            here = seg.a_node_id
        else:
            return None
    return here


def _link_paths(net: Network) -> list[Finding]:
    findings = []
    for link_id, data in net.links.items():
        a, b = net.link_ends[link_id]
        site_a, site_b = net.devices[a].site_id, net.devices[b].site_id
        cable_ids = data["cable_ids"]
        if data["medium"] != "fibre" or (not cable_ids and site_a == site_b):
            continue
        if not cable_ids:
            problem = "fibre link between two sites has no cable path"
        elif any(c not in net.cable_ends for c in cable_ids):  # out of service, or an end site is
            problem = "fibre link runs over a cable that is not in service"
        elif not (_chain(net, cable_ids, ("site", site_a)) == ("site", site_b)
                  or _chain(net, cable_ids, ("site", site_b)) == ("site", site_a)):
            problem = "link's cable path does not connect the sites of its two ends"
        else:
            continue
        findings.append(Finding("consistency", Severity.CRITICAL, "logical", problem,
                                (net.ref("link", link_id),), net.site_codes({site_a, site_b} & net.sites.keys())))
    return findings


def _chain(net: Network, cable_ids: tuple[int, ...], start: tuple[str, int]):
    """Follow cables end to end from ``start``; the end reached, or None on a gap."""
    here = start
    for cable_id in cable_ids:
        a, b = net.cable_ends[cable_id]
        if here == a:
            here = b
        elif here == b:
            here = a
        else:
            return None
    return here


def _lengths(net: Network) -> list[Finding]:
    cfg = net.config
    findings = []
    for seg in net.segments.values():
        if len(seg.geometry) < 2:
            continue  # geometry not loaded
        measured = line_length_m(seg.geometry)
        if abs(seg.length_m - measured) > max(cfg.length_tolerance * measured, cfg.length_tolerance_m):
            findings.append(Finding(
                "consistency", Severity.WARNING, "physical",
                f"recorded length {seg.length_m:.0f} m disagrees with geometry {measured:.0f} m",
                (net.ref("trench", seg.id),)))
    return findings


def _devices(net: Network) -> list[Finding]:
    findings = []
    by_ip: dict[str, list[int]] = defaultdict(list)
    for device in net.devices.values():
        if device.mgmt_ip:
            by_ip[device.mgmt_ip].append(device.id)
        else:
            findings.append(Finding("consistency", Severity.WARNING, "inventory",
                                    "device has no management IP", (net.ref("device", device.id),),
                                    net.site_codes([device.site_id] if device.site_id in net.sites else [])))
    for ip, devices in by_ip.items():
        if len(devices) > 1:
            findings.append(Finding("consistency", Severity.CRITICAL, "inventory",
                                    f"management IP {ip} used by {len(devices)} devices",
                                    tuple(sorted((net.ref("device", d) for d in devices), key=lambda r: r.code))))
    return findings


def _sites(net: Network) -> list[Finding]:
    return [Finding("consistency", Severity.WARNING, "inventory", "site has no coordinates",
                    (net.ref("site", s.id),), (s.code,))
            for s in net.sites.values() if s.lat is None or s.lon is None]


# -- all together ---------------------------------------------------------------------------------
AUDITS: dict[str, Callable[[Network], list[Finding]]] = {
    "reachability": reachability,
    "spof": single_points_of_failure,
    "shared_risk": shared_risks,
    "capacity": capacity_findings,
    "consistency": consistency,
    "pon": pon_findings,
}


@gc_paused()
def run_audits(net: Network, names: Iterable[str] = tuple(AUDITS)) -> AuditReport:
    return AuditReport(tuple(sorted((f for name in names for f in AUDITS[name](net)), key=Finding.order)))
