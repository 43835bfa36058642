"""The exporter's HTTP server (aiohttp): /snmp, /metrics, /sd, a landing page, /-/healthy, /-/reload.

One asyncio process: SNMP polling is I/O plus a lean decode, so one event loop keeps a
core busy without threads. /metrics is built at scrape time by a custom collector
(no global mutable metrics).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial

from aiohttp import web
from isal import isal_zlib
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from exporters.sd import inventory_devices, sd_groups
from exporters.snmp.client import AuthProfile
from exporters.snmp.exposition import CONTENT_TYPE
from exporters.snmp.modules import MODULES
from exporters.snmp.poller import ModuleResult, Poller, ScrapeRequestError
from exporters.snmp.profiles import bears_secret
from exporters.targets import (Target, TargetError, TargetNotPolled, TargetPolicy, TargetRefused, TargetUnaddressed,
                               parse_target)

log = logging.getLogger("netops.exporter")

LANDING = """<!doctype html><html><head><title>netops exporter</title></head><body>
<h1>netops SNMP exporter</h1>
<form action="snmp"><label>Target <input name="target" placeholder="127.0.0.1:161"></label>
<label>Modules <input name="module" value="system,interfaces"></label>
<label>Auth <input name="auth" value="public_v2"></label> <input type="submit" value="Scrape"></form>
<ul><li><a href="metrics">/metrics</a>: the exporter's own metrics and inventory gauges</li>
<li><a href="sd">/sd</a>: Prometheus http_sd targets from the inventory (<code>?shard=K&amp;shards=N&amp;port=P</code>)</li>
<li><a href="-/healthy">/-/healthy</a>, <code>POST /-/reload</code>: reload auth profiles</li></ul>
<p>Modules: system, interfaces, optics, wifi, lldp. Targets: the inventory's devices, by management address
or name, each with its own auth profile (403 otherwise). A target that answers nothing, or has no management
address, is a 503 with the reason, so Prometheus' <code>up</code> is 0; so is a device whose auth profile the exporter
holds no secrets for (<code>target not polled</code>: state unknown, not down). Metric names and status codes: docs/metrics.md.</p></body></html>"""


DEFAULT_MODULES = "system,interfaces"
#: module names one request may list (duplicates included) before it is refused
MAX_MODULE_ENTRIES = 32
#: module failures that prove the agent answered: the device is up, the module is not
AGENT_ANSWERED = frozenset(("error_status", "oid_not_increasing", "oid_loop", "table_too_large", "row_without_value"))
#: SNMPv3 refusals (usmStats reports) and a privacy key the agent could not decrypt with:
#: all read as one reason for the target, ``auth``
AUTH_REASONS = frozenset(("auth_failure", "wrong_digest", "unknown_user", "unknown_engine_id", "decryption_error",
                          "unsupported_security_level", "not_in_time_window", "report"))


def down_reason(modules: list[ModuleResult]) -> str | None:
    """Why the target as a whole is down, or None when some module got an answer from it.

    Down (HTTP 503, so Prometheus' ``up`` is 0 for every rule, panel and report) means no
    module got any answer: timeouts, an unreachable or unresolvable host, refused
    credentials (``auth``), undecodable answers, or Prometheus' time budget spent waiting.
    """
    if not modules or any(m.up or m.reason in AGENT_ANSWERED for m in modules):
        return None
    first = modules[0].reason  # modules run in order: the first failure is the telling one
    return "auth" if first in AUTH_REASONS else first


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (``gzip;q=0`` refuses it)."""
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() == "gzip":
            return not re.fullmatch(r"\s*q\s*=\s*0(\.0*)?\s*", params)
    return False


async def send_metrics(request: web.Request, text: str) -> web.StreamResponse:
    """A scrape's answer, gzipped when the client takes it (Prometheus always does).

    ISA-L's gzip level 1 costs about 40 µs for a switch's 40 KiB, less than the kernel
    spends writing them uncompressed. A StreamResponse, not a Response: aiohttp keeps a
    keep-alive connection's last response until its next request, and a Response holds
    its whole body (40 KiB per connection Prometheus keeps open).
    """
    body = text.encode()
    response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE, "Vary": "Accept-Encoding"})
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body = isal_zlib.compress(body, 1, wbits=31)  # wbits 16 + 15: a gzip member
        response.headers["Content-Encoding"] = "gzip"
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body)
    await response.write_eof()
    return response


def _single(request: web.Request, name: str, default: str) -> str:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise TargetError(f"'{name}' given {len(values)} times; give it once")
    return values[0] if values else default


