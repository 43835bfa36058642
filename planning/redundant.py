"""Redundant batches: many sites, each with two routes to the PoP side that share no risk
(``topology.risk``: no trench, manhole, junction, building other than the site's own, no
street corridor; the two routes end in two PoP buildings), neither doubling back on
itself, at least total cost, with trenches shared between *different* sites wherever
that is cheaper.

One model for the heuristic, the exact program and the check of a plan
(``planning.routing.pair_faults``): a route is what it lies in. A ride on spare strands
jumps from closure to closure in the candidate graph, but its cable lies in every trench
and manhole between (``RedundantInstance.edge_trenches``, ``edge_entries``); a closure
lies in its manhole. A route passes each manhole, trench and building at most once (a
ridden cable entering and leaving a manhole the route passed already doubles back), and
no two of its trenches lie in one street corridor (a route running along itself).

The exact problem, as a mixed-integer program (``exact_pairs``, HiGHS via scipy)::

    min  Σ_e fixed_e · y_e  +  Σ_t Σ_a per_cable_a · x_t,a
    s.t. x_t: two units of flow from site t to the root (behind every PoP); no flow into any
              site being planned, none on from a PoP (a route ends at the first PoP)
         x_t,(u→v) + x_t,(v→u) ≤ y_e       an edge is dug (a closure opened) once, if used
         Σ_a entries_a(g) · x_t,a ≤ 1       every risk group g (a manhole with its closure, a
                                            junction, a building's nodes together, PoP
                                            buildings too) except t's own building and
                                            documented entry: entered once by one route;
                                            a strand arc enters every group its cable passes
         Σ_a times_a(r) · x_t,a ≤ 1         every trench r (a strand arc lies in its cable's)
         Σ_{a ∋ r} x_t,a + Σ_{a ∋ s} x_t,a ≤ 1   trenches r, s in one street corridor
                                            (``corridor_pairs``: one route, or two, along it)
         Σ_t x_t on a cable's strand edges ≤ its free pairs; Σ_t inflow_t(closure) ≤ its room
                                            for pair joins (``planning.strands.limits``)
         y, x binary (a site's own documented entry: x ≤ 2)

The flow is two units of one commodity per site, so every rule holds for the two routes
together: one route, or two, into a group, along a trench or a corridor pair. The PoP
buildings being groups makes the routes end in two different buildings. Its LP
relaxation (``lp_relaxation``) is the lower bound of small batches.

The heuristic for the city (``plan_redundant_batch``): each site's pair is a Suurballe
pair on a split-node graph (two Dijkstra searches, scipy's C csgraph; every manhole an
arc of capacity one, a hub per PoP building), priced per cable plus the fixed cost of
every trench no other site digs yet; what the flow does not keep apart (buildings,
corridors, the manholes and trenches of a ridden cable, a route doubling back) is
resolved by a small branch-and-bound (forbid an edge or a manhole that brings a route
to the first fault, solve again; the pair's cost bounds everything below it), judged by
``pair_faults``, the one definition. Sites are added farthest first, then ripped up
and re-routed in turn until no site finds a cheaper pair given what the others dig. No
step puts more routes on a cable's spare strands or through a closure than it has room
for: a site's search keeps off the ones the others fill (``RedundantInstance.best_pair_within``),
and a start that overloads one (the independent pairs) is repaired first, the site losing
least moving off it (``_within_limits``).

Large batches are bounded by Lagrangian relaxation of ``x ≤ y``: any split of each
trench's fixed cost among the sites (Σ_t price_t,e ≤ fixed_e) makes Σ_t (t's cheapest
node-disjoint pair at per-cable + price_t) a lower bound (the pair searched without the
rules the branch-and-bound adds: a relaxation of each site's problem). The split is
found by damped re-pricing rounds, then subgradient steps from the best of them, each
step's split scaled back within every trench's fixed cost (``lagrangian_bound``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Hashable

import networkx as nx
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from netops.errors import NetopsError
from planning.batch import SkippedSite, batch_summary, cost_shares, unreachable_reason
from planning.bounds import LowerBound
from planning.connect import BomLine, SiteSpec, bill_of_materials, bom_total, route_dict
from planning.exact import NODE_LIMIT  # the same count of work as the single-route MILP
from planning.network import OWN_ENTRY, SPLICE, STRAND, CandidateNetwork, Node
from planning.routing import (Route, fault_handles, location, make_leg, own_entry_nodes, pair_faults, risk_rules,
                              settle_to, strand_nodes, trench_identity)
from planning.strands import edge_limits, limits
from topology.risk import corridors, in_measuring_order, stable_key

_EPS = 1e-9  # csgraph treats 0 as "no arc"
MAX_PAIR_SOLVES = 32  # branch-and-bound nodes per site for building and corridor conflicts
MAX_PASSES = 8  # rip-up and re-route passes
#: pair searches ``best_pair`` remembers, the least recently asked forgotten first: a batch asks
#: again within a construction or pass (a few per site), while every Lagrangian round and
#: subgradient step prices anew, which would otherwise keep (LAGRANGIAN_ROUNDS +
#: LAGRANGIAN_STEPS) x sites pairs, and more with every call, for the instance's whole life
MAX_REMEMBERED_PAIRS = 4096
FLOOR_SLACK = 1e-5  # euros: more than a pair's cost and its floor can differ by summing in other orders (and _EPS)
# constructions: (per-cable weight, fixed-cost weight) while adding sites; later sites follow
CONSTRUCTIONS = ((1.0, 1.0), (3.0, 1.0), (1.0, 0.5))
MAX_REGROUP_SITES = 24  # batches up to this size try every construction and re-group pairs of sites
EXACT_MAX_VARIABLES = 150_000  # sites × directed arcs up to which the MILP / its LP is stated
LAGRANGIAN_ROUNDS = 15  # re-pricing rounds of the Lagrangian bound (each one pair search per site)
DAMPING = 0.3  # part of each trench's price that follows its users per round
LAGRANGIAN_STEPS = 60  # subgradient steps after them (each one pair search per site)
STEP_SIZE = 3.0  # Polyak's factor of the first step (on the city: 1.2, 2 and 3 tried, 3 best in 60 steps)
STALLED_STEPS = 3  # steps without a better bound before the step size halves
NO_PAIR = ("no two routes to two PoP buildings sharing no trench, manhole, building or street "
           "corridor (nor doubling back) over the candidate network")
NO_PAIR_LEFT = ("no two routes sharing no risk within the spare strand pairs and closure splices the "
                "other sites of the batch leave")


class TooLargeError(NetopsError):
    """The redundant batch is too large for the exact solver."""


@dataclass
class Pair:
    """A site's two routes: candidate edges (indexes) per route, and the Route objects."""

    edges: tuple[tuple[int, ...], tuple[int, ...]]
    routes: tuple[Route, Route]


