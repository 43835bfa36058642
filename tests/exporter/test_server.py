"""The exporter as users run it (`netops exporter serve`), scraped by a real Prometheus
that finds its targets through /sd; metric lint by promtool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from sqlmodel import select

from inventory.models.devices import Device
from inventory.models.profiles import SnmpProfile
from netops import db as dbmod
from netops.db import session_scope
from tests.exporter.conftest import module_status, samples
from tests.exporter.test_sd import small_city
from tests.support import snmpd
from tests.support.procs import find_binary, free_port, stop_pid, wait_for_tcp

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def get(url: str, timeout: float = 10.0, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def promtool_check(text: str) -> None:
    result = subprocess.run([find_binary("promtool"), "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def exporter(agent, tmp_path):
    if find_binary("promtool") is None or find_binary("prometheus") is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus missing in CI")
        pytest.skip("prometheus not installed (run `make test`)")
    url = f"sqlite:///{tmp_path / 'netops.db'}"
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    small_city(engine, devices=2)
    with session_scope(engine) as session:
        session.add(SnmpProfile(name="city_v3", version="v3", user=snmpd.V3_USER, auth_protocol="sha",
                                priv_protocol="aes", timeout_s=1.0, retries=0))
    port = free_port()
    env = dict(os.environ, NETOPS_SECRETS_FILE=str(tmp_path / "absent.toml"),
               NETOPS_SNMP_CITY_V3_AUTH_KEY=snmpd.V3_AUTH_KEY, NETOPS_SNMP_CITY_V3_PRIV_KEY=snmpd.V3_PRIV_KEY,
               NETOPS_SNMP_LATE_V2_COMMUNITY=snmpd.COMMUNITY, NETOPS_CONFIG_DIR=str(tmp_path / "configs"))
    log = open(tmp_path / "exporter.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "--db", url, "exporter", "serve",
                             "--listen", f"127.0.0.1:{port}", "--log-level", "info"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_tcp(port, proc=proc, timeout=30)
        yield f"http://127.0.0.1:{port}", engine, tmp_path
    finally:
        stop_pid(proc)
        log.close()
        engine.dispose()


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
    # a profile added to the inventory is picked up by /-/reload
    assert get(f"{base}/snmp?target={agent.target}&module=system&auth=late_v2")[0] == 400
    with session_scope(engine) as session:
        session.add(SnmpProfile(name="late_v2", version="v2c"))
    assert get(base + "/-/reload", method="POST")[0] == 200
    status, body = get(f"{base}/snmp?target={agent.target}&module=system&auth=late_v2")
    assert status == 200 and module_status(body) == {"system": (1, "")}
    status, own = get(base + "/metrics")
    assert status == 200
    promtool_check(own)
    parsed = samples(own)
    assert {(s.labels["kind"], s.value) for s in parsed["netops_inventory_sites"]} == {("core", 1), ("school", 1)}
    assert parsed["netops_exporter_scrapes_total"][0].value == 2  # the three bad requests never polled
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
        query = 'netops_if_in_bytes_total{device="pop-buer-cr1",if_name="lo"}'
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
        # the unreachable switch is scraped too, and reported down within Prometheus' 1 s timeout
        up_query = 'netops_snmp_module_up{device="sch-0001-sw0",module="system"}'
        api = f"http://127.0.0.1:{prom_port}/api/v1/query?query=" + urllib.parse.quote(up_query)
        deadline, result = time.monotonic() + 20, []
        while time.monotonic() < deadline and not result:
            result = json.loads(get(api)[1])["data"]["result"]
            time.sleep(0.5)
        assert result and result[0]["value"][1] == "0"
    finally:
        stop_pid(prom)
