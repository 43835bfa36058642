"""A new closure mid-span: a site beside a spare cable far from its closures gets a drop
into a new closure in a manhole the cable passes through, at the price table's closure
price, with the splices in the BOM and the loss budget. ``apply`` splits the cable there
(one transaction); the next plan sees the closure and the strands used; the audits
answer as before for everything the split did not change. Refused: a plan whose cable
changed meanwhile, a point that is no manhole (now), a cable carrying PON strands."""

from __future__ import annotations

import pytest
from sqlmodel import select

from inventory.models import Cable, CableSegment, Link, LinkHop, Plan, PlanState, RouteNode, SpliceClosure, Splitter
from netops.db import session_scope
from planning import changeset
from planning.connect import fibre_path, plan_connection
from planning.context import load_network, site_spec
from planning.default_prices import PRICES
from planning.loss_budget import SPLICE_DB, STANDARD_OPTICS
from planning.network import is_new_closure, new_closure_node
from planning.plans import batch_sites, connect_site
from tests.planning.grid import candidate_network, feeder_city, feeder_town_in
from topology.audits import consistency
from topology.network import Network
from topology.rows import load_inventory

# feeder_city(cols=6): CAB-1 runs from CL-X (route node 6, east) through the manholes
# MH-0-4 .. MH-0-1 (nodes 5 .. 2) to PoP-0 (node 1, west)
BESIDE_MH_0_2 = (0.25, 3.0)  # rows north, columns west of CL-X: 33 m north of MH-0-2 (node 3), 255 m from CL-X
BESIDE_MH_0_4 = (0.25, 1.0)
AT_CLOSURE = (0.25, 0.0)
CLOSURE_PRICE = PRICES[("closure", "standard")]


def closures_passed(route) -> list:
    return list(fibre_path(route).closures)


def test_a_site_beside_the_cable_gets_a_new_closure_priced_and_spliced():
    city = feeder_city(pairs=2, sites=(BESIDE_MH_0_2,))
    with_midspan = plan_connection(candidate_network(city, midspan_closures=True), city.sites[0],
                                   list(STANDARD_OPTICS))
    without = plan_connection(candidate_network(city), city.sites[0], list(STANDARD_OPTICS))
    (route,) = with_midspan.routes
    assert closures_passed(route) == [new_closure_node(3)]
    assert with_midspan.total_eur < without.total_eur - 10_000  # a 255 m trench to CL-X is not dug
    bom = {line.item: line for line in with_midspan.bom}
    new = bom["splice closure, new: existing cable opened mid-span"]
    assert (new.quantity, new.unit_eur) == (1, CLOSURE_PRICE)
    assert "splice closure re-entry (spare strands)" not in bom
    assert bom["splices in closure new closure at MH-0-2 (in the fusion splices)"].quantity == 2
    # the strands ride the cable's part from MH-0-2 to the PoP only: 2 of its 5 trenches
    (strand,) = [leg for leg in route.legs if leg.kind == "strand"]
    part = candidate_network(city, midspan_closures=True).edge(strand.a, strand.b, strand.key)
    assert [t for t, *_ in part["trenches"]] == [2, 1] and part["cable_id"] == 1
    assert strand.length_m == pytest.approx(city.cables[0].length_m * 2 / 5, abs=0.2)
    # loss budget: pigtails at both ends and one splice more for the new closure's pair join
    (budget,) = with_midspan.loss
    assert budget.splices == 3 and budget.loss_1310_db == pytest.approx(
        route.length_m / 1000 * 0.35 + 3 * SPLICE_DB + 2 * 0.5, abs=0.01)


def test_no_candidate_where_there_is_no_manhole_or_no_free_pair_or_a_closure_already():
    city = feeder_city(pairs=2)
    city.physical.nodes[3]["kind"] = "junction"  # MH-0-2 is a junction: nowhere to put a closure
    net = candidate_network(city, midspan_closures=True)
    assert sorted(n[1] for n in net.graph if is_new_closure(n)) == [2, 4, 5]
    net = candidate_network(city, midspan_closures=True, closure_nodes={4})
    assert sorted(n[1] for n in net.graph if is_new_closure(n)) == [2, 5]
    assert not [n for n in candidate_network(feeder_city(pairs=0), midspan_closures=True).graph if n[0] == "x"]


