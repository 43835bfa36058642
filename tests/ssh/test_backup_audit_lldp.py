"""Backup, audit and LLDP verification against the lab fleet (real SSH on loopback)."""

from __future__ import annotations

import subprocess

from prometheus_client import CollectorRegistry, generate_latest

from configs.audit import audit_live, audit_store, record_audit
from configs.backup import run_backup
from configs.lldp import MismatchKind, documented_links, record_lldp, verify
from configs.metrics import ConfigStateCollector
from configs.rules import Severity, load_rules
from configs.scrub import Fingerprinter
from configs.state import Workspace
from configs.store import Change
from configs.targets import DeviceFilter, build_targets, select_devices
from netops.access import AccessStatus, RetryPolicy, SessionPool
from netops.db import session_scope
from netops.secrets import Secret
from tests.ssh import lab

FP = Fingerprinter(Secret("lab-fingerprint-key-0123456789abcdef0123456789"))
POOL = dict(workers=6, login_limit=3, retry=RetryPolicy(retries=1, backoff_s=0.05))


def targets_for(engine, secrets, address_map, **flt):
    with session_scope(engine) as session:
        devices = select_devices(session, DeviceFilter(**flt))
        targets = build_targets(session, devices, secrets, address_map)
    assert all(t.host == "127.0.0.1" for t in targets.ready)  # never a documented mgmt address
    return targets


def test_backup_commits_scrubbed_configs_and_reports_failures(fleet, address_map, lab_engine, secrets, tmp_path):
    ws = Workspace(tmp_path / "ws")
    targets = targets_for(lab_engine, secrets, address_map)
    report = run_backup(targets.ready, SessionPool(**POOL), ws, targets.unusable, fingerprint=FP)

    status = {d.device: d.status for d in report.devices}
    assert status == {"k1-sw": AccessStatus.OK, "pop1-dist": AccessStatus.OK, "s1-sw": AccessStatus.OK,
                      "s2-sw": AccessStatus.AUTH_FAILED, "s3-sw": AccessStatus.TIMEOUT,
                      "s4-sw": AccessStatus.UNREACHABLE}
    assert report.count(Change.NEW) == 3 and report.commit
    store = ws.store()
    assert store.devices() == ["k1-sw", "pop1-dist", "s1-sw"]
    pop1 = store.read("pop1-dist")
    assert "hostname pop1-dist" in pop1 and "enable secret 9 <secret:hmac-sha256:" in pop1
    assert "clock-period" not in pop1 and "Last configuration change" not in pop1
    assert "s3-sw (timeout)" in report.message and "3 new" in report.message

    # unchanged devices (pop1's clock lines moved on) give no diff and no commit
    again = run_backup(targets.ready, SessionPool(**POOL), ws, targets.unusable, fingerprint=FP)
    assert again.commit is None and again.count(Change.UNCHANGED) == 3

    # a real change: one commit naming the device, and a diff of just that line
    lab.STATE["s1_extra"] = "logging host 10.0.0.99"
    try:
        third = run_backup(targets.ready, SessionPool(**POOL), ws, targets.unusable, fingerprint=FP)
    finally:
        lab.STATE["s1_extra"] = ""
    assert third.commit and [d.device for d in third.devices if d.change == Change.CHANGED] == ["s1-sw"]
    assert "changed: s1-sw" in third.message
    diff = store.diff("s1-sw")
    assert "+logging host 10.0.0.99" in diff.diff and diff.from_commit == report.commit
    assert store.diff("pop1-dist").from_commit is None  # only one version: diff from nothing
    assert len(store.history("s1-sw")) == 2
    log = subprocess.run(["git", "-C", str(store.root), "log", "--format=%s"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(log) == 2

    # the state the exporter reads: one age per backed-up device, ok flags for all
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(ws))
    text = generate_latest(registry).decode()
    assert 'netops_config_backup_age_seconds{device="s1-sw"}' in text
    assert 'netops_config_backup_age_seconds{device="s3-sw"}' not in text  # never succeeded
    assert 'netops_config_backup_last_attempt_success{device="s3-sw",status="timeout"} 0.0' in text


def test_live_audit_finds_the_planted_violations(fleet, address_map, lab_engine, secrets, tmp_path):
    rules = load_rules()
    targets = targets_for(lab_engine, secrets, address_map, names=("pop1-dist", "s1-sw", "k1-sw", "s4-sw"))
    report = audit_live(targets, SessionPool(**POOL), rules)
    by = {d.device: d for d in report.devices}

    # the distribution switch meets the whole baseline but the access-port rules (not its role)
    applicable = [r.id for r in rules if r.applies_to("cisco_ios", "distribution_switch", "core")]
    assert by["pop1-dist"].failures == [] and len(by["pop1-dist"].results) == len(applicable) >= 25
    s1_failed = {r.rule_id for r in by["s1-sw"].failures}
    # it violates every rule but one: it has no SNMPv3 group at all, so no weak one
    assert {r.rule_id for r in by["s1-sw"].results} - s1_failed == {"ios-snmp-v3-no-weak-groups"}
    assert {"ios-vty-ssh-only", "ios-ssh-v2", "ios-no-http-server", "ios-snmp-v3-only", "ios-aaa-new-model",
            "ios-vty-access-class", "ios-no-smart-install", "ios-bpdu-guard", "ios-dhcp-snooping",
            "ios-unused-access-ports-shutdown"} <= s1_failed
    unused = next(r for r in by["s1-sw"].results if r.rule_id == "ios-unused-access-ports-shutdown")
    assert unused.evidence == ("interface GigabitEthernet1/0/1: missing /^shutdown$/",)
    k1_failed = {r.rule_id for r in by["k1-sw"].failures}
    assert k1_failed == {"procurve-snmp-v3-only", "procurve-ntp-two-servers", "procurve-unused-ports-disabled",
                         "procurve-authorized-managers", "procurve-aaa-login-central", "procurve-aaa-accounting",
                         "procurve-bpdu-protection", "procurve-dhcp-snooping", "procurve-arp-protect",
                         "procurve-storm-control"}
    assert by["s4-sw"].status == AccessStatus.UNREACHABLE and by["s4-sw"].results == ()
    assert report.fails_at(Severity.CRITICAL) and report.worst() == Severity.CRITICAL
    counts = report.rule_counts()
    assert counts["ios-ssh-v2"]["compliant"] == 1 and counts["ios-ssh-v2"]["noncompliant"] == 1

    ws = Workspace(tmp_path / "ws")
    record_audit(ws, report)
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(ws))
    text = generate_latest(registry).decode()
    assert ('netops_config_compliance_devices{result="noncompliant",rule="ios-ssh-v2",'
            'severity="critical",source="running"} 1.0') in text


