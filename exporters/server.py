"""The exporter's HTTP server (aiohttp): /snmp, /metrics, /sd, a landing page, /-/healthy, /-/reload.

One asyncio process: SNMP polling is I/O plus a lean decode, so one event loop keeps a
core busy without threads. /metrics is built at scrape time by a custom collector
(no global mutable metrics).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from exporters.sd import sd_groups
from exporters.snmp.client import AuthProfile
from exporters.snmp.exposition import CONTENT_TYPE
from exporters.snmp.poller import Poller, ScrapeRequestError

log = logging.getLogger("netops.exporter")

LANDING = """<!doctype html><html><head><title>netops exporter</title></head><body>
<h1>netops SNMP exporter</h1>
<form action="snmp"><label>Target <input name="target" placeholder="127.0.0.1:161"></label>
<label>Modules <input name="module" value="system,interfaces"></label>
<label>Auth <input name="auth" value="public_v2"></label> <input type="submit" value="Scrape"></form>
<ul><li><a href="metrics">/metrics</a>: the exporter's own metrics and inventory gauges</li>
<li><a href="sd">/sd</a>: Prometheus http_sd targets from the inventory (<code>?shard=K&amp;shards=N&amp;port=P</code>)</li>
<li><a href="-/healthy">/-/healthy</a>, <code>POST /-/reload</code>: reload auth profiles</li></ul>
<p>Modules: system, interfaces, optics, wifi, lldp. Metric names: docs/metrics.md.</p></body></html>"""


class AuditGauges:
    """Resilience figures from the topology audits, recomputed at most every ``ttl_s``
    (half a second of graph work for the seeded city: not on every /metrics scrape)."""

    def __init__(self, engine: Engine, ttl_s: float = 300.0):
        self.engine = engine
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._at = -ttl_s
        self._families: list = []

    def families(self) -> list:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl_s:
                self._families = self._compute()
                self._at = time.monotonic()
            return self._families

    def _compute(self) -> list:
        from netops.db import session_scope
        from topology.audits import path_diversity, single_points_of_failure
        from topology.network import Network
        from topology.rows import load_inventory

        with session_scope(self.engine) as session:
            net = Network(load_inventory(session))
        paths = GaugeMetricFamily("netops_audit_site_disjoint_paths",
                                  "Disjoint paths from a site to the core (2 means two or more), by layer.",
                                  labels=["site", "site_kind", "layer"])
        for row in path_diversity(net):
            paths.add_metric([row.site, row.kind, "logical"], row.logical_paths)
            if row.physical_paths is not None:
                paths.add_metric([row.site, row.kind, "physical"], row.physical_paths)
        spof = GaugeMetricFamily("netops_audit_single_points_of_failure",
                                 "Single points of failure found by the audit, by severity.", labels=["severity"])
        counts: dict[str, int] = {}
        for finding in single_points_of_failure(net):
            counts[str(finding.severity)] = counts.get(str(finding.severity), 0) + 1
        for severity, count in sorted(counts.items()):
            spof.add_metric([severity], count)
        return [paths, spof]


class ExporterCollector:
    """The exporter's own figures, read from the poller at scrape time."""

    def __init__(self, poller: Poller, engine: Engine | None):
        self.poller = poller
        self.engine = engine
        self.audits = AuditGauges(engine) if engine is not None else None

    def collect(self):
        p = self.poller
        yield CounterMetricFamily("netops_exporter_scrapes", "Target scrapes served.", value=p.stats.scrapes)
        yield CounterMetricFamily("netops_exporter_scrape_duration_seconds",
                                  "Total time spent serving target scrapes.", value=p.stats.scrape_seconds)
        yield CounterMetricFamily("netops_exporter_varbinds", "Varbinds received for metrics.", value=p.stats.varbinds)
        yield GaugeMetricFamily("netops_exporter_scrapes_in_flight", "Target scrapes being served now.",
                                value=p.stats.in_flight)
        yield GaugeMetricFamily("netops_exporter_targets_polling", "Targets being polled now (bounded).",
                                value=p.limiter.active)
        yield GaugeMetricFamily("netops_exporter_targets_waiting", "Scrapes waiting for a polling slot.",
                                value=p.limiter.waiting)
        yield GaugeMetricFamily("netops_exporter_targets_in_flight_limit", "Targets polled at once, at most.",
                                value=p.limiter.limit)
        packets = CounterMetricFamily("netops_exporter_snmp_packets", "SNMP datagrams by direction and kind.",
                                      labels=["kind"])
        for kind in ("packets_sent", "packets_received", "retries", "timeouts", "malformed_packets",
                     "unexpected_packets", "socket_errors"):
            packets.add_metric([kind.removesuffix("_packets").removeprefix("packets_")], p.client.stats[kind])
        yield packets
        cache = CounterMetricFamily("netops_exporter_label_cache_lookups", "Label cache lookups.", labels=["result"])
        cache.add_metric(["hit"], p.cache.hits)
        cache.add_metric(["miss"], p.cache.misses)
        yield cache
        yield GaugeMetricFamily("netops_exporter_label_cache_entries", "Label tables cached.", value=len(p.cache))
        errors = CounterMetricFamily("netops_exporter_module_errors", "Modules that failed, by reason.",
                                     labels=["module", "reason"])
        for (module, reason), count in sorted(p.errors.items()):
            errors.add_metric([module, reason], count)
        yield errors
        if self.engine is not None:
            yield from self._inventory()
            try:
                yield from self.audits.families()
            except Exception as exc:  # an inventory the audits cannot read must not break /metrics
                log.warning("audit gauges unavailable: %s", exc)

    def _inventory(self):
        from inventory.models.devices import Device
        from inventory.models.sites import Site
        from netops.db import session_scope

        try:
            with session_scope(self.engine) as session:
                sites = session.exec(select(Site.kind, Site.status, func.count()).group_by(Site.kind, Site.status)).all()
                devices = session.exec(select(Device.role, Device.status, func.count())
                                       .group_by(Device.role, Device.status)).all()
        except Exception as exc:  # the database being away must not break /metrics
            log.warning("inventory gauges unavailable: %s", exc)
            return
        family = GaugeMetricFamily("netops_inventory_sites", "Sites by kind and status.", labels=["kind", "status"])
        for kind, status, count in sites:
            family.add_metric([str(kind), str(status)], count)
        yield family
        family = GaugeMetricFamily("netops_inventory_devices", "Devices by role and status.", labels=["role", "status"])
        for role, status, count in devices:
            family.add_metric([str(role), str(status)], count)
        yield family


