"""The exporter as users run it (`netops exporter serve`), scraped by a real Prometheus
that finds its targets through /sd; metric lint by promtool."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse

import pytest
from sqlmodel import select

from inventory.models.devices import Device
from inventory.models.profiles import SnmpProfile
from netops import db as dbmod
from netops.db import session_scope
from tests.exporter.conftest import module_status, samples
from tests.exporter.test_sd import small_city
from tests.support import snmpd
from tests.support.netops_exporter import http as get, running_exporter
from tests.support.procs import find_binary, free_port, stop_pid, wait_for_tcp

pytestmark = pytest.mark.slow


def promtool_check(text: str) -> None:
    result = subprocess.run([find_binary("promtool"), "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


#: secrets of the profiles the tests store, from the environment as in production
SECRETS = dict(NETOPS_SNMP_CITY_V3_AUTH_KEY=snmpd.V3_AUTH_KEY, NETOPS_SNMP_CITY_V3_PRIV_KEY=snmpd.V3_PRIV_KEY,
               NETOPS_SNMP_LATE_V2_COMMUNITY=snmpd.COMMUNITY,
               NETOPS_SNMP_WRONG_AUTH_V3_AUTH_KEY="not-the-auth-key", NETOPS_SNMP_WRONG_AUTH_V3_PRIV_KEY=snmpd.V3_PRIV_KEY,
               NETOPS_SNMP_WRONG_PRIV_V3_AUTH_KEY=snmpd.V3_AUTH_KEY, NETOPS_SNMP_WRONG_PRIV_V3_PRIV_KEY="not-the-priv-key",
               NETOPS_SNMP_WRONG_USER_V3_AUTH_KEY=snmpd.V3_AUTH_KEY, NETOPS_SNMP_WRONG_USER_V3_PRIV_KEY=snmpd.V3_PRIV_KEY)


def inventory_with_profiles(tmp_path) -> tuple[str, object]:
    """The small city (pop-buer-cr1 at 127.0.0.1 bound to city_v3, sch-0001-sw0 at
    127.0.1.1 where nothing listens) and v3 profiles with right and wrong keys and user."""
    url = f"sqlite:///{tmp_path / 'netops.db'}"
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    small_city(engine, devices=2)
    with session_scope(engine) as session:
        for name, user in (("city_v3", snmpd.V3_USER), ("wrong_auth_v3", snmpd.V3_USER),
                           ("wrong_priv_v3", snmpd.V3_USER), ("wrong_user_v3", "nobody")):
            session.add(SnmpProfile(name=name, version="v3", user=user, auth_protocol="sha",
                                    priv_protocol="aes", timeout_s=1.0, retries=0))
    return url, engine


@pytest.fixture
def exporter(agent, tmp_path):
    if find_binary("promtool") is None or find_binary("prometheus") is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus missing in CI")
        pytest.skip("prometheus not installed (run `make test`)")
    url, engine = inventory_with_profiles(tmp_path)
    try:
        with running_exporter(url, tmp_path, env=SECRETS) as base:
            yield base, engine, tmp_path
    finally:
        engine.dispose()


def bind(engine, device: str, profile: str | None) -> None:
    with session_scope(engine) as session:
        session.exec(select(Device).where(Device.name == device)).one().snmp_profile = profile


def test_http_endpoints_and_promtool(exporter, agent):
    base, engine, tmp_path = exporter
    assert get(base + "/-/healthy") == (200, "Healthy\n")
    status, page = get(base + "/")
    assert status == 200 and 'action="snmp"' in page and 'href="sd"' in page
    status, body = get(f"{base}/snmp?target={agent.target}&module=system,interfaces,optics,wifi,lldp")
    assert status == 200
    assert module_status(body) == {m: (1, "") for m in ("system", "interfaces", "optics", "wifi", "lldp")}
    promtool_check(body)
    status, text = get(f"{base}/snmp?target={agent.target}&module=nonsense")
    assert status == 400 and "unknown module" in text
    assert get(f"{base}/snmp?module=system")[0] == 400
    # a profile added to the inventory is picked up by /-/reload; its secret goes only to
    # the devices bound to it, and a binding changed in the inventory counts after /-/reload
    late = f"{base}/snmp?target={agent.target}&module=system&auth=late_v2"
    assert get(late)[0] == 400
    digest_before = samples(get(base + "/metrics")[1])["netops_exporter_auth_profiles_digest"][0].value
    with session_scope(engine) as session:
        session.add(SnmpProfile(name="late_v2", version="v2c"))
    assert get(base + "/-/reload", method="POST")[0] == 200
    # what replicas compare (NetopsExporterProfilesDisagree): the profile names held, moved by the new one
    assert samples(get(base + "/metrics")[1])["netops_exporter_auth_profiles_digest"][0].value != digest_before
    status, text = get(late)
    assert status == 403 and "not the profile of device pop-buer-cr1 ('city_v3')" in text
    bind(engine, "pop-buer-cr1", "late_v2")
    assert get(late)[0] == 403  # the policy's list is cached until reloaded
    assert get(base + "/-/reload", method="POST")[0] == 200
    status, body = get(late)
    assert status == 200 and module_status(body) == {"system": (1, "")}
    deadline = time.monotonic() + 120  # the topology's figures come from a child, in the background
    while "netops_site_trench_disjoint_paths{" not in (own := get(base + "/metrics"))[1] and time.monotonic() < deadline:
        time.sleep(0.5)
    status, own = own
    assert status == 200
    promtool_check(own)
    parsed = samples(own)
    assert {(s.labels["kind"], s.value) for s in parsed["netops_inventory_sites"]} == {("core", 1), ("school", 1)}
    assert parsed["netops_exporter_scrapes_total"][0].value == 2  # the refused requests never polled
    refused = {s.labels["status"]: s.value for s in parsed["netops_exporter_requests_refused_total"]}
    assert refused == {"400": 3, "403": 2}
    # the small city has no links yet: its school has no path to the core
    assert {(s.labels["site"], s.labels["layer"], s.value) for s in parsed["netops_audit_site_disjoint_paths"]} \
        >= {("SCH-0001", "logical", 0)}
    # the gauges the alert rules and dashboard need beside SNMP are on the same /metrics
    assert {s.labels["site"] for s in parsed["netops_site_trench_disjoint_paths"]} == {"SCH-0001"}
    with session_scope(engine) as session:
        device_names = set(session.exec(select(Device.name).where(Device.status == "active")).all())
    assert {s.labels["device"] for s in parsed["netops_inventory_device_info"]} == device_names
    status, sd = get(base + "/sd?port=161&shards=2&shard=0")
    assert status == 200 and all(g["targets"][0].endswith(":161") for g in json.loads(sd))
    assert get(base + "/sd?shards=2&shard=5")[0] == 400


def test_prometheus_discovers_through_sd_and_scrapes(exporter, agent):
    base, _engine, tmp_path = exporter
    exporter_address = base.removeprefix("http://")
    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 10s}}
scrape_configs:
  - job_name: snmp
    metrics_path: /snmp
    http_sd_configs: [{{url: "{base}/sd?port={agent.port}", refresh_interval: 2s}}]
    relabel_configs:
      - {{source_labels: [__address__], target_label: __param_target}}
      - {{source_labels: [__param_target], target_label: instance}}
      - {{target_label: __address__, replacement: "{exporter_address}"}}
  - job_name: netops_exporter
    static_configs: [{{targets: ["{exporter_address}"]}}]
""")
    prom = subprocess.Popen([find_binary("prometheus"), f"--config.file={config}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}",
                             "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for_tcp(prom_port, proc=prom)
        query = 'if_in_bytes_total{device="pop-buer-cr1",if_name="lo"}'
        api = f"http://127.0.0.1:{prom_port}/api/v1/query?query=" + urllib.parse.quote(query)
        deadline, result = time.monotonic() + 45, []
        while time.monotonic() < deadline and not result:
            status, body = get(api)
            result = json.loads(body)["data"]["result"] if status == 200 else []
            time.sleep(0.5)
        assert result, "Prometheus never got the interface counter through /sd"
        (series,) = result
        # SNMPv3 (the device's profile) through __param_auth, labels from the inventory
        assert series["metric"]["site"] == "POP-BUER" and series["metric"]["site_kind"] == "core"
        assert series["metric"]["district"] == "Buer" and series["metric"]["role"] == "core_router"
        assert series["metric"]["instance"] == f"127.0.0.1:{agent.port}"
        lo_now = int(agent.bulkwalk("1.3.6.1.2.1.31.1.1.1.6.1")["1.3.6.1.2.1.31.1.1.1.6.1"])
        assert 0 < float(series["value"][1]) <= lo_now
        # the unreachable switch is scraped too, and is down for Prometheus itself (up = 0,
        # the exporter answers 503 within Prometheus' 1 s timeout), and so is the AP without a
        # management address (503 at once); the live router is up
        up_query = 'up{job="snmp"}'
        api = f"http://127.0.0.1:{prom_port}/api/v1/query?query=" + urllib.parse.quote(up_query)
        deadline, up = time.monotonic() + 20, {}
        while time.monotonic() < deadline and len(up) < 3:
            up = {r["metric"]["device"]: r["value"][1] for r in json.loads(get(api)[1])["data"]["result"]}
            time.sleep(0.5)
        assert up == {"sch-0001-sw0": "0", "no-ip-ap": "0", "pop-buer-cr1": "1"}
        targets = json.loads(get(f"http://127.0.0.1:{prom_port}/api/v1/targets")[1])["data"]["activeTargets"]
        (dead,) = [t for t in targets if t["labels"].get("device") == "sch-0001-sw0"]
        assert "503" in dead["lastError"]
    finally:
        stop_pid(prom)
