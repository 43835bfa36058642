"""Joint plans for many sites: dig each trench once, share it with every site behind it.

The problem: choose one path per site to a PoP so that the fixed costs of the trenches
used (paid once) plus the per-cable costs along every path (paid per site) are least.
With no per-cable cost it is the Steiner tree problem in graphs; with them it is the
single-sink fixed-charge network design problem. Both are NP-hard, so:

1. start from a Steiner tree grown by the shortest-path heuristic (Takahashi–Matsuyama,
   extended to per-cable costs) and from the independent cheapest paths, then
2. rip up and re-route: each site in turn takes its cheapest path given the trenches
   the others already pay for (their fixed cost is 0 for it), until no site improves.

Each re-route is one C-speed Dijkstra (scipy.sparse.csgraph) on the whole city. The
exact optimum for small instances is in ``planning.exact`` (an integer program).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from planning.connect import BomLine, SiteSpec, bill_of_materials, bom_total, route_dict
from planning.network import CandidateNetwork, Node
from planning.routing import Route, make_leg

_EPS = 1e-6  # csgraph treats 0 as "no edge"
SHARING_GUESSES = (1.0, 3.0, 10.0)  # per-cable cost multipliers tried while growing trees
MAX_STARTS = 8  # sites the tree is also grown from (besides the root)
MAX_GROUP = 16  # largest group of sites ripped up together (bounds the batch's run time)


@dataclass
class SteinerInstance:
    """The candidate network as arrays: nodes 0..n-1, a super-root behind every PoP.

    Parallel candidates (two trenches between the same manholes) are kept apart by a
    virtual mid-node, so every arc of the sparse matrix is exactly one candidate half."""

    n: int
    tail: np.ndarray
    head: np.ndarray
    fixed: np.ndarray
    per_cable: np.ndarray
    origin: list[tuple | None]  # candidate edge (u, v, key) each arc belongs to; None = root arc
    terminals: list[int]
    root: int

    @classmethod
    def from_network(cls, net: CandidateNetwork, terminals: list[Node]) -> "SteinerInstance":
        nodes = list(net.graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        n = len(nodes)
        tail, head, fixed, per_cable, origin = [], [], [], [], []

        def arc(a: int, b: int, f: float, c: float, o) -> None:
            tail.append(a), head.append(b), fixed.append(f), per_cable.append(c), origin.append(o)

        seen = set()
        for u, v, key, d in net.graph.edges(keys=True, data=True):
            a, b = index[u], index[v]
            pair = (min(a, b), max(a, b))
            if pair in seen:
                mid = n
                n += 1
                arc(a, mid, d["fixed_eur"] / 2, d["per_cable_eur"] / 2, (u, v, key))
                arc(mid, b, d["fixed_eur"] / 2, d["per_cable_eur"] / 2, (u, v, key))
            else:
                seen.add(pair)
                arc(a, b, d["fixed_eur"], d["per_cable_eur"], (u, v, key))
        root = n
        n += 1
        for pop in net.pops:
            arc(index[pop], root, 0.0, 0.0, None)
        return cls(n, np.array(tail), np.array(head), np.array(fixed, dtype=float),
                   np.array(per_cable, dtype=float), origin, [index[t] for t in terminals], root)

    def matrix(self, weights: np.ndarray):
        return coo_matrix((np.maximum(weights, _EPS), (self.tail, self.head)),
                          shape=(self.n, self.n)).tocsr()

    @cached_property
    def arc_index(self) -> dict[tuple[int, int], int]:
        """(node, node) -> arc, both orientations."""
        return {(int(a), int(b)): i for i, (a, b) in enumerate(zip(self.tail, self.head))} | {
            (int(b), int(a)): i for i, (a, b) in enumerate(zip(self.tail, self.head))}

    def cost(self, paths: dict[int, list[int]]) -> float:
        """Fixed cost of every arc used once, per-cable cost once per path using it."""
        used = set().union(*paths.values()) if paths else set()
        return float(sum(self.fixed[a] for a in used)
                     + sum(self.per_cable[a] for arcs in paths.values() for a in arcs))


def _paths_from_predecessors(instance: SteinerInstance, arc_of, preds: np.ndarray,
                             source: int) -> list[int] | None:
    """Arcs of the path from ``source`` to the root, from a Dijkstra rooted at the root."""
    arcs, node = [], source
    while node != instance.root:
        parent = int(preds[node])
        if parent < 0:
            return None
        arcs.append(arc_of[(node, parent)])
        node = parent
    return arcs


def independent_paths(instance: SteinerInstance) -> dict[int, list[int]]:
    """Every site on its own cheapest path (what single-site plans would build)."""
    arc_of = instance.arc_index
    _, preds = dijkstra(instance.matrix(instance.fixed + instance.per_cable), directed=False,
                        indices=instance.root, return_predecessors=True)
    paths = {}
    for t in instance.terminals:
        path = _paths_from_predecessors(instance, arc_of, preds, t)
        if path is not None:
            paths[t] = path
    return paths


def _grow(instance: SteinerInstance, kept: dict[int, list[int]], to_add: set[int],
          sharing: float = 1.0) -> dict[int, list[int]]:
    """Takahashi–Matsuyama's shortest-path heuristic, aware of per-cable costs: grow the
    tree (the root plus the ``kept`` paths) by repeatedly adding the site whose connection
    costs least, counting dug trenches as free and the per-cable cost of its whole way to
    the root (a virtual source stands behind every tree node at that node's per-cable
    distance to the root).

    ``sharing`` > 1 weighs per-cable costs up while growing, anticipating that later
    sites will follow the same way: a long chain of cheap free ducts is tempting for
    the first site but costly when every later site pulls its cable along it too."""
    source = instance.n
    arc_of = instance.arc_index
    paths = {t: list(p) for t, p in kept.items()}
    bought = np.zeros(len(instance.fixed), dtype=bool)
    bought[[a for p in kept.values() for a in p]] = True
    # the kept paths as a tree: per-cable distances to the root within the dug trenches
    dist, preds = dijkstra(instance.matrix(np.where(bought, sharing * instance.per_cable, np.inf)),
                           directed=False, indices=instance.root, return_predecessors=True)
    to_root = {int(v): float(dist[v]) for v in np.flatnonzero(np.isfinite(dist))}
    next_arc: dict[int, int | None] = {v: arc_of[(v, int(preds[v]))] for v in to_root if v != instance.root}
    next_arc[instance.root] = None

    def chain(node: int) -> list[int]:
        arcs = []
        while next_arc[node] is not None:
            arc = next_arc[node]
            arcs.append(arc)
            node = int(instance.head[arc]) if int(instance.tail[arc]) == node else int(instance.tail[arc])
        return arcs

    remaining = set(to_add)
    while remaining:
        weights = sharing * instance.per_cable + np.where(bought, 0.0, instance.fixed)
        tree = list(to_root)
        tails = np.concatenate([instance.tail, np.full(len(tree), source)])
        heads = np.concatenate([instance.head, np.array(tree)])
        data = np.maximum(np.concatenate([weights, [to_root[v] for v in tree]]), _EPS)
        matrix = coo_matrix((data, (tails, heads)), shape=(instance.n + 1, instance.n + 1)).tocsr()
        dist, preds = dijkstra(matrix, directed=False, indices=source, return_predecessors=True)
        t = min(remaining, key=lambda v: (dist[v], v))
        remaining.discard(t)
        walk = [t]  # from the site towards the tree, cut at the first tree node
        while walk[-1] not in to_root:
            walk.append(int(preds[walk[-1]]))
        new_arcs = [arc_of[(a, b)] for a, b in zip(walk, walk[1:])]
        paths[t] = new_arcs + chain(walk[-1])
        bought[new_arcs] = True
        cost = to_root[walk[-1]]
        for node, arc in zip(reversed(walk[:-1]), reversed(new_arcs)):
            cost += sharing * instance.per_cable[arc]
            next_arc[node], to_root[node] = arc, cost
    return paths


def _grow_from(instance: SteinerInstance, start: int, reachable: list[int]) -> dict[int, list[int]]:
    """Plain shortest-path heuristic started at one site instead of the root (the root is
    just one more terminal), read back as each site's path to the root in that tree.
    Different starts find different trunks; the best is kept."""
    weights = instance.fixed + instance.per_cable
    source = instance.n
    in_tree = {start}
    bought = np.zeros(len(weights), dtype=bool)
    remaining = (set(reachable) | {instance.root}) - {start}
    arc_of = instance.arc_index
    while remaining:
        tree = np.array(sorted(in_tree))
        tails = np.concatenate([instance.tail, np.full(len(tree), source)])
        heads = np.concatenate([instance.head, tree])
        data = np.maximum(np.concatenate([np.where(bought, instance.per_cable, weights),
                                          np.zeros(len(tree))]), _EPS)
        matrix = coo_matrix((data, (tails, heads)), shape=(source + 1, source + 1)).tocsr()
        dist, preds = dijkstra(matrix, directed=False, indices=source, return_predecessors=True)
        t = min(remaining, key=lambda v: (dist[v], v))
        remaining.discard(t)
        node = t
        while node not in in_tree:
            parent = int(preds[node])
            bought[arc_of[(node, parent)]] = True
            in_tree.add(node)
            node = parent
    arc_of = instance.arc_index
    _, preds = dijkstra(instance.matrix(np.where(bought, instance.per_cable, np.inf)), directed=False,
                        indices=instance.root, return_predecessors=True)
    return {t: _paths_from_predecessors(instance, arc_of, preds, t) for t in reachable}


def _regroup(instance: SteinerInstance, paths: dict[int, list[int]],
             max_group: int) -> dict[int, list[int]]:
    """Group moves: the sites behind one node of the plan (a branch) are ripped up
    together and grown back onto the rest; kept when cheaper. Single-site re-routing
    cannot move a trunk that several sites share; this can."""
    best, best_cost = paths, instance.cost(paths)
    tried: set[frozenset] = set()
    improved = True
    while improved:
        improved = False
        behind: dict[int, set[int]] = defaultdict(set)
        for t, arcs in best.items():
            for arc in arcs:
                behind[int(instance.tail[arc])].add(t)
                behind[int(instance.head[arc])].add(t)
        groups = {frozenset(g) for g in behind.values() if 2 <= len(g) <= max_group} - tried
        for group in sorted(groups, key=lambda g: (len(g), sorted(g))):
            tried.add(group)
            kept = {t: p for t, p in best.items() if t not in group}
            candidate = min((_reroute(instance, _grow(instance, kept, set(group), sharing))
                             for sharing in SHARING_GUESSES), key=instance.cost)
            cost = instance.cost(candidate)
            if cost < best_cost - 1e-6:
                best, best_cost, improved = candidate, cost, True
                break
    return best


def _reroute(instance: SteinerInstance, paths: dict[int, list[int]], max_passes: int = 20) -> dict[int, list[int]]:
    """Each site in turn takes its cheapest path given what the others already dig."""
    arc_of = instance.arc_index
    usage = Counter(a for arcs in paths.values() for a in arcs)
    for _ in range(max_passes):
        improved = False
        for t in sorted(paths, key=lambda t: -len(paths[t])):
            old = paths[t]
            usage.subtract(old)
            bought = np.zeros(len(instance.fixed), dtype=bool)
            bought[[a for a, c in usage.items() if c > 0]] = True
            weights = instance.per_cable + np.where(bought, 0.0, instance.fixed)
            dist, preds = dijkstra(instance.matrix(weights), directed=False, indices=instance.root,
                                   return_predecessors=True)
            old_cost = float(sum(weights[a] for a in old))
            if dist[t] < old_cost - 1e-6:
                new = _paths_from_predecessors(instance, arc_of, preds, t)
                if new is not None:
                    paths[t] = new
                    improved = True
            usage.update(paths[t])
        if not improved:
            break
    return paths


def joint_paths(instance: SteinerInstance, max_group: int = MAX_GROUP) -> dict[int, list[int]]:
    """The joint plan's path (list of arcs) per reachable terminal."""
    independent = independent_paths(instance)
    reachable = sorted(independent)
    if not reachable:
        return {}
    candidates = [_reroute(instance, _grow(instance, {}, set(reachable), sharing))
                  for sharing in SHARING_GUESSES]
    candidates.append(_reroute(instance, {t: list(p) for t, p in independent.items()}))
    # starts spread over the sites: the ones farthest from the root first
    for start in sorted(reachable, key=lambda t: -sum(instance.fixed[independent[t]]))[:MAX_STARTS]:
        candidates.append(_reroute(instance, _grow_from(instance, start, reachable)))
    return _regroup(instance, min(candidates, key=instance.cost), max_group)


