"""Hunted (session 11): text in a real config that looks like the end of the answer.

Each device is a scripted IOS switch on loopback (tests/ssh/scripted_device.py) whose config
holds one line netops did not write: a banner quoting the prompt (``sw1#``, ``sw1>``), a
description holding ``--More--``, colour codes, a carriage return overwriting a line, a
line ending in CR (typed on Windows), a line of 20,000 characters, Latin-1 bytes, and a
config whose last line is the prompt's text, a device printing "{master:0}" above its prompt
(a Junos virtual chassis member; its config is stored without that line). Backed up twice with the CLI: once sent at
once, once with a pause right after that line's text (before its line break, as a slow
device writes). Both times the store holds the config as the device sent it, scrubbed
(scrubbing keeps one line per line break, a lone CR is one), never a part of it. On main
the pause cut the config at the quoted prompt (the last line's variant lost that line), and
a description holding ``--More--`` made the device a parse error.
"""

from __future__ import annotations

import pytest

from configs.scrub import scrub_config
from configs.store import config_bytes, file_name
from tests.ssh.scripted_device import ScriptedDevice, ios_config
from tests.ssh.test_failures_hunt import PASSWORD, USER, backup, hunt_workspace


def banner(hostname: str, line: str) -> str:
    return ios_config(hostname, interfaces=4).replace("line vty 0 4", f"banner motd ^C\n{line}\n^C\nline vty 0 4")


#: device -> (its config, the line after whose text the slow device pauses)
VARIANTS = {
    "t-prompt": (banner("t-prompt", "t-prompt#"), "t-prompt#"),
    "t-exec": (ios_config("t-exec", 4).replace("line vty 0 4", "banner exec ^C\nt-exec>\n^C\nline vty 0 4"),
               "t-exec>"),
    "t-more": (ios_config("t-more", 4).replace(" description Raum 2", " description Patchfeld --More--"),
               " description Patchfeld --More--"),
    "t-ansi": (banner("t-ansi", "\x1b[1;31mNur Personal\x1b[0m t-ansi#"), "\x1b[1;31mNur Personal\x1b[0m t-ansi#"),
    "t-overwrite": (banner("t-overwrite", "Laden 10%\rt-overwrite#"), "Laden 10%\rt-overwrite#"),
    "t-crlf": (banner("t-crlf", "t-crlf#\r"), "t-crlf#\r"),
    "t-long": (banner("t-long", "x" * 20_000 + "\nt-long#"), "t-long#"),
    "t-latin1": (banner("t-latin1", "Gr\udcfc\udcdfe an t-latin1#\nt-latin1#"), "t-latin1#"),
    # the prompt's text as the config's last line: the real prompt follows it
    "t-last": (ios_config("t-last", 4) + "t-last#\n", "t-last#"),
    # a device printing a line above each prompt (Junos' "{master:0}" in a virtual chassis)
    "t-master": (banner("t-master", "{master:0}\nt-master#"), "t-master#"),
}
#: devices whose prompt has a line above it
PROMPTS = {"t-master": "{master:0}\r\nt-master#"}


@pytest.fixture
def devices():
    running = {}
    for name, (config, line) in VARIANTS.items():
        cut = len(config[:config.rindex(line + "\n")].split("\n"))
        running[name] = ScriptedDevice(name, USER, PASSWORD, "whole", cut=cut, config=config, pause_s=1.0,
                                       prompt=PROMPTS.get(name)).__enter__()
    yield running
    for device in running.values():
        device.__exit__(None, None, None)


def test_text_that_looks_like_the_answers_end_is_stored_whole(devices, tmp_path):
    env = hunt_workspace(tmp_path, devices)
    repo = tmp_path / "ws" / "repo"
    expected = {name: config_bytes(scrub_config(config).text) for name, (config, _line) in VARIANTS.items()}
    code, first = backup(env)
    assert code == 0, first
    assert {d["device"]: d["change"] for d in first["devices"]} == dict.fromkeys(VARIANTS, "new"), first
    for name in VARIANTS:
        assert (repo / file_name(name)).read_bytes() == expected[name], name

    for device in devices.values():
        device.behaviour = "pause_in_line"
    code, second = backup(env)
    assert code == 0, second
    assert {d["device"]: (d["status"], d["change"]) for d in second["devices"]} == \
        dict.fromkeys(VARIANTS, ("ok", "unchanged")), second
    for name in VARIANTS:
        assert (repo / file_name(name)).read_bytes() == expected[name], name
        assert devices[name].served == 2
