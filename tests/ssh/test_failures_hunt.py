"""Hunted (session 10): SSH devices that fail inside an answer, backed up with the CLI.

Each device is a real SSH server on loopback (tests/ssh/scripted_device.py) playing an IOS
switch. A first run backs every one up whole; then each fails its own way and a second
run must say so for every consumer of a backup: the result per device and the exit code,
the git store (the last whole config stays, nothing truncated is committed), state.json
and the gauges Prometheus reads from it.
"""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from typer.testing import CliRunner

from cli import app
from configs.metrics import ConfigStateCollector
from configs.state import Workspace
from configs.store import file_name
from inventory.models import Device, Site, SshProfile
from tests.ssh import lab
from tests.ssh.scripted_device import ScriptedDevice, ios_config

USER, PASSWORD = "netops", "Hunt-Ssh-Pw-5521"


def banner_quoting_the_prompt(hostname: str) -> str:
    """A config whose login banner shows the prompt on a line of its own."""
    return ios_config(hostname).replace(
        "line vty 0 4", f"banner login ^C\nStaff only. At the prompt\n{hostname}#\ntype your command.\n^C\nline vty 0 4")


#: device -> (config, how it fails in the second run, what that run says: status, words of the error)
CASES = {
    "h-closes": (None, "close_mid", "unreachable", "closed the session before the answer was complete"),
    "h-hangs": (None, "hang_mid", "timeout", "no answer within the read timeout of 2s"),
    "h-pager": (None, "pager", "parse_error", "pager prompt"),
    # logs in, never shows a prompt: netmiko's session set-up waited 20 s for it whatever the
    # profile said; the profile's connection timeout (3 s) bounds it now
    "h-silent": (None, "silent", "timeout", "accepted the login but showed no cisco_ios prompt within 3s"),
    # a prompt netmiko does not know for the platform (a shell's `$`): it is not taken for one
    "h-odd": (None, "odd_prompt", "timeout", "silent, or a prompt of another kind"),
    # a slow device pausing right after the banner's prompt line: its config is whole, and stored so
    "h-banner": (banner_quoting_the_prompt("h-banner"), "pause_mid", "ok", None),
    "h-control": (None, "whole", "ok", None),
}


@pytest.fixture
def devices():
    running = {}
    for name, (config, _behaviour, _status, _says) in CASES.items():
        cut = config.splitlines().index(f"{name}#") + 1 if config else 40
        running[name] = ScriptedDevice(name, USER, PASSWORD, "whole", cut=cut, config=config, pause_s=1.0).__enter__()
    yield running
    for device in running.values():
        device.__exit__(None, None, None)


def hunt_workspace(tmp_path, devices: dict[str, ScriptedDevice], read_timeout_s: int = 2) -> dict[str, str]:
    """The CLI's database, secrets and address map for scripted IOS switches."""
    def inventory(session):
        # read timeout 2 s: a hang costs that; the devices' addresses come from the address map
        site = Site(code="H1", name="Hunt", kind="school", district="Buer", source="test")
        session.add_all([site, SshProfile(name="hunt", username=USER, conn_timeout_s=3,
                                          read_timeout_s=read_timeout_s)])
        session.flush()
        session.add_all(Device(name=name, site_id=site.id, role="access_switch", platform="cisco_ios",
                               mgmt_ip=f"192.0.2.{10 + i}", ssh_profile="hunt", source="test")
                        for i, name in enumerate(devices))

    addresses = {name: ("127.0.0.1", device.port) for name, device in devices.items()}
    return lab.cli_workspace(tmp_path, addresses, inventory, f'[ssh.hunt]\npassword = "{PASSWORD}"\n')


@pytest.fixture
def env(tmp_path, devices):
    return hunt_workspace(tmp_path, devices)


def backup(env) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["config", "backup", "--json", "--address-map", env["addr"]],
                                env={k: v for k, v in env.items() if k.startswith("NETOPS_")})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert PASSWORD not in result.output
    return result.exit_code, json.loads(result.stdout)