@dataclass(frozen=True, eq=False)
class Leftover:
    """What the other sites of a plan leave one site (``RedundantInstance.left_for``): their
    uses of each limited cable and closure, and the candidate edges it must keep off."""

    others: np.ndarray
    blocked: np.ndarray


class RedundantInstance:
    """The candidate network of a redundant batch as arrays: its edges, which risk group
    every node is in, each site's own groups; the split-node graph of the heuristic."""

    def __init__(self, net: CandidateNetwork, sites: list[Node]):
        self.net, self.sites = net, list(sites)
        self.nodes = list(net.graph.nodes)
        self.index = {node: i for i, node in enumerate(self.nodes)}
        self.edges = [(u, v, k) for u, v, k in net.graph.edges(keys=True) if u != v]
        self.edge_index = {(frozenset((u, v)), k): e for e, (u, v, k) in enumerate(self.edges)}
        data = [net.graph.edges[e] for e in self.edges]
        self.fixed = np.array([d["fixed_eur"] for d in data], dtype=float)
        self.per_cable = np.array([d["per_cable_eur"] for d in data], dtype=float)
        self.ends = np.array([(self.index[u], self.index[v]) for u, v, _ in self.edges], dtype=np.int64
                             ).reshape(-1, 2)
        self.is_site = np.array([n[0] == "site" for n in self.nodes])
        self.is_pop = np.array([n in net.pops for n in self.nodes])
        self._group_ids: dict = {}
        # a node's risk group: its building (a site's nodes, sites metres apart), else where it
        # is (a closure lies in its manhole)
        self.group = np.array([self.group_of(n) for n in self.nodes], dtype=np.int64)
        self.at_location: dict[Node, list[int]] = defaultdict(list)
        for i, n in enumerate(self.nodes):
            self.at_location[location(n)].append(i)
        # each edge's shared-risk set, as ``planning.routing.route_view`` sees a route on it:
        # the trenches it lies in (spare strands: their cable's), and the groups it enters on
        # its way from one end to the other (spare strands: every manhole of the cable)
        self.edge_trenches = [self._trenches(u, v, k, d) for (u, v, k), d in zip(self.edges, data)]
        self.edge_entries = [self._entries(u, v, k, d) for (u, v, k), d in zip(self.edges, data)]
        self._pair_faults: dict[tuple[Route, Route], list] = {}
        self._route_views: dict[Node, dict] = {}
        self._reusable_arcs: dict[Node, np.ndarray] = {}
        self._best_pairs: OrderedDict[tuple, Pair | None] = OrderedDict()  # at most MAX_REMEMBERED_PAIRS
        self._first_solves: dict[Node, tuple[bytes, tuple | None]] = {}  # site -> its last (weights, solve)
        self._pair_limit_uses: dict[tuple, np.ndarray] = {}
        self._last_costs: tuple = (None, [], [])
        site_set = set(self.sites)
        own_entry = [d["kind"] == OWN_ENTRY for d in data]
        self.own_edges: dict[Node, frozenset[int]] = {
            t: frozenset(e for e, (u, v, _) in enumerate(self.edges) if own_entry[e] and t in (u, v))
            for t in site_set}
        self.own_groups: dict[Node, frozenset[int]] = {
            t: frozenset({int(self.group[self.index[t]])}
                         | {int(self.group[self.index[n]]) for n in own_entry_nodes(net, t)})
            for t in site_set}
        self.is_own_entry = np.array(own_entry, dtype=bool)
        # limited cables and closures (``planning.strands.limits``): routes each has room for,
        # the candidate edges a route on it takes, and a closure's node (-1 for a cable)
        known = limits(net)
        self.limit_names = [known[k].name for k in known]
        self.limit_routes = np.array([known[k].routes for k in known], dtype=np.int64)
        # in edge uses, as ``planning.strands.limit_counter`` counts them: a route takes a pair of a
        # cable on every leg along its strands (the change set gives each leg its own pair), and
        # enters and leaves a closure on two edges
        self.limit_room = np.array([known[k].routes * known[k].arcs_per_route for k in known], dtype=np.int64)
        self.limit_node = np.array([self.index[k[1]] if k[0] == "closure" else -1 for k in known], dtype=np.int64)
        number = {k: i for i, k in enumerate(known)}
        self.limits_of_edge: dict[int, list[int]] = defaultdict(list)
        for e, ((u, v, _), d) in enumerate(zip(self.edges, data)):
            for limit in edge_limits(u, v, d["kind"], d.get("cable_id")):
                if limit in number:
                    self.limits_of_edge[e].append(number[limit])
        on: dict[int, list[int]] = defaultdict(list)
        for e, numbers in self.limits_of_edge.items():
            for limit in numbers:
                on[limit].append(e)
        self.limit_edges = [np.array(on[i], dtype=np.int64) for i in range(len(known))]

    def group_of(self, node: Node) -> int:
        where = location(node)
        return self._group_ids.setdefault(self.net.building_of(where) or where, len(self._group_ids))

    def _trenches(self, u: Node, v: Node, key, d: dict) -> tuple:
        if d["kind"] == STRAND:
            return tuple(trench_identity(*step) for step in d["trenches"])
        return () if d["kind"] in (OWN_ENTRY, SPLICE) else ((frozenset((u, v)), key),)

    def _entries(self, u: Node, v: Node, key, d: dict) -> tuple[dict[int, int], dict[int, int]]:
        """Per direction (u to v, v to u): how often a route along the edge enters each group."""
        way = [self.group_of(u)] + ([self.group_of(n) for n in strand_nodes(self.net, u, v, key)]
                                    if d["kind"] == STRAND else []) + [self.group_of(v)]
        result = []
        for seq in (way, way[::-1]):
            entered: dict[int, int] = defaultdict(int)
            for before, group in zip(seq, seq[1:]):
                if group != before:
                    entered[group] += 1
            result.append(dict(entered))
        return result[0], result[1]

    def directed(self) -> list[tuple[int, int, int]]:
        """Every arc a route may take, (tail, head, edge): never into a site being planned,
        never on from a PoP; plus (pop, root, -1) behind every PoP (root = len(nodes))."""
        arcs = []
        for e, (a, b) in enumerate(self.ends.tolist()):
            for tail, head in ((a, b), (b, a)):
                if not self.is_site[head] and not self.is_pop[tail]:
                    arcs.append((tail, head, e))
        root = len(self.nodes)
        arcs += [(int(p), root, -1) for p in np.flatnonzero(self.is_pop)]
        return arcs

    # -- spare strands and closures: routes within what each has room for ------------------------

    def limit_usage(self, pairs: dict[Node, Pair], but: Node | None = None) -> np.ndarray:
        """Edge uses of each limited cable and closure by the routes of every site but
        ``but`` (against ``limit_room``)."""
        count = np.zeros(len(self.limit_room), dtype=np.int64)
        for t, pair in pairs.items():
            if t != but:
                count += self._limit_uses(pair)
        return count

    def _limit_uses(self, pair: Pair) -> np.ndarray:
        """Edge uses of each limited cable and closure by ``pair``'s routes; remembered (by
        its edges): the searches count the same pairs again and again."""
        if pair.edges not in self._pair_limit_uses:
            count = np.zeros(len(self.limit_room), dtype=np.int64)
            np.add.at(count, [l for route in pair.edges for e in route for l in self.limits_of_edge.get(e, ())], 1)
            self._pair_limit_uses[pair.edges] = count
        return self._pair_limit_uses[pair.edges]

    def limit_mask(self, limits) -> np.ndarray:
        """The candidate edges of the cables and closures ``limits``."""
        mask = np.zeros(len(self.edges), dtype=bool)
        for limit in limits:
            mask[self.limit_edges[limit]] = True
        return mask

    def left_for(self, pairs: dict[Node, Pair], site: Node, also: tuple[int, ...] = ()) -> Leftover:
        """What the sites of ``pairs`` but ``site`` leave it of every limit (counted once for
        ``pair_floor`` and ``best_pair_within`` of one step): their uses, and the edges of
        the limits they fill and of the limits ``also``."""
        others = self.limit_usage(pairs, but=site)
        return Leftover(others, self.limit_mask(set(np.flatnonzero(others >= self.limit_room).tolist()) | set(also)))

    def best_pair_within(self, left: Leftover, site: Node, edge_weights: np.ndarray) -> Pair | None:
        """``best_pair`` within what the other sites leave (``left_for``): off every cable and
        closure they fill (and those ``left_for`` was given), and off one the pair itself would
        overfill (its two routes on two parts of a cable opened mid-span take two pairs):
        searched again without it."""
        blocked = left.blocked.copy()
        while True:
            pair = self.best_pair(site, np.where(blocked, np.inf, edge_weights))
            if pair is None:
                return None
            mine = self.limit_usage({site: pair})
            over = np.flatnonzero((mine > 0) & (left.others + mine > self.limit_room))
            if not len(over):
                return pair
            blocked |= self.limit_mask(over.tolist())

    def pair_floor(self, left: Leftover, site: Node, edge_weights: np.ndarray) -> float:
        """A lower bound on the cost of ``best_pair_within``'s pair (inf: there is none): the
        first flow solve of its first search (its branch-and-bound and re-searches only
        forbid more). Remembered: that search starts from it."""
        found = self._first_solve(site, np.where(left.blocked, np.inf, edge_weights))
        return np.inf if found is None else found[3]

    def _first_solve(self, site: Node, edge_weights: np.ndarray):
        """``suurballe`` at ``edge_weights`` with nothing forbidden; the last one per site is
        kept (``pair_floor`` and the search after it ask for the same; a batch's every step
        another would pile up)."""
        key = hashlib.blake2b(edge_weights.tobytes(), digest_size=16).digest()
        last = self._first_solves.get(site)
        if last is None or last[0] != key:
            last = self._first_solves[site] = (key, self.suurballe(site, edge_weights))
        return last[1]

    def fits(self, pairs: dict[Node, Pair], site: Node, pair: Pair) -> bool:
        """Whether ``pair`` fits in what the other sites leave of every cable and closure it takes."""
        mine = self.limit_usage({site: pair})
        return bool(((mine == 0) | (self.limit_usage(pairs, but=site) + mine <= self.limit_room)).all())

    def overloaded(self, pairs: dict[Node, Pair]) -> list[str]:
        """Names of the cables and closures ``pairs`` put more routes on than they have room for."""
        return [self.limit_names[l] for l in np.flatnonzero(self.limit_usage(pairs) > self.limit_room)]

    # -- cost of a plan ------------------------------------------------------------------------

    def cost(self, pairs: dict[Node, Pair]) -> float:
        """Fixed cost of every edge dug once, per-cable cost once per route along it."""
        used = [e for pair in pairs.values() for route in pair.edges for e in route]
        if not used:
            return 0.0
        return float(self.fixed[np.unique(used)].sum() + self.per_cable[used].sum())

    def usage(self, pairs: dict[Node, Pair]) -> np.ndarray:
        """How many sites dig each edge."""
        count = np.zeros(len(self.edges), dtype=np.int64)
        for pair in pairs.values():
            np.add.at(count, list({e for route in pair.edges for e in route}), 1)
        return count

    # -- the split-node graph ------------------------------------------------------------------

    @cached_property
    def _split(self) -> dict:
        """Vertices: node i in 2i, out 2i + 1; a hub per PoP building; the sink; a mid-vertex
        for every parallel candidate after the first between two nodes. Arcs j in one list
        with each vertex's out-arcs; count + j names arc j reversed (a residual arc)."""
        n = len(self.nodes)
        hubs = {g: 2 * n + i for i, g in enumerate(sorted({int(self.group[p]) for p in np.flatnonzero(self.is_pop)}))}
        sink = 2 * n + len(hubs)
        size = sink + 1
        tails, heads, edge_ref, node_ref = [], [], [], []
        of_edge, of_node = defaultdict(list), defaultdict(list)  # what a search forbids: its arcs

        def arc(tail: int, head: int, edge: int = -1, node: int = -1) -> None:
            if edge >= 0:
                of_edge[edge].append(len(tails))
            if node >= 0:
                of_node[node].append(len(tails))
            tails.append(tail), heads.append(head), edge_ref.append(edge), node_ref.append(node)

        for i in range(n):
            if not self.is_site[i]:
                arc(2 * i, 2 * i + 1, node=i)
        seen = set()
        for e, (a, b) in enumerate(self.ends.tolist()):
            for tail, head in ((a, b), (b, a)):
                if self.is_site[head] or self.is_pop[tail]:
                    continue
                if (tail, head) in seen:  # a parallel candidate: through its own mid-vertex
                    arc(2 * tail + 1, size, edge=e)
                    arc(size, 2 * head)
                    size += 1
                else:
                    seen.add((tail, head))
                    arc(2 * tail + 1, 2 * head, edge=e)
        for p in np.flatnonzero(self.is_pop):
            arc(2 * int(p) + 1, hubs[int(self.group[p])], node=-2 - int(p))  # -2 - p: behind PoP p
        for hub in hubs.values():
            arc(hub, sink)
        out: list[list[int]] = [[] for _ in range(size)]  # each vertex's arcs
        for j, tail in enumerate(tails):
            out[tail].append(j)
        edge_ref_a = np.array(edge_ref, dtype=np.int64)
        node_ref_a = np.array(node_ref, dtype=np.int64)
        return {"tails": tails, "heads": heads, "edge": edge_ref, "edge_a": edge_ref_a, "node": node_ref_a,
                "out": out, "sink": sink, "count": len(tails), "of_edge": dict(of_edge), "of_node": dict(of_node),
                "to": heads + tails}  # the head of arc j, and of count + j (arc j reversed)

    def _arc_costs(self, edge_weights: np.ndarray) -> list[float]:
        """Each split-graph arc's cost at ``edge_weights`` (inf: closed), at least ``_EPS``
        (of two equal routes the one of fewer arcs wins), then each reversed (count + j: the
        negative); and the costs as given. The last one is kept: a site's branch-and-bound
        searches again and again at the same weights."""
        key = hashlib.blake2b(edge_weights.tobytes(), digest_size=16).digest()
        if self._last_costs[0] != key:
            s = self._split
            costs = np.where(s["edge_a"] >= 0, edge_weights[np.maximum(s["edge_a"], 0)], 0.0)
            floored = np.maximum(costs, _EPS)
            self._last_costs = (key, np.concatenate([floored, -floored]).tolist(), costs.tolist())
        return self._last_costs[1:]

    def _search(self, cost: list[float], source: int, closed: set[int], potential: list[float] | None = None,
                reach: float = np.inf, first: list[int] = ()) -> tuple[list[float], list[int], float] | None:
        """Least-cost distances from ``source`` over arcs costing ``cost`` but the ``closed``
        ones, settled up to the sink (``planning.routing.settle_to``: a city's site reaches its
        PoPs within a few hundred of 20,000 vertices); None: out of reach. After a ``first``
        route: its arcs reversed (count + j) open, costs reduced by ``potential`` capped at
        ``reach`` (the sink's), so they stay >= 0 (reversed ones: 0, at least ``_EPS``)."""
        s = self._split
        usable = bytearray(b"\x01") * len(s["to"])
        for j in closed:
            usable[j] = 0
        back = {s["heads"][j]: [s["count"] + j] for j in first}  # a route enters a vertex once
        dist, via = settle_to(s["sink"], source, s["out"], s["to"], cost, usable, potential or [0.0] * len(s["out"]),
                              reach, _EPS, back)
        return None if dist[s["sink"]] == np.inf else (dist, via, dist[s["sink"]])

    def _path(self, via: list[int], source: int) -> list[int]:
        """The arcs (count + j: arc j reversed) from ``source`` to the sink, in order."""
        s = self._split
        arcs, vertex, count = [], s["sink"], s["count"]
        while vertex != source:
            j = via[vertex]
            arcs.append(j)
            vertex = s["tails"][j] if j < count else s["heads"][j - count]
        return arcs[::-1]

    def suurballe(self, site: Node, edge_weights: np.ndarray, forbidden_edges: frozenset[int] = frozenset(),
                  forbidden_nodes: frozenset[int] = frozenset()) -> tuple[tuple[list[int], list[int]], int, int, float] | None:
        """Site's two node-disjoint routes of least total ``edge_weights`` (to two PoP
        buildings; its own building and entry free to both): per route the edges in travel
        order, the PoP node (index) of each, and the total weight. None when there are none.
        Two successive shortest-path searches, each stopped at the sink: vertices beyond it
        take the sink's distance as potential, so the residual's reduced costs stay >= 0."""
        s = self._split
        count, tails, heads, edge_of = s["count"], s["tails"], s["heads"], s["edge"]
        cost, raw = self._arc_costs(edge_weights)
        closed = {j for e in forbidden_edges for j in s["of_edge"].get(e, ())}
        closed.update(j for i in forbidden_nodes for j in s["of_node"].get(i, ()))
        source = 2 * self.index[site] + 1
        found = self._search(cost, source, closed)
        if found is None:
            return None
        dist, via, reach = found
        first = self._path(via, source)
        reusable = self._reusable(site)
        taken = {j for j in first if not reusable[j]}  # a second route may not run along them
        found = self._search(cost, source, closed | taken, dist, reach, first)
        if found is None:
            return None
        second = self._path(found[1], source)
        flow: dict[int, int] = defaultdict(int)
        for j in first:
            flow[j] += 1
        for j in second:
            flow[j % count] += 1 if j < count else -1
        used = sorted(j for j, f in flow.items() if f > 0)
        out: dict[int, list[int]] = defaultdict(list)
        for j in used:
            out[tails[j]] += [j] * flow[j]
        routes, pops = [], []
        for _ in range(2):
            vertex, edges, pop = source, [], -1
            while vertex != s["sink"]:
                j = out[vertex].pop()
                if edge_of[j] >= 0:
                    edges.append(edge_of[j])
                elif s["node"][j] <= -2:
                    pop = -2 - int(s["node"][j])
                vertex = heads[j]
            routes.append(edges)
            pops.append(pop)
        total = sum(raw[j] * flow[j] for j in used)
        return (routes[0], routes[1]), pops[0], pops[1], float(total)

    def _reusable(self, site: Node) -> np.ndarray:
        """The split graph's arcs both of ``site``'s routes may take: its own documented entry,
        the nodes of its own building."""
        if site not in self._reusable_arcs:
            s = self._split
            self._reusable_arcs[site] = np.isin(s["edge_a"], list(self.own_edges[site])) | (
                (s["node"] >= 0) & np.isin(self.group[np.maximum(s["node"], 0)], list(self.own_groups[site])))
        return self._reusable_arcs[site]

    def route(self, site: Node, edges: list[int], pop: int) -> Route:
        """Edges in travel order (from the site) as a Route of candidate legs."""
        legs, node = [], site
        for e in edges:
            u, v, key = self.edges[e]
            nxt = v if u == node else u
            legs.append(make_leg(self.net, node, nxt, key))
            node = nxt
        pop_node = self.nodes[pop]
        return Route(tuple(legs), pop_node, self.net.pops[pop_node])

    def best_pair(self, site: Node, edge_weights: np.ndarray, budget: int = MAX_PAIR_SOLVES) -> Pair | None:
        """The site's cheapest pair at ``edge_weights`` that shares no risk at all: Suurballe
        keeps trenches and nodes apart, a branch-and-bound the buildings and corridors.
        Remembered (the last ``MAX_REMEMBERED_PAIRS``): the constructions and re-routing passes
        ask again for sites whose prices nothing has changed."""
        key = (site, hashlib.blake2b(edge_weights.tobytes(), digest_size=16).digest(), budget)
        if key in self._best_pairs:
            self._best_pairs.move_to_end(key)
            return self._best_pairs[key]
        pair = self._best_pairs[key] = self._search_pair(site, edge_weights, budget)
        if len(self._best_pairs) > MAX_REMEMBERED_PAIRS:
            self._best_pairs.popitem(last=False)
        return pair

    def _search_pair(self, site: Node, edge_weights: np.ndarray, budget: int) -> Pair | None:
        def solve(edges: frozenset, nodes: frozenset):
            found = (self.suurballe(site, edge_weights, edges, nodes) if edges or nodes
                     else self._first_solve(site, edge_weights))
            if found is None:
                return None
            (a, b), pop_a, pop_b, total = found
            return Pair((tuple(a), tuple(b)), (self.route(site, a, pop_a), self.route(site, b, pop_b))), total

        # a branch is solved when taken from the stack, not when made: its parent's cost bounds
        # it from below (forbidding more never makes a pair cheaper), so a branch that bound
        # already rules out is dropped unsolved (the branches made, and so the plan, are the same)
        stack = [(frozenset(), frozenset(), -np.inf)]
        best, best_cost, solves = None, np.inf, 1
        while stack:
            edges, nodes, bound = stack.pop()
            if bound >= best_cost - 1e-9:
                continue
            solved = solve(edges, nodes)
            if solved is None or solved[1] >= best_cost - 1e-9:
                continue
            pair = solved[0]
            faults = self.faults(pair)
            if not faults:
                best, best_cost = pair, solved[1]
                continue
            for kind, handle in self._handles(pair, faults[0].elements):
                if solves >= budget:
                    break
                solves += 1
                if kind == "edge":
                    branch = (edges | {handle}, nodes)
                else:
                    branch = (edges, nodes | set(self.at_location[handle]))
                stack.append((*branch, solved[1]))
        return best

    def faults(self, pair: Pair) -> list:
        """``planning.routing.pair_faults``, remembered: the searches meet the same routes
        and pairs again and again."""
        if pair.routes not in self._pair_faults:
            site = pair.routes[0].legs[0].a
            self._pair_faults[pair.routes] = pair_faults(self.net, *pair.routes, self._route_views.setdefault(site, {}))
        return self._pair_faults[pair.routes]

    def _handles(self, pair: Pair, elements: tuple) -> list[tuple[str, Hashable]]:
        """``planning.routing.fault_handles`` as this search forbids them: candidate edges by
        index, nodes by where they are (a manhole with its closure)."""
        return list(dict.fromkeys(("edge", self.edge_index[h]) if h in self.edge_index else ("location", location(h))
                                  for h in fault_handles(self.net, pair.routes, elements)))

    def weights(self, dug: np.ndarray, sharing: float = 1.0) -> np.ndarray:
        """Per-cable cost (weighed by ``sharing``) plus the fixed cost of every edge not dug."""
        return sharing * self.per_cable + np.where(dug, 0.0, self.fixed)

    def marginal(self, pair: Pair, dug: np.ndarray) -> float:
        edges = [e for route in pair.edges for e in route]
        return float(self.per_cable[edges].sum() + self.fixed[list(set(edges))][~dug[list(set(edges))]].sum())


