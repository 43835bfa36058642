"""Findings on a map: a GeoJSON FeatureCollection, one feature per finding, whose geometry
collects its elements (trench lines, node and site points) and the sites it affects."""

from __future__ import annotations

from netops.vocabulary import AUDIT_ELEMENT_KINDS
from topology.findings import ElementRef, Finding
from topology.network import Network


def _segment_line(net: Network, segment_id: int) -> list[list[float]]:
    seg = net.segments[segment_id]
    if len(seg.geometry) >= 2:
        return [list(p) for p in seg.geometry]
    a, b = net.route_nodes[seg.a_node_id], net.route_nodes[seg.b_node_id]
    return [[a.lon, a.lat], [b.lon, b.lat]]


def _site_point(net: Network, site_id: int) -> dict | None:
    site = net.sites.get(site_id)
    if site is not None and site.lat is not None:
        return {"type": "Point", "coordinates": [site.lon, site.lat]}
    entries = sorted((net.route_nodes[n] for n in net.physical.nodes_of_site.get(site_id, ())), key=lambda n: n.code)
    return {"type": "Point", "coordinates": [entries[0].lon, entries[0].lat]} if entries else None


def _lines(net: Network, segment_ids) -> dict | None:
    lines = [_segment_line(net, s) for s in segment_ids if s in net.segments]
    return {"type": "MultiLineString", "coordinates": lines} if lines else None


def element_geometry(net: Network, ref: ElementRef) -> dict | None:
    if ref.kind == "trench":
        return {"type": "LineString", "coordinates": _segment_line(net, ref.id)}
    if ref.kind == "node":
        node = net.route_nodes[ref.id]
        return {"type": "Point", "coordinates": [node.lon, node.lat]}
    if ref.kind == "closure":
        node = net.route_nodes.get(net.cable_graph.nodes[("closure", ref.id)]["node_id"])
        return {"type": "Point", "coordinates": [node.lon, node.lat]} if node else None
    if ref.kind == "site":
        return _site_point(net, ref.id)
    if ref.kind == "device":
        return _site_point(net, net.devices[ref.id].site_id)
    if ref.kind == "link":
        return _lines(net, net.links[ref.id]["segment_ids"])
    if ref.kind == "cable":
        return _lines(net, net.cable_graph.edges[(*net.cable_ends[ref.id], ref.id)]["segment_ids"])
    return _pon_geometry(net, ref)


def _pon_geometry(net: Network, ref: ElementRef) -> dict | None:
    """A splitter at its route node, an ONT at its building, an OLT port at its PoP."""
    if "pon_places" not in net.memo:
        inv = net.inv
        nodes = {n.id: (n.lon, n.lat) for n in inv.nodes}
        buildings = {b.id: (b.lon, b.lat) for b in inv.buildings}
        device_of = {i.id: i.device_id for i in inv.interfaces}
        net.memo["pon_places"] = {
            "splitter": {s.id: nodes.get(s.node_id) for s in inv.splitters},
            "residential_connection": {r.id: buildings.get(r.building_id) for r in inv.residential},
            "olt_port": {p.id: device_of.get(p.interface_id) for p in inv.olt_ports},
        }
    place = net.memo["pon_places"].get(ref.kind, {}).get(ref.id)
    if ref.kind == "olt_port":
        return _site_point(net, net.devices[place].site_id) if place in net.devices else None
    return {"type": "Point", "coordinates": list(place)} if place else None


def findings_to_geojson(net: Network, findings: list[Finding]) -> dict:
    site_ids = {s.code: s.id for s in net.sites.values()}
    features = []
    for finding in findings:
        geometries = [element_geometry(net, ref) for ref in finding.elements]
        geometries += [_site_point(net, site_ids[code]) for code in finding.sites if code in site_ids]
        geometries = [g for g in geometries if g is not None]
        properties = finding.as_dict()
        properties["elements"] = [f"{AUDIT_ELEMENT_KINDS.get(ref.kind, ref.kind)}:{ref.code}" for ref in finding.elements]
        properties["sites"] = list(finding.sites)
        features.append({
            "type": "Feature",
            "geometry": {"type": "GeometryCollection", "geometries": geometries} if geometries else None,
            "properties": properties,
        })
    return {"type": "FeatureCollection", "features": features}
