"""After the capacity repair: giving the scarce strands and closure joins to the sites that
need them most (``planning.strands.swap_scarce_strands``). The repair moves one site at a
time and the first to hold a full cable keeps it; on tiny feeder grids where the pairs or
the joins bind that left plans up to 11 % above the exact optimum (40 seeded grids; the
swaps: 3.8 %). The swaps never break a limit, never drop a site, never make a plan dearer,
and give the same plan every run. NOT a bound: a grid can stay far above the MILP (two
sites, one pair: 23 %; four sites, one pair: 15 %), where the optimum moves two sites
together or is no matter of who holds the strands; see ``test_known_gaps``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.batch import SteinerInstance, _reroute, joint_paths
from planning.exact import optimal_cost
from planning.strands import limit_counter, respect_strand_capacity, strand_capacities, swap_scarce_strands
from tests.planning.grid import candidate_network, feeder_city

SPOTS = [(north, west) for north in (0.25, 0.6, 1.0) for west in (0.0, 0.4, 1.0, 2.0, 3.5)]


def repaired_and_swapped(city, midspan: bool = False, joins: int | None = None):
    """The batch as ``plan_batch`` makes it, before and after the swaps, with its limits."""
    net = candidate_network(city, midspan_closures=midspan, **({"closure_splices": {1: 2 * joins}} if joins else {}))
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    capacities = strand_capacities(net, instance)
    repaired = _reroute(instance, respect_strand_capacity(net, instance, joint_paths(instance)), limits=limit_counter(capacities))
    swapped = swap_scarce_strands(instance, repaired, limit_counter(capacities),
                                  lambda paths: _reroute(instance, paths, limits=limit_counter(capacities)))
    return instance, repaired, swapped, capacities


def limit_uses(paths: dict[int, list[int]], capacities) -> list[tuple[int, int]]:
    """(arc uses, allowed) of every limit, counted here from the arcs."""
    return [(sum(int(np.isin(p, arcs).sum()) for p in paths.values()), allowed) for arcs, allowed in capacities]


def test_the_site_that_needs_the_one_pair_gets_it():
    """One free pair, four sites: the repair leaves it with the site that took it first
    (10.8 % above the optimum); swapping it to the other site and letting the rest follow
    is the exact optimum."""
    city = feeder_city(4, pairs=1, sites=((0.25, 3.5), (0.6, 2.0), (0.6, 0.4), (0.25, 1.0)), second_pop=True)
    instance, repaired, swapped, capacities = repaired_and_swapped(city, joins=1)
    optimum = optimal_cost(instance, sorted(swapped), capacities=capacities)
    assert instance.cost(repaired) > 1.05 * optimum
    assert abs(instance.cost(swapped) - optimum) <= 1e-6 * optimum
    assert sorted(swapped) == sorted(repaired)
    assert all(used <= allowed for used, allowed in limit_uses(swapped, capacities))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(pairs=st.integers(1, 3), cols=st.integers(4, 6), joins=st.sampled_from([None, 1, 2]),
       second_pop=st.booleans(), midspan=st.booleans(), free_ducts=st.booleans(),
       spots=st.lists(st.sampled_from(SPOTS), min_size=2, max_size=5, unique=True))
def test_swaps_keep_the_limits_and_come_near_the_optimum(pairs, cols, joins, second_pop, midspan, free_ducts, spots):
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop, free_ducts=free_ducts)
    instance, repaired, swapped, capacities = repaired_and_swapped(city, midspan, joins)
    assert sorted(swapped) == sorted(repaired)  # nobody dropped
    assert all(used <= allowed for used, allowed in limit_uses(swapped, capacities))
    assert instance.cost(swapped) <= instance.cost(repaired) + 1e-6
    again = swap_scarce_strands(instance, repaired, limit_counter(capacities), lambda p: _reroute(instance, p, limits=limit_counter(capacities)))
    assert again == swapped  # a count of work, no clock: the same plan every time
    optimum = optimal_cost(instance, sorted(swapped), capacities=capacities)
    assert optimum - 1e-6 <= instance.cost(swapped)


@pytest.mark.parametrize("sites, second_pop, above_pct", [
    (((1.0, 0.4), (1.0, 1.0)), False, 23.1),
    (((0.25, 0.0), (0.25, 1.0), (0.6, 0.0), (0.6, 1.0)), True, 15.2),
])
def test_known_gaps(sites, second_pop, above_pct):
    """Where the plan stays above the MILP with one free pair (what is left to do: moves of
    two sites at once, or a better plan before the repair): held here so a change that
    closes (or widens) the gap shows."""
    city = feeder_city(4, pairs=1, sites=sites, second_pop=second_pop)
    instance, _, swapped, capacities = repaired_and_swapped(city)
    optimum = optimal_cost(instance, sorted(swapped), capacities=capacities)
    assert 100 * (instance.cost(swapped) - optimum) / optimum == pytest.approx(above_pct, abs=0.1)
