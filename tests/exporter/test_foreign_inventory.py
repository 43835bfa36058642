"""The foreign agents of test_foreign_agents.py, polled the way Prometheus polls the city:
through `netops exporter serve` on an inventory (the CLI in a child process), each agent
an inventory device at its own loopback address, asked for by device name with the
modules of its role and the profile bound to it, as /sd says; and the exporter's own
/metrics counting what /snmp answered. The poller alone (test_foreign_agents.py) is not
the whole path: the target policy, the role's module list, the HTTP status and the
counters are, and each must say what the poller says."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from configs.state import WORKSPACE_ENV
from inventory.models.devices import Device
from inventory.models.profiles import SnmpProfile
from inventory.models.sites import Site
from netops import db as dbmod
from netops.db import session_scope
from tests.exporter.conftest import module_status, samples
from tests.exporter.test_foreign_agents import IF_ALIAS, IF_HC_IN_OCTETS, interface_rows, start_foreign_agent
from tests.support import snmpd
from tests.support.netops_exporter import http, running_exporter
from tests.support.udp_fault_proxy import FaultProxy

pytestmark = pytest.mark.slow

DEVICES = ("renumbered-sw", "stuck-sw", "alias-sw", "silent-sw", "sideport-sw", "killed-sw")


def inventory(db_url: str, addresses: dict[str, str]) -> None:
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        school = Site(code="SCH-1", name="school", kind="school", district="Erle", source="test")
        session.add(school)
        session.add(SnmpProfile(name="public_v2", version="v2c", timeout_s=0.4, retries=1))
        session.flush()
        for name, address in addresses.items():
            session.add(Device(name=name, site_id=school.id, role="access_switch", platform="cisco_ios",
                               mgmt_ip=address, source="test"))
    engine.dispose()


def test_foreign_agents_through_the_inventory_and_metrics(tmp_path, monkeypatch):
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    shared = snmpd.start(tmp_path / "snmpd")
    aliases = {1: b"kita\x00\xff", 2: b"line\nbreak"}
    alias_rows = interface_rows({1: "eth1", 2: "eth2"}, 0)
    alias_rows.update({f"{IF_ALIAS}.{index}": ["octet", raw.hex(" ")] for index, raw in aliases.items()})
    killed_rows = interface_rows({1: "eth1", 2: "eth2", 3: "eth3"}, 0)
    killed_rows[f"{IF_HC_IN_OCTETS}.2"] = ["kill", "0"]
    agents = {"renumbered-sw": start_foreign_agent(tmp_path / "renumbered", interface_rows({1: "eth1"}, None)),
              "stuck-sw": start_foreign_agent(tmp_path / "stuck", interface_rows({1: "eth1"}, 0)),
              "alias-sw": start_foreign_agent(tmp_path / "alias", alias_rows),
              "killed-sw": start_foreign_agent(tmp_path / "killed", killed_rows)}
    behind = {name: (agent.agent.port, {}) for name, agent in agents.items()} | {
        "silent-sw": (shared.port, dict(mode="stop_after", answer_first=1)),
        "sideport-sw": (shared.port, dict(other_port=True))}
    addresses = {name: f"127.0.0.{40 + i}" for i, name in enumerate(DEVICES)}
    proxies = {name: FaultProxy(port, host=addresses[name], **fault) for name, (port, fault) in behind.items()}
    for proxy in proxies.values():
        proxy.__enter__()
    db_url = f"sqlite:///{tmp_path / 'netops.db'}"
    inventory(db_url, addresses)
    try:
        with running_exporter(db_url, tmp_path) as exporter:
            sd = {group["labels"]["device"]: group["labels"] for group in json.loads(http(f"{exporter}/sd")[1])}

            def scrape(name: str) -> tuple[int, str]:
                """/snmp as Prometheus asks it: the device by name, its role's modules, its profile."""
                query = urllib.parse.urlencode({"target": f"{name}:{proxies[name].port}",
                                                "module": sd[name]["__param_module"], "auth": sd[name]["__param_auth"]})
                return http(f"{exporter}/snmp?{query}", headers={"X-Prometheus-Scrape-Timeout-Seconds": "5"})

            def bytes_by_name(body: str) -> dict[str, float]:
                return {s.labels["if_name"]: s.value for s in samples(body).get("if_in_bytes_total", [])}

            modules = sd["alias-sw"]["__param_module"].split(",")
            assert modules == ["system", "interfaces", "optics", "lldp"]
            # ifIndex renumbered, interfaces gone and new: named as snmp_exporter names them
            for name, last_change, steps in (
                    ("renumbered-sw", None, [{1: "eth1", 2: "eth2"}, {1: "eth2", 2: "eth1"}, {1: "eth2", 3: "eth3"}]),
                    ("stuck-sw", 0, [{1: "eth1", 2: "eth2"}, {1: "eth2", 3: "eth3"}, {4: "eth4", 3: "eth3"}])):
                for names in steps:
                    agents[name].serve(interface_rows(names, last_change))
                    status, body = scrape(name)
                    assert status == 200 and module_status(body) == {m: (1, "") for m in modules}
                    assert bytes_by_name(body) == {n: 1000 * int(n[-1]) for n in names.values()}, (name, names)
            # octets that are no text: hex, the scrape kept
            status, body = scrape("alias-sw")
            assert status == 200
            assert {s.labels["if_name"]: s.labels["if_alias"] for s in samples(body)["if_info"]} == {
                "eth1": "6b:69:74:61:00:ff", "eth2": "6c:69:6e:65:0a:62:72:65:61:6b"}
            # silent after the base GET: 200 with every other module down, reason timeout
            status, body = scrape("silent-sw")
            assert status == 200
            assert module_status(body) == {"system": (1, ""), **{m: (0, "timeout") for m in modules[1:]}}
            # answers from another port are not taken: down
            status, body = scrape("sideport-sw")
            assert (status, body.split(" (")[0]) == (503, "target down: reason=timeout")
            # killed mid-walk: half (200, the rest down), then down (503)
            status, body = scrape("killed-sw")
            assert status == 200 and module_status(body)["system"] == (1, "")
            assert module_status(body)["interfaces"][1] == "timeout"  # behind a proxy: no ICMP
            status, body = scrape("killed-sw")
            assert (status, body.split(" (")[0]) == (503, "target down: reason=timeout")

            # the exporter's /metrics counts what /snmp answered
            metrics = samples(http(f"{exporter}/metrics")[1])
            down = {s.labels["reason"]: s.value for s in metrics["netops_exporter_targets_down_total"]}
            assert down == {"timeout": 2}
            errors = {(s.labels["module"], s.labels["reason"]): s.value
                      for s in metrics["netops_exporter_module_errors_total"]}
            # silent: 3 modules; killed: 3 then 4; side port: 4
            assert errors == {("interfaces", "timeout"): 4, ("optics", "timeout"): 4, ("lldp", "timeout"): 4,
                              ("system", "timeout"): 2}
            # six devices of the inventory, each in the inventory gauge /metrics serves
            assert {s.labels["device"] for s in metrics["netops_inventory_device_info"]} == set(DEVICES)
    finally:
        for proxy in proxies.values():
            proxy.__exit__(None, None, None)
        for agent in [shared, *(a.agent for a in agents.values())]:
            agent.stop()
