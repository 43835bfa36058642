"""Plans as change sets on SQLite and PostgreSQL: save, diff, apply, discard, and what the
audits see afterwards."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from inventory.models import (
    Cable, CableSegment, Device, Interface, Link, LinkHop, Plan, PlanState, RouteNode, Site, Status,
    TrenchSegment,
)
from netops.db import session_scope
from planning import changeset
from planning.changeset import PlanStateError
from planning.context import NetworkOptions, site_spec
from planning.plans import batch_sites, connect_site, plan_geojson
from tests.planning.grid import grid_city
from topology.audits import single_points_of_failure
from topology.network import Network
from topology.rows import load_inventory

TABLES = (Site, Device, Interface, RouteNode, TrenchSegment, Cable, CableSegment, Link, LinkHop)


@pytest.fixture
def town(engine, tmp_path):
    city = grid_city(5, 5, seed=11, sites=3, existing_share=0.5, full_share=0.2, pop_cells=((0, 0), (4, 4)))
    streets = tmp_path / "streets.geojson"
    from tests.planning.grid import store_city

    with session_scope(engine) as session:
        ids = store_city(session, city, kitas=3, streets_path=streets)
    return engine, NetworkOptions(streets=streets), ids


def counts(session) -> dict[str, int]:
    return {t.__tablename__: session.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def test_connect_saves_a_planned_change_set(town):
    engine, options, _ = town
    with session_scope(engine) as session:
        before = counts(session)
        result = connect_site(session, site_spec(session, "KITA-0"), options)
        plan = result.stored
    with session_scope(engine) as session:
        plan = session.get(Plan, plan.id)
        assert plan.state == PlanState.DRAFT and plan.total_cost_eur == result.plan.total_eur
        assert plan.summary["price_table"]["region"] == "Gelsenkirchen"
        added = changeset.plan_rows(session, plan)
        assert len(added["cable"]) == 1 and len(added["link"]) == 1 and len(added["device"]) == 1
        for model in (RouteNode, TrenchSegment, Cable, Link, Device):
            rows = session.exec(select(model).where(model.plan_id == plan.id)).all()
            assert rows and all(r.status == Status.PLANNED for r in rows)
        # the cable runs through the route's trenches in order, new ones and re-used ones
        cable = session.exec(select(Cable).where(Cable.plan_id == plan.id)).one()
        path = session.exec(select(CableSegment.segment_id).where(CableSegment.cable_id == cable.id)
                            .order_by(CableSegment.seq)).all()
        legs = [leg for leg in result.plan.routes[0].legs if leg.kind != "own_entry"]
        assert len(path) == len(legs)
        assert [p for p, leg in zip(path, legs) if leg.trench_id] == [leg.trench_id for leg in legs if leg.trench_id]
        assert cable.length_m == pytest.approx(result.plan.routes[0].length_m, abs=0.1)
        hop = session.exec(select(LinkHop).where(LinkHop.cable_id == cable.id)).one()
        assert (hop.strand_a, hop.strand_b) == (1, 2)
        # nothing it does not own is touched before apply
        changes = changeset.plan_changes(session, plan)
        assert {c["field"] for c in changes} <= {"ducts_used", "status"}
        assert any(c["code"] == "KITA-0" and c["after"] == "active" for c in changes)
        geo = plan_geojson(session, plan)
        assert len(geo["features"]) == len(path)
        assert all(f["geometry"]["type"] == "LineString" for f in geo["features"])
        assert counts(session)["cable"] == before["cable"] + 1


def test_apply_activates_everything_in_one_go(town):
    engine, options, ids = town
    with session_scope(engine) as session:
        plan = connect_site(session, site_spec(session, "KITA-0"), options, redundant=True).stored
        ducts = {int(k): session.get(TrenchSegment, int(k)).ducts_used for k in plan.summary["changes"]["ducts"]}
    with session_scope(engine) as session:
        changeset.apply_plan(session, session.get(Plan, plan.id))
    with session_scope(engine) as session:
        assert session.get(Plan, plan.id).state == PlanState.APPLIED
        assert session.get(Site, ids["KITA-0"]).status == Status.ACTIVE
        for model in (RouteNode, TrenchSegment, Cable, Link, Device):
            rows = session.exec(select(model).where(model.plan_id == plan.id)).all()
            assert all(r.status == Status.ACTIVE for r in rows)
        for trench_id, before in ducts.items():
            assert session.get(TrenchSegment, trench_id).ducts_used == before + 1
        with pytest.raises(PlanStateError):
            changeset.apply_plan(session, session.get(Plan, plan.id))
        with pytest.raises(PlanStateError):
            changeset.discard_plan(session, session.get(Plan, plan.id))


def test_apply_refuses_a_duct_taken_meanwhile_and_changes_nothing(town):
    engine, options, ids = town
    with session_scope(engine) as session:
        plan = connect_site(session, site_spec(session, "KITA-1"), options).stored
        taken = [int(k) for k in plan.summary["changes"]["ducts"]]
    if not taken:
        pytest.skip("this route re-uses no existing duct")
    with session_scope(engine) as session:
        trench = session.get(TrenchSegment, taken[0])
        trench.ducts_used = trench.ducts_total
        session.add(trench)
    with pytest.raises(PlanStateError, match="free duct"):
        with session_scope(engine) as session:
            changeset.apply_plan(session, session.get(Plan, plan.id))
    with session_scope(engine) as session:
        assert session.get(Plan, plan.id).state == PlanState.DRAFT
        assert session.get(Site, ids["KITA-1"]).status == Status.PLANNED


def test_discard_removes_the_whole_plan(town):
    engine, options, ids = town
    with session_scope(engine) as session:
        before = counts(session)
        plan = batch_sites(session, [site_spec(session, c) for c in ("KITA-0", "KITA-1", "KITA-2")], options).stored
        assert counts(session)["cable"] == before["cable"] + 3
    with session_scope(engine) as session:
        removed = changeset.discard_plan(session, session.get(Plan, plan.id))
        assert removed["cable"] == 3
    with session_scope(engine) as session:
        assert counts(session) == before
        assert session.get(Plan, plan.id).state == PlanState.DISCARDED
        assert session.get(Site, ids["KITA-2"]).status == Status.PLANNED


def _spof_sites(engine) -> set[str]:
    with session_scope(engine) as session:
        net = Network(load_inventory(session, geometry=True))
    return {site for finding in single_points_of_failure(net) for site in finding.sites}


def test_audits_see_the_applied_site_and_redundancy_clears_the_spof(town):
    engine, options, _ = town
    with session_scope(engine) as session:
        single = connect_site(session, site_spec(session, "KITA-0"), options).stored
    assert "KITA-0" not in _spof_sites(engine)  # planned: not in the audited network yet
    with session_scope(engine) as session:
        changeset.apply_plan(session, session.get(Plan, single.id))
    assert "KITA-0" in _spof_sites(engine)  # one route: every trench on it is a single point of failure
    with session_scope(engine) as session:  # planned after the first is built: sees its ducts taken
        pair = connect_site(session, site_spec(session, "KITA-1"), options, redundant=True)
        assert not pair.plan.shared and len({r.pop_code for r in pair.plan.routes}) == 2
    with session_scope(engine) as session:
        changeset.apply_plan(session, session.get(Plan, pair.stored.id))
    spof = _spof_sites(engine)
    assert "KITA-1" not in spof  # two trench-disjoint routes to two PoPs
    assert "KITA-0" in spof