# -- the heuristic --------------------------------------------------------------------------

def independent_pairs(instance: RedundantInstance) -> dict[Node, Pair]:
    """Every site's cheapest risk-free pair on its own (what single-site plans build)."""
    nothing = instance.weights(np.zeros(len(instance.edges), dtype=bool))
    pairs = {t: instance.best_pair(t, nothing) for t in instance.sites}
    return {t: p for t, p in pairs.items() if p is not None}


def _reroute(instance: RedundantInstance, pairs: dict[Node, Pair]) -> dict[Node, Pair]:
    """Each site in turn takes its cheapest pair given what the others dig (and within the
    strands and closures they leave), until none finds a cheaper one (or ``MAX_PASSES``)."""
    pairs = dict(pairs)
    usage = instance.usage(pairs)
    for _ in range(MAX_PASSES):
        improved = False
        for t in sorted(pairs, key=lambda t: -instance.marginal(pairs[t], np.zeros(len(usage), dtype=bool))):
            own = instance.usage({t: pairs[t]})
            dug = (usage - own) > 0
            weights, now = instance.weights(dug), instance.marginal(pairs[t], dug)
            left = instance.left_for(pairs, t)
            if instance.pair_floor(left, t, weights) > now - 1e-6 + FLOOR_SLACK:
                continue  # no pair of t's is cheaper: its search is not run
            candidate = instance.best_pair_within(left, t, weights)
            if candidate is not None and instance.marginal(candidate, dug) < now - 1e-6:
                pairs[t] = candidate
                usage = usage - own + instance.usage({t: candidate})
                improved = True
        if not improved:
            break
    return pairs


