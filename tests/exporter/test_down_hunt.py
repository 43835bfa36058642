"""Hunted (session 10): answers that are no agent's, read by netops and, side by side, by
Debian's prometheus-snmp-exporter.

Each case is a real UDP peer on loopback, started and stopped by the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from exporters.server import down_reason
from exporters.snmp import ber, usm
from exporters.snmp.client import peek_request_id
from exporters.snmp.modules import BOOT_TOLERANCE_S
from exporters.snmp.poller import ModuleResult, Poller
from tests.exporter.conftest import module_status, samples, test_profiles
from tests.exporter.test_agent_leftovers import optic_rows
from tests.exporter.test_foreign_agents import (in_octets_by_name, interface_rows, peer_scrape, scrape_once,
                                                snmp_exporter, start_foreign_agent)  # noqa: F401 - fixture
from tests.support import snmpd


class Reflector:
    """A UDP port on loopback that sends every datagram back to where it came from: a
    host (or a forwarding loop) with no SNMP agent that returns our own request."""

    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.target = f"{host}:{self.port}"
        self.reflected = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
                self.sock.sendto(self.reply(data), peer)
            except OSError:  # closed: the test is over
                return
            self.reflected += 1

    def reply(self, data: bytes) -> bytes:
        return data

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



class EngineReporter(Reflector):
    """A UDP peer on loopback that answers SNMPv3 engine discovery with a proper engine ID
    and every request after it with an unauthenticated notInTimeWindow Report whose engine
    ID is ``later_engine``: a broken agent."""

    ENGINE = b"\x80\x00\x1f\x88\x80engine"

    def __init__(self, later_engine: bytes):
        super().__init__()
        self.later_engine = later_engine
        self.framer = usm.UsmSession(usm.UsmUser("u", "sha", "auth-key-0123", "aes", "priv-key-4567"))

    def reply(self, data: bytes) -> bytes:
        msg_id = peek_request_id(data)
        engine = self.ENGINE if self.reflected == 0 else self.later_engine
        varbind = ber.tlv(ber.SEQUENCE, ber.tlv(ber.OBJECT_ID, ber.parse_oid("1.3.6.1.6.3.15.1.1.2.0"))
                          + ber.tlv(ber.COUNTER32, b"\x01"))
        pdu = ber.tlv(ber.REPORT, ber.encode_int(msg_id) + ber.encode_int(0) + ber.encode_int(0)
                      + ber.tlv(ber.SEQUENCE, varbind))
        return self.framer._frame(msg_id, 0, engine, 1, 100, b"", b"", b"",
                                  ber.tlv(ber.SEQUENCE, ber.tlv(4, engine) + ber.tlv(4, b"") + pdu))


@pytest.mark.parametrize("later_engine", [b"", b"\x80\x00"])
def test_a_v3_engine_id_of_no_agent_is_refused_after_discovery_too(later_engine):
    """The engine ID was checked (5 to 32 octets) on the first discovery only: a
    notInTimeWindow Report after it re-learnt whatever engine ID it carried (none, two
    octets), keys were localised to it and the scrape read not_in_time_window, as if the
    agent's clock were the trouble. Now every engine ID learnt from a Report is checked."""
    with EngineReporter(later_engine) as peer:
        poller = Poller(test_profiles(timeout_s=0.4, retries=1))

        async def scrape():
            await poller.start()
            try:
                return await poller.scrape_result(peer.target, ["system"], "city_v3", 2.0)
            finally:
                poller.close()

        ours = asyncio.run(scrape())
    assert peer.reflected >= 2  # discovery, then the GET
    assert module_status(ours.body) == {"system": (0, "malformed_response")}


# -- an agent restarted twice: sysUpTime above the cached one, yet a new boot -------------
def uptime_s(agent) -> float:
    """sysUpTime.0 of a running agent, in seconds (net-snmp's snmpget)."""
    out = subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", "1", "-r", "2", "-Oqvt", agent.target,
                          "1.3.6.1.2.1.1.3.0"], capture_output=True, text=True, timeout=30, check=True).stdout
    return int(out.strip()) / 100


def wait_for_uptime(agent, seconds: float) -> None:
    while uptime_s(agent) < seconds:
        time.sleep(0.2)


