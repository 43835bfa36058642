"""Joint plans for many sites: dig each trench once, share it with every site behind it.

The problem: choose one path per site to a PoP so that the fixed costs of the trenches
used (paid once) plus the per-cable costs along every path (paid per site) are least.
With no per-cable cost it is the Steiner tree problem in graphs; with them it is the
single-sink fixed-charge network design problem. Both are NP-hard, so:

1. start from several trees: the shortest-path heuristic (Takahashi–Matsuyama, extended
   to per-cable costs) grown from the root with per-cable costs weighed 1x, 3x and 10x,
   grown from the farthest sites, and the independent cheapest paths; with the spare
   strands' limits (``batch_paths``) only the growths from the root, each site's way
   taking no pair or closure join the sites before it used up;
2. rip up and re-route: each site in turn takes its cheapest path given the trenches
   the others already pay for (their fixed cost is 0 for it);
3. local search on the best (``_improve``): key-path exchange (cut a shared chain,
   re-join the branch below it by the cheapest path priced for all its sites) and group
   re-growth (the sites behind one node ripped up together and grown back, for small
   batches also through Steiner points on and next to their current paths), kept when
   cheaper.

Every search is one C-speed Dijkstra (scipy.sparse.csgraph) on the whole city, bounded
where distances are known to shrink. The exact optimum for small instances is in
``planning.exact`` (an integer program); ``benchmarks/planning_bench.py`` compares.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from netops.errors import RowProblem
from planning.bounds import LowerBound, lower_bound
from planning import lns
from planning.connect import BomLine, SiteSpec, bill_of_materials, bom_dicts, bom_total, route_dict
from planning.costs import CostModel
from planning.lns import NeighbourhoodSearch, improve_by_neighbourhoods, node_positions
from planning.network import CandidateNetwork, Node
from planning.routing import Route, make_leg
from planning.strands import (NO_LIMITS, LimitCounter, limit_counter, over_capacity, respect_strand_capacity,
                              strand_capacities, swap_scarce_strands)

_EPS = 1e-6  # csgraph treats 0 as "no edge"
SHARING_GUESSES = (1.0, 3.0, 10.0)  # per-cable cost multipliers tried while growing trees
REGROUP_SHARING = (10.0,)
REGROUP_STARTS = 1  # group members the group's tree is also grown from
MAX_STARTS = 4  # sites the tree is also grown from (besides the root)
STEINER_POINT_BUDGET = 30 * 1000  # sites x nodes up to which groups also try Steiner points
MAX_GROUP = 8  # largest group of sites ripped up together (bounds the batch's run time)
FOCUS_SITES = 5  # neighbourhoods re-planned by an integer program where the bound finds the plan furthest from it
# ... each program solved to within 0.5 % of its optimum (--thorough proves its optima): on the
# 123 Kitas one of the five took 7.5 s CPU to prove the solution it had at 2.7 s (BENCHMARKS.md)
FOCUS_GAP = 0.005


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
    toll: float = 0.0  # added to every arc at a site, so no route passes through another site
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
        tail_a, head_a = np.array(tail), np.array(head)
        per_cable_a = np.array(per_cable, dtype=float)
        # Every site's own path crosses exactly one arc at its node, a path *through* a
        # site two: a toll on those arcs shifts every plan by the same amount per site and
        # makes passing through a building (entry trench in, entry trench out) never pay.
        toll = 10.0 * (float(np.sum(fixed)) + float(np.sum(per_cable))) + 1.0
        sites = np.zeros(n, dtype=bool)
        sites[[index[t] for t in terminals]] = True
        per_cable_a[sites[tail_a] | sites[head_a]] += toll
        return cls(n, tail_a, head_a, np.array(fixed, dtype=float), per_cable_a, origin,
                   [index[t] for t in terminals], root, toll)

    @cached_property
    def _template(self):
        """CSR structure of every arc in both directions plus a virtual source (node n)
        with an arc to every node; ``slot``: each arc's two places in its data (forward,
        backward) and each virtual arc's; ``held``: the weights and offsets the data holds
        now. Each search rewrites only the places whose value changed (consecutive searches
        differ in a few trenches): no re-sorting, no rewriting of 50k arcs each time."""
        m, n = len(self.tail), self.n
        rows = np.concatenate([self.tail, self.head, np.full(n, n)])
        cols = np.concatenate([self.head, self.tail, np.arange(n)])
        graph = coo_matrix((np.arange(1, 2 * m + n + 1, dtype=float), (rows, cols)),
                           shape=(n + 1, n + 1)).tocsr()
        slot = np.empty(2 * m + n, dtype=np.int64)
        slot[graph.data.astype(np.int64) - 1] = np.arange(len(graph.data))
        graph.data[:] = np.inf
        return graph, slot[:m], slot[m:2 * m], slot[2 * m:], np.full(m + n, np.inf)

    def shortest(self, weights: np.ndarray, start: int, *, offsets: np.ndarray | None = None,
                 limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Dijkstra (C speed) from ``start`` with per-arc ``weights``; ``start`` = ``n``
        is the virtual source, reaching node v at ``offsets[v]`` (inf: not at all)."""
        graph, forward, backward, virtual, held = self._template
        m = len(self.tail)
        wanted = np.concatenate([weights, np.full(self.n, np.inf) if offsets is None else offsets[:self.n]])
        np.maximum(wanted, _EPS, out=wanted)
        changed = np.flatnonzero(wanted != held)
        held[changed] = wanted[changed]
        arcs, sources = changed[changed < m], changed[changed >= m]
        graph.data[forward[arcs]] = graph.data[backward[arcs]] = wanted[arcs]
        graph.data[virtual[sources - m]] = wanted[sources]
        return dijkstra(graph, directed=True, indices=start, return_predecessors=True, limit=limit)

    @cached_property
    def _no_cheaper_way(self) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
        return {}

    def no_cheaper_way(self, site: int, weights: np.ndarray, limit: float, dist: np.ndarray) -> None:
        """Remember that a search from ``site`` at ``weights`` (``shortest``'s ``limit``,
        ``dist``) found no way to the root below ``limit``: which arcs it saw (a node it
        reached at either end) at which weights. It depends on nothing else."""
        reached = np.isfinite(dist[:self.n])
        seen = np.flatnonzero(reached[self.tail] | reached[self.head])
        self._no_cheaper_way[site] = limit, seen, weights[seen]

    def still_no_cheaper_way(self, site: int, weights: np.ndarray, limit: float) -> bool:
        """Whether the search from ``site`` at ``weights`` up to ``limit`` would find no way
        to the root for sure: one remembered (``no_cheaper_way``) saw the same weights on
        every arc it reached, up to a limit no lower. (A cheaper way now would reach a
        changed arc first through arcs that did not change, within the old limit: that
        search would have seen the changed arc.)"""
        known = self._no_cheaper_way.get(site)
        return known is not None and limit <= known[0] and np.array_equal(weights[known[1]], known[2])

    def path(self, preds: np.ndarray, start: int, end: int) -> list[int] | None:
        """Arcs from ``end`` back to ``start`` of a Dijkstra run from ``start``, ordered
        from ``end`` (the arcs of a run from the root read from a site to the root)."""
        arcs, node = [], end
        while node != start:
            parent = int(preds[node])
            if parent < 0:
                return None
            arcs.append(self.arc_index[(node, parent)])
            node = parent
        return arcs

    @cached_property
    def arc_index(self) -> dict[tuple[int, int], int]:
        """(node, node) -> arc, both orientations."""
        return {(int(a), int(b)): i for i, (a, b) in enumerate(zip(self.tail, self.head))} | {
            (int(b), int(a)): i for i, (a, b) in enumerate(zip(self.tail, self.head))}

    @cached_property
    def _arc_ids(self):
        """Each arc's index + 1 at (tail, head) and (head, tail) of a sparse matrix."""
        m = len(self.tail)
        ids = np.arange(1, m + 1)
        return coo_matrix((np.concatenate([ids, ids]), (np.concatenate([self.tail, self.head]),
                                                         np.concatenate([self.head, self.tail]))),
                          shape=(self.n, self.n)).tocsr()

    def arcs_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The arc joining ``a[i]`` and ``b[i]`` for each i (``arc_index`` for arrays)."""
        if not len(a):
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self._arc_ids[a, b]).ravel() - 1

    @cached_property
    def neighbours(self) -> dict[int, set[int]]:
        adjacent: dict[int, set[int]] = defaultdict(set)
        for a, b in zip(self.tail.tolist(), self.head.tolist()):
            adjacent[a].add(b)
            adjacent[b].add(a)
        return adjacent

    def other_end(self, arc: int, node: int) -> int:
        return int(self.head[arc]) if int(self.tail[arc]) == node else int(self.tail[arc])

    def walk(self, start: int, arcs: Sequence[int]) -> list[tuple[int, bool]]:
        """Along a path's ``arcs`` from ``start``: the node each arc reaches and whether
        it was crossed tail to head. Shorter than ``arcs`` where the path breaks off (an
        arc not touching the node reached, or arcs beyond the root)."""
        steps, node = [], start
        for arc in arcs:
            a, b = int(self.tail[arc]), int(self.head[arc])
            if node == self.root or node not in (a, b):
                break
            forward = node == a
            node = b if forward else a
            steps.append((node, forward))
        return steps

    def cost(self, paths: dict[int, list[int]]) -> float:
        """Fixed cost of every arc used once, per-cable cost once per path using it
        (without the tolls of the sites' own entries)."""
        if not paths:
            return 0.0
        arcs = np.concatenate([np.asarray(p, dtype=np.int64) for p in paths.values()])
        return float(self.fixed[np.unique(arcs)].sum() + self.per_cable[arcs].sum()) - self.toll * len(paths)


def independent_paths(instance: SteinerInstance) -> dict[int, list[int]]:
    """Every site on its own cheapest path (what single-site plans would build)."""
    _, preds = instance.shortest(instance.fixed + instance.per_cable, instance.root)
    paths = {t: instance.path(preds, instance.root, t) for t in instance.terminals}
    return {t: p for t, p in paths.items() if p is not None}


def _grow(instance: SteinerInstance, kept: dict[int, list[int]], to_add: set[int],
          sharing: float = 1.0, first: int | None = None,
          limits: LimitCounter = NO_LIMITS) -> dict[int, list[int]]:
    """Takahashi–Matsuyama's shortest-path heuristic, aware of per-cable costs: grow the
    tree (the root plus the ``kept`` paths) by repeatedly adding the site whose connection
    costs least, counting dug trenches as free and the per-cable cost of its whole way to
    the root (the virtual source reaches every tree node at that node's per-cable
    distance to the root).

    ``sharing`` > 1 weighs per-cable costs up while growing, anticipating that later
    sites will follow the same way: a long chain of cheap free ducts is tempting for
    the first site but costly when every later site pulls its cable along it too.

    ``first`` is a Steiner point: a node (no site) joined to the tree before any site, so
    the sites can meet there; it gets no path of its own.

    ``limits`` (of ``planning.strands.strand_capacities``): a site's way takes no more
    of a cable's pairs or a closure's joins than the sites before it leave. A full
    limit's arcs are barred, and so is joining the tree below it (the way from there to
    the root rides it); a way that would overfill a limit bars it and the step is searched
    again. Where no site is left with a way within the limits, the rest grow as without
    them (the repair, ``respect_strand_capacity``, settles it)."""
    paths = {t: list(p) for t, p in kept.items()}
    bought = np.zeros(len(instance.fixed), dtype=bool)
    bought[[a for p in kept.values() for a in p]] = True
    # the kept paths as a tree: per-cable distances to the root within the dug trenches
    to_root, preds = instance.shortest(np.where(bought, sharing * instance.per_cable, np.inf),
                                       instance.root)
    tree = np.isfinite(to_root)
    below = np.flatnonzero(tree[:instance.n])
    below = below[below != instance.root]
    limited = _TreeLimits(instance, limits, kept, below, preds[below])
    remaining = set(to_add) | ({first} if first is not None else set())
    known = np.full(instance.n + 1, np.inf)  # upper bounds: distances only shrink as the tree grows
    while remaining:
        weights = sharing * instance.per_cable + np.where(bought, 0.0, instance.fixed)
        if limited.changed:  # barring a limit lengthens ways: the old bounds no longer hold
            known[:] = np.inf
            limited.changed = False
        weights[limited.barred_arcs] = np.inf
        dist, preds = instance.shortest(weights, instance.n, offsets=np.where(limited.cut_off, np.inf, to_root),
                                        limit=min(known[v] for v in remaining) * (1 + 1e-9))
        np.minimum(known, dist, out=known)
        t = first if first in remaining else min(remaining, key=lambda v: (dist[v], v))
        if not np.isfinite(dist[t]):
            if not limited.active:
                raise ValueError("a site to grow has no way to a PoP")
            limited.give_up()  # no site left with a way within the limits
            continue
        walk = [t]  # from the site towards the tree, to the tree node it joins
        while int(preds[walk[-1]]) != instance.n:
            walk.append(int(preds[walk[-1]]))
        new_arcs = [instance.arc_index[(a, b)] for a, b in zip(walk, walk[1:])]
        path = new_arcs + limited.way_up(walk[-1])
        if not limited.admit(path):
            continue  # it would overfill a limit: barred now, search this step again
        remaining.discard(t)
        paths[t] = path
        bought[new_arcs] = True
        cost = to_root[walk[-1]]
        for node, arc in zip(reversed(walk[:-1]), reversed(new_arcs)):
            if tree[node]:  # a tree node cut off from its own way: the way passes it, its own stays
                cost = to_root[node]
                continue
            cost += sharing * instance.per_cable[arc]
            to_root[node], tree[node] = cost, True
            limited.joined(node, arc)
    paths.pop(first, None)
    return paths


class _TreeLimits:
    """What ``_grow`` keeps of the tree and the strand limits: each tree node's next node and
    arc towards the root, the uses each limit takes, the arcs barred (of every full limit,
    and of one a step's way would overfill), and the tree nodes cut off (their way to the
    root rides a barred arc)."""

    def __init__(self, instance: SteinerInstance, limits: LimitCounter, kept: dict[int, list[int]],
                 below: np.ndarray, parents: np.ndarray):
        self.instance = instance
        self.members, self.room, self.taken = limits.members, limits.room, limits.taken
        self.active = limits.active
        self.used = limits.used(kept.values())
        self.barred_arcs = np.zeros(len(instance.fixed), dtype=bool)
        self.cut_off = np.zeros(instance.n + 1, dtype=bool)
        # the tree (the kept paths' nodes ``below`` the root, each with its parent): each node's
        # next node and arc towards the root (itself and -1: the root, or not in the tree)
        self.up, self.up_arc = np.arange(instance.n + 1), np.full(instance.n + 1, -1)
        self.up[below], self.up_arc[below] = parents, instance.arcs_between(below, parents)
        self.changed = False
        self._bar(self.used >= self.room)

    def _bar(self, limits: np.ndarray) -> None:
        barred = np.zeros(len(self.instance.fixed), dtype=bool)
        for i in np.flatnonzero(limits):
            barred[self.members[i]] = True
        if not np.array_equal(barred, self.barred_arcs):
            self.barred_arcs, self.changed = barred, True
            # pointer jumping: ``cut`` says whether the way from a node up to ``up`` rides a
            # barred arc; each round doubles how far ``up`` reaches, until the root
            in_tree = self.up_arc >= 0
            cut = in_tree & barred[np.where(in_tree, self.up_arc, 0)]
            up = self.up
            while True:
                cut = cut | cut[up]
                further = up[up]
                if np.array_equal(further, up):
                    break
                up = further
            self.cut_off = cut

    def way_up(self, node: int) -> list[int]:
        """The arcs from a tree node to the root."""
        arcs = []
        while self.up_arc[node] >= 0:
            arcs.append(int(self.up_arc[node]))
            node = int(self.up[node])
        return arcs

    def joined(self, node: int, arc: int) -> None:
        """A node joins the tree over ``arc``: cut off when the arc is barred or leads to one cut off."""
        parent = self.instance.other_end(arc, node)
        self.up[node], self.up_arc[node] = parent, arc
        self.cut_off[node] = self.barred_arcs[arc] or self.cut_off[parent]

    def admit(self, path: list[int]) -> bool:
        """Take ``path``'s uses if it overfills no limit; else bar the limits it would."""
        if not self.active:
            return True
        after = self.used + self.taken(path)
        over = after > self.room
        if over.any():
            self._bar((self.used >= self.room) | over)
            return False
        self.used = after
        self._bar(self.used >= self.room)
        return True

    def give_up(self) -> None:
        self.active = False
        self._bar(np.zeros(len(self.room), dtype=bool))


def _grow_from(instance: SteinerInstance, start: int, sites: list[int],
               kept: dict[int, list[int]] | None = None) -> dict[int, list[int]]:
    """Plain shortest-path heuristic started at one site instead of the root: the root
    (with the ``kept`` paths' trenches, all dug already) is just one more terminal to
    reach. Read back as each of ``sites``' path to the root in the grown tree, next to
    the kept paths. Different starts find different trunks; the best is kept."""
    kept = kept or {}
    weights = instance.fixed + instance.per_cable
    bought = np.zeros(len(weights), dtype=bool)
    bought[[a for p in kept.values() for a in p]] = True
    anchor = np.zeros(instance.n, dtype=bool)  # the root and the kept plan: one terminal
    anchor[instance.root] = True
    anchor[instance.tail[bought]] = anchor[instance.head[bought]] = True
    anchor_nodes = np.flatnonzero(anchor)
    in_tree = np.full(instance.n, np.inf)  # 0 where the tree is: the virtual source's offsets
    in_tree[start] = 0.0
    remaining = set(sites) - {start}
    anchored = False
    known = np.full(instance.n + 1, np.inf)  # upper bounds: distances only shrink as the tree grows

    def nearest(dist: np.ndarray) -> int:
        options = [(dist[v], v) for v in remaining]
        if not anchored:
            a = int(anchor_nodes[np.argmin(dist[anchor_nodes])])
            options.append((dist[a], a))
        return min(options)[1]

    while remaining or not anchored:
        reached = nearest(known)
        dist, preds = instance.shortest(np.where(bought, instance.per_cable, weights), instance.n,
                                        offsets=in_tree, limit=known[reached] * (1 + 1e-9))
        np.minimum(known, dist, out=known)
        reached = node = nearest(dist)
        while in_tree[node] != 0.0:
            parent = int(preds[node])
            bought[instance.arc_index[(node, parent)]] = True
            in_tree[node] = 0.0
            node = parent
        if anchor[reached]:
            anchored = True
            in_tree[anchor_nodes] = 0.0
        remaining.discard(reached)
    _, preds = instance.shortest(np.where(bought, instance.per_cable, np.inf), instance.root)
    paths = {t: list(p) for t, p in kept.items()}
    paths.update({t: instance.path(preds, instance.root, t) for t in sites})
    return paths


def _reattach(instance: SteinerInstance, paths: dict[int, list[int]], cut: int,
              limits: LimitCounter = NO_LIMITS) -> dict[int, list[int]]:
    """Key-path exchange: cut arc ``cut``; the sites whose paths use it keep their part
    below the cut and the branch is re-joined to the rest of the plan (or the root) by
    the cheapest path, priced for all of them (one trench, one cable each)."""
    group = {t for t, arcs in paths.items() if cut in arcs}
    kept = {t: p for t, p in paths.items() if t not in group}
    branch = [a for t in group for a in paths[t][:paths[t].index(cut)]]
    bought = np.zeros(len(instance.fixed), dtype=bool)
    bought[[a for p in kept.values() for a in p]] = True
    anchor = np.zeros(instance.n, dtype=bool)
    anchor[instance.root] = True
    anchor[instance.tail[bought]] = anchor[instance.head[bought]] = True
    sources = np.full(instance.n, np.inf)
    sources[[t for t in group]] = 0.0
    sources[instance.tail[branch]] = sources[instance.head[branch]] = 0.0
    weights = len(group) * instance.per_cable + np.where(bought, 0.0, instance.fixed)
    weights[cut] = np.inf
    for full in np.flatnonzero(limits.used(kept.values()) >= limits.room):  # the link rides no limit the rest fills
        weights[limits.members[full]] = np.inf
    dist, preds = instance.shortest(weights, instance.n, offsets=sources)
    targets = np.flatnonzero(anchor & np.isfinite(dist[:instance.n]))
    if not len(targets):
        return paths
    node = int(targets[np.argmin(dist[targets])])
    link = []
    while sources[node] != 0.0:  # back to where the branch is left
        parent = int(preds[node])
        link.append(instance.arc_index[(node, parent)])
        node = parent
    bought[branch] = True
    bought[link] = True
    _, preds = instance.shortest(np.where(bought, instance.per_cable, np.inf), instance.root)
    result = dict(kept)
    for t in group:
        path = instance.path(preds, instance.root, t)
        if path is None:
            return paths
        result[t] = path
    return _reroute(instance, result, only=frozenset(group))


def _improve(instance: SteinerInstance, paths: dict[int, list[int]], max_group: int,
             max_passes: int = 4, limits: LimitCounter = NO_LIMITS) -> dict[int, list[int]]:
    """Local search with two moves that single-site re-routing cannot make:

    * re-attach a branch: cut the top arc of each key path (a chain of arcs used by the
      same sites) and re-join the branch below it by the cheapest path (``_reattach``);
    * re-grow a group: the sites behind one node are ripped up together and grown back
      onto the rest of the plan, from the root and from some of their own sites.

    A move is kept when the plan gets cheaper (and stays within the ``limits`` where it
    was); one that did not help is not tried again (the rest of the plan
    rarely changes enough to make it help later)."""
    within = _within(limits)
    best, best_cost = paths, instance.cost(paths)
    failed: set = set()
    for _ in range(max_passes):
        improved = False
        users: dict[int, frozenset] = {}
        behind: dict[int, set[int]] = defaultdict(set)
        for t, arcs in best.items():
            for arc in arcs:
                behind[int(instance.tail[arc])].add(t)
                behind[int(instance.head[arc])].add(t)
        arc_users: dict[int, set[int]] = defaultdict(set)
        for t, arcs in best.items():
            for arc in arcs:
                arc_users[arc].add(t)
        for arc, who in arc_users.items():
            users[arc] = frozenset(who)
        cuts = sorted({arcs[i] for arcs in best.values() for i in range(len(arcs))
                       if len(users[arcs[i]]) > 1  # a lone site's branch: re-routing covers it
                       and (i == len(arcs) - 1 or users[arcs[i]] != users[arcs[i + 1]])})
        groups = sorted({frozenset(g) for g in behind.values() if 2 <= len(g) <= max_group},
                        key=lambda g: (len(g), sorted(g)))
        for move in [("cut", c, users[c]) for c in cuts] + [("group", g) for g in groups]:
            if move in failed:
                continue
            if move[0] == "cut":
                if not any(move[1] in arcs for arcs in best.values()):
                    continue
                candidate = _reattach(instance, {t: list(p) for t, p in best.items()}, move[1], limits)
            else:
                group = move[1]
                kept = {t: p for t, p in best.items() if t not in group}
                grown = [_grow(instance, kept, set(group), sharing, limits=limits)
                         for sharing in REGROUP_SHARING]
                grown += [_grow_from(instance, start, sorted(group), kept)
                          for start in sorted(group)[:REGROUP_STARTS]]
                if len(instance.terminals) * instance.n <= STEINER_POINT_BUDGET:
                    # Steiner points: the nodes on and next to the group's paths
                    on_paths = {int(x) for t in group for a in best[t] for x in (instance.tail[a], instance.head[a])}
                    points = on_paths.union(*(instance.neighbours[v] for v in on_paths))
                    points -= set(instance.terminals) | {instance.root}
                    grown += [_grow(instance, kept, set(group), 1.0, first=v, limits=limits)
                              for v in sorted(points)]
                # within the limits only a plan within them (re-routing one over them within them is slow)
                candidate = min((_reroute(instance, p, only=group, limits=limits if within(p) else NO_LIMITS)
                                 for p in grown),
                                key=lambda p: (not within(p), instance.cost(p)))
            cost = instance.cost(candidate)
            if cost < best_cost - 1e-6 and (within(candidate) or not within(best)):
                best, best_cost, improved = candidate, cost, True
            else:
                failed.add(move)
        if not improved:
            break
        # moves change what is dug: sites outside the moved group may now have cheaper ways
        best = _reroute(instance, best, limits=limits)
        best_cost = instance.cost(best)
    return best


def _within(limits: LimitCounter) -> Callable[[dict[int, list[int]]], bool]:
    """Whether a plan takes no more of any limit than it allows."""
    return lambda paths: limits.within(paths.values())


def _reroute(instance: SteinerInstance, paths: dict[int, list[int]], max_passes: int = 20,
             only: frozenset[int] | None = None, limits: LimitCounter = NO_LIMITS) -> dict[int, list[int]]:
    """Each site (of ``only``, default all) in turn takes its cheapest path given what
    the others already dig. The search from the site stops at its current path's cost.
    ``limits`` (of ``planning.strands.strand_capacities``): a site's new path never takes
    more of a cable or closure than the others leave."""
    usage = np.zeros(len(instance.fixed), dtype=np.int64)
    for arcs in paths.values():
        np.add.at(usage, arcs, 1)
    members, room, taken = limits.members, limits.room, limits.taken
    used = limits.taken_by_all(usage)
    # a trench's price to the next site: its cables' only where dug; kept up to date arc by arc
    priced = instance.per_cable + np.where(usage > 0, 0.0, instance.fixed)

    def reprice(arcs: list[int]) -> None:
        priced[arcs] = instance.per_cable[arcs] + np.where(usage[arcs] > 0, 0.0, instance.fixed[arcs])

    for _ in range(max_passes):
        improved = False
        for t in sorted(only or paths, key=lambda t: -len(paths[t])):
            old = paths[t]
            np.subtract.at(usage, old, 1)
            used -= taken(old)
            reprice(old)
            weights = priced.copy()
            old_cost = float(weights[old].sum())
            for full in np.flatnonzero(used >= room):
                weights[members[full]] = np.inf
            quiet = instance.still_no_cheaper_way(t, weights, old_cost)  # no search needed
            barred_more = False
            while not quiet:  # a way over a limit it would overfill: bar that limit and search again
                dist, preds = instance.shortest(weights, t, limit=old_cost)
                if dist[instance.root] >= old_cost - 1e-6:
                    if not barred_more:  # the prices and full limits alone: worth remembering
                        instance.no_cheaper_way(t, weights, old_cost, dist)
                    break
                new = instance.path(preds, t, instance.root)[::-1]
                over = np.flatnonzero(used + taken(new) > room)
                if not len(over):
                    paths[t], improved = new, True
                    break
                barred_more = True
                for full in over:
                    weights[members[full]] = np.inf
            np.add.at(usage, paths[t], 1)
            used += taken(paths[t])
            reprice(paths[t])
        if not improved:
            break
    return paths


def joint_paths(instance: SteinerInstance, max_group: int = MAX_GROUP,
                limits: LimitCounter = NO_LIMITS) -> dict[int, list[int]]:
    """The joint plan's path (list of arcs) per reachable terminal; given ``limits``,
    grown and improved within them where it can (the best plan within them is the start
    of the local search, the cheapest of all where none is)."""
    independent = independent_paths(instance)
    reachable = sorted(independent)
    if not reachable:
        return {}
    candidates = [_reroute(instance, _grow(instance, {}, set(reachable), sharing, limits=limits), limits=limits)
                  for sharing in SHARING_GUESSES]
    within = _within(limits)
    if not any(within(p) for p in candidates):  # these starts know no limits: only where the growth fails them
        candidates.append(_reroute(instance, {t: list(p) for t, p in independent.items()}))
        # starts spread over the sites: the ones farthest from the root first
        for start in sorted(reachable, key=lambda t: -sum(instance.fixed[independent[t]]))[:MAX_STARTS]:
            candidates.append(_reroute(instance, _grow_from(instance, start, reachable)))
    return _improve(instance, min(candidates, key=lambda p: (not within(p), instance.cost(p))), max_group,
                    limits=limits)


@dataclass(frozen=True)
class SkippedSite:
    """A site of the batch left out on the user's request (--skip-bad-rows), where it came
    from and why: a site that cannot be planned (``field`` None) or an invalid CSV row,
    named as a ``RowProblem``."""

    site: str
    reason: str
    row: int | None = None  # CSV row (header = row 1); None for sites from the inventory
    file: str | None = None  # the CSV it came from; None for sites of the inventory
    field: str | None = None  # for an invalid row: the field at fault and its value
    value: str | None = None

    @classmethod
    def invalid(cls, code: str, problem: RowProblem) -> SkippedSite:
        return cls(code, problem.reason, problem.row, problem.file, problem.field, problem.value)

    def __str__(self) -> str:
        if self.field is not None:
            return str(RowProblem(self.file or "", self.row or 0, self.field, self.value or "", self.reason))
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}site {self.site}: {self.reason}"


