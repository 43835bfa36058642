"""What session 7's hunt left, against real SSH devices (fakenos on loopback):

* a config with a byte that is not UTF-8 (a Latin-1 description): netmiko dropped the
  byte, so the backup was lossy and its diff lied. Now the device is refused in one
  line naming the byte, its offset and line (status ``parse_error``, exit 3), its last
  good backup stays as it was, and the other devices are backed up;
* a device stuck at ``--More--`` (paging not switched off): it cost a read timeout and
  said only "no answer". Now it fails at once, naming the pager and the command;
* LLDP neighbours without a system name on ports the inventory does not document were
  not reported at all: now each is ``unexpected``, "unnamed" with chassis id and port id.

The devices send the bytes they are given: fakenos encodes its output as strict UTF-8,
so for this module its output tap writes U+DC80..U+DCFF as the raw byte (surrogateescape).
"""

from __future__ import annotations

import json
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
STATE = {"latin1": False}


def ios_config(name: str, description: str) -> str:
    return (f"Building configuration...\n\nCurrent configuration : 999 bytes\n!\nversion 15.2\nhostname {name}\n!\n"
            f"interface GigabitEthernet1/0/1\n description {description}\n!\nip ssh version 2\nend")


def latin1_config(*_, **__) -> str:
    """Clean first; then an engineer types a description from a Latin-1 terminal."""
    return ios_config("y-latin1", f"Sch{LATIN1_U_UMLAUT}ler" if STATE["latin1"] else "Schueler")


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
    assert PASSWORD not in result.output
    return result.exit_code, json.loads(result.stdout) if as_json else result.output


def devices_args(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--device", name)]


def test_a_byte_that_is_not_utf8_is_refused_by_offset_and_the_last_backup_stays(env):
    STATE["latin1"] = False
    code, body = run(env, "config", "backup", *devices_args("y-good", "y-latin1"))
    assert code == 0
    good_backup = (env["repo"] / file_name("y-latin1")).read_bytes()
    # UTF-8 is kept as it came (no character dropped)
    assert "Straße 7 (Schüler)" in (env["repo"] / file_name("y-good")).read_text(encoding="utf-8")

    STATE["latin1"] = True
    code, body = run(env, "config", "backup", *devices_args("y-good", "y-latin1"))
    by_device = {d["device"]: d for d in body["devices"]}
    assert code == 3 and by_device["y-good"]["status"] == "ok" and by_device["y-good"]["change"] == "unchanged", body
    latin1 = by_device["y-latin1"]
    # the offset of 0xFC in what the device sent after the echo: the config as served
    served = ios_config("y-latin1", f"Sch{LATIN1_U_UMLAUT}ler").encode("utf-8", "surrogateescape")
    assert latin1["status"] == "parse_error" and latin1["change"] is None
    offset = served.index(bytes([0xFC]))
    assert f"0xfc at byte offset {offset}, line 9" in latin1["error"], latin1["error"]
    # not stored lossy ("Schler"): the last good backup is untouched, so diff shows no change
    assert (env["repo"] / file_name("y-latin1")).read_bytes() == good_backup
    code, diff = run(env, "config", "diff", "y-latin1", ssh=False)
    assert code == 0 and "Schler" not in json.dumps(diff)
    # the live audit refuses it the same way, and the table for people says so on one line
    code, audit = run(env, "config", "audit", *devices_args("y-latin1", "y-good"))
    statuses = {d["device"]: d["status"] for d in audit["devices"]}
    assert code == 3 and statuses == {"y-latin1": "parse_error", "y-good": "ok"}
    code, table = run(env, "config", "backup", *devices_args("y-latin1"), as_json=False)
    assert code == 3 and "not UTF-8" in " ".join(table.split())


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


def test_a_stored_file_that_is_not_utf8_is_named_never_a_traceback(env):
    """A backup repository another tool wrote (or a hand edit): netops never stores such a
    file, but reads it without crashing and says what it is."""
    import subprocess

    path = env["repo"] / file_name("y-latin1")
    data = ios_config("y-latin1", f"Sch{LATIN1_U_UMLAUT}ler").encode("utf-8", "surrogateescape")
    path.write_bytes(data)
    git = ["git", "-C", str(env["repo"]), "-c", "user.name=other", "-c", "user.email=other@localhost"]
    subprocess.run([*git, "commit", "-qam", "written by another tool"], check=True)
    offset = data.index(bytes([0xFC]))

    code, audit = run(env, "config", "audit", "--from-store", *devices_args("y-latin1", "y-good"), ssh=False)
    by_device = {d["device"]: d for d in audit["devices"]}
    assert code == 3 and by_device["y-good"]["status"] == "ok"
    assert by_device["y-latin1"]["status"] == "parse_error"
    assert f"not UTF-8 text: byte 0xfc at offset {offset}" in by_device["y-latin1"]["error"]
    code, plan = run(env, "config", "remediate", "--device", "y-latin1", ssh=False)
    assert code == 0 and plan["not_in_store"] == [] and [d["device"] for d in plan["not_audited"]] == ["y-latin1"]
    # the diff shows the byte that is there (as \xfc), and a changed description
    code, diff = run(env, "config", "diff", "y-latin1", ssh=False)
    assert code == 0 and "+ description Sch\\xfcler" in diff["diff"] and diff["changes"]
    # the device's own (clean) config replaces the file, and the commit says so
    STATE["latin1"] = False
    code, body = run(env, "config", "backup", *devices_args("y-latin1"))
    assert code == 0 and body["devices"][0]["change"] == "changed"
    assert body["devices"][0]["changes"] == ["replaces a stored file that was not UTF-8 text"]
    assert "description Schueler" in path.read_text(encoding="utf-8")
