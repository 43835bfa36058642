"""The candidate network a connection can be routed on, priced edge by edge.

Five kinds of candidate edge, each with a *fixed* cost (civil works, paid once however
many cables use the trench) and a *per-cable* cost (paid for every cable along it)::

    existing   a trench of the physical plant with a free duct: no civil works,
               only the cable and pulling it in            fixed 0, per cable cable+pull
    new        a street segment of the route network (GeoJSON LineStrings, as a city
               GIS exports them) where a new trench could be dug
                                                           fixed trench, per cable cable
    entry      a new building-entry trench from a site to one of its nearest candidate
               nodes (straight line, open trench)          fixed trench, per cable cable
    strand     a spare strand pair of an existing cable, from a splice closure at one
               end to the closure (or PoP) at the other    fixed ½ re-entry per closure
               end, per cable 1 splice per closure end (half of each pair join)
    splice     into a closure's splice trays from its manhole: where a new cable (the
               drop) is joined to spare strands             fixed ½ re-entry, per cable 1 splice

Spare strands first: a site near a cable with free strands gets a drop cable to that
cable's closure and rides spliced spare strands to the PoP::

    site ─entry─ M7 ─duct─ M3 ═splice═ (x,M3) ~~cab-12 pair~~ (x,M9) ~~cab-4 pair~~ PoP
         new drop cable (12F)     closure cl-M3: pair joined     strands of existing cables

A cable with free strands can also be opened *mid-span*: at a manhole it passes through
(with no closure there today) a new closure ``("x", route_node_id, NEW_CLOSURE)`` cuts the
strands a route takes and joins them; the cable's two parts are strand edges from it to
each end, sharing the cable's pairs (``cable_id``: a strand used from a mid-span closure
is the same strand, for the capacity, as one used end to end). The new closure's price
(the table's installed closure) is paid half on each edge at it, like a re-entry; ``apply``
splits the cable there (``planning.changeset``)::

    site ─entry─ M7 ═splice═ (x,M5,new) ~~cab-12 part~~ (x,M9) ...   cab-12 runs M3 - M5 - M9

A closure is a node ``("x", route_node_id)`` beside its manhole: each pass through it
(into or out of a strand, or from one cable's strands to the next) is one pair join (two
fusion splices) and one re-entry of the closure, so every edge at it carries half of
each. Strand capacity is per cable (``strand_pairs``: a pair per site, the way LinkHop
carries a link); the planners respect it across a batch (``planning.strands``).
A closure's splice trays are limited too (``SpliceClosure.capacity_splices``): a pass
through it is one pair join, two fusion splices, and ``closure_joins`` holds the joins it
has room for; a closure with none left is no candidate, and the planners keep a batch
within the rest.

New edges carry ``coords`` (GeoJSON positions) and their two ``ends``, so a plan can
store them as trench segments. A trench without a free duct is a candidate for a *new*
trench alongside it (same way, same laying method): the plant's ways are streets too. Nodes are tuples: ``("n", route_node_id)``
for the physical plant, ``("s", i)`` for street nodes, ``("site", code)`` for a site,
``("x", route_node_id)`` for a closure and ``("x", route_node_id, NEW_CLOSURE)`` for one a
plan would open mid-span.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Hashable, Iterable

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from inventory.models import LayingMethod, NodeKind
from netops.errors import InputError, RowProblem
from netops.geo import distance_m, line_length_m, metres_per_degree
from netops.textfile import read_json
from planning.costs import CostModel
from topology.risk import DEFAULT_RULES, RiskRules, building_keys

Node = tuple[str, Hashable]

EXISTING, NEW, ENTRY = "existing", "new", "entry"
STRAND, SPLICE = "strand", "splice"  # spare strands of an existing cable; into its closure
SPARE_STRANDS = "spare_strands"  # the "laying method" of a strand leg: nothing is laid
OWN_ENTRY = "own_entry"  # a site to its own, already documented entry node: nothing to build
NEW_CLOSURE = "new"  # third part of a closure node that a plan would open mid-span (none there yet)
SAME_POINT_M = 1.0  # a street node this close to a route node *is* that node
DEFAULT_SNAP_M = 30.0  # street nodes this close to a route node get a short new trench to it
DEFAULT_ENTRY_CANDIDATES = 3
DEFAULT_MAX_ENTRY_M = 600.0


def local_xy(lat: float, lon: float, lat0: float) -> tuple[float, float]:
    """Metres on a local equirectangular projection, for neighbour searches only (KD-trees):
    every length is measured on the ellipsoid (``netops.geo``)."""
    per_lon, per_lat = metres_per_degree(lat0)
    return (lon * per_lon, lat * per_lat)


@dataclass(frozen=True)
class StreetSegment:
    coords: list[list[float]]  # [[lon, lat], ...]
    laying_method: str
    name: str | None


def load_street_network(path: str | Path) -> list[StreetSegment]:
    """Read a GeoJSON FeatureCollection of LineStrings (MultiLineStrings are split).

    A feature may name its ``laying_method`` (e.g. micro_trench where the street allows
    it) in its properties; the default is an open trench. All or nothing: every bad
    feature is reported with its index."""
    path = Path(path)
    name = str(path)
    data = read_json(path, "GeoJSON")  # binary, undecodable, nested or huge: one line naming the file
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError([RowProblem(name, 0, "features", "", "not a GeoJSON FeatureCollection")])
    segments: list[StreetSegment] = []
    problems: list[RowProblem] = []
    methods = {m.value for m in LayingMethod}
    for index, feature in enumerate(features, start=1):
        feature = feature if isinstance(feature, dict) else {}
        geometry = feature.get("geometry") if isinstance(feature.get("geometry"), dict) else {}
        props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        kind = geometry.get("type")
        if kind == "LineString":
            lines = [geometry.get("coordinates")]
        elif kind == "MultiLineString":
            lines = geometry.get("coordinates") or []
        else:
            problems.append(RowProblem(name, index, "geometry.type", str(kind), "expected LineString"))
            continue
        method = str(props.get("laying_method") or LayingMethod.OPEN_TRENCH.value)
        if method not in methods or method == LayingMethod.EXISTING_DUCT.value:
            problems.append(RowProblem(name, index, "properties.laying_method", method,
                                       f"expected one of {sorted(methods - {'existing_duct'})}"))
            continue
        for line in lines:
            ok = (isinstance(line, list) and len(line) >= 2
                  and all(isinstance(p, list) and len(p) >= 2 and all(isinstance(v, (int, float)) for v in p[:2])
                          for p in line))
            if not ok or not all(-180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in line):
                problems.append(RowProblem(name, index, "geometry.coordinates", str(line)[:60],
                                           "expected >= 2 [lon, lat] positions"))
                continue
            coords = [[float(p[0]), float(p[1])] for p in line]
            if line_length_m(coords) < 0.5:
                continue  # degenerate sliver, nothing to dig
            segments.append(StreetSegment(coords, method, props.get("name")))
    if problems:
        raise InputError(problems)
    return segments


def new_closure_node(route_node: int) -> Node:
    """The closure a plan would open mid-span in manhole ``route_node``."""
    return ("x", route_node, NEW_CLOSURE)


def is_new_closure(node: Node) -> bool:
    return node[0] == "x" and node[2:] == (NEW_CLOSURE,)


def part_lengths(length_m: float, trench_lengths: list[float], cuts: list[int]) -> list[float]:
    """A cable of ``length_m`` through trenches of ``trench_lengths`` (in order), cut after
    the trenches at ``cuts`` (ascending positions 1..n-1): each part's length, in
    proportion to its trenches (slack and spare loops spread evenly), adding up to the
    whole (the last part takes the rounding)."""
    total = sum(trench_lengths) or 1.0
    bounds = [0, *cuts, len(trench_lengths)]
    parts = [round(length_m * sum(trench_lengths[a:b]) / total, 1) for a, b in zip(bounds, bounds[1:])]
    parts[-1] = round(length_m - sum(parts[:-1]), 1)
    return parts


@dataclass(frozen=True)
class SpareCable:
    """An existing cable with free strands, spliceable at the closures at its ends."""

    cable_id: int
    code: str
    ends: tuple[int, int]  # route node of its a-end and b-end (closure node or site entry)
    closures: tuple[int | None, int | None]  # closure id at each end, None for a site end
    trenches: tuple[int, ...]  # trench segments it runs through, in order
    length_m: float
    free_strands: tuple[int, ...]  # strand numbers no link, feeder or drop uses
    splittable: bool = True  # may be opened mid-span (not when PON strands ride it: one cable per feeder/drop)

    @property
    def pairs(self) -> int:
        """Sites it can still carry: a duplex pair each."""
        return len(self.free_strands) // 2


@dataclass
class CandidateNetwork:
    """The priced candidate graph plus where PoPs are and how to attach new sites."""

    graph: nx.MultiGraph
    costs: CostModel
    strands: int
    pops: dict[Node, str] = field(default_factory=dict)  # node -> PoP site code
    max_entry_m: float = DEFAULT_MAX_ENTRY_M
    entry_candidates: int = DEFAULT_ENTRY_CANDIDATES
    risk_rules: RiskRules = DEFAULT_RULES
    _attach_nodes: list[Node] = field(default_factory=list, repr=False)
    _buildings: dict[Node, Hashable] | None = field(default=None, repr=False)
    _attach_tree: cKDTree | None = field(default=None, repr=False)
    _lat0: float = 51.5
    spare_cables: dict[int, SpareCable] = field(default_factory=dict)  # cable id -> its spare strands
    closure_codes: dict[int, str] = field(default_factory=dict)  # closure id -> code
    trench_coords: dict[int, list[list[float]]] = field(default_factory=dict)  # existing trench geometry
    closure_joins: dict[Node, int] = field(default_factory=dict)  # closure node -> pair joins it has room for

    def restricted_to(self, nodes: Iterable[Node]) -> "CandidateNetwork":
        """The candidate network on ``nodes`` only (e.g. an instance cut from the city): the
        graph's subgraph, without the strand edges whose cable runs through a trench or
        manhole outside (the risk rules look at every one), and every record narrowed to
        what is left. Fields not narrowed here are carried as they are (``replace``); the
        caches are rebuilt."""
        keep = set(nodes)
        # in the city's order, not the set's: a subgraph view of a small part iterates the set,
        # whose order changes with PYTHONHASHSEED, and with it every tie a planner breaks by
        # index (the same cut planned twice gave two plans, its MILP two answers)
        graph = type(self.graph)()
        graph.graph.update(self.graph.graph)
        graph.add_nodes_from((node, dict(d)) for node, d in self.graph.nodes(data=True) if node in keep)
        graph.add_edges_from((u, v, k, dict(d)) for u, v, k, d in self.graph.edges(keys=True, data=True)
                             if u in keep and v in keep)
        graph.remove_edges_from([(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if d["kind"] == STRAND
                                 and any(("n", end) not in keep for _, a, b in d["trenches"] for end in (a, b))])
        cables = {d["cable_id"] for _, _, d in graph.edges(data=True) if d["kind"] == STRAND}
        closures = {d["closure_id"]: node for node, d in graph.nodes(data=True) if node[0] == "x"}
        trenches = {k[1] for _, _, k in graph.edges(keys=True) if k[0] in ("t", "parallel")}  # both ends in
        network = replace(
            self, graph=graph, pops={p: code for p, code in self.pops.items() if p in keep},
            spare_cables={c: cable for c, cable in self.spare_cables.items() if c in cables},
            closure_codes={c: code for c, code in self.closure_codes.items() if c in closures},
            trench_coords={t: coords for t, coords in self.trench_coords.items() if t in trenches},
            closure_joins={x: joins for x, joins in self.closure_joins.items() if x in keep},
            _attach_nodes=[], _buildings=None, _attach_tree=None)
        network._index_attach_points()
        return network

    def closure_names(self) -> dict[Node, str]:
        """Closure node -> the closure's code."""
        return {node: d["code"] or f"closure {d['closure_id']}" for node, d in self.graph.nodes(data=True)
                if node[0] == "x"}

    def edge(self, u: Node, v: Node, key: Hashable) -> dict:
        return self.graph.edges[u, v, key]

    def building_of(self, node: Node) -> Hashable | None:
        """The building a node lies in (None for a manhole, cabinet or street node): a
        site's nodes, with sites a few metres apart counted as one building (risk rules).
        A site being planned is its own building."""
        if node[0] == "site":
            return node
        if self._buildings is None:
            located = {d["site_id"]: (d["lat"], d["lon"]) for _, d in self.graph.nodes(data=True)
                       if d.get("site_id") is not None}
            building = building_keys(located, self.risk_rules)
            self._buildings = {n: ("building", building[d["site_id"]]) for n, d in self.graph.nodes(data=True)
                               if d.get("site_id") is not None}
        return self._buildings.get(node)

    def coords_of(self, u: Node, v: Node, key: Hashable) -> list[list[float]]:
        """An edge's geometry ([lon, lat], ...); a straight line where none is known."""
        coords = self.edge(u, v, key).get("coords")
        if coords:
            return coords
        a, b = self.graph.nodes[u], self.graph.nodes[v]
        return [[a["lon"], a["lat"]], [b["lon"], b["lat"]]]

    def best_key(self, u: Node, v: Node) -> Hashable:
        """Of parallel candidates between u and v, the one cheapest for a single cable."""
        edges = self.graph[u][v]
        return min(edges, key=lambda k: edges[k]["fixed_eur"] + edges[k]["per_cable_eur"])

    def _index_attach_points(self) -> None:
        self._attach_nodes = [n for n, d in self.graph.nodes(data=True) if d.get("attachable")]
        if self._attach_nodes:
            lats = [self.graph.nodes[n]["lat"] for n in self._attach_nodes]
            self._lat0 = float(np.mean(lats))
            xy = [local_xy(self.graph.nodes[n]["lat"], self.graph.nodes[n]["lon"], self._lat0)
                  for n in self._attach_nodes]
            self._attach_tree = cKDTree(np.array(xy))

    def attach_site(self, code: str, lat: float, lon: float, entry_node: Node | None = None) -> Node:
        """Add the site and new building-entry edges to its nearest candidate nodes.

        ``entry_node`` is the site's existing entry route node, if the plant has one: it is
        joined at no cost (its trenches may already lead somewhere)."""
        node: Node = ("site", code)
        self.graph.add_node(node, lat=lat, lon=lon, code=code, attachable=False)
        if entry_node is not None and entry_node in self.graph:
            self.graph.add_edge(node, entry_node, key=("own", code), kind=OWN_ENTRY,
                                laying_method=LayingMethod.EXISTING_DUCT.value, length_m=0.0,
                                fixed_eur=0.0, per_cable_eur=0.0, trench_id=None, code=None,
                                coords=None)
        if self._attach_tree is None:
            self._index_attach_points()
        if self._attach_tree is None:
            return node
        x, y = local_xy(lat, lon, self._lat0)
        k = min(self.entry_candidates, len(self._attach_nodes))
        distances, indexes = self._attach_tree.query([x, y], k=k)
        for index in np.atleast_1d(indexes)[np.isfinite(np.atleast_1d(distances))]:
            target = self._attach_nodes[int(index)]
            t = self.graph.nodes[target]
            distance = distance_m(lat, lon, t["lat"], t["lon"])
            if distance <= self.max_entry_m:
                self._add_entry(node, target, distance)
        return node

    def _add_entry(self, site_node: Node, target: Node, distance: float) -> None:
        length = max(distance, 1.0)  # a building entry is never free
        t = self.graph.nodes[target]
        s = self.graph.nodes[site_node]
        self.graph.add_edge(
            site_node, target, key=("entry", site_node[1], target),
            kind=ENTRY, laying_method=LayingMethod.OPEN_TRENCH.value, length_m=length,
            fixed_eur=length * self.costs.trench_price(LayingMethod.OPEN_TRENCH),
            per_cable_eur=length * self.costs.per_cable_per_m(existing_duct=False, strands=self.strands),
            trench_id=None, code=None, coords=[[s["lon"], s["lat"]], [t["lon"], t["lat"]]],
            ends=(site_node, target),
        )