def unreachable_reason(net: CandidateNetwork, node: Node) -> str:
    """Why a site attached to ``net`` has no route: too far from everything, or cut off."""
    if net.graph.degree(node) == 0:
        return f"no candidate network node within {net.max_entry_m:,.0f} m for a building entry"
    return "no route to any PoP over the candidate network"


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
    unreachable: dict[str, str]  # site code -> why it cannot be connected
    costs_label: str
    routing_eur: float  # the optimised part: civil works + cable along the routes
    notes: list[str] = field(default_factory=list)
    skipped: list[SkippedSite] = field(default_factory=list)  # left out on the user's request
    bound: LowerBound | None = None  # on routing_eur: how far from the optimum the plan is at most
    thorough: dict | None = None  # what the neighbourhood search did (``--thorough``), None when not run
    # False: the single-site plans of independent_total_eur cannot all be built together
    # (the summary's notes say so: ``INDEPENDENT_NOT_BUILDABLE``)
    independent_buildable: bool = True

    @property
    def saving_eur(self) -> float:
        return round(self.independent_total_eur - self.total_eur, 2)

    def to_dict(self) -> dict:
        return {
            **batch_summary(self),
            **({"thorough": self.thorough} if self.thorough is not None else {}),
            "order": [asdict(step) for step in self.order],
            "routes": {code: {k: v for k, v in route_dict(route).items() if k != "legs"}
                       for code, route in self.routes.items()},
        }


