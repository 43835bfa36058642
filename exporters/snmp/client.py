"""The asyncio SNMP client: GET and lock-step GETBULK walks over connected UDP sockets.

Why its own sockets and request-id demultiplexing instead of pysnmp's engine: every
datagram goes straight to the lean decoder (``ber``/``usm``), with no pyasn1 object on
the path.

One connected socket per agent being polled (:class:`_Channel`): the kernel delivers only
that agent's datagrams to it and reports ICMP port/host unreachable on it, so a closed
port fails in milliseconds with reason ``unreachable`` instead of waiting out every
retransmission (an unconnected socket never hears of those errors).

Flow control, the part that decides whether 1000 scrapes in flight degrade or collapse:
SNMP timeouts only start when a request is on the wire, and the number of targets being
walked at once is bounded by :class:`Limiter` (shared by every scrape), so waiting
scrapes queue instead of all timing out together under CPU saturation. A target holds
its :class:`Slot` only while it answers: waiting for a retransmission it lets go, so
silent targets never starve live ones.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import operator
import os
import resource
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


class _Channel:
    """A non-blocking UDP socket connected to one agent, shared by the requests in flight to it."""

    __slots__ = ("address", "sock", "users", "waiting")

    def __init__(self, address: tuple[str, int]):
        self.address = address
        self.sock = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.users = 0
        self.waiting: set[int] = set()  # request ids in flight to this agent
        try:
            self.sock.connect(address)  # no datagram sent: sets the peer (and fails now if there is no route)
        except OSError:
            self.sock.close()
            raise


class SnmpClient:
    def __init__(self, stats: Stats | None = None):
        self.stats = stats if stats is not None else Stats()
        self.pacer = Pacer()
        self._pending: dict[int, asyncio.Future] = {}
        self._ids = itertools.count(int.from_bytes(os.urandom(2), "big") << 8)
        self._channels: dict[tuple[str, int], _Channel] = {}
        self._sessions: dict[tuple, V2cSession | usm.UsmSession] = {}

    async def start(self) -> None:
        # one socket per agent being polled: 1000 scrapes in flight need more than the
        # 1024 descriptors a service gets by default (the hard limit is far higher)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def close(self) -> None:
        for channel in list(self._channels.values()):
            channel.users = 1
            self._release(channel)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(SnmpError("shutdown"))
        self._pending.clear()

    # -- channels
    def _open(self, address: tuple[str, int]) -> _Channel:
        channel = self._channels.get(address)
        if channel is None:
            try:
                channel = _Channel(address)
            except OSError as exc:
                raise SnmpError("unreachable", f"{address[0]}:{address[1]}: {exc.strerror or exc}") from None
            asyncio.get_running_loop().add_reader(channel.sock.fileno(), self._readable, channel)
            self._channels[address] = channel
        channel.users += 1
        return channel

    def _release(self, channel: _Channel) -> None:
        channel.users -= 1
        if channel.users <= 0 and self._channels.get(channel.address) is channel:
            del self._channels[channel.address]
            asyncio.get_running_loop().remove_reader(channel.sock.fileno())
            channel.sock.close()

    @contextlib.contextmanager
    def hold(self, address: tuple[str, int]):
        """Keep the agent's socket open across the requests of one scrape."""
        channel = self._open(address)
        try:
            yield
        finally:
            self._release(channel)

    def _readable(self, channel: _Channel) -> None:
        # one datagram a call: the socket is one agent's, with mostly one request in flight;
        # the loop's polling is level-triggered, so what else is queued is read on the next
        # turn (reading on until EAGAIN would cost a failed recv and an exception each time)
        try:
            data = channel.sock.recv(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # ICMP port/host unreachable for an earlier request
            self.stats["socket_errors"] += 1
            self._fail_waiting(channel, SnmpError(
                "unreachable", f"{channel.address[0]}:{channel.address[1]}: {exc.strerror or exc}"))
            return
        self.stats["packets_received"] += 1
        self._dispatch(channel, data)

    def _fail_waiting(self, channel: _Channel, error: SnmpError) -> None:
        """Every request in flight to the agent ends now with ``error``."""
        for request_id in channel.waiting:
            fut = self._pending.get(request_id)
            if fut is not None and not fut.done():
                fut.set_exception(error)

    def _dispatch(self, channel: _Channel, data: bytes) -> None:
        try:
            request_id = peek_request_id(data)
        except ber.BerError as exc:
            self.stats["malformed_packets"] += 1
            # not even an id to match: fail what waits on that agent now rather than at its timeout
            self._fail_waiting(channel, SnmpError("malformed_response", str(exc)))
            return
        request_id &= 0x7FFFFFFF
        fut = self._pending.get(request_id) if request_id in channel.waiting else None
        if fut is None:
            self.stats["unexpected_packets"] += 1  # late answer after a timeout
            return
        if not fut.done():
            fut.set_result(data)

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

    def engine_id(self, address: tuple[str, int], profile: AuthProfile) -> bytes:
        """The SNMPv3 engine ID the agent at ``address`` told (b"" over v2c or before discovery)."""
        session = self._sessions.get((address, profile))
        return session.engine_id if isinstance(session, usm.UsmSession) else b""

    def forget(self, address: tuple[str, int], profile: AuthProfile) -> None:
        self._sessions.pop((address, profile), None)

    # -- requests
    async def _exchange(self, address, make_message, timeout: float, retries: int, deadline: float,
                        slot: Slot | None = None) -> bytes:
        loop = asyncio.get_running_loop()
        channel = self._open(address)
        tries: list[int] = []  # request ids of every try: a slow agent's answer to an earlier one counts
        try:
            for attempt in range(retries + 1):
                remaining = deadline - time.monotonic()
                if remaining <= 0.01:
                    raise SnmpError("budget", "scrape time budget used up")
                request_id = next(self._ids) & 0x7FFFFFFF
                message = make_message(request_id)
                fut = loop.create_future()
                tries.append(request_id)
                for earlier in tries:  # as gosnmp (snmp_exporter) does: any try's answer ends the wait
                    self._pending[earlier] = fut
                channel.waiting.add(request_id)
                timer = loop.call_later(min(timeout, remaining), _expire, fut)
                try:
                    self._send(channel, message)
                    if attempt:
                        self.stats["retries"] += 1
                    data = await fut
                except TimeoutError:
                    if slot is not None:
                        slot.let_go()  # a silent agent does not keep a live one waiting
                    continue
                finally:
                    timer.cancel()
                if slot is not None:
                    await slot.hold(deadline)
                await self.pacer.turn()  # the answer is decoded next: wait if this turn of the loop is full
                return data
        finally:
            for request_id in tries:
                self._pending.pop(request_id, None)
                channel.waiting.discard(request_id)
            self._release(channel)
        self.stats["timeouts"] += 1
        if deadline - time.monotonic() <= 0.01:
            raise SnmpError("budget", "scrape time budget used up")
        raise SnmpError("timeout", f"no answer from {address[0]}:{address[1]} after {retries + 1} tries")

    def _send(self, channel: _Channel, message: bytes) -> None:
        try:
            channel.sock.send(message)
        except (BlockingIOError, InterruptedError):
            self.stats["socket_errors"] += 1  # send queue full: as good as lost, the timeout retries
            return
        except OSError as exc:  # an ICMP error from an earlier request, reported on this send
            self.stats["socket_errors"] += 1
            raise SnmpError("unreachable", f"{channel.address[0]}:{channel.address[1]}: "
                            f"{exc.strerror or exc}") from None
        self.stats["packets_sent"] += 1

    async def request(self, address, profile: AuthProfile, tag: int, oids: list[bytes], deadline: float,
                      max_repetitions: int = 0, *, slot: Slot | None = None, timeout_s: float | None = None,
                      retries: int | None = None) -> ber.Pdu:
        """One request and its answer. ``timeout_s``/``retries`` override the profile's (a
        short probe); ``slot`` is let go while waiting for a retransmission."""
        session = self.session(address, profile)
        patience = (timeout_s or profile.timeout_s, profile.retries if retries is None else retries, deadline, slot)
        if isinstance(session, usm.UsmSession):
            return await self._request_v3(address, profile, session, tag, oids, max_repetitions, patience)
        data = await self._exchange(
            address, lambda rid: session.encode(rid, ber.encode_pdu(tag, rid, oids, 0, max_repetitions)), *patience)
        try:
            _rid, pdu = session.decode(data)
        except ber.BerError as exc:
            self.stats["malformed_packets"] += 1
            raise SnmpError("malformed_response", str(exc)) from None
        return self._response(pdu)

    def _response(self, pdu: ber.Pdu) -> ber.Pdu:
        """``pdu`` when it is a Response. Anything else carrying our request's id is no
        agent's answer: a host or loop that sends our own datagram back (a GetRequest
        whose varbinds are our NULLs) would otherwise read as an agent that is up, with
        sysUpTime 0 and empty tables; snmp_exporter 0.21 takes it so."""
        if pdu.tag != ber.RESPONSE:
            self.stats["malformed_packets"] += 1
            raise SnmpError("malformed_response", f"a PDU of type 0x{pdu.tag:02x} where a Response (0xa2) "
                            "belongs: the datagram came back, no agent answered it")
        return pdu

    async def _request_v3(self, address, profile, session: usm.UsmSession, tag, oids, max_repetitions, patience):
        if not session.discovered:
            data = await self._exchange(address, session.discovery_message, *patience)
            try:
                _msg_id, pdu = session.decode(data)
                if pdu.tag != ber.REPORT:
                    raise ber.BerError(f"a PDU of type 0x{pdu.tag:02x} where a Report belongs")
                engine = session.report_engine(data)
            except ber.BerError as exc:  # usm.UsmError among them
                self.stats["malformed_packets"] += 1
                raise SnmpError("malformed_response", f"engine discovery: {exc}") from None
            session.learn(*engine)
        for _ in range(2):  # a second try after re-learning the agent's clock
            try:
                data = await self._exchange(
                    address, lambda rid: session.encode(rid, ber.encode_pdu(tag, rid, oids, 0, max_repetitions)),
                    *patience)
            except SnmpError as exc:
                if exc.reason == "timeout" and profile.user.priv_protocol != "none" and not session.proven:
                    # the agent answered discovery, so it is there: agents drop what they cannot
                    # decrypt (net-snmp counts usmStatsDecryptionErrors and sends no report).
                    # Once it has answered with these keys, silence is an agent gone mid-walk.
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
                pdu = self._response(pdu)
                session.proven = True
                return pdu
            reason = usm.report_reason(pdu)
            if reason != "not_in_time_window":
                raise SnmpError(reason, "the agent refused our SNMPv3 credentials"
                                if reason in ("wrong_digest", "unknown_user", "decryption_error") else "")
            try:
                session.learn(*session.report_engine(data))
            except ber.BerError as exc:  # learnt as the engine, no engine ID would stand for the agent's
                self.stats["malformed_packets"] += 1
                raise SnmpError("malformed_response", f"notInTimeWindow report: {exc}") from None
        raise SnmpError("not_in_time_window")

    async def get(self, address, profile: AuthProfile, oids: list[bytes], deadline: float,
                  **patience) -> dict[bytes, ber.VarBind]:
        pdu = await self.request(address, profile, ber.GET_REQUEST, oids, deadline, **patience)
        if pdu.error_status:
            raise SnmpError("error_status", f"error-status {pdu.error_status} at {pdu.error_index}")
        return {vb[0]: vb for vb in pdu.varbinds if vb[1] not in ber.EXCEPTION_TAGS}

    async def walk_columns(self, address, profile: AuthProfile, columns: list[bytes], deadline: float,
                           into: dict[bytes, list[ber.VarBind]], slot: Slot | None = None,
                           guard: int | None = None) -> None:
        """Walk table columns in lock step: one GETBULK carries every unfinished column, the
        agent answers row by row. Rows land in ``into`` as they arrive, so a walk cut short
        (budget, agent gone) still leaves what it got. ``guard``: varbinds allowed, by
        default the profile's ``max_varbinds_per_walk``."""
        guard = guard or profile.max_varbinds_per_walk
        cursor = {column: column for column in columns}
        active = list(columns)
        total = 0
        for column in columns:
            into.setdefault(column, [])
        # a tolerant profile takes OIDs that go back, so only a repeat tells a loop
        seen = {column: set(map(_oid_of, into[column])) for column in columns} if profile.allow_nonincreasing else None
        while active:
            pdu = await self.request(address, profile, ber.GET_BULK_REQUEST, [cursor[c] for c in active],
                                     deadline, max(1, profile.max_repetitions), slot=slot)
            if pdu.error_status:
                raise SnmpError("error_status", f"error-status {pdu.error_status} at {pdu.error_index}")
            varbinds = pdu.varbinds
            if not varbinds:
                raise SnmpError("malformed_response", "GETBULK answered with no varbinds")
            taken_before = {column: len(into[column]) for column in active}
            active, taken = read_answer(active, cursor, varbinds, profile.allow_nonincreasing, into)
            if seen is not None:
                _stop_at_a_repeat(taken_before, into, seen)
            total += taken
            if total > guard:
                raise SnmpError("table_too_large", f"more than {guard} varbinds")


_oid_of, _tag_of = operator.itemgetter(0), operator.itemgetter(1)
_EXCEPTION_NAMES = {ber.NO_SUCH_OBJECT: "noSuchObject", ber.NO_SUCH_INSTANCE: "noSuchInstance"}


def _stop_at_a_repeat(taken_before: dict[bytes, int], into: dict[bytes, list[ber.VarBind]],
                      seen: dict[bytes, set[bytes]]) -> None:
    """``oid_loop`` when a column's new rows hold an OID the walk already returned (rows
    from the repeat on are dropped: each row is exported once). Without it a cycle over
    several rows (after .3 comes .1 again) ran on to the walk guard or the budget."""
    for column, start in taken_before.items():
        rows, known = into[column], seen[column]
        for position in range(start, len(rows)):
            oid = rows[position][0]
            if oid in known:
                del rows[position:]
                raise SnmpError("oid_loop", f"the walk came back to {ber.oid_to_str(oid)}: the agent's table loops")
            known.add(oid)


def read_answer(active: list[bytes], cursor: dict[bytes, bytes], varbinds: list[ber.VarBind],
                allow_nonincreasing: bool, into: dict[bytes, list[ber.VarBind]]) -> tuple[list[bytes], int]:
    """A GETBULK answer's rows into ``into``, column by column, cursors moved on: each
    column's rows up to the first varbind that left it or is endOfMibView, every row
    numerically after the one before it (the cursor first), else ``oid_not_increasing``
    (a tolerant profile takes them, and ends a column that loops); noSuchObject/noSuchInstance
    for an OID of the column after its last one (a row not read yet) is ``row_without_value``
    (the columns read before it in this answer keep their rows; its own column keeps none of
    this answer's), at or before it the column's end. Returns
    the columns still to walk and the rows taken.

    Every answer of a walk but its last is rows of every active column and nothing else:
    :func:`_in_step` recognises that for the whole answer in C loops (a Python loop over
    every varbind cost as much as decoding them) and the answer is taken whole; any other
    answer is read column by column. tests/exporter/test_walk_split.py holds both to one
    reference reader.
    """
    if _in_step(active, cursor, varbinds):
        width = len(active)
        for j, column in enumerate(active):
            part = varbinds[j::width]
            into[column].extend(part)
            cursor[column] = part[-1][0]
        return active, len(varbinds)
    width = len(active)
    still_active = []
    total = 0
    for j, column in enumerate(active):
        part = varbinds[j::width]
        rows = len(part)
        taken = 0
        inside = len(column)  # an OID in the column is longer than the column
        previous = cursor[column]
        for oid, tag, _raw in part:
            if len(oid) <= inside or not oid.startswith(column) or tag == ber.END_OF_MIB_VIEW:
                break
            if tag in ber.EXCEPTION_TAGS:
                # noSuchObject/noSuchInstance: RFC 3416 allows GETBULK no such value (endOfMibView
                # alone). Past the column's last OID it names a row the walk has not read, left
                # without a value: ending the column there (gosnmp, so snmp_exporter, and
                # snmpbulkwalk stop at any exception) dropped the rest of the table silently, so
                # the module is down (the rows read before kept). At or before it, it names no row
                # still to read: an agent answering its table's end (the requested OID echoed, as
                # RFC 3416 names an endOfMibView) with the wrong exception; the column ends there
                if not _increasing(previous, [(oid, tag, _raw)]):
                    break
                raise SnmpError("row_without_value", f"{_EXCEPTION_NAMES[tag]} for {ber.oid_to_str(oid)} "
                                "inside a GETBULK answer: the agent gave that row no value")
            previous = oid
            taken += 1
        if taken:
            if taken < rows:
                part = part[:taken]
            last = part[-1][0]
            if not _increasing(cursor[column], part):
                if not allow_nonincreasing:
                    raise SnmpError("oid_not_increasing", f"agent returned {ber.oid_to_str(last)} "
                                    f"after {ber.oid_to_str(cursor[column])}")
                if last == cursor[column]:
                    continue  # a loop: the column is done
            into[column].extend(part)
            total += taken
            cursor[column] = last
        if taken == rows and rows:
            still_active.append(column)
    return still_active, total


def _in_step(active: list[bytes], cursor: dict[bytes, bytes], varbinds: list[ber.VarBind]) -> bool:
    """Whether a GETBULK answer is rows of every active column and nothing else: no
    exception value, each varbind inside its column, after its cursor (first row) and after
    its column's previous row, all checked in C loops.

    Encoded OIDs compare as bytes, which sort like their arcs unless both sides hold
    multi-octet arcs: the answer's OIDs must be one octet per arc. In byte order the OIDs
    inside a column are one unbroken range, so a column whose rows rise from its cursor
    (inside the column, or the column itself) to a last row inside it has every row inside.
    """
    width, count = len(active), len(varbinds)
    if count < width:
        return False
    oids = list(map(_oid_of, varbinds))
    turn = count % width  # the last ``width`` varbinds, by column: a short last row wraps
    return (ber.EXCEPTION_TAGS.isdisjoint(map(_tag_of, varbinds))
            and b"".join(oids).isascii()
            and all(map(operator.lt, map(cursor.__getitem__, active), oids))  # the first row
            and all(map(operator.lt, oids, oids[width:]))  # every row after its column's previous one
            and all(map(bytes.startswith, oids[-width:], active[turn:] + active[:turn])))


def _increasing(previous: bytes, part: list[ber.VarBind]) -> bool:
    """Every OID of a column's rows after the one before it, the first after ``previous``
    (numeric order: encoded bytes do not sort like arcs once multi-octet arcs appear)."""
    oids = [previous, *map(_oid_of, part)]
    if not b"".join(oids).isascii():
        oids = list(map(ber.oid_to_tuple, oids))
    return all(map(operator.lt, oids, oids[1:]))


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


class Pacer:
    """Keeps every turn of the event loop short, so /-/healthy and new requests are
    answered in milliseconds while hundreds of scrapes decode and render.

    The loop runs all callbacks that are ready before it looks at its sockets again: when
    a hundred walks get their answers together, one turn would decode and render them
    all (tens of milliseconds, several times that on a busy machine). Each such piece of
    work first awaits :meth:`turn`. Once ``slice_s`` has passed since the turn's first
    piece began, later pieces queue (first come, first served) and are let go a batch per
    turn, the batch halved after a turn that overran the slice and doubled after one that
    did not; whatever the sockets brought in meanwhile (a health check) runs in between.
    A queued piece is resumed once, when it is its turn: no polling. Time is wall time:
    on a machine busy with other work the slices hold less CPU, when responsiveness is
    scarcest.
    """

    def __init__(self, slice_s: float = 0.004):
        self.slice_s = slice_s
        self._since: float | None = None  # when this turn's first paced piece began
        self._queue: collections.deque[asyncio.Future] = collections.deque()
        self._batch = 1  # queued pieces let go per turn
        self.deferred = 0  # pieces that queued

    async def turn(self) -> None:
        now = time.perf_counter()
        if self._since is None:
            self._begin(now)
        elif self._queue or now - self._since >= self.slice_s:
            waiter = asyncio.get_running_loop().create_future()
            self._queue.append(waiter)
            self.deferred += 1
            await waiter

    def _begin(self, now: float) -> None:
        self._since = now
        asyncio.get_running_loop().call_soon(self._next_turn)  # runs after this turn's ready callbacks

    def _next_turn(self) -> None:
        now = time.perf_counter()
        overran = now - self._since >= self.slice_s
        self._since = None
        if not self._queue:
            return  # nothing waits: the loop may sleep
        self._batch = max(1, self._batch // 2) if overran else min(self._batch * 2, 1024)
        released = 0
        while self._queue and released < self._batch:
            waiter = self._queue.popleft()
            if not waiter.done():  # a scrape cancelled while it waited (its client left)
                waiter.set_result(None)
                released += 1
        self._begin(now)  # the released pieces run in the next turn, and are timed as its work


class Limiter:
    """Targets polled at once, shared by every scrape (bounded concurrency)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._sem = asyncio.Semaphore(limit)
        self.waiting = 0
        self.active = 0

    async def acquire(self, deadline: float) -> None:
        if not self._sem.locked():  # a free slot: taken at once, without wait_for's extra task
            await self._sem.acquire()
            self.active += 1
            return
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


class Slot:
    """One target's claim on the :class:`Limiter`: let go while the agent keeps us waiting
    for a retransmission, taken again (queueing behind the others) when it answers."""

    __slots__ = ("limiter", "held")

    def __init__(self, limiter: Limiter):
        self.limiter = limiter
        self.held = False

    async def hold(self, deadline: float) -> None:
        if not self.held:
            await self.limiter.acquire(deadline)
            self.held = True

    def let_go(self) -> None:
        if self.held:
            self.held = False
            self.limiter.release()