def build_candidate_network(
    physical: nx.MultiGraph,
    pops: dict[int, str],
    costs: CostModel,
    *,
    streets: Iterable[StreetSegment] = (),
    strands: int = 12,
    geometries: dict[int, list[list[float]]] | None = None,
    snap_m: float = DEFAULT_SNAP_M,
    max_entry_m: float = DEFAULT_MAX_ENTRY_M,
    entry_candidates: int = DEFAULT_ENTRY_CANDIDATES,
    spare_cables: Iterable[SpareCable] = (),
    closure_codes: dict[int, str] | None = None,
    closure_splices: dict[int, int] | None = None,
    midspan_closures: bool = True,
    closure_nodes: Iterable[int] = (),
) -> CandidateNetwork:
    """Price the physical plant, the street network and the spare strands of existing
    cables (``spare_cables``, see ``planning.strands.spare_cables``) as one candidate graph.

    ``physical`` is ``topology.graphs.physical_graph``'s MultiGraph (node = RouteNode.id,
    edge key = TrenchSegment.id); ``pops`` maps the route nodes of PoP sites to their
    site codes; ``geometries`` (trench id -> coordinates, a-node to b-node) draws the
    trenches and new ones alongside full ones (straight lines without it).
    ``midspan_closures`` offers a new closure at every manhole a spare cable passes
    through, but those holding a closure already (``closure_nodes``: route node ids)."""
    graph = nx.MultiGraph()
    pull = costs.per_cable_per_m(existing_duct=True, strands=strands)
    cable = costs.per_cable_per_m(existing_duct=False, strands=strands)
    for node, data in physical.nodes(data=True):
        graph.add_node(("n", node), lat=data["lat"], lon=data["lon"], code=data.get("code"),
                       route_node_id=node, site_id=data.get("site_id"), kind=data.get("kind"),
                       # a new trench may end anywhere but in another site's building
                       attachable=data.get("kind") != NodeKind.SITE_ENTRY or node in pops)
    for u, v, key, data in physical.edges(keys=True, data=True):
        length = float(data["length_m"])
        coords = (geometries or {}).get(key) or [[physical.nodes[u]["lon"], physical.nodes[u]["lat"]],
                                                 [physical.nodes[v]["lon"], physical.nodes[v]["lat"]]]
        if data.get("ducts_used", 0) < data.get("ducts_total", 0):
            graph.add_edge(("n", u), ("n", v), key=("t", key), kind=EXISTING,
                           laying_method=LayingMethod.EXISTING_DUCT.value, length_m=length,
                           fixed_eur=0.0, per_cable_eur=length * pull, trench_id=key,
                           code=data.get("code"), coords=coords)
            continue
        # full: a new trench alongside (same way, same method; a leased duct's way is dug open)
        method = data.get("laying_method") or LayingMethod.OPEN_TRENCH.value
        if method == LayingMethod.EXISTING_DUCT.value:
            method = LayingMethod.OPEN_TRENCH.value
        graph.add_edge(("n", u), ("n", v), key=("parallel", key), kind=NEW, laying_method=method,
                       length_m=length, fixed_eur=length * costs.trench_price(method),
                       per_cable_eur=length * cable, trench_id=None, code=None, coords=coords,
                       ends=(("n", u), ("n", v)))

    # street nodes: identical endpoints are one node; a node on top of a route node is it
    route_nodes = [n for n in graph.nodes]
    lat0 = float(np.mean([graph.nodes[n]["lat"] for n in route_nodes])) if route_nodes else 51.5
    route_tree = (cKDTree(np.array([local_xy(graph.nodes[n]["lat"], graph.nodes[n]["lon"], lat0)
                                    for n in route_nodes])) if route_nodes else None)
    street_nodes: dict[tuple[float, float], Node] = {}

    def street_node(lon: float, lat: float) -> Node:
        key = (round(lon, 7), round(lat, 7))
        if key not in street_nodes:
            node: Node = ("s", len(street_nodes))
            if route_tree is not None:
                distance, index = route_tree.query(local_xy(lat, lon, lat0))
                if distance <= SAME_POINT_M and graph.nodes[route_nodes[index]]["attachable"]:
                    node = route_nodes[index]
            if node not in graph:
                graph.add_node(node, lat=lat, lon=lon, code=None, attachable=True)
            street_nodes[key] = node
        return street_nodes[key]

    for index, segment in enumerate(streets):
        a = street_node(*segment.coords[0])
        b = street_node(*segment.coords[-1])
        if a == b:
            continue
        length = line_length_m(segment.coords)
        graph.add_edge(a, b, key=("street", index), kind=NEW, laying_method=segment.laying_method,
                       length_m=length, fixed_eur=length * costs.trench_price(segment.laying_method),
                       per_cable_eur=length * cable, trench_id=None, code=None,
                       coords=segment.coords, ends=(a, b))

    # street nodes near (not on) the plant get a short open-trench link to it
    if route_tree is not None:
        for node in set(street_nodes.values()):
            if node[0] != "s":
                continue
            data = graph.nodes[node]
            xy = local_xy(data["lat"], data["lon"], lat0)
            for index in route_tree.query_ball_point(xy, snap_m):
                target = route_nodes[index]
                if not graph.nodes[target]["attachable"]:
                    continue
                t = graph.nodes[target]
                length = max(distance_m(data["lat"], data["lon"], t["lat"], t["lon"]), 1.0)
                graph.add_edge(node, target, key=("snap", node[1], target), kind=NEW,
                               laying_method=LayingMethod.OPEN_TRENCH.value, length_m=length,
                               fixed_eur=length * costs.trench_price(LayingMethod.OPEN_TRENCH),
                               per_cable_eur=length * cable, trench_id=None, code=None,
                               coords=[[data["lon"], data["lat"]], [t["lon"], t["lat"]]],
                               ends=(node, target))

    network = CandidateNetwork(graph=graph, costs=costs, strands=strands,
                               pops={("n", n): code for n, code in pops.items() if ("n", n) in graph},
                               max_entry_m=max_entry_m, entry_candidates=entry_candidates)
    network.trench_coords = {key: (geometries or {}).get(key) or [
        [physical.nodes[u]["lon"], physical.nodes[u]["lat"]], [physical.nodes[v]["lon"], physical.nodes[v]["lat"]]]
        for u, v, key in physical.edges(keys=True)}
    trench_ends = {key: (u, v) for u, v, key in physical.edges(keys=True)}
    usable = [(cable, ends) for cable in spare_cables
              if (ends := _add_spare_cable(network, trench_ends, cable, closure_codes or {}, closure_splices))]
    if midspan_closures:
        trench_m = {key: float(d["length_m"]) for _, _, key, d in physical.edges(keys=True, data=True)}
        taken = set(closure_nodes) | {node[1] for node in network.graph if node[0] == "x"}
        for cable, ends in usable:
            _add_midspan(network, trench_ends, trench_m, cable, ends, taken)
    network._index_attach_points()
    return network


