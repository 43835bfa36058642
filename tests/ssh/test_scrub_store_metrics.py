"""Scrubbing, the git store and the metrics collector, without SSH."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from configs.metrics import ConfigStateCollector
from configs.scrub import Fingerprinter, scrub_config
from configs.state import Workspace
from configs.store import Change, GitConfigStore
from netops.secrets import Secret

FP = Fingerprinter(Secret("unit-test-fingerprint-key-0123456789abcdef"))
LINES = {  # line with a planted secret -> what must remain of it ({} = the secret's marker)
    "enable secret 9 $9$SECRET-A": "enable secret 9 {}",
    "enable password SECRET-B": "enable password {}",
    "username bob privilege 15 secret 5 SECRET-C": "username bob privilege 15 secret 5 {}",
    " password 7 SECRET-D": " password 7 {}",
    "snmp-server community SECRET-E RO 10": "snmp-server community {} RO 10",
    "snmp-server host 10.0.0.1 version 2c SECRET-F": "snmp-server host 10.0.0.1 version 2c {}",
    "snmp-server host 10.0.0.2 version 3 priv v3user": "snmp-server host 10.0.0.2 version 3 priv v3user",
    "snmp-server user u g v3 auth sha SECRET-G priv aes 128 SECRET-H":
        "snmp-server user u g v3 auth sha {} priv aes 128 {}",
    "tacacs-server host 10.0.0.9 key 7 SECRET-I": "tacacs-server host 10.0.0.9 key 7 {}",
    " key 7 SECRET-J": " key 7 {}",
    "crypto isakmp key SECRET-K address 0.0.0.0": "crypto isakmp key {} address 0.0.0.0",
    " wpa-psk ascii 0 SECRET-L": " wpa-psk ascii 0 {}",
    'password manager user-name "admin" sha1 "SECRET-M"': 'password manager user-name "admin" sha1 "{}"',
    'snmpv3 user "u" auth sha "SECRET-N" priv aes "SECRET-O"': 'snmpv3 user "u" auth sha "{}" priv aes "{}"',
    'radius-server host 10.0.0.9 key "SECRET-P"': 'radius-server host 10.0.0.9 key "{}"',
    'set system root-authentication encrypted-password "SECRET-Q"':
        'set system root-authentication encrypted-password "{}"',
    "set snmp community SECRET-R authorization read-only": "set snmp community {} authorization read-only",
    'set security ike policy p pre-shared-key ascii-text "SECRET-S"':
        'set security ike policy p pre-shared-key ascii-text "{}"',
    "description uplink, the ssh password is SECRET-T": "description uplink, the ssh password is {}",
    "service password-encryption": "service password-encryption",
}


def test_every_kind_of_secret_is_masked_and_keywords_stay():
    out = scrub_config("\n".join(LINES), [Secret("SECRET-T")], FP)
    secrets = iter(re.findall(r"(?:\$9\$)?SECRET-\w", "\n".join(LINES)))
    assert out.text.splitlines() == [re.sub(r"\{\}", lambda _: FP.marker(next(secrets)), want)
                                     for want in LINES.values()]
    assert "SECRET" not in out.text
    assert out.secrets_removed == 20


def test_volatile_lines_go_so_unchanged_configs_compare_equal():
    a = "Building configuration...\n\n! Last configuration change at 10:00:01 UTC\nntp clock-period 1717\nhostname x\n"
    b = "Building configuration...\n\n! Last configuration change at 11:30:00 UTC\nntp clock-period 1718\nhostname x\n"
    assert scrub_config(a).text == scrub_config(b).text == "hostname x\n"
    assert scrub_config(a).volatile_removed == 3


def test_store_history_and_diff_since(tmp_path):
    store = GitConfigStore(tmp_path / "repo").ensure()
    assert store.write("sw/1", "hostname a\n") == Change.NEW  # a "/" in a name stays one flat file
    first = store.commit("run 1", ["sw/1"])
    assert store.write("sw/1", "hostname a\n") == Change.UNCHANGED
    assert store.commit("run 2", ["sw/1"]) is None
    assert store.write("sw/1", "hostname b\n") == Change.CHANGED
    second = store.commit("run 3", ["sw/1"])
    assert [r.commit for r in store.history("sw/1")] == [second, first]
    assert store.devices() == ["sw/1"]
    assert store.diff("sw/1", since="2000-01-01").from_commit is None  # nothing that old: from the start
    since_now = store.diff("sw/1", since="now")
    assert since_now.from_commit == second and since_now.diff == ""
    assert "-hostname a\n+hostname b" in store.diff("sw/1").diff



def test_one_read_gives_every_devices_last_commit(tmp_path):
    """``committed_bytes`` reads a run's devices with one ``git cat-file --batch``: each
    device gets its own bytes, whatever they hold (a line saying "missing", no newline at the
    end, nothing at all), and a device never committed gets None."""
    store = GitConfigStore(tmp_path / "repo").ensure()
    assert store.committed_bytes(["sw/1"]) == {"sw/1": None}  # no commit yet
    texts = {"sw/1": "HEAD:x missing\n", "sw 2": "hostname b", "sw3": ""}
    for device, text in texts.items():
        store.write(device, text)
    store.commit("run 1", list(texts))
    store.write("sw4", "hostname d\n")  # in the work tree only: no version
    assert store.committed_bytes(["sw4", *texts, "sw/1"]) == {
        "sw4": None, **{d: t.encode() for d, t in texts.items()}}
    assert store.write("sw 2", "hostname b", store.committed_bytes(["sw 2"])["sw 2"]) == Change.UNCHANGED

def _workspace(tmp_path) -> Workspace:
    ws = Workspace(tmp_path)
    with ws.update_state() as state:
        state["backup"] = {"devices": {"a": {"last_success": 1000.0, "status": "ok"},
                                       "b": {"status": "timeout"}}, "last_run": 1000.0}
        state["audit"] = {"rules": {"ios-ssh-v2": {"severity": "high", "title": "t", "compliant": 3,
                                                   "noncompliant": 1}}, "last_run": 1000.0}
        state["lldp"] = {"mismatches": {"missing": 1, "mispatched": 0, "unexpected": 2}, "last_run": 1000.0}
    return ws


def test_collector_computes_ages_at_scrape_time(tmp_path):
    clock = {"now": 1100.0}
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(_workspace(tmp_path), clock=lambda: clock["now"]))
    assert 'netops_config_backup_age_seconds{device="a"} 100.0' in generate_latest(registry).decode()
    clock["now"] = 1160.0
    text = generate_latest(registry).decode()
    assert 'netops_config_backup_age_seconds{device="a"} 160.0' in text
    assert 'netops_lldp_mismatches{kind="unexpected"} 2.0' in text
    assert 'netops_config_run_last_timestamp_seconds{run="lldp"} 1000.0' in text


def test_collector_output_passes_promtool(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) not installed")
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(_workspace(tmp_path)))
    proc = subprocess.run([promtool, "check", "metrics"], input=generate_latest(registry),
                          capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_collector_on_an_empty_workspace_yields_empty_families(tmp_path):
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(Workspace(tmp_path / "nothing-yet")))
    text = generate_latest(registry).decode()
    assert "# TYPE netops_config_backup_age_seconds gauge" in text and 'device="' not in text


def test_a_damaged_state_file_reads_as_unreadable_not_as_a_broken_scrape(tmp_path, caplog):
    """A damaged state.json costs the config gauges, not /metrics: the collector says it
    could not read the record (alert NetopsConfigStateUnreadable) and logs why in one line."""
    workspace = Workspace(tmp_path / "ws")
    workspace.root.mkdir()
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(workspace))
    for damage in ('{"backup": 5}', '{"backup": {"devices": {', "\x00\xff"):
        workspace.state_path.write_bytes(damage.encode("latin-1"))
        caplog.clear()
        text = generate_latest(registry).decode()
        assert "netops_config_state_readable 0.0" in text
        assert "netops_config_backup_age_seconds" not in text
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        assert str(workspace.state_path) in caplog.records[0].getMessage()
    workspace.state_path.unlink()
    assert "netops_config_state_readable 1.0" in generate_latest(registry).decode()
