"""The network as three networkx graphs, one per layer, and the mapping between them.

physical  ``nx.MultiGraph``; node = ``RouteNode.id`` (attrs ``code, kind, lat, lon,
          site_id``), edge key = ``TrenchSegment.id`` (attrs ``code, length_m,
          laying_method, ducts_total, ducts_used, status``). Two parallel trench
          segments between the same manholes are two edges: cutting one leaves the other.
cable     ``nx.MultiGraph``; node = a cable end, ``("site", Site.id)`` or
          ``("closure", SpliceClosure.id)`` (attrs ``kind, ref_id, code, site_id,
          node_id`` = the route node where that end lies, if known), edge key =
          ``Cable.id`` (attrs ``code, strands, length_m, status, segment_ids`` = the
          ordered trench segments the cable runs through).
logical   ``nx.MultiGraph``; node = ``Device.id`` (attrs ``name, role, site_id,
          platform, mgmt_ip``), edge key = ``Link.id`` (attrs ``link_id, code, medium,
          status, cable_ids`` = ordered cables of its hops, ``segment_ids`` = frozenset of
          the trench segments the link depends on: its shared-risk group).

Every builder is a pure function of plain rows (``topology.rows`` or the SQLModel rows
themselves). Decommissioned rows are left out; planned rows only with
``include_planned=True`` (a plan being evaluated). An edge whose end is left out is
left out too, with one exception: the plant a live link runs through (``carrying``:
its cables, their trench segments, and the route nodes, closures and sites at their
ends) stays in whatever its status says, because it can still fail and take the link
down. ``live_plant`` says what that is; the consistency audit reports the contradiction.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import networkx as nx
from sqlmodel import Session

from topology.rows import Inventory, in_scope, load_inventory


def build_physical(nodes: Iterable, segments: Iterable, *, include_planned: bool = False,
                   carrying: frozenset[int] = frozenset(), holding: frozenset[int] = frozenset()) -> nx.MultiGraph:
    """``carrying``: trench segments live links run through, kept with their end nodes
    whatever their status; ``holding``: route nodes kept too (closures of live cables)."""
    segments = list(segments)
    live_ends = {n for seg in segments if seg.id in carrying for n in (seg.a_node_id, seg.b_node_id)} | holding
    graph = nx.MultiGraph(layer="physical")
    for node in nodes:
        if in_scope(node.status, include_planned) or node.id in live_ends:
            graph.add_node(node.id, code=node.code, kind=str(node.kind), lat=node.lat, lon=node.lon,
                           site_id=node.site_id)
    for seg in segments:
        if seg.a_node_id in graph and seg.b_node_id in graph and (
                seg.id in carrying or in_scope(seg.status, include_planned)):
            graph.add_edge(seg.a_node_id, seg.b_node_id, key=seg.id, code=seg.code,
                           length_m=seg.length_m, laying_method=str(seg.laying_method),
                           ducts_total=seg.ducts_total, ducts_used=seg.ducts_used,
                           status=str(seg.status))
    return graph


def cable_paths(cable_segments: Iterable) -> dict[int, tuple[int, ...]]:
    """Cable id -> the trench segment ids it runs through, in ``seq`` order."""
    ordered: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in cable_segments:
        ordered[row.cable_id].append((row.seq, row.segment_id))
    return {cable: tuple(seg for _, seg in sorted(steps)) for cable, steps in ordered.items()}


def cable_end(site_id: int | None, closure_id: int | None) -> tuple[str, int]:
    """The cable-graph node of one cable end."""
    return ("site", site_id) if site_id is not None else ("closure", closure_id)


def build_cable(sites: Iterable, closures: Iterable, cables: Iterable, cable_segments: Iterable,
                nodes: Iterable = (), *, include_planned: bool = False,
                carrying: frozenset[int] = frozenset(), paths: dict | None = None) -> nx.MultiGraph:
    """``carrying``: cables live links run over, kept with their ends whatever their status;
    ``paths``: ``cable_paths(cable_segments)`` if the caller has it already."""
    cables = list(cables)
    live_ends = {end for c in cables if c.id in carrying
                 for end in (cable_end(c.a_site_id, c.a_closure_id), cable_end(c.b_site_id, c.b_closure_id))}
    entry_node = {n.site_id: n.id for n in nodes
                  if n.site_id is not None and in_scope(n.status, include_planned)}
    graph = nx.MultiGraph(layer="cable")
    for site in sites:
        if in_scope(site.status, include_planned) or ("site", site.id) in live_ends:
            graph.add_node(("site", site.id), kind="site", ref_id=site.id, code=site.code,
                           site_id=site.id, node_id=entry_node.get(site.id))
    for closure in closures:
        if in_scope(closure.status, include_planned) or ("closure", closure.id) in live_ends:
            graph.add_node(("closure", closure.id), kind="closure", ref_id=closure.id,
                           code=closure.code, site_id=None, node_id=closure.node_id)
    paths = cable_paths(cable_segments) if paths is None else paths
    for cable in cables:
        a = cable_end(cable.a_site_id, cable.a_closure_id)
        b = cable_end(cable.b_site_id, cable.b_closure_id)
        if a in graph and b in graph and (cable.id in carrying or in_scope(cable.status, include_planned)):
            graph.add_edge(a, b, key=cable.id, code=cable.code, strands=cable.strands,
                           length_m=cable.length_m, status=str(cable.status),
                           segment_ids=paths.get(cable.id, ()))
    return graph


def build_logical(devices: Iterable, interfaces: Iterable, links: Iterable, hops: Iterable,
                  cable_segments: Iterable, *, include_planned: bool = False,
                  paths: dict | None = None) -> nx.MultiGraph:
    """``paths``: ``cable_paths(cable_segments)`` if the caller has it already."""
    graph = nx.MultiGraph(layer="logical")
    for dev in devices:
        if in_scope(dev.status, include_planned):
            graph.add_node(dev.id, name=dev.name, role=str(dev.role), site_id=dev.site_id,
                           platform=dev.platform, mgmt_ip=dev.mgmt_ip)
    device_of = {i.id: i.device_id for i in interfaces}
    paths = cable_paths(cable_segments) if paths is None else paths
    link_cables: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for hop in hops:
        link_cables[hop.link_id].append((hop.seq, hop.cable_id))
    route_segments: dict[tuple, frozenset] = {}  # links over the same cables share one set
    for link in links:
        a, b = device_of.get(link.a_interface_id), device_of.get(link.b_interface_id)
        if not (in_scope(link.status, include_planned) and a in graph and b in graph):
            continue
        cable_ids = tuple(c for _, c in sorted(link_cables.get(link.id, ())))
        segment_ids = route_segments.get(cable_ids)
        if segment_ids is None:
            segment_ids = route_segments[cable_ids] = frozenset(s for c in cable_ids for s in paths.get(c, ()))
        graph.add_edge(a, b, key=link.id, link_id=link.id, code=link.code, medium=str(link.medium),
                       status=str(link.status), cable_ids=cable_ids, segment_ids=segment_ids)
    return graph


def live_plant(logical: nx.MultiGraph) -> tuple[frozenset[int], frozenset[int]]:
    """(cable ids, trench segment ids) that the links of a logical graph run through."""
    cables = {c for _, _, ids in logical.edges(data="cable_ids") for c in ids}
    segments = {s for _, _, ids in logical.edges(data="segment_ids") for s in ids}
    return frozenset(cables), frozenset(segments)


def physical_from(inv: Inventory, *, include_planned: bool = False, carrying: frozenset[int] = frozenset(),
                  holding: frozenset[int] = frozenset()) -> nx.MultiGraph:
    return build_physical(inv.nodes, inv.segments, include_planned=include_planned, carrying=carrying,
                          holding=holding)


def cable_from(inv: Inventory, *, include_planned: bool = False,
               carrying: frozenset[int] = frozenset(), paths: dict | None = None) -> nx.MultiGraph:
    return build_cable(inv.sites, inv.closures, inv.cables, inv.cable_segments, inv.nodes,
                       include_planned=include_planned, carrying=carrying, paths=paths)


def logical_from(inv: Inventory, *, include_planned: bool = False, paths: dict | None = None) -> nx.MultiGraph:
    return build_logical(inv.devices, inv.interfaces, inv.links, inv.hops, inv.cable_segments,
                         include_planned=include_planned, paths=paths)


def physical_graph(session: Session, *, include_planned: bool = False) -> nx.MultiGraph:
    return physical_from(load_inventory(session), include_planned=include_planned)


def cable_graph(session: Session, *, include_planned: bool = False) -> nx.MultiGraph:
    return cable_from(load_inventory(session), include_planned=include_planned)


def logical_graph(session: Session, *, include_planned: bool = False) -> nx.MultiGraph:
    return logical_from(load_inventory(session), include_planned=include_planned)


def shared_risk_groups(logical: nx.MultiGraph) -> dict[int, set[int]]:
    """Trench segment id -> the link ids that fail together when that segment is cut."""
    groups: dict[int, set[int]] = defaultdict(set)
    for _, _, link_id, segment_ids in logical.edges(keys=True, data="segment_ids"):
        for segment_id in segment_ids:
            groups[segment_id].add(link_id)
    return groups
