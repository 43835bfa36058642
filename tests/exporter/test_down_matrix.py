"""Down means down to every consumer: one table of bad-day devices, every consumer asked.

The devices (a school's switches and two hotspot access points, all in one inventory):

| device | what it is on a bad day |
| --- | --- |
| ``dead-sw`` | nothing listens at its port (a dead device) |
| ``silent-sw`` | answers the first request, then nothing (an agent silent mid-walk, behind a proxy) |
| ``killed-sw`` | snmpd killed by its own pass_persist table in the middle of the interfaces walk |
| ``wrongc-sw`` | bound to a v2c profile whose community the agent does not know |
| ``wrongk-sw`` | bound to a v3 profile whose authentication key the agent does not know |
| ``partial-sw`` | answers system, but its interfaces walk goes back on itself (a module down) |
| ``slow-sw`` | answers every request 4 s late (Prometheus waits 3 s) |
| ``echo-sw`` | no agent: every datagram comes back as it was sent (our own GetRequest) |
| ``nokey-sw``, ``nokey-ap`` | bound to a v3 profile whose secrets the exporter lacks (left out): not polled, state unknown |
| ``noaddr-ap``, ``noaddr/ap:2`` | active hotspot APs the inventory has no management address for |
| ``live-sw``, ``live-ap`` | healthy, the control |

The consumers: ``/sd`` (the device is a target), ``/snmp`` with the device's own /sd
parameters (503 and the reason, or 200 with the broken module down), the exporter's own
``/metrics`` (targets down by reason), a real Prometheus scraping the real exporter with
the shipped config and rules (``up``, the alerts ``NetopsTargetDown``, ``NetopsHotspotDown``,
``NetopsModuleDown``), the shipped dashboard's overview queries and the report's hotspot availability. netops has no CLI command
that polls devices (``config``/``lldp`` go over SSH and are hunted elsewhere): the report
is the CLI's one view of device state. snmp_exporter's semantics where it has them: a
target it cannot poll is an error status (``up`` 0); it has no inventory, so no
"unaddressed device".
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse

import pytest
import yaml

from configs.state import WORKSPACE_ENV
from inventory.models.devices import Device
from inventory.models.profiles import SnmpProfile
from inventory.models.sites import Site
from netops import db as dbmod
from netops.db import session_scope
from report.grafana import dashboard
from tests.exporter.conftest import samples
from tests.exporter.test_down_hunt import Reflector
from tests.exporter.test_down_everywhere import _get_json, prometheus_config, shipped_alert_exprs
from tests.exporter.test_foreign_agents import IF_HC_IN_OCTETS, interface_rows, start_foreign_agent
from tests.support import snmpd
from tests.support.netops_exporter import ROOT, http, running_exporter
from tests.support.procs import free_port, stop_pid, wait_for_tcp
from tests.support.udp_fault_proxy import FaultProxy
from tests.test_deploy import _tool

pytestmark = pytest.mark.slow

#: device -> (site kind, profile, what /snmp answers: status and reason, the alerts that must fire)
MATRIX = {
    "dead-sw": ("school", None, 503, "unreachable", {"NetopsTargetDown"}),
    "silent-sw": ("school", None, 503, "timeout", {"NetopsTargetDown"}),
    "killed-sw": ("school", None, 503, "timeout", {"NetopsTargetDown"}),  # behind a proxy: no ICMP
    "wrongc-sw": ("school", "city_v2", 503, "timeout", {"NetopsTargetDown"}),
    "wrongk-sw": ("school", "city_v3", 503, "auth", {"NetopsTargetDown"}),
    "partial-sw": ("school", None, 200, "oid_not_increasing", {"NetopsModuleDown"}),
    "slow-sw": ("school", None, 503, "timeout", {"NetopsTargetDown"}),
    # main: 200, every module up, sys_uptime_seconds 0 (up 1 and NetopsDeviceRebooted)
    "echo-sw": ("school", None, 503, "malformed_response", {"NetopsTargetDown"}),
    # not polled, up 0: session 9's main fired NetopsTargetDown ("has not answered"), and
    # NetopsPopDown for a core router; /sd labels it snmp_credentials="missing". /snmp said
    # 400 "unknown auth profile" (a malformed request, for what /sd asked): now "not polled"
    "nokey-sw": ("school", "nokey_v3", 503, "no_credentials", {"NetopsDeviceNotPolled"}),
    # not polled is not down: out of the hotspots' availability, counted on its own
    "nokey-ap": ("hotspot", "nokey_v3", 503, "no_credentials", {"NetopsDeviceNotPolled"}),
    "noaddr-ap": ("hotspot", None, 503, "no_management_address", {"NetopsHotspotDown"}),
    # device names may hold `/` and `:`: no host name, but still a device that is down
    "noaddr/ap:2": ("hotspot", None, 503, "no_management_address", {"NetopsHotspotDown"}),
    "live-sw": ("school", None, 200, "", set()),
    "live-ap": ("hotspot", None, 200, "", set()),
}
ADDRESSES = {name: f"127.0.0.{10 + i}" for i, name in enumerate(MATRIX) if not name.startswith("noaddr")}
DOWN = {name for name, (_kind, _profile, status, _reason, _alerts) in MATRIX.items() if status != 200}
NOT_POLLED = {name for name, (_kind, _profile, _status, reason, _alerts) in MATRIX.items() if reason == "no_credentials"}


def dashboard_expr(title: str, site: str = ".*") -> str:
    """The shipped dashboard's first panel of that title (the overview comes first), its query
    for every district and site kind, and ``site`` in the site drill-down."""
    panel = next(p for p in dashboard()["panels"] if p["title"] == title)
    return panel["targets"][0]["expr"].replace("$district", ".*").replace("$site_kind", ".*").replace("$site", site)


def inventory(db_url: str) -> None:
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        sites = {kind: Site(code=f"{kind.upper()}-1", name=kind, kind=kind, district="Buer", source="test")
                 for kind in ("school", "hotspot")}
        session.add_all(sites.values())
        # short timeouts, so every try fits Prometheus' 3 s (the community stays `public`)
        session.add(SnmpProfile(name="public_v2", version="v2c", timeout_s=0.5, retries=1))
        session.add(SnmpProfile(name="city_v2", version="v2c", timeout_s=0.5, retries=1))
        session.add(SnmpProfile(name="city_v3", version="v3", user=snmpd.V3_USER, auth_protocol="sha",
                                priv_protocol="aes", timeout_s=0.5, retries=1))
        session.add(SnmpProfile(name="nokey_v3", version="v3", user=snmpd.V3_USER, auth_protocol="sha",
                                priv_protocol="aes"))  # no secrets given for it: the exporter leaves it out
        session.flush()
        for name, (kind, profile, *_rest) in MATRIX.items():
            session.add(Device(name=name, site_id=sites[kind].id, role="wifi_ap" if kind == "hotspot" else
                               "access_switch", platform="cisco_ios", snmp_profile=profile, source="test",
                               mgmt_ip=ADDRESSES.get(name)))
    engine.dispose()


def settled(what: str, read, expected, timeout_s: float):
    """Wait until ``read()`` gives ``expected``; fail showing the last answer and how it differs."""
    last = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            last = read()
        except (urllib.error.URLError, ConnectionError):
            last = None
        if last == expected:
            return
        time.sleep(0.5)
    differs = {key: (last.get(key), value) for key, value in expected.items() if last.get(key) != value} \
        if isinstance(last, dict) else last
    raise AssertionError(f"{what}: not seen in {timeout_s:.0f} s; (got, expected): {differs}")


def test_every_consumer_says_down(tmp_path, monkeypatch):
    prometheus = _tool("prometheus")
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    shared = snmpd.start(tmp_path / "snmpd")
    killed_rows = interface_rows({1: "eth1", 2: "eth2", 3: "eth3"}, 0)
    killed_rows[f"{IF_HC_IN_OCTETS}.2"] = ["kill", "0"]
    looping_rows = interface_rows({1: "eth1", 2: "eth2", 3: "eth3"}, 0)
    looping_rows[f"{IF_HC_IN_OCTETS}.3"] = ["back", f"{IF_HC_IN_OCTETS}.1"]
    killed = start_foreign_agent(tmp_path / "killed", killed_rows)
    looping = start_foreign_agent(tmp_path / "looping", looping_rows)
    # every device at its own loopback address (the inventory's addresses are unique): a
    # proxy there in front of its agent, or nothing at all for the dead one
    behind = {"silent-sw": (shared.port, dict(mode="stop_after", answer_first=1)),
              "killed-sw": (killed.agent.port, {}), "wrongc-sw": (shared.port, {}), "wrongk-sw": (shared.port, {}),
              "partial-sw": (looping.agent.port, {}), "slow-sw": (shared.port, dict(delay_s=4.0)),
              "live-sw": (shared.port, {}), "live-ap": (shared.port, {})}
    proxies = {name: FaultProxy(port, host=ADDRESSES[name], **fault) for name, (port, fault) in behind.items()}
    for proxy in proxies.values():
        proxy.__enter__()
    echo = Reflector(ADDRESSES["echo-sw"]).__enter__()
    ports = {name: proxy.port for name, proxy in proxies.items()} | {"dead-sw": snmpd.free_udp_port(ADDRESSES["dead-sw"]),
                                                                     "echo-sw": echo.port}
    db_url = f"sqlite:///{tmp_path / 'netops.db'}"
    inventory(db_url)
    secrets = {"NETOPS_SNMP_CITY_V2_COMMUNITY": "not-the-community", "NETOPS_SNMP_CITY_V3_AUTH_KEY": "not-the-key",
               "NETOPS_SNMP_CITY_V3_PRIV_KEY": snmpd.V3_PRIV_KEY}
    prom_proc = None
    try:
        with running_exporter(db_url, tmp_path, env=secrets) as exporter:
            prom_port = free_port()
            prometheus_config(tmp_path, exporter.removeprefix("http://"), 161, "127.0.0.1:9")
            config = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
            (devices_job,) = [job for job in config["scrape_configs"] if job["job_name"] == "netops-devices"]
            # each agent listens on its own loopback port: the device's name, polled at that port
            devices_job["relabel_configs"] += [
                {"source_labels": ["device"], "regex": name, "target_label": "__param_target",
                 "replacement": f"{name}:{port}"} for name, port in ports.items()]
            (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
            prom_proc = subprocess.Popen(
                [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            wait_for_tcp(prom_port, timeout=60, proc=prom_proc)
            prom = f"http://127.0.0.1:{prom_port}"

            def query(expr: str) -> dict[str, str]:
                url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
                return {r["metric"].get("device", ""): r["value"][1] for r in _get_json(url)["data"]["result"]}

            def firing() -> dict[str, set[str]]:
                alerts: dict[str, set[str]] = {name: set() for name in MATRIX}
                for alert in _get_json(f"{prom}/api/v1/alerts")["data"]["alerts"]:
                    # the agents started a moment ago: NetopsDeviceRebooted (info) is right and beside the point
                    if alert["state"] == "firing" and alert["labels"].get("device") in alerts \
                            and alert["labels"]["alertname"] != "NetopsDeviceRebooted":
                        alerts[alert["labels"]["device"]].add(alert["labels"]["alertname"])
                return alerts

            expected_up = {name: "0" if name in DOWN else "1" for name in MATRIX}
            settled("up as the matrix says", lambda: query('up{job="netops-devices"}'), expected_up, 60)
            settled("the alerts the matrix names", firing, {name: row[4] for name, row in MATRIX.items()}, 40)
            assert query(shipped_alert_exprs()["NetopsModuleDown"]) == {"partial-sw": "0"}

            # /sd lists every device; /snmp with its own parameters says down and why
            sd = {group["labels"]["device"]: group for group in _get_json(f"{exporter}/sd?port=161")}
            assert sorted(sd) == sorted(MATRIX)
            assert {name for name, group in sd.items() if group["labels"].get("snmp_credentials") == "missing"} \
                == NOT_POLLED
            for name, (_kind, _profile, status, reason, _alerts) in MATRIX.items():
                labels = sd[name]["labels"]
                query_string = urllib.parse.urlencode({"target": f"{name}:{ports.get(name, 161)}",
                                                       "module": labels["__param_module"],
                                                       "auth": labels["__param_auth"]})
                got_status, body = http(f"{exporter}/snmp?{query_string}",
                                        headers={"X-Prometheus-Scrape-Timeout-Seconds": "3"})
                assert got_status == status, (name, body)
                if status == 503:
                    said = "target not polled" if name in NOT_POLLED else "target down"
                    assert body.startswith(f"{said}: reason={reason} "), (name, body)
                elif reason:
                    modules = {s.labels["module"]: s.value for s in samples(body)["netops_snmp_module_up"]}
                    assert modules["interfaces"] == 0 and modules["system"] == 1, name
                    assert f'netops_snmp_module_error{{module="interfaces",reason="{reason}"}} 1' in body
            # the exporter's own /metrics counts the down answers by reason
            _status, metrics = http(f"{exporter}/metrics")
            down_reasons = {s.labels["reason"] for s in samples(metrics)["netops_exporter_targets_down_total"]}
            assert {MATRIX[name][3] for name in DOWN - NOT_POLLED if MATRIX[name][2] == 503} <= down_reasons
            assert "no_credentials" not in down_reasons
            assert {s.labels["reason"]: s.value > 0 for s in samples(metrics)["netops_exporter_targets_not_polled_total"]} \
                == {"no_credentials": True}
            # the dashboard's overview: not polled is neither up nor down (main counted it down)
            assert query(dashboard_expr("Devices down")) == {"": str(len(DOWN - NOT_POLLED))}
            assert query(dashboard_expr("Devices not polled (no SNMP credentials)")) == {"": str(len(NOT_POLLED))}
            assert query(dashboard_expr("Devices up")) == {"": str(len(MATRIX) - len(DOWN))}
            # and the site drill-down counts the hotspot site's device not polled apart (main: gone)
            assert query(dashboard_expr("Devices not polled at the site (no SNMP credentials)", "HOTSPOT-1")) \
                == {"": str(len({name for name in NOT_POLLED if MATRIX[name][0] == "hotspot"}))}
            # the report (the CLI, as operators run it): the unaddressed hotspots count as down
            # in the hotspots' availability (session 9's main: absent, so the one live AP made
            # it 1.0); the one not polled does not count (main: as down, 1/4), it is counted apart
            done = subprocess.run([sys.executable, "-m", "cli", "--db", db_url, "report", "--json",
                                   "--prometheus-url", prom, "--out", str(tmp_path / "report.html")],
                                  capture_output=True, text=True, timeout=120, cwd=ROOT)
            assert done.returncode == 0, done.stderr
            kpis = json.loads(done.stdout)["kpis"]
            assert kpis["hotspot_availability"]["7d"] == pytest.approx(1 / 3, abs=0.05)  # live-ap of 3
            assert kpis["hotspots_not_polled"] == 1
            # and says of how many: live-ap and the two unaddressed, not the one not polled
            assert kpis["hotspots_in_availability"] == {"7d": 3, "30d": 3}
            assert "hotspot availability, last 7d (of 3 hotspot APs polled)" in (tmp_path / "report.html").read_text()
    finally:
        if prom_proc is not None:
            stop_pid(prom_proc)
        for proxy in proxies.values():
            proxy.__exit__(None, None, None)
        echo.__exit__(None, None, None)
        for agent in (shared, killed.agent, looping.agent):
            agent.stop()
    assert killed.agent.proc.returncode == -signal.SIGKILL
