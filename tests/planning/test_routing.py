"""Single routes and Suurballe pairs on hand-made plants."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from planning.connect import SiteSpec, plan_connection
from planning.default_prices import default_cost_model
from planning.loss_budget import STANDARD_OPTICS
from planning.network import StreetSegment, build_candidate_network
from netops.geo import distance_m, metres_per_degree
from planning.routing import NoRouteError, min_cost_routes, pair_faults, shared_legs
from topology.risk import DEFAULT_RULES, RiskRules

COSTS = default_cost_model()
PULL = COSTS.per_cable_per_m(existing_duct=True, strands=12)
NO_CORRIDORS = RiskRules(corridor_m=0)


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
    net.risk_rules = NO_CORRIDORS  # abstract graphs: straight lines between far-apart points
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


def _free_chain(net, codes):
    """The trenches ``codes`` as a ride on spare strand pairs: 0 EUR, whatever their length."""
    for _, _, d in net.graph.edges(data=True):
        if d["code"] in codes:
            d["fixed_eur"] = d["per_cable_eur"] = 0.0


# Two ways of equal cost from S to PoP T: a drop to A or D (same length, same price), then a
# free chain (spare strands cost 0 EUR/m) of 900 m or of 200 m; either way round in node
# order, so the first found cannot be the shorter by luck.
TIED_WAYS = {"long chain first": ([("S", "A", 100), ("A", "B", 300), ("B", "C", 300), ("C", "T", 300),
                                   ("S", "D", 100), ("D", "T", 200)], {"T2", "T3", "T4", "T6"}),
             "short chain first": ([("S", "A", 100), ("A", "T", 200),
                                    ("S", "D", 100), ("D", "E", 300), ("E", "F", 300), ("F", "T", 300)],
                                   {"T2", "T4", "T5", "T6"})}


@pytest.mark.parametrize("layout", sorted(TIED_WAYS))
def test_at_equal_cost_the_fewest_metres_win(layout):
    edges, free = TIED_WAYS[layout]
    net = network(plant(edges))
    _free_chain(net, free)
    (route,) = min_cost_routes(net, site_at(net), 1)
    assert route.single_cost_eur == pytest.approx(100 * PULL)
    assert route.length_m == pytest.approx(300)
    # redundant: the second route goes to PoP U; the first, to T, takes the short chain
    net = network(plant(edges + [("S", "G", 100), ("G", "U", 100)], pops=("T", "U")), pops=("T", "U"))
    _free_chain(net, free)
    pair = min_cost_routes(net, site_at(net), 2)
    to_t = next(r for r in pair if r.pop_code == "POP-T")
    assert to_t.single_cost_eur == pytest.approx(100 * PULL) and to_t.length_m == pytest.approx(300)
    assert not pair_faults(net, *pair)


def test_a_bridge_is_reported_as_shared():
    graph = plant([("S", "X", 50), ("X", "A", 100), ("A", "T", 100), ("X", "B", 100), ("B", "T", 100)])
    net = network(graph)
    s = graph.nodes["S"]
    plan = plan_connection(net, SiteSpec("SITE", "Site", "kindergarten", s["lat"], s["lon"], None, ("n", "S")),
                           list(STANDARD_OPTICS), redundant=True)
    assert [leg.code for leg in plan.shared] == ["T1"]
    # the manhole behind the bridge and the one PoP are shared too; the site's own entry node is not
    assert [(r["kind"], r["elements"]) for r in plan.risks] == [("trench", ["T1"]), ("node", ["T"]), ("node", ["X"])]
    assert any("1 trench(s), 2 node(s) shared" in note for note in plan.notes)
    # the shared trench exists already: pulled twice, never dug
    assert plan.to_dict()["metres_by_method"]["existing_duct"] == pytest.approx(2 * 50 + 4 * 100)


random_plants = st.integers(min_value=4, max_value=12).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(50, 500))
                 .filter(lambda e: e[0] != e[1]), min_size=n, max_size=3 * n),
    )
)


def node_disjoint_flow_cost(lengths: dict[tuple[str, str, int], int], site: str, pop: str) -> float:
    """Least total length of two routes sharing no trench and no node, by networkx's
    network simplex on the split-node graph (every node but the ends an arc of capacity 1)."""
    flow = nx.DiGraph()
    names = {n for a, b, _ in lengths for n in (a, b)}
    for n in names:
        flow.add_edge(f"{n}-in", f"{n}-out", capacity=2 if n in (site, pop) else 1, weight=0)
    for (a, b, k), length in lengths.items():
        for u, v in ((a, b), (b, a)):  # a trench is one unit of capacity in either direction
            mid = f"{u}-{v}-{k}"
            flow.add_edge(f"{u}-out", mid, capacity=1, weight=length)
            flow.add_edge(mid, f"{v}-in", capacity=1, weight=0)
    flow.nodes[f"{site}-out"]["demand"] = -2
    flow.nodes[f"{pop}-in"]["demand"] = 2
    return nx.min_cost_flow_cost(flow)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(random_plants)
def test_pair_is_node_disjoint_and_least_cost(case):
    """On random plants the pair shares no trench and no manhole, and costs what the
    node-disjoint min-cost flow costs; where no such pair exists it says what is shared."""
    n, edges = case
    names = [f"N{i}" for i in range(n)]
    lengths = {(names[a], names[b], k): length for k, (a, b, length) in enumerate(edges)}
    assume({names[0], names[-1]} <= {x for a, b, _ in lengths for x in (a, b)})
    graph = plant([(a, b, length) for (a, b, _), length in lengths.items()], pops=(names[-1],), site=names[0])
    net = network(graph, pops=(names[-1],))
    try:
        expected = node_disjoint_flow_cost(lengths, names[0], names[-1])
    except nx.NetworkXUnfeasible:
        expected = None
    try:
        pair = min_cost_routes(net, site_at(net, names[0]), 2)
    except NoRouteError:
        assert not nx.has_path(graph, names[0], names[-1])
        return
    inner = [{n for leg in route.legs for n in (leg.a, leg.b)} - {("n", names[0]), ("n", names[-1]), ("site", "SITE")}
             for route in pair]
    if expected is None:  # a bridge or a cut node: the pair must say what it shares
        assert shared_legs(*pair) or inner[0] & inner[1]
        assert pair_faults(net, *pair)
        return
    assert not shared_legs(*pair) and not inner[0] & inner[1]
    assert [r.kind for r in pair_faults(net, *pair)] == ["node"]  # the one PoP, shared by both
    assert sum(r.length_m for r in pair) == pytest.approx(expected)


def test_no_route_passes_through_a_pop():
    """Reaching PoP U through PoP T's building is a route to T: the pair takes the long
    way to U instead of the cheap one through T."""
    graph = plant([("S", "A", 100), ("A", "T", 100), ("S", "B", 100), ("B", "T", 100), ("T", "U", 100),
                   ("S", "C", 3000), ("C", "U", 3000)], pops=("T", "U"))
    net = network(graph, pops=("T", "U"))
    pair = min_cost_routes(net, site_at(net), 2)
    assert {r.pop_code for r in pair} == {"POP-T", "POP-U"}
    to_u = next(r for r in pair if r.pop_code == "POP-U")
    assert trench_codes(to_u) == ["T6", "T7"]
    assert not pair_faults(net, *pair)


def positioned_plant(nodes: dict[str, tuple[float, float, int | None]], edges):
    """A plant at local metres (x east, y north) around 51.5 N 7.0 E; nodes name their site."""
    per_lon, per_lat = metres_per_degree(51.5)
    graph = nx.MultiGraph()
    for name, (x, y, site) in nodes.items():
        graph.add_node(name, code=name, kind="site_entry" if site else "manhole", lat=51.5 + y / per_lat,
                       lon=7.0 + x / per_lon, site_id=site)
    for k, (u, v) in enumerate(edges):
        a, b = graph.nodes[u], graph.nodes[v]
        graph.add_edge(u, v, key=k + 1, code=f"T{k + 1}", length_m=round(distance_m(a["lat"], a["lon"], b["lat"], b["lon"])),
                       laying_method="open_trench", ducts_total=2, ducts_used=1, status="active")
    return graph, (lambda x, y: [7.0 + x / per_lon, 51.5 + y / per_lat])


def test_two_pops_in_one_building_count_as_one():
    """PoPs T and U stand 6 m apart (one building): a pair to T and U is no pair; the
    second route goes to V, dearer."""
    graph, _ = positioned_plant(
        {"S": (0, 0, 1), "A": (300, 200, None), "B": (300, -200, None), "T": (600, 0, 2), "U": (600, 6, 3),
         "C": (-400, 0, None), "V": (-900, 0, 4)},
        [("S", "A"), ("A", "U"), ("S", "B"), ("B", "T"), ("S", "C"), ("C", "V")])
    net = network(graph, pops=("T", "U", "V"))
    pair = min_cost_routes(net, site_at(net), 2)
    assert "POP-V" in {r.pop_code for r in pair}
    assert not pair_faults(net, *pair)
    assert net.building_of(("n", "T")) == net.building_of(("n", "U")) != net.building_of(("n", "V"))


def test_a_new_trench_along_the_other_route_is_a_shared_corridor():
    """The site's plant trench runs east to PoP P1. The cheap second route is a street
    4 m beside that trench for 300 m; the planner takes the longer street to the south
    instead, and with the corridor rule off it would not."""
    graph, at = positioned_plant({"E": (0, 0, 1), "P1": (400, 0, 2), "P2": (400, 60, 3)}, [("E", "P1")])
    streets = [StreetSegment([at(0, 4), at(300, 4)], "open_trench", "beside"),
               StreetSegment([at(300, 4), at(300, 60), at(400, 60)], "open_trench", "north"),
               StreetSegment([at(0, -40), at(550, -40), at(550, 60), at(400, 60)], "open_trench", "south")]
    for rules, expected in ((DEFAULT_RULES, "south"), (NO_CORRIDORS, "beside")):
        net = build_candidate_network(graph, {"P1": "POP-P1", "P2": "POP-P2"}, COSTS, streets=streets)
        net.risk_rules = rules
        net.max_entry_m = 50  # building entries to the streets' near ends only
        e = graph.nodes["E"]
        site = net.attach_site("SITE", e["lat"], e["lon"], ("n", "E"))
        pair = min_cost_routes(net, site, 2)
        second = next(r for r in pair if r.pop_code == "POP-P2")
        street_names = {streets[leg.key[1]].name for leg in second.legs if leg.key[0] == "street"}
        assert expected in street_names
        net.risk_rules = DEFAULT_RULES  # judged by the one definition either way
        risks = pair_faults(net, *pair)
        if rules is DEFAULT_RULES:
            assert not risks
        else:
            (corridor,) = [r for r in risks if r.kind == "corridor"]
            assert 250 <= corridor.metres <= 300  # 300 m beside it, less the clearance at E


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
