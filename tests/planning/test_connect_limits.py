"""`plan connect` proposes only what it can store: its routes take no more of a cable's
free strand pairs or a closure's room for pair joins than they have (the one count,
``planning.strands.route_limits``, as the change set takes them). Before, a redundant
pair on the feeder town's last free pair rode two parts of CAB-1 opened mid-span (two
pairs), and storing it said "re-plan" (exit 2)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from inventory.models import Plan
from netops.db import session_scope
from planning.connect import routes_within_limits
from planning.context import load_network, site_spec
from planning.network import STRAND
from planning.plans import connect_site
from planning.routing import NoRouteError, min_cost_routes, pair_faults
from planning.strands import over_capacity, route_limits
from tests.planning.grid import NEAR, candidate_network, feeder_city, feeder_town_in

FAR_WEST = (0.5, 2.0)  # rows north, columns west of CL-X: its pair reaches PoP-0 along CAB-1 twice


def strand_legs(routes) -> int:
    return sum(leg.kind == STRAND for route in routes for leg in route.legs)


def test_the_last_free_pair_is_taken_once_and_the_plan_is_stored(engine, tmp_path):
    options, _ = feeder_town_in(engine, tmp_path, pairs=2, sites=(NEAR[0], FAR_WEST), kitas=2)
    with session_scope(engine) as session:
        first = connect_site(session, site_spec(session, "KITA-0"), options).stored
        assert len(first.summary["changes"]["strands"]) == 1  # a draft holds one of the two pairs
    with session_scope(engine) as session:
        net = load_network(session, options)
        assert sum(c.pairs for c in net.spare_cables.values()) == 1
        # unchecked, the cheapest pair rides CAB-1's two parts: two pairs of the one left
        unchecked = min_cost_routes(net, net.attach_site("KITA-1", *_position(session, "KITA-1")), 2)
        assert over_capacity(net, unchecked)
    db = engine.url.render_as_string(hide_password=False).removeprefix("sqlite:///")
    result = CliRunner().invoke(app, ["--db", db, "plan", "connect", "KITA-1", "--redundant", "--json",
                                      "--streets", str(options.streets)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    with session_scope(engine) as session:
        stored = session.get(Plan, out["plan_id"])
        assert len(stored.summary["changes"]["strands"]) <= 1
        # two routes; the town's one PoP is all they share
        assert len(out["routes"]) == 2 and [r["elements"] for r in out["shared_risks"]] == [["POP-0-E"]]


def _position(session, code: str) -> tuple[float, float]:
    spec = site_spec(session, code)
    return spec.lat, spec.lon


@pytest.mark.parametrize("pairs", [1, 2])
def test_a_pair_takes_what_the_cable_has_and_no_more(pairs):
    city = feeder_city(pairs=pairs, sites=(FAR_WEST,))
    net = candidate_network(city, midspan_closures=True)
    site = net.attach_site(city.sites[0].code, city.sites[0].lat, city.sites[0].lon)
    routes = routes_within_limits(net, site, 2)
    assert over_capacity(net, routes) == {}
    assert sum(route_limits(r)[("cable", 1)] for r in routes) == strand_legs(routes) <= pairs
    if pairs == 2:  # room for both legs: the cheapest pair, unchanged
        assert routes == min_cost_routes(net, site, 2)


def test_nothing_within_the_limits_is_one_error_naming_them():
    city = feeder_city(pairs=1, sites=(FAR_WEST,))
    net = candidate_network(city, midspan_closures=True)
    site = net.attach_site(city.sites[0].code, city.sites[0].lat, city.sites[0].lon)
    # only CAB-1 reaches PoP-0: with the street to the PoP gone no pair fits in its one pair
    pop = next(iter(net.pops))
    for u, v, k, d in list(net.graph.edges(pop, keys=True, data=True)):
        if d["kind"] != STRAND:
            net.graph.remove_edge(u, v, k)
    with pytest.raises(NoRouteError, match="within the free strand pairs"):
        routes_within_limits(net, site, 2)


def test_a_long_cable_opened_mid_span_leaves_a_pair_as_redundant_as_one_that_fits():
    # twelve manholes along CAB-1 (one free pair): a new closure at each, each part a leg on it
    city = feeder_city(12, pairs=1, sites=((0.25, 3.0),))
    net = candidate_network(city, midspan_closures=True)
    site = net.attach_site(city.sites[0].code, city.sites[0].lat, city.sites[0].lon)
    routes = routes_within_limits(net, site, 2)
    assert over_capacity(net, routes) == {}
    # the town's one PoP is the one fault a pair cannot avoid; a pair with only it fits
    assert len(pair_faults(net, *routes)) == 1


def test_a_set_of_forbidden_legs_is_searched_once(monkeypatch):
    # the same legs forbidden in another order are the same search: before, 30 searches were
    # 17 distinct sets on this feeder, and the repeats used up the cap
    import planning.connect as connect

    searched = []

    def counted(net, site, count, forbidden=frozenset()):
        searched.append(frozenset(forbidden))
        return min_cost_routes(net, site, count, forbidden)

    monkeypatch.setattr(connect, "min_cost_routes", counted)
    city = feeder_city(12, pairs=1, sites=((0.25, 3.0),))
    net = candidate_network(city, midspan_closures=True)
    site = net.attach_site(city.sites[0].code, city.sites[0].lat, city.sites[0].lon)
    routes_within_limits(net, site, 2)
    assert len(searched) == len(set(searched)) > 1
