"""Every failure named right, against real servers on loopback: unknown and changed host
keys (a fakenos host with a second server key), a port that accepts TCP and never speaks
SSH, library tracebacks kept off stderr, unknown selectors, remediate without backups."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time

import paramiko
import pytest

from netops.access import AccessStatus, DeviceTarget, RetryPolicy, SessionPool
from netops.secrets import Secret
from tests.ssh import lab
from tests.ssh.test_cli_and_leaks import cli_env, invoke  # noqa: F401 - fixture
from tests.support.fakenos_fleet import Fleet, HostSpec


def server_key(port: int) -> paramiko.PKey:
    """The host key a server on loopback offers (what ssh-keyscan would print)."""
    transport = paramiko.Transport(("127.0.0.1", port))
    try:
        transport.start_client(timeout=5)
        return transport.get_remote_server_key()
    finally:
        transport.close()


def write_known_hosts(path, keys: dict[int, paramiko.PKey]) -> str:
    known = paramiko.HostKeys()
    for port, key in keys.items():
        known.add(f"[127.0.0.1]:{port}", key.get_name(), key)
    known.save(str(path))
    return str(path)


def target(port: int, name: str = "dev", known_hosts: str | None = None, conn_timeout: float = 3) -> DeviceTarget:
    return DeviceTarget(name, "cisco_ios", "127.0.0.1", port, lab.USER, Secret(lab.PASSWORD),
                        conn_timeout_s=conn_timeout, read_timeout_s=10, known_hosts=known_hosts)


def hostname(session) -> str:
    return next(l.split()[1] for l in session.show("show running-config").splitlines() if l.startswith("hostname"))


POOL = dict(workers=4, retry=RetryPolicy(retries=2, backoff_s=0.05))  # retries on: a failure must not use them


@pytest.fixture(scope="module")
def rekeyed(tmp_path_factory):
    """A device that was replaced: same address, a second (new) server key."""
    key_file = tmp_path_factory.mktemp("hostkey") / "second_rsa_key"
    paramiko.RSAKey.generate(2048).write_private_key_file(str(key_file))
    fleet = Fleet({"s9-sw": HostSpec("cisco_ios", lab.USER, lab.PASSWORD,
                                     {"show running-config": {"output": "hostname s9-sw\n!\nend"}},
                                     server_key_file=str(key_file))}).start()
    yield fleet.ports["s9-sw"]
    fleet.stop()


@pytest.fixture
def silent_port():
    """A TCP listener on loopback that accepts every connection and never sends a byte."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    for conn in held:
        conn.close()
    thread.join(timeout=5)


