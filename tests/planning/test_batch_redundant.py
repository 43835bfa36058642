"""Redundant batches: every site's two routes share no risk (``topology.risk``), the exact
integer program is right (node-disjoint per site, two PoP buildings, the site's own
building free), the heuristic is feasible and close to it, the bounds are valid."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from planning.default_prices import default_cost_model
from planning.network import OWN_ENTRY, build_candidate_network
from planning.redundant import (RedundantInstance, exact_pairs, independent_pairs, lagrangian_bound,
                                lp_relaxation, plan_redundant_batch, redundant_pairs)
from planning.routing import min_cost_routes, pair_faults
from tests.planning.grid import grid_city
from tests.planning.test_cli import run, town  # noqa: F401  (the stored town fixture)

COSTS = default_cost_model()


def instance_of(size: int, sites: int, seed: int, **kwargs) -> RedundantInstance:
    city = grid_city(size, size, seed=seed, sites=sites, pop_cells=((0, 0), (size - 1, size - 1), (0, size - 1)),
                     **kwargs)
    net = build_candidate_network(city.physical, city.pops, COSTS, streets=city.streets)
    return RedundantInstance(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])


def assert_risk_free(instance: RedundantInstance, site, first, second) -> None:
    """The two routes share nothing, checked on the legs themselves and by the one rule."""
    net = instance.net
    assert first.legs[0].a == second.legs[0].a == site
    assert pair_faults(net, first, second) == []
    own = {site} | {leg.b for route in (first, second) for leg in route.legs if leg.kind == OWN_ENTRY}
    nodes = [{n for leg in route.legs for n in (leg.a, leg.b)} - own for route in (first, second)]
    assert not nodes[0] & nodes[1]
    assert net.building_of(first.pop_node) != net.building_of(second.pop_node)
    for route in (first, second):  # a route ends at the first PoP and never enters a site
        assert [leg.b in net.pops for leg in route.legs].index(True) == len(route.legs) - 1
        assert all(leg.b[0] != "site" for leg in route.legs)


def pair_cost(routes) -> float:
    """Routing cost of routes (Route objects), each trench's fixed cost once."""
    fixed = {leg.edge_id: leg.fixed_eur for route in routes for leg in route.legs}
    return sum(fixed.values()) + sum(leg.per_cable_eur for route in routes for leg in route.legs)


@pytest.mark.parametrize("seed", range(3))
def test_exact_single_site_equals_the_single_site_planner(seed):
    """For one site the redundant batch is `plan connect --redundant`: the integer program
    and the single-site planner (Suurballe + branch-and-bound, another algorithm) agree."""
    instance = instance_of(5, 1, seed)
    (site,) = instance.sites
    exact = exact_pairs(instance)
    routes = min_cost_routes(instance.net, site, 2)
    assert pair_faults(instance.net, *routes) == []
    assert exact.value_eur == pytest.approx(pair_cost(routes), rel=1e-6)
    assert_risk_free(instance, site, *exact.pairs[site])


@pytest.mark.parametrize("size,sites,seed", [(5, 3, 0), (5, 3, 2), (6, 4, 1), (6, 4, 2)])
def test_exact_heuristic_and_bounds_on_small_batches(size, sites, seed):
    instance = instance_of(size, sites, seed)
    exact = exact_pairs(instance)
    # the optimum's routes are risk-free and cost what the program says
    for site, (first, second) in exact.pairs.items():
        assert_risk_free(instance, site, first, second)
    assert pair_cost([r for pair in exact.pairs.values() for r in pair]) == pytest.approx(exact.value_eur, rel=1e-6)
    bound, guide = lp_relaxation(instance)
    independent = independent_pairs(instance)
    pairs = redundant_pairs(instance, independent, guide=guide)
    for site, pair in pairs.items():
        assert_risk_free(instance, site, *pair.routes)
    heuristic = instance.cost(pairs)
    assert heuristic == pytest.approx(pair_cost([r for p in pairs.values() for r in p.routes]), rel=1e-9)
    # nothing beats the optimum; the heuristic is near it; sharing never costs more than going alone
    assert exact.value_eur <= heuristic + 1e-3 <= instance.cost(independent) + 2e-3
    assert heuristic <= exact.value_eur * 1.05
    # both bounds are valid
    assert bound.value_eur <= exact.value_eur + 1e-3
    assert 0 < lagrangian_bound(instance, pairs).value_eur <= exact.value_eur + 1e-3


def test_two_sites_share_a_trench_only_between_them():
    """Sharing between *different* sites is what makes a redundant batch cheaper: the
    optimum of two neighbouring sites digs less than the two optima apart."""
    instance = instance_of(5, 2, 0)
    together = exact_pairs(instance).value_eur
    apart = sum(exact_pairs(instance, [site]).value_eur for site in instance.sites)
    assert together < apart - 1.0


