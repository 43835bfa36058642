"""The inventory/audit gauges the alert rules and the dashboard rely on."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from netops.db import session_scope
from report.collector import InventoryAuditCollector
from tests.support.mini_city import build_mini_city
from tests.test_deploy import _tool


def _scrape(engine, clock=None) -> tuple[str, dict]:
    registry = CollectorRegistry(auto_describe=False)
    collector = InventoryAuditCollector(engine, **({"clock": clock} if clock else {}))
    collector.wait_for_audits()  # the topology's summary comes from a child, in the background
    registry.register(collector)
    text = generate_latest(registry).decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return text, samples


def _value(samples, name, **labels):
    matches = [v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items()]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


def test_trench_disjoint_paths_per_site(engine):
    with session_scope(engine) as session:
        build_mini_city(session)
    _, samples = _scrape(engine)
    paths = {site: _value(samples, "netops_site_trench_disjoint_paths", site=site)
             for site in ("SCH-1", "KITA-1", "BP-1", "HOT-1", "HOT-2")}
    # BP-1 has two link-disjoint uplinks, but one trench carries both: it counts as one
    assert paths == {"SCH-1": 2, "KITA-1": 1, "BP-1": 1, "HOT-1": 1, "HOT-2": 1}
    assert _value(samples, "netops_site_trench_disjoint_paths", site="SCH-1", district="Erle", site_kind="school") == 2
    assert _value(samples, "netops_audit_findings", audit="shared_trench", severity="warning") == 1
    assert _value(samples, "netops_inventory_device_info", device="gk-hot2-ap1", site="HOT-2", district="Altstadt",
                  role="wifi_ap") == 1
    assert _value(samples, "netops_optic_rx_sensitivity_dbm", device="gk-sch1-as1", if_name="port1b",
                  optic="1000BASE-LX-10km") == -20.0


def test_exposition_passes_promtool_lint(engine):
    promtool = _tool("promtool")
    with session_scope(engine) as session:
        build_mini_city(session)
    text, _ = _scrape(engine)
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_results_are_kept_for_the_ttl_then_recomputed(engine):
    now = [0.0]
    registry = CollectorRegistry(auto_describe=False)
    collector = InventoryAuditCollector(engine, ttl_s=300, clock=lambda: now[0])
    registry.register(collector)
    collector.wait_for_audits()
    assert b"netops_inventory_device_info{" not in generate_latest(registry)  # empty inventory
    with session_scope(engine) as session:
        build_mini_city(session)
    now[0] = 299.0
    text = generate_latest(registry)
    assert b"netops_inventory_device_info{" not in text  # still the cached answer
    assert b"netops_site_trench_disjoint_paths{" not in text
    now[0] = 300.0
    text = generate_latest(registry)  # the inventory is read again; the topology's child starts
    assert b'device="gk-sch1-as1"' in text
    collector.wait_for_audits()
    assert b'netops_site_trench_disjoint_paths{district="Erle"' in generate_latest(registry)


def test_the_topology_child_failing_is_one_line_and_metrics_stay_up(tmp_path, caplog):
    """The topology's figures come from a child process: when it fails or hangs, /metrics
    still answers (without them) and the log says why in one line."""
    import pytest

    from netops import db as dbmod
    from report.collector import AuditSummaryError, audit_summary

    empty = dbmod.make_engine(f"sqlite:///{tmp_path / 'no-schema.db'}")  # a database nobody migrated
    with pytest.raises(AuditSummaryError, match="the topology audits failed: .*no such table"):
        audit_summary(empty)
    with pytest.raises(AuditSummaryError, match="took longer than 0 s"):
        audit_summary(empty, timeout_s=0.001)
    registry = CollectorRegistry(auto_describe=False)
    collector = InventoryAuditCollector(empty)
    registry.register(collector)
    with caplog.at_level("WARNING", logger="netops.report.collector"):
        collector.wait_for_audits()
        assert generate_latest(registry) == b""
    assert "topology audit gauges unavailable: the topology audits failed" in caplog.text
    assert "inventory gauges unavailable" in caplog.text
    empty.dispose()


def _customer_gauges(engine, gauge: str, by: str):
    """The mini city with its customers scraped: (samples, {(``by`` label, customer): value} of
    ``gauge``, a function giving what `netops audit cut` says of a failure: (companies, homes))."""
    from inventory.store import SourceRow, write
    from tests.inventory.conftest import MINI_EXTRAS
    from topology.audits import blast_radius, resolve_failures
    from topology.network import Network
    from topology.rows import load_inventory

    with session_scope(engine) as session:
        build_mini_city(session)
        write(session, [(kind, [SourceRow(dict(r)) for r in rows]) for kind, rows in MINI_EXTRAS.items()])
    _, samples = _scrape(engine)
    gauges = {(dict(labels)[by], dict(labels)["customer"]): value
              for (name, labels), value in samples.items() if name == gauge}
    with session_scope(engine) as session:
        net = Network(load_inventory(session))

    def cut(name: str) -> tuple[int, int]:
        radius = blast_radius(net, resolve_failures(net, [name])[0])
        return len(radius.companies_cut), radius.residential_units_cut

    return samples, gauges, net, cut


def test_site_customers_are_what_a_cut_of_the_site_takes(engine):
    """The gauge says, per site, what `netops audit cut site:X` says of companies and homes."""
    samples, gauges, _, cut = _customer_gauges(engine, "netops_site_customers", "site")
    for site in {site for site, _ in gauges}:
        assert (gauges[site, "companies"], gauges[site, "residential_units"]) == cut(f"site:{site}")
    # POP-N carries the OLT (ONT-1 and ONT-3 connected: 12 + 8 homes) and the bakery's switch;
    # the Stadtwerke's fibre link ends there too
    assert (gauges["POP-N", "companies"], gauges["POP-N", "residential_units"]) == (2, 20)
    assert _value(samples, "netops_site_customers", site="POP-N", customer="residential_units",
                  site_kind="core") == 20
    # a site no customer depends on has no series
    assert not any(site == "HOT-1" for site, _ in gauges)


def test_device_customers_are_what_that_device_alone_down_takes(engine):
    """The alert's gauge, per device: what `netops audit cut device:X` says. The site gauge
    counted POP-N's OLT homes for any device at POP-N, so the alert fired "20 homes hang on
    it" for its core router, whose loss cuts off no one."""
    samples, gauges, net, cut = _customer_gauges(engine, "netops_device_customers", "device")
    devices = {device for device, _ in gauges}
    for device in devices:
        assert (gauges[device, "companies"], gauges[device, "residential_units"]) == cut(f"device:{device}")
    olt = next(d.name for d in net.devices.values() if str(d.role) == "olt")
    assert gauges[olt, "residential_units"] == 20 and _value(samples, "netops_device_customers", device=olt,
                                                             site="POP-N", customer="residential_units") == 20
    # the PoP's core router cuts off no one: no series, though its site has customers
    assert "gk-popn-cr1" not in devices and _value(samples, "netops_site_customers", site="POP-N",
                                                  customer="residential_units") == 20
    for device in {d.name for d in net.devices.values()} - devices:  # nothing left out that cuts someone off
        assert cut(f"device:{device}") == (0, 0), device