def test_an_agent_restarted_within_the_cache_ttl_is_named_anew(snmp_exporter, tmp_path):  # noqa: F811
    """An agent whose interface names were cached soon after it started restarts with its
    ifIndex renumbered (ifNumber and an ifTableLastChange of 0 as before: nothing in the
    stamp moves) and is scraped when its sysUpTime has passed the cached one. netops
    took that for the same boot and put the cached names on the renumbered counters (eth2's
    octets as eth1's, for up to the cache's hour); snmp_exporter walks names every scrape
    and is right. The agent's boot moment (now - sysUpTime) moved: a restart."""
    before, after = {1: "eth1", 2: "eth2"}, {1: "eth2", 2: "eth1"}
    agent = start_foreign_agent(tmp_path / "first", interface_rows(before, 0))
    poller = Poller(test_profiles())
    loop = asyncio.new_event_loop()

    def scrape() -> dict[str, list]:
        return samples(loop.run_until_complete(poller.scrape(agent.agent.target, ["system", "interfaces"],
                                                             "public_v2")))

    try:
        loop.run_until_complete(poller.start())
        first = scrape()
        cached_uptime = first["sys_uptime_seconds"][0].value
        assert in_octets_by_name(first, "if_in_bytes_total", "if_name") == {"eth1": 1000, "eth2": 2000}
        # the first boot lasts longer than the boot tolerance: what a real restart always takes
        wait_for_uptime(agent.agent, BOOT_TOLERANCE_S + 2)
        agent.agent.stop()
        agent = start_foreign_agent(tmp_path / "second", interface_rows(after, 0), port=agent.agent.port)
        wait_for_uptime(agent.agent, cached_uptime + 0.5)
        second = scrape()
        status, peer = peer_scrape(snmp_exporter, agent.agent.target, "if_foreign")
    finally:
        poller.close()
        loop.close()
        agent.agent.stop()
    assert second["sys_uptime_seconds"][0].value >= cached_uptime  # sysUpTime did not go back
    assert status == 200 and in_octets_by_name(peer, "ifHCInOctets_total", "ifName") == {"eth1": 1000, "eth2": 2000}
    assert in_octets_by_name(second, "if_in_bytes_total", "if_name") == {"eth1": 1000, "eth2": 2000}


# -- one sensor outside the MIB's ranges ----------------------------------------------------
OPTICS_SUBTREES = (".1.3.6.1.2.1.2", ".1.3.6.1.2.1.31", ".1.3.6.1.2.1.99", ".1.3.6.1.2.1.47")


@pytest.mark.parametrize(("column", "value", "reason"), [
    (3, "-400", "scale_out_of_range"),  # entPhySensorPrecision -400 (-8..9): 10.0 ** exponent overflowed
    (4, "2000000000", "value_out_of_range"),  # entPhySensorValue beyond EntitySensorValue's +-10^9
], ids=["precision", "value"])
def test_one_sensor_outside_the_mib_leaves_the_other_transceivers_read(tmp_path, snmp_exporter, column,  # noqa: F811
                                                                        value, reason):
    """entPhySensorScale is 1..17 (yocto..yotta), entPhySensorPrecision -8..9, a reading
    -10^9..10^9. One sensor outside them (session 10 made precision -400 the whole optics
    module down, malformed_response, instead of a traceback): every other transceiver of
    the device lost its readings with it, for as long as that one sensor stayed wrong.
    snmp_exporter (which exports entPhySensorValue raw) serves every row; netops now serves
    the others' readings, the module up, and names the one sensor it leaves out and why
    (``netops_snmp_sensor_unreadable``)."""
    rows = optic_rows({1001: (1, 1, -52), 1002: (2, 1, -31), 1003: (3, 1, -70)}, None)
    rows[f"1.3.6.1.2.1.99.1.1.1.{column}.1002"] = ["integer", value]
    agent = start_foreign_agent(tmp_path, rows, subtrees=OPTICS_SUBTREES)
    try:
        body = scrape_once(agent.agent.target, ["system", "optics", "interfaces"])
        status, peer = peer_scrape(snmp_exporter, agent.agent.target, "optics_foreign")
    finally:
        agent.agent.stop()
    assert status == 200 and {s.labels["entPhysicalIndex"] for s in peer["entPhySensorValue"]} == {
        "1001", "1002", "1003"}
    assert module_status(body) == {"system": (1, ""), "optics": (1, ""), "interfaces": (1, "")}
    parsed = samples(body)
    assert {s.labels["if_name"]: s.value for s in parsed["optic_rx_power_dbm"]} == {"eth1": -5.2, "eth3": -7.0}
    assert [(s.labels["if_name"], s.labels["sensor"], s.labels["reason"], s.value)
            for s in parsed["netops_snmp_sensor_unreadable"]] == [("eth2", "eth2 Rx Power Sensor", reason, 1)]


