"""Planning for customers (``planning.access``) on a small hand-made PON town with known
answers, on SQLite and PostgreSQL, and through the CLI.

The town: a 3 x 7 grid of manholes (MH-r-c, ~85 m east-west, ~130 m north-south), every
street a trench with a free duct, PoP POP-0 at MH-0-0 (an OLT with two B+ ports) and
POP-1 at MH-2-0 (a second building for redundant business lines)::

    MH-2-0 (POP-1) .. MH-2-2 [SC 1:8, port 1 used] ........ MH-2-6 [SB 1:8, full]
    MH-1-0 .......................................... MH-1-5 [SF 1:32 on gpon0/1/1,
    MH-0-0 (POP-0, OLT) .... MH-0-3 [SA 1:4 on gpon0/1/0]         feeder cable 20 km]

SB and SC hang on SA's ports 1 and 2 (3 and 4 free); SF's 20 km feeder leaves a 1:32 no
room in the B+ budget (17.1 + 7.0 dB fibre + splices + connectors: margin 2.1 dB < 3).
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli import app
from inventory.models import (
    Building, BusinessConnection, Cable, Device, Interface, OltPort, Plan, ResidentialConnection, RouteNode, Site,
    SpliceClosure, Splitter,
)
from netops.db import session_scope
from planning.access import AccessOptions, NoAccessError, connect_building, connect_business, plan_area
from planning.changeset import apply_plan, discard_plan
from planning.context import NetworkOptions
from tests.planning.grid import grid_city, store_city
from topology.network import FailureSet, Network
from topology.pon import ont_budgets
from topology.rows import load_inventory

OFFSET_DEG = 0.00012  # a building ~13 m north-east of its manhole


def _town(session, tmp_path, *, spare: bool = True) -> NetworkOptions:
    """The town above; with ``spare=False`` every splitter port is taken (SA's free ports and
    SC's, SF's too). Returns the network options (its streets file)."""
    streets = tmp_path / "streets.geojson"
    city = grid_city(3, 7, seed=5, existing_share=1.0, full_share=0.0, pop_cells=((0, 0), (2, 0)))
    store_city(session, city, kitas=0, streets_path=streets)
    node = {n.code: n for n in session.exec(select(RouteNode)).all()}
    pop = session.exec(select(Site).where(Site.code == "POP-0")).one()
    olt = _add(session, Device(name="POP-0-olt1", site_id=pop.id, role="olt", platform="huawei_olt", source="test"))
    ports = []
    for number in range(2):
        interface = _add(session, Interface(device_id=olt.id, name=f"gpon0/1/{number}", kind="fibre"))
        ports.append(_add(session, OltPort(interface_id=interface.id, optics_class="b_plus", source="test")))
    closures = {code: _add(session, SpliceClosure(code=f"CL-{code}", node_id=node[code].id, source="test"))
                for code in ("MH-0-3", "MH-2-6", "MH-2-2", "MH-1-5")}
    long_feeder = _add(session, Cable(code="FDR-F", strands=12, a_site_id=pop.id,
                                      b_closure_id=closures["MH-1-5"].id, length_m=20_000.0, source="test"))
    sa = _add(session, Splitter(code="SA", ratio=4, node_id=node["MH-0-3"].id, olt_port_id=ports[0].id,
                                source="test"))
    sb = _add(session, Splitter(code="SB", ratio=8, node_id=node["MH-2-6"].id, parent_id=sa.id, parent_port=1,
                                source="test"))
    sc = _add(session, Splitter(code="SC", ratio=8, node_id=node["MH-2-2"].id, parent_id=sa.id, parent_port=2,
                                source="test"))
    sf = _add(session, Splitter(code="SF", ratio=32, node_id=node["MH-1-5"].id, olt_port_id=ports[1].id,
                                feeder_cable_id=long_feeder.id, feeder_strand=1, source="test"))
    taken = [(sb, range(1, 9), "MH-2-6"), (sc, range(1, 2) if spare else range(1, 9), "MH-0-1"),
             (sf, () if spare else range(1, 33), "MH-0-1"), (sa, () if spare else range(3, 5), "MH-0-1")]
    for splitter, ports_taken, near in taken:
        if ports_taken:
            filler = building(session, node[near], f"FILL-{splitter.code}", len(ports_taken), district="Voll")
            for port in ports_taken:
                _add(session, ResidentialConnection(code=f"ONT-{splitter.code}-{port}", building_id=filler.id,
                                                    splitter_id=splitter.id, splitter_port=port, units=1,
                                                    take_up="connected", source="test"))
    session.flush()
    return NetworkOptions(streets=streets)


def _add(session, row):
    session.add(row)
    session.flush()
    return row


def building(session, near: RouteNode, code: str, units: int, district: str = "Testdorf", number: int = 1):
    return _add(session, Building(code=code, address=f"Teststraße {number}", district=district,
                                  lat=near.lat + OFFSET_DEG, lon=near.lon + OFFSET_DEG, residential_units=units,
                                  source="test"))


def _node(session, code: str) -> RouteNode:
    return session.exec(select(RouteNode).where(RouteNode.code == code)).one()


@pytest.fixture
def town(engine, tmp_path):
    with session_scope(engine) as session:
        options = _town(session, tmp_path)
        for code, near, units in (("B-C", "MH-2-2", 12), ("B-B", "MH-2-6", 6), ("B-F", "MH-1-5", 4),
                                  ("B-FAR", "MH-1-1", 30)):
            building(session, _node(session, near), code, units)
    return engine, AccessOptions(network=options)


def _only(summary: dict) -> dict:
    (connection,) = summary["connections"]
    return connection


# -- 1. which splitter -------------------------------------------------------------------------

def test_the_nearest_free_port_is_chosen(town):
    engine, options = town
    with session_scope(engine) as session:
        c = _only(connect_building(session, "B-C", options, save=False).summary)
    assert (c["splitter"], c["ports"], c["new_splitter"]) == ("SC", [2], False)
    assert c["drop_m"] < 60 and c["loss_budget"]["margin_db"] >= 3.0
    assert c["loss_budget"]["splitters"] == "1:4 + 1:8"


def test_a_full_splitter_is_skipped(town):
    engine, options = town
    with session_scope(engine) as session:
        c = _only(connect_building(session, "B-B", options, save=False).summary)
    # SB sits in the building's own manhole with all 8 ports taken
    assert c["splitter"] != "SB" and c["loss_budget"]["margin_db"] >= 3.0


def test_a_failing_budget_forces_another_choice(town):
    engine, options = town
    with session_scope(engine) as session:
        planner_view = connect_building(session, "B-F", AccessOptions(network=options.network, min_margin_db=0.0),
                                        save=False).summary
        c = _only(connect_building(session, "B-F", options, save=False).summary)
    # with no margin asked, the 1:32 next door is the cheapest (its budget still closes at 2.1 dB)
    assert _only(planner_view)["splitter"] == "SF"
    assert 0 < _only(planner_view)["loss_budget"]["margin_db"] < 3.0
    # with the planning margin, SF is out: another splitter, whose budget holds
    assert c["splitter"] != "SF" and c["loss_budget"]["margin_db"] >= 3.0


def test_a_distribution_splitter_keeps_its_ports_for_splitters(town):
    """Next to SA (1:4, feeding SB and SC), with SC beyond drop reach, a building gets a new
    splitter on SA's free port, patched in SA's closure, not an ONT on a first-stage port."""
    engine, options = town
    with session_scope(engine) as session:
        building(session, _node(session, "MH-0-3"), "B-A", 20)
        summary = connect_building(session, "B-A", AccessOptions(network=options.network, max_drop_m=80.0),
                                   save=False).summary
    c = _only(summary)
    assert c["new_splitter"] and c["fed_from"]["source"] == "SA" and c["fed_from"]["port"] == 3
    assert c["fed_from"]["over"] == "a patch in the same closure" and c["fed_from"]["feeder_m"] == 0
    assert c["splitter_ratio"] == 16 and c["loss_budget"]["splitters"] == "1:4 + 1:16"  # 4 x 16 = 64


def test_a_new_splitter_when_no_splitter_is_within_drop_reach(town):
    engine, options = town
    tight = AccessOptions(network=options.network, max_drop_m=80.0)
    with session_scope(engine) as session:
        summary = connect_building(session, "B-FAR", tight, save=False).summary
    c = _only(summary)
    assert c["new_splitter"] and c["onts"] == 2 and c["drop_m"] <= 80.0  # 30 homes: two ONTs
    (new,) = summary["splitters"]
    assert new["fed_from"].startswith(("SA", "POP-0-olt1/")) and new["ports_used"] == 2
    # a cascade on SA stays within 1:64, a first stage on a new OLT port takes up to 1:32
    assert (4 * new["ratio"] if new["feed"] == "splitter" else new["ratio"]) <= 64
    assert {line["item"] for line in summary["bom"]} >= {f"splitter 1:{new['ratio']}", "ONT", "building entry"}


def test_no_olt_capacity_anywhere_is_one_error(engine, tmp_path):
    with session_scope(engine) as session:
        network = _town(session, tmp_path, spare=False)
        building(session, _node(session, "MH-1-1"), "B-X", 6)
        with pytest.raises(NoAccessError, match="no OLT capacity anywhere"):
            connect_building(session, "B-X", AccessOptions(network=network, max_olt_ports=2), save=False)
        # an OLT with room for a port: a new first-stage splitter on a new port
        summary = connect_building(session, "B-X", AccessOptions(network=network, max_olt_ports=3), save=False).summary
    (new,) = summary["splitters"]
    assert (new["feed"], new["fed_from"]) == ("new_olt_port", "POP-0-olt1/gpon0/1/2")
    assert summary["new_olt_ports"] == 1 and any(line["item"] == "OLT PON port (new)" for line in summary["bom"])


# -- 2. change sets ------------------------------------------------------------------------------

def test_a_port_a_draft_plan_uses_is_not_offered_again(town):
    engine, options = town
    with session_scope(engine) as session:
        building(session, _node(session, "MH-2-2"), "B-C2", 3, number=2)
        first = connect_building(session, "B-C", options)
        second = connect_building(session, "B-C2", options)
        assert _only(first.summary)["ports"] == [2] and _only(second.summary)["ports"] == [3]
        discard_plan(session, first.stored)
        third = connect_building(session, "B-C", options, save=False)
    assert _only(third.summary)["ports"] == [2]  # discarded: the port is free again


def test_applied_plan_is_what_the_pon_audit_measures(town):
    """One definition of the budget: after apply, the audit's figures for the new ONTs are
    the plan's, the splitter and closure are in service, the duct counts went up."""
    engine, options = town
    with session_scope(engine) as session:
        result = connect_building(session, "B-FAR", AccessOptions(network=options.network, max_drop_m=80.0))
        apply_plan(session, result.stored)
        c = _only(result.summary)
        onts = session.exec(select(ResidentialConnection).where(ResidentialConnection.code.startswith("p1-"))).all()
        assert [str(o.status) for o in onts] == ["active", "active"] and sum(o.units for o in onts) == 30
        budgets = [b for b in ont_budgets(Network(load_inventory(session))) if b.ont.startswith("p1-")]
        new_splitter = session.exec(select(Splitter).where(Splitter.code == "p1-spl-001")).one()
    assert len(budgets) == 2
    for b in budgets:
        assert (b.loss_db, b.margin_db, b.fibre_m, b.splices) == (
            c["loss_budget"]["loss_db"], c["loss_budget"]["margin_db"], c["loss_budget"]["fibre_m"],
            c["loss_budget"]["splices"])
        assert not b.fibre_estimated or c["fed_from"]["kind"] == "splitter"
    assert str(new_splitter.status) == "active" and new_splitter.ratio == c["splitter_ratio"]