def test_mid_span_parts_share_the_cables_pairs(engine, tmp_path):
    """Two pairs, three sites: one at CL-X, two beside manholes: two ride the cable in
    all, wherever they are spliced in."""
    options, _ = feeder_town_in(engine, tmp_path, pairs=2, sites=(AT_CLOSURE, BESIDE_MH_0_2, BESIDE_MH_0_4))
    with session_scope(engine) as session:
        result = batch_sites(session, [site_spec(session, f"KITA-{i}") for i in range(3)], options)
        uses = result.stored.summary["changes"]["strands"]
        assert len(uses) == 2 and sorted(tuple(u["strands"]) for u in uses) == [(1, 2), (3, 4)]
        assert len(result.plan.routes) == 3


def _audit_view(session, skip_site: int) -> dict:
    """Every trench and route node of the plant -> the sites its failure cuts off (but
    ``skip_site``)."""
    net = Network(load_inventory(session, geometry=True))
    view = {}
    for kind, model in (("trench", CableSegment), ("node", RouteNode)):
        idents = (session.exec(select(CableSegment.segment_id).distinct()).all() if kind == "trench"
                  else session.exec(select(RouteNode.id)).all())
        for ident in sorted(set(idents)):
            sites, _ = net.loss_of(net.failure_of(kind, ident))
            view[(kind, ident)] = sorted(sites - {skip_site})
    return view


def test_apply_splits_the_cable_and_the_next_plan_sees_it(engine, tmp_path):
    options, ids = feeder_town_in(engine, tmp_path, pairs=3, sites=(AT_CLOSURE, BESIDE_MH_0_2, BESIDE_MH_0_4))
    with session_scope(engine) as session:  # an existing link end to end on CAB-1
        changeset.apply_plan(session, connect_site(session, site_spec(session, "KITA-0"), options).stored)
    with session_scope(engine) as session:
        before = _audit_view(session, ids["KITA-1"])
        cable = session.exec(select(Cable).where(Cable.code == "CAB-1")).one()
        length, segments = cable.length_m, changeset.cable_shape(session, cable)["segments"]
        stored = connect_site(session, site_spec(session, "KITA-1"), options).stored
        (cut,) = stored.summary["changes"]["midspan"]
        assert cut["cable"] == "CAB-1" and cut["closure"] == "cl-MH-0-2"
        changeset.apply_plan(session, stored)
    with session_scope(engine) as session:
        parts = session.exec(select(Cable).where(Cable.code.in_(["CAB-1", "CAB-1.2"])).order_by(Cable.id)).all()
        closure = session.exec(select(SpliceClosure).where(SpliceClosure.code == "cl-MH-0-2")).one()
        assert closure.status == "active" and closure.plan_id is None and closure.capacity_splices == 96
        assert [p.b_closure_id for p in parts][:1] == [closure.id] and parts[1].a_closure_id == closure.id
        assert parts[1].b_site_id == ids["POP-0"] and sum(p.length_m for p in parts) == pytest.approx(length)
        assert [changeset.cable_shape(session, p)["segments"] for p in parts] == [segments[:3], segments[3:]]
        # the existing link passes the new closure uncut (same strands on both parts), the new one
        # rides the part from the closure to the PoP
        hops = {link.code: [(session.get(Cable, h.cable_id).code, h.strand_a, h.strand_b) for h in session.exec(
            select(LinkHop).where(LinkHop.link_id == link.id).order_by(LinkHop.seq)).all()]
            for link in session.exec(select(Link)).all()}
        assert [h[1:] for h in hops["p1-lnk-001"]][1:] == [(1, 2), (1, 2)]
        assert [h[0] for h in hops["p1-lnk-001"]][1:] == ["CAB-1", "CAB-1.2"]
        assert hops["p2-lnk-001"][1:] == [("CAB-1.2", 3, 4)]
        assert [f.title for f in consistency(Network(load_inventory(session, geometry=True)))
                if f.layer in ("logical", "cable")] == []
        after = _audit_view(session, ids["KITA-1"])
        assert {element: after[element] for element in before} == before and any(before.values())
        # the next plan: the new closure is an existing one, the strands cut there free on the east part
        net = load_network(session, options)
        assert ("x", closure.node_id) in net.closure_joins
        # 1/2 pass through (KITA-0), 3/4 were cut at the closure: their east piece is free
        assert net.spare_cables[parts[0].id].free_strands == (3, 4, 5, 6)
        assert net.spare_cables[parts[1].id].free_strands == (5, 6)
        again = connect_site(session, site_spec(session, "KITA-2"), options).stored
        (cut,) = again.summary["changes"]["midspan"]  # the east part opened again, at MH-0-4
        assert (cut["cable"], cut["closure"]) == ("CAB-1", "cl-MH-0-4")
        changeset.apply_plan(session, again)
    with session_scope(engine) as session:
        link = session.exec(select(Link).where(Link.code == "p1-lnk-001")).one()
        assert [(session.get(Cable, h.cable_id).code, h.strand_a) for h in session.exec(
            select(LinkHop).where(LinkHop.link_id == link.id).order_by(LinkHop.seq)).all()][1:] == [
            ("CAB-1", 1), ("CAB-1.3", 1), ("CAB-1.2", 1)]  # CL-X, MH-0-4, MH-0-2, the PoP
        after = _audit_view(session, ids["KITA-1"])
        assert {element: sorted(set(after[element]) - {ids["KITA-2"]}) for element in before} == before


