"""Hand-made small cities for the planning tests and the optimality benchmark.

A jittered grid of manholes; some grid streets already carry a trench of the physical
plant (some with a free duct, some full); every grid street is also a candidate street
for a new trench; PoP buildings sit on a few grid corners."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import networkx as nx

from planning.connect import SiteSpec
from netops.geo import line_length_m
from planning.network import SpareCable, StreetSegment

LAT0, LON0 = 51.51, 7.09
NEAR = ((0.25, 0.0), (0.3, 0.15), (0.2, -0.1))  # feeder city sites 25-40 m north of the closure CL-X
STEP_DEG = 0.0012  # ~130 m north-south, ~85 m east-west


@dataclass
class GridCity:
    physical: nx.MultiGraph
    pops: dict[int, str]
    streets: list[StreetSegment]
    sites: list[SiteSpec]
    cables: list[SpareCable] = field(default_factory=list)  # existing cables, closure end first
    closure_codes: dict[int, str] = field(default_factory=dict)  # closure id -> code


def feeder_city(cols: int = 6, *, pairs: int = 2, sites: tuple[tuple[float, float], ...] = ((0.25, 0.0),),
                second_pop: bool = False, free_ducts: bool = False) -> GridCity:
    """A ladder of manholes, two rows of ``cols`` (row 0 south): row 0 is an existing trench
    with full ducts from PoP-0 at its west end to closure CL-X at its east end, carrying
    cable CAB-1 with ``pairs`` free strand pairs; the north row and the rungs are streets
    only. ``sites`` are (rows north, columns west) of the closure, in grid steps.
    ``second_pop`` puts PoP-1 (another building) at the north-west corner; ``free_ducts``
    leaves a free duct beside the cable in every row-0 trench."""
    physical = nx.MultiGraph()
    coords = {}
    for r in range(2):
        for c in range(cols):
            n = node_id(r, c, cols)
            coords[n] = [LON0 + c * STEP_DEG, LAT0 + r * STEP_DEG]
            physical.add_node(n, code=f"MH-{r}-{c}", kind="manhole", lat=coords[n][1], lon=coords[n][0], site_id=None)
    pops = {node_id(0, 0, cols): "POP-0"} | ({node_id(1, 0, cols): "POP-1"} if second_pop else {})
    for i, (n, code) in enumerate(pops.items()):
        physical.nodes[n].update(kind="site_entry", site_id=1000 + i, code=f"{code}-E")
    streets, trenches = [], []
    for c in range(cols - 1):
        a, b = node_id(0, c, cols), node_id(0, c + 1, cols)
        line = [coords[a], coords[b]]
        physical.add_edge(a, b, key=c + 1, code=f"T-{c + 1}", length_m=line_length_m(line),
                          laying_method="open_trench", ducts_total=1 + free_ducts, ducts_used=1, status="active")
        trenches.append(c + 1)
        top = [coords[node_id(1, c, cols)], coords[node_id(1, c + 1, cols)]]
        streets.append(StreetSegment(top, "open_trench", None))
    for c in range(cols):
        streets.append(StreetSegment([coords[node_id(0, c, cols)], coords[node_id(1, c, cols)]], "open_trench", None))
    closure = node_id(0, cols - 1, cols)
    length = sum(physical.edges[u, v, k]["length_m"] for u, v, k in physical.edges(keys=True))
    cable = SpareCable(1, "CAB-1", (closure, node_id(0, 0, cols)), (1, None), tuple(reversed(trenches)),
                       round(length * 1.02 + 15, 1), tuple(range(1, 2 * pairs + 1)))
    specs = [SiteSpec(f"KITA-{i}", f"Kita {i}", "kindergarten", coords[closure][1] + north * STEP_DEG,
                      coords[closure][0] - west * STEP_DEG) for i, (north, west) in enumerate(sites)]
    return GridCity(physical, pops, streets, specs, [cable], {1: "CL-X"})


def candidate_network(city: GridCity, **options):
    """The city's priced candidate network, default prices, spare strands included; no
    new closures mid-span unless ``midspan_closures=True`` (the instances of the tests
    written before them stay as they were)."""
    from planning.default_prices import default_cost_model
    from planning.network import build_candidate_network

    options.setdefault("midspan_closures", False)

    return build_candidate_network(city.physical, city.pops, default_cost_model(), streets=city.streets,
                                   spare_cables=city.cables, closure_codes=city.closure_codes, **options)


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
    on their entry nodes, manholes, trenches, the cables (all strands free) and their
    closures; ``kitas`` planned Kitas (no plant yet);
    the streets as GeoJSON at ``streets_path``. Returns site code -> id."""
    import json

    from sqlmodel import select

    from inventory.models import Cable, CableSegment, Device, RouteNode, Site, SpliceClosure, TrenchSegment

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
    pop_sites = {n: ids[code] for n, code in city.pops.items()}
    trench_ids = {}
    for u, v, key, data in city.physical.edges(keys=True, data=True):
        trench_ids[key] = session.exec(select(TrenchSegment.id).where(TrenchSegment.code == data["code"])).one()
    for cable in city.cables:
        closure = SpliceClosure(code=city.closure_codes[cable.closures[0]], node_id=node_ids[cable.ends[0]],
                                source="test")
        session.add(closure)
        session.flush()
        row = Cable(code=cable.code, strands=len(cable.free_strands), a_closure_id=closure.id,
                    b_site_id=pop_sites[cable.ends[1]], length_m=cable.length_m, source="test")
        session.add(row)
        session.flush()
        for seq, trench in enumerate(cable.trenches):
            session.add(CableSegment(cable_id=row.id, seq=seq, segment_id=trench_ids[trench]))
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


def feeder_town_in(engine, tmp_path, *, pairs: int, sites=NEAR, kitas: int = 3, closure_splices: int | None = None,
                   second_pop: bool = False):
    """The feeder city with ``pairs`` free pairs stored (``kitas`` planned Kitas), the
    closure CL-X holding ``closure_splices`` (default: its standard size), PoP-1 with
    ``second_pop``; the options that plan on it."""
    from sqlmodel import select

    from inventory.models import SpliceClosure
    from netops.db import session_scope
    from planning.context import NetworkOptions

    city = feeder_city(pairs=pairs, sites=sites, second_pop=second_pop)
    streets = tmp_path / "streets.geojson"
    with session_scope(engine) as session:
        ids = store_city(session, city, kitas=kitas, streets_path=streets)
        if closure_splices is not None:
            closure = session.exec(select(SpliceClosure).where(SpliceClosure.code == "CL-X")).one()
            closure.capacity_splices = closure_splices
            session.add(closure)
    return NetworkOptions(streets=streets), ids
