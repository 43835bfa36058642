"""Down means down, end to end, with every part real: two snmpd agents (a PoP router and a
hotspot access point) scraped by a real Prometheus through `netops exporter serve`, with
the shipped Prometheus config, alert rules and Alertmanager config. One agent is killed
by pid: Prometheus' `up` drops for it alone, the shipped device-down expressions fire for
it and not for the live one, the report's hotspot availability drops, and once the PoP
dies too, Alertmanager inhibits the hotspot's alert behind the PoP's."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

from configs.state import WORKSPACE_ENV
from inventory.models.devices import Device
from inventory.models.sites import Site
from netops import db as dbmod
from netops.db import session_scope
from report import build_report
from report.alerting import pop_inhibit_rules
from report.collect import HOTSPOT_AVAILABILITY_EXPR
from report.prometheus import scalar_query
from tests.support import snmpd
from tests.support.netops_exporter import running_exporter
from tests.support.procs import free_port, stop_pid, wait_for_tcp
from tests.test_deploy import DEPLOY, RULES, _tool

pytestmark = pytest.mark.slow

POP, HOTSPOT = "pop-a-cr1", "hot-1-ap1"
SCRAPE_S = 3  # interval and timeout: the exporter answers 0.5 s before the timeout


def shipped_alert_exprs() -> dict[str, str]:
    groups = yaml.safe_load((RULES / "netops-alerts.yml").read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"] if "alert" in rule}


def city(db_url: str) -> None:
    """A PoP with its core router and a hotspot behind it, each on its own loopback address."""
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        pop = Site(code="POP-A", name="PoP A", kind="core", district="Buer", source="test")
        hot = Site(code="HOT-1", name="Hotspot Markt", kind="hotspot", district="Buer", source="test")
        session.add_all([pop, hot])
        session.flush()
        session.add(Device(name=POP, site_id=pop.id, role="core_router", platform="juniper_junos",
                           mgmt_ip="127.0.0.2", source="test"))
        session.add(Device(name=HOTSPOT, site_id=hot.id, role="wifi_ap", platform="aruba_os",
                           mgmt_ip="127.0.0.3", source="test"))
    engine.dispose()


def prometheus_config(tmp_path, exporter: str, agent_port: int, alertmanager: str) -> None:
    """The shipped prometheus.yml, pointed at this test's exporter and Alertmanager, one
    shard, seconds instead of minutes; the shipped rules with `for:` shortened to 1s (the
    expressions and labels are the shipped ones)."""
    config = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    for old, new in [("netops-exporter:9116/sd", f"{exporter}/sd?port={agent_port}"),
                     ("netops-exporter:9116", exporter), ("alertmanager:9093", alertmanager),
                     ("modulus: 2", "modulus: 1"), ("refresh_interval: 1m", "refresh_interval: 1s"),
                     ("scrape_interval: 60s", f"scrape_interval: {SCRAPE_S}s"),
                     ("scrape_timeout: 50s", f"scrape_timeout: {SCRAPE_S}s"),
                     ("evaluation_interval: 1m", "evaluation_interval: 1s")]:
        assert old in config, old
        config = config.replace(old, new)
    (tmp_path / "prometheus.yml").write_text(config)
    rules = (RULES / "netops-alerts.yml").read_text()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "netops-alerts.yml").write_text(
        "\n".join(line.split("for:")[0] + "for: 1s" if line.strip().startswith("for:") else line
                  for line in rules.splitlines()))


def alertmanager_config(tmp_path) -> None:
    """The shipped alertmanager.yml plus the PoP inhibition `netops report
    --alertmanager-config` generates for a hotspot behind POP-A."""
    config = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    config["inhibit_rules"] += pop_inhibit_rules({"POP-A": ("HOT-1",)})
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def wait_for(what: str, probe, timeout: float = 90.0):
    """Poll ``probe`` until it returns something truthy (Prometheus and Alertmanager answer
    503 or refuse connections while starting)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not seen in {timeout:.0f} s (last: {last!r})")


