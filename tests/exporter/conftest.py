"""Fixtures for the exporter tests: a real snmpd with optics, WLC and LLDP rows, and a
poller talking to it (no HTTP unless the test is about HTTP)."""

from __future__ import annotations

import asyncio
import os

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporters.snmp.client import AuthProfile
from exporters.snmp.poller import Poller
from exporters.snmp.usm import UsmUser
from netops.secrets import Secret
from tests.support import snmpd

# ENTITY-SENSOR-MIB optics on port entity 1000 (mapped to ifIndex 2) and entLastChangeTime
# (a switch's ENTITY-MIB has it: the optics labels stay cached until it moves), an AIRESPACE WLC's
# SSIDs and one AP with two radios, an Aruba Instant AP (AI-AP-MIB), and one LLDP
# neighbour, served by snmpd `override`.
AGENT_EXTRAS = """
override 1.3.6.1.2.1.47.1.4.1.0 timeticks 4200
override 1.3.6.1.2.1.47.1.1.1.1.7.1000 octet_str "Gi0/1 transceiver"
override 1.3.6.1.2.1.47.1.3.2.1.2.1000.0 object_id .1.3.6.1.2.1.2.2.1.1.2
""" + "".join(
    f"override 1.3.6.1.2.1.47.1.1.1.1.7.{i} octet_str \"{name}\"\n"
    f"override 1.3.6.1.2.1.47.1.1.1.1.4.{i} integer 1000\n"
    f"override 1.3.6.1.2.1.99.1.1.1.1.{i} integer {kind}\n"
    f"override 1.3.6.1.2.1.99.1.1.1.2.{i} integer {scale}\n"
    f"override 1.3.6.1.2.1.99.1.1.1.3.{i} integer {precision}\n"
    f"override 1.3.6.1.2.1.99.1.1.1.4.{i} integer {value}\n"
    f"override 1.3.6.1.2.1.99.1.1.1.5.{i} integer {status}\n"
    for i, name, kind, scale, precision, value, status in [
        (1001, "Gi0/1 Rx Power Sensor", 14, 9, 1, -52, 1),     # -5.2 dBm
        (1002, "Gi0/1 Tx Power Sensor", 6, 7, 0, 500, 1),      # 500 µW = -3.0103 dBm
        (1003, "Gi0/1 Temperature Sensor", 8, 9, 1, 345, 1),   # 34.5 °C
        (1004, "Gi0/1 Bias Current Sensor", 5, 8, 2, 1234, 1),  # 12.34 mA
        (1005, "Gi0/1 Rx Power Sensor lane 2", 14, 9, 1, -99, 2),  # unavailable: not exported
    ]
) + """
override 1.3.6.1.4.1.14179.2.1.1.1.2.1 octet_str "GE-FreeWiFi"
override 1.3.6.1.4.1.14179.2.1.1.1.2.2 octet_str "GE-Staff"
override 1.3.6.1.4.1.14179.2.1.1.1.38.1 counter 17
override 1.3.6.1.4.1.14179.2.1.1.1.38.2 counter 3
override 1.3.6.1.4.1.14179.2.2.1.1.3.0.11.133.1.2.3 octet_str "ap-hotspot-001"
override 1.3.6.1.4.1.14179.2.2.2.1.15.0.11.133.1.2.3.0 counter 5
override 1.3.6.1.4.1.14179.2.2.2.1.15.0.11.133.1.2.3.1 counter 9
override 1.3.6.1.4.1.14823.2.3.3.1.1.7.1.2.3 octet_str "GE-FreeWiFi-Instant"
override 1.3.6.1.4.1.14823.2.3.3.1.1.7.1.4.3 integer 6
override 1.3.6.1.4.1.14823.2.3.3.1.2.1.1.2.32.76.3.10.11.12 octet_str "hotspot-buer-07"
override 1.3.6.1.4.1.14823.2.3.3.1.2.2.1.21.32.76.3.10.11.12.0 integer 2
override 1.3.6.1.4.1.14823.2.3.3.1.2.2.1.21.32.76.3.10.11.12.1 integer 4
override 1.0.8802.1.1.2.1.3.7.1.4.2 octet_str "Gi0/2"
override 1.0.8802.1.1.2.1.4.1.1.5.0.2.1 octet_str "00:11:22:33:44:55"
override 1.0.8802.1.1.2.1.4.1.1.7.0.2.1 octet_str "xe-0/0/1"
override 1.0.8802.1.1.2.1.4.1.1.9.0.2.1 octet_str "dist-1"
"""

ALL_MODULES = ["system", "interfaces", "optics", "wifi", "lldp"]


@pytest.fixture(scope="session")
def city():
    """The generated Gelsenkirchen dataset, once per run (generation is deterministic)."""
    from inventory.seed import generate

    return generate()


@pytest.fixture(scope="session")
def agent(tmp_path_factory):
    if not snmpd.available():
        if os.environ.get("CI"):
            pytest.fail("snmpd/snmp missing in CI: `make test` should have installed them")
        pytest.skip("snmpd not installed (run `make test`)")
    running = snmpd.start(tmp_path_factory.mktemp("snmpd"), AGENT_EXTRAS)
    yield running
    running.stop()


def test_profiles(**tuning) -> dict[str, AuthProfile]:
    return {
        "public_v2": AuthProfile("public_v2", community=Secret("public"), **tuning),
        "city_v2": AuthProfile("city_v2", community=Secret(snmpd.COMMUNITY), **tuning),
        "wrong_v2": AuthProfile("wrong_v2", community=Secret("not-the-community"), timeout_s=0.3, retries=1),
        "city_v3": AuthProfile("city_v3", version="v3", user=UsmUser(
            snmpd.V3_USER, "sha", snmpd.V3_AUTH_KEY, "aes", snmpd.V3_PRIV_KEY), **tuning),
        "wrong_auth_v3": AuthProfile("wrong_auth_v3", version="v3", user=UsmUser(
            snmpd.V3_USER, "sha", "not-the-auth-key", "aes", snmpd.V3_PRIV_KEY), timeout_s=0.5),
        "wrong_priv_v3": AuthProfile("wrong_priv_v3", version="v3", user=UsmUser(
            snmpd.V3_USER, "sha", snmpd.V3_AUTH_KEY, "aes", "not-the-priv-key"), timeout_s=0.5),
    }


test_profiles.__test__ = False  # a helper, not a test


def scrape(poller: Poller, target: str, modules=ALL_MODULES, auth="city_v2", timeout=None) -> str:
    async def run():
        await poller.start()
        try:
            return await poller.scrape(target, list(modules), auth, timeout)
        finally:
            poller.close()

    return asyncio.run(run())


def samples(text: str) -> dict[str, list]:
    """{metric name: [Sample...]} parsed by prometheus_client's own parser."""
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def by_if_index(parsed: dict[str, list], metric: str) -> dict[str, object]:
    """An interface metric's samples by ifIndex, joined through ``if_info`` as a query would
    (the samples carry only if_name)."""
    index_of = {s.labels["if_name"]: s.labels["if_index"] for s in parsed["if_info"]}
    return {index_of[s.labels["if_name"]]: s for s in parsed[metric]}


def module_status(text: str) -> dict[str, tuple[float, str]]:
    parsed = samples(text)
    reasons = {s.labels["module"]: s.labels["reason"] for s in parsed.get("netops_snmp_module_error", [])}
    return {s.labels["module"]: (s.value, reasons.get(s.labels["module"], ""))
            for s in parsed["netops_snmp_module_up"]}