def test_a_single_pop_building_allows_no_redundant_pair():
    """Two PoPs in one building (the Erle case) are one building: no pair to two."""
    city = grid_city(5, 5, seed=1, sites=2, pop_cells=((0, 0), (4, 4)))
    second_pop = next(n for n, code in city.pops.items() if code == "POP-1")
    first_pop = next(n for n, code in city.pops.items() if code == "POP-0")
    city.physical.nodes[second_pop].update(lat=city.physical.nodes[first_pop]["lat"] + 0.00003,
                                           lon=city.physical.nodes[first_pop]["lon"])
    net = build_candidate_network(city.physical, city.pops, COSTS, streets=city.streets)
    plan = plan_redundant_batch(net, city.sites)
    assert plan.routes == {} and set(plan.unreachable) == {"KITA-0", "KITA-1"}
    assert all("two PoP buildings" in why for why in plan.unreachable.values())


def test_plan_adds_up():
    city = grid_city(6, 6, seed=3, sites=5, pop_cells=((0, 0), (5, 5), (0, 5)))
    net = build_candidate_network(city.physical, city.pops, COSTS, streets=city.streets)
    plan = plan_redundant_batch(net, city.sites)
    assert sorted(plan.routes) == [s.code for s in city.sites] and not plan.unreachable
    summary = plan.to_dict()
    assert summary["total_eur"] <= summary["independent_total_eur"]
    assert sum(plan.shares.values()) == pytest.approx(plan.total_eur, abs=0.05)
    assert summary["total_eur"] == pytest.approx(sum(line["total_eur"] for line in summary["bom"]), abs=0.05)
    assert summary["bound_method"] == "LP relaxation"
    assert summary["proven_gap_pct"] == pytest.approx(
        100 * (plan.routing_eur - plan.bound.value_eur) / plan.bound.value_eur, abs=0.01)
    assert all(len(routes) == 2 for routes in summary["routes"].values())


def test_cli_redundant_batch_json_exact_and_stored(town):  # noqa: F811
    db, streets = town
    out = json.loads(run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--redundant",
                          "--exact", "--json"]))
    assert out["redundant"] is True and sorted(out["routes"]) == ["KITA-0", "KITA-1", "KITA-2"]
    assert all(len(pair) == 2 and pair[0]["pop"] != pair[1]["pop"] for pair in out["routes"].values())
    assert out["lower_bound_eur"] <= out["exact_routing_eur"] + 0.01 <= out["routing_eur"] + 0.02
    assert out["proven_gap_pct"] == pytest.approx(
        100 * (out["routing_eur"] - out["lower_bound_eur"]) / out["lower_bound_eur"], abs=0.01)
    diff = json.loads(run([*db, "plan", "diff", str(out["plan_id"]), "--json"]))
    assert len(diff["added"]["cable"]) == 6
    text = run([*db, "plan", "show", str(out["plan_id"])])
    assert "3 sites" in text and "batch-redundant" in text
    text = run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--redundant", "--dry-run"])
    assert "redundant joint plan for 3 sites" in text and "lower bound" in text and "above the optimum" in text


def test_cli_redundant_batch_with_a_site_far_away(town, tmp_path):  # noqa: F811
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code,name,kind,lat,lon\nKITA-0,,,,\nfar-away,Kita Hamburg,kindergarten,53.55,10.0\n")
    result = CliRunner().invoke(app, [*db, "plan", "batch", "--csv", str(csv), *streets, "--redundant"])
    assert result.exit_code == 2 and "row 3: site far-away" in result.output
    out = json.loads(run([*db, "plan", "batch", "--csv", str(csv), *streets, "--redundant", "--skip-unreachable",
                          "--dry-run", "--json"], code=1))
    assert list(out["routes"]) == ["KITA-0"] and [s["site"] for s in out["skipped"]] == ["far-away"]


def test_the_remembered_pair_searches_are_bounded(monkeypatch):
    """``best_pair`` remembered every search for the instance's life: each Lagrangian round and
    step prices anew, so (rounds + steps) x sites searches piled up. Now the last
    ``MAX_REMEMBERED_PAIRS`` (here made 8): the same plan and bound, the memory bounded."""
    from planning import redundant

    def plan_and_bound():
        instance = instance_of(5, 3, 0)
        searches = []
        search = instance._search_pair
        monkeypatch.setattr(instance, "_search_pair", lambda *a: searches.append(a[0]) or search(*a))
        pairs = redundant_pairs(instance)
        bound = lagrangian_bound(instance, pairs)
        return instance, searches, {t: p.edges for t, p in pairs.items()}, bound.value_eur

    _, _, pairs, bound = plan_and_bound()
    monkeypatch.setattr(redundant, "MAX_REMEMBERED_PAIRS", 8)
    instance, searches, small_pairs, small_bound = plan_and_bound()
    assert len(searches) > 8 * 4  # the case that piled up: many more searches than are kept
    assert len(instance._best_pairs) <= 8
    assert (small_pairs, small_bound) == (pairs, pytest.approx(bound, rel=1e-9))
