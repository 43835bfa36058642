"""The batch's searches: the arcs' weights rewritten in place, searches remembered as fruitless."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from planning.batch import SteinerInstance, _reroute, independent_paths, joint_paths
from tests.planning.test_batch import city_network


def instance_of(size: int, sites: int, seed: int) -> SteinerInstance:
    city, net = city_network(size, sites, seed)
    return SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon, s.entry_node) for s in city.sites])


def fresh_dijkstra(instance: SteinerInstance, weights: np.ndarray, start: int, offsets=None, limit=np.inf):
    """The search built from scratch (no graph kept between searches)."""
    n, m = instance.n, len(instance.tail)
    virtual = np.full(n, np.inf) if offsets is None else offsets[:n]
    data = np.maximum(np.concatenate([weights, weights, virtual]), 1e-6)
    rows = np.concatenate([instance.tail, instance.head, np.full(n, n)])
    cols = np.concatenate([instance.head, instance.tail, np.arange(n)])
    graph = coo_matrix((data, (rows, cols)), shape=(n + 1, n + 1)).tocsr()
    assert graph.nnz == 2 * m + n
    return dijkstra(graph, directed=True, indices=start, limit=limit)


def test_searches_in_a_row_see_the_weights_they_are_given():
    """Each search rewrites only the arcs whose weight changed: one after another, with
    weights going up, down, to inf and back, every one finds what a fresh graph gives."""
    instance = instance_of(6, 6, seed=2)
    rng = np.random.default_rng(7)
    base = instance.fixed + instance.per_cable
    for step in range(12):
        weights = base.copy()
        changed = rng.choice(len(base), size=20, replace=False)
        weights[changed] = np.where(rng.random(20) < 0.3, np.inf, base[changed] * rng.uniform(0, 3, 20))
        if step % 3 == 2:  # the virtual source, at a few nodes
            offsets = np.full(instance.n + 1, np.inf)
            offsets[rng.choice(instance.n, size=5, replace=False)] = rng.uniform(0, 100, 5)
            got, _ = instance.shortest(weights, instance.n, offsets=offsets)
            want = fresh_dijkstra(instance, weights, instance.n, offsets)
        else:
            start = instance.terminals[step % len(instance.terminals)]
            got, _ = instance.shortest(weights, start, limit=5_000.0)
            want = fresh_dijkstra(instance, weights, start, limit=5_000.0)
        np.testing.assert_array_equal(got, want)


def test_a_fruitless_search_is_remembered_for_the_weights_it_saw():
    instance = instance_of(6, 6, seed=2)
    site = instance.terminals[0]
    weights = instance.fixed + instance.per_cable
    dist, _ = instance.shortest(weights, site)
    limit = float(dist[instance.root])  # nothing below the cheapest way
    dist, _ = instance.shortest(weights, site, limit=limit)
    instance.no_cheaper_way(site, weights, limit, dist)
    assert instance.still_no_cheaper_way(site, weights, limit)
    assert instance.still_no_cheaper_way(site, weights, limit - 1.0)  # a lower limit: still nothing
    assert not instance.still_no_cheaper_way(site, weights, limit + 1.0)  # a higher one may find a way
    assert not instance.still_no_cheaper_way(instance.terminals[1], weights, limit)  # never searched from
    seen = np.isfinite(dist[:instance.n])
    near = np.flatnonzero(seen[instance.tail] | seen[instance.head])
    far = np.flatnonzero(~(seen[instance.tail] | seen[instance.head]))
    cheaper = weights.copy()
    cheaper[near[0]] *= 0.5  # an arc the search saw: a cheaper way may run over it
    assert not instance.still_no_cheaper_way(site, cheaper, limit)
    if len(far):  # an arc it never reached: any way over it costs more than the limit anyway
        cheaper = weights.copy()
        cheaper[far] = 0.0
        assert instance.still_no_cheaper_way(site, cheaper, limit)
        again, _ = instance.shortest(cheaper, site, limit=limit)
        assert again[instance.root] >= limit - 1e-6


def test_re_routing_remembers_only_what_changes_nothing():
    """The same plans with and without what earlier re-routings remembered."""
    for seed in range(3):
        remembered, fresh = instance_of(7, 8, seed), instance_of(7, 8, seed)
        plan = joint_paths(remembered)  # fills what ``remembered`` knows
        assert remembered._no_cheaper_way
        detour = independent_paths(fresh)  # every site on its own way: re-routing moves many
        assert _reroute(remembered, {t: list(p) for t, p in detour.items()}) == \
            _reroute(fresh, {t: list(p) for t, p in detour.items()})
        assert joint_paths(remembered) == joint_paths(fresh) == plan