def _insert(instance: RedundantInstance, pairs: dict[Node, Pair], order: list[Node], independent: dict[Node, Pair],
            sharing: float = 1.0, discount: float | np.ndarray = 1.0) -> dict[Node, Pair]:
    """Add the sites of ``order`` one by one onto ``pairs``, each on its cheapest pair given
    what is dug (per-cable costs weighed by ``sharing``, fixed costs not dug yet by
    ``discount``, per trench or for all: both anticipate later sites following the same way)."""
    pairs = dict(pairs)
    usage = instance.usage(pairs)
    for t in order:
        weights = sharing * instance.per_cable + np.where(usage > 0, 0.0, discount * instance.fixed)
        pair = instance.best_pair_within(instance.left_for(pairs, t), t, weights)
        if pair is None and instance.fits(pairs, t, independent[t]):
            pair = independent[t]
        if pair is not None:  # else no risk-free pair within the strands and closures left
            pairs[t] = pair
            usage += instance.usage({t: pair})
    return pairs


def _within_limits(instance: RedundantInstance, pairs: dict[Node, Pair]) -> dict[Node, Pair]:
    """``pairs`` with no cable or closure carrying more routes than it has room for: while
    one is overloaded, each of its sites is priced on its best pair off it (and off every
    other full one it does not hold), given what the others dig; the site losing least
    moves, a site with no such pair leaves the plan."""
    pairs = dict(pairs)
    while True:
        usage = instance.limit_usage(pairs)
        over = np.flatnonzero(usage > instance.limit_room)
        if not len(over):
            return pairs
        crowded = int(over[np.argmin(instance.limit_room[over] - usage[over])])
        dug_by = instance.usage(pairs)
        holders = []  # each site on it with the least it could lose, searched from the least on
        for order, t in enumerate(sorted(pairs, key=repr)):
            if crowded not in {l for route in pairs[t].edges for e in route
                               for l in instance.limits_of_edge.get(e, ())}:
                continue
            dug = (dug_by - instance.usage({t: pairs[t]})) > 0
            weights, now = instance.weights(dug), instance.marginal(pairs[t], dug)
            left = instance.left_for(pairs, t, also=(crowded,))
            holders.append((instance.pair_floor(left, t, weights) - now, order, t, left, weights, dug, now))
        best = None  # (loss, order, t, pair): the least loss, of equal ones the first site
        for floor, order, t, left, weights, dug, now in sorted(holders, key=lambda h: h[:2]):
            if best is not None and floor > best[0] + FLOOR_SLACK:
                break  # no site from here on loses less
            pair = instance.best_pair_within(left, t, weights)
            loss = np.inf if pair is None else instance.marginal(pair, dug) - now
            if best is None or (loss, order) < best[:2]:
                best = (loss, order, t, pair)
        _, _, t, pair = best
        if pair is None:
            del pairs[t]
        else:
            pairs[t] = pair