def test_a_plan_whose_cable_changed_meanwhile_is_refused_and_discard_removes_its_closure(engine, tmp_path):
    options, _ = feeder_town_in(engine, tmp_path, pairs=3, sites=(BESIDE_MH_0_2, BESIDE_MH_0_4))
    with session_scope(engine) as session:
        first = connect_site(session, site_spec(session, "KITA-0"), options).stored
        second = connect_site(session, site_spec(session, "KITA-1"), options).stored
        assert [c["closure"] for c in second.summary["changes"]["midspan"]] == ["cl-MH-0-4"]
        assert {"table": "cable", "code": "CAB-1", "field": "split", "before": "whole",
                "after": "split at the new closure cl-MH-0-4"} in changeset.plan_changes(session, second)
        first_id, second_id = first.id, second.id
    with session_scope(engine) as session:
        changeset.apply_plan(session, session.get(Plan, first_id))
    with pytest.raises(changeset.PlanStateError,
                       match=r"opens cable CAB-1 at MH-0-4, but the cable changed since the plan was made "
                             r"\(ends, length m, segments\): re-plan"):
        with session_scope(engine) as session:
            changeset.apply_plan(session, session.get(Plan, second_id))
    with session_scope(engine) as session:
        assert session.get(Plan, second_id).state == PlanState.DRAFT
        changeset.discard_plan(session, session.get(Plan, second_id))
    with session_scope(engine) as session:
        assert session.exec(select(SpliceClosure.code).order_by(SpliceClosure.code)).all() == ["CL-X", "cl-MH-0-2"]


