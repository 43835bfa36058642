"""netops against devices whose configs and neighbour tables it never wrote.

Real SSH devices (fakenos on loopback) answer with what netops meets on a bad day:
vendors' neighbour tables from ntc-templates' test data (``tests/ssh/foreign/``, sources
in its README), pager prompts, other vendors' error messages, a banner that quotes
config lines or the device's own prompt, a Junos hierarchy where set lines are expected,
CRLF line ends, a config of about a megabyte, a platform without LLDP support. Each
case asks the CLI the operator's question and holds netops to the truth:

* never a lie: a config netops cannot read is not audited (status ``parse_error``,
  exit 3), never reported compliant; an incomplete answer is not stored as a backup;
  a device whose neighbours are not read shows as failed, never as matching;
* never a leak: planted secrets appear in no output and in no stored file;
* never a crash: every run ends with its documented exit code and JSON.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from cli import app
from configs.audit import audit_config, audit_device_config, unreadable
from configs.rules import load_rules
from configs.store import file_name
from configs.targets import InventoryDevice
from inventory.models import Device, Interface, Link, Site, SshProfile
from tests.ssh import lab
from tests.support.fakenos_fleet import Fleet, HostSpec

FOREIGN = Path(__file__).parent / "foreign"
USER, PASSWORD = "operator", "Foreign-Ssh-Pw-4410"
PLANTED = ["ForeignPlantedC1", "ForeignPlantedC2", "ForeignPlantedC3", "ForeignPlantedC4", "ForeignPlantedC5",
           PASSWORD]


def corpus(name: str) -> str:
    return (FOREIGN / name).read_text()


def ios_config(name: str, middle: str = "", ssh_v2: bool = True) -> str:
    """A plausible IOS access switch config with ``middle`` in the middle."""
    ports = "\n".join(f"interface GigabitEthernet1/0/{i}\n description Klassenraum {i} (Schüler)\n"
                      f" switchport mode access\n!" for i in range(1, 41))
    return (f"Building configuration...\n\nCurrent configuration : 4711 bytes\n!\nversion 15.2\n"
            f"hostname {name}\n!\n" + ("ip ssh version 2\n" if ssh_v2 else "") +
            f"no ip http server\n{ports}\n{middle}\n"
            "snmp-server community ForeignPlantedC1 RO\n!\nline vty 0 4\n transport input ssh\n!\nend")


HUGE_ACLS = "\n".join(f"ip access-list extended SCHOOL-{i}\n permit tcp any host 10.{i % 250}.1.1 eq 443"
                      for i in range(16000))
JUNOS_HIERARCHY = """## Last commit: 2026-11-20 10:00:00 UTC by admin
system {
    host-name x-curly;
    services {
        ssh;
        telnet;
    }
}"""

# name -> (fakenos platform, netops platform, commands)
DEVICES: dict[str, tuple[str, str, dict]] = {
    # pager left on: the answer is the first page and a --More-- prompt
    "x-paged": ("cisco_ios", "cisco_ios", {"show running-config": {
        "output": ios_config("x-paged").replace("no ip http server\n", "no ip http server\n --More-- ")}}),
    # NX-OS (or a box mislabelled cisco_ios) rejecting the command
    "x-nxos": ("cisco_ios", "cisco_ios", {"show running-config": {
        "output": "                    ^\n% Invalid command at '^' marker."}}),
    # Huawei's rejection, two lines with a caret
    "x-olt": ("huawei_smartax", "huawei_olt", {"display current-configuration": {
        "output": "                                  ^\nError: Unrecognized command found at '^' position."}}),
    # the device's own prompt inside a banner: a reader that stops at the prompt truncates
    "x-prompt": ("cisco_ios", "cisco_ios", {"show running-config": {
        "output": ios_config("x-prompt", HUGE_ACLS[:60_000] + "\nbanner exec ^C\nYou are on x-prompt#\n^C")}}),
    # a banner quoting the line a rule asks for; the real line is absent
    "x-banner": ("cisco_ios", "cisco_ios", {
        "show running-config": {"output": ios_config(
            "x-banner", "banner motd ^C\nThis switch runs\nip ssh version 2\nonly.\n^C", ssh_v2=False)},
        "show lldp neighbors detail": {"output": corpus("ios-lldp-detail-phone.txt")},
        "show cdp neighbors detail": {"output": ""}}),
    "x-crlf": ("cisco_ios", "cisco_ios", {"show running-config": {
        "output": ios_config("x-crlf", "enable secret 0 ForeignPlantedC2").replace("\n", "\r\n")}}),
    "x-huge": ("cisco_ios", "cisco_ios", {"show running-config": {
        "output": ios_config("x-huge", HUGE_ACLS + "\nusername u secret 0 ForeignPlantedC3")}}),
    # Junos answering in hierarchy format (with telnet on) where set lines are expected
    "x-curly": ("juniper_junos", "juniper_junos", {"show configuration | display set": {"output": JUNOS_HIERARCHY}}),
    # a whole lab router config from Batfish's example network, as it was
    "x-batfish": ("cisco_ios", "cisco_ios", {"show running-config": {"output": corpus("batfish-ios-as2dist2.cfg")}}),
    "x-empty": ("cisco_ios", "cisco_ios", {"show running-config": {
        "output": "Building configuration...\n\nCurrent configuration : 0 bytes\n!\nend"}}),
    # LLDP on, nobody seen; CDP shows nothing either
    "x-zero": ("cisco_ios", "cisco_ios", {"show lldp neighbors detail": {"output": "\nTotal entries displayed: 0\n"},
                                          "show cdp neighbors detail": {"output": ""}}),
    # CDP only (LLDP switched off); ports abbreviated differently from the inventory
    "x-cdp": ("cisco_ios", "cisco_ios", {"show lldp neighbors detail": {"output": "% LLDP is not enabled"},
                                         "show cdp neighbors detail": {"output": corpus("ios-cdp-detail.txt")}}),
    # the same neighbour twice over LLDP and again over CDP (with a domain)
    "x-dup": ("cisco_ios", "cisco_ios", {
        "show lldp neighbors detail": {"output": lab.ios_lldp([("Gi1/0/1", "x-crlf", "Gi1/0/2")] * 2)},
        "show cdp neighbors detail": {"output": lab.ios_cdp([("GigabitEthernet1/0/1", "x-crlf.schulen.example.org",
                                                              "GigabitEthernet1/0/2")])}}),
    # answers that are not neighbour tables (a session out of step, a device's own error),
    # holding config lines with secrets: not parsed, and not quoted raw in the error
    "x-garbled": ("cisco_ios", "cisco_ios", {
        "show lldp neighbors detail": {"output": lab.ios_lldp([("Gi1/0/1", "x-crlf", "Gi1/0/2")]).replace(
            "Chassis id:", "snmp-server community ForeignPlantedC4 RO\nChassis id:")},
        "show cdp neighbors detail": {"output": ""}}),
    "x-notcdp": ("cisco_ios", "cisco_ios", {
        "show lldp neighbors detail": {"output": "% LLDP is not enabled"},
        "show cdp neighbors detail": {"output": "enable secret 0 ForeignPlantedC5\nline vty 0 4"}}),
    "x-procurve": ("hp_procurve", "hp_procurve", {
        "show lldp info remote-device detail": {"output": corpus("procurve-lldp-detail.txt")}}),
    "x-junos": ("juniper_junos", "juniper_junos", {"show lldp neighbors": {"output": corpus("junos-lldp-neighbors.txt")}}),
}
# documented links: (device, port as the inventory writes it) <-> (device, port)
LINKS = [
    ("x-zero", "GigabitEthernet1/0/1", "x-banner", "GigabitEthernet1/0/2"),
    ("x-cdp", "Gi0/3", "switchxxxxx", "Gi0/8"),
    ("x-dup", "GigabitEthernet1/0/1", "x-crlf", "GigabitEthernet1/0/2"),
    ("x-procurve", "7", "AH-cust-AP21", "mgt0"),
    ("x-procurve", "3", "switchxxxxx", "Gi0/9"),  # something without a system name is plugged in there
    ("x-junos", "ge-0/0/1", "vmx2", "ge-0/0/1"),
    ("x-olt", "0/9/0", "x-junos", "xe-0/0/3"),
]
NOT_POLLED = ["switchxxxxx", "AH-cust-AP21", "vmx2"]  # documented far ends, no SSH


@pytest.fixture(scope="module")
def foreign_fleet():
    fleet = Fleet({name: HostSpec(nos, USER, PASSWORD, cmds) for name, (nos, _, cmds) in DEVICES.items()}).start()
    yield fleet
    fleet.stop()


def _inventory(session: Session) -> None:
    site = Site(code="X1", name="Schule X", kind="school", district="Buer", source="test")
    session.add(site)
    session.add(SshProfile(name="foreign", username=USER, conn_timeout_s=5, read_timeout_s=20))
    session.flush()
    devices = {}
    platforms = {name: platform for name, (_, platform, _) in DEVICES.items()} | dict.fromkeys(NOT_POLLED, "cisco_ios")
    for i, (name, platform) in enumerate(platforms.items()):
        devices[name] = Device(name=name, site_id=site.id, role="access_switch", platform=platform,
                               mgmt_ip=f"192.0.2.{100 + i}", ssh_profile="foreign", source="test")
        session.add(devices[name])
    session.flush()
    for n, (a, a_port, b, b_port) in enumerate(LINKS):
        ends = [Interface(device_id=devices[d].id, name=p, kind="fibre") for d, p in ((a, a_port), (b, b_port))]
        session.add_all(ends)
        session.flush()
        session.add(Link(code=f"X{n}", a_interface_id=ends[0].id, b_interface_id=ends[1].id, medium="fibre",
                         source="test"))


@pytest.fixture(scope="module")
def env(foreign_fleet, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("foreign")
    return {**lab.cli_workspace(tmp, foreign_fleet.address_map(), _inventory,
                                f'[ssh.foreign]\npassword = "{PASSWORD}"\n'), "repo": tmp / "ws" / "repo"}


def invoke(env, *args):
    """The CLI in-process; no planted secret may be in what it prints (stdout or stderr)."""
    result = CliRunner().invoke(app, list(args), env={k: v for k, v in env.items() if k.startswith("NETOPS_")})
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert not [secret for secret in PLANTED if secret in output], output
    return result, output


def run(env, *args, as_json: bool = True) -> tuple[int, dict | str]:
    result, output = invoke(env, *args, "--address-map", env["addr"], *(["--json"] if as_json else []))
    return result.exit_code, json.loads(result.stdout) if as_json else output


def stored(env, device: str) -> Path:
    return env["repo"] / file_name(device)


def devices_args(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--device", name)]


BACKED_UP = ["x-paged", "x-nxos", "x-olt", "x-prompt", "x-banner", "x-crlf", "x-huge", "x-empty"]


def test_backup_stores_only_whole_configs(env):
    code, body = run(env, "config", "backup", *devices_args(*BACKED_UP))
    status = {d["device"]: d["status"] for d in body["devices"]}
    errors = {d["device"]: d["error"] for d in body["devices"]}
    assert code == 3
    # an incomplete or refused answer is a failed device, not a config
    assert status["x-paged"] == "parse_error" and "paging" in errors["x-paged"]
    assert status["x-nxos"] == "parse_error" and "Invalid command" in errors["x-nxos"]
    assert status["x-olt"] == "parse_error" and "Unrecognized command" in errors["x-olt"]
    for name in ("x-paged", "x-nxos", "x-olt"):
        assert not stored(env, name).exists(), f"{name}: a non-config was stored"
    # the prompt quoted in a banner does not end the read: the whole config is stored
    assert status["x-prompt"] == "ok"
    assert stored(env, "x-prompt").read_text().rstrip().endswith("end")
    crlf = stored(env, "x-crlf").read_text(encoding="utf-8")
    assert status["x-crlf"] == "ok" and "\r" not in crlf and "Schüler" in crlf
    huge = stored(env, "x-huge").read_text()
    assert status["x-huge"] == "ok" and len(huge) > 1_000_000 and huge.rstrip().endswith("end")
    # read again: nothing changed on the devices, nothing changes in the store
    code, again = run(env, "config", "backup", *devices_args("x-crlf", "x-huge", "x-prompt"))
    assert code == 0 and {d["device"]: d["change"] for d in again["devices"]} == dict.fromkeys(
        ["x-crlf", "x-huge", "x-prompt"], "unchanged")


def test_audit_never_calls_an_unreadable_config_compliant(env):
    code, body = run(env, "config", "audit", *devices_args("x-banner", "x-curly", "x-empty", "x-crlf", "x-prompt",
                                                           "x-batfish"))
    by_device = {d["device"]: d for d in body["devices"]}
    assert code == 3  # some configs could not be audited: the audit is incomplete
    ssh_v2 = {r["rule"]: r["status"] for r in by_device["x-banner"]["results"]}["ios-ssh-v2"]
    assert ssh_v2 == "noncompliant"  # the banner's text is not configuration
    for name, says in (("x-curly", "not Junos set format"), ("x-empty", "no hostname line")):
        assert by_device[name]["status"] == "parse_error" and says in by_device[name]["error"], by_device[name]
        assert by_device[name]["results"] == []  # no rule passed on what netops cannot read
    # CRLF line ends read as LF ones
    rules = load_rules()
    lf = audit_config("x-crlf", "cisco_ios", "access_switch", "school",
                      ios_config("x-crlf", "enable secret 0 ForeignPlantedC2"), rules)
    assert {r["rule"]: r["status"] for r in by_device["x-crlf"]["results"]} == {
        r.rule_id: str(r.status) for r in lf.results}
    # a config from elsewhere is read, and what it says is what the audit says
    batfish = {r["rule"]: r["status"] for r in by_device["x-batfish"]["results"]}
    assert by_device["x-batfish"]["status"] == "ok"
    assert {rule: batfish[rule] for rule in ("ios-no-http-server", "ios-service-timestamps", "ios-vty-ssh-only",
                                             "ios-exec-timeout", "ios-aaa-new-model")} == {
        "ios-no-http-server": "compliant", "ios-service-timestamps": "compliant",   # 'no ip http server'
        "ios-vty-ssh-only": "noncompliant", "ios-exec-timeout": "noncompliant",     # vty: 'login' only; 0 0
        "ios-aaa-new-model": "noncompliant"}                                        # 'no aaa new-model'
    # a platform without rules: nothing checked, and said so
    olt = InventoryDevice(1, "olt1", "huawei_olt", "olt", "X1", "school", None, None, None, "active")
    audit = audit_device_config(olt, "sysname olt1\n#\nreturn\n", rules)
    assert audit.results == () and audit.error.startswith("nothing checked")
    # what Junos prints around set lines is no reason to refuse them
    assert unreadable("junos-set", "## Last commit: 2026-11-20\nset system host-name r1\n{master:0}\n") is None
    # the whole of x-prompt was read (its vty line is at the end)
    assert by_device["x-prompt"]["status"] == "ok"
    assert {r["rule"]: r["status"] for r in by_device["x-prompt"]["results"]}["ios-vty-ssh-only"] == "compliant"


def test_lldp_reads_foreign_tables_and_reports_what_it_did_not_read(env):
    polled = ["x-zero", "x-cdp", "x-dup", "x-procurve", "x-junos", "x-olt", "x-garbled", "x-notcdp"]
    code, body = run(env, "lldp", "verify", *devices_args(*polled))
    devices = {d["device"]: d for d in body["devices"]}
    findings = {(f["device"], f["kind"], f["local_interface"]): f for f in body["findings"]}
    assert code == 3  # the OLT's neighbours were not read
    assert set(devices) == set(polled)  # nobody left out silently
    assert devices["x-olt"]["status"] != "ok" and "not verified" in devices["x-olt"]["error"]
    for name in ("x-garbled", "x-notcdp"):  # not read: failed, and no finding made up
        assert devices[name]["status"] == "parse_error", devices[name]
        assert not [f for f in findings if f[0] == name]
    # LLDP on and nobody seen: read, and the documented link is missing
    assert devices["x-zero"]["status"] == "ok" and devices["x-zero"]["neighbours"] == 0
    assert ("x-zero", "missing", "GigabitEthernet1/0/1") in findings
    # CDP only, 'Gi0/3' in the inventory is 'GigabitEthernet0/3' on the device: as documented
    assert devices["x-cdp"]["status"] == "ok" and not [f for f in findings if f[0] == "x-cdp"]
    # the same neighbour three times is one neighbour, as documented
    assert devices["x-dup"]["neighbours"] == 1 and not [f for f in findings if f[0] == "x-dup"]
    # ProCurve: the documented AP is where it should be; the other neighbours are
    # undocumented, named or not (hosts without a system name on ports 25, 29, 37, 42);
    # where a switch is documented, something without a system name is seen
    assert devices["x-procurve"]["status"] == "ok"
    assert {f[1:] for f in findings if f[0] == "x-procurve"} == {
        ("unexpected", "1"), ("unexpected", "36"), ("missing", "3"), ("unexpected", "25"), ("unexpected", "29"),
        ("unexpected", "37"), ("unexpected", "42")}
    assert findings[("x-procurve", "missing", "3")]["observed"] == \
        "unnamed (chassis id 3ce1a1-2218f0, port id 3c e1 a1 22 18 f0)"
    assert all(findings[("x-procurve", "unexpected", port)]["observed"].startswith("unnamed (chassis id ")
               for port in ("25", "29", "37", "42"))
    # Junos: vmx2 as documented, vmx3 on ge-0/0/0 undocumented, the OLT not seen
    assert {k: f["observed"] for k, f in findings.items() if k[0] == "x-junos"} == {
        ("x-junos", "unexpected", "ge-0/0/0"): "vmx3 ge-0/0/0", ("x-junos", "missing", "xe-0/0/3"): None}


def test_remediate_does_not_call_an_unreadable_backup_missing(env):
    code, body = run(env, "config", "backup", *devices_args("x-curly"))
    assert code == 0 and body["devices"][0]["status"] == "ok"  # a config, only not one the rules read
    body = json.loads(invoke(env, "config", "remediate", "--device", "x-curly", "--json")[0].stdout)
    assert body["not_in_store"] == [] and body["plans"] == []
    assert [d["device"] for d in body["not_audited"]] == ["x-curly"]
    assert "not Junos set format" in body["not_audited"][0]["error"]


def test_tables_for_people_say_what_was_not_read(env):
    code, out = run(env, "config", "audit", *devices_args("x-curly", "x-batfish"), as_json=False)
    row = next(line for line in out.splitlines() if "x-curly" in line)  # the cell wraps at 80 columns
    assert code == 3 and "parse_error: config" in row and "Junos set format" in out
    code, out = run(env, "lldp", "verify", *devices_args("x-olt", "x-garbled", "x-zero"), as_json=False)
    flat = " ".join(out.split())
    assert code == 3 and "x-olt: error: no LLDP/CDP command known for platform 'huawei_olt'" in flat
    assert "x-garbled: parse_error: the answer does not read as the table its template expects" in flat


def test_nothing_planted_reaches_the_store(env):
    code, body = run(env, "config", "backup", *devices_args("x-crlf", "x-huge", "x-prompt"))
    assert code == 0
    history = subprocess.run(["git", "-C", str(env["repo"]), "log", "-p", "--all"], capture_output=True,
                             check=True).stdout.decode("utf-8", "replace")
    assert "<secret:hmac-sha256:" in history  # the planted values are there, as markers
    for secret in PLANTED:
        assert secret not in history
