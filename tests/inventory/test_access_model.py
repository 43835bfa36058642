"""Customer access (buildings, companies, the PON) through import, export, validation,
migrations and change sets, on SQLite and PostgreSQL.

The mini town (tests/support/mini_city.py) carries the customers of tests/support/mini_pon.py
(``MINI_EXTRAS``): a cascade SPL-1 (1:8) -> SPL-2 (1:32), three ONTs, three companies.
"""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import inspect, select

from inventory.entities import KINDS
from inventory.models import (
    SLA_WEIGHT, Building, BusinessConnection, OltPort, Plan, ResidentialConnection, ServiceClass, Splitter, Status,
)
from inventory.store import SourceRow, export_rows, write
from netops import db as dbmod
from netops.db import session_scope
from planning.changeset import apply_plan, discard_plan
from tests.inventory.conftest import MINI_EXTRAS, dump
from tests.support.mini_city import build_mini_city
from tests.support.mini_pon import PON_ROWS

NEW_KINDS = ["building", "business_connection", "olt_port", "splitter", "residential_connection"]


def _rows(kind: str, base_code: str, /, **changes: str) -> dict[str, str]:
    base = next(r for r in PON_ROWS[kind] if r.get("code", r.get("interface")) == base_code)
    return {**base, **changes}


def _write_csv(path, kind: str, rows: list[dict[str, str]]):
    with path.open("w", newline="", encoding="utf-8") as fh:
        # only the columns the rows give: a blank cell would mean "no value", not "the default"
        writer = csv.DictWriter(fh, fieldnames=[f for f in KINDS[kind].file_fields if any(f in r for r in rows)])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _fill(engine) -> None:
    with session_scope(engine) as session:
        build_mini_city(session)
        write(session, [(kind, [SourceRow(dict(r)) for r in rows]) for kind, rows in MINI_EXTRAS.items()])


@pytest.fixture
def town(engine):
    """A fresh mini town with its customers, for tests that change it."""
    _fill(engine)
    return engine


