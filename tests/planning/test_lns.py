"""Large-neighbourhood search (``planning.lns``): a few sites re-planned exactly with the
rest of the plan fixed. On feeder cities where the cable's pairs and the closure's joins
bind hard (mid-span closures offered): a neighbourhood holding every site is the exact
optimum (MILP) from any start, even one over the limits; small neighbourhoods never make
the plan dearer, never below the optimum, keep every limit and every path a way from its
site to a PoP passing no other site, and give the same plan twice."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.batch import SteinerInstance, _reroute, independent_paths, joint_paths
from planning.bounds import capacity_rows
from planning.exact import optimal_cost
from planning.lns import improve_by_neighbourhoods, node_positions
from planning.strands import limit_counter, respect_strand_capacity, strand_capacities
from tests.planning.grid import candidate_network, feeder_city
from tests.planning.test_bound_midspan import SPOTS


def batch(city, joins):
    net = candidate_network(city, midspan_closures=True, **({"closure_splices": {1: 2 * joins}} if joins else {}))
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    capacities = strand_capacities(net, instance)
    paths = _reroute(instance, respect_strand_capacity(net, instance, joint_paths(instance)), limits=limit_counter(capacities))
    return instance, paths, capacities, node_positions(net, instance)


def assert_ways(instance: SteinerInstance, paths: dict[int, list[int]]) -> None:
    """Every path runs from its site to the root, arc after arc, through no other site."""
    for t, arcs in paths.items():
        node = t
        for arc in arcs:
            a, b = int(instance.tail[arc]), int(instance.head[arc])
            assert node in (a, b)
            node = b if node == a else a
            assert node == instance.root or node not in instance.terminals
        assert node == instance.root


cities = dict(pairs=st.integers(1, 2), cols=st.integers(4, 6), joins=st.sampled_from([None, 1]),
              second_pop=st.booleans(), free_ducts=st.booleans(),
              spots=st.lists(st.sampled_from(SPOTS), min_size=3, max_size=6, unique=True))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(**cities)
def test_one_neighbourhood_of_every_site_is_the_exact_optimum(pairs, cols, joins, second_pop, free_ducts, spots):
    """From each site's own cheapest path (which may overfill the cable), a neighbourhood
    of all sites over the whole network finds the MILP's optimum within the limits."""
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop, free_ducts=free_ducts)
    instance, _, capacities, positions = batch(city, joins)
    start = independent_paths(instance)
    sites = sorted(start)
    optimum = optimal_cost(instance, sites, capacities=capacities)
    search = improve_by_neighbourhoods(instance, start, capacities, positions, group_sites=len(sites),
                                       radius_m=np.inf)
    # every neighbourhood is the same program (all sites, the whole network): solved once
    assert (search.solved, search.reused) == (1, len(sites) - 1)
    found = search.paths
    assert_ways(instance, found)
    assert limit_counter(capacity_rows(instance, capacities)).within(found.values())
    assert abs(instance.cost(found) - optimum) <= 1e-3 * max(1.0, optimum * 1e-6)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(**cities, group=st.integers(2, 3), radius=st.sampled_from([50.0, 150.0]))
def test_small_neighbourhoods_keep_the_plan_valid_and_never_dearer(pairs, cols, joins, second_pop, free_ducts,
                                                                   spots, group, radius):
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop, free_ducts=free_ducts)
    instance, paths, capacities, positions = batch(city, joins)
    sites = sorted(paths)
    optimum = optimal_cost(instance, sites, capacities=capacities)
    found = improve_by_neighbourhoods(instance, paths, capacities, positions, group_sites=group, radius_m=radius).paths
    assert sorted(found) == sites
    assert_ways(instance, found)
    assert limit_counter(capacity_rows(instance, capacities)).within(found.values())
    assert optimum - 1e-3 <= instance.cost(found) <= instance.cost(paths)
    again = improve_by_neighbourhoods(instance, paths, capacities, positions, group_sites=group, radius_m=radius).paths
    assert again == found


def test_a_plan_sharing_nothing_gets_cheaper():
    """Sites on their own cheapest paths, within the pairs: neighbourhoods of two sites
    make the plan strictly cheaper (the search is not idle on the cities above)."""
    city = feeder_city(6, pairs=3, sites=((1.0, 1.0), (1.0, 2.0), (0.6, 3.5)))
    instance, _, capacities, positions = batch(city, None)
    start = independent_paths(instance)
    rows = capacity_rows(instance, capacities)
    assert limit_counter(rows).within(start.values())
    found = improve_by_neighbourhoods(instance, start, capacities, positions, group_sites=2, radius_m=np.inf).paths
    assert instance.cost(found) < instance.cost(start) - 1
    assert instance.cost(found) >= optimal_cost(instance, sorted(found), capacities=capacities) - 1e-3
