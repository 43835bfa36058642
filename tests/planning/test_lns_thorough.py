"""``plan batch --thorough`` below the CLI: the neighbourhood search keeps only plans that
pass the batch's own route-level checks, is repeatable, and its stored change set applies
and takes the strands it rides.

The MILP's capacity rows (``capacity_rows``) and the route-level check (``over_capacity``
on the routes, each way walked) count the same limits; on the candidate networks built
here no plan passes the rows and fails the routes (a route riding two parts of one
mid-span-split cable is counted twice by the rows, once by the route: the rows are the
stricter). The refusal is tested by planting the disagreement: rows looser than the
cable's real pairs."""

from __future__ import annotations

import networkx as nx
from sqlmodel import select

from inventory.models import Plan
from netops.db import session_scope
from planning import changeset
from planning.batch import SteinerInstance, batch_paths, plan_batch, route_problems
from planning.context import site_spec
from planning.lns import improve_by_neighbourhoods, node_positions
from planning.plans import batch_sites, connect_site
from planning.strands import taken_strands
from tests.planning.grid import NEAR, candidate_network, feeder_city, feeder_town_in

TWO_PAIRS_FIVE_SITES = ((0.25, 0.0), (0.3, 0.15), (0.2, -0.1), (0.3, 1.0), (0.6, 2.0))


def planted(pairs: int = 1):
    """The feeder city's batch plan within ``pairs`` free pairs of CAB-1, with rows that
    allow five more sites on it than it has pairs for."""
    net = candidate_network(feeder_city(6, pairs=pairs, sites=TWO_PAIRS_FIVE_SITES))
    sites = feeder_city(6, pairs=pairs, sites=TWO_PAIRS_FIVE_SITES).sites
    nodes = [net.attach_site(s.code, s.lat, s.lon) for s in sites]
    instance = SteinerInstance.from_network(net, nodes)
    paths, capacities = batch_paths(net, instance)
    loose = [(arcs, limit + 5) for arcs, limit in capacities]
    return net, instance, paths, loose, dict(zip(instance.terminals, nodes))


def test_a_plan_over_the_real_pairs_is_refused_and_the_old_paths_kept():
    net, instance, paths, loose, node_of = planted()
    assert route_problems(net, instance, paths, node_of) == []
    positions = node_positions(net, instance)
    unchecked = improve_by_neighbourhoods(instance, paths, loose, positions).paths
    # the planted case arises: within the loose rows, cheaper, over CAB-1's one pair
    assert instance.cost(unchecked) < instance.cost(paths) - 1
    assert any("CAB-1" in p for p in route_problems(net, instance, unchecked, node_of))
    checked = improve_by_neighbourhoods(instance, paths, loose, positions,
                                        acceptable=lambda p: not route_problems(net, instance, p, node_of))
    assert checked.refused >= 1
    assert route_problems(net, instance, checked.paths, node_of) == []
    assert instance.cost(checked.paths) <= instance.cost(paths)


def test_the_route_check_names_a_broken_way_and_a_way_through_another_site():
    net, instance, paths, _, node_of = planted()
    first, second = sorted(paths)[:2]
    broken = paths | {first: paths[first][:-1]}
    assert route_problems(net, instance, broken, node_of) == [f"{node_of[first]}: path ends short of a PoP"]
    reversed_way = paths | {first: paths[first][::-1]}
    assert "breaks off" in route_problems(net, instance, reversed_way, node_of)[0]
    # a way to the other site, then along its path: passes that site
    through = paths | {first: [*way_between(instance, first, second), *paths[second]]}
    assert route_problems(net, instance, through, node_of) == [f"{node_of[first]}: path passes another site"]


def way_between(instance: SteinerInstance, start: int, end: int) -> list[int]:
    """Arcs of a fewest-arcs way from ``start`` to ``end`` not through the root."""
    graph = nx.Graph()
    for arc, (a, b) in enumerate(zip(instance.tail.tolist(), instance.head.tolist())):
        if instance.root not in (a, b):
            graph.add_edge(a, b, arc=arc)
    nodes = nx.shortest_path(graph, start, end)
    return [graph.edges[u, v]["arc"] for u, v in zip(nodes, nodes[1:])]


def test_thorough_batch_is_repeatable_never_dearer_and_says_what_it_did():
    city = feeder_city(6, pairs=2, sites=TWO_PAIRS_FIVE_SITES)
    plain = plan_batch(candidate_network(city), city.sites)
    first, second = (plan_batch(candidate_network(city), city.sites, thorough=True).to_dict() for _ in range(2))
    assert first == second
    assert first["routing_eur"] <= plain.routing_eur + 1e-6
    search = first["thorough"]
    assert search["neighbourhoods"] == len(city.sites) == search["solved"] + search["reused"] \
        + search["skipped_too_large"] + search["unsolved"]
    assert search["routing_saving_eur"] == round(search["routing_before_eur"] - first["routing_eur"], 2)
    assert "thorough" not in plain.to_dict()


def test_a_stored_thorough_batch_applies_and_the_next_plan_sees_its_strands(engine, tmp_path):
    options, _ = feeder_town_in(engine, tmp_path, pairs=1, sites=NEAR, kitas=3)
    with session_scope(engine) as session:
        result = batch_sites(session, [site_spec(session, c) for c in ("KITA-0", "KITA-1")], options, thorough=True)
        plan_id, uses = result.stored.id, result.stored.summary["changes"]["strands"]
        assert result.plan.thorough is not None and len(uses) == 1  # one pair: one site rides CAB-1
    with session_scope(engine) as session:
        changeset.apply_plan(session, session.get(Plan, plan_id))
    with session_scope(engine) as session:
        assert session.get(Plan, plan_id).state == "applied"
        held = {strand for strands in taken_strands(session).values() for strand in strands}
        assert set(uses[0]["strands"]) <= held
        after = connect_site(session, site_spec(session, "KITA-2"), options).stored
        assert after.summary["changes"]["strands"] == []  # CAB-1's only pair is in use
        assert session.exec(select(Plan).where(Plan.id == plan_id)).one().summary["thorough"]["neighbourhoods"] == 2