def _second_database(request, db_url, tmp_path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.db'}"
    from tests.conftest import _fresh_postgres_url

    return _fresh_postgres_url(request.getfixturevalue("pg_server"))


# -- 1. what the model derives ---------------------------------------------------------------

def test_losses_budgets_and_weights_come_from_the_model(town):
    with session_scope(town) as session:
        splitters = {s.code: s for s in session.exec(select(Splitter)).scalars()}
        ports = session.exec(select(OltPort)).scalars().all()
        companies = {c.code: c for c in session.exec(select(BusinessConnection)).scalars()}
        assert (splitters["SPL-1"].loss_db, splitters["SPL-2"].loss_db) == (10.5, 17.1)
        assert sorted(p.power_budget_db for p in ports) == [28.0, 32.0]
        assert companies["BC-1"].sla_weight == SLA_WEIGHT[ServiceClass.SLA_GOLD] > companies["BC-3"].sla_weight
        # the cascade child of the file's first row was written after its parent
        assert splitters["SPL-2"].parent_id == splitters["SPL-1"].id and splitters["SPL-2"].parent_port == 1


# -- 2. round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", NEW_KINDS)
def test_csv_and_geojson_files_read_back_unchanged(town, run_cli, tmp_path, kind):
    before = dump(town)
    csv_path = tmp_path / f"{kind}.csv"
    assert run_cli("inventory", "export", "--kind", kind, "--out", str(csv_path)).exit_code == 0
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert len(rows) == len(PON_ROWS[kind])
    geo_path = tmp_path / f"{kind}.geojson"
    if KINDS[kind].geometry:
        assert run_cli("inventory", "export", "--kind", kind, "--format", "geojson",
                       "--out", str(geo_path)).exit_code == 0
        assert json.loads(geo_path.read_text())["features"][0]["geometry"]["type"] == "Point"
    else:  # no geometry of its own (like cables): a GeoJSON file of it carries null geometries
        refused = run_cli("inventory", "export", "--kind", kind, "--format", "geojson")
        assert refused.exit_code == 2 and "no geometry" in refused.stderr
        features = [{"type": "Feature", "geometry": None, "properties": {k: v or None for k, v in r.items()}}
                    for r in rows]
        geo_path.write_text(json.dumps({"type": "FeatureCollection", "netops_kind": kind, "features": features}))
    for path in (csv_path, geo_path):
        result = run_cli("inventory", "import", str(path), "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)[kind] == {"inserted": 0, "updated": 0, "unchanged": len(rows)}
    assert dump(town) == before


def test_a_whole_export_loads_into_an_empty_database(town, db_url, request, tmp_path):
    """Every kind exported, then imported in one go into a fresh database (the splitter
    file holds a whole cascade): the new database holds the same rows."""
    from cli import app
    from typer.testing import CliRunner

    runner = CliRunner()
    paths = []
    for kind in KINDS:
        path = tmp_path / f"{kind}.csv"
        assert runner.invoke(app, ["--db", db_url, "inventory", "export", "--kind", kind,
                                   "--out", str(path)]).exit_code == 0
        paths.append(str(path))
    second = _second_database(request, db_url, tmp_path)
    dbmod.upgrade(dbmod.make_engine(second))
    result = runner.invoke(app, ["--db", second, "inventory", "import", *paths, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["splitter"]["inserted"] == 3
    engines = dbmod.make_engine(db_url), dbmod.make_engine(second)
    for kind in NEW_KINDS:
        copies = []
        for engine in engines:
            with session_scope(engine) as session:
                copies.append(export_rows(session, kind))
        assert copies[0] == copies[1] and copies[0], kind
    for engine in engines:
        engine.dispose()


# -- 3. what import refuses, naming file, row, field and value; nothing is written -----------

REFUSED = {
    "ratio not a power of two": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", parent="SPL-3", ratio="12")],
        2, "ratio", "12", "a splitter ratio is one of 2, 4, 8, 16, 32, 64"),
    "ratio above 1:64": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", parent="SPL-3", ratio="128")],
        2, "ratio", "128", "less than or equal to 64"),
    "port beyond the ratio": (
        "residential_connection", [_rows("residential_connection", "ONT-3", code="ONT-9", splitter_port="9",
                                         building="B-1", units="1")],
        2, "splitter_port", "9", "splitter SPL-1 is 1:8: ports 1..8"),
    "cascade on a port beyond the parent's ratio": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", parent="SPL-3", parent_port="9")],
        2, "parent_port", "9", "splitter SPL-3 is 1:8"),
    "port of a stored ONT": (
        "residential_connection", [_rows("residential_connection", "ONT-2", code="ONT-9", splitter_port="1",
                                         units="1")],
        2, "splitter_port", "1", "port 1 of splitter SPL-2 already feeds residential_connection ONT-1"),
    "two ONTs on one port in one file": (
        "residential_connection", [_rows("residential_connection", "ONT-2", code="ONT-9", splitter_port="5",
                                         units="1"),
                                   _rows("residential_connection", "ONT-2", code="ONT-10", splitter_port="5",
                                         units="1")],
        3, "splitter_port", "5", "already feeds residential_connection ONT-9"),
    "ONT on the port a cascade uses": (
        "residential_connection", [_rows("residential_connection", "ONT-3", code="ONT-9", splitter_port="1",
                                         building="B-1", units="1")],
        2, "splitter_port", "1", "port 1 of splitter SPL-1 already feeds splitter SPL-2"),
    "cascade onto a port an ONT uses": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", parent="SPL-1", parent_port="2")],
        2, "parent_port", "2", "already feeds residential_connection ONT-3"),
    "more units than the building has": (
        "residential_connection", [_rows("residential_connection", "ONT-2", code="ONT-9", splitter_port="5",
                                         units="7")],
        2, "units", "7", "building B-1 has 30 residential units; its connections would serve 31"),
    "no units": (
        "residential_connection", [_rows("residential_connection", "ONT-2", code="ONT-9", splitter_port="5",
                                         units="0")],
        2, "units", "0", "greater than or equal to 1"),
    "negative residential units": (
        "building", [_rows("building", "B-2", code="B-9", residential_units="-1")],
        2, "residential_units", "-1", "greater than or equal to 0"),
    "implausibly many units": (
        "building", [_rows("building", "B-2", code="B-9", business_units="20000")],
        2, "business_units", "20000", "less than or equal to 2000"),
    "building outside the region": (
        "building", [_rows("building", "B-2", code="B-9", lat="151.5")],
        2, "lat", "151.5", "less than or equal to 55.5"),
    "unknown service class": (
        "business_connection", [_rows("business_connection", "BC-3", code="BC-9", service_class="platinum")],
        2, "service_class", "platinum", "'best_effort', 'business' or 'sla_gold'"),
    "company in a building and at a site": (
        "business_connection", [_rows("business_connection", "BC-3", code="BC-9", site="BP-1")],
        2, "(row)", "", "a company sits in a building or at a site: give exactly one of building or site"),
    "company on nothing": (
        "business_connection", [_rows("business_connection", "BC-3", code="BC-9", device="")],
        2, "(row)", "", "hangs on a link or a device"),
    "missing building": (
        "residential_connection", [_rows("residential_connection", "ONT-2", code="ONT-9", splitter_port="5",
                                         units="1", building="B-404")],
        2, "building", "B-404", "no building 'B-404' in the inventory or this import"),
    "missing link": (
        "business_connection", [_rows("business_connection", "BC-1", code="BC-9", link="lnk-404")],
        2, "link", "lnk-404", "no link 'lnk-404'"),
    "missing OLT port": (
        "splitter", [_rows("splitter", "SPL-3", code="SPL-9", olt_interface="pon0/9")],
        2, "olt_interface", "pon0/9", "no olt_port 'gk-popn-olt1/pon0/9'"),
    "splitter fed twice": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", olt_device="gk-popn-olt1", olt_interface="pon0/2")],
        2, "(row)", "", "give exactly one of olt_port or parent"),
    "a second splitter on one OLT port": (
        "splitter", [_rows("splitter", "SPL-3", code="SPL-9", olt_interface="pon0/1")],
        2, "olt_interface", "gk-popn-olt1/pon0/1", "the OLT port already feeds splitter SPL-1"),
    "cascade loop within the file": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-8", parent="SPL-9"),
                     _rows("splitter", "SPL-2", code="SPL-9", parent="SPL-8")],
        2, "parent", "SPL-9", "the splitter chain in this import loops back to itself"),
    "cascade loop through stored splitters": (
        "splitter", [_rows("splitter", "SPL-1", olt_device="", olt_interface="", parent="SPL-2", parent_port="3")],
        2, "parent", "SPL-2", "the cascade loops: SPL-1 -> SPL-2 -> SPL-1"),
    "splitter in a manhole without a closure": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", parent="SPL-3", node="M-2")],
        2, "node", "M-2", "route node M-2 is a manhole without a closure"),
    "feeder strand the cable lacks": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", parent="SPL-3", feeder_cable="cab-kita1",
                           feeder_strand="25")],
        2, "feeder_strand", "25", "cable cab-kita1 has 24 strands"),
    "feeder on a strand a link uses": (
        "splitter", [_rows("splitter", "SPL-2", code="SPL-9", parent="SPL-3", feeder_cable="cab-kita1",
                           feeder_strand="7")],
        2, "feeder_strand", "7", "strand 7 of cable cab-kita1 already carries link lnk-kita1"),
    "drop on another drop's strand": (
        "residential_connection", [_rows("residential_connection", "ONT-2", drop_cable="cab-kita1",
                                         drop_strand="21")],
        2, "drop_strand", "21", "already carries the drop of residential_connection ONT-1"),
    "drop on a feeder's strand": (
        "residential_connection", [_rows("residential_connection", "ONT-2", drop_cable="cab-kita1",
                                         drop_strand="20")],
        2, "drop_strand", "20", "already carries the feeder of splitter SPL-1"),
    "drop cable without a strand": (
        "residential_connection", [_rows("residential_connection", "ONT-1", drop_strand="")],
        2, "(row)", "", "drop_cable and drop_strand are given together or not at all"),
    "OLT port on a switch": (
        "olt_port", [{"device": "gk-popn-ds1", "interface": "port1a", "optics_class": "b_plus", "source": "t"}],
        2, "device", "gk-popn-ds1", "an OLT port is on a device with role olt at a PoP"),
    "unknown optics class": (
        "olt_port", [_rows("olt_port", "pon0/1", optics_class="d")],
        2, "optics_class", "d", "'b_plus' or 'c_plus'"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_rows_are_refused_with_where_and_why(mini_db, tmp_path, case):
    kind, rows, row, field, value, reason = REFUSED[case]
    # a valid change in the same import must not land either: all or nothing
    path = _write_csv(tmp_path / f"{kind}.csv", kind, rows)
    fine = _write_csv(tmp_path / "building.csv", "building", [_rows("building", "B-3", name="Renamed")]) \
        if kind != "building" else None
    before = dump(mini_db[1])
    from cli import app
    from typer.testing import CliRunner

    files = [str(fine)] if fine else []
    result = CliRunner().invoke(app, ["--db", mini_db[0], "inventory", "import", *files, str(path)])
    assert result.exit_code == 2, result.output
    line = next((ln for ln in result.stderr.splitlines() if f"field '{field}'" in ln), result.stderr)
    assert f"{path}: row {row}: field '{field}': value '{value}'" in line and reason in line, result.stderr
    assert dump(mini_db[1]) == before


def test_checks_skip_rows_an_import_could_not_write(mini_db, tmp_path):
    """Once one row is refused, the import writes nothing and the new rows after it get no
    ids: the checks across rows must neither crash on them nor see two new OLT ports (or
    two new splitters) as one and report a clash that is not there."""
    from cli import app
    from typer.testing import CliRunner

    paths = [
        _write_csv(tmp_path / "device.csv", "device", [
            {"name": "gk-bad", "site": "POP-N", "role": "olt", "platform": "huawei_olt", "mgmt_ip": "x",
             "source": "t"}]),
        _write_csv(tmp_path / "interface.csv", "interface", [
            {"device": "gk-popn-olt1", "name": f"pon0/{n}", "kind": "fibre"} for n in (3, 4)]),
        _write_csv(tmp_path / "route_node.csv", "route_node", [
            {"code": "C-9", "kind": "cabinet", "lat": "51.5", "lon": "7.08", "source": "t"}]),
        _write_csv(tmp_path / "olt_port.csv", "olt_port", [
            _rows("olt_port", "pon0/1", interface="pon0/3"), _rows("olt_port", "pon0/1", interface="pon0/4")]),
        _write_csv(tmp_path / "splitter.csv", "splitter", [
            _rows("splitter", "SPL-3", code="SPL-8", node="C-9", olt_interface="pon0/3"),
            _rows("splitter", "SPL-3", code="SPL-9", node="C-9", olt_interface="pon0/4")]),
        _write_csv(tmp_path / "residential_connection.csv", "residential_connection", [
            _rows("residential_connection", "ONT-2", code="ONT-8", splitter="SPL-8", splitter_port="1", units="1"),
            _rows("residential_connection", "ONT-2", code="ONT-9", splitter="SPL-9", splitter_port="1", units="1")]),
    ]
    before = dump(mini_db[1])
    result = CliRunner().invoke(app, ["--db", mini_db[0], "inventory", "import", *map(str, paths)])
    assert result.exit_code == 2, result.output
    assert [line.split(": row ")[0].rsplit("/", 1)[1] for line in result.stderr.splitlines()] == [
        "device.csv"], result.stderr
    assert dump(mini_db[1]) == before


# -- 4. migration, stats, change sets ---------------------------------------------------------

def test_migration_0003_adds_and_removes_only_the_customer_tables(db_url):
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine, "0002")
    before = set(inspect(engine).get_table_names())
    dbmod.upgrade(engine)
    added = set(inspect(engine).get_table_names()) - before
    assert added == {m.__tablename__ for m in (Building, BusinessConnection, OltPort, Splitter, ResidentialConnection)}
    dbmod.downgrade(engine, "0002")
    assert set(inspect(engine).get_table_names()) == before
    engine.dispose()


