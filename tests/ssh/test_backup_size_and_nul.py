"""Session 13: what the store could never read back, and stray NUL bytes.

Scripted IOS switches on loopback (tests/ssh/scripted_device.py), backed up with the CLI.

* Scrubbing lengthens a config (a marker is longer than most secrets): an answer just under the
  store's read limit (configs.store.STORED_CONFIG_MAX_BYTES) could pass it once scrubbed, and be
  written as a file the store then refuses to read (an audit and diff dead end). The size is
  checked after scrubbing: that device fails alone, saying so.
* A stray NUL byte (padding some firmware sends; netmiko removes every NUL for Dell Isilon, a
  Telnet-style bare CR is `\r\0`) failed a device's backup on every run. A few are removed before
  netmiko reads the answer (its line breaks would read `\r\n\0`... apart, a NUL after the prompt
  would hide it), and the run's report says how many and where the first stood in the device's
  answer; an answer whose bytes are more than 10 % NUL (UTF-16, line noise) still fails, and so does
  one NUL between two characters (a lost byte: test_bad_answers_hunt.py). A device padding every prompt
  with a NUL (at login too) is backed up: its prompt is found.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from cli import app
from configs import store as store_module
from configs.scrub import scrub_config
from configs.store import config_bytes, file_name
from netops.access import pool
from tests.ssh.scripted_device import ScriptedDevice, ios_config
from tests.ssh.test_failures_hunt import PASSWORD, USER, backup, hunt_workspace


def _with_short_secrets(hostname: str, count: int) -> str:
    """An IOS config with ``count`` short community strings (each marker is ~30 bytes longer)."""
    return ios_config(hostname, 4).replace("line vty 0 4", "".join(
        f"snmp-server community c{n:03d} RO\n" for n in range(count)) + "line vty 0 4")


def test_a_config_that_scrubbing_pushes_over_the_store_limit_fails_alone(tmp_path, monkeypatch):
    config = _with_short_secrets("s-grows", 200)
    raw, scrubbed = len(config_bytes(config)), len(config_bytes(scrub_config(config).text))
    assert scrubbed > raw + 200 * 20
    # the limit between the two: the answer as the device sent it fits, the scrubbed one does not
    monkeypatch.setattr(store_module, "STORED_CONFIG_MAX_BYTES", raw + (scrubbed - raw) // 2)
    devices = {"s-control": ScriptedDevice("s-control", USER, PASSWORD, config=ios_config("s-control", 4)),
               "s-grows": ScriptedDevice("s-grows", USER, PASSWORD, config=config)}
    for device in devices.values():
        device.__enter__()
    try:
        env = hunt_workspace(tmp_path, devices)
        code, report = backup(env)
        # a live audit stores nothing: the store's limit is none of its business (it was refused "not stored")
        audit = CliRunner().invoke(app, ["config", "audit", "--json", "--device", "s-grows", "--address-map",
                                         env["addr"]], env={k: v for k, v in env.items() if k.startswith("NETOPS_")})
    finally:
        for device in devices.values():
            device.__exit__(None, None, None)
    assert audit.exception is None or isinstance(audit.exception, SystemExit), audit.output
    audited = json.loads(audit.stdout)["devices"]
    assert [(d["device"], d["status"]) for d in audited] == [("s-grows", "ok")], audited
    by_device = {d["device"]: d for d in report["devices"]}
    assert code == 3, report
    assert by_device["s-control"]["status"] == "ok" and by_device["s-control"]["change"] == "new"
    grows = by_device["s-grows"]
    assert grows["status"] == "parse_error" and grows["change"] is None, grows
    assert "more than the store reads back" in grows["error"] and "\n" not in grows["error"], grows
    repo = tmp_path / "ws" / "repo"
    assert sorted(p.name for p in repo.glob("*.cfg")) == [file_name("s-control")]
    # what is stored, the store reads back
    assert store_module.GitConfigStore(repo).read("s-control").rstrip().endswith("end")


def _backup(tmp_path, devices: dict[str, ScriptedDevice]) -> tuple[int, dict]:
    for device in devices.values():
        device.__enter__()
    try:
        return backup(hunt_workspace(tmp_path, devices))
    finally:
        for device in devices.values():
            device.__exit__(None, None, None)


def test_a_few_stray_nul_bytes_are_removed_and_the_report_says_so(tmp_path):
    # the same config three ways: clean, one NUL inside a description, a NUL after every line
    # break and after the prompt; the stored files are the same, byte for byte
    config = ios_config("n-x", 6)
    one_nul = config.replace(" description Raum 2", " description Raum \x002")
    devices = {"n-clean": ScriptedDevice("n-clean", USER, PASSWORD, config=config.replace("n-x", "n-clean")),
               "n-one": ScriptedDevice("n-one", USER, PASSWORD, config=one_nul.replace("n-x", "n-one")),
               "n-padded": ScriptedDevice("n-padded", USER, PASSWORD, "nul_padded",
                                          config=config.replace("n-x", "n-padded"))}
    code, report = _backup(tmp_path, devices)
    by_device = {d["device"]: d for d in report["devices"]}
    assert code == 0, report
    assert {d: r["change"] for d, r in by_device.items()} == dict.fromkeys(devices, "new"), report
    repo = tmp_path / "ws" / "repo"
    stored = {name: (repo / file_name(name)).read_bytes() for name in devices}
    assert b"\0" not in b"".join(stored.values())
    assert {name: text.replace(name.encode(), b"N") for name, text in stored.items()} == dict.fromkeys(
        devices, stored["n-clean"].replace(b"n-clean", b"N"))  # no line break doubled, nothing lost
    assert by_device["n-clean"]["warning"] is None
    # the offset is the device's: its echo of the command and its \r\n line breaks counted
    echo = b"show running-config\r\n"
    answer = one_nul.replace("n-x", "n-one").replace("\n", "\r\n").encode()
    at = len(echo) + answer.index(b"\0")
    assert by_device["n-one"]["warning"] == (
        f"1 stray NUL byte removed from the answer (the first at byte offset {at} "
        "of the device's answer)")
    lines = config.removesuffix("\n").count("\n") + 1
    padded = by_device["n-padded"]["warning"]
    # a NUL after each of the config's line breaks, the one before the prompt, the prompt and the fresh
    # prompt after the Enter that confirms the end (the prompt at login and before the command are no
    # answer's: removed, not counted; with them kept the prompt was never found, "x#\0".strip())
    assert padded.startswith(f"{lines + 2} stray NUL bytes removed from the answer"), padded
    first = len(echo) + len(config.replace("n-x", "n-padded").split("\n")[0].encode()) + 2
    assert padded.endswith(f"(the first at byte offset {first} of the device's answer)"), padded
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%B"], capture_output=True, text=True).stdout
    assert "3 new" in log and "0 failed" in log


def test_an_answer_mostly_nul_fails_alone_with_the_devices_offset(tmp_path):
    config = ios_config("f-flood", 4)
    devices = {"f-control": ScriptedDevice("f-control", USER, PASSWORD, config=ios_config("f-control", 4)),
               "f-flood": ScriptedDevice("f-flood", USER, PASSWORD, "nul_flood", cut=8, config=config)}
    code, report = _backup(tmp_path, devices)
    by_device = {d["device"]: d for d in report["devices"]}
    assert code == 3 and by_device["f-control"]["change"] == "new", report
    flood = by_device["f-flood"]
    offset = len(b"show running-config\r\n") + len(config.replace("\n", "\r\n").encode())
    assert flood["status"] == "parse_error" and flood["change"] is None, flood
    assert "NUL bytes (8192 of its" in flood["error"] and f"the first at byte offset {offset} of the device's answer" \
        in flood["error"] and "\n" not in flood["error"], flood
    assert sorted(p.name for p in (tmp_path / "ws" / "repo").glob("*.cfg")) == [file_name("f-control")]


def _channel_reading(command: str) -> pool._ByteFaithfulChannel:
    """The channel as DeviceSession.show leaves it while an answer is read, its echo seen at 0."""
    channel = pool._ByteFaithfulChannel(None, "utf-8")
    channel.begin_answer(command)
    channel.echo_at = 0
    return channel


def _read(channel: pool._ByteFaithfulChannel, *chunks: bytes) -> bytes:
    """What the channel keeps of ``chunks`` read one after the other."""
    kept = b""
    for chunk in chunks:
        kept += channel._without_padding(chunk, channel.received)
        channel.received += len(chunk)
    return kept


def test_a_nul_joining_two_words_fails_even_split_between_two_reads():
    # the keyword's last byte in one read, the NUL ending it, the secret starting the next: the verdict
    # waits for the next read (a NUL ending a read is padding only if nothing but a blank follows)
    channel = _channel_reading("show running-config")
    with pytest.raises(pool.ParseError, match=r"NUL byte between two characters \(byte offset 42 "):
        _read(channel, b"show running-config\r\nsnmp-server community\0", b"SplitSecret42 RO\r\n")
    # padding split the same way, around a line break, is removed and counted
    channel = _channel_reading("show running-config")
    assert _read(channel, b"show running-config\r\nhostname a\r\0", b"\0\nend\r\n\0", b"\0") == (
        b"show running-config\r\nhostname a\r\nend\r\n")
    assert (channel.nuls, channel.first_nul) == (4, 32)


def test_outside_an_answer_padding_nuls_go_and_are_not_counted():
    channel = pool._ByteFaithfulChannel(None, "utf-8")
    assert _read(channel, b"\r\nsw1#\0") == b"\r\nsw1#" and channel.nuls == 0  # find_prompt finds `sw1#`