#: a password with characters a URL must percent-encode: its encoded form must not leak either
WRONG_PASSWORD = "Wr0ng-p@ss/w:rd"
_ENCODED = ("Wr0ng-p%40ss%2Fw%3Ard", "Wr0ng-p%40ss/w:rd")


def _password_role(server) -> str:
    """A role on the test server that must give its password (the server trusts every other
    role): a line in front of pg_hba.conf for it alone, then a reload."""
    from sqlalchemy import text

    from netops import db as dbmod

    role = f"netops_pw_{os.getpid()}_{next(_roles)}"
    hba = server.datadir / "pg_hba.conf"
    hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    admin = dbmod.make_engine(server.url())
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'the-right-one'"))
        conn.execute(text("SELECT pg_reload_conf()"))
    admin.dispose()
    probe = dbmod.make_engine(_wrong_password_url(server, role))
    deadline = time.monotonic() + 10
    while True:  # the postmaster reloads asynchronously: wait until it asks for the password
        try:
            probe.connect().close()
        except Exception as exc:
            if "password authentication failed" in str(exc):
                break
        assert time.monotonic() < deadline, "pg_hba.conf reload not seen"
        time.sleep(0.1)
    probe.dispose()
    return role


_roles = itertools.count()


def _wrong_password_url(server, role: str) -> str:
    from sqlalchemy import URL

    return URL.create("postgresql+psycopg", username=role, password=WRONG_PASSWORD, host="127.0.0.1",
                      port=server.port, database="postgres").render_as_string(hide_password=False)


def _assert_no_password(text: str) -> None:
    assert WRONG_PASSWORD not in text and not any(form in text for form in _ENCODED), text


@pytest.mark.postgres
def test_a_wrong_postgres_password_is_logged_without_the_password(pg_server, caplog):
    """The child gets the URL, password included, in its environment; whatever fails there
    comes back as one line: the reason stays, the password is masked."""
    from netops import db as dbmod
    from report.collector import AuditSummaryError, audit_summary

    engine = dbmod.make_engine(_wrong_password_url(pg_server, _password_role(pg_server)))
    with pytest.raises(AuditSummaryError, match="password authentication failed") as failed:
        audit_summary(engine)
    _assert_no_password(str(failed.value))
    registry = CollectorRegistry(auto_describe=False)
    with caplog.at_level("WARNING", logger="netops.report.collector"):
        collector = InventoryAuditCollector(engine)
        collector.wait_for_audits()
        registry.register(collector)
        assert generate_latest(registry) == b""  # nothing stale, nothing made up
    assert caplog.text.count("password authentication failed") == 2  # the inventory's and the child's
    _assert_no_password(caplog.text)
    engine.dispose()


