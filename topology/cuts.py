"""What a failure cuts off from the core, computed without re-checking the whole network.

Every layer is asked the same question: which nodes lose every path to the *core*, when
some nodes and edges fail? All core nodes together count as one super-source (a site
reached from any PoP is connected), modelled as a virtual root joined to each core node.

``CutTree`` answers it for every single element at once, from one depth-first search
(Hopcroft–Tarjan low-link, the block-cut tree in disguise): a tree edge ``p–c`` is a
bridge iff ``low[c] > disc[p]`` and cuts off exactly the DFS subtree of ``c``; a node
``v`` is a cut vertex for its child ``c`` iff ``low[c] >= disc[v]`` and failing ``v``
cuts off those children's subtrees. Subtrees are contiguous slices of the pre-order, so
each answer costs the size of what it cuts off. The DFS skips only the *edge* it came in
on (node pair and key), never every edge to the parent, so two parallel trench segments
are correctly not bridges, unlike ``nx.bridges`` which refuses multigraphs. Edge keys
must be unique across the graph (they are database ids in ``topology.graphs``).

The same sweep labels the 2-edge-connected components, which settles most *sets* of failed
edges too (``cut_by_edges``): only two failed edges inside one component can cut without
a bridge. That is the shared-risk case (two "redundant" links in one trench).

``FailureSearch`` answers it for an arbitrary *set* of simultaneous failures (a trench
carrying several links, ``netops audit cut A B C``): only nodes next to a failure can be
cut off, so it searches outward from them, best-first towards the core along the
pre-computed BFS distance, and stops as soon as it meets the core, a node already known to
be connected, or a node whose path to the core in the DFS tree above is intact (none of the
failed tree edges or nodes above it: a bisect over their subtrees' pre-order intervals). A
search that exhausts without meeting the core has enumerated exactly one cut-off component,
so the cost is about the size of the answer.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections import deque
from typing import Hashable, Iterable, Iterator

import networkx as nx

from topology.gc_pause import gc_paused

ROOT = ("__core__",)  # the virtual super-source; graph nodes are ints or (kind, id) pairs


@gc_paused()
def plain_adjacency(graph: nx.MultiGraph) -> dict:
    """node -> {neighbour: (edge keys...)} as plain dicts: the searches below visit every
    edge, and networkx's adjacency views cost a Python call per access."""
    return {v: {w: tuple(keys) for w, keys in nbrs.items()} for v, nbrs in graph.adj.items()}


def _is_virtual(key) -> bool:
    return isinstance(key, tuple) and key[:1] == ("virtual",)


class CutTree:
    """One DFS from the super-source over a (multi)graph; see the module docstring."""

    @gc_paused()
    def __init__(self, graph: nx.MultiGraph, sources: Iterable[Hashable], adj: dict | None = None):
        self.graph = graph
        self.adj = adj if adj is not None else plain_adjacency(graph)
        self.sources = {s for s in sources if s in graph}
        self.order: list = []  # pre-order of every node reachable from the core
        self.pos: dict = {}
        self.size: dict = {}
        self.bridge_child: dict = {}  # edge key -> the child whose subtree it cuts off
        self.cut_children: dict = {}  # cut vertex -> children cut off when it fails
        self.top_bridge: dict = {}  # node -> key of the bridge nearest the core above it
        self.parent: dict = {}  # node -> its DFS parent (ROOT for a core node)
        self.component: dict = {}  # node -> its 2-edge-connected component (a node's id or ROOT)
        self._search()

    def _neighbours(self, v) -> Iterator[tuple]:
        if v is ROOT:
            for s in self.sources:
                yield s, ("virtual", s)
            return
        for w, keys in self.adj[v].items():
            for key in keys:
                yield w, key
        if v in self.sources:
            yield ROOT, ("virtual", v)

    def _search(self) -> None:
        disc, low = {ROOT: 0}, {ROOT: 0}
        order, pos, size = self.order, self.pos, self.size
        stack = [(ROOT, None, None, self._neighbours(ROOT))]
        while stack:
            v, parent, parent_key, neighbours = stack[-1]
            for w, key in neighbours:
                if w == parent and key == parent_key:
                    continue  # the edge we came in on; a parallel edge to the parent counts
                if w in disc:
                    if disc[w] < low[v]:
                        low[v] = disc[w]
                    continue
                disc[w] = low[w] = len(order) + 1
                pos[w] = len(order)
                self.parent[w] = v
                order.append(w)
                stack.append((w, v, key, self._neighbours(w)))
                break
            else:
                stack.pop()
                if v is ROOT:
                    continue
                size[v] = len(order) - pos[v]
                if low[v] < low[parent]:
                    low[parent] = low[v]
                if parent is not ROOT and low[v] >= disc[parent]:
                    self.cut_children.setdefault(parent, []).append(v)
                if low[v] > disc[parent] and not _is_virtual(parent_key):
                    self.bridge_child[parent_key] = v
        self._propagate_top_bridges()

    def _propagate_top_bridges(self) -> None:
        """Pre-order visits every parent before its children, so one sweep suffices. The
        same sweep labels the 2-edge-connected components: a node starts a new one exactly
        when the tree edge above it is a bridge (the core's is labelled ROOT)."""
        child_bridge = {child: key for key, child in self.bridge_child.items()}
        for v in self.order:
            parent = self.parent[v]
            inherited = self.top_bridge.get(parent)
            self.top_bridge[v] = inherited if inherited is not None else child_bridge.get(v)
            self.component[v] = v if v in child_bridge else self.component.get(parent, ROOT)

    def cut_by_edges(self, keys: Iterable, edge_ends: dict) -> set | None:
        """Nodes cut off when all these edges fail at once, if the tree can tell: when no two
        failed non-bridge edges lie in the same 2-edge-connected component, each such edge
        still lies on a cycle of its component afterwards, so only the failed bridges cut,
        each its own subtree. None when two of them share a component (a shared risk that
        may cut without any bridge): then a search must decide."""
        components, bridges = set(), []
        for key in keys:
            if key in self.bridge_child:
                bridges.append(key)
                continue
            ends = edge_ends.get(key)
            component = self.component.get(ends[0]) if ends else None
            if component is None:
                continue  # not reachable from the core anyway
            if component in components:
                return None
            components.add(component)
        return {n for key in bridges for n in self.cut_by_edge(key)}

    @property
    def reachable(self) -> dict:
        return self.pos

    def subtree(self, v) -> list:
        start = self.pos[v]
        return self.order[start:start + self.size[v]]

    def cut_by_edge(self, key) -> list:
        """Nodes that lose the core when the edge with this key fails (empty if not a bridge)."""
        child = self.bridge_child.get(key)
        return self.subtree(child) if child is not None else []

    def cut_by_node(self, v) -> list:
        """Nodes other than ``v`` that lose the core when ``v`` fails."""
        return [n for c in self.cut_children.get(v, ()) for n in self.subtree(c)]


