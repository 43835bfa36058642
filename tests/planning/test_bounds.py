"""Bounds you can trust: the batch's lower bound is the same on every run (no clock decides
it), stays below the exact optimum when spare strand capacity binds, and strand capacity
makes it tighter, not looser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.batch import SteinerInstance, joint_paths, plan_batch
from planning.bounds import dual_ascent_bound, generated_lp_bound, lower_bound, lp_bound
from planning.exact import optimal_cost
from planning.strands import respect_strand_capacity, strand_capacities
from tests.planning.grid import candidate_network, feeder_city

NEAR = ((0.25, 0.0), (0.3, 0.1), (0.25, 1.0))  # three sites by the closure, two pairs on its cable
SPOTS = [(north, west) for north in (0.25, 0.6, 1.0) for west in (0.0, 0.4, 1.0, 2.0, 3.5)]


def capacitated(city):
    """The city's batch instance, the capacity-repaired heuristic plan and the cables' capacities."""
    net = candidate_network(city)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    paths = respect_strand_capacity(net, instance, joint_paths(instance))
    return instance, paths, strand_capacities(net, instance)


def test_two_runs_state_the_same_plan_bound_and_gap():
    """Every limit on the bound is a count of work: the same input gives the same figures,
    on the whole-LP path (the plan) and on the column-generation path (called directly)."""
    city = feeder_city(pairs=2, sites=NEAR)
    first, second = (plan_batch(candidate_network(city), city.sites).to_dict() for _ in range(2))
    keys = ("routing_eur", "lower_bound_eur", "bound_method", "proven_gap_pct", "total_eur")
    assert {k: first[k] for k in keys} == {k: second[k] for k in keys}
    assert first["lower_bound_eur"] > 0
    instance, paths, capacities = capacitated(city)
    runs = [generated_lp_bound(instance, sorted(paths), paths, capacities) for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].value_eur > 0


def test_strand_capacity_tightens_the_bound():
    """Three sites want the cable's two pairs: the bound without capacities stops at the
    uncapacitated optimum, the one with them reaches the capacitated optimum (the plan)."""
    city = feeder_city(pairs=2, sites=NEAR)
    instance, paths, capacities = capacitated(city)
    sites = sorted(paths)
    free_for_all = optimal_cost(instance)
    optimum = optimal_cost(instance, capacities=capacities)
    assert free_for_all < optimum - 1  # capacity binds
    loose, tight = lp_bound(instance, sites), lp_bound(instance, sites, capacities)
    assert loose.value_eur <= free_for_all + 1e-3
    assert free_for_all + 1 < tight.value_eur <= optimum + 1e-3
    assert instance.cost(paths) == pytest.approx(optimum, rel=1e-6)
    # the column-generation bound (the city's path) also prices the pairs: above the loose LP
    generated = generated_lp_bound(instance, sites, paths, capacities)
    assert loose.value_eur + 1 < generated.value_eur <= optimum + 1e-3


@settings(max_examples=25)
@given(pairs=st.integers(1, 3), cols=st.integers(4, 7), second_pop=st.booleans(), free_ducts=st.booleans(),
       spots=st.lists(st.sampled_from(SPOTS), min_size=2, max_size=5, unique=True))
def test_bounds_hold_below_the_capacitated_optimum(pairs, cols, second_pop, free_ducts, spots):
    """bound <= exact optimum (MILP with the cables' pairs) <= heuristic plan, for every
    bound the batch may state, on small feeder cities where the pairs often run out."""
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop, free_ducts=free_ducts)
    instance, paths, capacities = capacitated(city)
    sites = sorted(paths)
    optimum = optimal_cost(instance, sites, capacities=capacities)
    assert optimum <= instance.cost(paths) + 1e-3
    for bound in (lp_bound(instance, sites, capacities), lower_bound(instance, sites, paths, capacities),
                  generated_lp_bound(instance, sites, paths, capacities), dual_ascent_bound(instance, sites)):
        assert bound.value_eur <= optimum + 1e-3 * max(1.0, optimum * 1e-6)
