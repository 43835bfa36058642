"""The exporter's values against net-snmp's own snmpbulkwalk of the same real agent."""

from __future__ import annotations

import math

import pytest

from exporters.snmp.poller import Poller
from tests.exporter.conftest import ALL_MODULES, by_if_index, module_status, samples, scrape, test_profiles

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"


@pytest.mark.parametrize("auth,v3", [("city_v2", False), ("city_v3", True)])
def test_interfaces_match_snmpbulkwalk(agent, auth, v3):
    before = agent.bulkwalk("1.3.6.1.2.1.31.1.1.1.6", v3=v3)  # ifHCInOctets
    text = scrape(Poller(test_profiles()), agent.target, ["system", "interfaces"], auth)
    after = agent.bulkwalk("1.3.6.1.2.1.31.1.1.1.6", v3=v3)
    assert module_status(text) == {"system": (1, ""), "interfaces": (1, "")}
    parsed = samples(text)
    names = agent.bulkwalk(IF_NAME, v3=v3)
    oper = agent.bulkwalk("1.3.6.1.2.1.2.2.1.8", v3=v3)
    speed = agent.bulkwalk("1.3.6.1.2.1.31.1.1.1.15", v3=v3)
    assert len(names) >= 2
    in_bytes = by_if_index(parsed, "if_in_bytes_total")
    assert set(in_bytes) == {oid.rsplit(".", 1)[1] for oid in names}
    for oid, name in names.items():
        index = oid.rsplit(".", 1)[1]
        sample = in_bytes[index]
        assert sample.labels["if_name"] == name
        # counters move (loopback traffic): the scrape lies between two walks
        lo, hi = int(before[f"1.3.6.1.2.1.31.1.1.1.6.{index}"]), int(after[f"1.3.6.1.2.1.31.1.1.1.6.{index}"])
        assert lo <= sample.value <= hi
        assert by_if_index(parsed, "if_oper_status")[index].value == int(oper[f"1.3.6.1.2.1.2.2.1.8.{index}"])
        assert by_if_index(parsed, "if_speed_bytes")[index].value == \
            int(speed[f"1.3.6.1.2.1.31.1.1.1.15.{index}"]) * 125_000
    sys_name = agent.bulkwalk("1.3.6.1.2.1.1.5", v3=v3)["1.3.6.1.2.1.1.5.0"]
    assert parsed["sys_info"][0].labels["sys_name"] == sys_name
    assert parsed["sys_uptime_seconds"][0].value > 0


def test_public_v2_works_out_of_the_box(agent):
    text = scrape(Poller(test_profiles()), agent.target, ["interfaces"], "public_v2")
    assert module_status(text) == {"interfaces": (1, "")}
    assert any(s.labels["if_name"] == "lo" for s in samples(text)["if_in_bytes_total"])


def test_optics_scaled_and_mapped_to_the_interface(agent):
    parsed = samples(scrape(Poller(test_profiles()), agent.target, ["optics"]))
    rx = parsed["optic_rx_power_dbm"]
    assert [(s.labels["if_name"], s.labels["sensor"], s.value) for s in rx] == [
        (agent.bulkwalk(IF_NAME)[f"{IF_NAME}.2"], "Gi0/1 Rx Power Sensor", -5.2)]  # lane 2 is unavailable: not exported
    assert math.isclose(parsed["optic_tx_power_dbm"][0].value, 10 * math.log10(0.5), abs_tol=1e-5)
    assert parsed["optic_temperature_celsius"][0].value == 34.5
    assert math.isclose(parsed["optic_bias_current_amperes"][0].value, 0.01234)


def test_wifi_clients_per_ssid_and_ap(agent):
    parsed = samples(scrape(Poller(test_profiles()), agent.target, ["wifi"]))
    assert {s.labels["ssid"]: s.value for s in parsed["wifi_ssid_clients"]} == {
        "GE-FreeWiFi": 17, "GE-Staff": 3, "GE-FreeWiFi-Instant": 6}  # AIRESPACE and AI-AP-MIB
    assert {(s.labels["ap_name"], s.labels["ap_mac"], s.value) for s in parsed["wifi_ap_clients"]} == {
        ("ap-hotspot-001", "00:0b:85:01:02:03", 14), ("hotspot-buer-07", "20:4c:03:0a:0b:0c", 6)}


def test_lldp_neighbours(agent):
    (neighbour,) = samples(scrape(Poller(test_profiles()), agent.target, ["lldp"]))["lldp_neighbor_info"]
    assert neighbour.labels == {"local_port_num": "2", "local_port": "Gi0/2", "remote_sys_name": "dist-1",
                                "remote_port_id": "xe-0/0/1", "remote_chassis_id": "00:11:22:33:44:55"}


def test_label_cache_spares_the_static_walks(agent):
    poller = Poller(test_profiles())

    async def twice():
        await poller.start()
        try:
            first = await poller.scrape(agent.target, ALL_MODULES, "city_v2")
            sent = poller.client.stats["packets_sent"]
            second = await poller.scrape(agent.target, ALL_MODULES, "city_v2")
            return first, second, sent, poller.client.stats["packets_sent"] - sent
        finally:
            poller.close()

    import asyncio

    first, second, first_packets, second_packets = asyncio.run(twice())
    assert poller.cache.hits >= 3 and poller.cache.misses == 3  # interfaces, optics, wifi loaded once
    assert second_packets < first_packets
    labels = lambda text: sorted(s.labels["if_name"] for s in samples(text)["if_in_bytes_total"])  # noqa: E731
    assert labels(first) == labels(second)