def _best(instance: RedundantInstance, candidates: list[dict[Node, Pair]]) -> dict[Node, Pair]:
    """The plan connecting the most sites, the cheapest of those."""
    return min(candidates, key=lambda pairs: (-len(pairs), instance.cost(pairs)))


def _regroup(instance: RedundantInstance, pairs: dict[Node, Pair], independent: dict[Node, Pair]
             ) -> dict[Node, Pair]:
    """Rip up two sites that dig near each other at once and add them back in both orders
    (and with fixed costs halved: a way worth digging only for both), keeping what is
    cheaper; until no such move helps."""
    best, best_cost = pairs, instance.cost(pairs)
    # sites whose routes meet somewhere but at a PoP (where every route meets)
    nodes_of = {t: {int(x) for route in p.edges for e in route for x in instance.ends[e]
                    if not instance.is_pop[x]} for t, p in pairs.items()}
    groups = sorted({tuple(sorted((s, t), key=repr)) for s in pairs for t in pairs
                     if s != t and nodes_of[s] & nodes_of[t]}, key=repr)
    failed: set = set()
    improved = True
    while improved:
        improved = False
        for group in groups:
            if group in failed:
                continue
            kept = {t: p for t, p in best.items() if t not in group}
            tries = [_insert(instance, kept, list(order), independent, 1.0, discount)
                     for order in (group, group[::-1]) for discount in (1.0, 0.5)]
            candidate = _best(instance, tries)
            if len(candidate) == len(best) and instance.cost(candidate) < best_cost - 1e-6:
                best = _reroute(instance, candidate)  # the others may now have cheaper ways
                best_cost, improved = instance.cost(best), True
                failed.clear()
            else:
                failed.add(group)
    return best