def test_the_child_masks_a_password_in_a_url_that_does_not_parse():
    """netops.db names a URL it cannot parse in its error: the child's line masks it."""
    done = subprocess.run([sys.executable, "-m", "report.audit_summary"], capture_output=True, text=True,
                          env={**os.environ, "NETOPS_DB_URL": f"netops:{WRONG_PASSWORD}@127.0.0.1"},
                          timeout=120)
    assert done.returncode == 1 and "is neither a database URL" in done.stderr
    _assert_no_password(done.stderr)


@pytest.mark.parametrize("message", [
    f"connection to postgresql+psycopg://netops:{_ENCODED[0]}@db.example/netops failed",
    f"invalid dsn: host=db user=netops password={WRONG_PASSWORD} dbname=netops",
    f"invalid dsn: host=db user=netops password='{WRONG_PASSWORD} x' dbname=netops",
    f"FATAL: {WRONG_PASSWORD} rejected",
    f"https://user:{WRONG_PASSWORD}@other.example/ echoed by something else",
])
def test_redaction_covers_every_shape_a_library_may_echo(message):
    from netops.db import redact_url

    url = f"postgresql+psycopg://netops:{_ENCODED[0]}@127.0.0.1:5432/netops"
    redacted = redact_url(message, url)
    _assert_no_password(redacted)
    assert "********" in redacted


def test_audit_gauges_and_the_report_count_the_findings_netops_audit_finds(engine):
    """The exporter's child and the report read the inventory without the trench geometry,
    so a segment whose recorded length disagrees with it (a consistency warning of `netops
    audit`) was missing from netops_audit_findings and from the report's findings."""
    from collections import Counter

    from sqlmodel import select

    from inventory.models import TrenchSegment
    from report.audits import audit_view
    from topology.audits import run_audits
    from topology.network import Network
    from topology.rows import load_inventory

    with session_scope(engine) as session:
        build_mini_city(session)
        segment = session.exec(select(TrenchSegment).where(TrenchSegment.code == "seg-1")).one()
        segment.length_m *= 3
    with session_scope(engine) as session:
        cli = Counter((f.audit, str(f.severity)) for f in run_audits(Network(load_inventory(session, geometry=True))).findings)
        report = audit_view(session).findings
    assert cli[("consistency", "warning")] >= 1
    _, samples = _scrape(engine)
    scraped = {(dict(labels)["audit"], dict(labels)["severity"]): value for (name, labels), value in samples.items()
               if name == "netops_audit_findings"}
    assert scraped == dict(cli)
    assert Counter((f.kind, f.severity) for f in report) == cli
    assert any(f.kind == "consistency" and "seg-1" in f.message and "recorded length" in f.message for f in report)


def test_the_site_customer_gauge_feeds_the_site_drill_down(tmp_path):
    """netops_site_customers (what a whole site down cuts off) was emitted for dashboards that
    did not query it; the site drill-down shows it now, companies and homes, evaluated by
    promtool: one figure per site ($site is All by default: the sum counted the homes behind
    two sites twice, 1280 of 640), 0 for a site that cuts off no one, and no data when the
    audit gauges are away (it read "0 cut off" then)."""
    import yaml

    from report.grafana import dashboard

    panel = next(p for p in dashboard()["panels"] if "netops_site_customers" in json.dumps(p.get("targets", [])))
    assert [t["legendFormat"] for t in panel["targets"]] == ["{{site}} companies", "{{site}} homes"]
    companies, homes = (t["expr"] for t in panel["targets"])
    gauge = 'netops_site_customers{{job="netops-exporter", site="{}", site_kind="core", district="Buer", customer="{}"}}'
    # the same 640 homes hang on POP-N and on SCH-1 (the cabinet of their OLT)
    audit_in = [dict(series=gauge.format(site, customer), values=f"{n}x5") for site, customer, n in (
        ("POP-N", "companies", 2), ("POP-N", "residential_units", 640),
        ("SCH-1", "companies", 0), ("SCH-1", "residential_units", 640))]
    audit_in += [dict(series=f'netops_site_trench_disjoint_paths{{job="netops-exporter", site="{site}"}}',
                      values="2x5") for site in ("SCH-1", "KITA-1")]

    def check(expr, site, samples):
        return dict(expr=expr.replace("$site", site), eval_time="2m",
                    exp_samples=[dict(labels=labels, value=value) for labels, value in samples])

    tests = [
        dict(interval="1m", input_series=audit_in, promql_expr_test=[
            check(companies, ".*", [('{site="POP-N"}', 2), ('{site="SCH-1"}', 0)]),
            check(homes, ".*", [('{site="POP-N"}', 640), ('{site="SCH-1"}', 640)]),
            check(homes, "POP-N", [('{site="POP-N"}', 640)]),
            check(homes, "KITA-1", [("{}", 0)])]),
        # the exporter (or its audit child) away: devices answer, no audit gauge is there
        dict(interval="1m", input_series=[dict(series='up{job="netops-devices", site="POP-N"}', values="1x5")],
             promql_expr_test=[check(companies, "POP-N", []), check(homes, ".*", [])]),
    ]
    (tmp_path / "panel.test.yml").write_text(yaml.safe_dump({"rule_files": [], "tests": tests}))
    done = subprocess.run([_tool("promtool"), "test", "rules", "panel.test.yml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr
