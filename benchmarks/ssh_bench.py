"""Backup + audit of the seeded city's switch population against fakenos, at several
pool settings (workers:login-limit): wall time, sessions per second, and what the AAA
servers would see (logins per second, mean time a login slot is held).

    .venv/bin/python benchmarks/ssh_bench.py                  # all active switches
    .venv/bin/python benchmarks/ssh_bench.py --devices 50 --settings 8:4,16:1,16:2,16:4,16:8,16:16

The switches' running configs are their intended configs (``configs.intended``) from
the seeded inventory, every fifth with planted violations and secrets, served by one
fakenos host per switch on 127.0.0.1 in a *child process* (so the SSH servers and the
netmiko clients do not share one interpreter lock). The peer is a plain sequential
netmiko loop (``ConnectHandler`` per device, one command), measured in the same run on
the same devices.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netmiko import ConnectHandler  # noqa: E402
from sqlmodel import select  # noqa: E402

from configs.audit import audit_store  # noqa: E402
from configs.backup import run_backup  # noqa: E402
from configs.intended import load_baseline, ports_of, render  # noqa: E402
from configs.rules import load_rules  # noqa: E402
from configs.scrub import Fingerprinter  # noqa: E402
from configs.state import Workspace  # noqa: E402
from configs.targets import DeviceFilter, build_targets, select_devices  # noqa: E402
from inventory.models import SshProfile  # noqa: E402
from inventory.seed import generate, seed  # noqa: E402
from netops import db as dbmod  # noqa: E402
from commands.ssh_common import DEFAULT_LOGIN_LIMIT, DEFAULT_WORKERS  # noqa: E402
from netops.access import RetryPolicy, SessionPool  # noqa: E402
from netops.secrets import SecretStore, env_name  # noqa: E402
from tests.support.fakenos_fleet import Fleet, HostSpec  # noqa: E402

PASSWORD = "bench-pw"
VIOLATIONS = "ip http server\nsnmp-server community PlantedBenchCommunity RO\n"


def city_switches(db_url: str, limit: int | None):
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        seed(session, generate())
    baseline = load_baseline()
    with dbmod.session_scope(engine) as session:
        devices = [d for d in select_devices(session, DeviceFilter(roles=("access_switch", "distribution_switch")))
                   if d.platform in ("cisco_ios", "hp_procurve")]
        devices = devices[:limit] if limit else devices
        configs = {}
        for i, d in enumerate(devices):
            text = render(d, ports_of(session, d.id), baseline)
            if i % 5 == 0 and d.platform == "cisco_ios":
                text = text.replace("no ip http server\n", VIOLATIONS)
            configs[d.name] = text
        profiles = sorted({d.ssh_profile for d in devices})
        users = {p.name: p.username for p in session.exec(select(SshProfile)).all()}
    return engine, devices, configs, profiles, users


def serve(specs: dict[str, HostSpec], conn) -> None:
    """Child process: run the fleet until SIGTERM."""
    fleet = Fleet(specs).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    conn.send(fleet.ports)
    while not stop.wait(0.5):
        pass
    fleet.stop()


def plain_loop(targets) -> float:
    started = time.monotonic()
    for t in targets:
        with ConnectHandler(device_type=t.platform, host=t.host, port=t.port, username=t.username,
                            password=t.password.reveal()) as conn:
            conn.enable()
            conn.send_command("show running-config")
    return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=None, help="limit the switch count")
    ap.add_argument("--settings", default=f"8:4,{DEFAULT_WORKERS}:1,{DEFAULT_WORKERS}:2,{DEFAULT_WORKERS}:4,"
                    f"{DEFAULT_WORKERS}:{DEFAULT_LOGIN_LIMIT},{DEFAULT_WORKERS}:16,32:16",
                    help="workers:login-limit pairs to measure")
    ap.add_argument("--peer-devices", type=int, default=12, help="devices for the sequential peer")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="netops-ssh-bench-"))
    t0 = time.monotonic()
    engine, devices, configs, profiles, users = city_switches(f"sqlite:///{tmp / 'city.db'}", args.devices)
    platforms = {d.platform for d in devices}
    print(f"{len(devices)} switches ({', '.join(sorted(platforms))}) from the seeded city "
          f"in {time.monotonic() - t0:.1f}s")

    specs = {d.name: HostSpec(d.platform, users[d.ssh_profile], PASSWORD,
                              {"show running-config": {"output": configs[d.name]}}) for d in devices}
    parent, child = mp.Pipe()
    # spawn, not fork: a forked child can inherit a lock held by another thread and hang
    server = mp.get_context("spawn").Process(target=serve, args=(specs, child), daemon=True)
    t0 = time.monotonic()
    server.start()
    while not parent.poll(0.5):
        if not server.is_alive():
            raise SystemExit(f"the fakenos fleet process died (exit code {server.exitcode})")
    ports = parent.recv()
    print(f"fakenos fleet of {len(ports)} hosts listening in {time.monotonic() - t0:.1f}s (pid {server.pid})")

    secrets = SecretStore(environ={env_name("ssh", p, "password"): PASSWORD for p in profiles})
    address_map = {name: ("127.0.0.1", port) for name, port in ports.items()}
    with dbmod.session_scope(engine) as session:
        targets = build_targets(session, devices, secrets, address_map)
    assert all(t.host == "127.0.0.1" for t in targets.ready), "only loopback, never a mgmt address"
    rules = load_rules()
    rows = []
    try:
        for setting in args.settings.split(","):
            workers, login_limit = (int(v) for v in setting.split(":"))
            ws = Workspace(tmp / f"ws-{workers}-{login_limit}")
            pool = SessionPool(workers, login_limit, RetryPolicy(retries=1))
            started = time.monotonic()
            report = run_backup(targets.ready, pool, ws, targets.unusable, fingerprint=Fingerprinter.ephemeral())
            backup_s = time.monotonic() - started
            started = time.monotonic()
            audit = audit_store(devices, ws.store(), rules)
            audit_s = time.monotonic() - started
            ok = sum(1 for d in report.devices if d.status == "ok")
            noncompliant = sum(1 for d in audit.devices if d.failures)
            stats = pool.login_stats
            default = " (default)" if (workers, login_limit) == (DEFAULT_WORKERS, DEFAULT_LOGIN_LIMIT) else ""
            rows.append((f"{workers}:{pool.login_limit}{default}", len(devices), ok, backup_s, ok / backup_s,
                         stats.logins / backup_s, stats.mean_login_s, stats.waited_s / max(1, stats.logins),
                         audit_s, noncompliant))
            print(f"workers {workers:3d} login-limit {pool.login_limit:3d}{default}: backup {ok}/{len(devices)} ok in "
                  f"{backup_s:6.1f}s = {ok / backup_s:5.2f} sessions/s, {stats.logins / backup_s:5.2f} logins/s, "
                  f"login held {stats.mean_login_s:.2f}s on average; audit from store {audit_s * 1000:6.0f} ms, "
                  f"{noncompliant} devices noncompliant", flush=True)

        peer_targets = targets.ready[: args.peer_devices]
        plain_s = plain_loop(peer_targets)
        pool = SessionPool(8, 8, RetryPolicy(retries=0))
        started = time.monotonic()
        pool.run(peer_targets, lambda s: s.show("show running-config"))
        pooled_s = time.monotonic() - started
        print(f"peer on {len(peer_targets)} devices: sequential netmiko loop {plain_s:.1f}s, "
              f"pool(8) {pooled_s:.1f}s, ratio {plain_s / pooled_s:.1f}x")
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.join(timeout=60)

    print("\n| workers:login limit | switches | backed up | backup wall s | sessions/s | logins/s "
          "| login held s (mean) | wait for a slot s (mean) | audit (store) ms | noncompliant |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for setting, n, ok, b, sps, lps, held, wait, a, nc in rows:
        print(f"| {setting} | {n} | {ok} | {b:.1f} | {sps:.2f} | {lps:.2f} | {held:.2f} | {wait:.2f} "
              f"| {a * 1000:.0f} | {nc} |")


if __name__ == "__main__":
    main()
