"""Cheapest routes from a site to the PoPs, single or as a disjoint pair.

The pair is Suurballe's algorithm in its flow form: two successive shortest augmenting
paths with node potentials (Dijkstra on reduced costs, the second allowed to cancel
edges of the first) give the two paths of least total cost that share no arc. On a
split-node graph (each manhole an arc of capacity one) that means no trench and no
manhole: disjoint the way failures happen. What the flow cannot see is resolved by a small
branch-and-bound judged by ``pair_faults`` (``topology.risk.pair_risks``, the one rule of
a redundant pair, shared with the redundant batch, its exact program and the fixes):
buildings with several nodes, street corridors (a new trench along the other route), the
trenches and manholes a route passes on spare strands (a strand edge jumps from closure
to closure, but its cable lies in every trench and manhole on the way), and a route
doubling back through a manhole, trench or building it passed or running along itself.

Every arc's price is one exact integer, lexicographic (euros, metres): euros to a
micro-euro first, then millimetres (``_PairProblem.weight``). At equal cost the search
itself prefers fewer metres (spare strand pairs cost 0 EUR/m, so strand chains of any
length tie), then the first found in a fixed order (the heap's node index): the same city
gives the same routes.

On top of that, lexicographic penalties:

* a super-sink behind every PoP building with one cheap arc each makes the pair end in
  two *different* PoP buildings; a second, penalised arc allows the same one only where
  no pair to two exists;
* every trench and manhole also gets a second, heavily penalised unit of capacity, so
  when no fully disjoint pair exists at all (a bridge, a single building entry street)
  the result is the pair sharing the fewest, and the shared ones are reported.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from typing import Hashable, Iterable

from netops.errors import NetopsError
from planning.network import OWN_ENTRY, SPLICE, STRAND, CandidateNetwork, Node, trench_walk
from topology.risk import RiskRules, RouteView, SharedRisk, pair_risks, self_risks



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


def settle_to(target: int, source: int, out: list[list[int]], head: list[int], cost: list, usable,
              potential: list, reach: float = float("inf"), floor: float = 0, extra: dict | None = None
              ) -> tuple[list, list[int]]:
    """Dijkstra on reduced costs (``cost[arc] + potential[tail] - potential[head]``, each
    potential capped at ``reach``, each reduced cost at least ``floor``), settled up to
    ``target``: every vertex nearer than it is final (with ``via``, the arc reaching it),
    every other one at least as far; ``dist[target]`` is inf when out of reach. A vertex's
    arcs are ``out[vertex]``, then ``extra[vertex]`` (residual arcs of this search only);
    arcs with a false ``usable[arc]`` are closed. Ties go to the lower vertex, then to the
    arc relaxed first. The one search of ``plan connect`` (exact integers, residual arcs
    in ``out``) and of the redundant batch (floats, each arc at least ``floor``)."""
    inf = float("inf")
    dist = [inf] * len(out)
    via = [-1] * len(out)
    dist[source] = 0
    heap = [(0, source)]
    extra = extra or {}
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        d, vertex = pop(heap)
        if d > dist[vertex]:
            continue
        if vertex == target:
            break
        here = potential[vertex]
        if here > reach:
            here = reach
        for arc in out[vertex] if vertex not in extra else out[vertex] + extra[vertex]:
            if not usable[arc]:
                continue
            to = head[arc]
            there = potential[to]
            reduced = cost[arc] + here - (there if there < reach else reach)
            reached = d + (reduced if reduced > floor else floor)
            if reached < dist[to]:
                dist[to], via[to] = reached, arc
                push(heap, (reached, to))
    return dist, via


class _PairProblem:
    """The residual network of one site's routing problem on a split-node graph.

    Every candidate node v becomes v_in -> v_out with capacity one, so two routes share no
    manhole; the site's own building lets both through. A PoP node leads only to its
    building's hub and on to the super-sink (routes end at the first PoP they reach: none
    passes through a PoP building), one cheap arc per PoP building, so the pair ends in two
    different buildings. For a pair, every trench and node also gets a second, heavily
    penalised unit of capacity: where no disjoint pair exists at all (a bridge, a single
    entry street), the pair sharing the fewest elements is found and they are reported."""

    def __init__(self, net: CandidateNetwork, site: Node, count: int):
        self.net, self.site, self.count = net, site, count
        nodes = list(net.graph.nodes)
        self.index = {n: i for i, n in enumerate(nodes)}
        hubs = sorted({net.building_of(p) or p for p in net.pops}, key=repr)
        hub_index = {h: 2 * len(nodes) + i for i, h in enumerate(hubs)}
        self.sink = 2 * len(nodes) + len(hubs)
        arcs = self.arcs = _Arcs.empty(self.sink + 1)
        total = sum(d["fixed_eur"] + d["per_cable_eur"] for _, _, d in net.graph.edges(data=True))
        # millimetres of any set of routes stay below this: euros always come first
        self.metres_span = 2 * round(1000 * sum(d["length_m"] for _, _, d in net.graph.edges(data=True))) + 1
        self.same_pop_penalty = self.weight(2 * total + 1e6)
        self.share_penalty = 2 * self.same_pop_penalty
        self.arcs_of: dict[Hashable, list[int]] = {}  # edge id or node -> its arcs (to forbid)
        own_nodes = own_entry_nodes(net, site)
        own = {net.building_of(site)} | {net.building_of(n) for n in own_nodes} - {None}
        pair = count > 1

        def add(element: Hashable, tail: int, head: int, cost: float, label: tuple) -> None:
            self.arcs_of.setdefault(element, []).append(len(arcs.head))
            arcs.add(tail, head, cost, label)

        for node, i in self.index.items():
            if node in net.pops:
                add(node, 2 * i, hub_index[net.building_of(node) or node], 0, ("pop", node))
                if pair:
                    add(node, 2 * i, hub_index[net.building_of(node) or node], 0, ("pop", node))
            elif node == site:
                continue
            else:
                free = node in own_nodes or net.building_of(node) in own
                add(node, 2 * i, 2 * i + 1, 0, ("node",))
                if pair:
                    add(node, 2 * i, 2 * i + 1, 0 if free else self.share_penalty, ("node",))
        for hub, h in hub_index.items():
            arcs.add(h, self.sink, 0, ("sink",))
            if pair:
                arcs.add(h, self.sink, self.same_pop_penalty, ("sink",))
        for u, v, key, d in net.graph.edges(keys=True, data=True):
            single = self.weight(d["fixed_eur"] + d["per_cable_eur"], d["length_m"])
            element = (frozenset((u, v)), key)
            for a, b in ((u, v), (v, u)):
                if b == site or a in net.pops:
                    continue  # never back into the site, never on from a PoP
                tail, head = 2 * self.index[a] + (a != site), 2 * self.index[b]
                add(element, tail, head, single, (a, b, key))
                if pair and d.get("strand_pairs", 2) >= 2:  # a cable with one free pair carries one route
                    # a site's own documented entry is no trench: both routes may use it freely;
                    # a trench used twice is dug already: the second cable pays its own metres
                    penalty = 0 if d["kind"] == OWN_ENTRY else self.share_penalty
                    add(element, tail, head, self.weight(d["per_cable_eur"], d["length_m"]) + penalty, (a, b, key))
        self.capacity = list(arcs.cap)

    def weight(self, eur: float, metres: float = 0.0) -> int:
        """(euros, metres) as one integer ordered lexicographically: at equal euros (to a
        micro-euro) fewer metres (to a millimetre) are cheaper."""
        return round(eur * 1_000_000) * self.metres_span + round(metres * 1000)

    def solve(self, forbidden: frozenset = frozenset()) -> tuple[list[Route], float] | None:
        """The ``count`` routes of least total cost avoiding the ``forbidden`` edges and
        nodes, and that cost (``weight``: metres break ties; penalties included); None
        when there are none."""
        arcs = self.arcs
        base = list(self.capacity)
        for element in forbidden:
            for arc in self.arcs_of.get(element, ()):
                base[arc] = 0
        arcs.cap = list(base)
        potential = [0] * len(arcs.out)
        source = 2 * self.index[self.site]
        for _ in range(self.count):
            dist, via = settle_to(self.sink, source, arcs.out, arcs.head, arcs.cost, arcs.cap, potential)
            if via[self.sink] < 0:
                return None
            # nodes beyond the sink count as at its distance: reduced costs stay >= 0, and the
            # search for the next route settles no more of the city than it needs
            reach = dist[self.sink]
            potential = [p + (d if d < reach else reach) for p, d in zip(potential, dist)]
            node = self.sink
            while node != source:
                arc = via[node]
                arcs.cap[arc] -= 1
                arcs.cap[arc ^ 1] += 1
                node = arcs.head[arc ^ 1]
        # decompose the flow: forward arcs with spent capacity carry one unit each
        used: dict[int, list[int]] = {}
        cost = 0
        for arc in range(0, len(arcs.head), 2):
            if arcs.cap[arc] < base[arc]:
                used.setdefault(arcs.head[arc ^ 1], []).append(arc)
                cost += arcs.cost[arc]
        routes = []
        for _ in range(self.count):
            legs, node, pop = [], source, None
            while node != self.sink:
                arc = used[node].pop()
                label = arcs.label[arc]
                if label[0] == "pop":
                    pop = label[1]
                elif len(label) == 3:
                    legs.append(make_leg(self.net, *label))
                node = arcs.head[arc]
            routes.append(Route(tuple(legs), pop, self.net.pops[pop]))
        return routes, cost


MAX_PAIR_SOLVES = 32  # branch-and-bound nodes for the faults the flow does not see


def min_cost_routes(net: CandidateNetwork, site: Node, count: int, forbidden: frozenset = frozenset()) -> list[Route]:
    """``count`` (1 or 2) routes from ``site`` to PoPs of least total single-cable cost; a
    pair is redundant by ``pair_faults`` (no trench, manhole, building or street corridor
    in common, neither doubling back nor running along itself) and ends in two different
    PoP buildings wherever the network allows.

    Trenches and nodes are kept apart by the flow itself (Suurballe on the split-node
    graph). The rest (buildings, corridors, the manholes and trenches of a ridden cable, a
    route doubling back) a branch-and-bound resolves: it forbids each candidate edge or
    node that brings the current pair to its first fault (``fault_handles``) and solves
    again, the flow's cost being a lower bound on every pair below it. After
    ``MAX_PAIR_SOLVES`` the pair with the fewest faults is kept, and ``pair_faults``
    reports every one left. ``forbidden``: candidate edges (``Leg.edge_id``) and nodes no
    route may take."""
    if not net.pops:
        raise NoRouteError("the network has no PoP to connect to")
    problem = _PairProblem(net, site, count)
    solved = problem.solve(forbidden)
    if solved is None:
        raise NoRouteError(f"site {site[1]} cannot reach a PoP over the candidate network")
    if count == 1:
        return solved[0]
    best_routes, best_value = None, float("inf")
    stack = [(forbidden, solved)]
    solves, known = 1, {}
    while stack:
        forbidden, (routes, cost) = stack.pop()
        if cost >= best_value:
            continue
        faults = pair_faults(net, *routes, known)
        value = cost + problem.share_penalty * len(faults)
        if value < best_value:
            best_routes, best_value = routes, value
        for handle in (fault_handles(net, routes, faults[0].elements) if faults else ()):
            if solves >= MAX_PAIR_SOLVES:
                break
            branch = forbidden | {handle}
            solves += 1
            result = problem.solve(branch)
            if result is not None and result[1] < best_value:
                stack.append((branch, result))
    return best_routes


def fault_handles(net: CandidateNetwork, routes: Iterable[Route], elements: Iterable[Hashable]) -> list[Hashable]:
    """What brings ``routes`` to a fault's ``elements`` (trenches, route nodes), as things a
    search can forbid, in travel order: the candidate edges that lie in them or pass them
    (a ride on spare strands lies in its cable's trenches and manholes), the nodes the
    routes step on where they are (a closure lies in its manhole)."""
    walked = [[(leg, _lies_in(net, leg)) for leg in route.legs] for route in routes]
    handles = []
    for element in elements:
        for legs in walked:
            for leg, lies_in in legs:
                if element in lies_in:
                    handles.append(leg.edge_id)
                handles += [node for node in (leg.a, leg.b) if node[0] != "site" and location(node) == element]
    return list(dict.fromkeys(handles))


def _lies_in(net: CandidateNetwork, leg: Leg) -> set[Hashable]:
    """The trenches and manholes a leg lies in between its ends: a ride on spare strands
    its cable's, any other leg its own trench."""
    if leg.kind != STRAND:
        return {leg.edge_id}
    trenches = {trench_identity(*step) for step in net.edge(leg.a, leg.b, leg.key)["trenches"]}
    return trenches | set(strand_nodes(net, leg.a, leg.b, leg.key)) - {location(leg.a), location(leg.b)}


def trench_identity(trench: int, u: int, v: int) -> tuple:
    """The identity of an existing trench, as its candidate edge (a free duct) has it."""
    return (frozenset((("n", u), ("n", v))), ("t", trench))


def own_entry_nodes(net: CandidateNetwork, site: Node) -> set[Node]:
    """The site's documented entry node(s): part of its own building."""
    return {b for _, b, d in net.graph.edges(site, data=True) if d["kind"] == OWN_ENTRY}


def location(node: Node) -> Node:
    """Where a candidate node is: a closure lies in its manhole."""
    return ("n", node[1]) if node[0] == "x" else node


def strand_nodes(net: CandidateNetwork, u: Node, v: Node, key: Hashable) -> list[Node]:
    """The route nodes a strand edge's cable passes, from ``u``'s end to ``v``'s, its end
    manholes included: its trenches walked as a chain (a part of a cable opened mid-span
    starts at neither of the cable's ends; the stored order may run either way)."""
    steps = [(a, b) for _, a, b in net.edge(u, v, key)["trenches"]]
    chains = [trench_walk(start, steps) for start in steps[0]] + [trench_walk(start, steps[::-1])
                                                                   for start in steps[-1]]
    walk = next(filter(None, chains), None)
    if walk is None:  # not a chain: every trench end in the stored order
        walk = [end for step in steps for end in step]
    nodes = [("n", n) for n in walk]
    # an end of the edge may be a node beside the cable's end (a PoP's node in the building
    # of the manhole the cable ends in): orient by where each end is, else by its building
    ends = (location(u), location(v))
    for same in (lambda a, b: a == b, lambda a, b: net.building_of(a) is not None and
                 net.building_of(a) == net.building_of(b)):
        if same(ends[0], nodes[0]) or same(ends[1], nodes[-1]):
            return nodes
        if same(ends[0], nodes[-1]) or same(ends[1], nodes[0]):
            return nodes[::-1]
    return nodes


def risk_rules(net: CandidateNetwork) -> RiskRules:
    """The network's risk rules, projected at one latitude: a pair of trenches measures the
    same in every check (a plan's two routes, the exact program's whole network)."""
    rules = net.risk_rules
    return rules if rules.lat0 is not None else replace(rules, lat0=net._lat0)


def route_view(net: CandidateNetwork, route: Route, site: Node) -> RouteView:
    """A route as the shared-risk rules see it: its own entry is no trench, its entry node
    is part of the site's building; a ride on spare strands is its cable's trenches and
    manholes, in the order passed."""
    own = own_entry_nodes(net, site)
    position = lambda node: [net.graph.nodes[node]["lon"], net.graph.nodes[node]["lat"]]  # noqa: E731
    trenches, ends, nodes = {}, {}, []
    passes, trench_passes = [location(route.legs[0].a)] if route.legs else [], []
    for leg in route.legs:
        if leg.kind == STRAND:  # the cable's own trenches and manholes
            for trench, u, v in net.edge(leg.a, leg.b, leg.key)["trenches"]:
                identity = trench_identity(trench, u, v)
                trenches[identity] = net.trench_coords[trench]
                ends[identity] = (position(("n", u)), position(("n", v)))
                nodes += [("n", u), ("n", v)]
                trench_passes.append(identity)
            passes += strand_nodes(net, leg.a, leg.b, leg.key)
        elif leg.kind not in (OWN_ENTRY, SPLICE):
            trenches[leg.edge_id] = net.coords_of(leg.a, leg.b, leg.key)
            ends[leg.edge_id] = (position(leg.a), position(leg.b))
            trench_passes.append(leg.edge_id)
        nodes += [location(n) for n in (leg.a, leg.b)]
        passes.append(location(leg.b))
    return RouteView(trenches=trenches, trench_ends=ends,
                     nodes={node: site if node in own else net.building_of(node) for node in nodes},
                     passes=tuple(passes), trench_passes=tuple(trench_passes))


def _own(net: CandidateNetwork, site: Node) -> set:
    return {site} | {net.building_of(n) for n in own_entry_nodes(net, site)} - {None}


def route_faults(net: CandidateNetwork, route: Route) -> list[SharedRisk]:
    """What a route shares with itself (``topology.risk.self_risks``): it doubles back
    through a node, trench or building it passed, or runs along itself in a street corridor."""
    site = route.legs[0].a
    return self_risks(route_view(net, route, site), _own(net, site), risk_rules(net))


def pair_faults(net: CandidateNetwork, first: Route, second: Route, known: dict | None = None
                ) -> list[SharedRisk]:
    """Everything that keeps a site's two routes from being redundant
    (``topology.risk.pair_risks``, the one rule): what they share, then what either shares
    with itself (``route_faults``, tagged with its route). ``plan connect --redundant``,
    the redundant batch's heuristic and its exact program all solve for pairs with none.
    ``known`` remembers each route's view and own faults across calls (one site's)."""
    known = {} if known is None else known
    site = first.legs[0].a
    own, rules = _own(net, site), risk_rules(net)
    for route in (first, second):
        if route not in known:
            view = route_view(net, route, site)
            known[route] = (view, self_risks(view, own, rules))
    (view_a, faults_a), (view_b, faults_b) = known[first], known[second]
    return pair_risks(view_a, view_b, own, rules, own_risks=(faults_a, faults_b))


def shared_legs(first: Route, second: Route) -> list[Leg]:
    """Trenches both routes run through (a site's own entry node is no trench)."""
    ids = {leg.edge_id for leg in second.legs}
    return [leg for leg in first.legs if leg.edge_id in ids and leg.kind != OWN_ENTRY]