def _int_param(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name}={raw!r} is not a number\n") from None


def make_app(poller: Poller, engine: Engine | None = None,
             reload_profiles: Callable[[], dict[str, AuthProfile]] | None = None,
             extra_collectors: Iterable[Collector] = ()) -> web.Application:
    """``extra_collectors`` join /metrics (the CLI adds the config runs' and report gauges)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExporterCollector(poller, engine))
    for collector in extra_collectors:
        registry.register(collector)

    async def snmp(request: web.Request) -> web.Response:
        target = request.query.get("target", "")
        modules = [m for m in request.query.get("module", "system,interfaces").split(",") if m]
        auth = request.query.get("auth", "public_v2")
        if not target:
            raise web.HTTPBadRequest(text="'target' parameter must be specified\n")
        header = request.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
        try:
            timeout = float(header) if header else None
        except ValueError:
            timeout = None
        try:
            body = await poller.scrape(target, modules, auth, timeout)
        except ScrapeRequestError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        return web.Response(text=body, headers={"Content-Type": CONTENT_TYPE})

    async def metrics(request: web.Request) -> web.Response:
        body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def sd(request: web.Request) -> web.Response:
        if engine is None:
            raise web.HTTPServiceUnavailable(text="no inventory database configured\n")
        try:
            groups = await asyncio.get_running_loop().run_in_executor(
                None, lambda: sd_groups(engine, _int_param(request, "shard", 0), _int_param(request, "shards", 1),
                                        _int_param(request, "port", None)))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        return web.json_response(groups)

    async def healthy(request: web.Request) -> web.Response:
        return web.Response(text="Healthy\n")

    async def reload(request: web.Request) -> web.Response:
        if reload_profiles is None:
            return web.Response(text="nothing to reload\n")
        try:
            profiles = await asyncio.get_running_loop().run_in_executor(None, reload_profiles)
        except Exception as exc:
            log.error("reload failed, keeping the old profiles: %s", exc)
            raise web.HTTPInternalServerError(text=f"reload failed: {exc}\n") from None
        poller.profiles = profiles
        log.info("reloaded %d auth profiles", len(profiles))
        return web.Response(text=f"reloaded {len(profiles)} auth profiles\n")

    async def landing(request: web.Request) -> web.Response:
        return web.Response(text=LANDING, content_type="text/html")

    async def on_startup(app):
        await poller.start()

    async def on_cleanup(app):
        poller.close()

    app = web.Application()
    app.router.add_get("/", landing)
    app.router.add_get("/snmp", snmp)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/sd", sd)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_post("/-/reload", reload)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def serve(app: web.Application, host: str, port: int) -> None:
    web.run_app(app, host=host, port=port, print=None, access_log=None, handle_signals=True)