def test_discarding_a_plan_with_new_splitters_and_olt_port_removes_every_row(engine, tmp_path):
    with session_scope(engine) as session:
        network = _town(session, tmp_path, spare=False)
        for number, near in enumerate(("MH-1-3", "MH-1-4", "MH-0-5"), start=1):
            building(session, _node(session, near), f"N-{number}", 30, district="Neubau", number=number)
        options = AccessOptions(network=network, max_olt_ports=3)
        first = plan_area(session, options, districts=["Neubau"])
        assert first.summary["new_olt_ports"] == 1 and first.summary["new_splitters"] >= 1
        counts = discard_plan(session, first.stored)
        assert counts["oltport"] == 1 and counts["splitter"] == first.summary["new_splitters"]
        assert counts["residentialconnection"] == first.summary["onts"]
        for model in (ResidentialConnection, Splitter, OltPort, Interface, Cable, SpliceClosure, RouteNode):
            assert not session.exec(select(model).where(model.plan_id == first.stored.id)).all(), model
        again = plan_area(session, options, districts=["Neubau"], save=False)
    assert again.summary["total_eur"] == first.summary["total_eur"]


# -- 3. area plans -------------------------------------------------------------------------------

def test_area_plan_cost_per_home_adds_up(town):
    engine, options = town
    with session_scope(engine) as session:
        for number, near in enumerate(("MH-1-2", "MH-1-3", "MH-1-3", "MH-0-4", "MH-0-5"), start=10):
            building(session, _node(session, near), f"NEW-{number}", 4 + number % 3, district="Neubaugebiet",
                     number=number)
        result = plan_area(session, options, districts=["neubaugebiet"])
        plan_id = result.stored.id
        rows = session.exec(select(ResidentialConnection).where(ResidentialConnection.plan_id == plan_id)).all()
    s = result.summary
    assert s["buildings"] == 5 and s["homes_passed"] == sum(4 + n % 3 for n in range(10, 15))
    assert s["total_eur"] == pytest.approx(sum(line["total_eur"] for line in s["bom"]), abs=0.05)
    assert s["total_eur"] == pytest.approx(sum(c["cost_eur"] for c in s["connections"]), abs=0.05)
    assert s["cost_per_home_eur"] == pytest.approx(s["total_eur"] / s["homes_passed"], abs=0.01)
    assert len(rows) == s["onts"] == 5 and all(c["loss_budget"]["margin_db"] >= 3 for c in s["connections"])
    # neighbours share: the two buildings at MH-1-3 hang on the same splitter
    at = {c["building"]: c["splitter"] for c in s["connections"]}
    assert at["NEW-11"] == at["NEW-12"]