@dataclass(frozen=True)
class OrderStep:
    step: int
    site: str
    marginal_eur: float
    cumulative_eur: float
    sites_connected: int


@dataclass
class JointPlan:
    sites: list[SiteSpec]
    routes: dict[str, Route]
    independent_routes: dict[str, Route]
    bom: list[BomLine]
    total_eur: float
    independent_total_eur: float
    shares: dict[str, float]
    order: list[OrderStep]
    unreachable: list[str]
    costs_label: str
    notes: list[str] = field(default_factory=list)

    @property
    def saving_eur(self) -> float:
        return round(self.independent_total_eur - self.total_eur, 2)

    def to_dict(self) -> dict:
        return {
            "sites": [asdict(s) for s in self.sites],
            "price_table": self.costs_label,
            "total_eur": self.total_eur,
            "independent_total_eur": self.independent_total_eur,
            "saving_eur": self.saving_eur,
            "saving_pct": round(100 * self.saving_eur / self.independent_total_eur, 1)
            if self.independent_total_eur else 0.0,
            "shares_eur": self.shares,
            "order": [asdict(step) for step in self.order],
            "unreachable": self.unreachable,
            "bom": [asdict(line) for line in self.bom],
            "routes": {code: route_dict(route) for code, route in self.routes.items()},
            "notes": self.notes,
        }


