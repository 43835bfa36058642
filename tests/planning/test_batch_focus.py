"""The batch's focused search: the Lagrangian bound says per site how far its planned
path is from its cheapest way at the bound's prices (``LowerBound.excess_eur``), and the
batch re-plans exactly the neighbourhoods of the sites furthest from it (``focus_sites``,
``improve_by_neighbourhoods(centres=...)``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from planning.batch import FOCUS_GAP, SteinerInstance, focus_sites, joint_paths
from planning.bounds import LowerBound, generated_lp_bound
from planning.lns import improve_by_neighbourhoods, node_positions
from planning.strands import limit_counter
from tests.planning.test_batch import city_network
from tests.planning.test_lns import batch, cities
from tests.planning.grid import feeder_city


def detour(instance: SteinerInstance, paths: dict[int, list[int]], site: int) -> dict[int, list[int]]:
    """The plan with ``site`` sent the long way: its own path's arcs barred, the cheapest way without them."""
    weights = instance.per_cable + instance.fixed
    weights[paths[site]] = np.inf
    _, preds = instance.shortest(weights, site)
    return paths | {site: instance.path(preds, site, instance.root)[::-1]}


@pytest.mark.parametrize("seed", range(6))
def test_the_excesses_add_up_to_at_most_the_proven_gap(seed):
    """A site's path costs at most its cheapest way plus the arc prices only the plan pays:
    summed over the sites, the excesses never exceed the plan's cost above the bound (the
    gap they point into); the plan with one site sent the long way has some."""
    city, net = city_network(7, 6, seed=seed)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    paths = joint_paths(instance)
    for plan in (paths, detour(instance, paths, sorted(paths)[seed])):
        bound = generated_lp_bound(instance, sorted(plan), plan)
        assert sorted(bound.excess_eur) == sorted(plan) and min(bound.excess_eur.values()) >= 0
        assert sum(bound.excess_eur.values()) <= instance.cost(plan) - bound.value_eur + 1e-3
    assert sum(bound.excess_eur.values()) > 0


@settings(max_examples=10, deadline=None, derandomize=True)
@given(**cities)
def test_the_excesses_stay_within_the_gap_with_strand_limits(pairs, cols, joins, second_pop, free_ducts, spots):
    """The same with the capacity prices of spare strands and closure joins in the bound."""
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop, free_ducts=free_ducts)
    instance, paths, capacities, _ = batch(city, joins)
    assert limit_counter(capacities).within(paths.values())
    bound = generated_lp_bound(instance, sorted(paths), paths, capacities)
    assert min(bound.excess_eur.values()) >= 0
    assert sum(bound.excess_eur.values()) <= instance.cost(paths) - bound.value_eur + 1e-3


def test_focus_sites_are_the_largest_excesses_and_none_without_prices():
    bound = LowerBound(1.0, "Lagrangian", {3: 5.0, 1: 0.0, 7: 9.0, 2: 5.0, 4: 1.0, 5: 2.0, 6: 3.0})
    assert focus_sites(bound) == [7, 2, 3, 6, 5]  # ties by site, a site on its cheapest way never
    assert focus_sites(LowerBound(1.0, "LP relaxation")) == []


def test_a_focused_search_touches_only_its_centres_neighbourhoods():
    city, net = city_network(7, 6, seed=1)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    paths = joint_paths(instance)
    site = sorted(paths)[1]
    longer = detour(instance, paths, site)
    search = improve_by_neighbourhoods(instance, longer, [], node_positions(net, instance), group_sites=2,
                                       centres=[site])
    assert search.neighbourhoods == 1 and search.kept == 1
    assert instance.cost(search.paths) < instance.cost(longer)
    assert len(search.moved(longer)) <= 2 and site in search.moved(longer)
    # no centre, no search
    assert improve_by_neighbourhoods(instance, longer, [], node_positions(net, instance), centres=[]).paths == longer


@pytest.mark.parametrize("seed", range(3))
def test_the_focus_gap_costs_at_most_its_part_of_the_plan(seed):
    """The plain batch's focused programs stop once HiGHS proves them within ``FOCUS_GAP``
    of their optimum: the plan it keeps is that close to the proven neighbourhood's, and
    still takes the detour back."""
    city, net = city_network(7, 6, seed=seed)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    paths = joint_paths(instance)
    site = sorted(paths)[seed]
    longer = detour(instance, paths, site)
    positions = node_positions(net, instance)
    proven = improve_by_neighbourhoods(instance, longer, [], positions, group_sites=3, centres=[site])
    focused = improve_by_neighbourhoods(instance, longer, [], positions, group_sites=3, centres=[site],
                                        rel_gap=FOCUS_GAP)
    assert focused.kept == 1 and instance.cost(focused.paths) < instance.cost(longer)
    assert instance.cost(focused.paths) <= instance.cost(proven.paths) * (1 + FOCUS_GAP) + 1e-6
