"""The obvious way to find what a failure cuts off: remove it and search again from the
core. Quadratic over a whole ranking, so the audits never use it; it is the reference the
tests compare the one-pass algorithms against and the baseline of the benchmark."""

from __future__ import annotations

from collections import deque
from typing import Hashable, Iterable

import networkx as nx


def reachable_from(graph: nx.MultiGraph, sources: Iterable[Hashable], failed_edges=frozenset(),
                   failed_nodes=frozenset()) -> set:
    seen = {s for s in sources if s in graph and s not in failed_nodes}
    queue = deque(seen)
    while queue:
        v = queue.popleft()
        for w, keys in graph.adj[v].items():
            if w in seen or w in failed_nodes or all(k in failed_edges for k in keys):
                continue
            seen.add(w)
            queue.append(w)
    return seen


def naive_cut_off(graph: nx.MultiGraph, sources: Iterable[Hashable], failed_edges=(),
                  failed_nodes=(), before: set | None = None) -> set:
    """Nodes reachable from the core before the failure and not after (failed nodes excluded)."""
    sources = list(sources)
    failed_edges, failed_nodes = frozenset(failed_edges), frozenset(failed_nodes)
    before = before if before is not None else reachable_from(graph, sources)
    return before - reachable_from(graph, sources, failed_edges, failed_nodes) - failed_nodes
