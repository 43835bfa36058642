"""The CIS/BSI access-switch baseline: every rule fires on a violating config, stays quiet
on a compliant one, and its `fix` lines, applied, make the violation go away."""

from __future__ import annotations

import pytest

from configs.audit import AuditReport, Compliance, audit_config
from configs.remediate import plan
from configs.rules import load_rules, parse_severity
from topology.findings import Severity

RULES = load_rules()
BY_ID = {r.id: r for r in RULES}
PLATFORM_ROLE = {"ios": ("cisco_ios", "access_switch"), "procurve": ("hp_procurve", "access_switch"),
                 "junos": ("juniper_junos", "core_router")}

ACCESS_PORT = "interface GigabitEthernet1/0/1\n switchport mode access\n"

# rule id: (violating config, compliant config)
CASES: dict[str, tuple[str, str]] = {
    # Cisco IOS
    "ios-vty-access-class": ("line vty 0 4\n transport input ssh\n",
                             "line vty 0 4\n access-class MGMT-ACCESS in\n transport input ssh\n"),
    "ios-ssh-timeout-retries": ("ip ssh time-out 120\nip ssh authentication-retries 3\n",
                                "ip ssh time-out 60\nip ssh authentication-retries 3\n"),
    "ios-exec-timeout": ("line con 0\n exec-timeout 30 0\nline vty 0 4\n exec-timeout 5 0\n",
                         "line con 0\nline vty 0 4\n exec-timeout 5 0\n"),
    "ios-login-block-for": ("hostname sw\n", "login block-for 120 attempts 5 within 60\n"),
    "ios-aaa-new-model": ("no aaa new-model\n", "aaa new-model\n"),
    "ios-aaa-login-central": ("aaa new-model\naaa authentication login default local\n",
                              "aaa new-model\naaa authentication login default group tacacs+ local\n"),
    "ios-aaa-accounting": ("aaa accounting exec default start-stop group tacacs+\n",
                           "aaa accounting exec default start-stop group tacacs+\n"
                           "aaa accounting commands 15 default start-stop group CITY\n"),
    "ios-no-smart-install": ("hostname sw\n", "no vstack\n"),
    "ios-no-source-route": ("ip source-route\n", "no ip source-route\n"),
    "ios-no-service-pad": ("service pad\n", "no service pad\n"),
    "ios-no-bootp-server": ("hostname sw\n", "no ip bootp server\n"),
    "ios-snmp-v3-priv-acl": ("snmp-server group NETOPS v3 priv\n",
                             "snmp-server group NETOPS v3 priv access SNMP-MGMT\n"),
    "ios-snmp-v3-no-weak-groups": ("snmp-server group NETOPS v3 priv access SNMP-MGMT\nsnmp-server group MON v3 auth\n",
                                   "snmp-server group NETOPS v3 priv access SNMP-MGMT\n"),
    "ios-ntp-authenticate": ("ntp server 10.0.0.1 key 1\n", "ntp authenticate\n"),
    "ios-ntp-server-keys": ("ntp authentication-key 1 md5 <removed> 7\nntp trusted-key 1\n"
                            "ntp server 10.0.0.1 key 1\nntp server 10.0.0.2\n",
                            "ntp authentication-key 1 md5 <removed> 7\nntp trusted-key 1\n"
                            "ntp server 10.0.0.1 key 1\nntp server 10.0.0.2 key 1 prefer\n"),
    "ios-logging-buffered": ("logging host 10.0.0.5\n", "logging buffered 64000\n"),
    "ios-service-timestamps": ("service timestamps debug datetime msec\nservice timestamps log uptime\n",
                               "service timestamps debug datetime msec\nservice timestamps log datetime msec\n"),
    "ios-archive-log-config": ("archive\n path flash:cfg\n", "archive\n log config\n  logging enable\n"),
    "ios-bpdu-guard": (ACCESS_PORT, ACCESS_PORT + " spanning-tree bpduguard enable\n"),
    "ios-storm-control": (ACCESS_PORT, ACCESS_PORT + " storm-control broadcast level 1.00\n"),
    "ios-dhcp-snooping": ("ip dhcp snooping\nip dhcp snooping vlan 10\n" + ACCESS_PORT + " switchport access vlan 20\n",
                          "ip dhcp snooping\nip dhcp snooping vlan 10-20\n" + ACCESS_PORT + " switchport access vlan 20\n"),
    "ios-arp-inspection": ("ip arp inspection vlan 10\n" + ACCESS_PORT,
                           "ip arp inspection vlan 1,10\n" + ACCESS_PORT),
    "ios-uplinks-trusted": ("interface Gi1/0/49\n switchport mode trunk\n ip dhcp snooping trust\n",
                            "interface Gi1/0/49\n switchport mode trunk\n ip dhcp snooping trust\n"
                            " ip arp inspection trust\n"),
    # HP ProCurve / ArubaOS-Switch
    "procurve-authorized-managers": ("ip ssh\n", "ip authorized-managers 10.255.0.0 255.255.0.0 access manager\n"),
    "procurve-aaa-login-central": ("aaa authentication ssh login local\n", "aaa authentication ssh login tacacs local\n"),
    "procurve-aaa-accounting": ("aaa accounting exec start-stop tacacs\n",
                                "aaa accounting exec start-stop tacacs\naaa accounting commands stop-only tacacs\n"),
    "procurve-bpdu-protection": ('interface 1\n   name "classroom"\n   exit\n',
                                 'interface 1\n   name "classroom"\n   spanning-tree bpdu-protection\n   exit\n'),
    "procurve-dhcp-snooping": ("dhcp-snooping\n", "dhcp-snooping\ndhcp-snooping vlan 10 20\n"),
    "procurve-arp-protect": ("arp-protect\n", "arp-protect\narp-protect vlan 10 20\n"),
    "procurve-storm-control": ('interface 1\n   name "classroom"\n   exit\n',
                               'interface 1\n   name "classroom"\n   rate-limit bcast in percent 5\n   exit\n'
                               'interface 49\n   name "uplink to pop"\n   exit\ninterface 2\n   disable\n   exit\n'),
    # Junos
    "junos-aaa-central": ("set system authentication-order password\n",
                          "set system authentication-order [ tacplus password ]\n"),
    "junos-aaa-servers": ("set system authentication-order [ tacplus password ]\n",
                          'set system tacplus-server 10.255.0.21 secret "<removed>"\n'),
    "junos-accounting": ("set system accounting destination tacplus\n",
                         "set system accounting events [ login interactive-commands ]\n"
                         "set system accounting destination tacplus\n"),
    "junos-ssh-no-root-login": ("set system services ssh root-login allow\n", "set system services ssh root-login deny\n"),
    "junos-login-retry": ("set system login retry-options tries-before-disconnect 10\n",
                          "set system login retry-options tries-before-disconnect 3\n"
                          "set system login retry-options lockout-period 5\n"),
    "junos-ssh-rate-limit": ("set system services ssh connection-limit 10\n",
                             "set system services ssh connection-limit 10\nset system services ssh rate-limit 4\n"),
    "junos-mgmt-filter": ("set interfaces lo0 unit 0 family inet address 10.0.0.1/32\n",
                          "set interfaces lo0 unit 0 family inet filter input PROTECT-RE\n"),
    "junos-ntp-authentication": ("set system ntp server 10.0.0.1\n",
                                 'set system ntp authentication-key 1 type sha256 value "<removed>"\n'
                                 "set system ntp trusted-key 1\nset system ntp server 10.0.0.1 key 1\n"),
    "junos-snmp-v3-privacy": ("set snmp v3 vacm access group NETOPS default-context-prefix security-model usm "
                              "security-level authentication read-view all\n",
                              "set snmp v3 vacm access group NETOPS default-context-prefix security-model usm "
                              "security-level privacy read-view all\n"),
    "junos-change-log": ("set system syslog file messages any notice\n",
                         "set system syslog file interactive-commands interactive-commands any\n"),
    "junos-syslog-time-format": ("set system syslog host 10.0.0.5 any notice\n",
                                 "set system syslog time-format year millisecond\n"),
}


