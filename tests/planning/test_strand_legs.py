"""One count of strand use: a route takes a pair of a cable on every leg along its
strands, as its change set takes them (``planning.changeset``), also where the legs are
two parts of one cable opened mid-span (the seeded city's redundant batch once planned
kita-068's two routes on two parts of cab-01325, counted one pair, and could not be stored)."""

from __future__ import annotations

import networkx as nx
import numpy as np

from planning.network import STRAND
from planning.redundant import Pair, RedundantInstance
from planning.strands import over_capacity, route_limits
from tests.planning.grid import NEAR, candidate_network, feeder_city


def _instance(pairs: int):
    city = feeder_city(pairs=pairs, second_pop=True, sites=NEAR[:1])
    net = candidate_network(city, midspan_closures=True)
    site = net.attach_site(city.sites[0].code, city.sites[0].lat, city.sites[0].lon)
    return net, site, RedundantInstance(net, [site])


def _edges(instance: RedundantInstance, nodes: list) -> list[int]:
    return [next(e for e, (u, v, _) in enumerate(instance.edges) if {u, v} == {a, b}
                 and (instance.net.graph.edges[u, v, instance.edges[e][2]]["kind"] != STRAND
                      or "midspan" in instance.net.graph.edges[u, v, instance.edges[e][2]]))
            for a, b in zip(nodes, nodes[1:])]


def _two_part_pair(instance: RedundantInstance, site) -> Pair:
    """The site's first route enters closure CL-X, rides CAB-1 back to a new closure
    mid-span and on along the cable's other part to PoP-0: two legs on one cable. The
    second goes by street to PoP-1."""
    closure = next(n for n in instance.nodes if n[0] == "x" and len(n) == 2)
    midspan = next(n for n in instance.nodes if n[0] == "x" and len(n) == 3)
    pop0, pop1 = sorted(instance.net.pops)
    first = _edges(instance, [site, ("n", closure[1]), closure, midspan, pop0])
    streets = instance.net.graph.subgraph([n for n in instance.net.graph if n[0] == "n" and n != pop0]
                                          + [site])
    second = _edges(instance, nx.shortest_path(streets, site, pop1))
    routes = tuple(instance.route(site, edges, instance.index[pop]) for edges, pop in ((first, pop0), (second, pop1)))
    return Pair((tuple(first), tuple(second)), routes)


def test_each_leg_on_a_cable_takes_a_pair():
    net, site, instance = _instance(pairs=1)
    pair = _two_part_pair(instance, site)
    first = pair.routes[0]
    assert sum(leg.kind == STRAND for leg in first.legs) == 2
    assert route_limits(first)[("cable", 1)] == 2
    assert over_capacity(net, [first]) == {"cable CAB-1": (2, 1)}
    assert instance.overloaded({site: pair}) == ["cable CAB-1"]
    # with two pairs it fits: the redundant heuristic's check and the change set's count agree
    net, site, instance = _instance(pairs=2)
    pair = _two_part_pair(instance, site)
    assert over_capacity(net, list(pair.routes)) == {} and instance.overloaded({site: pair}) == []
    assert instance.fits({}, site, pair)


def test_a_pair_search_never_overfills_a_cable_with_its_own_two_routes():
    net, site, instance = _instance(pairs=1)
    # make the two-part ride the only cheap way: every edge but the pair's costs a fortune
    pair = _two_part_pair(instance, site)
    weights = np.full(len(instance.edges), 1e6)
    weights[[e for route in pair.edges for e in route]] = 1.0
    found = instance.best_pair_within(instance.left_for({}, site), site, weights)
    assert found is None or instance.fits({}, site, found)
    if found is not None:
        legs = [leg for route in found.routes for leg in route.legs if leg.kind == STRAND]
        assert len(legs) <= 1


def test_a_stored_redundant_batch_applies_and_the_next_plan_sees_its_strands(engine, tmp_path):
    """The redundant batch's plan is what its change set stores: within the one free pair,
    stored, applied; the next plan is offered the cable no more."""
    from sqlmodel import select

    from inventory.models import Plan
    from netops.db import session_scope
    from planning import changeset
    from planning.context import load_network, site_spec
    from planning.plans import batch_sites
    from planning.strands import taken_strands
    from tests.planning.grid import feeder_town_in

    options, _ = feeder_town_in(engine, tmp_path, pairs=1, sites=NEAR[:2], kitas=2, second_pop=True)
    with session_scope(engine) as session:
        sites = [site_spec(session, code) for code in ("KITA-0", "KITA-1")]
        result = batch_sites(session, sites, options, redundant=True, skip_bad_rows=True)
        routes = [r for pair in result.plan.routes.values() for r in pair]
        legs = sum(leg.kind == STRAND for r in routes for leg in r.legs)
        assert legs == 1  # alone each site would ride the one pair: one does
        assert len(result.stored.summary["changes"]["strands"]) == legs
        plan_id = result.stored.id
    with session_scope(engine) as session:
        changeset.apply_plan(session, session.get(Plan, plan_id))
    with session_scope(engine) as session:
        cable = session.exec(select(Plan)).one().summary["changes"]["strands"][0]["cable_id"]
        assert taken_strands(session)[cable] == {1, 2}
        assert cable not in load_network(session, options).spare_cables


def test_a_search_beside_a_limit_others_overfill_ends_and_fits():
    """Regression (a66369f): while ``_within_limits`` repairs a start, the other sites may
    overfill a cable the searching site never takes. The re-search blocked the limits
    "over" with the other sites alone, already blocked, so it found the same pair again
    and again (an endless loop on the seeded city). Each search must block a new limit:
    at most one search more than there are limits."""
    city = feeder_city(pairs=1, second_pop=True, sites=NEAR[:2])
    net = candidate_network(city, midspan_closures=True)
    first, second = (net.attach_site(s.code, s.lat, s.lon) for s in city.sites)
    instance = RedundantInstance(net, [first, second])
    overfilling = {first: _two_part_pair(instance, first)}  # two legs on CAB-1's one pair
    assert instance.overloaded(overfilling) == ["cable CAB-1"]
    searches = []
    search = instance.best_pair

    def counted(*args, **kwargs):
        searches.append(args)
        assert len(searches) <= len(instance.limit_room) + 1, "the same pair searched again and again"
        return search(*args, **kwargs)

    instance.best_pair = counted
    weights = instance.weights(np.zeros(len(instance.edges), dtype=bool))
    pair = instance.best_pair_within(instance.left_for(overfilling, second), second, weights)
    assert pair is not None and not instance.limit_usage({second: pair})[instance.limit_names.index("cable CAB-1")]
    # the pair fits: what it takes is within what the others leave, whatever they overfill
    assert instance.fits(overfilling, second, pair)
