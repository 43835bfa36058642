"""The session pool against real SSH servers (fakenos on loopback)."""

from __future__ import annotations

import threading

import pytest

from netops.access import (
    AccessStatus, DeviceTarget, ParseError, RetryPolicy, SessionPool,
)
from netops.access.pool import connect
from netops.secrets import Secret
from tests.ssh import lab


def target(address_map, name, password=lab.PASSWORD, read_timeout=10.0, platform="cisco_ios"):
    host, port = address_map[name]
    return DeviceTarget(name, platform, host, port, lab.USER, Secret(password),
                        conn_timeout_s=3, read_timeout_s=read_timeout)


def hostname_task(session):
    out = session.show("show running-config")
    lines = [l for l in out.splitlines() if l.startswith("hostname")]
    if not lines:
        raise ParseError("no hostname line")
    return lines[0].split()[1].strip('"')


def test_every_device_gets_a_typed_result_and_one_failure_stops_nothing(fleet, address_map):
    targets = [
        target(address_map, "pop1-dist"),
        target(address_map, "s2-sw"),                      # wrong password on the device side
        target(address_map, "s3-sw", read_timeout=1.0),    # hangs after login
        target(address_map, "s4-sw"),                      # nothing listening
        target(address_map, "s1-sw"),
    ]
    seen = []
    pool = SessionPool(workers=5, login_limit=2, retry=RetryPolicy(retries=1, backoff_s=0.05))
    results = pool.run(targets, hostname_task, on_result=lambda r: seen.append(r.device))

    by_name = {r.device: r for r in results}
    assert [r.device for r in results] == [t.name for t in targets]  # input order kept
    assert sorted(seen) == sorted(by_name)
    assert by_name["pop1-dist"].status == AccessStatus.OK and by_name["pop1-dist"].value == "pop1-dist"
    assert by_name["s1-sw"].value == "s1-sw"
    assert by_name["s2-sw"].status == AccessStatus.AUTH_FAILED
    assert by_name["s2-sw"].attempts == 1  # never retried: it would lock the account
    assert by_name["s3-sw"].status == AccessStatus.TIMEOUT
    assert by_name["s3-sw"].elapsed_s < lab.HANG_S  # closed hard, not waiting for the device
    assert by_name["s4-sw"].status == AccessStatus.UNREACHABLE
    assert by_name["s4-sw"].attempts == 2  # one retry with backoff
    for r in results:
        assert lab.PASSWORD not in (r.error or "")


def test_parse_errors_are_reported_per_device(fleet, address_map):
    def lldp_of_unknown_command(session):
        parsed = session.show("show nonsense", textfsm=True)
        if not isinstance(parsed, list):
            raise ParseError(f"unparsable: {parsed[:40]!r}")
        return parsed

    [result] = SessionPool(workers=1).run([target(address_map, "s1-sw")], lldp_of_unknown_command)
    assert result.status == AccessStatus.PARSE_ERROR
    assert "unparsable" in result.error


def test_sessions_are_read_only(fleet, address_map):
    [result] = SessionPool(workers=1).run([target(address_map, "s1-sw")],
                                          lambda s: s.show("configure terminal"))
    assert result.status == AccessStatus.ERROR
    assert "refusing non-show command" in result.error


def test_login_limit_bounds_simultaneous_logins(fleet, address_map):
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def counting_connect(**kwargs):
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        try:
            return connect(**kwargs)
        finally:
            with lock:
                active["now"] -= 1

    names = ["pop1-dist", "s1-sw", "pop1-dist", "s1-sw", "pop1-dist", "s1-sw"]
    targets = [DeviceTarget(f"{n}#{i}", "cisco_ios", *address_map[n], lab.USER, Secret(lab.PASSWORD))
               for i, n in enumerate(names)]
    pool = SessionPool(workers=6, login_limit=2, connect=counting_connect)
    results = pool.run(targets, lambda s: s.show("show running-config")[:10])
    assert all(r.ok for r in results)
    assert active["max"] == 2
    stats = pool.login_stats  # what sizing the login limit needs: logins and their duration
    assert stats.logins == 6 and 0 < stats.mean_login_s < stats.held_s and stats.waited_s > 0


def test_pool_rejects_nonsense_sizes():
    with pytest.raises(ValueError):
        SessionPool(workers=0)


def test_junos_backup_audit_and_lldp_end_to_end(fleet, address_map):
    from configs.audit import audit_config
    from configs.backup import fetch_config
    from configs.lldp import collect_neighbours
    from configs.rules import load_rules

    t = target(address_map, "pop1-core", platform="juniper_junos")
    # one session for both: netmiko's Junos logout waits ~10 s on fakenos
    [result] = SessionPool(workers=1).run([t], lambda s: (fetch_config(s), collect_neighbours(s)))
    assert result.ok, result
    config, neighbours = result.value
    assert "set system host-name pop1-core" in config and "Last commit" not in config
    assert "PlantedJunos" not in config
    audit = audit_config("pop1-core", "juniper_junos", "core_router", "core", config, load_rules())
    assert {r.rule_id for r in audit.failures} == {"junos-no-telnet", "junos-snmp-v3-only"}
    assert len(audit.results) == sum(1 for r in load_rules() if "juniper_junos" in r.platforms) >= 15
    assert [(n.local_interface, n.remote_device, n.remote_interface) for n in neighbours] == \
        [("xe-0/0/0", "pop1-dist", "GigabitEthernet1/0/49")]



def test_the_login_caps_netmikos_long_reads_and_keeps_its_short_ones(monkeypatch):
    """netmiko's session set-up reads up to 20 s for a prompt whatever conn_timeout says; the
    login caps every read at its timeout. netmiko's read_timeout_override (tried first) set
    them all to it: ProCurve's 1.3 s wait for a "Copyright" banner became the whole timeout
    (the benchmark's mean login went from 1.2 to 2.5 s)."""
    from netmiko.base_connection import BaseConnection

    from tests.ssh.scripted_device import ScriptedDevice

    asked: list[tuple[str, float]] = []
    read = BaseConnection.read_until_pattern

    def spy(self, pattern="", read_timeout=10.0, *args, **kwargs):
        asked.append((pattern, read_timeout))
        return read(self, pattern, read_timeout, *args, **kwargs)

    monkeypatch.setattr(BaseConnection, "read_until_pattern", spy)
    with ScriptedDevice("cap-sw", lab.USER, lab.PASSWORD) as device:
        connection = connect(device_type="hp_procurve", host="127.0.0.1", port=device.port, username=lab.USER,
                             password=lab.PASSWORD, login_read_cap_s=2.5)
        during_login, asked[:] = list(asked), []
        connection.disconnect()
    assert (".*opyright", 1.3) in during_login  # ProCurve's own short wait, as netmiko sets it
    assert ("(any key to continue|[>#])", 2.5) in during_login  # netmiko's 3 s, capped
    assert all(0 < timeout <= 2.5 for _pattern, timeout in during_login), during_login