def parse_modules(request: web.Request) -> list[str]:
    """``module=a,b`` (or repeated ``module=``), deduplicated in order: every name once,
    at most MAX_MODULE_ENTRIES entries, each one known."""
    entries = [m for value in request.query.getall("module", [DEFAULT_MODULES]) for m in value.split(",") if m]
    if len(entries) > MAX_MODULE_ENTRIES:
        raise TargetError(f"{len(entries)} modules named; at most {MAX_MODULE_ENTRIES} (known: {', '.join(MODULES)})")
    modules = list(dict.fromkeys(entries))
    unknown = [m for m in modules if m not in MODULES]
    if unknown or not modules:
        raise TargetError(f"unknown module(s) {unknown or modules}; known: {', '.join(MODULES)}")
    return modules


def scrape_timeout(request: web.Request) -> float | None:
    """Prometheus' X-Prometheus-Scrape-Timeout-Seconds, when it is a positive number."""
    try:
        timeout = float(request.headers.get("X-Prometheus-Scrape-Timeout-Seconds", ""))
    except ValueError:
        return None
    return timeout if math.isfinite(timeout) and timeout > 0 else None


class ExporterCollector:
    """The exporter's own figures, read from the poller at scrape time."""

    def __init__(self, poller: Poller, engine: Engine | None, outcomes: Counter | None = None):
        self.poller = poller
        self.engine = engine
        #: ("down", reason), ("not_polled", reason), ("refused", status)
        self.outcomes = outcomes if outcomes is not None else Counter()

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
        # /sd's snmp_credentials label says which profiles this exporter holds: replicas behind
        # one address that hold different ones flip it (NetopsExporterProfilesDisagree)
        yield GaugeMetricFamily("netops_exporter_auth_profiles_digest",
                                "CRC-32 of the names of the auth profiles this exporter holds (sorted, one a line).",
                                value=zlib.crc32("\n".join(sorted(p.profiles)).encode()))
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
        down = CounterMetricFamily("netops_exporter_targets_down",
                                   "Target scrapes answered 503 because no module got an answer, by reason.",
                                   labels=["reason"])
        not_polled = CounterMetricFamily("netops_exporter_targets_not_polled",
                                         "Target scrapes answered 503 without polling because the exporter holds no "
                                         "credentials for the device's auth profile (state unknown, not down).",
                                         labels=["reason"])
        refused = CounterMetricFamily("netops_exporter_requests_refused",
                                      "/snmp requests refused before polling: 400 malformed, 403 not allowed.",
                                      labels=["status"])
        families = {"down": down, "not_polled": not_polled, "refused": refused}
        for (kind, label), count in sorted(self.outcomes.items()):
            families[kind].add_metric([label], count)
        yield from families.values()
        if self.engine is not None:  # the topology's gauges: report.collector, in the CLI's extra collectors
            yield from self._inventory()

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
    if not re.fullmatch(r"[0-9]{1,9}", raw, re.ASCII):  # int() would take "+1", "1_0", full-width digits
        raise web.HTTPBadRequest(text=f"{name}={raw[:80]!r} is not a number\n")
    return int(raw)


def make_app(poller: Poller, engine: Engine | None = None,
             reload_profiles: Callable[[], dict[str, AuthProfile]] | None = None,
             extra_collectors: Iterable[Collector] = (), policy: TargetPolicy | None = None) -> web.Application:
    """``extra_collectors`` join /metrics (the CLI adds the config runs' and report gauges);
    ``policy``: which targets and profiles /snmp serves (default: the inventory's devices)."""
    if policy is None:
        policy = TargetPolicy(partial(inventory_devices, engine) if engine is not None else None)
    outcomes: Counter = Counter()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExporterCollector(poller, engine, outcomes))
    for collector in extra_collectors:
        registry.register(collector)
    policy_loading = asyncio.Lock()

    async def current_policy() -> TargetPolicy:
        async with policy_loading:  # one inventory read at a time, however many scrapes wait
            if policy.stale():
                try:
                    await asyncio.get_running_loop().run_in_executor(None, policy.refresh)
                except Exception as exc:  # the database being away must not fail every scrape
                    log.warning("inventory targets not refreshed, keeping the last list: %s", exc)
        return policy

    def refuse(status: type[web.HTTPException], reason: str) -> web.HTTPException:
        outcomes[("refused", str(status.status_code))] += 1
        return status(text=f"{reason}\n")

    def down_unaddressed(exc: TargetUnaddressed) -> web.HTTPException:
        """Known down without sending anything: up is 0, as for a dead device."""
        outcomes[("down", exc.reason)] += 1
        return web.HTTPServiceUnavailable(text=f"target down: reason={exc.reason} ({exc})\n")

    def not_polled(exc: TargetNotPolled) -> web.HTTPException:
        """Not asked, state unknown: up is 0 (no answer can be 2xx without data), but the
        body, the counter and /sd's label say "not polled", never "down"."""
        outcomes[("not_polled", exc.reason)] += 1
        return web.HTTPServiceUnavailable(text=f"target not polled: reason={exc.reason} ({exc})\n")

    async def unheld_profile(target: Target, auth: str) -> TargetError | TargetNotPolled:
        """A request for an auth profile the exporter does not hold: the inventory device
        bound to it is not polled (what /sd says of it), anything else a malformed request."""
        device = (await current_policy()).device_of(target)
        if device is not None and device.profile == auth:
            return TargetNotPolled(f"device {device.name} is bound to SNMP profile {auth!r}, which the exporter "
                                   "does not hold: its secrets are missing (the exporter's log names them)")
        return TargetError(poller.unknown_profile(auth))

    async def checked(request: web.Request) -> tuple[Target, list[str], str]:
        """The request's target (as the policy resolves it), modules and profile, or the
        400/403 that says what is wrong with it, or the 503 of a device without an address."""
        try:
            raw_target = _single(request, "target", "")
            try:
                target = parse_target(raw_target)
            except TargetError:
                # a device name that is no host name: checked below as any other device (the
                # same answer /sd's labels give it: down, or not polled without its secrets)
                target = (await current_policy()).unaddressed_target(raw_target)
                if target is None:
                    raise
            modules = parse_modules(request)
            auth = _single(request, "auth", "public_v2")
            profile = poller.profiles.get(auth)
            if profile is None:
                raise await unheld_profile(target, auth)
        except TargetUnaddressed as exc:
            raise down_unaddressed(exc) from None
        except TargetNotPolled as exc:
            raise not_polled(exc) from None
        except TargetError as exc:
            raise refuse(web.HTTPBadRequest, str(exc)) from None
        try:
            return (await current_policy()).resolve(target, auth, bears_secret(profile)), modules, auth
        except TargetRefused as exc:
            log.info("refused /snmp target %s auth %s: %s", target, auth, exc)
            raise refuse(web.HTTPForbidden, str(exc)) from None
        except TargetUnaddressed as exc:
            raise down_unaddressed(exc) from None

    async def snmp(request: web.Request) -> web.Response:
        target, modules, auth = await checked(request)
        if request.method == "HEAD":  # a probe of the endpoint: answered without polling
            return web.Response(headers={"Content-Type": CONTENT_TYPE})
        try:
            result = await poller.scrape_result(str(target), modules, auth, scrape_timeout(request))
        except ScrapeRequestError as exc:
            raise refuse(web.HTTPBadRequest, str(exc)) from None
        reason = down_reason(result.modules)
        if reason is not None:  # Prometheus' up = 0: down for every rule, panel and report
            outcomes[("down", reason)] += 1
            detail = ", ".join(f"{m.module}: {m.reason}" for m in result.modules)
            return web.Response(status=503, text=f"target down: reason={reason} ({detail})\n")
        return await send_metrics(request, result.body)

    async def metrics(request: web.Request) -> web.Response:
        body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def sd(request: web.Request) -> web.Response:
        if engine is None:
            raise web.HTTPServiceUnavailable(text="no inventory database configured\n")
        try:
            groups = await asyncio.get_running_loop().run_in_executor(
                None, lambda: sd_groups(engine, _int_param(request, "shard", 0), _int_param(request, "shards", 1),
                                        _int_param(request, "port", None), loaded_profiles=set(poller.profiles)))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        return web.json_response(groups)

    async def healthy(request: web.Request) -> web.Response:
        return web.Response(text="Healthy\n")

    async def reload(request: web.Request) -> web.Response:
        """Auth profiles and the inventory's targets read anew; on failure the old ones stay."""
        loop = asyncio.get_running_loop()
        try:
            profiles = await loop.run_in_executor(None, reload_profiles) if reload_profiles else None
            await loop.run_in_executor(None, policy.refresh)
        except Exception as exc:
            log.error("reload failed, keeping the old profiles and targets: %s", exc)
            raise web.HTTPInternalServerError(text=f"reload failed: {exc}\n") from None
        poller.forget_identities()
        if profiles is None:
            return web.Response(text="reloaded the inventory's targets\n")
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
