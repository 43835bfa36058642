"""`netops audit` end to end on the mini city stored in a real database."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from cli import app
from netops import db as dbmod
from netops.db import session_scope
from tests.topology.builder import store
from tests.topology.test_audits import add_spliced_link, mini_city
from topology.audits import run_audits
from topology.network import Network
from topology.rows import load_inventory


def test_network_loaded_from_the_database_equals_the_rows(engine):
    city = mini_city()
    with session_scope(engine) as session:
        store(city.inv, session)
    with session_scope(engine) as session:
        loaded = Network(load_inventory(session, geometry=True))
    assert run_audits(loaded).sorted() == run_audits(Network(city.inv)).sorted()


def _sqlite_file(tmp_path_factory, name: str, city) -> str:
    """The city stored in a fresh SQLite file, for the CLI's --db."""
    path = tmp_path_factory.mktemp(name) / "city.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        store(city.inv, session)
    engine.dispose()
    return str(path)


@pytest.fixture(scope="module")
def db_file(tmp_path_factory) -> str:
    return _sqlite_file(tmp_path_factory, "audit", mini_city())


def netops(db_file, *args):
    return CliRunner().invoke(app, ["--db", db_file, "audit", *args])


def test_full_audit_json_and_exit_codes(db_file):
    result = netops(db_file, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["critical"] == 1
    shared = [f for f in report["findings"] if f["check"] in ("shared_trench", "shared_node")]
    assert [f["sites"] for f in shared] == [["S2"], ["S2"]]
    # one vocabulary: the audit is named as its sub-command, elements as the inventory names them
    assert {f["audit"] for f in shared} == {"shared_risk"}
    assert {e["kind"] for f in shared for e in f["elements"]} <= {"segment", "route_node", "link"}
    assert netops(db_file, "--fail-on", "critical", "--json").exit_code == 1
    assert netops(db_file, "shared-risk", "--fail-on", "critical").exit_code == 0
    assert netops(db_file, "shared-risk", "--fail-on", "warning").exit_code == 1
    assert netops(db_file, "--fail-on", "bogus").exit_code == 2
    assert netops(db_file, "--fail-on", "high").exit_code == 1  # the config rules' word for critical
    typo = netops(db_file, "--fail-on", "critcal")
    assert typo.exit_code == 2 and "did you mean critical?" in typo.stderr and len(typo.stderr.splitlines()) == 1


def test_tables_summary_first_then_worst_findings(db_file):
    result = netops(db_file, "all")
    assert result.exit_code == 0
    out = result.stdout
    summary = out.index("findings by audit and severity")
    assert summary < out.index("findings, worst first")
    # the worst finding comes first; identifiers are never cut, even on the narrow test terminal
    listing = out[out.index("findings, worst first"):]
    assert listing.index("critical") < listing.index("warning")
    assert "segment:TS2" in out


def test_geojson_puts_findings_on_the_map(db_file, tmp_path):
    target = tmp_path / "findings.geojson"
    assert netops(db_file, "shared-risk", "--geojson", str(target)).exit_code == 0
    collection = json.loads(target.read_text())
    feature = next(f for f in collection["features"] if f["properties"]["check"] == "shared_trench")
    assert feature["properties"]["sites"] == ["S2"]
    kinds = sorted(g["type"] for g in feature["geometry"]["geometries"])
    assert kinds == ["LineString", "MultiLineString", "MultiLineString", "Point"]  # trench, 2 links, site


def test_cut_answers_multiple_failures(db_file):
    result = netops(db_file, "cut", "TS1a", "TS1b", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sites_cut"] == ["S1"]
    table = netops(db_file, "cut", "trench:TX")
    assert table.exit_code == 0 and "hotspots: 3" in table.stdout
    missing = netops(db_file, "cut", "NOPE")
    assert missing.exit_code == 2 and "NOPE" in missing.stderr


def test_rank_and_diversity(db_file):
    ranked = json.loads(netops(db_file, "rank", "--top", "2", "--kind", "trench", "--json").stdout)
    assert [(e["code"], e["weight"]) for e in ranked] == [("TS2", 5.0), ("TK", 4.0)]
    weak = json.loads(netops(db_file, "diversity", "--weak-only", "--json").stdout)
    assert "S1" not in {r["site"] for r in weak} and "S2" in {r["site"] for r in weak}
    assert netops(db_file, "--weight", "hospital=abc").exit_code == 2


def test_min_severity_hides_findings_but_not_from_the_gate(db_file, tmp_path):
    target = tmp_path / "critical.geojson"
    result = netops(db_file, "--json", "--min-severity", "critical", "--fail-on", "warning",
                    "--geojson", str(target))
    assert result.exit_code == 1  # the gate still sees the warnings
    report = json.loads(result.stdout)
    assert [f["severity"] for f in report["findings"]] == ["critical"]
    assert report["counts"]["warning"] > 0
    assert len(json.loads(target.read_text())["features"]) == 1
    table = netops(db_file, "--min-severity", "warning")
    assert "not shown" in table.stdout and "info:" not in table.stdout


def contested_city():
    """The mini city with what the audits once disagreed about: plant out of service under
    live links (a manhole and the trench into it), a closure, a site behind a school's
    switch (for --no-transit), and many findings of equal weight."""
    city = mini_city()
    city.set_status("node", "MX", "decommissioned")
    city.set_status("segment", "TH2", "decommissioned")
    add_spliced_link(city)
    city.site("K2", "kindergarten", entry=False)
    city.link("L-K2", "K2", "S1", medium="radio")
    for i in range(4):  # four hotspots of equal weight, each a spof of its own
        city.site(f"HS{i}", "hotspot", mgmt_ip=None)
        city.trench(f"THS{i}", f"HS{i}", "P2")
        city.link(f"L-HS{i}", f"HS{i}", "P2", [f"THS{i}"])
    return city


AUDIT_CALLS = [("--json",), ("--json", "--no-transit"), ("rank", "--json", "--top", "500"),
               ("diversity", "--json"), ("cut", "TX", "closure:CL-K", "--json"), ("shared-risk", "--json")]


def _outputs(db: str) -> dict[tuple, str]:
    results = {}
    for args in AUDIT_CALLS:
        result = CliRunner().invoke(app, ["--db", db, "audit", *args])
        assert result.exit_code in (0, 1), (args, result.output)
        results[args] = result.stdout
    return results


@pytest.fixture(scope="module")
def contested_db(tmp_path_factory) -> str:
    return _sqlite_file(tmp_path_factory, "contested", contested_city())


def test_audit_json_is_byte_identical_on_sqlite_and_postgresql(db_url, contested_db):
    """Rows written in a shuffled order (PostgreSQL then returns them shuffled): every
    audit answer is still the same bytes as from the SQLite file written in order."""
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        store(contested_city().inv, session, shuffle=random.Random(5))
    engine.dispose()
    assert _outputs(db_url) == _outputs(contested_db)


def test_cut_on_plant_out_of_service_and_names_it_cannot_use(contested_db):
    result = netops(contested_db, "cut", "TX", "--json")  # active trench into a decommissioned manhole
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sites_cut"] == ["H1", "H2", "H3"]
    both = json.loads(netops(contested_db, "cut", "TK", "closure:CL-K", "--json").stdout)
    assert both["sites_cut"] == ["K1"] and both["links_down"] == ["L-K1", "L-K1-2"]
    for args, message in [(("TXX",), "did you mean TX"), (("node:TX",), "it is a trench (write trench:TX)"),
                          (("closure:NOPE",), "no closure named 'closure:NOPE'")]:
        result = netops(contested_db, "cut", *args)
        assert result.exit_code == 2 and message in result.stderr, result.output
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_no_transit_names_the_pop_router(contested_db):
    default = json.loads(netops(contested_db, "spof", "--json").stdout)
    strict = json.loads(netops(contested_db, "spof", "--json", "--no-transit").stdout)

    def named(report):
        return {e["code"] for f in report["findings"] for e in f["elements"]}

    assert "P1-rtr" in named(strict) and "P1-rtr" not in named(default)
    ranked = json.loads(netops(contested_db, "rank", "--json", "--no-transit", "--kind", "device", "--top", "10").stdout)
    assert ("P1-rtr", ["H1", "H2", "H3"]) in [(e["code"], e["sites"]) for e in ranked]


def test_by_design_findings_are_marked_for_scripts_and_hidden_from_tables(db_file):
    """Single points of failure of hotspots only (single-homed on purpose): marked in JSON,
    left out of the table unless --all, still counted and seen by --fail-on."""
    report = json.loads(netops(db_file, "--json").stdout)
    design = [f for f in report["findings"] if f["by_design"]]
    assert design and report["by_design"] == len(design)
    assert {f["severity"] for f in design} == {"info"} and {f["audit"] for f in design} == {"spof"}
    table = netops(db_file, "--top", "100").stdout
    assert f"{len(design)} by design not shown (--all)" in " ".join(table.split())
    everything = netops(db_file, "--all").stdout
    assert "by design not shown" not in everything
    assert netops(db_file, "--fail-on", "info").exit_code == 1


def test_every_audit_caller_reads_the_trench_geometry(tmp_path):
    """The regression guard of ``topology.network.audit_network``: a caller that loads the
    inventory without the trench geometry (as the report and the exporter's audit gauges
    did until session 11) misses the length-mismatch finding; ``audit_network`` has it,
    and so do `netops audit`, the report and the exporter's audit summary, which take it
    from there."""
    from sqlmodel import select

    from inventory.models import TrenchSegment
    from report.audit_summary import summary
    from report.audits import audit_view
    from tests.support.mini_city import build_mini_city
    from topology.network import audit_network

    path = tmp_path / "city.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        build_mini_city(session)
        session.exec(select(TrenchSegment).where(TrenchSegment.code == "seg-1")).one().length_m *= 3

    def mismatches(findings) -> list[str]:
        return [e.code for f in findings if f.audit == "consistency" and f.title.startswith("recorded length")
                for e in f.elements]

    with session_scope(engine) as session:
        assert mismatches(run_audits(Network(load_inventory(session))).findings) == []  # the trap
        assert "seg-1" in mismatches(run_audits(audit_network(session)).findings)
        assert any(f.kind == "consistency" and "seg-1" in f.message and "recorded length" in f.message
                   for f in audit_view(session).findings)
    warnings = {(row["audit"], row["severity"]): row["count"] for row in summary(engine)["findings"]}
    engine.dispose()
    assert warnings[("consistency", "warning")] >= 1
    result = CliRunner().invoke(app, ["--db", str(path), "audit", "consistency", "--json"])
    assert result.exit_code == 0, result.output
    assert "seg-1" in [e["code"] for f in json.loads(result.stdout)["findings"]
                       if f["title"].startswith("recorded length") for e in f["elements"]]
