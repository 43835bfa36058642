"""Run inside a fresh `unshare -m -n` namespace (by test_down_hunt.py), the namespace's own
/etc/hosts and /etc/resolv.conf bind-mounted (private to it). Prints JSON.

- ``v6only``: /etc/hosts names an IPv6-only device at ::1, snmpd listens on ::1 alone, and
  the poller scrapes it by name: the modules' status.
- ``dual``: /etc/hosts names a device at ::1 and 127.0.0.1; snmpd listens on the address
  getaddrinfo lists last, so the preferred one is dead: the order and the modules' status.
- ``dual_silent``: as ``dual``, but the preferred address is silent (a UDP socket on it that
  reads and says nothing, as a firewall dropping that family), each try as long as most of
  the scrape (1.5 s of 2 s): the order and the modules' status, then a second scrape's status
  and the datagrams the silent address got in each scrape.
- ``dual_two_agents SYSNAME AUTH``: as ``dual``, an agent on each address, the same port:
  sysName dual-sw1 on the preferred one, SYSNAME on the other (a stale record of the other
  family: another device). Scraped with both up, then with the preferred agent stopped,
  twice (the second time the dead address is tried last): the statuses and sys_info's
  sys_name of each scrape.
- ``silent_dns``: a name in no hosts file, asked of a name server that never answers (a
  UDP socket on 127.0.0.1:53 that reads and says nothing), Prometheus waiting 2 s: the
  modules' status.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from exporters.snmp.poller import Poller
from tests.exporter.conftest import module_status, samples, scrape, test_profiles
from tests.support import snmpd

NAME = "v6only-sw1"
DUAL = "dual-sw1"


def bind_mount(tmp: Path, name: str, text: str) -> None:
    (tmp / name).write_text(text)
    subprocess.run(["mount", "--bind", str(tmp / name), f"/etc/{name}"], check=True)


def main(mode: str) -> None:
    tmp = Path(tempfile.mkdtemp())
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    poller = Poller(test_profiles(timeout_s=1.5 if mode == "dual_silent" else 0.5, retries=1))
    if mode == "silent_dns":
        bind_mount(tmp, "hosts", "127.0.0.1 localhost\n")
        bind_mount(tmp, "resolv.conf", "nameserver 127.0.0.1\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 53))
            text = scrape(poller, "nowhere.example.net:161", ["system"], "city_v2", timeout=2.0)
        json.dump(module_status(text), sys.stdout)
        return
    bind_mount(tmp, "hosts", f"::1 {NAME}\n" if mode == "v6only" else f"::1 {DUAL}\n127.0.0.1 {DUAL}\n")
    order = [info[4][0] for info in socket.getaddrinfo(NAME if mode == "v6only" else DUAL, None,
                                                       socket.AF_UNSPEC, socket.SOCK_DGRAM)]
    if mode == "dual_two_agents":
        json.dump({"order": order, "scrapes": _two_agents(tmp, order, poller, *sys.argv[2:])}, sys.stdout)
        return
    agent = snmpd.start(tmp / "snmpd", host=order[-1])
    try:
        if mode == "dual_silent":
            with socket.socket(socket.AF_INET6 if ":" in order[0] else socket.AF_INET, socket.SOCK_DGRAM) as silent:
                silent.bind((order[0], agent.port))
                text = scrape(poller, f"{DUAL}:{agent.port}", ["system"], "city_v2", timeout=2.0)
                drained = _drain(silent)
                again = scrape(poller, f"{DUAL}:{agent.port}", ["system"], "city_v2", timeout=2.0)
                extra = {"first_scrape_datagrams": drained, "second_scrape_datagrams": _drain(silent),
                         "second_status": module_status(again)}
        else:
            text = scrape(poller, f"{NAME if mode == 'v6only' else DUAL}:{agent.port}", ["system"], "city_v2")
    finally:
        agent.stop()
    json.dump(module_status(text) if mode == "v6only" else {"order": order, "status": module_status(text),
                                                             **(extra if mode == "dual_silent" else {})},
              sys.stdout)


def _two_agents(tmp: Path, order: list[str], poller: Poller, other_name: str, auth: str) -> list[dict]:
    """``dual_two_agents``: each scrape's module statuses and sys_info sys_name."""
    port = snmpd.free_udp_port(order[0])
    preferred = snmpd.start(tmp / "preferred", f"sysName {DUAL}\n", port=port, host=order[0])
    scrapes = []
    try:
        other = snmpd.start(tmp / "other", f"sysName {other_name}\n", port=port, host=order[-1])
        try:
            for stop_preferred in (False, True, False):
                if stop_preferred:
                    preferred.stop()
                text = scrape(poller, f"{DUAL}:{port}", ["system", "interfaces"], auth, timeout=3.0)
                scrapes.append({"status": module_status(text),
                                "sys_name": [s.labels["sys_name"] for s in samples(text).get("sys_info", [])]})
        finally:
            other.stop()
    finally:
        preferred.stop()
    return scrapes


def _drain(silent: socket.socket) -> int:
    """The datagrams the silent address got since the last call."""
    silent.setblocking(False)
    count = 0
    while True:
        try:
            silent.recv(65535)
        except BlockingIOError:
            return count
        count += 1


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v6only")
