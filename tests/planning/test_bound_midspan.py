"""Bounds with mid-span closures: a new closure may open the feeder cable at any manhole it
passes, its parts sharing the cable's pairs. Every bound the batch may state stays below
the exact optimum (MILP with the pairs and the closure's joins) and the plan above it, on
small cities where the pairs and the joins run out; and the LP's aggregate linking rows
(a limited arc carries at most its limit of sites, none unless dug) are what lifts it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planning.bounds
from planning.batch import SteinerInstance, _reroute, joint_paths
from planning.bounds import dual_ascent_bound, generated_lp_bound, lower_bound, lp_bound
from planning.exact import optimal_cost
from planning.network import is_new_closure
from planning.strands import limit_counter, respect_strand_capacity, strand_capacities
from tests.planning.grid import candidate_network, feeder_city

SPOTS = [(north, west) for north in (0.25, 0.6, 1.0) for west in (0.0, 0.4, 1.0, 2.0, 3.5)]


def midspan_batch(city, **options):
    """The city's batch with mid-span closures: instance, the plan as ``plan_batch`` makes
    it (heuristic, capacity repair, re-route within the limits) and the limits."""
    net = candidate_network(city, midspan_closures=True, **options)
    assert any(is_new_closure(node) for node in net.graph)  # the instances do offer mid-span closures
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    capacities = strand_capacities(net, instance)
    paths = _reroute(instance, respect_strand_capacity(net, instance, joint_paths(instance)), limits=limit_counter(capacities))
    return instance, paths, capacities


@settings(max_examples=20, deadline=None, derandomize=True)
@given(pairs=st.integers(1, 3), cols=st.integers(4, 6), joins=st.sampled_from([None, 1, 2]),
       second_pop=st.booleans(), spots=st.lists(st.sampled_from(SPOTS), min_size=2, max_size=4, unique=True))
def test_bounds_hold_with_midspan_closures_and_binding_limits(pairs, cols, joins, second_pop, spots):
    """bound <= exact optimum <= plan for every bound, the cable's pairs and (when set) the
    end closure's joins binding, new closures offered at every manhole the cable passes."""
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop)
    instance, paths, capacities = midspan_batch(city, **({"closure_splices": {1: 2 * joins}} if joins else {}))
    sites = sorted(paths)
    optimum = optimal_cost(instance, sites, capacities=capacities)
    assert optimum <= instance.cost(paths) + 1e-3
    slack = 1e-3 * max(1.0, optimum * 1e-6)
    for bound in (lp_bound(instance, sites, capacities), lower_bound(instance, sites, paths, capacities),
                  generated_lp_bound(instance, sites, paths, capacities), dual_ascent_bound(instance, sites)):
        assert bound.value_eur <= optimum + slack


def test_aggregate_linking_lifts_the_lp(monkeypatch):
    """Three sites, one free pair on the cable: without the aggregate rows the LP shares
    the cable's parts among the sites, each part dug a third (its re-entry and new closure
    paid in part); with them the LP rises towards the capacitated optimum, below it."""
    city = feeder_city(6, pairs=1, sites=((0.25, 1.0), (1.0, 0.4), (1.0, 1.0)), free_ducts=True)
    instance, paths, capacities = midspan_batch(city)
    sites = sorted(paths)
    optimum = optimal_cost(instance, sites, capacities=capacities)
    linked = lp_bound(instance, sites, capacities).value_eur
    monkeypatch.setattr(planning.bounds, "_aggregate_rows", lambda *args: None)
    plain = lp_bound(instance, sites, capacities).value_eur
    assert plain + 100 < linked <= optimum + 1e-3