def test_a_device_failing_inside_its_answer_keeps_its_last_whole_backup(env, devices, tmp_path):
    code, first = backup(env)
    assert code == 0 and {d["device"]: d["change"] for d in first["devices"]} == dict.fromkeys(CASES, "new")
    repo = tmp_path / "ws" / "repo"
    whole = {name: (repo / file_name(name)).read_text() for name in CASES}
    # main: the banner's prompt line ended the read, the config was stored without its
    # vty lines and `end`
    assert whole["h-banner"].rstrip().endswith("end") and "transport input ssh" in whole["h-banner"]

    for name, (_config, behaviour, _status, _says) in CASES.items():
        if behaviour == "odd_prompt":
            devices[name].prompt = f"{name}$ "
        else:
            devices[name].behaviour = behaviour
    code, second = backup(env)
    by_device = {d["device"]: d for d in second["devices"]}
    assert code == 3  # some devices were not backed up
    for name, (_config, _behaviour, status, says) in CASES.items():
        assert by_device[name]["status"] == status, by_device[name]
        if says is not None:
            assert says in by_device[name]["error"] and by_device[name]["change"] is None, by_device[name]
        else:
            assert by_device[name]["change"] == "unchanged", by_device[name]
        # the store holds the last whole config, never a part of an answer
        assert (repo / file_name(name)).read_text() == whole[name], name
    assert second["summary"] == {"new": 0, "changed": 0, "unchanged": 2, "failed": 5}

    state = Workspace(tmp_path / "ws").read_state()["backup"]["devices"]
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(Workspace(tmp_path / "ws")))
    metrics = generate_latest(registry).decode()
    for name, (_config, _behaviour, status, _says) in CASES.items():
        assert state[name]["status"] == status
        failed = status != "ok"
        # a failed attempt keeps the last success's time: the backup's age goes on growing
        assert (state[name]["last_success"] < state[name]["last_attempt"]) == failed, state[name]
        assert f'netops_config_backup_last_attempt_success{{device="{name}",status="{status}"}} ' \
               f'{0.0 if failed else 1.0}' in metrics
        assert f'netops_config_backup_age_seconds{{device="{name}"}}' in metrics


def run_gauges(tmp_path) -> str:
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(Workspace(tmp_path / "ws")))
    return generate_latest(registry).decode()


def test_a_device_the_audit_did_not_reach_is_counted_not_left_out(env, devices, tmp_path):
    """Every scripted switch breaks the same rules. When one closes its session, the live
    audit's gauges counted one noncompliant device fewer and nothing said one was not
    audited: to Prometheus a device going down looked like a device fixed
    (NetopsComplianceFailures resolving). The run's record says how many it reached."""
    def audit() -> dict:
        result = CliRunner().invoke(app, ["config", "audit", "--json", "--address-map", env["addr"]],
                                    env={k: v for k, v in env.items() if k.startswith("NETOPS_")})
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return json.loads(result.stdout)

    audit()
    before = run_gauges(tmp_path)
    devices["h-closes"].behaviour = "close_mid"
    report = audit()
    after = run_gauges(tmp_path)
    assert {d["device"]: d["status"] for d in report["devices"]}["h-closes"] == "unreachable"
    # what the compliance gauges alone say: one critical failure fewer
    rule = 'netops_config_compliance_devices{result="noncompliant",rule="ios-aaa-new-model",severity="critical",' \
           'source="running"}'
    assert f"{rule} 7.0" in before and f"{rule} 6.0" in after
    assert 'netops_config_run_devices{result="checked",run="audit"} 7.0' in before
    assert 'netops_config_run_devices{result="failed",run="audit"} 0.0' in before
    assert 'netops_config_run_devices{result="checked",run="audit"} 6.0' in after
    assert 'netops_config_run_devices{result="failed",run="audit"} 1.0' in after


def test_a_device_pausing_inside_the_banners_prompt_line_is_not_stored_cut(env, devices, tmp_path):
    """The banner's line that quotes the prompt, sent without its line break, then a pause
    (a device writing a line's text and its line break apart, a busy one). What was read
    then ends in the prompt's text with nothing after it, which is how the real prompt
    looks: the answer is taken as complete and the config stored without what follows."""
    code, _first = backup(env)
    assert code == 0
    repo = tmp_path / "ws" / "repo"
    whole = (repo / file_name("h-banner")).read_text()
    devices["h-banner"].behaviour = "pause_in_line"
    _code, second = backup(env)
    result = {d["device"]: d for d in second["devices"]}["h-banner"]
    # whatever the run says of the device, the store never holds a cut config as its newest
    assert (repo / file_name("h-banner")).read_text() == whole, result


# not strict: the gap shows only when both pauses are read as pauses; a reading thread stalled for
# about a second on a loaded CI machine stores the config whole, and a strict xfail would then turn
# red on luck (review-ssh). Run with --runxfail to see the gap. The same gap without timing: the
# strict xfail below, whose device holds the rest back for ever.
@pytest.mark.xfail(strict=False, reason="known limit (README, Backup): a config quoting the prompt on two lines "
                                       "running, the device pausing after each (the second pause longer than "
                                       "the first), passes for the prompt and the bare Enter's fresh prompt")