def _to_route(net: CandidateNetwork, instance: SteinerInstance, arcs: list[int], start: Node) -> Route:
    """Arcs (site to root) back to candidate legs oriented from the site to its PoP."""
    legs, node, last = [], start, None
    for arc in arcs:
        origin = instance.origin[arc]
        if origin is None:
            return Route(tuple(legs), node, net.pops[node])
        if origin == last:
            continue  # second half of a split parallel candidate
        u, v, key = origin
        a, b = (u, v) if u == node else (v, u)
        legs.append(make_leg(net, a, b, key))
        node, last = b, origin
    raise AssertionError("a path always ends at the root")


def _construction_order(plan_routes: dict[str, Route], costs_per_site: dict[str, float]) -> list[OrderStep]:
    """Greedy: next, the site whose connection costs least given what is already built."""
    built: set = set()
    order: list[OrderStep] = []
    remaining = dict(plan_routes)
    cumulative = 0.0
    while remaining:
        def marginal(code: str) -> float:
            route = remaining[code]
            return costs_per_site[code] + sum(
                leg.per_cable_eur + (0.0 if leg.edge_id in built else leg.fixed_eur) for leg in route.legs)
        code = min(remaining, key=lambda c: (marginal(c), c))
        cost = marginal(code)
        cumulative += cost
        built.update(leg.edge_id for leg in remaining.pop(code).legs)
        order.append(OrderStep(len(order) + 1, code, round(cost, 2), round(cumulative, 2), len(order) + 1))
    return order