def batch_summary(plan: JointPlan) -> dict:
    """What every batch plan's summary says (a redundant one's too): sites, totals, the
    bound and proven gap, shares, sites not planned, the bill of materials, the notes (the
    caveat on the saving made from ``independent_buildable``)."""
    return {
        "sites": [asdict(s) for s in plan.sites],
        "price_table": plan.costs_label,
        "total_eur": plan.total_eur,
        "independent_total_eur": plan.independent_total_eur,
        "saving_eur": plan.saving_eur,
        "saving_pct": round(100 * plan.saving_eur / plan.independent_total_eur, 1)
        if plan.independent_total_eur else 0.0,
        "routing_eur": round(plan.routing_eur, 2),
        "lower_bound_eur": round(plan.bound.value_eur, 2) if plan.bound else None,
        "bound_method": plan.bound.method if plan.bound else None,
        "proven_gap_pct": round(plan.bound.gap_pct(plan.routing_eur), 2) if plan.bound else None,
        "shares_eur": plan.shares,
        "unreachable": sorted(plan.unreachable),
        "skipped": [asdict(s) for s in plan.skipped],
        "bom": bom_dicts(plan.bom),
        "notes": plan.notes + ([] if plan.independent_buildable else [INDEPENDENT_NOT_BUILDABLE]),
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


def equipment_costs(routes: dict[str, Sequence[Route]], costs: CostModel, strands: int) -> dict[str, float]:
    """Per site: what its cables and equipment cost beyond the routes' trenches and cable."""
    return {code: bom_total(bill_of_materials(list(rs), costs, strands)) - sum(r.single_cost_eur for r in rs)
            for code, rs in routes.items()}


def cost_shares(routes: dict[str, Sequence[Route]], costs: CostModel, strands: int) -> dict[str, float]:
    """Per-site share of a joint plan (one or two routes per site): its own cables and
    equipment, plus an equal part of every trench it uses; the shares add up to the total."""
    users: dict[tuple, int] = defaultdict(int)
    for rs in routes.values():
        for route in rs:
            for leg in route.legs:
                users[leg.edge_id] += 1
    own = equipment_costs(routes, costs, strands)
    return {code: round(own[code] + sum(leg.per_cable_eur + leg.fixed_eur / users[leg.edge_id]
                                        for r in rs for leg in r.legs), 2)
            for code, rs in routes.items()}


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


def batch_paths(net: CandidateNetwork, instance: SteinerInstance
                ) -> tuple[dict[int, list[int]], list[tuple[list[int], int]]]:
    """The batch plan's paths (site -> arcs) within the spare strands' limits, and the
    limits (``strand_capacities``: a cable with k pairs serves k sites).

    Grown within the limits (``joint_paths``), the repair the safety net where the growth
    could not keep them. Neither way of planning is always the cheaper: on small batches
    (``STEINER_POINT_BUDGET``) the plan grown without the limits and repaired is made too
    and the cheaper kept; on a city that doubles the time for little (session 10)."""
    capacities = strand_capacities(net, instance)
    limits = limit_counter(capacities)

    def repaired(paths: dict[int, list[int]]) -> dict[int, list[int]]:
        paths = respect_strand_capacity(net, instance, paths)
        if not capacities:
            return paths
        # the repair moved sites one at a time: each may now find a cheaper way within the pairs
        settle = lambda plan: _reroute(instance, plan, limits=limits)  # noqa: E731
        return swap_scarce_strands(instance, settle(paths), limits, settle)

    joint = repaired(joint_paths(instance, limits=limits))
    if capacities and len(instance.terminals) * instance.n <= STEINER_POINT_BUDGET:
        without = repaired(joint_paths(instance))
        more_sites = len(without) > len(joint)
        if more_sites or (len(without) == len(joint) and instance.cost(without) < instance.cost(joint) - 1e-6):
            joint = without
    return joint, capacities


def route_problems(net: CandidateNetwork, instance: SteinerInstance, paths: dict[int, list[int]],
                   node_of_terminal: dict[int, Node]) -> list[str]:
    """What the batch's own checks find wrong with a plan, as the routes it would store:
    a path that is no way from its site to a PoP, one passing another site, a cable or
    closure carrying more sites than it has pairs or joins for (``over_capacity``)."""
    problems, sites = [], set(instance.terminals)
    for t, arcs in sorted(paths.items()):
        reached = [node for node, _ in instance.walk(t, arcs)]
        if sites.intersection(reached):  # the walk stops where the path breaks off: this came first
            problems.append(f"{node_of_terminal[t]}: path passes another site")
        elif len(reached) < len(arcs):
            problems.append(f"{node_of_terminal[t]}: path breaks off after {len(reached)} arcs")
        elif (reached[-1] if reached else t) != instance.root:
            problems.append(f"{node_of_terminal[t]}: path ends short of a PoP")
    if problems:
        return problems
    routes = [_to_route(net, instance, arcs, node_of_terminal[t]) for t, arcs in sorted(paths.items())]
    return [f"{name}: {users} sites on room for {room}" for name, (users, room) in over_capacity(net, routes).items()]


def thorough_paths(net: CandidateNetwork, instance: SteinerInstance, paths: dict[int, list[int]],
                   capacities: list[tuple[list[int], int]], node_of_terminal: dict[int, Node],
                   progress: Callable[[int, int], None] | None = None,
                   centres: Sequence[int] | None = None, rel_gap: float = lns.EXACT_GAP) -> NeighbourhoodSearch:
    """The batch plan ``paths`` after one pass of neighbourhoods (``planning.lns``; of
    ``centres`` only, given them; each program solved to ``rel_gap``), each kept only when
    the routes pass the batch's own checks (``route_problems``)."""
    return improve_by_neighbourhoods(
        instance, paths, capacities, node_positions(net, instance), progress=progress, centres=centres,
        rel_gap=rel_gap, acceptable=lambda candidate: not route_problems(net, instance, candidate, node_of_terminal))


def focus_sites(bound: LowerBound) -> list[int]:
    """The ``FOCUS_SITES`` sites whose planned path costs most above their cheapest way at
    the bound's prices (``LowerBound.excess_eur``; none where the bound has no prices):
    the plan's way is furthest from the relaxation's there, and an exact neighbourhood
    around them closes most of what the plan lacks (session 11, BENCHMARKS.md)."""
    above = [t for t, eur in bound.excess_eur.items() if eur > _EPS]
    return sorted(above, key=lambda t: (-bound.excess_eur[t], t))[:FOCUS_SITES]


def search_summary(search: NeighbourhoodSearch, before: dict[int, list[int]], before_eur: float,
                   after_eur: float, code_of_terminal: dict[int, str]) -> dict:
    """What a ``--thorough`` batch says about its search: work done, sites moved, saving."""
    moved = search.moved(before)
    return {"neighbourhoods": search.neighbourhoods, "solved": search.solved, "reused": search.reused,
            "kept": search.kept,
            "skipped_too_large": search.too_large, "unsolved": search.unsolved,
            "refused_by_route_check": search.refused,
            "sites_moved": len(moved), "moved": sorted(code_of_terminal[t] for t in moved),
            "routing_before_eur": round(before_eur, 2), "routing_saving_eur": round(before_eur - after_eur, 2)}


def _independent_buildable(independent: dict[int, list[int]], capacities: list[tuple[list[int], int]]) -> bool:
    """Whether the single-site plans the saving is measured against can all be built: each
    was planned alone, so several may count on the same last free pairs (or closure joins);
    the joint plan cannot, and a negative saving then is no reason to plan alone."""
    return not capacities or limit_counter(capacities).within(independent.values())


INDEPENDENT_NOT_BUILDABLE = ("the independent total plans each site alone: together those plans take more free pairs "
                             "or closure joins than there are and cannot all be built, so the saving understates the "
                             "joint plan's (a negative one does not mean planning the sites one by one is cheaper)")


def plan_batch(net: CandidateNetwork, sites: list[SiteSpec], thorough: bool = False,
               progress: Callable[[int, int], None] | None = None) -> JointPlan:
    """The joint plan of ``sites``; with ``thorough``, improved by one neighbourhood pass
    (``progress(done, total)`` over its neighbourhoods) before anything is made from it."""
    nodes = {s.code: net.attach_site(s.code, s.lat, s.lon, s.entry_node) for s in sites}
    instance = SteinerInstance.from_network(net, list(nodes.values()))
    node_of_terminal = dict(zip(instance.terminals, nodes.values()))
    code_of_terminal = dict(zip(instance.terminals, nodes))
    independent = independent_paths(instance)
    joint, capacities = batch_paths(net, instance)
    bound = lower_bound(instance, sorted(joint), joint, capacities) if joint else None
    centres = focus_sites(bound) if joint else []
    focused = thorough_paths(net, instance, joint, capacities, node_of_terminal, centres=centres,
                             rel_gap=FOCUS_GAP) if centres else None
    focus_notes = []
    if focused is not None and focused.kept:
        focus_notes = [f"re-planned around the {focused.neighbourhoods} sites furthest from the bound "
                       f"(each program stopped once proven within {100 * FOCUS_GAP:g} % of its optimum or at "
                       f"{lns.NODE_LIMIT:,} branch-and-bound nodes): "
                       f"{len(focused.moved(joint))} moved, routing "
                       f"{instance.cost(joint) - instance.cost(focused.paths):,.0f} EUR less"]
        joint = focused.paths
    routing = instance.cost(joint)
    searched, before = None, joint
    if thorough and joint:
        search = thorough_paths(net, instance, joint, capacities, node_of_terminal, progress)
        before_eur, joint = routing, search.paths
        routing = instance.cost(joint)
        searched = search_summary(search, before, before_eur, routing, code_of_terminal)

    def routes_of(paths: dict[int, list[int]]) -> dict[str, Route]:
        return {code_of_terminal[t]: _to_route(net, instance, arcs, node_of_terminal[t])
                for t, arcs in sorted(paths.items(), key=lambda kv: code_of_terminal[kv[0]])}

    routes, single_routes = routes_of(joint), routes_of(independent)
    strands = net.strands
    lines = bill_of_materials(list(routes.values()), net.costs, strands, net.closure_names())
    independent_total = round(sum(bom_total(bill_of_materials([r], net.costs, strands))
                                  for r in single_routes.values()), 2)
    by_site = {code: (r,) for code, r in routes.items()}
    own_costs = equipment_costs(by_site, net.costs, strands)
    shares = cost_shares(by_site, net.costs, strands)
    unreachable = {code: unreachable_reason(net, node) for code, node in sorted(nodes.items())
                   if code not in routes}
    notes = [f"{searched['skipped_too_large']} of {searched['neighbourhoods']} neighbourhoods skipped: over "
             f"{lns.MAX_VARIABLES:,} variables"] if searched and searched["skipped_too_large"] else []
    notes = focus_notes + notes
    if searched and bound.method != "LP relaxation":  # the LP by columns starts from the plan's paths: the
        # improved plan's may give the higher bound (the whole LP is the same either way)
        bound = max(bound, lower_bound(instance, sorted(joint), joint, capacities), key=lambda b: b.value_eur)
    return JointPlan(sites, routes, single_routes, lines, bom_total(lines), independent_total,
                     shares, _construction_order(routes, own_costs), unreachable, net.costs.label,
                     routing, notes=notes, bound=bound, thorough=searched,
                     independent_buildable=_independent_buildable(independent, capacities))