@pytest.mark.parametrize("change, message", [
    ("length", "the cable changed since the plan was made (length m)"),
    ("junction", "which is no manhole in service now"),
    ("pon", "PON feeder or drop strands ride it now"),
])
def test_apply_refuses_what_changed_on_the_cable_or_its_manhole(engine, tmp_path, change, message):
    options, _ = feeder_town_in(engine, tmp_path, pairs=2, sites=(BESIDE_MH_0_2,), kitas=1)
    with session_scope(engine) as session:
        plan_id = connect_site(session, site_spec(session, "KITA-0"), options).stored.id
        cable = session.exec(select(Cable).where(Cable.code == "CAB-1")).one()
        if change == "length":
            cable.length_m += 12.0  # re-measured
            session.add(cable)
        elif change == "junction":
            node = session.exec(select(RouteNode).where(RouteNode.code == "MH-0-2")).one()
            node.kind = "junction"
            session.add(node)
        else:
            closure = session.exec(select(SpliceClosure).where(SpliceClosure.code == "CL-X")).one()
            session.add(Splitter(code="SP-1", ratio=8, node_id=closure.node_id, feeder_cable_id=cable.id,
                                 feeder_strand=4, source="test"))
    with pytest.raises(changeset.PlanStateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        with session_scope(engine) as session:
            changeset.apply_plan(session, session.get(Plan, plan_id))
    with session_scope(engine) as session:
        assert session.exec(select(Cable.code).order_by(Cable.code)).all() == ["CAB-1", "p1-cab-001"]
        if change == "pon":  # and a cable with PON strands is not offered mid-span at all
            assert not [n for n in load_network(session, options).graph if is_new_closure(n)]


def test_an_apply_interrupted_after_the_split_writes_nothing(engine, tmp_path, monkeypatch):
    options, _ = feeder_town_in(engine, tmp_path, pairs=2, sites=(AT_CLOSURE, BESIDE_MH_0_2))
    with session_scope(engine) as session:
        changeset.apply_plan(session, connect_site(session, site_spec(session, "KITA-0"), options).stored)
        plan_id = connect_site(session, site_spec(session, "KITA-1"), options).stored.id

    def snapshot():
        with session_scope(engine) as session:
            def rows(model):
                return sorted(tuple(getattr(r, c) for c in model.__table__.columns.keys())
                              for r in session.exec(select(model)))

            return (rows(Cable), rows(CableSegment), rows(LinkHop),
                    [(p.state, p.summary) for p in session.exec(select(Plan).order_by(Plan.id))],
                    session.exec(select(SpliceClosure.status).order_by(SpliceClosure.id)).all())

    before = snapshot()

    def power_cut(*args):
        raise RuntimeError("power cut")

    monkeypatch.setattr(changeset, "_rewrite_strand_records", power_cut)  # after cables and hops are rewritten
    with pytest.raises(RuntimeError):
        with session_scope(engine) as session:
            changeset.apply_plan(session, session.get(Plan, plan_id))
    assert snapshot() == before
    monkeypatch.undo()
    with session_scope(engine) as session:
        changeset.apply_plan(session, session.get(Plan, plan_id))
    assert snapshot() != before


def test_a_part_whose_pairs_are_all_used_is_opened_nowhere(engine, tmp_path):
    options, _ = feeder_town_in(engine, tmp_path, pairs=1, sites=(BESIDE_MH_0_2,), kitas=1)
    with session_scope(engine) as session:
        changeset.apply_plan(session, connect_site(session, site_spec(session, "KITA-0"), options).stored)
    with session_scope(engine) as session:
        west = session.exec(select(Cable).where(Cable.code == "CAB-1.2")).one()
        net = load_network(session, options)
        # the west part's only pair is used: no candidate on it, no new closure at MH-0-1 (route node 2);
        # the east part's piece of that pair was cut off at the closure and is free
        assert west.id not in net.spare_cables and new_closure_node(2) not in net.graph
        assert [c.code for c in net.spare_cables.values()] == ["CAB-1"]
        assert {new_closure_node(4), new_closure_node(5)} <= set(net.graph)


def test_a_part_of_a_cable_is_passed_as_one_chain_of_its_manholes():
    """The shared-risk rules see a ride on a part from a new closure as the manholes it
    passes, once each and in order (the redundant planner reads a node seen twice as a
    route doubling back)."""
    from planning.routing import location, strand_nodes

    net = candidate_network(feeder_city(pairs=2), midspan_closures=True)
    parts = [(u, v, k) for u, v, k, d in net.graph.edges(keys=True, data=True)
             if d["kind"] == "strand" and (is_new_closure(u) or is_new_closure(v))]
    assert len(parts) == 8
    for u, v, k in parts:
        nodes = strand_nodes(net, u, v, k)
        assert len(nodes) == len(set(nodes)) == len(net.edge(u, v, k)["trenches"]) + 1
        assert {nodes[0], nodes[-1]} == {location(u), location(v)}
        assert nodes[-1] == location(v) or nodes[0] == location(u)