def test_a_watts_sensor_reading_no_power_is_named_not_left_out_silently(tmp_path):
    """A receive power sensor in watts reading 0 (no light at all) has no value in dBm:
    its series vanished without a word, so NetopsOpticRxPowerLow went quiet exactly when
    the fibre went dark. It is named now, reason ``no_power_in_dbm``."""
    rows = optic_rows({1001: (1, 1, -52), 1002: (2, 0, 0)}, None)
    rows["1.3.6.1.2.1.99.1.1.1.1.1002"] = ["integer", "6"]  # watts
    agent = start_foreign_agent(tmp_path, rows, subtrees=OPTICS_SUBTREES)
    try:
        body = scrape_once(agent.agent.target, ["optics"])
    finally:
        agent.agent.stop()
    parsed = samples(body)
    assert module_status(body) == {"optics": (1, "")}
    assert {s.labels["if_name"]: s.value for s in parsed["optic_rx_power_dbm"]} == {"eth1": -5.2}
    assert [(s.labels["if_name"], s.labels["reason"]) for s in parsed["netops_snmp_sensor_unreadable"]] == [
        ("eth2", "no_power_in_dbm")]


def test_a_negative_container_is_no_container_not_a_failed_scrape(tmp_path):
    """A sensor without an alias mapping of its own is mapped through the entity that
    contains it; an agent answering entPhysicalContainedIn -1 (the MIB says 0..2^31-1)
    made the poller raise ValueError (a negative arc), which escaped it as the overflow
    above did (/snmp 500 for a device that answered). Now the sensor is read and named by no interface (if_name empty)."""
    rows = optic_rows({1001: (2, 1, -52)}, None)
    del rows["1.3.6.1.2.1.47.1.3.2.1.2.1001.0"]  # no alias mapping for the sensor itself
    rows["1.3.6.1.2.1.47.1.1.1.1.4.1001"] = ["integer", "-1"]  # entPhysicalContainedIn
    agent = start_foreign_agent(tmp_path, rows, subtrees=OPTICS_SUBTREES)
    try:
        body = scrape_once(agent.agent.target, ["system", "optics"])
    finally:
        agent.agent.stop()
    assert module_status(body) == {"system": (1, ""), "optics": (1, "")}
    assert 'optic_rx_power_dbm{if_name="",sensor="eth2 Rx Power Sensor"} -5.2' in body


# -- a device name that resolves to IPv6 only -------------------------------------------------
def test_an_ipv6_only_name_is_polled_at_its_ipv6_address():
    """The poller resolved names with AF_INET alone: a name with only an IPv6 address read
    ``unresolvable``, and one at ::1 read 127.0.0.1 (glibc maps it), where no agent listens:
    down either way for a device that answers. In a namespace of its own (its /etc/hosts
    bind-mounted: ``v6only-sw1`` is ::1 alone) snmpd listens on ::1 only, and the name is
    polled there."""
    assert in_own_namespace("v6only") == {"system": [1, ""]}