def test_stats_count_homes_and_companies(town, run_cli):
    result = run_cli("inventory", "stats", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customers"] == {
        "buildings": 3, "residential_units": 38, "residential_units_passed": 32,
        "residential_units_connected": 20, "companies": 3, "business_connections": 3,
        "business_connections_by_service_class": {"best_effort": 1, "business": 1, "sla_gold": 1},
    }
    table = run_cli("inventory", "stats")
    # companies counted by name, their lines by service class (a company may have two lines)
    assert "companies" in table.stdout and "business lines" in table.stdout and "  sla_gold" in table.stdout
    assert "connected" in table.stdout


def test_decommissioned_connections_do_not_count(town, run_cli, tmp_path):
    path = _write_csv(tmp_path / "residential_connection.csv", "residential_connection",
                      [_rows("residential_connection", "ONT-1", status="decommissioned")])
    assert run_cli("inventory", "import", str(path)).exit_code == 0
    customers = json.loads(run_cli("inventory", "stats", "--json").stdout)["customers"]
    assert (customers["residential_units_passed"], customers["residential_units_connected"]) == (20, 8)


@pytest.mark.parametrize("outcome", ["apply", "discard"])
def test_planned_customer_rows_follow_their_plan(town, outcome):
    with session_scope(town) as session:
        plan = Plan(name="connect-b-9", kind="connect")
        session.add(plan)
        session.flush()
        building = Building(code="B-9", address="Neue Straße 1", lat=51.55, lon=7.08, residential_units=6,
                            status=Status.PLANNED, source="plan", plan_id=plan.id)
        session.add(building)
        session.flush()
        spl3 = session.exec(select(Splitter).where(Splitter.code == "SPL-3")).scalar_one()
        session.add(ResidentialConnection(code="ONT-9", building_id=building.id, splitter_id=spl3.id,
                                          splitter_port=1, units=6, take_up="connected", status=Status.PLANNED,
                                          source="plan", plan_id=plan.id))
        session.flush()
        counts = (apply_plan if outcome == "apply" else discard_plan)(session, plan)
    assert counts["residentialconnection"] == 1 and counts["building"] == 1
    with session_scope(town) as session:
        ont = session.exec(select(ResidentialConnection).where(ResidentialConnection.code == "ONT-9")).scalar()
        if outcome == "discard":
            assert ont is None
        else:
            assert ont.status == Status.ACTIVE and ont.plan_id is None
