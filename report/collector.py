"""Inventory and audit gauges for Prometheus, computed at scrape time from the inventory.

The alert rules and the dashboard need a few facts that no device can tell over SNMP:

``netops_site_trench_disjoint_paths{site, site_kind, district}``
    paths from the site to the core that share no trench, counted 0, 1 or 2 (two or
    more), from ``topology.audits.path_diversity``; the ``NetopsSiteLostRedundancy``
    alert fires when it drops below 2.
``netops_audit_site_disjoint_paths{site, site_kind, layer}``
    disjoint paths to the core by layer (``logical``: links, ``physical``: trenches).
``netops_audit_findings{audit, severity}``, ``netops_audit_single_points_of_failure{severity}``
    number of topology audit findings.
``netops_site_customers{site, site_kind, district, customer}``
    companies (``customer="companies"``) and homes (``customer="residential_units"``) cut
    off while the site's devices are down; only sites where that is any (the dashboard's
    site drill-down shows it).
``netops_device_customers{device, site, site_kind, district, customer}``
    the same for one device down alone (an OLT, a company's NTU or switch, a link's end);
    only devices where that is any. The ``NetopsCustomerSiteDown`` alert joins it to ``up``
    by device: a PoP's core router down cuts off none of the homes its OLT serves.
``netops_inventory_device_info{device, site, site_kind, district, role}``
    value 1; joins series that name a device (e.g. the WLC's per-AP client counts) to
    the device's site and district.
``netops_optic_rx_sensitivity_dbm{device, if_name, optic}``
    the inventory's receiver sensitivity of the optic in that port: the floor of the
    ``NetopsOpticRxPowerLow`` alert.

Register it with the exporter's registry: ``registry.register(InventoryAuditCollector(engine))``.
The topology figures come from a child process (``report.audit_summary``), so the exporter
never imports the topology and its graph libraries; the child takes a few seconds, so it
runs in the background and its results are kept for ``ttl_s``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlmodel import select

from inventory.models import Device, Interface, OpticType, Site, Status
from netops.db import redact_url, session_scope
from netops.settings import DB_ENV

log = logging.getLogger("netops.report.collector")


class AuditSummaryError(Exception):
    pass


def audit_summary(engine: Engine, timeout_s: float = 120.0) -> dict:
    """``report.audit_summary`` of the inventory behind ``engine``, computed in a child process
    (the URL, password included, goes in its environment, not on its command line; its error
    line comes back with the password masked)."""
    url = engine.url.render_as_string(hide_password=False)
    env = dict(os.environ, **{DB_ENV: url})
    try:
        done = subprocess.run([sys.executable, "-m", "report.audit_summary"], env=env, capture_output=True,
                              text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise AuditSummaryError(f"the topology audits took longer than {timeout_s:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise AuditSummaryError(f"the topology audits failed: {redact_url(last, url)}")
    return json.loads(done.stdout)


class InventoryAuditCollector(Collector):
    """The inventory's gauges are read at scrape time and kept for ``ttl_s``. The topology's
    come from the child, in a background thread that starts with the collector and again
    once its summary is ``ttl_s`` old: a scrape never waits for it and gets the last summary
    (none until the first is in, a few seconds after the exporter started)."""

    def __init__(self, engine: Engine, ttl_s: float = 300.0, clock=time.monotonic):
        self.engine = engine
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._inventory: tuple[float, list[GaugeMetricFamily]] | None = None
        self._audits: list[GaugeMetricFamily] = []
        self._audits_started = clock()
        self._worker = self._start_audits()

    def wait_for_audits(self, timeout_s: float | None = None) -> None:
        """Until the running (or last) topology summary is in."""
        self._worker.join(timeout_s)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            now = self._clock()
            if now - self._audits_started >= self.ttl_s and not self._worker.is_alive():
                self._audits_started = now
                self._worker = self._start_audits()
            if self._inventory is None or now - self._inventory[0] >= self.ttl_s:
                try:
                    self._inventory = (now, _inventory_families(self.engine))
                except Exception as exc:  # the database being away must not break /metrics
                    log.warning("inventory gauges unavailable: %s",
                                redact_url(str(exc), self.engine.url.render_as_string(hide_password=False)))
            families = (self._inventory[1] if self._inventory else []) + self._audits
        yield from families

    def _start_audits(self) -> threading.Thread:
        worker = threading.Thread(target=self._compute_audits, name="netops-audit-summary", daemon=True)
        worker.start()
        return worker

    def _compute_audits(self) -> None:
        try:
            families = _audit_families(audit_summary(self.engine))
        except Exception as exc:  # figures that cannot be computed are left out, not kept stale
            log.warning("topology audit gauges unavailable: %s", exc)
            families = []
        with self._lock:
            self._audits = families


def _inventory_families(engine: Engine) -> list[GaugeMetricFamily]:
    with session_scope(engine) as session:
        devices = session.exec(
            select(Device.name, Site.code, Site.kind, Site.district, Device.role)
            .join(Site, Site.id == Device.site_id).where(Device.status == Status.ACTIVE)
        ).all()
        optics = session.exec(
            select(Device.name, Interface.name, OpticType.name, OpticType.rx_sensitivity_dbm)
            .join(Interface, Interface.device_id == Device.id)
            .join(OpticType, OpticType.id == Interface.optic_id)
            .where(Device.status == Status.ACTIVE)
        ).all()
    info = GaugeMetricFamily(
        "netops_inventory_device_info", "A device's place in the inventory; value 1.",
        labels=["device", "site", "site_kind", "district", "role"],
    )
    for device, site, kind, district, role in devices:
        info.add_metric([device, site, str(kind), district or "", str(role)], 1)
    sensitivity = GaugeMetricFamily(
        "netops_optic_rx_sensitivity_dbm",
        "Receiver sensitivity of the optic the inventory puts in the port (datasheet worst case).",
        labels=["device", "if_name", "optic"],
    )
    for device_name, if_name, optic, dbm in optics:
        sensitivity.add_metric([device_name, if_name, optic], dbm)
    return [info, sensitivity]


def _audit_families(summary: dict) -> list[GaugeMetricFamily]:
    trench = GaugeMetricFamily(
        "netops_site_trench_disjoint_paths",
        "Paths from the site to the core that share no trench (0, 1, or 2 meaning two or more).",
        labels=["site", "site_kind", "district"],
    )
    layers = GaugeMetricFamily("netops_audit_site_disjoint_paths",
                               "Disjoint paths from a site to the core (2 means two or more), by layer.",
                               labels=["site", "site_kind", "layer"])
    for row in summary["sites"]:
        trench.add_metric([row["site"], row["kind"], row["district"]], row["trench_disjoint"])
        layers.add_metric([row["site"], row["kind"], "logical"], row["logical"])
        if row["physical"] is not None:
            layers.add_metric([row["site"], row["kind"], "physical"], row["physical"])
    findings = GaugeMetricFamily("netops_audit_findings", "Topology audit findings.", labels=["audit", "severity"])
    for row in summary["findings"]:
        findings.add_metric([row["audit"], row["severity"]], row["count"])
    spof = GaugeMetricFamily("netops_audit_single_points_of_failure",
                             "Single points of failure found by the audit, by severity.", labels=["severity"])
    for severity, count in summary["single_points_of_failure"].items():
        spof.add_metric([severity], count)
    customers = GaugeMetricFamily("netops_site_customers",
                                  "Companies and homes cut off while the site's devices are down.",
                                  labels=["site", "site_kind", "district", "customer"])
    for row in summary.get("customers", ()):
        for customer in ("companies", "residential_units"):
            customers.add_metric([row["site"], row["kind"], row["district"], customer], row[customer])
    per_device = GaugeMetricFamily("netops_device_customers",
                                   "Companies and homes cut off while this device alone is down.",
                                   labels=["device", "site", "site_kind", "district", "customer"])
    for row in summary.get("device_customers", ()):
        for customer in ("companies", "residential_units"):
            per_device.add_metric([row["device"], row["site"], row["kind"], row["district"], customer], row[customer])
    return [trench, layers, findings, spof, customers, per_device]