def redundant_pairs(instance: RedundantInstance, independent: dict[Node, Pair] | None = None,
                    guide: np.ndarray | None = None, max_regroup_sites: int = MAX_REGROUP_SITES
                    ) -> dict[Node, Pair]:
    """The joint redundant plan's pair per site that has one: several constructions
    (sites added farthest first onto what is dug, per-cable costs weighed 1x and 3x, fixed
    costs at full and half weight; the independent pairs), each ripped up and re-routed;
    the cheapest, improved by re-grouping pairs of sites. Larger batches than
    ``max_regroup_sites`` (the city) get the independent pairs and the first
    construction only: each pass over the sites costs two Dijkstra searches per site. ``guide`` (0..1 per trench, e.g. the LP relaxation's y) adds a
    construction with each trench's fixed cost weighed by 1 - guide: trenches a relaxed
    optimum digs look cheap from the start, so the sites gather on them."""
    independent = independent_pairs(instance) if independent is None else independent
    if not independent:
        return {}
    nothing = np.zeros(len(instance.edges), dtype=bool)
    order = sorted(independent, key=lambda t: (-instance.marginal(independent[t], nothing), repr(t)))
    candidates = [_reroute(instance, _within_limits(instance, independent))]
    for sharing, discount in CONSTRUCTIONS[:None if len(independent) <= max_regroup_sites else 1]:
        candidates.append(_reroute(instance, _insert(instance, {}, order, independent, sharing, discount)))
    if guide is not None:
        candidates.append(_reroute(instance, _insert(instance, {}, order, independent, 1.0, 1.0 - guide)))
    best = _best(instance, candidates)
    if len(best) <= max_regroup_sites:
        best = _regroup(instance, best, independent)
    return best


# -- exact: the integer program and its LP relaxation ------------------------------------------

@dataclass(frozen=True)
class ExactResult:
    value_eur: float
    pairs: dict[Node, tuple[Route, Route]]


def corridor_pairs(instance: RedundantInstance) -> list[tuple]:
    """Pairs of trenches (as ``RedundantInstance.edge_trenches`` names them) in one street
    corridor (``topology.risk.corridors``), measured as ``planning.routing.pair_faults``
    measures a plan's routes: the same lines, order and projection."""
    net = instance.net
    position = lambda node: [net.graph.nodes[node]["lon"], net.graph.nodes[node]["lat"]]  # noqa: E731
    lines, ends = {}, {}
    for e, (u, v, k) in enumerate(instance.edges):
        d = net.graph.edges[u, v, k]
        if d["kind"] == STRAND:
            for trench, a, b in d["trenches"]:
                identity = trench_identity(trench, a, b)
                lines[identity], ends[identity] = net.trench_coords[trench], (position(("n", a)), position(("n", b)))
        elif instance.edge_trenches[e]:
            (identity,) = instance.edge_trenches[e]
            lines[identity], ends[identity] = net.coords_of(u, v, k), (position(u), position(v))
    return sorted(corridors(in_measuring_order(lines), ends, risk_rules(net)), key=stable_key)


