"""Every corpus secret, served by real SSH servers (fakenos), through every command;
then every artefact is searched for every planted value.

Devices: one per corpus platform. NX-OS and AOS-CX texts are served by fakenos'
cisco_ios (the scrubber reads every platform's syntax on every device, and those two
are not config platforms of netops yet); ProCurve, Junos and the Huawei OLT (netmiko's
huawei_olt against fakenos' huawei_smartax) by their own fakenos NOS. So are the
corpora of vendors netops does not back up yet (EOS, IOS-XR, ASA, FortiOS, RouterOS,
VRP/Comware and the rest: session 6's hunt), as the text an IOS device prints.
Session 9 added `unlisted` (syntaxes in no table, bare pass/pin/token/otp words, private
keys in PKCS#8, RSA-with-headers, OpenSSH and PuTTY form) and `wrapped` (a device wrapping
at 80 columns, values cut over two lines).
Each device serves its secrets corpus followed by its look-alike corpus, and the IOS
device also a community that changes between runs.
"""

from __future__ import annotations

import json
import logging
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from typer.testing import CliRunner

from cli import app
from configs.metrics import ConfigStateCollector
from configs.scrub import Fingerprinter
from configs.state import Workspace
from configs.store import file_name
from inventory.models import Device, Site, SshProfile
from netops.secrets import Secret
from tests.ssh import corpora, lab
from tests.support.fakenos_fleet import Fleet, HostSpec

USER, PASSWORD = "netops", "Corpus-Ssh-Pw-5519"
KEY = "corpus-fingerprint-key-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
FP = Fingerprinter(Secret(KEY))
ROTATED = ["RotatedCommunityA1", "RotatedCommunityB2"]  # the IOS device's community, run 1 / run 2
# secrets that change between the runs in other syntaxes: a name=value pair, a PEM key's body, a PIN
ROTATING = {
    "c-mikrotik-routeros": ("/ppp secret\nadd name=rotated password={{%s}} profile=default",
                            ["RotatedPairPwA1", "RotatedPairPwB2"]),
    "c-fortinet": ('config vpn certificate local\n    edit "rot"\n        set private-key "-----BEGIN PRIVATE KEY-----'
                   '\n{{%s}}\n-----END PRIVATE KEY-----"\n    next\nend', ["RotatedPemBodyA1", "RotatedPemBodyB2"]),
    # a syntax without a credential keyword (Oxidized vrp.rb): a SIM PIN
    "c-oxidized": ("interface Cellular0/0/1\n pin verify auto {{%s}}", ["3141", "2718"]),
    # session 9: a bare word in a syntax nobody listed
    "c-unlisted": ("modem 2\n token {{%s}}", ["RotatedBareTokenA1", "RotatedBareTokenB2"]),
}
# a device that answers one line: no config, and the error quotes the answer (scrubbed)
ONE_LINE = "c-oneline"
ONE_LINE_SECRET = "OneLineEnableSecret"
STATE = {"rotation": 0}

# device -> (fakenos platform, inventory platform, config command, corpus platform); the inventory
# platform is the corpus' (corpora.Corpus.platform: the unit tests scrub with it too)
DEVICES = {
    "c-ios": ("cisco_ios", "cisco_ios", "show running-config", "cisco_ios"),
    "c-nxos": ("cisco_ios", "cisco_ios", "show running-config", "cisco_nxos"),
    "c-procurve": ("hp_procurve", "hp_procurve", "show running-config", "hp_procurve"),
    "c-cx": ("cisco_ios", "cisco_ios", "show running-config", "aruba_oscx"),
    "c-junos": ("juniper_junos", "juniper_junos", "show configuration | display set", "juniper_junos"),
    "c-olt": ("huawei_smartax", "huawei_olt", "display current-configuration", "huawei_olt"),
    **{f"c-{platform.replace('_', '-')}": ("cisco_ios", "cisco_ios", "show running-config", platform)
       for platform in ("arista_eos", "cisco_xr", "cisco_asa", "fortinet", "mikrotik_routeros", "huawei_vrp",
                        "multivendor", "oxidized", "unlisted", "wrapped")},
}


def test_each_corpus_is_served_with_the_platform_the_unit_tests_scrub_it_with():
    """(How a plain value ends depends on the platform, configs.scrub.Dialect.)"""
    assert {device: platform for device, (_, platform, _, _) in DEVICES.items()} == {
        device: corpora.Corpus(f"secrets-{corpus}", []).platform for device, (*_, corpus) in DEVICES.items()}


def _platform_corpora(platform: str) -> tuple[corpora.Corpus, corpora.Corpus]:
    [secrets] = [c for c in corpora.load("secrets") if c.name == f"secrets-{platform}"]
    lookalikes = [c for c in corpora.load("lookalike") if c.name == f"lookalike-{platform}"]
    return secrets, lookalikes[0] if lookalikes else corpora.Corpus(f"lookalike-{platform}", [])


def _rotating_line() -> str:
    return f"snmp-server community {{{{{ROTATED[STATE['rotation']]}}}}} RO 99"


def _annotated(device: str) -> list[str]:
    secrets, lookalikes = _platform_corpora(DEVICES[device][3])
    extra = [_rotating_line()] if device == "c-ios" else []
    if device in ROTATING:
        template, values = ROTATING[device]
        extra = (template % values[STATE["rotation"]]).split("\n")
    return secrets.lines + lookalikes.lines + extra


def _served(device: str):
    def output(*_a, **_kw) -> str:
        return corpora.Corpus(device, _annotated(device)).raw
    return output


