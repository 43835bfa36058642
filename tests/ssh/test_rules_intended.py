"""Rules as data, the evaluator, and intended configs of planned devices (no SSH)."""

from __future__ import annotations

import pytest

from configs.audit import Compliance, audit_config
from configs.intended import audit_intended, load_baseline, ports_of, render
from configs.rules import load_rules
from configs.targets import DeviceFilter, select_devices
from inventory.models import Device, Interface, Link, Plan, Site
from netops.db import session_scope
from netops.errors import InputError


def test_builtin_rules_cover_the_baseline_on_two_platforms():
    rules = {r.id: r for r in load_rules()}
    for topic in ("vty-ssh-only", "ssh-v2", "no-http-server", "snmp-v3-only", "ntp-two-servers",
                  "logging-host", "exec-timeout", "login-banner", "enable-secret", "password-encryption",
                  "unused-access-ports-shutdown"):
        assert f"ios-{topic}" in rules
    assert sum(1 for r in rules.values() if "hp_procurve" in r.platforms) == 18


def test_users_add_and_override_rules_without_code(tmp_path):
    (tmp_path / "site.yaml").write_text(
        "rules:\n"
        "  - id: ios-login-banner\n    title: Banner (tuned)\n    severity: critical\n"
        "    platforms: [cisco_ios]\n    check:\n      require: ['^banner login ']\n"
        "  - id: gk-no-cdp\n    title: CDP off on school switches\n    severity: low\n"
        "    platforms: [cisco_ios]\n    site_kinds: [school]\n    check:\n      require: ['^no cdp run$']\n"
    )
    rules = {r.id: r for r in load_rules([tmp_path])}
    assert rules["ios-login-banner"].severity == "critical"
    config = "hostname x\nbanner motd ^Chi^C\n"
    school = audit_config("x", "cisco_ios", "access_switch", "school", config, list(rules.values()))
    kita = audit_config("x", "cisco_ios", "access_switch", "kindergarten", config, list(rules.values()))
    assert {r.rule_id: r.status for r in school.results}["gk-no-cdp"] == Compliance.NONCOMPLIANT
    assert "gk-no-cdp" not in {r.rule_id for r in kita.results}
    assert {r.rule_id: r.status for r in school.results}["ios-login-banner"] == Compliance.NONCOMPLIANT


def test_bad_rule_files_are_rejected_with_file_line_field_value(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "rules:\n"
        "  - id: ok-rule\n    title: fine\n    severity: low\n    platforms: [cisco_ios]\n"
        "    check: {require: ['^x']}\n"
        "  - id: broken\n    title: bad regex\n    severity: urgent\n    platforms: [cisco_ios]\n"
        "    check: {forbid: ['(unclosed']}\n"
    )
    with pytest.raises(InputError) as err:
        load_rules([tmp_path])
    text = [str(p) for p in err.value.problems]
    assert any("bad.yaml: row 7: field 'severity': value 'urgent'" in t for t in text)
    assert any("field 'check.forbid'" in t and "(unclosed" in t and "regular expression" in t for t in text)


def _planned_inventory(session):
    pop = Site(code="POP9", name="PoP 9", kind="core", source="test")
    kita = Site(code="KITA-NEU", name="Kita Neu", kind="kindergarten", source="plan", status="planned")
    session.add_all([pop, kita])
    plan = Plan(name="connect KITA-NEU", kind="connect")
    session.add(plan)
    session.flush()
    dist = Device(name="pop9-dist", site_id=pop.id, role="distribution_switch", platform="cisco_ios", source="test")
    ios = Device(name="kita-neu-sw", site_id=kita.id, role="access_switch", platform="cisco_ios",
                 status="planned", source="plan", plan_id=plan.id)
    hp = Device(name="kita-neu-sw2", site_id=kita.id, role="access_switch", platform="hp_procurve",
                status="planned", source="plan", plan_id=plan.id)
    session.add_all([dist, ios, hp])
    session.flush()
    ifaces = [Interface(device_id=dist.id, name="TenGigabitEthernet1/1/1", kind="fibre"),
              Interface(device_id=ios.id, name="GigabitEthernet1/0/49", kind="fibre"),
              Interface(device_id=ios.id, name="GigabitEthernet1/0/1", kind="copper"),
              Interface(device_id=hp.id, name="49", kind="fibre"),
              Interface(device_id=hp.id, name="1", kind="copper")]
    session.add_all(ifaces)
    session.flush()
    session.add(Link(code="PL1", a_interface_id=ifaces[0].id, b_interface_id=ifaces[1].id, medium="fibre",
                     status="planned", source="plan", plan_id=plan.id))
    return ios