def in_own_namespace(mode: str, *args: str):
    """What tests/exporter/netns_v6name.py prints in ``mode``, run in a mount and network namespace of its own."""
    if not snmpd.available() or shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs snmpd, unshare and root for a mount and network namespace")
    result = subprocess.run(["unshare", "-m", "-n", sys.executable, "-m", "tests.exporter.netns_v6name", mode, *args],
                            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_a_dual_stack_name_whose_preferred_address_is_dead_is_polled_at_the_other():
    """A name with an IPv6 and an IPv4 address (``dual-sw1``: ::1 and 127.0.0.1 in the
    namespace's /etc/hosts), snmpd listening on the one getaddrinfo lists last. The poller
    took the first address alone and read the device down (``unreachable``), as snmp_exporter
    does; now each address is tried within the scrape's deadline."""
    got = in_own_namespace("dual")
    assert sorted(got["order"]) == ["127.0.0.1", "::1"]
    assert got["status"] == {"system": [1, ""]}


def test_a_silent_preferred_address_leaves_the_next_its_share_of_the_scrape():
    """As above, but the preferred address is silent (a firewall dropping that family: no
    ICMP, each try waits out its timeout), the profile's tries (2 x 1.5 s) longer than the
    scrape (2 s). The first address waited out the whole deadline and the device, answering
    at its other address, read down (``timeout``); now each address but the last gets its
    share of the time left."""
    got = in_own_namespace("dual_silent")
    assert sorted(got["order"]) == ["127.0.0.1", "::1"]
    assert got["status"] == {"system": [1, ""]}
    # the address found dead is tried last from then on: it cost about half of EVERY scrape
    # (and a log line per device per scrape) while the other answered (final review)
    assert got["first_scrape_datagrams"] >= 1
    assert got["second_scrape_datagrams"] == 0 and got["second_status"] == {"system": [1, ""]}


@pytest.mark.parametrize("other_name, auth, why", [
    ("neighbour-sw7", "city_v2", "another sysName"),
    ("dual-sw1", "city_v3", "the same sysName, another SNMPv3 engine ID (net-snmp makes one per agent)"),
])
def test_a_stale_record_of_the_other_family_does_not_make_a_dead_device_read_up(other_name, auth, why):
    """``dual-sw1`` at ::1 and 127.0.0.1, an agent on each: the preferred address is the
    device, the other a stale record now answered by another device (same community, same
    port). While the device answered, it was polled at its preferred address. Once it died,
    the fallback to the other address read it UP with the other device's data. Now the other
    address's answer is held to what the preferred one last answered as (sysName,
    sysObjectID, engine ID): the device is down, reason other_device (a 503 for every
    consumer: no module answered for it), on the next scrape too (the dead address tried
    last then)."""
    got = in_own_namespace("dual_two_agents", other_name, auth)
    assert sorted(got["order"]) == ["127.0.0.1", "::1"]
    both_up, *preferred_dead = got["scrapes"]
    assert both_up == {"status": {"system": [1, ""], "interfaces": [1, ""]}, "sys_name": ["dual-sw1"]}
    for scrape in preferred_dead:
        assert scrape == {"status": {"system": [0, "other_device"], "interfaces": [0, "other_device"]},
                          "sys_name": []}, why
        assert down_reason([ModuleResult(module, False, reason, 0.1)
                            for module, (_up, reason) in scrape["status"].items()]) == "other_device"


def test_the_same_device_at_its_other_address_is_polled_there():
    """The check above lets the device through at its other address when it answers there
    as it did at the preferred one (a dual-stack device whose IPv6 path broke): up."""
    got = in_own_namespace("dual_two_agents", "dual-sw1", "city_v2")
    assert [scrape["status"] for scrape in got["scrapes"]] == [{"system": [1, ""], "interfaces": [1, ""]}] * 3
    assert [scrape["sys_name"] for scrape in got["scrapes"]] == [["dual-sw1"]] * 3


def test_a_name_server_that_never_answers_is_a_timeout_within_the_scrape():
    """Resolution was not bounded by the scrape's deadline: a silent name server held the
    scrape for the resolver's own timeouts (5 s a try), past Prometheus' 2 s, and then said
    ``unresolvable``. Now the deadline ends it: ``timeout``, within the scrape."""
    assert in_own_namespace("silent_dns") == {"system": [0, "timeout"]}


# -- a sysUpTime that is no number -------------------------------------------------------------
def test_a_sys_uptime_that_is_no_number_is_the_system_module_down_not_a_reboot(tmp_path, snmp_exporter):  # noqa: F811
    """An agent answering sysUpTime.0 with an OCTET STRING (net-snmp's ``override``, as a
    broken subagent does). netops read it as 0 (``sys_uptime_seconds 0``): a device that
    had just rebooted, on every scrape, and NetopsDeviceRebooted firing for good. Now the
    system module is down (malformed_response: NetopsModuleDown says why) and no uptime is
    made up; the other modules are polled as before. snmp_exporter, side by side, kept on
    record as it answers."""
    agent = snmpd.start(tmp_path, 'override 1.3.6.1.2.1.1.3.0 octet_str "3 days"\n')
    try:
        body = scrape_once(agent.target, ["system", "interfaces"])
        status, peer = peer_scrape(snmp_exporter, agent.target, "system_foreign")
    finally:
        agent.stop()
    assert status == 200 and [s.value for s in peer["sysUpTime"]] == [0]  # the peer's lie, kept on record
    assert module_status(body) == {"system": (0, "malformed_response"), "interfaces": (1, "")}
    assert "sys_uptime_seconds" not in samples(body)


def test_a_negative_sys_uptime_is_the_system_module_down_not_a_reboot(tmp_path):
    """An agent answering sysUpTime.0 with a negative INTEGER (TimeTicks are unsigned; a
    broken subagent's signed counter that wrapped). It passed as a number: the gauge said
    ``sys_uptime_seconds -0.05`` (NetopsDeviceRebooted, ``< 900``, firing on every scrape)
    and the label cache's boot test compared it. Now it is no uptime, as one that is no
    number: the system module is down (malformed_response), nothing is made up."""
    agent = snmpd.start(tmp_path, "override 1.3.6.1.2.1.1.3.0 integer -5\n")
    try:
        body = scrape_once(agent.target, ["system", "interfaces"])
    finally:
        agent.stop()
    assert module_status(body) == {"system": (0, "malformed_response"), "interfaces": (1, "")}
    assert "sys_uptime_seconds" not in samples(body)
