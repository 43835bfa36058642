"""An exact check of the planners on instances drawn fresh (issue 15: "independent exact
checks on instances you have not seen"): random grid towns and feeder towns with spare
strands, the planner's figure against the exact optimum of the same program and the bound
below it, always in the order plan >= optimum >= bound; every plan within the strand
limits; every redundant pair sharing no trench, manhole, building or street corridor
(``pair_faults``, the audits' one rule). CI runs a few derandomised examples (ci profile);
``make fuzz`` draws twenty times as many (hunt profile)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netops.errors import NetopsError
from planning.batch import SteinerInstance, batch_paths
from planning.bounds import lp_bound
from planning.connect import routes_within_limits
from planning.default_prices import default_cost_model
from planning.exact import optimal_cost
from planning.network import build_candidate_network
from planning.redundant import RedundantInstance, exact_pairs, independent_pairs, lp_relaxation, redundant_pairs
from planning.routing import NoRouteError, pair_faults
from planning.strands import limit_counter, over_capacity, strand_capacities
from tests.planning.grid import candidate_network, feeder_city, grid_city
from tests.planning.test_batch_redundant import pair_cost
from tests.planning.test_strand_swaps import SPOTS

EXAMPLES = max(4, settings().max_examples // 20)  # ci: 5; hunt (make fuzz): 100
TOLERANCE = 1e-6  # the MILPs' own relative gap
POP_CELLS = [((0, 0),), ((0, 0), (-1, -1)), ((0, 0), (-1, -1), (0, -1))]  # -1: the far row or column


def in_order(plan: float, optimum: float, bound: float | None = None) -> None:
    assert plan >= optimum * (1 - TOLERANCE), f"plan {plan:,.2f} below the optimum {optimum:,.2f}"
    if bound is not None:
        assert bound <= optimum * (1 + TOLERANCE), f"bound {bound:,.2f} above the optimum {optimum:,.2f}"


def town(size: int, sites: int, seed: int, pops: tuple):
    cells = tuple((r % size, c % size) for r, c in pops)
    city = grid_city(size, size, seed=seed, sites=sites, pop_cells=tuple(dict.fromkeys(cells)))
    net = build_candidate_network(city.physical, city.pops, default_cost_model(), streets=city.streets)
    return net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites]


def feeder(cols: int, pairs: int, spots: list, second_pop: bool, midspan: bool):
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop)
    net = candidate_network(city, midspan_closures=midspan)
    return net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites]


towns = st.tuples(st.integers(4, 6), st.integers(2, 6), st.integers(0, 10**6), st.sampled_from(POP_CELLS))
feeders = st.tuples(st.integers(3, 6), st.integers(1, 3), st.lists(st.sampled_from(SPOTS), min_size=1, max_size=5,
                                                                   unique=True), st.booleans(), st.booleans())


def check_batch(net, sites) -> None:
    instance = SteinerInstance.from_network(net, sites)
    paths, limits = batch_paths(net, instance)
    assert limit_counter(limits).within(paths.values())
    terminals = sorted(paths)
    try:
        optimum = optimal_cost(instance, terminals, capacities=limits)
    except NetopsError:  # the MILP's node limit: nothing exact to check against
        return
    bound = lp_bound(instance, terminals, limits)
    in_order(instance.cost(paths), optimum, bound.value_eur if bound else None)


@settings(max_examples=EXAMPLES)
@given(towns)
def test_the_batch_plan_on_a_grid_town(drawn):
    check_batch(*town(*drawn))


@settings(max_examples=EXAMPLES)
@given(feeders)
def test_the_batch_plan_on_a_feeder_town_within_its_strands(drawn):
    check_batch(*feeder(*drawn))


@settings(max_examples=EXAMPLES)
@given(towns.filter(lambda drawn: drawn[1] <= 4))
def test_the_redundant_batch_on_a_grid_town(drawn):
    net, sites = town(*drawn)
    instance = RedundantInstance(net, sites)
    relaxed = lp_relaxation(instance)
    assume(relaxed is not None)  # a site without two risk-free routes: no redundant batch
    pairs = redundant_pairs(instance, independent_pairs(instance), guide=relaxed[1])
    for site, pair in pairs.items():
        assert pair_faults(net, *pair.routes) == [], site
    try:
        exact = exact_pairs(instance)
    except NetopsError:
        return
    in_order(instance.cost(pairs), exact.value_eur, relaxed[0].value_eur)


@settings(max_examples=EXAMPLES)
@given(feeders, st.integers(1, 2))
def test_plan_connect_on_a_feeder_town(drawn, count):
    net, sites = feeder(*drawn)
    site = sites[0]
    try:
        routes = routes_within_limits(net, site, count)
    except NoRouteError:
        return
    assert over_capacity(net, routes) == {}
    if count == 1:  # one site, one route: the exact optimum of the batch program with its limits
        instance = SteinerInstance.from_network(net, [site])
        in_order(pair_cost(routes), optimal_cost(instance, capacities=strand_capacities(net, instance)))
    elif not pair_faults(net, *routes):  # a risk-free pair: the redundant program's optimum is below it
        single = RedundantInstance(net, [site])
        in_order(pair_cost(routes), exact_pairs(single).value_eur)


def test_the_order_check_can_fail():
    """The order check itself: a figure out of order is reported."""
    with pytest.raises(AssertionError, match="below the optimum"):
        in_order(99.0, 100.0)
    with pytest.raises(AssertionError, match="above the optimum"):
        in_order(100.0, 100.0, 101.0)