def core_distances(adj: dict, sources: Iterable[Hashable]) -> dict:
    """Hops from the nearest core node, for every node reachable from the core."""
    dist = {s: 0 for s in sources if s in adj}
    queue = deque(dist)
    while queue:
        v = queue.popleft()
        for w in adj[v]:
            if w not in dist:
                dist[w] = dist[v] + 1
                queue.append(w)
    return dist


class FailureSearch:
    """Nodes cut off by an arbitrary set of simultaneous failures; see the module docstring.

    The ``CutTree``'s DFS tree (built here if not given) ends most searches at once: a node
    none of whose tree ancestors failed, nor the tree edges between them, still reaches the
    core along the tree. Those failed tree edges and nodes are a few pre-order intervals
    (their subtrees), so the test is a binary search, and a search stops at the first node
    outside them (mostly a failed edge's own end, or the node across the next cycle edge)."""

    @gc_paused()
    def __init__(self, graph: nx.MultiGraph, sources: Iterable[Hashable], adj: dict | None = None,
                 tree: CutTree | None = None):
        self.graph = graph
        self.adj = adj if adj is not None else plain_adjacency(graph)
        self.sources = {s for s in sources if s in graph}
        self.tree = tree if tree is not None else CutTree(graph, self.sources, self.adj)
        self.dist = core_distances(self.adj, self.sources)
        self.edge_ends = {key: (u, v) for u, v, key in graph.edges(keys=True)}

    def _tree_breaks(self, failed_edges: set, failed_nodes: set) -> tuple[list[int], list[int]]:
        """(starts, ends) of the pre-order intervals whose tree path to the core may fail: the
        subtrees below failed nodes and below failed edges between a node and its tree parent
        (a parallel edge that is not the tree edge too: more than needed only costs a longer
        search, and no edge-key index is kept), the outermost ones only (subtrees are nested
        or disjoint), sorted."""
        tree = self.tree
        pos, size, parent = tree.pos, tree.size, tree.parent
        tops = [v for v in failed_nodes if v in pos]
        for key in failed_edges:
            pair = self.edge_ends.get(key)
            if pair is None:
                continue
            u, v = pair
            if v in pos and parent[v] == u:
                tops.append(v)
            elif u in pos and parent[u] == v:
                tops.append(u)
        starts: list[int] = []
        ends: list[int] = []
        for start, end in sorted((pos[v], pos[v] + size[v]) for v in tops):
            if not ends or start >= ends[-1]:
                starts.append(start)
                ends.append(end)
        return starts, ends

    def cut_off(self, failed_edges: Iterable = (), failed_nodes: Iterable = ()) -> set:
        """Nodes reachable from the core before, not after (the failed nodes excluded)."""
        failed_edges, failed_nodes = set(failed_edges), set(failed_nodes)
        adj, dist, sources, pos = self.adj, self.dist, self.sources, self.tree.pos
        starts, ends = self._tree_breaks(failed_edges, failed_nodes)

        def on_tree_path(v) -> bool:  # v (reachable, not failed) still reaches the core along the tree
            i = bisect.bisect_right(starts, pos[v]) - 1
            return i < 0 or pos[v] >= ends[i]

        frontier = [n for key in failed_edges for n in self.edge_ends.get(key, ())]
        frontier += [w for v in failed_nodes if v in adj for w in adj[v]]
        connected: set = set()
        cut: set = set()
        tie = itertools.count()
        for start in frontier:
            if start in connected or start in cut or start in failed_nodes or start in sources \
                    or start not in dist or on_tree_path(start):
                continue
            seen = {start}
            heap = [(dist[start], next(tie), start)]
            reached = False
            while heap and not reached:
                _, _, v = heapq.heappop(heap)
                if v in connected or v in sources:
                    reached = True
                    break
                for w, keys in adj[v].items():
                    if w in seen or w in failed_nodes or w not in dist:
                        continue
                    if failed_edges.issuperset(keys):  # every edge to w failed
                        continue
                    seen.add(w)
                    if on_tree_path(w):
                        reached = True
                        break
                    heapq.heappush(heap, (dist[w], next(tie), w))
            (connected if reached else cut).update(seen)
        return cut
