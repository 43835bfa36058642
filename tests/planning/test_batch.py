"""Joint plans: invariants, and the heuristic against the exact optimum (HiGHS MILP)."""

from __future__ import annotations

import pytest

from planning.batch import SteinerInstance, independent_paths, joint_paths, plan_batch
from planning.bounds import dual_ascent_bound, generated_lp_bound, lower_bound, lp_bound
from planning.default_prices import default_cost_model
from planning.exact import optimal_cost
from planning.network import build_candidate_network
from tests.planning.grid import grid_city

COSTS = default_cost_model()


def city_network(size: int, sites: int, seed: int):
    city = grid_city(size, size, seed=seed, sites=sites, pop_cells=((0, 0), (size - 1, size - 1), (0, size - 1)))
    return city, build_candidate_network(city.physical, city.pops, COSTS, streets=city.streets)


def test_joint_plan_invariants():
    city, net = city_network(6, 8, seed=3)
    plan = plan_batch(net, city.sites)
    assert not plan.unreachable and len(plan.routes) == 8
    # sharing never costs more than building every site on its own
    assert plan.total_eur <= plan.independent_total_eur
    assert plan.saving_eur > 0
    # per-site shares and the construction order both add up to the joint total
    assert sum(plan.shares.values()) == pytest.approx(plan.total_eur, abs=0.05)
    assert plan.order[-1].cumulative_eur == pytest.approx(plan.total_eur, abs=0.05)
    assert [s.sites_connected for s in plan.order] == list(range(1, 9))
    assert sorted(s.site for s in plan.order) == sorted(plan.routes)
    # marginal costs are those of the moment: each step pays only trenches not dug yet
    assert all(a.marginal_eur >= 0 for a in plan.order)
    for route in plan.routes.values():
        assert route.legs[0].a == ("site", next(c for c, r in plan.routes.items() if r is route))
        assert route.pop_code.startswith("POP-")
        # no route passes through another site's building
        assert not any(leg.a[0] == "site" for leg in route.legs[1:])


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_heuristic_is_near_the_exact_optimum(seed):
    """On instances small enough for the integer program, the joint plan's routing cost is
    within 2 % of the optimum (BENCHMARKS.md records the distribution over more seeds)."""
    city, net = city_network(6, 6, seed=seed)
    nodes = [net.attach_site(s.code, s.lat, s.lon) for s in city.sites]
    instance = SteinerInstance.from_network(net, nodes)
    heuristic = instance.cost(joint_paths(instance))
    optimum = optimal_cost(instance)
    assert optimum <= heuristic + 1e-3  # sanity: nothing beats the optimum
    assert heuristic <= optimum * 1.02
    assert heuristic <= instance.cost(independent_paths(instance)) + 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_lower_bounds_hold_below_the_exact_optimum(seed):
    """Both bounds are below the MILP optimum (valid); the LP relaxation is tight on these
    grid cities; the plan states its proven gap from it."""
    city, net = city_network(6 if seed % 2 else 7, 6, seed=seed)
    plan = plan_batch(net, city.sites)
    instance = SteinerInstance.from_network(net, [("site", s.code) for s in city.sites])
    optimum = optimal_cost(instance)
    lp = lp_bound(instance, instance.terminals)
    ascent = dual_ascent_bound(instance)
    paths = joint_paths(instance)
    generated = generated_lp_bound(instance, sorted(paths), paths)
    assert ascent.value_eur <= optimum + 1e-3 and ascent.value_eur > 0.5 * optimum
    assert lp.value_eur <= optimum + 1e-3
    assert lp.value_eur == pytest.approx(optimum, rel=0.02)
    # column generation from the plan's paths (8 rounds) comes close to the LP value, never above it
    assert 0.85 * lp.value_eur <= generated.value_eur <= lp.value_eur + 1e-3
    summary = plan.to_dict()
    assert summary["bound_method"] == "LP relaxation"
    assert summary["lower_bound_eur"] == pytest.approx(lp.value_eur, abs=0.01)
    assert summary["proven_gap_pct"] == pytest.approx(100 * (plan.routing_eur - lp.value_eur) / lp.value_eur, abs=0.01)


def test_bounds_of_a_site_that_cannot_be_connected():
    """No plan connects a site 400 km away: the LP is infeasible (no bound from it) and dual
    ascent says the bound is infinite instead of pretending; an empty batch is bounded by 0."""
    city, net = city_network(6, 2, seed=1)
    far = net.attach_site("FAR", 55.0, 7.0)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites] + [far])
    assert lp_bound(instance, instance.terminals) is None
    assert dual_ascent_bound(instance).value_eur == float("inf")
    assert dual_ascent_bound(instance, []).value_eur == 0.0
    reachable = instance.terminals[:-1]
    assert 0 < lower_bound(instance, reachable).value_eur <= instance.cost(joint_paths(instance)) + 1e-6