def test_a_dead_device_is_down_for_every_consumer(tmp_path, monkeypatch):
    prometheus = _tool("prometheus")
    alertmanager = _tool("prometheus-alertmanager", "/usr/bin/alertmanager")
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    agent_port = snmpd.free_udp_port("127.0.0.2")
    agents = {POP: snmpd.start(tmp_path / "pop", port=agent_port, host="127.0.0.2"),
              HOTSPOT: snmpd.start(tmp_path / "hot", port=agent_port, host="127.0.0.3")}
    db_url = f"sqlite:///{tmp_path / 'netops.db'}"
    city(db_url)
    procs = []
    try:
        with running_exporter(db_url, tmp_path) as exporter_url:
            am_port, prom_port = free_port(), free_port()
            alertmanager_config(tmp_path)
            prometheus_config(tmp_path, exporter_url.removeprefix("http://"), agent_port, f"127.0.0.1:{am_port}")
            procs.append(subprocess.Popen(
                [alertmanager, f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'am'}",
                 f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            procs.append(subprocess.Popen(
                [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            wait_for_tcp(am_port, timeout=60, proc=procs[0])
            wait_for_tcp(prom_port, timeout=60, proc=procs[1])
            prom = f"http://127.0.0.1:{prom_port}"
            exprs = shipped_alert_exprs()

            def query(expr: str) -> dict[str, str]:
                url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
                return {r["metric"].get("device", ""): r["value"][1] for r in _get_json(url)["data"]["result"]}

            def alerts_in_alertmanager() -> dict[str, str]:
                return {a["labels"]["alertname"] + "/" + a["labels"]["device"]: a["status"]["state"]
                        for a in _get_json(f"http://127.0.0.1:{am_port}/api/v2/alerts")}

            up = 'up{job="netops-devices"}'
            wait_for("both devices up", lambda: query(up) == {POP: "1", HOTSPOT: "1"})
            assert query(exprs["NetopsHotspotDown"]) == {} and query(exprs["NetopsPopDown"]) == {}
            with session_scope(dbmod.make_engine(db_url)) as session:
                assert build_report(session, prometheus_url=prom).kpis.hotspot_availability["7d"] == 1.0

            # the hotspot's agent dies
            stop_pid(agents[HOTSPOT].proc, signal.SIGKILL)
            wait_for("the hotspot down", lambda: query(up) == {POP: "1", HOTSPOT: "0"})
            targets = _get_json(f"{prom}/api/v1/targets")["data"]["activeTargets"]
            (dead,) = [t for t in targets if t["labels"].get("device") == HOTSPOT]
            assert "503" in dead["lastError"]
            # the shipped expressions, as Prometheus evaluates them: the hotspot, not the PoP
            # (they read the recording rule netops:up:polled: its next evaluation, 1 s here)
            wait_for("NetopsHotspotDown's expression", lambda: query(exprs["NetopsHotspotDown"]) == {HOTSPOT: "0"})
            assert query(exprs["NetopsPopDown"]) == {} and query(exprs["NetopsTargetDown"]) == {}
            wait_for("NetopsHotspotDown in Alertmanager",
                     lambda: alerts_in_alertmanager().get(f"NetopsHotspotDown/{HOTSPOT}") == "active")
            assert not any(name.startswith("NetopsPopDown") for name in alerts_in_alertmanager())
            # the report's availability (avg_over_time(up) of hotspots) drops below 1
            with session_scope(dbmod.make_engine(db_url)) as session:
                availability = build_report(session, prometheus_url=prom).kpis.hotspot_availability
            assert 0 < availability["7d"] < 1.0 and 0 < availability["30d"] < 1.0
            assert scalar_query(prom, HOTSPOT_AVAILABILITY_EXPR.format(window="1h")) < 1.0

            # then the PoP dies: its alert fires, and the hotspot behind it is inhibited
            stop_pid(agents[POP].proc, signal.SIGKILL)
            wait_for("the PoP down", lambda: query(up) == {POP: "0", HOTSPOT: "0"})
            wait_for("NetopsPopDown's expression", lambda: query(exprs["NetopsPopDown"]) == {POP: "0"})
            wait_for("the hotspot alert inhibited behind the PoP", lambda: alerts_in_alertmanager() == {
                f"NetopsPopDown/{POP}": "active", f"NetopsHotspotDown/{HOTSPOT}": "suppressed"})
    finally:
        for proc in procs:
            stop_pid(proc)
        for agent in agents.values():
            agent.stop()
