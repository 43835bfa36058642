"""Hunted (session 10): answers that are no agent's, read by netops and, side by side, by
Debian's prometheus-snmp-exporter.

Each case is a real UDP peer on loopback, started and stopped by the test.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from exporters.server import down_reason
from exporters.snmp.poller import Poller
from tests.exporter.conftest import module_status, test_profiles
from tests.exporter.test_foreign_agents import peer_scrape, snmp_exporter  # noqa: F401 - fixture


class Reflector:
    """A UDP port on loopback that sends every datagram back to where it came from: a
    host (or a forwarding loop) with no SNMP agent that returns our own request."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.target = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.reflected = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
                self.sock.sendto(data, peer)
            except OSError:  # closed: the test is over
                return
            self.reflected += 1

    def __enter__(self) -> "Reflector":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
        self._thread.join(5)


@pytest.mark.parametrize("auth", ["public_v2", "city_v3"])
def test_our_own_request_sent_back_is_no_answer(snmp_exporter, auth):  # noqa: F811
    """Nothing but a reflector at the target. snmp_exporter 0.21 takes the GetRequest
    that comes back as the agent's answer: 200 and ``sysUpTime 0`` (a device up that has
    just rebooted). netops read it the same way, every module up (v3 too: the echoed
    message carries our own valid MAC); it is down now, reason ``malformed_response``."""
    with Reflector() as reflector:
        status, peer = peer_scrape(snmp_exporter, reflector.target, "system_foreign")
        poller = Poller(test_profiles(timeout_s=0.4, retries=0))

        async def scrape():
            await poller.start()
            try:
                return await poller.scrape_result(reflector.target, ["system", "interfaces", "lldp"], auth)
            finally:
                poller.close()

        ours = asyncio.run(scrape())
    assert reflector.reflected >= 2
    assert status == 200 and [s.value for s in peer["sysUpTime"]] == [0]  # the peer's lie, kept on record
    assert module_status(ours.body) == dict.fromkeys(["system", "interfaces", "lldp"], (0, "malformed_response"))
    assert "sys_uptime_seconds " not in ours.body
    assert down_reason(ours.modules) == "malformed_response"  # /snmp: 503, up 0