def _platform_role(rule_id: str) -> tuple[str, str]:
    return PLATFORM_ROLE[rule_id.split("-")[0]]


def _status(rule_id: str, config: str):
    platform, role = _platform_role(rule_id)
    audit = audit_config("sw", platform, role, "school", config, RULES)
    return {r.rule_id: r for r in audit.results}[rule_id]


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_violation_and_is_quiet_on_compliance(rule_id):
    violating, compliant = CASES[rule_id]
    bad = _status(rule_id, violating)
    assert bad.status == Compliance.NONCOMPLIANT and bad.evidence, bad
    good = _status(rule_id, compliant)
    assert good.status == Compliance.COMPLIANT, good


def _setting(line: str) -> str | None:
    """What a line sets, for lines whose value is a number (``exec-timeout 10 0`` sets
    ``exec-timeout``): pasting such a line replaces the old value, as a device does."""
    words = line.split()
    for i, word in enumerate(words):
        if any(c.isdigit() for c in word):
            return " ".join(words[:i]) if i else None
    return None


def _apply(config: str, lines: list[str]) -> str:
    """Paste remediation lines the way a device merges them: indented lines after a
    header that already exists go into that block; everything else is appended; a line
    setting a value replaces the old value in the same place."""
    out = config.splitlines()

    def place(line: str, start: int, end: int) -> None:
        key = _setting(line.strip())
        same = [i for i in range(start, end) if key and _setting(out[i].strip()) == key
                and out[i].startswith(" ") == line.startswith(" ")]
        if same:
            out[same[0]] = line
        else:
            out.insert(end, line)

    header = None
    for line in lines:
        if not line.startswith(" "):
            header = line if line in out else None
            if header is None:
                place(line, 0, len(out))
        elif header is not None:
            start = out.index(header) + 1
            end = start
            while end < len(out) and out[end].startswith(" "):
                end += 1
            place(line, start, end)
        else:
            out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("rule_id", sorted(r for r in CASES if BY_ID[r].fix))