def test_area_plan_on_new_splitters_that_neighbours_fill(engine, tmp_path):
    """Every splitter full: the street's first building gets a new splitter on a new OLT
    port, its neighbours fill it; applied, the PON audit measures what the plan said."""
    with session_scope(engine) as session:
        network = _town(session, tmp_path, spare=False)
        for number, near in enumerate(("MH-1-3", "MH-1-3", "MH-1-4", "MH-0-4", "MH-1-2", "MH-2-3"), start=1):
            building(session, _node(session, near), f"N-{number}", 5, district="Neubau", number=number)
        result = plan_area(session, AccessOptions(network=network, max_olt_ports=3), districts=["Neubau"])
        s = result.summary
        apply_plan(session, result.stored)
        audit = {b.building: b for b in ont_budgets(Network(load_inventory(session))) if b.ont.startswith("p1-")}
    assert (s["buildings"], s["homes_passed"], s["new_splitters"], s["new_olt_ports"]) == (6, 30, 1, 1)
    assert {c["splitter"] for c in s["connections"]} == {"p1-spl-001"}
    assert [c["new_splitter"] for c in s["connections"]] == [True] + [False] * 5
    assert s["cost_per_home_eur"] == pytest.approx(s["total_eur"] / 30, abs=0.01)
    for c in s["connections"]:
        b = audit[c["building"]]
        assert (b.loss_db, b.margin_db, b.fibre_m) == (c["loss_budget"]["loss_db"], c["loss_budget"]["margin_db"],
                                                       c["loss_budget"]["fibre_m"])


