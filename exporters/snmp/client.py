"""The asyncio SNMP client: one UDP socket for every target, GET and lock-step GETBULK walks.

Why one socket and request-id demultiplexing instead of pysnmp's engine: every datagram
goes straight to the lean decoder (``ber``/``usm``), with no pyasn1 object on the path.

Flow control, the part that decides whether 1000 scrapes in flight degrade or collapse:
SNMP timeouts only start when a request is on the wire, and the number of targets being
polled at once is bounded by :class:`Limiter` (shared by every scrape), so waiting
scrapes queue instead of all timing out together under CPU saturation.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass, field

from netops.secrets import Secret
from exporters.snmp import ber, usm

log = logging.getLogger("netops.exporter.snmp")


MAX_SESSIONS = 100_000  # per (agent, profile): SNMPv3 engine ids, clocks and localised keys


class SnmpError(Exception):
    """A request that produced no usable answer; ``reason`` is a metric label value."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class AuthProfile:
    """How to talk to an agent: version and credentials plus per-profile tuning for
    buggy agents (max_repetitions, timeout, retries, non-increasing OIDs)."""

    name: str
    version: str = "v2c"  # v2c | v3
    community: Secret | None = field(default=None, repr=False)
    user: usm.UsmUser | None = None
    max_repetitions: int = 25
    timeout_s: float = 5.0
    retries: int = 1
    allow_nonincreasing: bool = False
    max_varbinds_per_walk: int = 200_000  # a "huge table" guard: memory stays bounded


DEFAULT_PROFILE = AuthProfile(name="public_v2", community=Secret("public"))


class V2cSession:
    def __init__(self, profile: AuthProfile):
        self.community = profile.community.reveal().encode()

    def encode(self, request_id: int, pdu: bytes) -> bytes:
        return ber.encode_v2c_message(self.community, pdu)

    def decode(self, data: bytes) -> tuple[int, ber.Pdu]:
        _community, pdu = ber.decode_v2c_message(data)
        return pdu.request_id, pdu


def peek_request_id(data: bytes) -> int:
    """The id a response answers (v1/v2c request-id, v3 msgID) without decoding it all."""
    tag, pos, end = ber.read_header(data, 0, len(data))
    version, pos = ber.read_int(data, pos, end)
    if version == 3:
        _tag, pos, end = ber.read_header(data, pos, end)
        return ber.read_int(data, pos, end)[0]
    _community, pos = ber.read_octets(data, pos, end)
    _tag, pos, end = ber.read_header(data, pos, end)
    return ber.read_int(data, pos, end)[0]


class Stats(Counter):
    """Process-wide packet counters (exported on /metrics)."""