def plan_batch(net: CandidateNetwork, sites: list[SiteSpec]) -> JointPlan:
    nodes = {s.code: net.attach_site(s.code, s.lat, s.lon, s.entry_node) for s in sites}
    instance = SteinerInstance.from_network(net, list(nodes.values()))
    node_of_terminal = dict(zip(instance.terminals, nodes.values()))
    code_of_terminal = dict(zip(instance.terminals, nodes))
    independent = independent_paths(instance)
    joint = joint_paths(instance)

    def routes_of(paths: dict[int, list[int]]) -> dict[str, Route]:
        return {code_of_terminal[t]: _to_route(net, instance, arcs, node_of_terminal[t])
                for t, arcs in sorted(paths.items(), key=lambda kv: code_of_terminal[kv[0]])}

    routes, single_routes = routes_of(joint), routes_of(independent)
    strands = net.strands
    lines = bill_of_materials(list(routes.values()), net.costs, strands)
    independent_total = round(sum(bom_total(bill_of_materials([r], net.costs, strands))
                                  for r in single_routes.values()), 2)
    # per-site share: its own cable and equipment, plus an equal part of every trench it uses
    users: dict[tuple, int] = defaultdict(int)
    for route in routes.values():
        for leg in route.legs:
            users[leg.edge_id] += 1
    own_costs = {code: bom_total(bill_of_materials([r], net.costs, strands))
                 - r.single_cost_eur for code, r in routes.items()}
    shares = {code: round(own_costs[code] + sum(leg.per_cable_eur + leg.fixed_eur / users[leg.edge_id]
                                                for leg in r.legs), 2)
              for code, r in routes.items()}
    unreachable = sorted(code for code in nodes if code not in routes)
    notes = [f"{len(unreachable)} site(s) cannot reach a PoP"] if unreachable else []
    return JointPlan(sites, routes, single_routes, lines, bom_total(lines), independent_total,
                     shares, _construction_order(routes, own_costs), unreachable, net.costs.label, notes)