def test_area_polygon_and_the_failures(town, tmp_path):
    engine, options = town
    with session_scope(engine) as session:
        near = _node(session, "MH-2-2")
        ring = [[near.lon - 0.001, near.lat - 0.001], [near.lon + 0.001, near.lat - 0.001],
                [near.lon + 0.001, near.lat + 0.001], [near.lon - 0.001, near.lat + 0.001]]
        path = tmp_path / "area.geojson"
        path.write_text(json.dumps({"type": "Feature", "properties": {},
                                    "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]}}))
        summary = plan_area(session, options, polygon=path, save=False).summary
        assert [c["building"] for c in summary["connections"]] == ["B-C"]
        with pytest.raises(Exception, match="no Stadtteil 'Atlantis'"):
            plan_area(session, options, districts=["Atlantis"], save=False)
        path.write_text(json.dumps({"type": "Point", "coordinates": [7.0, 51.5]}))
        with pytest.raises(Exception, match="no Polygon or MultiPolygon"):
            plan_area(session, options, polygon=path, save=False)


# -- 4. business lines -----------------------------------------------------------------------------

def test_a_gold_business_line_gets_two_disjoint_routes_and_a_change_set(town):
    engine, options = town
    from inventory.models.access import ServiceClass

    with session_scope(engine) as session:
        building(session, _node(session, "MH-1-3"), "B-BIZ", 0, number=7)
        result = connect_business(session, "B-BIZ", "Muster GmbH", ServiceClass.SLA_GOLD, 10_000, options.network)
        assert len(result.summary["routes"]) == 2 and result.summary["shared_risks"] == []
        apply_plan(session, result.stored)
        line = session.exec(select(BusinessConnection).where(BusinessConnection.company == "Muster GmbH")).one()
        cables = session.exec(select(Cable).where(Cable.code.startswith(f"p{result.stored.id}-cab"))).all()
        ntu = session.get(Device, line.device_id)
        net = Network(load_inventory(session))
    assert (str(line.service_class), str(line.access), str(line.status)) == ("sla_gold", "p2p_fibre", "active")
    assert (str(ntu.role), str(ntu.status), ntu.name) == ("ntu", "active", f"ntu-{line.code}") and len(cables) >= 2
    # the NTU's two fibre links, one per route, each to a PoP switch over the plan's cables
    paths = [(net.devices[b if a == ntu.id else a].name, data) for (a, b), data in
             ((net.link_ends[k], data) for k, data in net.links.items()) if ntu.id in (a, b)]
    assert len(paths) == 2 and all(name.endswith("-ds1") and data["cable_ids"] for name, data in paths)
    first, second = (frozenset(data["cable_ids"][:1]) for _, data in paths)
    assert not first & second
    lost = {cables: line.id in net.loss_of(FailureSet(cables=cables))[1].companies
            for cables in (first, second, first | second)}
    assert lost == {first: False, second: False, first | second: True}  # lost only with both paths
    with session_scope(engine) as session:  # a business class: one route
        plain = connect_business(session, "B-BIZ", "Klein KG", ServiceClass.BUSINESS, 100, options.network,
                                 save=False)
    assert len(plain.summary["routes"]) == 1


def test_a_business_line_is_planned_on_optics_that_carry_its_bandwidth(town):
    """A 10 Gbit/s line on a 1000BASE-LX was planned (the optic chosen by reach alone); a
    bandwidth no optic carries is one error naming the fastest."""
    engine, options = town
    from inventory.models.access import ServiceClass

    with session_scope(engine) as session:
        building(session, _node(session, "MH-1-3"), "B-BIZ", 0, number=7)
        gig = connect_business(session, "B-BIZ", "Eins GmbH", ServiceClass.BUSINESS, 1000, options.network,
                               save=False)
        ten = connect_business(session, "B-BIZ", "Zehn GmbH", ServiceClass.SLA_GOLD, 10_000, options.network,
                               save=False)
        with pytest.raises(NoAccessError, match=r"no optic type carries 100,000 Mbit/s \(the fastest is 10GBASE"):
            connect_business(session, "B-BIZ", "Hundert AG", ServiceClass.BUSINESS, 100_000, options.network,
                             save=False)
    assert [b["optic"] for b in gig.summary["loss_budget"]] == ["1000BASE-LX"]
    assert len(ten.summary["loss_budget"]) == 2
    assert all(b["optic"].startswith("10GBASE") for b in ten.summary["loss_budget"]), ten.summary["loss_budget"]


def test_a_longer_reach_optic_keeps_the_margin_the_shortest_reach_one_misses(town):
    """The shortest-reach optic covering the path is the first choice, but not when its
    budget leaves less than the minimum margin and another optic's keeps it."""
    engine, options = town
    from inventory.models import OpticType
    from inventory.models.access import ServiceClass

    with session_scope(engine) as session:
        building(session, _node(session, "MH-1-3"), "B-BIZ", 0, number=7)
        for name, standard, nm, reach, tx, rx in (("weak-lx", "1000BASE-LX", 1310, 10.0, -10.0, -12.0),
                                                  ("zx-80", "1000BASE-ZX", 1550, 80.0, 0.0, -24.0),
                                                  ("lr-10g", "10GBASE-LR", 1310, 10.0, -8.2, -14.4)):
            _add(session, OpticType(name=name, standard=standard, wavelength_nm=nm, reach_km=reach,
                                    tx_min_dbm=tx, rx_sensitivity_dbm=rx, source="test"))
        line = connect_business(session, "B-BIZ", "Weit GmbH", ServiceClass.BUSINESS, 1000, options.network,
                                save=False)
    (budget,) = line.summary["loss_budget"]
    assert (budget["optic"], budget["flagged"]) == ("zx-80", False), budget


# -- 5. the CLI ------------------------------------------------------------------------------------

def _cli(engine, *args):
    return CliRunner().invoke(app, ["--db", engine.url.render_as_string(hide_password=False), "plan", *args])


@pytest.mark.parametrize("args, message", [
    (["building", "NOPE"], "no building with code 'NOPE'"),
    (["business", "NOPE", "--company", "X"], "no building with code 'NOPE'"),
    (["area", "--stadtteil", "Atlantis"], "no Stadtteil 'Atlantis'"),
    (["area", "--stadtteil", "Testdorf", "--max-drop", "1"], "4 of 4 building(s) cannot be passed"),
    (["area"], "give --stadtteil"),
    (["building", "B-C", "--take-up", "maybe"], "--take-up 'maybe'"),
    (["business", "B-C", "--company", "X", "--service-class", "platinum"], "--service-class 'platinum'"),
    (["business", "B-C", "--company", "X", "--bandwidth", "100000"], "no optic type carries 100,000 Mbit/s"),
])
def test_cli_failures_are_one_line_exit_2(town, args, message):
    engine, _ = town
    result = _cli(engine, *args, "--dry-run")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_empty_area_and_passed_building(town):
    engine, options = town
    with session_scope(engine) as session:
        connect_building(session, "B-C", options)
    passed = _cli(engine, "building", "B-C", "--dry-run")
    assert passed.exit_code == 2 and "passed already" in passed.stderr
    with session_scope(engine) as session:
        building(session, _node(session, "MH-0-1"), "B-PASSED", 0, district="Leerdorf")
    empty = _cli(engine, "area", "--stadtteil", "Leerdorf", "--dry-run")
    assert empty.exit_code == 2 and "no building with homes not yet passed" in empty.stderr


def test_cli_business_line_stores_and_shows(town):
    engine, _ = town
    with session_scope(engine) as session:
        building(session, _node(session, "MH-1-3"), "B-BIZ", 0, number=7)
    out = json.loads(_cli(engine, "business", "B-BIZ", "--company", "Muster GmbH", "--json").stdout)
    assert out["business"]["service_class"] == "business" and len(out["routes"]) == 1 and out["plan_id"] == 1
    shown = _cli(engine, "show", "1")
    assert shown.exit_code == 0 and "Muster GmbH" in shown.stdout and "bill of materials" in shown.stdout
    csv_out = _cli(engine, "business", "B-BIZ", "--company", "Zweite KG", "--dry-run", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == "route,pop,length_m,new_cable_m,spare_strand_m,margin_db"


def test_cli_building_stores_shows_and_applies(town):
    engine, _ = town
    out = json.loads(_cli(engine, "building", "B-C", "--json", "--plan-name", "b-c").stdout)
    assert out["plan_id"] == 1 and _only(out)["splitter"] == "SC"
    csv_out = _cli(engine, "building", "B-F", "--dry-run", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("building,address,homes,onts,splitter") and csv_out[1].startswith("B-F,")
    shown = _cli(engine, "show", "b-c")
    assert shown.exit_code == 0 and "cost per home passed" in shown.stdout and "SC" in shown.stdout
    table = _cli(engine, "area", "--stadtteil", "Testdorf", "--dry-run")
    assert table.exit_code == 0 and "cost per home passed" in table.stdout
    assert _cli(engine, "apply", "b-c").exit_code == 0
    with session_scope(engine) as session:
        assert session.exec(select(Plan.state).where(Plan.name == "b-c")).one() == "applied"


@pytest.mark.parametrize("command", [["building", "B-F"], ["business", "B-F", "--company", "X"], ["area"]])
def test_a_negative_minimum_margin_is_refused_by_the_access_planners(tmp_path, command):
    """As for plan connect/batch/fixes: below 0 dB an ONT's link does not work, so a negative
    --min-margin would pass a failing budget as ok. Usage, one line, exit 2, nothing opened."""
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "none.db"), "plan", *command, "--min-margin", "-0.5"])
    assert result.exit_code == 2, result.output
    assert "--min-margin" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "none.db").exists()