@pytest.fixture(scope="module")
def corpus_fleet():
    specs = {name: HostSpec(nos, USER, PASSWORD, {command: {"output": _served(name)}})
             for name, (nos, _, command, _) in DEVICES.items()}
    specs[ONE_LINE] = HostSpec("cisco_ios", USER, PASSWORD, {"show running-config": {
        "output": f"enable secret 0 {ONE_LINE_SECRET}"}})
    fleet = Fleet(specs).start()
    yield fleet
    fleet.stop()


@pytest.fixture
def env(tmp_path, corpus_fleet):
    def inventory(session):
        site = Site(code="C1", name="Corpus", kind="school", district="Buer", source="test")
        session.add(site)
        session.add(SshProfile(name="corpus", username=USER, conn_timeout_s=5, read_timeout_s=20))
        session.flush()
        for i, (name, (_, platform, _, _)) in enumerate([*DEVICES.items(), (ONE_LINE, (None, "cisco_ios", None, None))]):
            session.add(Device(name=name, site_id=site.id, role="access_switch", platform=platform,
                               mgmt_ip=f"192.0.2.{100 + i}", ssh_profile="corpus", source="test"))

    cli_env = lab.cli_workspace(tmp_path, corpus_fleet.address_map(), inventory,
                                f'[ssh.corpus]\npassword = "{PASSWORD}"\n[config.fingerprint]\nkey = "{KEY}"\n')
    yield cli_env, cli_env.pop("addr")
    STATE["rotation"] = 0


def test_no_corpus_secret_reaches_any_artefact(env, tmp_path):
    cli_env, amap = env
    runner = CliRunner()
    outputs: list[str] = []
    records: list[str] = []

    def run(*args: str) -> dict | None:
        result = runner.invoke(app, list(args), env=cli_env)
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        outputs.append(text)
        assert result.exit_code in (0, 1, 3), text  # 1: audit findings, 3: the one-line device failed
        return json.loads(result.stdout) if "--json" in args else None

    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = lambda record: records.append(handler.format(record))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # every library's log, as verbose as it gets
    try:
        first = run("config", "backup", "--json", "--address-map", amap)
        STATE["rotation"] = 1
        second = run("config", "backup", "--json", "--address-map", amap)
        run("config", "backup", "--address-map", amap)  # the table output too (nothing changed)
        diff = run("config", "diff", "c-ios", "--json")
        run("config", "diff", "c-ios")
        for device in DEVICES:
            run("config", "diff", device, "--since", "2000-01-01")
        run("config", "audit", "--json", "--address-map", amap)
        run("config", "audit", "--address-map", amap)
        run("config", "audit", "--from-store", "--json")
        run("config", "remediate", "--json")
        run("report", "--out", str(tmp_path / "report.html"), "--json")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)

    # the runs happened, over SSH, and did what they say
    assert first["summary"]["new"] == len(DEVICES) and first["summary"]["failed"] == 1
    [failed] = [d for d in first["devices"] if d["device"] == ONE_LINE]
    assert failed["error"] == f"ParseError: no configuration in the answer: 'enable secret 0 {FP.marker(ONE_LINE_SECRET)}'"
    changed = {d["device"]: d["changes"] for d in second["devices"] if d["change"] == "changed"}
    assert sorted(changed) == sorted(["c-ios", *ROTATING])
    # a changed value in another syntax is a changed marker too, named by what holds it
    assert [c.rsplit(" (line", 1)[0] for c in changed["c-mikrotik-routeros"]] == [
        "secret changed: add name=rotated password="]
    assert [c.rsplit(" (line", 1)[0] for c in changed["c-oxidized"]] == [
        "secret changed: interface Cellular0/0/1: pin verify auto"]
    assert [c.rsplit(" (line", 1)[0] for c in changed["c-unlisted"]] == ["secret changed: modem 2: token"]
    # a device that wraps at 80 columns: the value's pieces on both lines are markers
    assert "nOverTheEdge01xyz" in corpora.Corpus("w", _annotated("c-wrapped")).raw
    assert [c.rsplit(" (line", 1)[0] for c in changed["c-fortinet"]] == [
        'secret changed: set private-key "-----BEGIN PRIVATE KEY----- (continued)']
    rotated_line = len(_annotated("c-ios"))
    assert diff["changes"] == [f"secret changed: snmp-server community (line {rotated_line})"]
    assert [d["changes"] for d in second["devices"] if d["device"] == "c-ios"] == [diff["changes"]]
    store = Workspace(tmp_path / "ws").store()
    for device, (*_, platform) in DEVICES.items():
        expected = corpora.Corpus(device, _annotated(device)).expected(FP)
        assert store.read(device) == expected, device  # every secret a marker, every look-alike intact

    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(Workspace(tmp_path / "ws")))
    repo = tmp_path / "ws" / "repo"

    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout
        return out.decode("utf-8", "replace")

    artefacts = {
        "git objects": git("cat-file", "--batch-all-objects", "--batch"),
        "git log -p": git("log", "-p", "--all", "--format=%H%n%B"),
        "logs": "\n".join(records),
        "output": "\n".join(outputs),
        "metrics": generate_latest(registry).decode(),
    }
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name not in ("secrets.toml", "corpus.db") and ".git" not in path.parts:
            artefacts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert str(tmp_path / "report.html") in artefacts and str(tmp_path / "ws" / "state.json") in artefacts
    assert f"secret changed: snmp-server community (line {rotated_line})" in artefacts["git log -p"]
    assert f"# secret changed: snmp-server community (line {rotated_line})" in artefacts["output"]  # config diff
    assert file_name("c-junos") in artefacts["git log -p"]

    planted = [s for c in corpora.load("secrets") for s in c.secrets] + ROTATED + [PASSWORD, KEY, ONE_LINE_SECRET]
    planted += [v for _, values in ROTATING.values() for v in values]
    leaks = sorted({(value, where) for value in planted for where, text in artefacts.items() if value in text})
    assert leaks == []
