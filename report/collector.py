"""Inventory and audit gauges for Prometheus, computed at scrape time from the inventory.

The alert rules and the dashboard need a few facts that no device can tell over SNMP:

``netops_site_trench_disjoint_paths{site, site_kind, district}``
    paths from the site to the core that share no trench, counted 0, 1 or 2 (two or
    more), from ``topology.audits.path_diversity``; the ``NetopsSiteLostRedundancy``
    alert fires when it drops below 2.
``netops_audit_findings{audit, severity}``
    number of topology audit findings.
``netops_inventory_device_info{device, site, site_kind, district, role}``
    value 1; joins series that name a device (e.g. the WLC's per-AP client counts) to
    the device's site and district.
``netops_optic_rx_sensitivity_dbm{device, if_name, optic}``
    the inventory's receiver sensitivity of the optic in that port: the floor of the
    ``NetopsOpticRxPowerLow`` alert.

Register it with the exporter's registry: ``registry.register(InventoryAuditCollector(engine))``.
The audits take about a second on the city, so results are kept for ``ttl_s``.
"""

from __future__ import annotations

import logging
import time
from typing import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlmodel import select

from inventory.models import Device, Interface, OpticType, Site, Status
from netops.db import session_scope
from topology.audits import path_diversity, run_audits
from topology.network import Network
from topology.rows import load_inventory

log = logging.getLogger("netops.report.collector")


class InventoryAuditCollector(Collector):
    def __init__(self, engine: Engine, ttl_s: float = 300.0, clock=time.monotonic):
        self.engine = engine
        self.ttl_s = ttl_s
        self._clock = clock
        self._cached: tuple[float, list[GaugeMetricFamily]] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self._clock()
        if self._cached is None or now - self._cached[0] >= self.ttl_s:
            try:
                self._cached = (now, self._families())
            except Exception as exc:  # the database being away must not break /metrics
                log.warning("inventory/audit gauges unavailable: %s", exc)
                return
        yield from self._cached[1]

    def _families(self) -> list[GaugeMetricFamily]:
        with session_scope(self.engine) as session:
            net = Network(load_inventory(session))
            sites = {s.code: s for s in session.exec(select(Site).where(Site.status == Status.ACTIVE))}
            devices = session.exec(
                select(Device, Site).join(Site, Site.id == Device.site_id).where(Device.status == Status.ACTIVE)
            ).all()
            optics = session.exec(
                select(Device.name, Interface.name, OpticType.name, OpticType.rx_sensitivity_dbm)
                .join(Interface, Interface.device_id == Device.id)
                .join(OpticType, OpticType.id == Interface.optic_id)
                .where(Device.status == Status.ACTIVE)
            ).all()

        paths = GaugeMetricFamily(
            "netops_site_trench_disjoint_paths",
            "Paths from the site to the core that share no trench (0, 1, or 2 meaning two or more).",
            labels=["site", "site_kind", "district"],
        )
        for row in path_diversity(net):
            # link-disjoint paths that one trench cut takes down count as one
            count = min(row.logical_paths, 1) if row.trench_cuts else row.logical_paths
            paths.add_metric([row.site, row.kind, sites[row.site].district or ""], count)

        findings = GaugeMetricFamily("netops_audit_findings", "Topology audit findings.", labels=["audit", "severity"])
        for (audit, severity), count in sorted(_count_findings(run_audits(net)).items()):
            findings.add_metric([audit, severity], count)

        info = GaugeMetricFamily(
            "netops_inventory_device_info", "A device's place in the inventory; value 1.",
            labels=["device", "site", "site_kind", "district", "role"],
        )
        for device, site in devices:
            info.add_metric([device.name, site.code, str(site.kind), site.district or "", str(device.role)], 1)

        sensitivity = GaugeMetricFamily(
            "netops_optic_rx_sensitivity_dbm",
            "Receiver sensitivity of the optic the inventory puts in the port (datasheet worst case).",
            labels=["device", "if_name", "optic"],
        )
        for device_name, if_name, optic, dbm in optics:
            sensitivity.add_metric([device_name, if_name, optic], dbm)
        return [paths, findings, info, sensitivity]


def _count_findings(report) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for finding in report.findings:
        key = (finding.audit, str(finding.severity))
        counts[key] = counts.get(key, 0) + 1
    return counts
