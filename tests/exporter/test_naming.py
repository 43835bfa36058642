"""Interface series carry only ``if_name``, so it must name each interface once (docs/metrics.md,
"Naming"): tested against a real snmpd whose table has what real agents have, an interface
without ifName and two subinterfaces sharing one."""

from __future__ import annotations

import subprocess

import pytest

from exporters.snmp.modules import interface_names
from exporters.snmp.poller import Poller
from tests.exporter.conftest import by_if_index, samples, scrape, test_profiles
from tests.support import snmpd
from tests.support.procs import find_binary

# lo loses its ifName (its ifDescr names it then); 9001 and 9002 share the ifName Gi0/1
NAMING_EXTRAS = """
override 1.3.6.1.2.1.31.1.1.1.1.1 octet_str ""
override 1.3.6.1.2.1.2.2.1.2.9001 octet_str "GigabitEthernet0/1"
override 1.3.6.1.2.1.2.2.1.2.9002 octet_str "GigabitEthernet0/1.100"
override 1.3.6.1.2.1.31.1.1.1.1.9001 octet_str "Gi0/1"
override 1.3.6.1.2.1.31.1.1.1.1.9002 octet_str "Gi0/1"
override 1.3.6.1.2.1.31.1.1.1.18.9001 octet_str "uplink \\"core\\""
override 1.3.6.1.2.1.31.1.1.1.6.9001 counter 7
override 1.3.6.1.2.1.31.1.1.1.6.9002 counter 8
"""


@pytest.fixture
def naming_agent(tmp_path):
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    running = snmpd.start(tmp_path / "snmpd", NAMING_EXTRAS)
    yield running
    running.stop()


def test_if_name_is_unique_and_if_info_keeps_the_rest(naming_agent):
    text = scrape(Poller(test_profiles()), naming_agent.target, ["interfaces"], "public_v2")
    parsed = samples(text)
    in_bytes = parsed["if_in_bytes_total"]
    assert all(set(s.labels) == {"if_name"} for s in in_bytes)
    names = [s.labels["if_name"] for s in in_bytes]
    assert len(names) == len(set(names))
    by_index = by_if_index(parsed, "if_in_bytes_total")
    assert (by_index["9001"].labels["if_name"], by_index["9001"].value) == ("Gi0/1#9001", 7)
    assert (by_index["9002"].labels["if_name"], by_index["9002"].value) == ("Gi0/1#9002", 8)
    assert by_index["1"].labels["if_name"] == "lo"  # ifDescr when ifName is empty
    info = {s.labels["if_index"]: s.labels for s in parsed["if_info"]}
    assert info["9001"] == {"if_name": "Gi0/1#9001", "if_index": "9001", "if_alias": 'uplink "core"',
                            "if_descr": "GigabitEthernet0/1"}  # no ifType row: no if_type label
    assert info["1"] == {"if_name": "lo", "if_index": "1", "if_type": "24"}  # ifDescr is the name, ifAlias empty
    promtool = find_binary("promtool")
    if promtool:
        result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr


def test_interface_names_rules():
    indexes = [b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"]
    names = interface_names(indexes, {b"\x01": "Gi0/1", b"\x02": "Gi0/1", b"\x03": "", b"\x04": "Gi0/2"})
    assert names == {b"\x01": "Gi0/1#1", b"\x02": "Gi0/1#2", b"\x03": "#3", b"\x04": "Gi0/2", b"\x05": "#5"}
