"""Hand-made small cities for the planning tests and the optimality benchmark.

A jittered grid of manholes; some grid streets already carry a trench of the physical
plant (some with a free duct, some full); every grid street is also a candidate street
for a new trench; PoP buildings sit on a few grid corners."""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx

from planning.connect import SiteSpec
from netops.geo import line_length_m
from planning.network import StreetSegment

LAT0, LON0 = 51.51, 7.09
STEP_DEG = 0.0012  # ~130 m north-south, ~85 m east-west


@dataclass
class GridCity:
    physical: nx.MultiGraph
    pops: dict[int, str]
    streets: list[StreetSegment]
    sites: list[SiteSpec]


def node_id(r: int, c: int, cols: int) -> int:
    return r * cols + c + 1


def grid_city(rows: int = 5, cols: int = 5, *, seed: int = 1, existing_share: float = 0.3,
              full_share: float = 0.3, pop_cells: tuple = ((0, 0),), sites: int = 0) -> GridCity:
    rnd = random.Random(seed)
    physical = nx.MultiGraph()
    coords = {}
    for r in range(rows):
        for c in range(cols):
            lat = LAT0 + r * STEP_DEG + rnd.uniform(-1, 1) * STEP_DEG * 0.1
            lon = LON0 + c * STEP_DEG + rnd.uniform(-1, 1) * STEP_DEG * 0.1
            n = node_id(r, c, cols)
            coords[n] = [lon, lat]
            physical.add_node(n, code=f"MH-{r}-{c}", kind="manhole", lat=lat, lon=lon, site_id=None)
    pops = {}
    for i, (r, c) in enumerate(pop_cells):
        n = node_id(r, c, cols)
        physical.nodes[n].update(kind="site_entry", site_id=1000 + i, code=f"POP-{i}-E")
        pops[n] = f"POP-{i}"
    streets, key = [], 0
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr >= rows or c + dc >= cols:
                    continue
                a, b = node_id(r, c, cols), node_id(r + dr, c + dc, cols)
                line = [coords[a], coords[b]]
                streets.append(StreetSegment(line, "open_trench" if rnd.random() < 0.7 else "micro_trench", None))
                if rnd.random() < existing_share:
                    key += 1
                    ducts = rnd.choice([2, 4])
                    used = ducts if rnd.random() < full_share else ducts - 1
                    physical.add_edge(a, b, key=key, code=f"T-{key}", length_m=line_length_m(line),
                                      laying_method="open_trench", ducts_total=ducts, ducts_used=used,
                                      status="active")
    specs = []
    for i in range(sites):
        lat = LAT0 + rnd.uniform(0.2, rows - 1.2) * STEP_DEG
        lon = LON0 + rnd.uniform(0.2, cols - 1.2) * STEP_DEG
        specs.append(SiteSpec(f"KITA-{i}", f"Kita {i}", "kindergarten", lat, lon))
    return GridCity(physical, pops, streets, specs)


def store_city(session, city: GridCity, *, kitas: int = 1, streets_path=None) -> dict[str, int]:
    """Write a grid city into the inventory: PoP sites (core, a distribution switch each)
    on their entry nodes, manholes, trenches; ``kitas`` planned Kitas (no plant yet);
    the streets as GeoJSON at ``streets_path``. Returns site code -> id."""
    import json

    from inventory.models import Device, RouteNode, Site, TrenchSegment

    ids: dict[str, int] = {}
    node_ids: dict[int, int] = {}
    for n, data in city.physical.nodes(data=True):
        site_id = None
        if n in city.pops:
            site = Site(code=city.pops[n], name=city.pops[n], kind="core", lat=data["lat"], lon=data["lon"],
                        source="test")
            session.add(site)
            session.flush()
            session.add(Device(name=f"{site.code}-ds1", site_id=site.id, role="distribution_switch",
                               platform="cisco_ios", source="test"))
            ids[site.code] = site_id = site.id
        row = RouteNode(code=data["code"], kind=data["kind"], lat=data["lat"], lon=data["lon"], site_id=site_id,
                        source="test")
        session.add(row)
        session.flush()
        node_ids[n] = row.id
    for u, v, key, data in city.physical.edges(keys=True, data=True):
        a, b = city.physical.nodes[u], city.physical.nodes[v]
        session.add(TrenchSegment(code=data["code"], a_node_id=node_ids[u], b_node_id=node_ids[v],
                                  geometry=[[a["lon"], a["lat"]], [b["lon"], b["lat"]]],
                                  length_m=data["length_m"], laying_method=data["laying_method"],
                                  ducts_total=data["ducts_total"], ducts_used=data["ducts_used"], source="test"))
    for spec in city.sites[:kitas]:
        site = Site(code=spec.code, name=spec.name, kind="kindergarten", lat=spec.lat, lon=spec.lon,
                    status="planned", source="test")
        session.add(site)
        session.flush()
        ids[spec.code] = site.id
    if streets_path is not None:
        features = [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": s.coords},
                     "properties": {"laying_method": s.laying_method}} for s in city.streets]
        streets_path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    session.flush()
    return ids