def test_fix_lines_repair_the_violation(rule_id):
    violating, _ = CASES[rule_id]
    platform, role = _platform_role(rule_id)
    report = AuditReport([audit_config("sw", platform, role, "school", violating, RULES)])
    [device_plan] = plan(report, RULES)
    assert rule_id in device_plan.fixed_rules
    assert not any("{vlans}" in line for line in device_plan.lines)
    assert _status(rule_id, _apply(violating, device_plan.lines)).status == Compliance.COMPLIANT


def test_vlan_coverage_names_the_missing_vlans_in_evidence_and_fix():
    violating, _ = CASES["ios-dhcp-snooping"]
    result = _status("ios-dhcp-snooping", violating)
    assert result.uncovered_vlans == (20,)
    assert "access VLAN 20 (interface GigabitEthernet1/0/1...)" in result.evidence[0]
    [device_plan] = plan(AuditReport([audit_config("sw", "cisco_ios", "access_switch", "school", violating,
                                                   [BY_ID["ios-dhcp-snooping"]])]), RULES)
    assert device_plan.lines == ["ip dhcp snooping vlan 20", "ip dhcp snooping"]
    # a shut port does not count; a port without `switchport access vlan` is in VLAN 1
    parked = "ip dhcp snooping\nip dhcp snooping vlan 10\n" + ACCESS_PORT + " shutdown\n"
    assert _status("ios-dhcp-snooping", parked).status == Compliance.COMPLIANT
    assert _status("ios-arp-inspection", "ip arp inspection vlan 10\n" + ACCESS_PORT).uncovered_vlans == (1,)


