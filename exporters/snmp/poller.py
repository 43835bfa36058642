"""One scrape of one target: the base GET, then every module on its own, within the budget.

Fairness under faults: the base GET is the target's probe and runs outside the polling
slots, so targets that do not answer (closed ports fail at once with ``unreachable``,
black holes wait out their timeout) never hold a slot a live target needs; only a target
that answered it queues for a slot to walk its modules. A target whose last probe got no
answer is *known dead*: its next probe is one try, not the profile's retries; it waits the
profile's timeout (within the budget), since a slow agent is as slow after a miss: a shorter
wait would read it down on every scrape for as long as it is slow.

The time budget: Prometheus tells us how long it will wait (header
``X-Prometheus-Scrape-Timeout-Seconds``); the poller stops that much minus
``budget_offset_s`` after the request arrived and answers with what it has, marking the
modules it could not finish as down with reason ``budget``, instead of being cancelled
with nothing. A module that fails (timeout, wrong credentials, malformed answers, a huge
table) is down on its own; the others still report.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from netops.errors import NetopsError
from exporters.snmp import ber
from exporters.snmp.client import MAX_SESSIONS, AuthProfile, Limiter, Slot, SnmpClient, SnmpError
from exporters.snmp.exposition import Family, escape, render, text
from exporters.snmp.modules import BASE_OIDS, MODULES, SYS_NAME, SYS_OBJECT_ID, LabelCache, PollContext
from exporters.targets import TargetError, parse_target

log = logging.getLogger("netops.exporter")

DEFAULT_SCRAPE_TIMEOUT_S = 10.0  # Prometheus' default scrape_timeout, when the header is absent
#: a probe that ends so marks the target known dead (a target that answers, even "wrong key", is alive)
NO_ANSWER = frozenset(("timeout", "unreachable", "budget"))
#: an address of a device's name answered as another device (see Poller._poll): the device is down
OTHER_DEVICE = "other_device"


class ScrapeRequestError(NetopsError):
    """A /snmp request that names an unknown module, profile, or a bad target."""


@dataclass
class ScrapeStats:
    """Process-wide figures for /metrics (read by a custom collector)."""

    scrapes: int = 0
    scrape_seconds: float = 0.0
    varbinds: int = 0
    in_flight: int = 0


class ModuleResult(NamedTuple):
    module: str
    up: bool
    reason: str  # why it is down ("" when up): a netops_snmp_module_error reason
    seconds: float


@dataclass
class ScrapeResult:
    body: str
    modules: list[ModuleResult]


class Poller:
    def __init__(self, profiles: dict[str, AuthProfile], *, max_targets_in_flight: int = 64,
                 cache_ttl_s: float = 3600.0, budget_offset_s: float = 0.5,
                 max_scrape_timeout_s: float = 120.0):
        self.profiles = profiles
        self.client = SnmpClient()
        self.limiter = Limiter(max_targets_in_flight)
        self.cache = LabelCache(cache_ttl_s)
        self.budget_offset_s = budget_offset_s
        self.max_scrape_timeout_s = max_scrape_timeout_s
        self.known_dead: dict[tuple[str, int], float] = {}  # address -> when its probe last got no answer
        #: (name, port, profile) -> what the name's preferred address last answered as, and when
        #: (_check_identity; kept as long as the label cache's entries, emptied by /-/reload)
        self.identities: dict[tuple[str, int, str], tuple[tuple, float]] = {}
        self.identity_ttl_s = cache_ttl_s
        self.errors: Counter[tuple[str, str]] = Counter()  # (module, reason) -> count
        self.stats = ScrapeStats()

    async def start(self) -> None:
        await self.client.start()

    def close(self) -> None:
        self.client.close()

    def forget_identities(self) -> None:
        """/-/reload: a device replaced or renamed while its preferred address is dead reads
        ``other_device`` no longer (_check_identity)."""
        self.identities.clear()

    def deadline_for(self, scrape_timeout_s: float | None, started: float) -> float:
        timeout = min(scrape_timeout_s or DEFAULT_SCRAPE_TIMEOUT_S, self.max_scrape_timeout_s)
        return started + max(0.1, timeout - self.budget_offset_s)

    def check_request(self, modules: list[str], auth: str) -> AuthProfile:
        unknown = [m for m in modules if m not in MODULES]
        if unknown or not modules:
            raise ScrapeRequestError(f"unknown module(s) {unknown or modules}; known: {', '.join(MODULES)}")
        profile = self.profiles.get(auth)
        if profile is None:
            raise ScrapeRequestError(self.unknown_profile(auth))
        return profile

    def unknown_profile(self, auth: str) -> str:
        """What a request naming a profile this exporter does not hold is told (/snmp says it too)."""
        return f"unknown auth profile {auth!r}; known: {', '.join(sorted(self.profiles))}"

    @staticmethod
    async def _resolve(host: str, deadline: float) -> list[str]:
        """The host's addresses, both families in getaddrinfo's order (RFC 6724): AF_INET
        alone read an IPv6-only name as unresolvable (or, for ::1, as 127.0.0.1: glibc maps
        it). Within the scrape's deadline: a resolver that does not answer is a timeout, not
        a scrape Prometheus gives up on with nothing."""
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):  # uvloop's clock is its own
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, family=socket.AF_UNSPEC,
                                                                     type=socket.SOCK_DGRAM)
        except TimeoutError:
            raise SnmpError("timeout", f"{host}: not resolved within the scrape") from None
        except OSError as exc:
            raise SnmpError("unresolvable", f"{host}: {exc}") from None
        return list(dict.fromkeys(info[4][0] for info in infos))

    async def scrape(self, target: str, modules: list[str], auth: str = "public_v2",
                     scrape_timeout_s: float | None = None) -> str:
        """The exposition text for one target (raises ScrapeRequestError on a bad request)."""
        return (await self.scrape_result(target, modules, auth, scrape_timeout_s)).body

    async def scrape_result(self, target: str, modules: list[str], auth: str = "public_v2",
                            scrape_timeout_s: float | None = None) -> ScrapeResult:
        """The exposition text and each module's status: the HTTP layer decides from the
        statuses whether the target is down (exporters.server)."""
        started = time.monotonic()
        await self.client.pacer.turn()  # 200 requests arriving at once do not fill one turn of the loop
        profile = self.check_request(modules, auth)
        try:
            parsed = parse_target(target)  # the same strict HOST[:PORT] as /snmp and /sd
        except TargetError as exc:
            raise ScrapeRequestError(str(exc)) from None
        host, port = parsed.host, parsed.port
        deadline = self.deadline_for(scrape_timeout_s, started)
        results: list[tuple[str, bool, str, float]] = []  # module, up, reason, seconds
        families: list[Family] = []
        self.stats.in_flight += 1
        try:
            varbinds = await self._poll(host, port, profile, modules, deadline, families, results)
        except SnmpError as exc:  # the target as a whole: unreachable, refused, no slot in time
            log.warning("target %s: %s (all modules down)", target, exc)
            varbinds = 0
            results = [(name, False, exc.reason, time.monotonic() - started) for name in modules]
        finally:
            self.stats.in_flight -= 1
        for name, up, reason, _ in results:
            if not up:
                self.errors[(name, reason)] += 1
        elapsed = time.monotonic() - started
        self.stats.scrapes += 1
        self.stats.scrape_seconds += elapsed
        self.stats.varbinds += varbinds
        return ScrapeResult(render(families + self._scrape_families(results, elapsed, varbinds)),
                            [ModuleResult(*result) for result in results])

    async def _poll(self, host, port, profile, modules, deadline, families, results) -> int:
        # a name with addresses of both families: the preferred one dead (no route, nothing
        # listening) read the device down; the next is tried, within the same deadline. Each
        # gets its share of the time left (the last all of it): a silent one (a firewall
        # dropping that family) waited out tries as long as the scrape and left the next none.
        # An address found dead goes last (a stable sort keeps the resolver's order otherwise),
        # or it cost its share of every scrape while the other answered
        resolved = await self._resolve(host, deadline)
        addresses = sorted(resolved, key=lambda ip: (ip, port) in self.known_dead)
        other_device: SnmpError | None = None
        for position, ip in enumerate(addresses):
            last = position == len(addresses) - 1
            share = time.monotonic() + (deadline - time.monotonic()) / (len(addresses) - position)
            with self.client.hold((ip, port)):  # one connected socket for the whole scrape
                try:
                    base = await self._probe((ip, port), profile, deadline if last else share)
                    if len(resolved) > 1:
                        self._check_identity(host, (ip, port), profile, base, preferred=ip == resolved[0])
                except SnmpError as exc:
                    if exc.reason == OTHER_DEVICE:
                        other_device = exc
                    elif exc.reason not in NO_ANSWER:
                        raise
                    if last:  # the device answered at none of its addresses: another device at one says why
                        raise other_device or exc
                    log.info("target %s: %s at %s, trying the next address", host, exc.reason, ip)
                    continue
                return await self._poll_modules((ip, port), base, profile, modules, deadline, families, results)
        raise SnmpError("unresolvable", f"{host}: no address")  # the resolver gave none

    def _check_identity(self, host: str, address: tuple[str, int], profile: AuthProfile, base: dict,
                        preferred: bool) -> None:
        """A name's other address may be a stale record of another device (its old IPv4
        address, now a neighbour's): the device dead at its preferred address read up with
        the neighbour's data. What the preferred address answers as (sysName, sysObjectID,
        the SNMPv3 engine ID) is kept; another address that answers as something else is
        ``other_device`` (the device is down). Nothing to compare with (the preferred address
        never answered since the exporter started, or not for ``identity_ttl_s``, or not since
        /-/reload): the answer is taken."""
        key = (host, address[1], profile.name)
        identity = (base.get(SYS_NAME, ())[1:], base.get(SYS_OBJECT_ID, ())[1:],  # (tag, value), () if not told
                    self.client.engine_id(address, profile))
        now = time.monotonic()
        if preferred:
            _remember(self.identities, key, (identity, now))
            return
        known, when = self.identities.get(key, (None, now))
        if known is not None and now - when > self.identity_ttl_s:
            # the preferred address is gone for that long: the device at the name may be another now
            del self.identities[key]
        elif known is not None and known != identity:
            raise SnmpError(OTHER_DEVICE, f"{address[0]} answers as {_named(identity)} where {host}'s preferred "
                            f"address last answered as {_named(known)} (sysName, sysObjectID or engine ID differ): "
                            "a stale DNS record?")

    async def _poll_modules(self, address, base, profile, modules, deadline, families, results) -> int:
        answered = time.monotonic()  # before the wait for a slot: the cache dates sysUpTime by it
        slot = Slot(self.limiter)
        await slot.hold(deadline)
        try:
            ctx = PollContext(self.client, address, profile, deadline, self.cache, base, answered, slot)
            varbinds = len(base)
            for position, name in enumerate(modules):
                varbinds += await self._run_module(name, ctx, families, results)
                if results[-1][2] in NO_ANSWER:
                    # the agent fell silent (or the time is up): the modules after it would each
                    # wait out the timeout again and log a line of their own; they share its reason
                    results += [(rest, False, results[-1][2], 0.0) for rest in modules[position + 1:]]
                    break
            return varbinds
        finally:
            slot.let_go()

    async def _probe(self, address, profile: AuthProfile, deadline: float) -> dict:
        """The base GET, outside the slots: one try for a known dead target."""
        short = dict(retries=0) if address in self.known_dead else {}
        try:
            base = await self.client.get(address, profile, BASE_OIDS, deadline, **short)
        except SnmpError as exc:
            self.client.forget(address, profile)  # an SNMPv3 agent may come back with a new engine
            if exc.reason in NO_ANSWER:
                _remember(self.known_dead, address, time.monotonic())
            if exc.reason == "budget":  # no slot to wait for here: the target did not answer at all
                raise SnmpError("timeout", f"no answer from {address[0]}:{address[1]} within the scrape") from None
            raise
        self.known_dead.pop(address, None)
        return base

    async def _run_module(self, name: str, ctx: PollContext, families: list[Family], results) -> int:
        module = MODULES[name]
        t0 = time.monotonic()
        data: dict = {}
        up, reason = True, ""
        try:
            await module.prepare(ctx)
            columns = module.columns_to_walk(ctx)
            if columns:
                # label columns walked along (a cold cache) come on top of the profile's guard:
                # counted against it, a table that fits warm would fail every cold walk, and a
                # failed walk is never cached, so the device would never get warm
                guard = ctx.profile.max_varbinds_per_walk * len(columns) // len(module.columns)
                await self.client.walk_columns(ctx.address, ctx.profile, columns, ctx.deadline, data, ctx.slot,
                                               guard)
            await module.walked(ctx, data)
        except SnmpError as exc:
            up, reason = False, exc.reason
            log.warning("target %s:%d module %s: %s", *ctx.address, name, exc)
        except ber.BerError as exc:  # a label table holding what no well-formed agent sends
            up, reason = False, "malformed_response"
            log.warning("target %s:%d module %s: bad value: %s", *ctx.address, name, exc)
        rendered: list[Family] = []
        await self.client.pacer.turn()  # rendering a module: up to a millisecond, wait if the loop's turn is full
        try:
            module.render(ctx, data, rendered)
        except ber.BerError as exc:  # a value no well-formed agent sends: the module's samples go
            up, reason, rendered = False, "malformed_response", []
            log.warning("target %s:%d module %s: bad value: %s", *ctx.address, name, exc)
        families.extend(rendered)
        results.append((name, up, reason, time.monotonic() - t0))
        return sum(len(data.get(column, ())) for column in module.columns)  # label columns walked along are not metrics

    @staticmethod
    def _scrape_families(results, elapsed: float, varbinds: int) -> list[Family]:
        up = Family("netops_snmp_module_up", "gauge", "1 if the module was polled completely, 0 if not (see reason).")
        error = Family("netops_snmp_module_error", "gauge", "Why a module is down (value 1, label reason).")
        duration = Family("netops_snmp_module_duration_seconds", "gauge", "Time spent polling the module.")
        for name, ok, reason, seconds in results:
            up.add(f'module="{name}"', 1 if ok else 0)
            duration.add(f'module="{name}"', round(seconds, 6))
            if not ok:
                error.add(f'module="{name}",reason="{escape(reason)}"', 1)
        total = Family("netops_snmp_scrape_duration_seconds", "gauge", "Time the whole scrape took.")
        total.add("", round(elapsed, 6))
        count = Family("netops_snmp_scrape_varbinds_returned", "gauge", "Varbinds the agent returned for this scrape's metrics.")
        count.add("", varbinds)
        return [up, error, duration, total, count]


def _named(identity: tuple) -> str:
    """An identity (Poller._check_identity) for a log line: its sysName."""
    sys_name = identity[0]
    return repr(text(sys_name[1])) if sys_name else "no sysName"


def _remember(mapping: dict, key, value) -> None:
    """``mapping[key] = value``, the key moved last, the oldest entry dropped beyond
    MAX_SESSIONS (any target can be asked for: memory stays bounded)."""
    mapping.pop(key, None)
    if len(mapping) >= MAX_SESSIONS:
        mapping.pop(next(iter(mapping)))
    mapping[key] = value