def test_store_audit_matches_live_audit(fleet, address_map, lab_engine, secrets, tmp_path):
    ws = Workspace(tmp_path / "ws")
    targets = targets_for(lab_engine, secrets, address_map, names=("s1-sw", "k1-sw"))
    run_backup(targets.ready, SessionPool(**POOL), ws, fingerprint=FP)
    rules = load_rules()
    stored = audit_store(list(targets.devices.values()), ws.store(), rules)
    live = audit_live(targets, SessionPool(**POOL), rules, fingerprint=FP)
    assert [d.as_dict() for d in stored.devices] == [d.as_dict() for d in live.devices]


def test_lldp_verify_reports_missing_mispatched_unexpected(fleet, address_map, lab_engine, secrets, tmp_path):
    targets = targets_for(lab_engine, secrets, address_map)
    with session_scope(lab_engine) as session:
        links = documented_links(session, [t.name for t in targets.ready])
    report = verify(links, targets, SessionPool(**POOL))
    found = {(f.device, f.kind, f.local_interface) for f in report.findings}
    assert found == {
        ("pop1-dist", MismatchKind.MISPATCHED, "GigabitEthernet1/0/2"),   # k1-sw seen on Gi1/0/3
        ("pop1-dist", MismatchKind.MISSING, "GigabitEthernet1/0/4"),      # s2-sw not seen
        ("pop1-dist", MismatchKind.UNEXPECTED, "GigabitEthernet1/0/10"),  # rogue-ap
        ("k1-sw", MismatchKind.MISPATCHED, "49"),                          # far end on Gi1/0/3
    }
    by = {d.device: d for d in report.devices}
    assert by["s1-sw"].status == AccessStatus.OK and by["s1-sw"].findings == ()
    assert by["pop1-dist"].neighbours == 3  # LLDP and CDP (FQDN) entries for s1-sw merged
    assert by["s2-sw"].status == AccessStatus.AUTH_FAILED and by["s3-sw"].status == AccessStatus.TIMEOUT
    assert report.counts() == {"missing": 1, "mispatched": 2, "unexpected": 1}

    ws = Workspace(tmp_path / "ws")
    record_lldp(ws, report)
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(ws))
    text = generate_latest(registry).decode()
    assert 'netops_lldp_mismatches{kind="mispatched"} 2.0' in text