def test_a_banner_quoting_the_prompt_on_two_lines_with_two_pauses_is_not_stored_cut(tmp_path):
    """The gap session 11 left (hunt-ssh) and session 12 could not close soundly: the bare
    Enter's fresh prompt looks like the config's own second quoted line. netmiko's own
    read_until_prompt and send_command(expect_string=...) match text just the same; only a
    sentinel the config cannot hold would be sound, and a throwaway command was rejected
    (AAA authorises and logs it). A stored config cut here must make this test pass."""
    config = ios_config("h-twice").replace(
        "line vty 0 4", "banner login ^C\nAt the prompt\nh-twice#\nh-twice#\ntype your command.\n^C\nline vty 0 4")
    cut = config.splitlines().index("h-twice#") + 1
    with ScriptedDevice("h-twice", USER, PASSWORD, "whole", cut=cut, config=config, pause_s=0.2) as device:
        env = hunt_workspace(tmp_path, {"h-twice": device})
        code, _first = backup(env)
        repo = tmp_path / "ws" / "repo"
        whole = (repo / file_name("h-twice")).read_text()
        assert code == 0 and whole.rstrip().endswith("end")
        device.behaviour = "pause_twice"
        _code, second = backup(env)
        # whatever the run says of the device, the store never holds a cut config as its newest
        assert (repo / file_name("h-twice")).read_text() == whole, second


# no timing decides what is read: the device sends the config up to the quoted prompt's line break and
# waits for the client's bare Enter (event, not pause); then it sends one more line and holds the Enter's
# answer back for ever, longer than any wait the client could make. The client reads the same bytes in the
# same order on any machine, however loaded; the read timeout is long (the client ends its read after its
# quiet wait, not at the timeout), so that a loaded machine's slow find_prompt cannot time the run out.
# An expected failure only as the known limit shows itself (the device "ok", its stored config cut),
# imperatively: any other outcome (a broken fixture, a timeout storing nothing) fails, never passes.
@pytest.mark.parametrize("case", ["last_line", "two_lines"])
def test_a_device_holding_back_the_enters_answer_does_not_get_a_config_stored_cut(case, tmp_path):
    """Session 13 (hunt left by session 12): after the candidate end the first thing the device
    sends is the real prompt (its config's last line quoted the prompt: ``last_line``) or the
    config's second quoted prompt line (``two_lines``); the Enter's own answer never comes. Both
    look like "answer's prompt, then the Enter's prompt" with nothing after it; only a sentinel
    the config cannot hold would tell them apart (README). An expected failure exactly when a cut
    config is stored; a fix closing the gap fails it, saying so (then assert the whole config)."""
    name = f"h-held-{case.replace('_', '-')}"
    quoted = f"banner login ^C\nAt the prompt\n{name}#\n" + (f"{name}#\n" if case == "two_lines" else "")
    config = ios_config(name, 4).replace("line vty 0 4", quoted + "type your command.\n^C\nline vty 0 4")
    if case == "last_line":  # (the quoted line is the config's last)
        config = config.removesuffix("type your command.\n^C\nline vty 0 4\n transport input ssh\n!\nend\n")
    cut = config.splitlines().index(f"{name}#") + 1
    with ScriptedDevice(name, USER, PASSWORD, "whole", cut=cut, config=config) as device:
        env = hunt_workspace(tmp_path, {name: device}, read_timeout_s=120)
        code, _first = backup(env)
        repo = tmp_path / "ws" / "repo"
        whole = (repo / file_name(name)).read_text()
        assert code == 0 and whole.rstrip().endswith(f"{name}#" if case == "last_line" else "end")
        device.behaviour = "hold_enter"
        _code, second = backup(env)
    # whatever the run says of the device, the store never holds a cut config as its newest
    stored, (result,) = (repo / file_name(name)).read_text(), second["devices"]
    if stored == whole:
        pytest.fail(f"the known limit did not show (gap closed? then this test asserts it): {result}")
    if result["status"] == "ok" and len(stored) < len(whole):
        pytest.xfail("known limit (README, Backup): a config quoting the prompt on the line before the device's "
                     "prompt, or on two lines running, passes for the prompt and the bare Enter's fresh prompt "
                     "when the device holds the Enter's answer back for longer than it took to start answering")
    pytest.fail(f"neither the whole config nor the known cut: {result}, {len(stored)} of {len(whole)} characters")
