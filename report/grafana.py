"""The city's Grafana dashboard, built in Python so its dozens of panels share one shape.

``python -m report.grafana deploy/grafana/netops-city.json`` rewrites the shipped file;
a test fails when the file and this module disagree, and another checks every metric the
dashboard queries against what the exporter emits.

Rows: overview (the city at a glance), site drill-down (pick a site), optics (receive
power against thresholds and its weekly drift), WiFi clients by zone (district) and SSID.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

DEVICES = 'job="netops-devices"'
SITE = f'{DEVICES}, site=~"$site"'
SCOPE = f'{DEVICES}, district=~"$district", site_kind=~"$site_kind"'
#: devices the exporter holds no SNMP credentials for (/sd's label) are not polled: neither
#: up nor down, so the up/down panels leave them out and "Devices not polled" counts them
POLLED = 'snmp_credentials!="missing"'
NOT_POLLED = 'snmp_credentials="missing"'
#: IF-MIB ifOperStatus values that mean "not passing traffic" (1 up and 5 dormant do not)
IF_DOWN = "!= 1 != 5"
#: the WLC reports clients per AP name; the inventory says where that AP is
AP_CLIENTS = (
    'label_replace(wifi_ap_clients{job="netops-devices"}, "device", "$1", "ap_name", "(.+)")'
    " * on (device) group_left (site, district)"
    ' max by (device, site, district) (netops_inventory_device_info{role="wifi_ap", district=~"$district"})'
)


def _target(expr: str, legend: str = "", instant: bool = False) -> dict:
    target = {"datasource": {"type": "prometheus", "uid": "${datasource}"}, "expr": expr}
    if legend:
        target["legendFormat"] = legend
    if instant:
        target |= {"instant": True, "format": "table"}
    return target


class _Layout:
    """Hands out panel ids and grid positions, row by row (24 columns wide)."""

    def __init__(self):
        self.ids = itertools.count(1)
        self.y = 0
        self.x = 0
        self.row_height = 0
        self.panels: list[dict] = []

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append({"type": "row", "title": title, "id": next(self.ids), "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def panel(self, kind: str, title: str, targets: list[dict], w: int, h: int, unit: str | None = None,
              **options) -> None:
        if self.x + w > 24:
            self._newline()
        panel = {
            "type": kind, "title": title, "id": next(self.ids),
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
            "targets": [t | {"refId": chr(ord("A") + i)} for i, t in enumerate(targets)],
            "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
            "options": options,
        }
        self.panels.append(panel)
        self.x += w
        self.row_height = max(self.row_height, h)

    def _newline(self) -> None:
        self.y += self.row_height
        self.x = 0
        self.row_height = 0


def _variable(name: str, query: str, label: str, multi: bool = True) -> dict:
    return {
        "name": name, "label": label, "type": "query",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "query": {"query": query, "refId": f"{name}-values"}, "definition": query,
        "refresh": 2, "multi": multi, "includeAll": True, "allValue": ".*", "sort": 1,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    }


def dashboard() -> dict:
    lay = _Layout()

    lay.row("Overview")
    lay.panel("stat", "Devices up", [_target(f"sum(up{{{SCOPE}, {POLLED}}})")], 4, 4)
    lay.panel("stat", "Devices down", [_target(f"count(up{{{SCOPE}, {POLLED}}} == 0) or vector(0)")], 4, 4)
    lay.panel("stat", "Devices not polled (no SNMP credentials)",
              [_target(f"count(up{{{SCOPE}, {NOT_POLLED}}}) or vector(0)")], 4, 4)
    lay.panel("stat", "Hotspots available", [_target(f'avg(up{{{DEVICES}, site_kind="hotspot", {POLLED}}})')], 4, 4,
              unit="percentunit")
    lay.panel("stat", "Used interfaces down", [_target(
        f"count(if_oper_status{{{SCOPE}}} {IF_DOWN}"
        f" and on (instance, if_name) if_admin_status{{{SCOPE}}} == 1"
        f" and on (instance, if_name) min_over_time(if_oper_status{{{SCOPE}}}[1d]) == 1) or vector(0)")],
        4, 4)
    lay.panel("stat", "Sites without trench-disjoint redundancy",
              [_target("count(netops_site_trench_disjoint_paths < 2) or vector(0)")], 4, 4)
    lay.panel("stat", "Config backups older than 2 days",
              [_target("count(netops_config_backup_age_seconds > 2 * 86400) or vector(0)")], 4, 4)
    lay.panel("timeseries", "Availability by site kind",
              [_target(f"avg by (site_kind) (up{{{SCOPE}, {POLLED}}})", "{{site_kind}}")], 12, 8, unit="percentunit")
    lay.panel("table", "Devices down", [_target(f"up{{{SCOPE}, {POLLED}}} == 0", instant=True)], 12, 8)
    lay.panel("bargauge", "Compliance failures by rule",
              [_target('sum by (rule) (netops_config_compliance_devices{result="noncompliant", source="running"})',
                       "{{rule}}")], 12, 8)
    lay.panel("table", "Firing netops alerts",
              [_target('ALERTS{alertstate="firing", alertname=~"Netops.*"}', instant=True)], 12, 8)
    # why devices read as down: the exporter answers 503 with a reason (auth after a key
    # rotation, timeout, unreachable), and refuses requests outside the inventory with 403
    lay.panel("timeseries", "Down scrapes by reason, refused requests by status (per minute)", [
        _target("sum by (reason) (rate(netops_exporter_targets_down_total[5m])) * 60", "down: {{reason}}"),
        _target("sum by (reason) (rate(netops_exporter_targets_not_polled_total[5m])) * 60", "not polled: {{reason}}"),
        _target("sum by (status) (rate(netops_exporter_requests_refused_total[5m])) * 60", "refused: {{status}}"),
    ], 24, 6)

    lay.row("Site drill-down ($site)")
    lay.panel("stat", "Devices up", [_target(f"up{{{SITE}, {POLLED}}}", "{{device}}")], 5, 5)
    # not polled: neither up nor down, counted apart (left out of "Devices up" they vanished)
    lay.panel("stat", "Devices not polled at the site (no SNMP credentials)",
              [_target(f"count(up{{{SITE}, {NOT_POLLED}}}) or vector(0)")], 2, 5)
    lay.panel("stat", "Uptime", [_target(f"sys_uptime_seconds{{{SITE}}}", "{{device}}")], 5, 5,
              unit="s")
    lay.panel("state-timeline", "Interface state (IF-MIB: 1 up, 2 down, 5 dormant, 7 lower layer down)",
              [_target(f"if_oper_status{{{SITE}}}", "{{device}} {{if_name}}")], 12, 5)
    lay.panel("timeseries", "Traffic in (bit/s)", [_target(
        f"rate(if_in_bytes_total{{{SITE}}}[5m]) * 8", "{{device}} {{if_name}}")], 12, 8, unit="bps")
    lay.panel("timeseries", "Traffic out (bit/s)", [_target(
        f"rate(if_out_bytes_total{{{SITE}}}[5m]) * 8", "{{device}} {{if_name}}")], 12, 8, unit="bps")
    lay.panel("timeseries", "Interface errors (per second)", [
        _target(f"rate(if_in_errors_total{{{SITE}}}[5m])", "in {{device}} {{if_name}}"),
        _target(f"rate(if_out_errors_total{{{SITE}}}[5m])", "out {{device}} {{if_name}}"),
    ], 24, 7)
    # what `netops audit cut site:X` says: a power cut or fire at a PoP takes all its devices.
    # One figure per site: summed over several ($site is All by default) a home behind two of
    # them counted twice. 0 only when the audit gauges are in (a site that cuts off no one has
    # no series); without them (the exporter or its audit away) no data, not "0 cut off"
    lay.panel("stat", "Customers cut off while the whole site is down", [
        _target(f'max by (site) (netops_site_customers{{site=~"$site", customer="{customer}"}})'
                f" or on () 0 * count(netops_site_trench_disjoint_paths)", f"{{{{site}}}} {legend}")
        for customer, legend in (("companies", "companies"), ("residential_units", "homes"))], 24, 4)

    lay.row("Optics")
    lay.panel("timeseries", "Receive power (dBm)", [
        _target(f"optic_rx_power_dbm{{{SITE}}}", "{{device}} {{if_name}}"),
        _target('netops_optic_rx_sensitivity_dbm * on (device) group_left () '
                'max by (device) (netops_inventory_device_info{site=~"$site"})',
                "optic sensitivity {{device}} {{if_name}} ({{optic}})"),
    ], 12, 9, unit="dBm")
    lay.panel("table", "Weakest receivers in scope (dBm)",
              [_target(f"bottomk(15, optic_rx_power_dbm{{{SCOPE}}})", instant=True)], 12, 9)
    lay.panel("table", "Receive power change over one week (dB)", [_target(
        f"bottomk(15, avg_over_time(optic_rx_power_dbm{{{SCOPE}}}[1h])"
        f" - avg_over_time(optic_rx_power_dbm{{{SCOPE}}}[1h] offset 1w))", instant=True)], 24, 8)

    lay.row("WiFi clients by zone")
    lay.panel("timeseries", "Clients by zone (district)", [_target(
        f"sum by (district) ({AP_CLIENTS})", "{{district}}")], 12, 9)
    lay.panel("timeseries", "Clients by SSID", [_target(
        f"sum by (ssid) (wifi_ssid_clients{{{DEVICES}}})", "{{ssid}}")], 12, 9)
    lay.panel("table", "Busiest hotspots", [_target(
        f"topk(20, sum by (site, district) ({AP_CLIENTS}))", instant=True)], 24, 8)

    return {
        "title": "netops — city network",
        "uid": "netops-city",
        "tags": ["netops"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0},
            _variable("district", f"label_values(up{{{DEVICES}}}, district)", "District"),
            _variable("site_kind", f"label_values(up{{{DEVICES}}}, site_kind)", "Site kind"),
            _variable("site", f'label_values(up{{{DEVICES}, district=~"$district", site_kind=~"$site_kind"}}, site)',
                      "Site", multi=False),
        ]},
        "annotations": {"list": []},
        "panels": lay.panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(render(), encoding="utf-8")