def test_bpdu_guard_global_default_needs_portfast_default_too():
    only_guard = "spanning-tree portfast bpduguard default\n" + ACCESS_PORT
    both = "spanning-tree portfast default\nspanning-tree portfast bpduguard default\n" + ACCESS_PORT
    assert _status("ios-bpdu-guard", only_guard).status == Compliance.NONCOMPLIANT
    assert _status("ios-bpdu-guard", both).status == Compliance.COMPLIANT


def test_hidden_ios_defaults_are_read_as_the_defaults():
    """IOS leaves defaults out of the running config: exec-timeout 10 min, 3 SSH retries."""
    assert _status("ios-exec-timeout", "line vty 0 4\n transport input ssh\n").status == Compliance.COMPLIANT
    assert _status("ios-exec-timeout", "line vty 0 4\n exec-timeout 0 0\n").status == Compliance.NONCOMPLIANT
    assert _status("ios-exec-timeout", "line vty 0 4\n exec-timeout 0\n").status == Compliance.NONCOMPLIANT
    assert _status("ios-ssh-timeout-retries", "ip ssh time-out 60\n").status == Compliance.COMPLIANT
    assert _status("ios-ssh-timeout-retries",
                   "ip ssh time-out 60\nip ssh authentication-retries 5\n").status == Compliance.NONCOMPLIANT


def test_procurve_bpdu_protection_accepts_a_global_port_list():
    in_use = 'interface 1\n   name "classroom"\n   exit\ninterface 49\n   name "uplink to pop"\n   exit\n'
    assert _status("procurve-bpdu-protection", in_use).status == Compliance.NONCOMPLIANT
    assert _status("procurve-bpdu-protection", "spanning-tree 1-48 bpdu-protection\n" + in_use).status == \
        Compliance.COMPLIANT


def test_snmp_groups_without_priv_or_acl_fail_even_next_to_a_good_one():
    good = "snmp-server group NETOPS v3 priv access SNMP-MGMT\n"
    for extra in ("snmp-server group MON v3 auth access SNMP-MGMT\n", "snmp-server group MON v3 priv\n"):
        assert _status("ios-snmp-v3-priv-acl", good + extra).status == Compliance.COMPLIANT
        result = _status("ios-snmp-v3-no-weak-groups", good + extra)
        assert result.status == Compliance.NONCOMPLIANT and extra.strip() in result.evidence[0]


def test_every_rule_names_its_source_and_uses_the_audit_scale():
    for rule in RULES:
        assert rule.reference and ("BSI" in rule.reference or "CIS" in rule.reference), rule.id
        assert rule.severity in set(Severity), rule.id
    for topic in ("aaa-new-model", "aaa-login-central", "vty-access-class", "no-smart-install", "no-source-route",
                  "no-service-pad", "bpdu-guard", "login-block-for", "ssh-timeout-retries", "service-timestamps",
                  "logging-buffered", "no-bootp-server", "dhcp-snooping", "arp-inspection", "storm-control",
                  "snmp-v3-priv-acl", "ntp-authenticate", "archive-log-config"):
        assert f"ios-{topic}" in CASES
    assert {"procurve-authorized-managers", "procurve-bpdu-protection", "procurve-aaa-login-central"} <= set(CASES)


def test_old_severity_words_still_load_and_unknown_ones_are_refused(tmp_path):
    assert [parse_severity(w) for w in ("high", "MEDIUM", "low", "critical")] == \
        [Severity.CRITICAL, Severity.WARNING, Severity.INFO, Severity.CRITICAL]
    with pytest.raises(ValueError, match="use critical, warning or info"):
        parse_severity("urgent")
    (tmp_path / "old.yaml").write_text(
        "rules:\n  - id: gk-old\n    title: old words\n    severity: medium\n    platforms: [cisco_ios]\n"
        "    check: {require: ['^x']}\n")
    assert {r.id: r.severity for r in load_rules([tmp_path])}["gk-old"] == Severity.WARNING