def test_intended_configs_of_planned_devices_are_compliant(engine):
    rules = load_rules()
    with session_scope(engine) as session:
        ios = _planned_inventory(session)
        session.flush()
        report = audit_intended(session, DeviceFilter(), rules)
        ports = ports_of(session, ios.id)
    assert [d.device for d in report.devices] == ["kita-neu-sw", "kita-neu-sw2"]  # planned only
    for device in report.devices:
        assert device.results and device.failures == [], device.failures
    assert {p.name: p.peer for p in ports} == {"GigabitEthernet1/0/1": None,
                                               "GigabitEthernet1/0/49": "pop9-dist TenGigabitEthernet1/1/1"}


def test_intended_audit_catches_a_bad_baseline(engine):
    baseline = {**load_baseline(), "ntp_servers": ["10.255.0.1"]}
    with session_scope(engine) as session:
        _planned_inventory(session)
        session.flush()
        report = audit_intended(session, DeviceFilter(sites=("KITA-NEU",)), load_rules(), baseline)
    failed = {(d.device, r.rule_id) for d in report.devices for r in d.failures}
    assert failed == {("kita-neu-sw", "ios-ntp-two-servers"), ("kita-neu-sw2", "procurve-ntp-two-servers")}


def test_render_names_the_device_and_its_uplink(engine):
    with session_scope(engine) as session:
        ios = _planned_inventory(session)
        session.flush()
        [device] = [d for d in select_devices(session, DeviceFilter(status="planned")) if d.id == ios.id]
        text = render(device, ports_of(session, ios.id), load_baseline())
    assert "hostname kita-neu-sw\n" in text
    assert "interface GigabitEthernet1/0/49\n description uplink to pop9-dist TenGigabitEthernet1/1/1" in text


def test_remediation_plan_fixes_what_rules_can_fix_and_lists_the_rest():
    from configs.audit import AuditReport
    from configs.remediate import plan
    from tests.ssh.lab import S1_CONFIG
    from configs.scrub import scrub_config

    rules = load_rules()
    config = scrub_config(S1_CONFIG.format(extra="")).text
    report = AuditReport([audit_config("s1-sw", "cisco_ios", "access_switch", "school", config, rules)])
    [p] = plan(report, rules)
    text = "\n".join(p.lines)
    # each failing block once, with the fixes of every rule that failed in it
    assert "line vty 0 4\n transport input ssh\n access-class MGMT-ACCESS in\n" in text
    assert p.lines.count("line vty 0 4") == 1
    assert "interface GigabitEthernet1/0/1\n shutdown\n spanning-tree bpduguard enable\n" in text
    # the documented (printer) port stays up, but gets the access-port protections
    assert "interface GigabitEthernet1/0/2\n spanning-tree bpduguard enable\n storm-control" in text
    assert "no ip http server" in p.lines and "service password-encryption" in p.lines
    assert "ip dhcp snooping vlan 1" in p.lines and "aaa new-model" in p.lines
    assert p.lines.index("aaa new-model") < p.lines.index("line vty 0 4")  # globals before blocks
    assert set(p.manual_rules) == {"ios-snmp-v3-only", "ios-ntp-two-servers", "ios-logging-host",
                                   "ios-enable-secret", "ios-ntp-server-keys"}


def test_device_selection_and_documented_links_on_both_backends(engine):
    from configs.lldp import documented_links
    from tests.ssh import lab

    with session_scope(engine) as session:
        lab.build_inventory(session)
    with session_scope(engine) as session:
        names = lambda **f: [d.name for d in select_devices(session, DeviceFilter(**f))]  # noqa: E731
        assert names(kinds=("school",)) == ["s1-sw", "s2-sw", "s3-sw", "s4-sw"]
        assert names(districts=("Buer",), roles=("access_switch",)) == ["k1-sw", "s1-sw"]
        assert names(sites=("POP1",)) == ["pop1-dist"]
        assert names(status="planned") == []
        links = documented_links(session, ["pop1-dist", "k1-sw"])
    assert [(l.local_interface, l.remote_device, l.remote_interface) for l in links["k1-sw"]] == \
        [("49", "pop1-dist", "GigabitEthernet1/0/2")]
    assert sorted(l.remote_device for l in links["pop1-dist"]) == ["k1-sw", "s1-sw", "s2-sw"]