class SnmpClient(asyncio.DatagramProtocol):
    def __init__(self, stats: Stats | None = None):
        self.stats = stats if stats is not None else Stats()
        self._pending: dict[int, tuple[tuple[str, int], asyncio.Future]] = {}
        self._ids = itertools.count(int.from_bytes(os.urandom(2), "big") << 8)
        self._transport: asyncio.DatagramTransport | None = None
        self._transport6: asyncio.DatagramTransport | None = None
        self._sessions: dict[tuple, V2cSession | usm.UsmSession] = {}

    async def start(self) -> None:
        self._transport = await self._open(socket.AF_INET, "0.0.0.0")
        try:  # IPv6 management addresses get their own socket
            self._transport6 = await self._open(socket.AF_INET6, "::")
        except OSError as exc:  # a host without IPv6: v6 targets fail as unreachable
            log.warning("no IPv6 socket (%s): IPv6 targets are unreachable", exc)

    async def _open(self, family: int, any_address: str) -> asyncio.DatagramTransport:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        # a burst of answers from hundreds of agents must not overflow the socket queue
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind((any_address, 0))
        sock.setblocking(False)
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(lambda: self, sock=sock)
        return transport

    def _transport_for(self, address: tuple[str, int]) -> asyncio.DatagramTransport:
        if ":" not in address[0]:
            return self._transport
        if self._transport6 is None:
            raise SnmpError("unreachable", f"{address[0]}: no IPv6 socket on this host")
        return self._transport6

    def close(self) -> None:
        for transport in (self._transport, self._transport6):
            if transport is not None:
                transport.close()
        for _addr, fut in self._pending.values():
            if not fut.done():
                fut.set_exception(SnmpError("shutdown"))
        self._pending.clear()

    # -- transport callbacks
    def datagram_received(self, data: bytes, addr) -> None:
        self.stats["packets_received"] += 1
        try:
            request_id = peek_request_id(data)
        except ber.BerError as exc:
            self.stats["malformed_packets"] += 1
            # not even an id to match: fail what waits on that agent now rather than at its timeout
            for waiting_address, fut in self._pending.values():
                if waiting_address == addr[:2] and not fut.done():
                    fut.set_exception(SnmpError("malformed_response", str(exc)))
            return
        entry = self._pending.get(request_id & 0x7FFFFFFF)
        if entry is None or entry[0] != addr[:2]:
            self.stats["unexpected_packets"] += 1  # late answer after a timeout, or a stranger
            return
        fut = entry[1]
        if not fut.done():
            fut.set_result(data)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable and friends
        self.stats["socket_errors"] += 1

    # -- sessions
    def session(self, address: tuple[str, int], profile: AuthProfile):
        key = (address, profile)
        session = self._sessions.get(key)
        if session is None:
            if len(self._sessions) >= MAX_SESSIONS:  # /snmp takes any target: memory stays bounded
                self._sessions.pop(next(iter(self._sessions)))
            session = usm.UsmSession(profile.user) if profile.version == "v3" else V2cSession(profile)
            self._sessions[key] = session
        return session

    def forget(self, address: tuple[str, int], profile: AuthProfile) -> None:
        self._sessions.pop((address, profile), None)

    # -- requests
    async def _exchange(self, address, make_message, timeout: float, retries: int, deadline: float) -> bytes:
        loop = asyncio.get_running_loop()
        transport = self._transport_for(address)
        for attempt in range(retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0.01:
                raise SnmpError("budget", "scrape time budget used up")
            request_id = next(self._ids) & 0x7FFFFFFF
            message = make_message(request_id)
            fut = loop.create_future()
            self._pending[request_id] = (address, fut)
            timer = loop.call_later(min(timeout, remaining), _expire, fut)
            transport.sendto(message, address)
            self.stats["packets_sent"] += 1
            if attempt:
                self.stats["retries"] += 1
            try:
                return await fut
            except TimeoutError:
                continue
            finally:
                timer.cancel()
                del self._pending[request_id]
        self.stats["timeouts"] += 1
        if deadline - time.monotonic() <= 0.01:
            raise SnmpError("budget", "scrape time budget used up")
        raise SnmpError("timeout", f"no answer from {address[0]}:{address[1]} after {retries + 1} tries")

    async def request(self, address, profile: AuthProfile, tag: int, oids: list[bytes], deadline: float,
                      max_repetitions: int = 0) -> ber.Pdu:
        session = self.session(address, profile)
        if isinstance(session, usm.UsmSession):
            return await self._request_v3(address, profile, session, tag, oids, deadline, max_repetitions)
        data = await self._exchange(
            address, lambda rid: session.encode(rid, ber.encode_pdu(tag, rid, oids, 0, max_repetitions)),
            profile.timeout_s, profile.retries, deadline)
        try:
            _rid, pdu = session.decode(data)
        except ber.BerError as exc:
            self.stats["malformed_packets"] += 1
            raise SnmpError("malformed_response", str(exc)) from None
        return pdu

    async def _request_v3(self, address, profile, session: usm.UsmSession, tag, oids, deadline, max_repetitions):
        if not session.discovered:
            data = await self._exchange(address, session.discovery_message, profile.timeout_s,
                                        profile.retries, deadline)
            try:
                session.learn(*session.report_engine(data))
            except ber.BerError as exc:
                raise SnmpError("malformed_response", f"engine discovery: {exc}") from None
        for _ in range(2):  # a second try after re-learning the agent's clock
            try:
                data = await self._exchange(
                    address, lambda rid: session.encode(rid, ber.encode_pdu(tag, rid, oids, 0, max_repetitions)),
                    profile.timeout_s, profile.retries, deadline)
            except SnmpError as exc:
                if exc.reason == "timeout" and profile.user.priv_protocol != "none":
                    # the agent answered discovery, so it is there: agents drop what they cannot
                    # decrypt (net-snmp counts usmStatsDecryptionErrors and sends no report)
                    raise SnmpError("decryption_error", f"{exc}; the agent answered engine discovery, check "
                                    "the privacy key and protocol of this profile") from None
                raise
            try:
                _msg_id, pdu = session.decode(data)
            except usm.UsmError as exc:
                raise SnmpError("auth_failure", str(exc)) from None
            except ber.BerError as exc:
                self.stats["malformed_packets"] += 1
                raise SnmpError("malformed_response", str(exc)) from None
            if pdu.tag != ber.REPORT:
                return pdu
            reason = usm.report_reason(pdu)
            if reason != "not_in_time_window":
                raise SnmpError(reason, "the agent refused our SNMPv3 credentials"
                                if reason in ("wrong_digest", "unknown_user", "decryption_error") else "")
            session.learn(*session.report_engine(data))
        raise SnmpError("not_in_time_window")

    async def get(self, address, profile: AuthProfile, oids: list[bytes], deadline: float) -> dict[bytes, ber.VarBind]:
        pdu = await self.request(address, profile, ber.GET_REQUEST, oids, deadline)
        if pdu.error_status:
            raise SnmpError("error_status", f"error-status {pdu.error_status} at {pdu.error_index}")
        return {vb.oid: vb for vb in pdu.varbinds if vb.tag not in ber.EXCEPTION_TAGS}

    async def walk_columns(self, address, profile: AuthProfile, columns: list[bytes], deadline: float,
                           into: dict[bytes, list[ber.VarBind]]) -> None:
        """Walk table columns in lock step: one GETBULK carries every unfinished column, the
        agent answers row by row. Rows land in ``into`` as they arrive, so a walk cut short
        (budget, agent gone) still leaves what it got."""
        cursor = {column: column for column in columns}
        active = list(columns)
        total = 0
        for column in columns:
            into.setdefault(column, [])
        while active:
            pdu = await self.request(address, profile, ber.GET_BULK_REQUEST, [cursor[c] for c in active],
                                     deadline, max(1, profile.max_repetitions))
            if pdu.error_status:
                raise SnmpError("error_status", f"error-status {pdu.error_status} at {pdu.error_index}")
            varbinds = pdu.varbinds
            width = len(active)
            still_active = []
            for j, column in enumerate(active):
                part = varbinds[j::width]
                taken = 0
                for vb in part:
                    if vb.tag in ber.EXCEPTION_TAGS or not vb.oid.startswith(column) or len(vb.oid) == len(column):
                        break
                    taken += 1
                if taken:
                    last = part[taken - 1].oid
                    if not _increasing(cursor[column], part[:taken]):
                        if not profile.allow_nonincreasing:
                            raise SnmpError("oid_not_increasing", f"agent returned {ber.oid_to_str(last)} "
                                            f"after {ber.oid_to_str(cursor[column])}")
                        if last == cursor[column]:
                            continue  # a loop: the column is done
                    into[column].extend(part[:taken])
                    total += taken
                    cursor[column] = last
                if taken == len(part) and part:
                    still_active.append(column)
            if total > profile.max_varbinds_per_walk:
                raise SnmpError("table_too_large", f"more than {profile.max_varbinds_per_walk} varbinds")
            if not varbinds:
                raise SnmpError("malformed_response", "GETBULK answered with no varbinds")
            active = still_active


def _increasing(previous: bytes, part: list[ber.VarBind]) -> bool:
    """First OID of a column's slice after the cursor, last not before the first (numeric
    order: encoded bytes do not sort like arcs once multi-byte arcs appear)."""
    first = ber.oid_to_tuple(part[0].oid)
    return first > ber.oid_to_tuple(previous) and ber.oid_to_tuple(part[-1].oid) >= first


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


class Limiter:
    """Targets polled at once, shared by every scrape (bounded concurrency)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._sem = asyncio.Semaphore(limit)
        self.waiting = 0
        self.active = 0

    async def acquire(self, deadline: float) -> None:
        self.waiting += 1
        try:
            await asyncio.wait_for(self._sem.acquire(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise SnmpError("budget", "waited for a polling slot until the scrape budget ran out") from None
        finally:
            self.waiting -= 1
        self.active += 1

    def release(self) -> None:
        self.active -= 1
        self._sem.release()
