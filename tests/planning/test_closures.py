"""A candidate network cut to a node set carries every record; a closure's splice trays
are limited (a full one takes no more pair joins: alone, across a batch, in the MILP, in
redundant batches, and in the change set); a redundant batch never puts more routes on a
cable than it has free pairs."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from inventory.models import Plan, SpliceClosure
from netops.db import session_scope
from planning import changeset
from planning.batch import SteinerInstance, plan_batch
from planning.connect import plan_connection
from planning.context import load_network, site_spec
from planning.exact import optimal_cost
from planning.loss_budget import STANDARD_OPTICS
from planning.network import STRAND, CandidateNetwork
from planning.plans import batch_sites, connect_site
from planning.redundant import (NO_PAIR_LEFT, RedundantInstance, exact_pairs, independent_pairs,
                                plan_redundant_batch, redundant_pairs)
from planning.strands import free_splices, over_capacity, strand_capacities, used_splices
from tests.planning.grid import NEAR, candidate_network, feeder_city, feeder_town_in, grid_city
from topology.risk import RiskRules

CLOSURE = ("x", 6)  # CL-X, beside the east end of feeder_city's row 0 (route node 6)


def on_strands(route) -> bool:
    return any(leg.kind == STRAND for leg in route.legs)


# -- a cut of the candidate network ---------------------------------------------------------------

def _every_field_set() -> CandidateNetwork:
    """A network whose every field differs from its default, caches filled."""
    net = candidate_network(feeder_city(pairs=2, second_pop=True), strands=24, max_entry_m=400.0,
                            entry_candidates=2, closure_splices={1: 10})
    net.risk_rules = RiskRules(corridor_m=3.0)
    net.attach_site("KITA-0", 51.5103, 7.096)
    net.building_of(("n", 1))
    return net


def test_a_cut_to_every_node_carries_every_field():
    """Fails when a field is added to CandidateNetwork that ``restricted_to`` drops: the
    test network must set it (first assertion), the cut must carry it (second)."""
    net = _every_field_set()
    for f in dataclasses.fields(CandidateNetwork):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        value = getattr(net, f.name)
        assert value is not None and not (isinstance(value, type(default)) and value == default), \
            f"the test network leaves {f.name} at its default: set it, so the cut is checked to carry it"
    cut = net.restricted_to(net.graph.nodes)
    for f in dataclasses.fields(CandidateNetwork):
        if f.name == "graph":
            assert sorted(cut.graph.edges(keys=True), key=repr) == sorted(net.graph.edges(keys=True), key=repr)
            assert dict(cut.graph.nodes(data=True)) == dict(net.graph.nodes(data=True))
        elif f.name == "_attach_tree":
            assert cut._attach_tree is not None and cut._attach_tree.n == net._attach_tree.n
        elif f.name == "_buildings":
            assert cut.building_of(("n", 1)) == net.building_of(("n", 1))
        else:
            assert getattr(cut, f.name) == getattr(net, f.name), f.name


def test_a_cut_drops_the_strands_whose_cable_leaves_it_and_their_records():
    net = _every_field_set()
    inside = [n for n in net.graph.nodes if n != ("n", 3)]  # MH-0-2: a manhole on the cable's way
    cut = net.restricted_to(inside)
    assert not [d for _, _, d in cut.graph.edges(data=True) if d["kind"] == STRAND]
    assert cut.spare_cables == {}
    assert set(cut.trench_coords) == {1, 4, 5} and set(net.trench_coords) == {1, 2, 3, 4, 5}  # T-2, T-3 end there
    assert cut.closure_joins == {CLOSURE: 5} and cut.closure_codes == {1: "CL-X"}
    assert cut.pops == net.pops and ("n", 3) not in cut.graph
    # the caches follow the cut: a new site attaches only to nodes in it, and the original is untouched
    site = cut.attach_site("NEW", net.graph.nodes[("n", 3)]["lat"], net.graph.nodes[("n", 3)]["lon"])
    assert cut.graph.degree(site) == 2 and ("n", 3) not in cut.graph and ("n", 3) in net.graph
    assert [d for _, _, d in net.graph.edges(data=True) if d["kind"] == STRAND]
    # a cut without PoP-1's building has one PoP left
    assert cut.restricted_to([n for n in inside if n != ("n", 7)]).pops == {("n", 1): "POP-0"}


def test_a_cut_keeps_the_networks_order_whatever_order_its_nodes_come_in():
    # a planner breaks ties by index: a cut ordered by a set (which changes with
    # PYTHONHASHSEED) planned the same city cut differently in two runs of the bench
    net = candidate_network(grid_city(7, 7, seed=3, sites=0))
    inside = list(net.graph.nodes)[::3]
    for given in (inside, inside[::-1], set(inside)):
        cut = net.restricted_to(given)
        assert list(cut.graph.nodes) == inside
        assert list(cut.graph.edges(keys=True)) == [(u, v, k) for u, v, k in net.graph.edges(keys=True)
                                                     if u in cut.graph and v in cut.graph]


# -- a closure's splice trays --------------------------------------------------------------------

def test_a_full_closure_is_no_candidate_and_one_with_room_takes_its_joins():
    city = feeder_city(pairs=2)
    full = plan_connection(candidate_network(city, closure_splices={1: 1}), city.sites[0], list(STANDARD_OPTICS))
    assert not on_strands(full.routes[0])  # one splice free: no room for a pair join
    room = candidate_network(city, closure_splices={1: 2})
    assert room.closure_joins == {CLOSURE: 1}
    plan = plan_connection(room, city.sites[0], list(STANDARD_OPTICS))
    assert on_strands(plan.routes[0])
    bom = {line.item: line for line in plan.bom}
    assert bom["splices in closure CL-X (in the fusion splices)"].quantity == 2
    assert bom["splices in closure CL-X (in the fusion splices)"].total_eur == 0


def test_a_batch_keeps_within_the_closure_and_the_milp_agrees():
    city = feeder_city(pairs=3, sites=NEAR[:2])
    net = candidate_network(city, closure_splices={1: 3})  # one pair join left, the cable has three pairs
    plan = plan_batch(net, city.sites)
    assert len(plan.routes) == 2 and sum(on_strands(r) for r in plan.routes.values()) == 1
    assert over_capacity(net, list(plan.routes.values())) == {}
    bom = {line.item: line.quantity for line in plan.bom}
    assert bom["splices in closure CL-X (in the fusion splices)"] == 2
    # the exact MILP with the closure's limit agrees; without any limit both would ride
    net = candidate_network(city, closure_splices={1: 3})
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    exact = optimal_cost(instance, capacities=strand_capacities(net, instance))
    assert exact == pytest.approx(plan.routing_eur, rel=1e-6)
    unlimited = plan_batch(candidate_network(city), city.sites)
    assert all(on_strands(r) for r in unlimited.routes.values())
    assert over_capacity(net, list(unlimited.routes.values())) == {"closure CL-X": (2, 1)}
    assert optimal_cost(instance) < exact - 1


# -- redundant batches within the strands and closures ------------------------------------------

@pytest.mark.parametrize("pairs, splices", [(1, None), (2, {1: 2})], ids=["one free pair", "one pair join"])
def test_two_sites_compete_for_one_pair_in_a_redundant_batch(pairs, splices):
    city = feeder_city(pairs=pairs, second_pop=True, sites=NEAR[:2])
    net = candidate_network(city, **({"closure_splices": splices} if splices else {}))
    instance = RedundantInstance(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    independent = independent_pairs(instance)
    assert sum(any(on_strands(r) for r in p.routes) for p in independent.values()) == 2  # alone, each would ride
    assert instance.overloaded(independent) == [f"{'closure CL-X' if splices else 'cable CAB-1'}"]
    pairs_found = redundant_pairs(instance, independent)
    assert len(pairs_found) == 2 and instance.overloaded(pairs_found) == []
    riders = [t for t, p in pairs_found.items() if any(on_strands(r) for r in p.routes)]
    assert len(riders) == 1
    optimum = exact_pairs(instance)
    assert sum(any(on_strands(r) for r in p) for p in optimum.pairs.values()) == 1
    assert optimum.value_eur <= instance.cost(pairs_found) + 1e-6
    assert instance.cost(pairs_found) == pytest.approx(optimum.value_eur, rel=0.02)
    plan = plan_redundant_batch(candidate_network(city, **({"closure_splices": splices} if splices else {})),
                                city.sites)
    assert len(plan.routes) == 2 and plan.unreachable == {}
    assert over_capacity(net, [r for pair in plan.routes.values() for r in pair]) == {}


def test_a_site_whose_only_pair_needs_a_full_closure_is_left_out_and_said_so():
    """Without new trenches beside the cable, each site's only risk-free pair rides the
    strands; the closure has room for one join: one site is planned, the other named with
    the reason, never both through the closure."""
    city = feeder_city(pairs=2, second_pop=True, sites=NEAR[:2])
    net = candidate_network(city, closure_splices={1: 2})
    net.graph.remove_edges_from([(u, v, k) for u, v, k in net.graph.edges(keys=True) if k[0] == "parallel"])
    plan = plan_redundant_batch(net, city.sites)
    assert len(plan.routes) == 1 and list(plan.unreachable.values()) == [NO_PAIR_LEFT]
    assert set(plan.routes) | set(plan.unreachable) == {"KITA-0", "KITA-1"}
    assert over_capacity(net, [r for pair in plan.routes.values() for r in pair]) == {}
    assert plan.bound.value_eur <= plan.routing_eur + 1e-6


# -- the inventory: splices used, recorded by plans, refused when full --------------------------------

@pytest.fixture
def feeder_town(engine, tmp_path):
    options, _ = feeder_town_in(engine, tmp_path, pairs=3, closure_splices=4)  # two pair joins
    # with CL-X full, a new closure mid-span would take the third site (tests/planning/test_midspan.py)
    return engine, dataclasses.replace(options, midspan_closures=False)


def test_plans_use_the_closures_splices_and_a_full_closure_takes_no_more(feeder_town):
    engine, options = feeder_town
    riders = []
    for code in ("KITA-0", "KITA-1", "KITA-2"):
        with session_scope(engine) as session:
            stored = connect_site(session, site_spec(session, code), options).stored
            riders.append(stored.summary["changes"]["splices"])
            changeset.apply_plan(session, stored)
    assert [[(u["closure"], u["splices"]) for u in r] for r in riders] == [[("CL-X", 2)], [("CL-X", 2)], []]
    with session_scope(engine) as session:
        closure = session.exec(select(SpliceClosure).where(SpliceClosure.code == "CL-X")).one()
        assert used_splices(session) == {closure.id: 4} and free_splices(session) == {closure.id: 0}
        assert load_network(session, options).closure_joins == {}  # full: no candidate at all


def test_a_batch_stores_no_more_joins_than_the_closure_holds(feeder_town):
    engine, options = feeder_town
    with session_scope(engine) as session:
        result = batch_sites(session, [site_spec(session, c) for c in ("KITA-0", "KITA-1", "KITA-2")], options)
        assert len(result.plan.routes) == 3
        assert sum(u["splices"] for u in result.stored.summary["changes"]["splices"]) == 4
        assert len(result.stored.summary["changes"]["strands"]) == 2
        changes = changeset.plan_changes(session, result.stored)
        assert sum(c["table"] == "spliceclosure" for c in changes) == 2


def test_apply_refuses_a_closure_filled_meanwhile_and_saving_refuses_too_many_joins(feeder_town):
    engine, options = feeder_town
    with session_scope(engine) as session:
        first = connect_site(session, site_spec(session, "KITA-0"), options).stored
        # another plan records the closure's last two joins
        closure_id = first.summary["changes"]["splices"][0]["closure_id"]
        session.add(Plan(name="other", kind="connect", summary={"changes": {"splices": [
            {"closure_id": closure_id, "closure": "CL-X", "splices": 4, "site": "X"}]}}))
    with pytest.raises(changeset.PlanStateError, match="splices in closure CL-X"):
        with session_scope(engine) as session:
            changeset.apply_plan(session, session.get(Plan, first.id))
    # routes planned one by one, each fitting alone, are not stored together beyond the closure
    from planning.changeset import SiteRoutes, save_plan

    with session_scope(engine) as session:
        changeset.discard_plan(session, session.get(Plan, first.id))
        session.delete(session.exec(select(Plan).where(Plan.name == "other")).one())
    with pytest.raises(changeset.PlanStateError, match="closure CL-X has no room"):
        with session_scope(engine) as session:
            net = load_network(session, options)
            items = []
            for code in ("KITA-0", "KITA-1", "KITA-2"):
                plan = plan_connection(net, site_spec(session, code), list(STANDARD_OPTICS))
                assert on_strands(plan.routes[0])
                items.append(SiteRoutes(plan.site, plan.routes))
            save_plan(session, net, name="too-many", kind="batch", items=items, total_eur=0.0, summary={})


def test_a_plan_stored_before_the_splice_record_counts_two_splices_per_pair(feeder_town):
    engine, options = feeder_town
    with session_scope(engine) as session:
        stored = connect_site(session, site_spec(session, "KITA-0"), options).stored
        closure_id = stored.summary["changes"]["splices"][0]["closure_id"]
        assert used_splices(session) == {closure_id: 2}
        # the same plan as session 3 stored it: strands, no splice record
        changes = dict(stored.summary["changes"])
        del changes["splices"]
        stored.summary = {**stored.summary, "changes": changes}
        session.add(stored)
        session.flush()
        assert used_splices(session) == {closure_id: 2}
