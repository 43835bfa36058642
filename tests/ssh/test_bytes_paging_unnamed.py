"""What session 7's hunt left, against real SSH devices (fakenos on loopback):

* a config with a byte that is not UTF-8 (a Latin-1 description): netmiko dropped the
  byte, so the backup was lossy and its diff lied. Session 8 refused such a device
  (``parse_error``, no backup at all while it had one); since session 9 it is stored byte
  for byte as the device sent it, secrets scrubbed all the same, with one warning per
  device naming the byte, its offset and line (the exit code stays 0: the backup is
  complete); tables, diffs and JSON show the byte as ``\\xNN``, and every reader of the
  store (diff, audit, remediate) reads it;
* a device stuck at ``--More--`` (paging not switched off): it cost a read timeout and
  said only "no answer". Now it fails at once, naming the pager and the command;
* LLDP neighbours without a system name on ports the inventory does not document were
  not reported at all: now each is ``unexpected``, "unnamed" with chassis id and port id.

The devices send the bytes they are given: fakenos encodes its output as strict UTF-8,
so for this module its output tap writes U+DC80..U+DCFF as the raw byte (surrogateescape).
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from typer.testing import CliRunner

from cli import app
from configs.store import file_name
from inventory.models import Device, Interface, Link, Site, SshProfile
from tests.ssh import lab
from tests.support.fakenos_fleet import Fleet, HostSpec

USER, PASSWORD = "operator", "Bytes-Ssh-Pw-8812"
LATIN1_U_UMLAUT = "\udcfc"  # the byte 0xFC ("ü" in Latin-1) as the device sends it
LATIN1_A_UMLAUT = "\udce4"  # 0xE4 ("ä")
STATE = {"description": "Schueler"}


def ios_config(name: str, description: str) -> str:
    return (f"Building configuration...\n\nCurrent configuration : 999 bytes\n!\nversion 15.2\nhostname {name}\n!\n"
            f"interface GigabitEthernet1/0/1\n description {description}\n!\nip ssh version 2\nend")


def latin1_config(*_, **__) -> str:
    """Clean first; then an engineer types a description from a Latin-1 terminal."""
    return ios_config("y-latin1", STATE["description"])


# secrets holding Latin-1 bytes, at their start, inside, at their end, beside a Latin-1 description
SECRETS = {"Gr\udcfcn-Pw-4411": "username admin privilege 15 secret 0 {}",
           "Pw-9921\udcfc": "enable secret 0 {}",
           "\udce4ffentlich-77": "snmp-server community {} RO",
           "T\udcfcr-6613": "tacacs-server key {}"}
SECRET_CONFIG = ios_config("y-secrets", f"Gro{LATIN1_A_UMLAUT}e Halle").replace(
    "ip ssh version 2\n", "ip ssh version 2\n" + "\n".join(line.format(v) for v, line in SECRETS.items()) + "\n")


def stuck_at_pager(*_, **__) -> dict:
    """`terminal length 0` was not honoured: the first page, then the pager waits."""
    first_page = "\n".join(f"interface GigabitEthernet1/0/{i}\n switchport mode access" for i in range(1, 12))
    return {"output": f"Building configuration...\n\nhostname y-stuck\n{first_page}", "new_prompt": " --More-- "}


def ios_lldp_block(local: str, chassis: str, port: str, name: str | None) -> str:
    system_name = "" if name is None else f"System Name: {name}\n"
    return (f"------------------------------------------------\nLocal Intf: {local}\nChassis id: {chassis}\n"
            f"Port id: {port}\nPort Description: eth0\n{system_name}\nSystem Description: \nLinux\n\n"
            f"Time remaining: 100 seconds\nSystem Capabilities: S\nEnabled Capabilities: S\n"
            f"Management Addresses:\n    IP: 192.0.2.9\nVlan ID: - not advertised\n")


NEIGHBOURS = "\n".join([
    ios_lldp_block("Gi1/0/1", "0011.2233.4455", "Gi1/0/2", "y-good"),  # documented
    ios_lldp_block("Gi1/0/7", "00a0.c914.0001", "00a0.c914.0001", None),  # a host, no name, undocumented port
    ios_lldp_block("Gi1/0/1", "aabb.ccdd.eeff", "port 3", None),  # nameless behind the documented link
    ios_lldp_block("Gi1/0/9", "0011.2233.9999", "Gi0/1", f"Sch{LATIN1_U_UMLAUT}le-AP"),  # Latin-1 name
]) + "\n\nTotal entries displayed: 4\n"

DEVICES = {
    "y-good": ("cisco_ios", {"show running-config": {"output": ios_config("y-good", "Straße 7 (Schüler)")}}),
    "y-latin1": ("cisco_ios", {"show running-config": {"output": latin1_config}}),
    "y-secrets": ("cisco_ios", {"show running-config": {"output": SECRET_CONFIG}}),
    "y-stuck": ("cisco_ios", {"show running-config": {"output": stuck_at_pager},
                              "show lldp neighbors detail": {"output": stuck_at_pager}}),
    "y-unnamed": ("cisco_ios", {"show lldp neighbors detail": {"output": NEIGHBOURS},
                                "show cdp neighbors detail": {"output": ""}}),
}


class _RawLine(str):
    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return str.encode(self, encoding, "surrogateescape")


class _RawOutput:
    """The shell's output as fakenos' tap reads it, each line encoded byte for byte."""

    def __init__(self, stdout):
        self._stdout = stdout

    def readline(self):
        line = self._stdout.readline()
        if line is None:
            return None
        return _RawLine(line if "\r\n" in line else line.replace("\n", "\r\n"))  # (the tap's own replace)

    def __getattr__(self, name):
        return getattr(self._stdout, name)


@pytest.fixture(scope="module")
def fleet():
    from fakenos.plugins.servers import ssh_server_paramiko as server

    tap = server.shell_to_channel_tap
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server, "shell_to_channel_tap",
                      lambda channel, stdout, *rest: tap(channel, _RawOutput(stdout), *rest))
        fleet = Fleet({name: HostSpec(nos, USER, PASSWORD, cmds) for name, (nos, cmds) in DEVICES.items()}).start()
        yield fleet
        fleet.stop()


def _inventory(session) -> None:
    site = Site(code="Y1", name="Schule Y", kind="school", district="Buer", source="test")
    session.add(site)
    session.add(SshProfile(name="bytes", username=USER, conn_timeout_s=5, read_timeout_s=20))
    session.flush()
    devices = {name: Device(name=name, site_id=site.id, role="access_switch", platform="cisco_ios",
                            mgmt_ip=f"192.0.2.{50 + i}", ssh_profile="bytes", source="test")
               for i, name in enumerate(DEVICES)}
    session.add_all(devices.values())
    session.flush()
    ends = [Interface(device_id=devices[d].id, name=p, kind="copper")
            for d, p in (("y-unnamed", "GigabitEthernet1/0/1"), ("y-good", "GigabitEthernet1/0/2"))]
    session.add_all(ends)
    session.flush()
    session.add(Link(code="Y0", a_interface_id=ends[0].id, b_interface_id=ends[1].id, medium="copper",
                     source="test"))


@pytest.fixture(scope="module")
def env(fleet, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bytes")
    return {**lab.cli_workspace(tmp, fleet.address_map(), _inventory, f'[ssh.bytes]\npassword = "{PASSWORD}"\n'),
            "repo": tmp / "ws" / "repo"}


def run(env, *args, as_json: bool = True, ssh: bool = True) -> tuple[int, dict | str]:
    """The CLI in-process: never a traceback, and (for --json) one JSON document."""
    where = ["--address-map", env["addr"]] if ssh else []
    result = CliRunner().invoke(app, [*args, *where, *(["--json"] if as_json else [])],
                                env={k: v for k, v in env.items() if k.startswith("NETOPS_")})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    result.stdout_bytes.decode("utf-8")  # strict: what netops prints is UTF-8, JSON included
    assert PASSWORD not in result.output
    return result.exit_code, json.loads(result.stdout) if as_json else result.output


def devices_args(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--device", name)]


def raw(text: str) -> bytes:
    """Text as the device sent it (each U+DCxx the byte xx)."""
    return text.encode("utf-8", "surrogateescape")


def test_a_byte_that_is_not_utf8_is_stored_byte_for_byte_with_one_warning(env, tmp_path):
    """The rule changed in session 9: session 8 refused this device (``parse_error``, exit 3,
    nothing stored); now its config is stored as it came and the run warns once."""
    STATE["description"] = "Schueler"
    code, body = run(env, "config", "backup", *devices_args("y-good", "y-latin1"))
    assert code == 0 and all(d["warning"] is None for d in body["devices"]), body
    # UTF-8 is kept as it came (no character dropped)
    assert "Straße 7 (Schüler)" in (env["repo"] / file_name("y-good")).read_text(encoding="utf-8")

    STATE["description"] = f"Sch{LATIN1_U_UMLAUT}ler"
    code, body = run(env, "config", "backup", *devices_args("y-good", "y-latin1"))
    by_device = {d["device"]: d for d in body["devices"]}
    assert code == 0 and by_device["y-good"]["change"] == "unchanged" and by_device["y-good"]["warning"] is None
    latin1 = by_device["y-latin1"]
    assert latin1["status"] == "ok" and latin1["change"] == "changed" and latin1["error"] is None, latin1
    assert latin1["changes"] == ["interface GigabitEthernet1/0/1"]
    # byte for byte: the 0xFC is in the work tree and in the commit, nothing dropped or replaced
    stored = (env["repo"] / file_name("y-latin1")).read_bytes()
    assert b"\n description Sch\xfcler\n" in stored
    committed = subprocess.run(["git", "-C", str(env["repo"]), "show", f"HEAD:{file_name('y-latin1')}"],
                               capture_output=True, check=True).stdout
    assert committed == stored
    offset = stored.index(b"\xfc")
    line = stored[:offset].count(b"\n") + 1
    assert latin1["warning"] == (f"the config holds 1 byte that is not UTF-8 (first 0xfc at byte offset {offset}, "
                                 f"line {line} of the stored file): stored byte for byte as the device sent it, "
                                 f"shown as \\xfc")
    # the diff says what changed, the byte shown as \xfc; its JSON is valid UTF-8
    code, diff = run(env, "config", "diff", "y-latin1", ssh=False)
    assert code == 0 and diff["changes"] == ["interface GigabitEthernet1/0/1"]
    assert "- description Schueler\n+ description Sch\\xfcler\n" in diff["diff"], diff["diff"]
    code, text = run(env, "config", "diff", "y-latin1", ssh=False, as_json=False)
    assert code == 0 and "+ description Sch\\xfcler" in text

    # a changed Latin-1 byte is a change (ü -> ä), and the next unchanged run says unchanged
    STATE["description"] = f"Sch{LATIN1_A_UMLAUT}ler"
    code, body = run(env, "config", "backup", *devices_args("y-latin1"))
    assert code == 0 and body["devices"][0]["change"] == "changed", body
    assert body["devices"][0]["changes"] == ["interface GigabitEthernet1/0/1"]
    assert "0xe4 at byte offset" in body["devices"][0]["warning"]
    code, diff = run(env, "config", "diff", "y-latin1", ssh=False)
    assert "- description Sch\\xfcler\n+ description Sch\\xe4ler\n" in diff["diff"]
    # the table for people: the warning once for that device, exit code still 0
    code, table = run(env, "config", "backup", *devices_args("y-latin1", "y-good"), as_json=False)
    flat = " ".join(table.replace("│", " ").split())  # the warning's words, read across wrapped lines
    assert code == 0 and flat.count("not UTF-8") == 1 and "shown as \\xe4" in flat, table
    assert "0 changed, 0 new, 2 unchanged, 0 failed" in flat


def test_every_reader_of_the_store_reads_such_bytes(env, tmp_path):
    """audit (live and from the store), its evidence, remediate: the byte read as it is,
    shown as \\xNN, no traceback, JSON valid UTF-8."""
    STATE["description"] = f"Sch{LATIN1_U_UMLAUT}ler"
    assert run(env, "config", "backup", *devices_args("y-latin1"))[0] == 0
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "descriptions.yaml").write_text(
        "rules:\n  - id: test-no-school-descriptions\n    title: no descriptions naming pupils\n"
        "    severity: warning\n    platforms: [cisco_ios]\n    fix: ['no description']\n"
        "    check:\n      blocks: '^interface '\n      forbid: ['^description Sch']\n")
    evidence = "interface GigabitEthernet1/0/1: forbidden: description Sch\\xfcler"
    for source in (["--from-store"], []):
        code, audit = run(env, "config", "audit", *source, "--rules", str(rules),
                          *devices_args("y-latin1"), ssh=not source)
        device = audit["devices"][0]
        assert device["status"] == "ok" and code == 1, audit  # audited, not refused
        found = {r["rule"]: r["evidence"] for r in device["results"] if r["status"] == "noncompliant"}
        assert found["test-no-school-descriptions"] == [evidence]
    code, table = run(env, "config", "audit", "--from-store", "--rules", str(rules), *devices_args("y-latin1"),
                      ssh=False, as_json=False)
    assert code == 1 and "Sch\\xfcler" in table
    code, plan = run(env, "config", "remediate", "--rules", str(rules), *devices_args("y-latin1"), ssh=False)
    assert code == 0 and plan["not_audited"] == [] and plan["not_in_store"] == []
    assert ["interface GigabitEthernet1/0/1", " no description"] == plan["plans"][0]["lines"][-2:]


def test_a_secret_beside_or_holding_a_byte_that_is_not_utf8_is_still_masked(env):
    code, body = run(env, "config", "backup", *devices_args("y-secrets"))
    assert code == 0 and body["devices"][0]["change"] == "new" and "0xe4" in body["devices"][0]["warning"]
    stored = (env["repo"] / file_name("y-secrets")).read_bytes()
    assert b" description Gro\xe4e Halle\n" in stored  # the description's byte kept
    for value, line in SECRETS.items():
        assert raw(value) not in stored and raw(value)[2:-2] not in stored, value
        keyword = line.split("{}")[0]
        assert re.search(re.escape(raw(keyword)) + rb"<secret:hmac-sha256:[0-9a-f]{12}>", stored), line
        assert value.encode("ascii", "ignore").decode() not in json.dumps(body)


def test_a_device_stuck_at_the_pager_says_paging_and_the_others_finish(env):
    started = time.monotonic()
    code, body = run(env, "config", "backup", *devices_args("y-stuck", "y-good"))
    elapsed = time.monotonic() - started
    by_device = {d["device"]: d for d in body["devices"]}
    assert code == 3 and by_device["y-good"]["status"] == "ok"
    stuck = by_device["y-stuck"]
    assert stuck["status"] == "parse_error" and "pager prompt" in stuck["error"] and "paging" in stuck["error"]
    assert "'show running-config'" in stuck["error"]
    assert not (env["repo"] / file_name("y-stuck")).exists()
    assert elapsed < 20  # named at once, not after the read timeout (20 s)
    code, body = run(env, "lldp", "verify", *devices_args("y-stuck", "y-unnamed"))
    by_device = {d["device"]: d for d in body["devices"]}
    assert code == 3 and by_device["y-unnamed"]["status"] == "ok"
    assert by_device["y-stuck"]["status"] == "parse_error"
    assert "'show lldp neighbors detail'" in by_device["y-stuck"]["error"] and "paging" in by_device["y-stuck"]["error"]


def test_every_undocumented_neighbour_is_a_finding_named_or_not(env):
    code, body = run(env, "lldp", "verify", *devices_args("y-unnamed"))
    findings = {(f["kind"], f["local_interface"], f["observed"]) for f in body["findings"]}
    assert code == 1  # warnings fail by default
    assert findings == {
        # a host that sends no system name, on a port nobody documented
        ("unexpected", "GigabitEthernet1/0/7", "unnamed (chassis id 00a0.c914.0001, port id 00a0.c914.0001)"),
        # a second, nameless neighbour behind the documented link (a hub or a phone's PC)
        ("unexpected", "GigabitEthernet1/0/1", "unnamed (chassis id aabb.ccdd.eeff, port id port 3)"),
        # a system name in Latin-1: its byte shown, not dropped
        ("unexpected", "GigabitEthernet1/0/9", "Sch\\xfcle-AP GigabitEthernet0/1"),
    }
    code, table = run(env, "lldp", "verify", *devices_args("y-unnamed"), as_json=False)
    assert code == 1 and "unnamed (chassis id 00a0.c914.0001" in " ".join(table.split())


def test_a_stored_file_another_tool_wrote_with_such_bytes_is_read_as_it_is(env):
    """A backup repository another tool wrote (Oxidized keeps bytes as they came): netops
    reads it as it is, never a traceback; the device's own answer replaces it as a change."""
    path = env["repo"] / file_name("y-latin1")
    data = raw(ios_config("y-latin1", "Caf\udce9"))
    path.write_bytes(data)
    git = ["git", "-C", str(env["repo"]), "-c", "user.name=other", "-c", "user.email=other@localhost"]
    subprocess.run([*git, "commit", "-qam", "written by another tool"], check=True)

    code, audit = run(env, "config", "audit", "--from-store", *devices_args("y-latin1", "y-good"), ssh=False)
    assert code in (0, 1) and {d["device"]: d["status"] for d in audit["devices"]} == {"y-latin1": "ok", "y-good": "ok"}
    code, plan = run(env, "config", "remediate", "--device", "y-latin1", ssh=False)
    assert code == 0 and plan["not_in_store"] == [] and plan["not_audited"] == []
    code, diff = run(env, "config", "diff", "y-latin1", ssh=False)
    assert code == 0 and "+ description Caf\\xe9" in diff["diff"] and diff["changes"]
    # the device's own (clean) config replaces the file: a change in its interface section
    STATE["description"] = "Schueler"
    code, body = run(env, "config", "backup", *devices_args("y-latin1"))
    assert code == 0 and body["devices"][0]["change"] == "changed" and body["devices"][0]["warning"] is None
    assert "interface GigabitEthernet1/0/1" in body["devices"][0]["changes"]  # (the other tool kept more lines)
    assert "description Schueler" in path.read_text(encoding="utf-8")


def test_json_output_shows_such_a_byte_as_text_and_stays_utf8(capsys):
    """The last guard for anything that reaches --json with such a byte in it."""
    from commands.common import print_json

    print_json({"evidence": [f"description Sch{LATIN1_U_UMLAUT}ler"], f"Gi1/0/{LATIN1_A_UMLAUT}": 1})
    out = capsys.readouterr().out
    assert json.loads(out.encode("utf-8").decode("utf-8")) == {"evidence": ["description Sch\\xfcler"],
                                                                "Gi1/0/\\xe4": 1}
