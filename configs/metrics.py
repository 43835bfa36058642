"""Prometheus metrics of the config runs, computed at scrape time from the state file
the runs leave behind (``configs.state``): no global mutable metrics, and a backup's
age keeps growing between runs as it should.

Register it with an exporter's registry::

    registry.register(ConfigStateCollector(Workspace(path)))
"""

from __future__ import annotations

import logging
import time
from typing import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from configs.state import Workspace
from netops.errors import NetopsError

log = logging.getLogger(__name__)


class ConfigStateCollector(Collector):
    def __init__(self, workspace: Workspace, clock=time.time):
        self.workspace = workspace
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        readable = GaugeMetricFamily(
            "netops_config_state_readable",
            "1 if the record of the config runs (state.json) was read, 0 if it is damaged or unreadable "
            "(the backup and compliance gauges are then absent).",
        )
        try:
            state = self.workspace.read_state()
        except NetopsError as exc:  # a damaged record must not take /metrics down with it
            log.warning("config runs' gauges unavailable: %s", exc)
            readable.add_metric([], 0.0)
            yield readable
            return
        readable.add_metric([], 1.0)
        yield readable
        now = self._clock()
        yield from self._backups(state.get("backup", {}), now)
        yield from self._audit(state)
        yield from self._lldp(state.get("lldp"))
        yield from self._reached(state)
        yield from self._last_runs(state)

    def _backups(self, backup: dict, now: float):
        age = GaugeMetricFamily(
            "netops_config_backup_age_seconds",
            "Seconds since the last successful config backup of the device.",
            labels=["device"],
        )
        ok = GaugeMetricFamily(
            "netops_config_backup_last_attempt_success",
            "1 if the device's last backup attempt succeeded, else 0.",
            labels=["device", "status"],
        )
        for device, entry in sorted(backup.get("devices", {}).items()):
            if "last_success" in entry:
                age.add_metric([device], max(0.0, now - entry["last_success"]))
            ok.add_metric([device, entry.get("status", "unknown")], 1.0 if entry.get("status") == "ok" else 0.0)
        yield age
        yield ok

    def _audit(self, state: dict):
        devices = GaugeMetricFamily(
            "netops_config_compliance_devices",
            "Devices complying or not with each compliance rule, at the last audit.",
            labels=["rule", "severity", "result", "source"],
        )
        for key, source in (("audit", "running"), ("audit_intended", "intended")):
            for rule, entry in sorted(state.get(key, {}).get("rules", {}).items()):
                for result in ("compliant", "noncompliant"):
                    devices.add_metric([rule, entry["severity"], result, source], entry.get(result, 0))
        yield devices

    def _lldp(self, lldp: dict | None):
        mismatches = GaugeMetricFamily(
            "netops_lldp_mismatches",
            "Links differing from the inventory at the last LLDP/CDP verification, by kind.",
            labels=["kind"],
        )
        for kind, count in sorted((lldp or {}).get("mismatches", {}).items()):
            mismatches.add_metric([kind], count)
        yield mismatches

    def _reached(self, state: dict):
        """How many devices each audit and LLDP run checked and how many it did not reach
        or read: their findings are absent from the gauges above, so without this a device
        going down read as a device fixed."""
        devices = GaugeMetricFamily(
            "netops_config_run_devices",
            "Devices the last run of each kind (audit, audit_intended, lldp) checked, and those it failed to "
            "reach or read (absent from its compliance and mismatch counts).",
            labels=["run", "result"],
        )
        for run in ("audit", "audit_intended", "lldp"):
            section = state.get(run, {})
            if "devices" in section:
                failed = section.get("failed_devices", 0)
                devices.add_metric([run, "checked"], section["devices"] - failed)
                devices.add_metric([run, "failed"], failed)
        yield devices

    def _last_runs(self, state: dict):
        last = GaugeMetricFamily(
            "netops_config_run_last_timestamp_seconds",
            "Unix time of the last run of each kind (backup, audit, audit_intended, lldp).",
            labels=["run"],
        )
        for run in ("backup", "audit", "audit_intended", "lldp"):
            if "last_run" in state.get(run, {}):
                last.add_metric([run], state[run]["last_run"])
        yield last