def _add_spare_cable(net: CandidateNetwork, trench_ends: dict[int, tuple[int, int]], cable: SpareCable,
                     closure_codes: dict[int, str], closure_splices: dict[int, int] | None
                     ) -> tuple[Node | None, Node | None] | None:
    """A strand edge between the cable's usable ends: closures (spliced in their trays) and
    PoPs (the strands end on the PoP's patch panel). A cable ending in another building,
    PoP to PoP, with no free pair, in a closure with no room for a pair join (every route
    on the strands is joined at each closure end), or through a trench not in service is
    no candidate. Returns the candidate node of each end (None: not usable), None when
    the cable is no candidate at all."""
    if cable.pairs < 1 or not cable.trenches or not all(t in trench_ends for t in cable.trenches):
        return None
    ends: list[Node | None] = []
    for node, closure in zip(cable.ends, cable.closures):
        if ("n", node) not in net.graph:
            ends.append(None)
        elif closure is not None:
            full = closure_splices is not None and closure_splices.get(closure, 0) < 2
            ends.append(None if full else ("x", node))
        else:  # strands end on the PoP's patch panel, or in a building that is not one: spliced nowhere
            ends.append(("n", node) if ("n", node) in net.pops else None)
    for end, closure in zip(ends, cable.closures):
        if end is not None and end[0] == "x":
            _closure_node(net, end[1], closure, closure_codes.get(closure),
                          None if closure_splices is None else closure_splices[closure] // 2)
    if None not in ends and ends[0] != ends[1] and any(end[0] == "x" for end in ends):
        _add_strand_edge(net, ends[0], ends[1], ("strand", cable.cable_id), cable, float(cable.length_m),
                         tuple((t, *trench_ends[t]) for t in cable.trenches))
    return (ends[0], ends[1]) if any(end is not None for end in ends) else None


def _add_strand_edge(net: CandidateNetwork, a: Node, b: Node, key: Hashable, cable: SpareCable, length_m: float,
                     steps: tuple, **extra) -> None:
    """Strands of ``cable`` from a to b: each closure end re-entered (half a re-entry, or
    half a new closure's price) and spliced (half of each pair join)."""
    costs = net.costs
    fixed = sum(costs.closure_eur / 2 if is_new_closure(end) else costs.closure_reentry_eur / 2
                for end in (a, b) if end[0] == "x")
    spliced = sum(end[0] == "x" for end in (a, b))
    net.graph.add_edge(a, b, key=key, kind=STRAND, laying_method=SPARE_STRANDS, length_m=length_m,
                       fixed_eur=fixed, per_cable_eur=spliced * costs.splice_eur, trench_id=None, code=cable.code,
                       coords=None, cable_id=cable.cable_id, strand_pairs=cable.pairs, trenches=steps, **extra)
    net.spare_cables[cable.cable_id] = cable


def _add_midspan(net: CandidateNetwork, trench_ends: dict[int, tuple[int, int]], trench_m: dict[int, float],
                 cable: SpareCable, ends: tuple[Node | None, Node | None], taken: set[int]) -> None:
    """A new closure at each manhole the cable passes through (none where a closure is,
    or at a cabinet, junction or building), with the cable's parts from it to each usable
    end. The parts share the cable's pairs (same ``cable_id``)."""
    if not cable.splittable or len(cable.trenches) < 2:
        return
    nodes = trench_walk(cable.ends[0], [trench_ends[t] for t in cable.trenches])
    if nodes is None or nodes[-1] != cable.ends[1]:
        return  # the recorded path does not join the cable's ends: the audits report it
    steps = tuple((t, *trench_ends[t]) for t in cable.trenches)
    lengths = [trench_m[t] for t in cable.trenches]
    for cut in range(1, len(nodes) - 1):
        manhole = nodes[cut]
        data = net.graph.nodes.get(("n", manhole))
        if data is None or data.get("kind") != NodeKind.MANHOLE or manhole in taken:
            continue
        x = _new_closure(net, manhole)
        a_part, b_part = part_lengths(cable.length_m, lengths, [cut])
        for side, end, length, part in (("a", ends[0], a_part, steps[:cut]), ("b", ends[1], b_part, steps[cut:])):
            if end is not None:
                _add_strand_edge(net, x, end, ("strand", cable.cable_id, manhole, side), cable, length, part,
                                 midspan=manhole, side=side)


def trench_walk(start: int, trench_ends: list[tuple[int, int]]) -> list[int] | None:
    """The route nodes along trenches (their ends in either order) walked from ``start``;
    None where one does not continue from the last."""
    nodes = [start]
    for u, v in trench_ends:
        if nodes[-1] not in (u, v):
            return None
        nodes.append(v if nodes[-1] == u else u)
    return nodes


def _new_closure(net: CandidateNetwork, node: int) -> Node:
    """A closure a plan would open in manhole ``node``, joined to it."""
    x = new_closure_node(node)
    if x not in net.graph:
        manhole = net.graph.nodes[("n", node)]
        name = f"new closure at {manhole.get('code') or node}"
        net.graph.add_node(x, lat=manhole["lat"], lon=manhole["lon"], code=name, closure_id=None,
                           route_node_id=node, attachable=False)
        net.graph.add_edge(("n", node), x, key=("splice", node, NEW_CLOSURE), kind=SPLICE,
                           laying_method=SPARE_STRANDS, length_m=0.0, fixed_eur=net.costs.closure_eur / 2,
                           per_cable_eur=net.costs.splice_eur, trench_id=None, code=name, coords=None)
    return x


def _closure_node(net: CandidateNetwork, node: int, closure: int, code: str | None, joins: int | None) -> Node:
    """The closure at route node ``node`` (its splice trays, room for ``joins`` pair joins,
    None: unlimited), joined to its manhole."""
    x: Node = ("x", node)
    if x not in net.graph:
        if joins is not None:
            net.closure_joins[x] = joins
        manhole = net.graph.nodes[("n", node)]
        net.graph.add_node(x, lat=manhole["lat"], lon=manhole["lon"], code=code, closure_id=closure,
                           route_node_id=node, attachable=False)
        net.closure_codes[closure] = code or f"closure {closure}"
        net.graph.add_edge(("n", node), x, key=("splice", node), kind=SPLICE, laying_method=SPARE_STRANDS,
                           length_m=0.0, fixed_eur=net.costs.closure_reentry_eur / 2,
                           per_cable_eur=net.costs.splice_eur, trench_id=None, code=code, coords=None)
    return x
