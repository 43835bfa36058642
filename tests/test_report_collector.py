"""The inventory/audit gauges the alert rules and the dashboard rely on."""

from __future__ import annotations

import subprocess

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


def test_site_customers_are_what_a_cut_of_the_site_takes(engine):
    """The gauge says, per site, what `netops audit cut site:X` says of companies and homes."""
    from inventory.store import SourceRow, write
    from tests.inventory.conftest import MINI_EXTRAS
    from topology.audits import blast_radius, resolve_failures
    from topology.network import Network
    from topology.rows import load_inventory

    with session_scope(engine) as session:
        build_mini_city(session)
        write(session, [(kind, [SourceRow(dict(r)) for r in rows]) for kind, rows in MINI_EXTRAS.items()])
    _, samples = _scrape(engine)
    gauges = {(dict(labels)["site"], dict(labels)["customer"]): value
              for (name, labels), value in samples.items() if name == "netops_site_customers"}
    with session_scope(engine) as session:
        net = Network(load_inventory(session))
    for site in {site for site, _ in gauges}:
        cut = blast_radius(net, resolve_failures(net, [f"site:{site}"])[0])
        assert (gauges[site, "companies"], gauges[site, "residential_units"]) == \
            (len(cut.companies_cut), cut.residential_units_cut)
    # POP-N carries the OLT (ONT-1 and ONT-3 connected: 12 + 8 homes) and the bakery's switch;
    # the Stadtwerke's fibre link ends there too
    assert (gauges["POP-N", "companies"], gauges["POP-N", "residential_units"]) == (2, 20)
    assert _value(samples, "netops_site_customers", site="POP-N", customer="residential_units",
                  site_kind="core") == 20
    # a site no customer depends on has no series
    assert not any(site == "HOT-1" for site, _ in gauges)