def _program(instance: RedundantInstance, sites: list[Node]):
    """The MILP's matrices: variables y_e, then x_t,arc per site over its arcs."""
    arcs = instance.directed()
    n, m = len(instance.nodes), len(instance.edges)
    site_nodes = {instance.index[t] for t in sites}
    per_site = [[j for j, (tail, _, _) in enumerate(arcs) if tail not in site_nodes or tail == instance.index[t]]
                for t in sites]
    n_vars = m + sum(len(a) for a in per_site)
    if n_vars > EXACT_MAX_VARIABLES:
        raise TooLargeError(f"{len(sites)} sites × {len(arcs)} candidate arcs is too large for the exact solver")
    conflicts = corridor_pairs(instance)
    rows, cols, vals, lower, upper = [], [], [], [], []
    cost = list(instance.fixed)
    upper_bound = [1.0] * m
    row, column = 0, m
    variables = []  # per site: arc index -> column

    def at_most_one(terms: list[tuple[int, int]]) -> None:
        nonlocal row
        rows.extend([row] * len(terms))
        cols.extend(col for col, _ in terms)
        vals.extend(float(c) for _, c in terms)
        lower.append(-np.inf), upper.append(1.0)
        row += 1

    for t, site_arcs in zip(sites, per_site):
        ti = instance.index[t]
        own_edges, own_groups = instance.own_edges[t], instance.own_groups[t]
        columns = {}
        for j in site_arcs:
            tail, head, e = arcs[j]
            columns[j] = column
            cost.append(instance.per_cable[e] if e >= 0 else 0.0)
            upper_bound.append(2.0 if e in own_edges else 1.0)
            rows += [row + tail, row + head]  # conservation: out - in
            cols += [column, column]
            vals += [1.0, -1.0]
            column += 1
        supply = np.zeros(n + 1)
        supply[ti], supply[n] = 2.0, -2.0
        lower += supply.tolist()
        upper += supply.tolist()
        row += n + 1
        by_edge, by_group, by_trench = defaultdict(list), defaultdict(list), defaultdict(list)
        for j, col in columns.items():
            tail, head, e = arcs[j]
            if e < 0:
                continue
            by_edge[e].append(col)
            for group, times in instance.edge_entries[e][int(tail != instance.ends[e][0])].items():
                if group not in own_groups:
                    by_group[group].append((col, times))
            for trench in set(instance.edge_trenches[e]):
                by_trench[trench].append((col, instance.edge_trenches[e].count(trench)))
        for e, cs in by_edge.items():  # a trench is dug once and only if dug
            if e in own_edges:
                continue
            rows += [row] * (len(cs) + 1)
            cols += cs + [e]
            vals += [1.0] * len(cs) + [-1.0]
            lower.append(-np.inf), upper.append(0.0)
            row += 1
        for terms in by_group.values():  # one of t's routes into a manhole, a building, once
            at_most_one(terms)
        for terms in by_trench.values():  # one of t's routes through a trench, once
            if len(terms) > 1 or terms[0][1] > 1:
                at_most_one(terms)
        for a, b in conflicts:  # nor in one street corridor
            if by_trench.get(a) and by_trench.get(b):
                at_most_one(by_trench[a] + by_trench[b])
        variables.append(columns)
    for limit, edges in enumerate(instance.limit_edges):  # a cable's free pairs, a closure's pair joins
        node, on_edges = int(instance.limit_node[limit]), set(edges.tolist())
        cs = [col for columns in variables for j, col in columns.items()
              if (arcs[j][1] == node if node >= 0 else arcs[j][2] in on_edges)]
        if cs:
            rows += [row] * len(cs)
            cols += cs
            vals += [1.0] * len(cs)
            lower.append(-np.inf), upper.append(float(instance.limit_routes[limit]))
            row += 1
    matrix = coo_matrix((vals, (rows, cols)), shape=(row, column)).tocsr()
    return (np.array(cost), LinearConstraint(matrix, lower, upper), Bounds(0, np.array(upper_bound)),
            arcs, variables)


def exact_pairs(instance: RedundantInstance, sites: list[Node] | None = None,
                node_limit: int = NODE_LIMIT) -> ExactResult:
    """The optimum of the redundant batch and each site's two routes in it."""
    sites = list(instance.sites if sites is None else sites)
    cost, constraints, bounds, arcs, variables = _program(instance, sites)
    result = milp(cost, constraints=constraints, integrality=np.ones(len(cost)), bounds=bounds,
                  options={"node_limit": node_limit, "mip_rel_gap": 1e-7})
    if result.status != 0 or result.x is None:
        raise NetopsError(f"exact solver did not finish: {result.message}")
    pairs = {}
    for t, columns in zip(sites, variables):
        flow = defaultdict(list)
        for j, col in columns.items():
            flow[arcs[j][0]] += [j] * int(round(result.x[col]))
        routes = []
        for _ in range(2):
            node, edges = instance.index[t], []
            while node != len(instance.nodes):
                tail, head, e = arcs[flow[node].pop()]
                if e >= 0:
                    edges.append(e)
                else:
                    pop = tail
                node = head
            routes.append(instance.route(t, edges, pop))
        pairs[t] = tuple(routes)
    return ExactResult(float(result.fun), pairs)


def lp_relaxation(instance: RedundantInstance, sites: list[Node] | None = None
                  ) -> tuple[LowerBound, np.ndarray] | None:
    """The LP relaxation of ``exact_pairs``' program: its value (a lower bound) and the
    trenches' y (how much the relaxed optimum digs each); None when too large or not solved.
    No time limit: the size guard bounds the work, and a bound must not depend on the load."""
    sites = list(instance.sites if sites is None else sites)
    try:
        cost, constraints, bounds, _, _ = _program(instance, sites)
    except TooLargeError:
        return None
    result = milp(cost, constraints=constraints, bounds=bounds)
    if result.status != 0:
        return None
    return LowerBound(float(result.fun), "LP relaxation"), np.clip(result.x[:len(instance.edges)], 0.0, 1.0)


def lagrangian_bound(instance: RedundantInstance, pairs: dict[Node, Pair], rounds: int = LAGRANGIAN_ROUNDS,
                     steps: int = LAGRANGIAN_STEPS) -> LowerBound:
    """Σ_t (t's cheapest node-disjoint pair at per-cable + its prices): valid for any prices
    >= 0 that split no trench's fixed cost beyond it (Σ_t price_t,e ≤ fixed_e). First each
    trench's fixed cost goes to the sites digging it in ``pairs`` (the plan), evenly among
    all sites where none does; then, for ``rounds``, a ``DAMPING`` part of it moves to the
    sites whose own cheapest pairs at the last prices used it (the sites that found it too
    cheap pay for it; a mix of two valid splits is one). Then ``steps`` subgradient steps
    from the best of those prices: each site's price of a trench moves by how much more
    than the average site its pair uses it (the trench's sum stays), by Polyak's step
    towards the plan's cost (``STEP_SIZE``, halved after ``STALLED_STEPS`` steps without a
    better bound); a price below 0 is 0, a trench priced above its fixed cost is scaled
    down to it: every step's prices are a valid split. The best value is the bound, so the
    steps never make it worse than the damped rounds alone."""
    sites = sorted(pairs, key=repr)
    if not sites:
        return LowerBound(0.0, "Lagrangian relaxation")
    usage = instance.usage(pairs)
    prices = np.empty((len(sites), len(instance.edges)))
    for i, t in enumerate(sites):
        mine = instance.usage({t: pairs[t]}) > 0
        prices[i] = np.where(usage > 0, np.where(mine, instance.fixed / np.maximum(usage, 1), 0.0),
                             instance.fixed / len(sites))

    def value_at(prices: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The bound at ``prices`` and which trenches each site's pair uses; None: a site has no pair."""
        users = np.zeros(prices.shape, dtype=bool)
        total = 0.0
        for i, t in enumerate(sites):
            found = instance.suurballe(t, instance.per_cable + prices[i])
            if found is None:
                return None
            users[i, found[0][0] + found[0][1]] = True
            total += found[3]
        return total, users

    best = (-np.inf, prices, None)
    for _ in range(rounds + 1):
        evaluated = value_at(prices)
        if evaluated is None:
            return LowerBound(float("inf"), "Lagrangian relaxation (a site has no disjoint pair)")
        total, users = evaluated
        if total > best[0]:
            best = (total, prices.copy(), users)
        count = users.sum(axis=0)
        used = count > 0
        prices[:, used] = (1 - DAMPING) * prices[:, used] + DAMPING * np.where(
            users[:, used], instance.fixed[used] / np.maximum(count[used], 1), 0.0)
    value, prices, users = best
    bound, step_size, stalled, plan = value, STEP_SIZE, 0, instance.cost(pairs)
    for _ in range(steps):
        direction = users - users.sum(axis=0) / len(sites)
        norm = float(np.square(direction).sum())
        if norm == 0.0 or value >= plan:
            break
        prices = np.maximum(prices + step_size * (plan - value) / norm * direction, 0.0)
        priced = prices.sum(axis=0)
        prices *= np.where(priced > instance.fixed, instance.fixed / np.maximum(priced, _EPS), 1.0)
        value, users = value_at(prices)  # every site has a pair (above): prices change no pair's existence
        if value > bound:
            bound, stalled = value, 0
        else:
            stalled += 1
            if stalled == STALLED_STEPS:
                step_size, stalled = step_size / 2, 0
    return LowerBound(bound, "Lagrangian relaxation")


# -- the plan --------------------------------------------------------------------------------

@dataclass
class RedundantPlan:
    sites: list[SiteSpec]
    routes: dict[str, tuple[Route, Route]]
    bom: list[BomLine]
    total_eur: float
    independent_total_eur: float
    shares: dict[str, float]
    unreachable: dict[str, str]
    costs_label: str
    routing_eur: float
    bound: LowerBound | None = None
    notes: list[str] = field(default_factory=list)
    skipped: list[SkippedSite] = field(default_factory=list)
    independent_buildable: bool = True  # as JointPlan's: can the pairs planned alone all be built together

    @property
    def saving_eur(self) -> float:
        return round(self.independent_total_eur - self.total_eur, 2)

    def to_dict(self) -> dict:
        return {
            "redundant": True,
            "disjoint": "no shared trench, manhole, junction, building (but the site's own) or street "
                        "corridor; two PoP buildings per site; neither route doubles back on itself",
            **batch_summary(self),
            "routes": {code: [{k: v for k, v in route_dict(r).items() if k != "legs"} for r in pair]
                       for code, pair in self.routes.items()},
        }


def plan_redundant_batch(net: CandidateNetwork, sites: list[SiteSpec]) -> RedundantPlan:
    """Each site's two risk-free routes, trenches shared between sites, with a lower bound."""
    nodes = {s.code: net.attach_site(s.code, s.lat, s.lon, s.entry_node) for s in sites}
    instance = RedundantInstance(net, list(nodes.values()))
    independent = independent_pairs(instance)
    relaxed = lp_relaxation(instance, sorted(independent, key=repr)) if independent else None
    pairs = redundant_pairs(instance, independent, guide=relaxed[1] if relaxed else None)
    # the LP bounds the batch of every site with a pair; when strands or closures leave one out, the Lagrangian
    bound = relaxed[0] if relaxed and len(pairs) == len(independent) else lagrangian_bound(instance, pairs)
    code_of = {node: code for code, node in nodes.items()}
    routes = {code_of[t]: pair.routes for t, pair in sorted(pairs.items(), key=lambda kv: code_of[kv[0]])}
    strands = net.strands
    lines = bill_of_materials([r for pair in routes.values() for r in pair], net.costs, strands,
                              net.closure_names())
    independent_total = round(sum(bom_total(bill_of_materials(list(p.routes), net.costs, strands))
                                  for p in independent.values()), 2)
    unreachable = {code: (NO_PAIR_LEFT if node in independent else NO_PAIR if net.graph.degree(node) and any(
                              p in net.pops for p in nx.node_connected_component(net.graph, node))
                          else unreachable_reason(net, node))
                   for code, node in sorted(nodes.items()) if node not in pairs}
    return RedundantPlan(sites, routes, lines, bom_total(lines), independent_total,
                         cost_shares(routes, net.costs, strands), unreachable, net.costs.label,
                         instance.cost(pairs), bound if pairs else None,
                         independent_buildable=not instance.overloaded(independent))
