"""Bounds you can trust: the batch's lower bound is the same on every run (no clock decides
it), stays below the exact optimum when spare strand capacity binds, and strand capacity
makes it tighter, not looser."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.batch import SteinerInstance, joint_paths, plan_batch
from planning.bounds import (_Capacities, _directed_ways, _lagrangian, _raised, dual_ascent_bound, generated_lp_bound,
                             lower_bound, lp_bound)
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


def _three_riders_on_two_pairs():
    """The NEAR city's instance, its cable's capacity, and every site's cheapest way
    ignoring the capacity (all three ride the cable's two pairs)."""
    city = feeder_city(pairs=2, sites=NEAR)
    net = candidate_network(city)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    capacity = _Capacities.of(instance, strand_capacities(net, instance))
    sites = sorted(instance.terminals)
    free = {t: np.zeros(2 * len(instance.tail)) for t in sites}
    value, ways = _lagrangian(instance, sites, free, capacity, _directed_ways(instance, joint_paths(instance)))
    return instance, sites, capacity, free, value, ways


def test_an_overfilled_cable_is_raised_by_the_exact_step_and_the_bound_rises(monkeypatch):
    """Three sites ride a cable with two pairs: the raise is the smallest of the three
    riders' losses off it (so only two stay on), and the Lagrangian bound goes up by that
    loss (the third rider pays it, the two others pay it and get it back as 2 pairs x price).
    The searches' cap (``RAISE_MAX``) lifted, the step is exact: going further adds nothing."""
    import planning.bounds

    instance, sites, capacity, free, value, ways = _three_riders_on_two_pairs()
    capped = _raised(instance, sites, np.stack([free[t] for t in sites]), capacity, ways)
    assert 0 < capped.max() <= planning.bounds.RAISE_MAX
    monkeypatch.setattr(planning.bounds, "RAISE_MAX", 1e9)
    riders = capacity.riders(len(instance.tail), ways)
    (row,) = np.flatnonzero(riders > capacity.limit)
    assert riders[row] == 3 and capacity.limit[row] == 2
    current = np.stack([free[t] for t in sites])
    mu = _raised(instance, sites, current, capacity, ways)
    assert mu[row] > 1 and np.count_nonzero(mu) == 1
    raised, _ = _lagrangian(instance, sites, free, capacity.with_mu(mu), ways)
    assert raised == pytest.approx(value + mu[row], rel=1e-9)
    # one step further brings no more (the step was exact along this price)
    further, _ = _lagrangian(instance, sites, free, capacity.with_mu(mu * 1.5), ways)
    assert further <= raised + 1e-6


@settings(max_examples=15)
@given(joins=st.integers(1, 2), cols=st.integers(4, 6),
       spots=st.lists(st.sampled_from(SPOTS), min_size=2, max_size=4, unique=True))
def test_bounds_hold_below_the_optimum_when_the_closure_binds(joins, cols, spots):
    """A closure with room for fewer pair joins than sites: its price is paid on the way in
    and out, and every bound stays below the exact optimum with that limit."""
    city = feeder_city(cols, pairs=3, sites=tuple(spots))
    net = candidate_network(city, closure_splices={1: 2 * joins})
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    capacities = strand_capacities(net, instance)
    paths = respect_strand_capacity(net, instance, joint_paths(instance))
    sites = sorted(paths)
    optimum = optimal_cost(instance, sites, capacities=capacities)
    assert optimum <= instance.cost(paths) + 1e-3
    for bound in (lower_bound(instance, sites, paths, capacities), generated_lp_bound(instance, sites, paths, capacities)):
        assert bound.value_eur <= optimum + 1e-3 * max(1.0, optimum * 1e-6)


def test_an_unconverged_column_generation_does_not_call_itself_the_lp():
    """One generation round whose sites' cheapest ways leave their regions, no re-pricing:
    the bound is the Lagrangian at the restricted LP's duals, below the LP relaxation, and
    its label says so instead of "LP relaxation (column generation)"."""
    from tests.planning.test_batch import city_network

    city, net = city_network(7, 6, seed=0)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    paths = joint_paths(instance)
    bound = generated_lp_bound(instance, sorted(paths), paths, rounds=1, reprice_rounds=0)
    lp = lp_bound(instance, instance.terminals)
    assert 0 < bound.value_eur < lp.value_eur - 1
    assert bound.method == "Lagrangian relaxation (column generation, unconverged)"