@pytest.fixture
def dropping_port():
    """A listener whose accept queue is full and never drained: the kernel drops further
    SYNs, as for a host behind a firewall that drops (a TCP connect that times out)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)
    yield port
    for sock in (*fillers, server):
        sock.close()


class _LoginThatHangs(paramiko.ServerInterface):
    def __init__(self, release: threading.Event):
        self.release = release

    def get_allowed_auths(self, username):
        return "password"

    def check_auth_password(self, username, password):
        self.release.wait(15)  # the AAA server behind the device does not answer
        return paramiko.AUTH_FAILED


@pytest.fixture
def hanging_login_port():
    """A real SSH server (paramiko) that completes the handshake and never answers the login."""
    from fakenos.plugins.servers.ssh_server_paramiko import DEFAULT_SSH_KEY

    key = paramiko.RSAKey(file_obj=io.StringIO(DEFAULT_SSH_KEY))
    server = socket.create_server(("127.0.0.1", 0))
    release, transports = threading.Event(), []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(key)
            transports.append(transport)
            transport.start_server(threading.Event(), server=_LoginThatHangs(release))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    release.set()
    server.close()
    for transport in transports:
        transport.close()
    thread.join(timeout=5)


# -- host keys ----------------------------------------------------------------------------
def test_known_key_is_accepted_and_an_unknown_one_refused_naming_file_and_fingerprint(fleet, address_map, tmp_path):
    s1_port, pop1_port = address_map["s1-sw"][1], address_map["pop1-dist"][1]
    known = write_known_hosts(tmp_path / "known_hosts", {s1_port: server_key(s1_port)})
    results = SessionPool(**POOL).run([target(s1_port, "s1-sw", known), target(pop1_port, "pop1-dist", known)],
                                      hostname)
    assert results[0].ok and results[0].value == "s1-sw"
    refused = results[1]
    assert refused.status == AccessStatus.HOST_KEY_REJECTED and refused.attempts == 1
    seen = server_key(pop1_port)
    assert f"127.0.0.1:{pop1_port} is not in known-hosts file {known}" in refused.error
    assert f"{seen.get_name()} {seen.fingerprint}" in refused.error and refused.error.count("\n") == 0


def test_a_changed_host_key_is_named_with_both_fingerprints_and_never_retried(fleet, address_map, rekeyed, tmp_path):
    old_key = server_key(address_map["s1-sw"][1])  # what the device offered before it was replaced
    new_key = server_key(rekeyed)
    assert new_key.fingerprint != old_key.fingerprint
    known = write_known_hosts(tmp_path / "known_hosts", {rekeyed: old_key})
    [result] = SessionPool(**POOL).run([target(rekeyed, "s9-sw", known)], hostname)
    assert result.status == AccessStatus.HOST_KEY_REJECTED and result.attempts == 1
    assert "CHANGED" in result.error and known in result.error
    assert new_key.fingerprint in result.error and old_key.fingerprint in result.error
    # the server itself is fine: without strict checking the same device answers
    [lax] = SessionPool(**POOL).run([target(rekeyed, "s9-sw")], hostname)
    assert lax.ok and lax.value == "s9-sw"


def test_cli_reports_host_key_rejected_with_exit_3(fleet, address_map, cli_env, tmp_path):  # noqa: F811
    s1_port = address_map["s1-sw"][1]
    known = write_known_hosts(tmp_path / "known_hosts", {s1_port: server_key(s1_port)})
    r, _ = invoke(cli_env, "config", "backup", "--device", "s1-sw", "--device", "pop1-dist", "--json",
                  "--known-hosts", known, "--address-map", cli_env["ADDR"])
    assert r.exit_code == 3
    body = json.loads(r.stdout)
    by = {d["device"]: d for d in body["devices"]}
    assert by["s1-sw"]["status"] == "ok"
    # what sizing --login-limit needs: both attempted a login, the refused key's one counts too
    assert body["logins"]["logins"] == 2 and body["logins"]["mean_login_s"] > 0
    assert body["logins"]["login_limit"] == 8
    assert by["pop1-dist"]["status"] == "host_key_rejected" and known in by["pop1-dist"]["error"]


# -- hangs at each step of a connection: one conn_timeout, never retried ------------------
@pytest.mark.parametrize("server, status, says", [
    # accepts TCP, never speaks SSH
    ("silent_port", AccessStatus.TIMEOUT, "accepted the connection but completed no SSH handshake within 2s"),
    # drops the TCP handshake (a firewall that drops)
    ("dropping_port", AccessStatus.UNREACHABLE, "within 2s (TCP connect)"),
    # speaks SSH, never answers the login (its AAA server hangs): netmiko would say "wrong password"
    ("hanging_login_port", AccessStatus.TIMEOUT, "did not answer the login within 2s"),
])
def test_a_hang_costs_one_profile_timeout_and_is_named(request, server, status, says):
    port = request.getfixturevalue(server)
    started = time.monotonic()
    [result] = SessionPool(**POOL).run([target(port, conn_timeout=2)], hostname)
    elapsed = time.monotonic() - started
    assert result.status == status and result.attempts == 1
    assert says in result.error and f"127.0.0.1:{port}" in result.error
    # bounded by the profile's conn_timeout (2 s), not (retries + 1) of them
    assert 1.8 <= elapsed < 3.5, elapsed


def test_the_cli_prints_no_library_traceback(silent_port, cli_env, tmp_path):  # noqa: F811
    """The installed command in its own process (real stderr, no pytest log capture)."""
    amap = tmp_path / "silent.json"
    amap.write_text(json.dumps({"s1-sw": f"127.0.0.1:{silent_port}"}))
    env = {**os.environ, **cli_env, "NETOPS_SSH_LOGIN_LIMIT": "2"}
    netops = os.path.join(os.path.dirname(sys.executable), "netops")
    proc = subprocess.run([netops, "config", "backup", "--device", "s1-sw", "--json", "--retries", "3",
                           "--address-map", str(amap)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 3, proc.stderr
    [device] = json.loads(proc.stdout)["devices"]
    # the switches' profile: conn_timeout 3 s
    assert device["status"] == "timeout" and "no SSH handshake within 3s" in device["error"]
    assert "Traceback" not in proc.stderr and "paramiko" not in proc.stderr.lower(), proc.stderr


def test_library_records_are_kept_at_debug(silent_port, caplog, monkeypatch):
    # the level netops.access.pool sets; test helpers that import later (fakenos_fleet)
    # silence paramiko for the test servers, which would hide the records under test
    monkeypatch.setattr(logging.getLogger("paramiko"), "level", logging.WARNING)
    caplog.set_level("DEBUG", logger="netops.access.pool")
    SessionPool(workers=1).run([target(silent_port, conn_timeout=1)], hostname)
    deadline = time.monotonic() + 5  # paramiko's transport thread logs after we gave up
    ours = lambda: [r for r in caplog.records  # noqa: E731
                    if r.name == "netops.access.pool" and r.getMessage().startswith("paramiko")]
    while time.monotonic() < deadline and not ours():
        time.sleep(0.1)
    library = ours()
    assert library and all(r.levelname == "DEBUG" for r in library)
    assert any("SSH protocol banner" in r.getMessage() for r in library)


def test_refused_connections_and_wrong_passwords_say_what_happened(fleet, address_map):
    targets = [target(address_map["s4-sw"][1], "s4-sw"),  # nothing listens
               DeviceTarget("s2-sw", "cisco_ios", *address_map["s2-sw"], lab.USER, Secret(lab.PASSWORD))]
    s4, s2 = SessionPool(**POOL).run(targets, hostname)
    assert s4.status == AccessStatus.UNREACHABLE and s4.attempts == 3  # cheap to retry
    assert s4.error == f"connection to 127.0.0.1:{address_map['s4-sw'][1]} refused"
    assert s2.status == AccessStatus.AUTH_FAILED and s2.attempts == 1
    assert s2.error.startswith(f"login refused for user '{lab.USER}'") and lab.PASSWORD not in s2.error


# -- selectors and remediate ---------------------------------------------------------------
@pytest.mark.parametrize("args, says", [
    (["config", "backup", "--device", "s1-sx"], "--device 's1-sx': no such device in the inventory "
                                                "(did you mean 's1-sw'"),
    (["config", "audit", "--device", "S1-SW"], "(did you mean 's1-sw'"),
    (["config", "audit", "--from-store", "--site", "POP2"], "--site 'POP2': no such site in the inventory "
                                                            "(did you mean 'POP1'"),
    (["lldp", "verify", "--district", "Bure"], "(did you mean 'Buer'"),
    (["config", "remediate", "--device", "pop1-dst"], "(did you mean 'pop1-dist'"),
    (["config", "audit", "--intended", "--device", "zzz-unknown"], "--device 'zzz-unknown': no such device"),
])
def test_unknown_selectors_are_exit_2_with_a_suggestion(cli_env, args, says):  # noqa: F811
    r, out = invoke(cli_env, *args, "--address-map", cli_env["ADDR"]) if args[1] in ("backup", "verify") \
        else invoke(cli_env, *args)
    assert r.exit_code == 2, out
    assert says in " ".join(out.split())
    assert "Traceback" not in out


def test_several_unknown_names_are_all_reported(cli_env):  # noqa: F811
    r, out = invoke(cli_env, "config", "audit", "--from-store", "--device", "s1-sx", "--device", "k1-sw",
                    "--device", "qqq", "--site", "K9")
    text = " ".join(out.split())
    assert r.exit_code == 2 and "'s1-sx'" in text and "'qqq': no such device in the inventory;" in text
    assert "'k1-sw'" not in text and "--site 'K9'" in text


def test_remediate_over_devices_without_backup_says_so_and_succeeds(cli_env):  # noqa: F811
    r, out = invoke(cli_env, "config", "remediate", "--device", "s1-sw", "--device", "k1-sw")
    assert r.exit_code == 0, out
    assert "no backup yet, nothing to plan (run `netops config backup` first): k1-sw, s1-sw" in " ".join(out.split())
    r, _ = invoke(cli_env, "config", "remediate", "--device", "s1-sw", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout) == {"plans": [], "not_in_store": ["s1-sw"], "not_audited": []}


# -- one severity scale --------------------------------------------------------------------
def test_fail_on_takes_the_audit_scale_and_the_old_words(fleet, cli_env):  # noqa: F811
    addr = ["--address-map", cli_env["ADDR"]]
    r, _ = invoke(cli_env, "config", "backup", "--device", "s1-sw", *addr)
    assert r.exit_code == 0
    for word, code in (("critical", 1), ("high", 1), ("info", 1)):
        r, _ = invoke(cli_env, "config", "audit", "--from-store", "--device", "s1-sw", "--fail-on", word)
        assert r.exit_code == code, word
    r, out = invoke(cli_env, "config", "audit", "--from-store", "--device", "s1-sw", "--fail-on", "urgent")
    assert r.exit_code == 2 and "unknown severity 'urgent'" in out
    r, out = invoke(cli_env, "config", "audit", "--from-store", "--device", "s1-sw", "--json")
    severities = {res["severity"] for d in json.loads(r.stdout)["devices"] for res in d["results"]}
    assert severities == {"critical", "warning", "info"}
    failed = {(d["device"], res["rule"], res["severity"]) for d in json.loads(r.stdout)["devices"]
              for res in d["results"] if res["status"] == "noncompliant"}
    r, out = invoke(cli_env, "config", "audit", "--from-store", "--device", "s1-sw", "--format", "csv")
    assert failed and {(row["device"], row["rule"], row["severity"])
                       for row in csv.DictReader(io.StringIO(r.stdout))} == failed  # one row per finding
    # LLDP: k1-sw has only a mispatched link (warning), pop1-dist a missing one (critical)
    r, out = invoke(cli_env, "lldp", "verify", "--device", "k1-sw", "--fail-on", "critical", "--json", *addr)
    assert r.exit_code == 0, out
    assert {f["severity"] for f in json.loads(r.stdout)["findings"]} == {"warning"}
    r, out = invoke(cli_env, "lldp", "verify", "--device", "k1-sw", "--format", "csv", *addr)
    assert [row["severity"] for row in csv.DictReader(io.StringIO(r.stdout))] == ["warning"], out
    r, _ = invoke(cli_env, "lldp", "verify", "--device", "k1-sw", "--fail-on", "warning", *addr)
    assert r.exit_code == 1
    r, _ = invoke(cli_env, "lldp", "verify", "--device", "pop1-dist", "--fail-on", "critical", *addr)
    assert r.exit_code == 1
    r, out = invoke(cli_env, "lldp", "verify", "--device", "k1-sw", "--fail-on", "sometimes", *addr)
    assert r.exit_code == 2 and "unknown severity 'sometimes'" in out
