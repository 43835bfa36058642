"""Spare strands first: a site near a cable with free strands gets a drop, a closure
re-entry and splices instead of a new cable to the PoP; a cable's free pairs are shared
out across a batch (and a redundant pair); the change set takes the strands, so the next
plan sees them gone."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sqlmodel import select

from inventory.models import Cable, Link, LinkHop, Plan, PlanState, SpliceClosure
from netops.db import session_scope
from planning import changeset
from planning.batch import SteinerInstance, plan_batch
from planning.connect import fibre_path, plan_connection
from planning.context import site_spec
from planning.loss_budget import SPLICE_DB, STANDARD_OPTICS
from planning.network import SPLICE, STRAND
from planning.plans import batch_sites, connect_site
from planning.routing import min_cost_routes, pair_faults
from planning.exact import optimal_cost
from planning.strands import cable_users, strand_capacities
from tests.planning.grid import NEAR, candidate_network, feeder_city, feeder_town_in
from topology.audits import consistency
from topology.risk import RiskRules
from topology.network import Network
from topology.rows import load_inventory


def strand_legs(route):
    return [leg for leg in route.legs if leg.kind == STRAND]


def test_a_site_near_spare_strands_gets_a_drop_and_splices():
    city = feeder_city(pairs=2)
    cable_m = city.cables[0].length_m
    with_strands = plan_connection(candidate_network(city), city.sites[0], list(STANDARD_OPTICS))
    city.cables.clear()
    new_cable = plan_connection(candidate_network(city), city.sites[0], list(STANDARD_OPTICS))
    (route,) = with_strands.routes
    assert [leg.code for leg in strand_legs(route)] == ["CAB-1"] and route.pop_code == "POP-0"
    assert [leg.kind for leg in route.legs][-2:] == [SPLICE, STRAND]
    assert with_strands.total_eur < new_cable.total_eur / 3  # a new trench along the full one is dear
    path = fibre_path(route)
    drop = sum(leg.length_m for leg in route.legs if leg.kind not in (STRAND, SPLICE))
    assert path.new_cable_m == pytest.approx((drop,)) and 25 < drop < 60
    assert path.spare_strand_m == pytest.approx(cable_m)
    bom = {line.item: line for line in with_strands.bom}
    assert bom["cable 12F"].quantity == pytest.approx(drop, abs=0.1)
    assert bom["splice closure re-entry (spare strands)"].quantity == 1
    assert bom["spare strand pair in existing cable"].total_eur == 0
    # 12 pigtails at the site, one pair joined in the closure; the PoP end is the cable's own
    assert bom["fusion splice"].quantity == 12 + 2
    assert with_strands.total_eur == pytest.approx(sum(line.total_eur for line in with_strands.bom), abs=0.01)
    (budget,) = with_strands.loss
    assert budget.splices == 3 and budget.length_m == pytest.approx(route.length_m, abs=0.1)
    (plain,) = new_cable.loss
    assert plain.splices == 2
    expected = route.length_m / 1000 * 0.35 + 3 * SPLICE_DB + 2 * 0.5
    assert budget.loss_1310_db == pytest.approx(expected, abs=0.01)


def test_no_free_pair_means_a_new_cable():
    city = feeder_city(pairs=0)
    (route,) = plan_connection(candidate_network(city), city.sites[0], list(STANDARD_OPTICS)).routes
    assert not strand_legs(route) and fibre_path(route).new_cable_m[0] > 400


def test_capacity_exhausted_in_a_batch_switches_to_a_new_cable():
    city = feeder_city(pairs=1, sites=NEAR[:2])
    plan = plan_batch(candidate_network(city), city.sites)
    on_strands = [code for code, r in plan.routes.items() if strand_legs(r)]
    assert len(plan.routes) == 2 and len(on_strands) == 1
    assert cable_users(list(plan.routes.values())) == {1: 1}
    (other,) = set(plan.routes) - set(on_strands)
    assert fibre_path(plan.routes[other]).new_cable_m[0] > 400  # its own cable to the PoP


def _brute_force(city, capacity: int) -> float:
    """The least routing cost of the batch over every choice of which sites ride the
    strands (at most ``capacity``), the others on their best way without them, each
    plan improved by re-routing every site given what the others dig."""
    net = candidate_network(city)
    nodes = [net.attach_site(s.code, s.lat, s.lon) for s in city.sites]
    instance = SteinerInstance.from_network(net, nodes)
    strand = np.array([o is not None and net.edge(*o)["kind"] == STRAND for o in instance.origin])
    best = np.inf
    for riders in itertools.chain.from_iterable(itertools.combinations(instance.terminals, k)
                                                for k in range(capacity + 1)):
        for order in itertools.permutations(instance.terminals):
            paths: dict[int, list[int]] = {}
            for t in order:  # each site on its cheapest way given what the earlier ones dig
                dug = np.zeros(len(instance.fixed), dtype=bool)
                for p in paths.values():
                    dug[p] = True
                weights = instance.per_cable + np.where(dug, 0.0, instance.fixed)
                dist, preds = instance.shortest(np.where(strand & (t not in riders), np.inf, weights), t)
                paths[t] = instance.path(preds, t, instance.root)[::-1]
            best = min(best, instance.cost(paths))
    return best


def test_a_batch_competes_for_k_pairs_and_the_site_losing_least_gives_way():
    # KITA-2 sits a block west of the closure: a new cable from it is the shortest
    city = feeder_city(pairs=2, sites=((0.25, 0.0), (0.3, 0.1), (0.25, 1.0)))
    plan = plan_batch(candidate_network(city), city.sites)
    riders = sorted(code for code, r in plan.routes.items() if strand_legs(r))
    assert riders == ["KITA-0", "KITA-1"]
    uncapacitated = plan_batch(candidate_network(feeder_city(pairs=3, sites=((0.25, 0.0), (0.3, 0.1), (0.25, 1.0)))),
                               city.sites)
    assert all(strand_legs(r) for r in uncapacitated.routes.values())  # all three would ride them
    assert plan.routing_eur == pytest.approx(_brute_force(city, 2), rel=1e-6)
    # the exact MILP with the cable's capacity agrees; without it, all three would ride
    net = candidate_network(city)
    instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
    assert optimal_cost(instance, capacities=strand_capacities(net, instance)) == pytest.approx(plan.routing_eur,
                                                                                              rel=1e-6)
    assert optimal_cost(instance) < plan.routing_eur - 1


def test_redundant_pair_keeps_strands_apart_from_the_cables_trenches():
    city = feeder_city(pairs=2, second_pop=True)
    net = candidate_network(city)
    plan = plan_connection(net, city.sites[0], list(STANDARD_OPTICS), redundant=True)
    first, second = plan.routes
    assert plan.risks == [] and {first.pop_code, second.pop_code} == {"POP-0", "POP-1"}
    on_strands = [r for r in plan.routes if strand_legs(r)]
    assert len(on_strands) == 1
    other = second if on_strands[0] is first else first
    # the other route keeps off the cable's trenches (T-1..T-5) and its manholes on row 0
    row0 = {("n", n) for n in city.physical.nodes if city.physical.nodes[n]["code"].startswith("MH-0-")}
    assert not {n for leg in other.legs for n in (leg.a, leg.b)} & row0
    # a new trench beside the cable, or a route through its closure's manhole, is a shared risk
    city_one_pop = feeder_city(pairs=2)
    net = candidate_network(city_one_pop)
    site = net.attach_site("S", city.sites[0].lat, city.sites[0].lon)
    (strand_route,) = min_cost_routes(net, site, 1)
    city_one_pop.cables.clear()
    plain_net = candidate_network(city_one_pop)
    (plain_route,) = min_cost_routes(plain_net, plain_net.attach_site("S", city.sites[0].lat, city.sites[0].lon), 1)
    kinds = {r.kind for r in pair_faults(net, strand_route, plain_route)}
    assert "corridor" in kinds and "node" in kinds


def test_a_pair_does_not_run_a_new_cable_through_the_trench_of_its_strands():
    # a free duct beside the cable: the cheapest "pair" would be strands and a new cable in one
    # trench; the corridor rule is off so that only the strands' own trenches and manholes count
    city = feeder_city(pairs=2, second_pop=True, free_ducts=True)
    net = candidate_network(city)
    net.risk_rules = RiskRules(corridor_m=0)
    plan = plan_connection(net, city.sites[0], list(STANDARD_OPTICS), redundant=True)
    assert plan.risks == []
    trenches = [_physical_trenches(net, route) for route in plan.routes]
    assert trenches[0] and trenches[1] and not trenches[0] & trenches[1]


def _physical_trenches(net, route) -> set[int]:
    found = set()
    for leg in route.legs:
        if leg.kind == STRAND:
            found.update(t for t, _, _ in net.edge(leg.a, leg.b, leg.key)["trenches"])
        elif leg.trench_id is not None:
            found.add(leg.trench_id)
        elif leg.kind not in (SPLICE, "own_entry"):
            found.add(leg.key)
    return found


def test_a_cable_with_one_free_pair_carries_one_route_of_a_pair():
    city = feeder_city(pairs=1, second_pop=True)
    plan = plan_connection(candidate_network(city), city.sites[0], list(STANDARD_OPTICS), redundant=True)
    assert cable_users(plan.routes) in ({1: 1}, {})


@pytest.fixture
def feeder_town(engine, tmp_path):
    return engine, *feeder_town_in(engine, tmp_path, pairs=2)


def _strands_of(session, plan_id: int) -> list[tuple[str, int, int]]:
    rows = session.exec(select(Cable.code, LinkHop.strand_a, LinkHop.strand_b)
                        .join(LinkHop, LinkHop.cable_id == Cable.id).join(Link, Link.id == LinkHop.link_id)
                        .where(Link.plan_id == plan_id, Cable.plan_id.is_(None))).all()
    return sorted(rows)


def test_plan_apply_plan_again_takes_other_strands_then_a_new_cable(feeder_town):
    engine, options, _ = feeder_town
    taken = []
    for code in ("KITA-0", "KITA-1", "KITA-2"):
        with session_scope(engine) as session:
            result = connect_site(session, site_spec(session, code), options)
            plan = result.stored
            taken.append(_strands_of(session, plan.id))
            assert plan.summary["changes"]["strands"] == [
                {"cable_id": c["cable_id"], "cable": "CAB-1", "strands": [a, b], "site": code}
                for c, (_, a, b) in zip(plan.summary["changes"]["strands"], taken[-1])]
            changes = changeset.plan_changes(session, plan)
            assert all(c["code"] == "CAB-1" for c in changes if c["field"] == "strands")
        with session_scope(engine) as session:
            changeset.apply_plan(session, session.get(Plan, plan.id))
    assert taken == [[("CAB-1", 1, 2)], [("CAB-1", 3, 4)], []]  # the third: no pair left
    with session_scope(engine) as session:
        third = session.exec(select(Plan).order_by(Plan.id.desc())).first()
        assert third.summary["changes"]["strands"] == []
        assert third.summary["routes"][0]["spare_strand_m"] == 0
        # the first site's link: drop cable to the closure, then the existing cable, as the audits walk it
        link = session.exec(select(Link).where(Link.code.like("p1-lnk-%"))).one()
        hops = session.exec(select(LinkHop).where(LinkHop.link_id == link.id).order_by(LinkHop.seq)).all()
        drop = session.get(Cable, hops[0].cable_id)
        closure = session.exec(select(SpliceClosure).where(SpliceClosure.code == "CL-X")).one()
        assert drop.b_closure_id == closure.id and drop.a_site_id is not None
        assert [session.get(Cable, h.cable_id).code for h in hops][1:] == ["CAB-1"]
        net = Network(load_inventory(session, geometry=True))
        assert [f.title for f in consistency(net) if f.layer in ("logical", "cable")] == []


def test_discard_frees_the_strands_and_a_draft_holds_them(feeder_town):
    engine, options, _ = feeder_town
    with session_scope(engine) as session:
        first = connect_site(session, site_spec(session, "KITA-0"), options).stored
        second = connect_site(session, site_spec(session, "KITA-1"), options).stored
        assert _strands_of(session, first.id) == [("CAB-1", 1, 2)]
        assert _strands_of(session, second.id) == [("CAB-1", 3, 4)]  # the draft holds 1/2
    with session_scope(engine) as session:
        changeset.discard_plan(session, session.get(Plan, first.id))
    with session_scope(engine) as session:
        again = connect_site(session, site_spec(session, "KITA-2"), options).stored
        assert _strands_of(session, again.id) == [("CAB-1", 1, 2)]
        assert session.get(Plan, first.id).state == PlanState.DISCARDED


def test_batch_assigns_distinct_pairs_within_capacity(feeder_town):
    engine, options, _ = feeder_town
    with session_scope(engine) as session:
        result = batch_sites(session, [site_spec(session, c) for c in ("KITA-0", "KITA-1", "KITA-2")], options)
        uses = result.stored.summary["changes"]["strands"]
        assert sorted(tuple(u["strands"]) for u in uses) == [(1, 2), (3, 4)]
        assert len({u["site"] for u in uses}) == 2 and len(result.plan.routes) == 3


def test_apply_refuses_a_strand_taken_meanwhile(feeder_town):
    engine, options, _ = feeder_town
    with session_scope(engine) as session:
        plan = connect_site(session, site_spec(session, "KITA-0"), options).stored
        # another plan records the same strands without a link (its PoP had no equipment)
        session.add(Plan(name="other", kind="connect", summary={"changes": {"strands": [
            {"cable_id": plan.summary["changes"]["strands"][0]["cable_id"], "cable": "CAB-1", "strands": [1, 2],
             "site": "X"}]}}))
    with pytest.raises(changeset.PlanStateError, match="strand"):
        with session_scope(engine) as session:
            changeset.apply_plan(session, session.get(Plan, plan.id))


def test_saving_more_routes_than_free_pairs_is_refused_and_writes_nothing(feeder_town):
    """The change set is the last guard: routes planned one by one (each alone fits) that
    together need more pairs than the cable has are not stored."""
    from planning.changeset import SiteRoutes, save_plan
    from planning.context import load_network

    engine, options, _ = feeder_town
    with pytest.raises(changeset.PlanStateError, match="no free strand pair left for KITA-2"):
        with session_scope(engine) as session:
            net = load_network(session, options)
            items = []
            for code in ("KITA-0", "KITA-1", "KITA-2"):
                plan = plan_connection(net, site_spec(session, code), list(STANDARD_OPTICS))
                assert strand_legs(plan.routes[0])
                items.append(SiteRoutes(plan.site, plan.routes))
            save_plan(session, net, name="too-many", kind="batch", items=items, total_eur=0.0, summary={})
    with session_scope(engine) as session:
        assert session.exec(select(Plan)).first() is None and session.exec(select(LinkHop)).first() is None
