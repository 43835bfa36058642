"""Single routes and Suurballe pairs on hand-made plants."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from planning.connect import SiteSpec, plan_connection
from planning.default_prices import default_cost_model
from planning.loss_budget import STANDARD_OPTICS
from planning.network import StreetSegment, build_candidate_network
from planning.routing import min_cost_routes, shared_legs

COSTS = default_cost_model()
PULL = COSTS.per_cable_per_m(existing_duct=True, strands=12)


def plant(edges, pops=("T",), site="S"):
    """Nodes far apart (no accidental building entries); trenches with one free duct
    unless the edge says (ducts_total, ducts_used)."""
    graph = nx.MultiGraph()
    names = sorted({n for e in edges for n in e[:2]})
    for i, name in enumerate(names):
        kind = "site_entry" if name in pops or name == site else "manhole"
        graph.add_node(name, code=name, kind=kind, lat=51.5 + 0.02 * i, lon=7.0 + 0.02 * (i % 3), site_id=None)
    for k, (u, v, length, *ducts) in enumerate(edges):
        total, used = ducts or (2, 1)
        graph.add_edge(u, v, key=k + 1, code=f"T{k + 1}", length_m=float(length), laying_method="open_trench",
                       ducts_total=total, ducts_used=used, status="active")
    return graph


def network(graph, pops=("T",), streets=()):
    net = build_candidate_network(graph, {p: f"POP-{p}" for p in pops}, COSTS, streets=streets)
    net.max_entry_m = 0  # the site enters through its own documented entry node only
    return net


def site_at(net, name="S"):
    data = net.graph.nodes[("n", name)]
    return net.attach_site("SITE", data["lat"], data["lon"], ("n", name))


def trench_codes(route):
    return [leg.code for leg in route.legs if leg.code]


def test_cheapest_route_pulls_through_free_ducts():
    graph = plant([("S", "A", 100), ("A", "T", 100), ("S", "B", 50), ("B", "T", 50, 2, 2)])
    net = network(graph)
    (route,) = min_cost_routes(net, site_at(net), 1)
    # the shorter way has a full trench: digging 50 m beside it costs more than pulling 200 m
    assert trench_codes(route) == ["T1", "T2"]
    assert route.single_cost_eur == pytest.approx(200 * PULL)
    assert route.pop_code == "POP-T"


def test_full_trench_is_a_candidate_for_a_new_trench_alongside():
    graph = plant([("S", "A", 100, 2, 2), ("A", "T", 100)])
    net = network(graph)
    (route,) = min_cost_routes(net, site_at(net), 1)
    kinds = [(leg.kind, leg.laying_method) for leg in route.legs if leg.length_m > 0]
    assert kinds == [("new", "open_trench"), ("existing", "existing_duct")]
    assert route.single_cost_eur == pytest.approx(100 * (130 + 1.10) + 100 * PULL)


def test_suurballe_finds_the_pair_greedy_removal_misses():
    # the classic trap: the shortest path S-A-B-T blocks every second path once removed
    graph = plant([("S", "A", 100), ("A", "B", 100), ("B", "T", 100), ("S", "B", 400), ("A", "T", 400)])
    net = network(graph)
    first, second = min_cost_routes(net, site_at(net), 2)
    assert not shared_legs(first, second)
    assert sorted(first.length_m + second.length_m for _ in [0]) == [1000]
    assert {tuple(trench_codes(first)), tuple(trench_codes(second))} == {("T1", "T5"), ("T4", "T3")}


def test_pair_prefers_two_pops_and_falls_back_to_one():
    graph = plant([("S", "A", 100), ("A", "T", 100), ("S", "B", 100), ("B", "T", 100),
                   ("S", "C", 900), ("C", "U", 900)], pops=("T", "U"))
    net = network(graph, pops=("T", "U"))
    pair = min_cost_routes(net, site_at(net), 2)
    assert {r.pop_code for r in pair} == {"POP-T", "POP-U"}  # dearer, but two PoPs
    single_pop = plant([("S", "A", 100), ("A", "T", 100), ("S", "B", 100), ("B", "T", 100)])
    net = network(single_pop)
    pair = min_cost_routes(net, site_at(net), 2)
    assert [r.pop_code for r in pair] == ["POP-T", "POP-T"] and not shared_legs(*pair)


def test_a_bridge_is_reported_as_shared():
    graph = plant([("S", "X", 50), ("X", "A", 100), ("A", "T", 100), ("X", "B", 100), ("B", "T", 100)])
    net = network(graph)
    s = graph.nodes["S"]
    plan = plan_connection(net, SiteSpec("SITE", "Site", "kindergarten", s["lat"], s["lon"], None, ("n", "S")),
                           list(STANDARD_OPTICS), redundant=True)
    assert [leg.code for leg in plan.shared] == ["T1"]
    assert any("shared" in note for note in plan.notes)
    # the shared trench exists already: pulled twice, never dug
    assert plan.to_dict()["metres_by_method"]["existing_duct"] == pytest.approx(2 * 50 + 4 * 100)


@pytest.mark.parametrize("seed", range(8))
def test_pair_cost_equals_min_cost_flow(seed):
    """Suurballe's pair has the least total cost of any two trench-disjoint routes: checked
    against networkx's network simplex on the same graph (integer metres, one PoP)."""
    rnd = random.Random(seed)
    names = [f"N{i}" for i in range(14)]
    edges = set()
    for i in range(1, len(names)):
        edges.add((names[rnd.randrange(i)], names[i]))
    while len(edges) < 26:
        a, b = rnd.sample(names, 2)
        if (b, a) not in edges:
            edges.add((a, b))
    lengths = {e: rnd.randint(50, 500) for e in sorted(edges)}
    graph = plant([(a, b, length) for (a, b), length in lengths.items()], pops=("N13",), site="N0")
    net = network(graph, pops=("N13",))
    flow_graph = nx.DiGraph()
    for (a, b), length in lengths.items():
        flow_graph.add_edge(a, b, capacity=1, weight=length)
        flow_graph.add_edge(b, a, capacity=1, weight=length)
    flow_graph.add_node("N0", demand=-2)
    flow_graph.add_node("N13", demand=2)
    try:
        expected = nx.min_cost_flow_cost(flow_graph)
    except nx.NetworkXUnfeasible:
        pytest.skip("no two edge-disjoint routes in this random graph")
    pair = min_cost_routes(net, site_at(net, "N0"), 2)
    assert not shared_legs(*pair)
    assert sum(r.length_m for r in pair) == pytest.approx(expected)


def test_street_network_joins_the_plant():
    graph = plant([("A", "T", 100)], site="none")
    a, t = graph.nodes["A"], graph.nodes["T"]
    # a street from the middle of nowhere to A; the site lies next to its far end
    street = StreetSegment([[a["lon"] + 0.003, a["lat"]], [a["lon"], a["lat"]]], "micro_trench", None)
    net = build_candidate_network(graph, {"T": "POP-T"}, COSTS, streets=[street])
    plan = plan_connection(net, SiteSpec("K", "Kita", "kindergarten", a["lat"] + 0.0005, a["lon"] + 0.003),
                           list(STANDARD_OPTICS))
    methods = plan.to_dict()["metres_by_method"]
    assert set(methods) == {"open_trench", "micro_trench", "existing_duct"}
    assert methods["micro_trench"] == pytest.approx(0.003 * 111_320 * 0.6225, rel=0.02)
    assert plan.routes[0].pop_code == "POP-T" and t["code"] == "T"
