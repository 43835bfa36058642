"""Cheapest routes from a site to the PoPs, single or as a trench-disjoint pair.

The pair is Suurballe's algorithm in its flow form: two successive shortest augmenting
paths with node potentials (Dijkstra on reduced costs, the second allowed to cancel
edges of the first) give the two paths of least total cost that share no edge. Our
edges are trench segments (parallel trenches between the same manholes are different
edges), so the pair shares no trench.

Two refinements, priced as lexicographic penalties on top of euros:

* a super-sink behind every PoP with one cheap arc per PoP makes the pair end at two
  *different* PoPs; a second, penalised arc per PoP allows the same PoP only where no
  pair to two PoPs exists;
* every trench also gets a second, heavily penalised unit of capacity, so when no fully
  disjoint pair exists at all (a bridge, a single building entry street) the result is
  the pair sharing the fewest trenches, and the shared ones are reported.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Hashable

from netops.errors import NetopsError
from planning.network import OWN_ENTRY, CandidateNetwork, Node

_SINK = object()


class NoRouteError(NetopsError):
    """The site cannot reach any PoP over the candidate network."""


@dataclass(frozen=True)
class Leg:
    """One candidate edge of a route, oriented from the site towards the PoP."""

    a: Node
    b: Node
    key: Hashable
    kind: str  # existing | new | entry
    laying_method: str
    length_m: float
    fixed_eur: float
    per_cable_eur: float
    trench_id: int | None
    code: str | None

    @property
    def edge_id(self) -> tuple:
        """Orientation-free identity of the trench (for sharing and de-duplication)."""
        return (frozenset((self.a, self.b)), self.key)


@dataclass(frozen=True)
class Route:
    legs: tuple[Leg, ...]
    pop_node: Node
    pop_code: str

    @property
    def length_m(self) -> float:
        return sum(leg.length_m for leg in self.legs)

    @property
    def single_cost_eur(self) -> float:
        return sum(leg.fixed_eur + leg.per_cable_eur for leg in self.legs)


def make_leg(net: CandidateNetwork, a: Node, b: Node, key: Hashable) -> Leg:
    d = net.edge(a, b, key)
    return Leg(a, b, key, d["kind"], d["laying_method"], d["length_m"], d["fixed_eur"],
               d["per_cable_eur"], d["trench_id"], d["code"])


@dataclass
class _Arcs:
    """A residual network: arc i and its reverse i ^ 1 are stored side by side."""

    head: list[int]
    cost: list[float]
    cap: list[int]
    label: list[tuple | None]  # (u, v, key, shared?) for trench arcs, (pop,) for sink arcs
    out: list[list[int]]

    @classmethod
    def empty(cls, nodes: int) -> "_Arcs":
        return cls([], [], [], [], [[] for _ in range(nodes)])

    def add(self, tail: int, head: int, cost: float, label: tuple) -> None:
        for t, h, c, cap, lab in ((tail, head, cost, 1, label), (head, tail, -cost, 0, None)):
            self.out[t].append(len(self.head))
            self.head.append(h)
            self.cost.append(c)
            self.cap.append(cap)
            self.label.append(lab)


def _dijkstra(arcs: _Arcs, source: int, potential: list[float]) -> tuple[list[float], list[int]]:
    inf = float("inf")
    dist = [inf] * len(arcs.out)
    via = [-1] * len(arcs.out)
    dist[source] = 0.0
    heap = [(0.0, source)]
    while heap:
        d, node = heapq.heappop(heap)
        if d > dist[node]:
            continue
        for arc in arcs.out[node]:
            if arcs.cap[arc] <= 0:
                continue
            head = arcs.head[arc]
            # reduced costs are >= 0 up to rounding; clamp so Dijkstra stays exact
            nd = d + max(0.0, arcs.cost[arc] + potential[node] - potential[head])
            if nd < dist[head] - 1e-9:
                dist[head] = nd
                via[head] = arc
                heapq.heappush(heap, (nd, head))
    return dist, via


def min_cost_routes(net: CandidateNetwork, site: Node, count: int) -> list[Route]:
    """``count`` (1 or 2) routes from ``site`` to PoPs of least total single-cable cost,
    sharing no trench and ending at different PoPs wherever the network allows."""
    if not net.pops:
        raise NoRouteError("the network has no PoP to connect to")
    nodes = list(net.graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    sink = len(nodes)
    arcs = _Arcs.empty(len(nodes) + 1)
    total = sum(d["fixed_eur"] + d["per_cable_eur"] for _, _, d in net.graph.edges(data=True))
    same_pop_penalty = 2 * total + 1e6
    share_penalty = 2 * same_pop_penalty
    for u, v, key, d in net.graph.edges(keys=True, data=True):
        iu, iv = index[u], index[v]
        single = d["fixed_eur"] + d["per_cable_eur"]
        for a, b, ia, ib in ((u, v, iu, iv), (v, u, iv, iu)):
            arcs.add(ia, ib, single, (a, b, key, False))
            if count > 1:
                # a site's own documented entry is no trench: both routes may use it freely;
                # a trench used twice is dug already: the second cable pays its own metres
                penalty = 0.0 if d["kind"] == OWN_ENTRY else share_penalty
                arcs.add(ia, ib, d["per_cable_eur"] + penalty, (a, b, key, True))
    for pop in net.pops:
        arcs.add(index[pop], sink, 0.0, (pop,))
        if count > 1:
            arcs.add(index[pop], sink, same_pop_penalty, (pop,))

    potential = [0.0] * (len(nodes) + 1)
    source = index[site]
    for found in range(count):
        dist, via = _dijkstra(arcs, source, potential)
        if via[sink] < 0:
            raise NoRouteError(f"site {site[1]} cannot reach a PoP over the candidate network"
                               if found == 0 else "no second route exists")
        potential = [p + (d if d != float("inf") else 0.0) for p, d in zip(potential, dist)]
        node = sink
        while node != source:
            arc = via[node]
            arcs.cap[arc] -= 1
            arcs.cap[arc ^ 1] += 1
            node = arcs.head[arc ^ 1]

    # decompose the flow: forward arcs with spent capacity carry one unit each
    used: dict[int, list[int]] = {}
    for arc in range(0, len(arcs.head), 2):
        if arcs.cap[arc] == 0:
            used.setdefault(arcs.head[arc ^ 1], []).append(arc)
    routes = []
    for _ in range(count):
        legs, node = [], source
        while node != sink:
            arc = used[node].pop()
            label = arcs.label[arc]
            if len(label) == 1:
                pop = label[0]
                routes.append(Route(tuple(legs), pop, net.pops[pop]))
                break
            a, b, key, _shared = label
            legs.append(make_leg(net, a, b, key))
            node = arcs.head[arc]
    return routes


def shared_legs(first: Route, second: Route) -> list[Leg]:
    """Trenches both routes run through (a site's own entry node is no trench)."""
    ids = {leg.edge_id for leg in second.legs}
    return [leg for leg in first.legs if leg.edge_id in ids and leg.kind != OWN_ENTRY]
