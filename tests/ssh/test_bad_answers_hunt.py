"""Hunted (session 12): devices whose answer is no text config, or never ends.

Scripted IOS switches on loopback (tests/ssh/scripted_device.py), backed up with the CLI in
one run beside a healthy one: a device closing the session half way through its config, one
whose answer is mostly NUL bytes (line noise), one answering in UTF-16 (a config file saved so),
one that pages for ever (each page's pager prompt erased at once, as after a key press), one
that repeats its config for ever. Each
must fail alone (exit 3, one line for it), the healthy one be backed up, and nothing of the
others be written. On main the NUL and UTF-16 configs were stored (git keeps them as binary
files: no diff, the rules read nothing), and the repeating one was read into memory until the
read timeout (30 s by default: hundreds of MB per device), then called "no answer".
"""

from __future__ import annotations

import subprocess

import pytest

from configs.state import Workspace
from configs.store import file_name
from netops.access import pool
from tests.ssh.scripted_device import ScriptedDevice, ios_config
from tests.ssh.test_failures_hunt import PASSWORD, USER, backup, hunt_workspace

#: device -> (behaviour, config or None, status, words of its error)
CASES = {
    "b-control": ("whole", None, "ok", None),
    "b-closes": ("close_mid", None, "unreachable", "closed the session before the answer was complete"),
    # (12 KiB of NULs after the config; a few stray NUL bytes are removed instead: test_backup_size_and_nul.py)
    "b-nul": ("nul_flood", None, "parse_error", "NUL bytes (12288 of its"),
    "b-utf16": ("utf16", None, "parse_error", "NUL byte between two characters"),
    # a read ending inside a page's erased pager prompt is a pager prompt; else the size ends it
    "b-endless": ("endless", None, "parse_error", None),
    "b-repeats": ("repeat", None, "parse_error", "the answer passed 0.25 MiB without ending"),
    # a NUL byte where the blank between a keyword and its secret was: removed, it would join them into
    # one word no rule knows (`snmp-server communityV RO`), stored unscrubbed; padding is only a NUL
    # beside a blank or a line break (test_backup_size_and_nul.py)
    **{name: ("whole", ios_config(name, 4).replace("line vty", f"{line}\nline vty"), "parse_error",
              "NUL byte between") for name, line in (
        ("b-joined-community", "snmp-server community\0JoinedCommunity42 RO"),
        ("b-joined-key", "tacacs-server key\0JoinedTacacsKey42"),
        ("b-joined-user", "username bob password\x000 JoinedUserPass42"))},
}
#: the secrets the joined devices hold: in no file of the workspace, nor the run's output
JOINED_SECRETS = ("JoinedCommunity42", "JoinedTacacsKey42", "JoinedUserPass42")


@pytest.fixture
def devices():
    running = {name: ScriptedDevice(name, USER, PASSWORD, behaviour, cut=12, config=config).__enter__()
               for name, (behaviour, config, _status, _says) in CASES.items()}
    yield running
    for device in running.values():
        device.__exit__(None, None, None)


def test_a_device_whose_answer_is_no_text_or_never_ends_fails_alone(devices, tmp_path, monkeypatch):
    # the size at which an answer that has not ended fails (64 MiB in use): small, so that the
    # endless device reaches it well within the profile's read timeout of 2 s
    monkeypatch.setattr(pool, "ANSWER_MAX_BYTES", 256 * 2**10, raising=False)
    env = hunt_workspace(tmp_path, devices)
    code, report = backup(env)
    by_device = {d["device"]: d for d in report["devices"]}
    assert code == 3, report
    for name, (_behaviour, _config, status, says) in CASES.items():
        result = by_device[name]
        assert result["status"] == status, result
        if status == "ok":
            assert result["change"] == "new", result
            continue
        assert result["change"] is None and result["error"] and "\n" not in result["error"], result
        assert says is None or says in result["error"], result
    assert "0.25 MiB without ending" in by_device["b-endless"]["error"] \
        or "pager prompt" in by_device["b-endless"]["error"], by_device["b-endless"]
    # nothing of a failed device is written: the store holds the healthy one's config only
    repo = tmp_path / "ws" / "repo"
    assert sorted(p.name for p in repo.glob("*.cfg")) == [file_name("b-control")]
    assert (repo / file_name("b-control")).read_text().rstrip().endswith("end")
    tracked = subprocess.run(["git", "-C", str(repo), "ls-files"], capture_output=True, text=True).stdout.split()
    assert tracked == [file_name("b-control")]
    state = Workspace(tmp_path / "ws").read_state()["backup"]["devices"]
    assert {name: entry["status"] for name, entry in state.items()} == {n: c[2] for n, c in CASES.items()}
    assert all("last_success" not in state[name] for name in CASES if name != "b-control")
    written = b"".join(p.read_bytes() for p in (tmp_path / "ws").rglob("*") if p.is_file()) + str(report).encode()
    assert not [secret for secret in JOINED_SECRETS if secret.encode() in written]


def test_the_answer_budget_is_the_size_the_store_reads_back():
    # one limit in two places (netops/ does not import configs/): the store refuses a larger file as no
    # config. (Scrubbing can still lengthen a config a little, a marker being longer than most secrets.)
    from configs.store import STORED_CONFIG_MAX_BYTES

    assert pool.ANSWER_MAX_BYTES == STORED_CONFIG_MAX_BYTES
