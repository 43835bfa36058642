"""A bounded pool of netmiko sessions with typed per-device results.

Why a pool of its own instead of calling ``ConnectHandler`` in a loop:

* **Two limits.** ``workers`` bounds how many sessions run at once; ``login_limit``
  (smaller) bounds how many of them may be *logging in* at the same moment, because
  the TACACS/RADIUS servers behind the switches fall over long before the switches
  do. A worker holds a login slot only while it connects, authenticates and prepares
  the session, then releases it and runs its commands.
* **Typed results, never exceptions.** Every device ends in exactly one
  :class:`DeviceResult` whose ``status`` is one of :class:`AccessStatus`; one failing
  device never stops the run for the others.
* **Retries with backoff** only where a retry can help and costs little: a refused or
  reset connection. An authentication failure is not retried (it would lock the
  account), nor a rejected host key, nor an attempt that used up its timeout (a port
  that accepts TCP but never speaks SSH would otherwise cost ``retries + 1`` timeouts).
* **Time is bounded by the profile.** ``conn_timeout_s`` bounds the TCP connect, the
  SSH banner, the key exchange and the authentication of one attempt
  (``conn_timeout``/``banner_timeout``/``auth_timeout``); ``read_timeout_s`` bounds each
  command. A device that accepts and then stays silent ends as ``timeout`` after one
  ``conn_timeout_s``.
* **Failures are named.** Each failure becomes one line that says what happened (and,
  for a rejected host key, which known-hosts file and which key fingerprint), never a
  library's multi-line advice; paramiko's and netmiko's own log records (tracebacks of
  their transport threads included) go to this module's log at DEBUG, never to stderr.
* **Sessions are always closed.** A healthy session is closed politely
  (``disconnect``); a session that timed out is closed hard, because netmiko's polite
  close waits for the very device that stopped answering.
* **Read-only.** Tasks get a :class:`DeviceSession` whose only verb is ``show``: it
  refuses anything that is not a show/display command.

Secrets: the password is a :class:`~netops.secrets.Secret` until the moment netmiko
needs it; every error message is scrubbed of it before it reaches a result or a log.
"""

from __future__ import annotations

import codecs
import logging
import random
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Callable, Generic, Iterable, TypeVar

import paramiko
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)
from netmiko.channel import SSHChannel
from netmiko.netmiko_globals import MAX_BUFFER
from netmiko.ssh_dispatcher import ssh_dispatcher
from netmiko.utilities import structured_data_converter
from paramiko.ssh_exception import BadHostKeyException, NoValidConnectionsError, SSHException
from textfsm import TextFSMError

from netops.secrets import Secret, scrub

log = logging.getLogger(__name__)


class _LibraryRecordsToDebug(logging.Handler):
    """paramiko logs a failed handshake at ERROR, one traceback line per record, from its
    transport thread; for netops that is an expected, typed outcome, so the records go
    to our log at DEBUG instead of Python's last-resort handler (stderr)."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


# netmiko logs everything it reads from the channel at DEBUG, running configs (and so
# their secrets) included: only WARNING and above are passed on, demoted to DEBUG.
for _library in ("netmiko", "paramiko"):
    _logger = logging.getLogger(_library)
    _logger.setLevel(logging.WARNING)
    _logger.addHandler(_LibraryRecordsToDebug())
    _logger.propagate = False

T = TypeVar("T")


class AccessStatus(StrEnum):
    OK = "ok"
    AUTH_FAILED = "auth_failed"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    PARSE_ERROR = "parse_error"
    #: strict host key checking is on and the device's key is unknown or has changed
    HOST_KEY_REJECTED = "host_key_rejected"
    #: a bug or an unforeseen library error; reported, never allowed to stop the run
    ERROR = "error"


class ParseError(Exception):
    """A task could not make sense of what the device answered."""


class ReadOnlyViolation(Exception):
    """A task tried to send a command that could change the device."""


@dataclass(frozen=True)
class DeviceTarget:
    """Everything needed to open one SSH session; built from the inventory by callers."""

    name: str
    platform: str  # netmiko device_type
    host: str
    port: int
    username: str
    password: Secret = field(repr=False)
    enable_secret: Secret | None = field(default=None, repr=False)
    conn_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    #: an OpenSSH known_hosts file: when given, unknown or changed host keys are refused
    known_hosts: str | None = None

    def secrets(self) -> list[Secret]:
        return [s for s in (self.password, self.enable_secret) if s is not None]


@dataclass(frozen=True)
class DeviceResult(Generic[T]):
    device: str
    status: AccessStatus
    value: T | None = None
    error: str | None = None
    attempts: int = 1
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == AccessStatus.OK


@dataclass(frozen=True)
class RetryPolicy:
    """Retries for connection failures: ``backoff_s * 2**n`` plus up to 25 % jitter."""

    retries: int = 1
    backoff_s: float = 0.5

    def delay(self, attempt: int) -> float:
        base = self.backoff_s * (2 ** (attempt - 1))
        return base + random.uniform(0, base / 4)


# show/display (+ abbreviations) only; paging and width setup is netmiko's own business
_READ_ONLY = re.compile(r"^\s*(sh(o(w)?)?|display|dis)\s", re.IGNORECASE)
# a pager prompt (IOS/NX-OS/EOS `--More--`, ProCurve `-- MORE --`, Huawei/Comware
# `---- More ----`, Junos `---(more 45%)---`); as the last thing a device printed it waits
# for a key, and the rest of the answer never comes. It starts its line (after blanks or a
# colour code): a description or banner quoting "--More--" is config text, not a pager
_PAGER_WORDS = r"(?:-- ?more ?--|---- more ----|---\(more(?: \d+%)?\)---)"
_LINE_LEAD = r"[ \t]*(?:\x1b\[[0-9;?]*[A-Za-z])*"  # what may stand before it on its line
PAGER = rf"(?im:^{_LINE_LEAD}{_PAGER_WORDS})"
_PAGER_AT_END = PAGER + r"[^\r\n]*$"
#: the most one answer may hold: a device that never ends its answer (paging or repeating for ever)
#: fails at this size instead of filling the memory until the read timeout. The store writes any size
#: but reads no config file larger than configs.store.STORED_CONFIG_MAX_BYTES: the same size, kept
#: apart because netops/ does not import configs/ (tests/ssh/test_bad_answers_hunt.py holds them equal)
ANSWER_MAX_BYTES = 64 * 2**20
# how a byte that is not UTF-8 reads after a surrogateescape decode (see _ByteFaithfulChannel)
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def undecodable(text: str) -> tuple[int, int, int] | None:
    """(byte offset, line number, byte value) of the first byte of an answer that is
    not UTF-8, or None when all of it is."""
    found = _UNDECODABLE.search(text)
    if found is None:
        return None
    before = text[:found.start()]
    return (len(before.encode("utf-8", "surrogateescape")), before.count("\n") + 1,
            ord(found.group()) - 0xDC00)


def escaped(text: str) -> str:
    """Text for output: each byte that is not UTF-8 as a visible ``\\xNN``, never dropped."""
    return _UNDECODABLE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


class DeviceSession:
    """What a task may do with a device: run show commands."""

    def __init__(self, connection, target: DeviceTarget):
        self._connection = connection
        self.target = target

    def show(self, command: str, *, textfsm: bool = False) -> Any:
        """The answer, with bytes that are not UTF-8 kept (see ``undecodable``); a device
        that stops at a pager prompt, or whose answer passes ``ANSWER_MAX_BYTES`` without
        ending, is a ParseError saying so, not a read timeout."""
        if not _READ_ONLY.match(command):
            raise ReadOnlyViolation(f"refusing non-show command {command!r} on {self.target.name}")
        # The answer ends at the device's prompt, alone on its line with nothing after it; but a
        # banner or description quoting the prompt ("sw1#") looks the same when the device
        # pauses right after that text (a slow or busy one writes a line's text and its line
        # break apart). So at the first such end a bare Enter is sent: the answer is whole only
        # once a fresh prompt follows the candidate on the next line, in what came after the
        # Enter. A config's text would have to quote the prompt on two lines running, and
        # the device pause after each of them, to pass for that.
        deadline = time.monotonic() + self.target.read_timeout_s
        prompt = re.escape(self._connection.find_prompt().strip())
        channel = getattr(self._connection, "channel", None)
        self.stray_nuls = None
        if not isinstance(channel, _ByteFaithfulChannel):
            return self._show(command, prompt, deadline, textfsm)
        channel.begin_answer(command)
        try:
            answer = self._show(command, prompt, deadline, textfsm)
            channel.place_nuls()
        finally:
            channel.budget = None
        if channel.nuls:
            self.stray_nuls = _stray_nuls(channel.nuls, channel.received, channel.answer_offset(channel.first_nul))
        return answer

    #: the NUL bytes removed from the last answer (None: it held none), see _stray_nuls
    stray_nuls: StrayNuls | None = None

    def _show(self, command: str, prompt: str, deadline: float, textfsm: bool) -> Any:
        # netmiko searches the answer after each read (all of it up to 2 MB, then its last 20 reads): the
        # pattern starts with a line break so that re skips from one to the next (with a leading `^|`
        # alternative, 4x slower on a 6 MB config); every answer starts with the command's echo
        answer = self._connection.send_command(
            command, expect_string=rf"[\r\n](?:{prompt}[ \t]*\Z|(?<=\n)(?i:{_LINE_LEAD}{_PAGER_WORDS})[^\r\n]*$)",
            strip_prompt=False,
            read_timeout=self.target.read_timeout_s,
        )
        if pager := re.search(_PAGER_AT_END, answer.rstrip()):
            raise ParseError(f"{command!r} stopped at a pager prompt ({pager.group().strip()!r}): paging is not "
                             "switched off for this session (terminal length 0 refused?), the answer is incomplete")
        answer = self._connection.strip_prompt(self._confirmed_end(answer, prompt, deadline))
        if not textfsm:
            return answer
        return structured_data_converter(raw_data=answer, command=command, platform=self._connection.device_type,
                                         use_textfsm=True)

    def _confirmed_end(self, answer: str, prompt: str, deadline: float) -> str:
        """``answer`` (ending in the prompt) and what came after a bare Enter, up to the
        prompt that the Enter's own fresh prompt follows; that echo and prompt are dropped.

        A candidate that was the config's own text is followed by the rest of the config
        first: reading goes on, within the command's read timeout. The fresh prompt must also
        be the last thing the device sends for as long again as its first answer to the Enter
        took (50 ms at least): a config whose last line is the prompt's text, sent before a
        pause, is followed by the real prompt and then, at once, the Enter's."""
        fresh, confirmed = _end_patterns(prompt)
        self._connection.write_channel(self._connection.RETURN)
        sent = time.monotonic()
        text, quiet_s, whole_at, found = answer, None, None, None
        while whole_at is None or time.monotonic() < whole_at:
            if whole_at is None and time.monotonic() > deadline:
                raise ReadTimeout(f"no fresh prompt after the answer within {self.target.read_timeout_s:g}s")
            time.sleep(0.01)
            data = self._connection.read_channel()
            if not data:
                continue
            text += data
            quiet_s = quiet_s or max(time.monotonic() - sent, 0.05)
            # both patterns end at \Z: only the last lines are searched (a whole 5 MB answer after each read,
            # when a false end came early, was quadratic); the fresh prompt must come after the Enter
            found = (fresh.search(text, max(len(answer), _tail_start(text, 1)))
                     and confirmed.search(text, _tail_start(text, 3)))
            whole_at = time.monotonic() + quiet_s if found else None
        # the answer's own prompt stays (netmiko's strip_prompt drops it); the Enter's echo and prompt go,
        # and so does the line the device printed above both prompts
        body = text[:found.start()]
        if found.group(1) and body.rstrip(" \t\r").endswith(found.group(1)):
            body = re.sub(r"\r?\n\Z", "", body.rstrip(" \t\r")[:-len(found.group(1))])
        return body + re.match(rf"(?:^|[\r\n]){prompt}[ \t]*", text[found.start():]).group()


@dataclass(frozen=True)
class StrayNuls:
    """NUL bytes removed from an answer: how many, and the first one's offset in the answer as the
    device sent it (its echo of the command included; not in netmiko's text, whose line breaks and
    echo differ)."""

    count: int
    first_offset: int

    def __str__(self) -> str:
        return (f"{self.count} stray NUL byte{'s' if self.count > 1 else ''} removed from the answer (the first at "
                f"byte offset {self.first_offset} of the device's answer)")


#: an answer in which more than this share of the bytes are NUL is no text: UTF-16 text (a NUL every
#: other byte) or line noise. Fewer are padding, as some firmware sends (netmiko removes every NUL
#: for Dell Isilon; a Telnet-style bare CR is `\r\0`, one per line at most): they are removed
NUL_SHARE_MAX = 0.1


def _stray_nuls(nuls: int, received: int, first: int) -> StrayNuls:
    """The verdict on an answer's NUL bytes: a few (removed, returned), or a ParseError."""
    if nuls > NUL_SHARE_MAX * received:
        raise ParseError(f"the answer holds NUL bytes ({nuls} of its {received} bytes, the first at byte offset "
                         f"{first} of the device's answer): not text (UTF-16, or line noise); nothing of it is used")
    return StrayNuls(nuls, first)


def _end_patterns(prompt: str) -> tuple[re.Pattern, re.Pattern]:
    """(fresh, confirmed) for ``prompt`` (escaped): a prompt ending the text on a line of its own,
    and the answer's prompt followed by the bare Enter's. Both end at \\Z and span at most 1 and 3
    lines holding more than blanks: ``_confirmed_end`` searches them from ``_tail_start``."""
    # (a Junos member of a virtual chassis or cluster prints "{master:0}" above each prompt)
    confirmed = re.compile(rf"(?:^|[\r\n]){prompt}[ \t]*(?:\r?\n)+(?:(\{{[^\r\n{{}}]*\}})[ \t]*(?:\r?\n)+)?"
                           rf"{prompt}[ \t]*\Z")
    return re.compile(rf"[\r\n]{prompt}[ \t]*\Z"), confirmed


def _tail_start(text: str, lines: int) -> int:
    """Where the last ``lines`` lines of ``text`` holding more than blanks begin, at the line
    break before them (0: there are fewer): a pattern that ends at \\Z and spans no more such
    lines matches within ``text[_tail_start(text, lines):]`` (re cannot search backwards)."""
    at = len(text)
    for _ in range(lines):
        while at and text[at - 1] in " \t\r\n":
            at -= 1
        newline = text.rfind("\n", 0, at)
        at = max(newline, text.rfind("\r", max(newline, 0), at))
        if at < 0:
            return 0
    return at


Task = Callable[[DeviceSession], T]


class _UnknownHostKey(SSHException):
    """Strict checking is on and the known-hosts file has no key for this host."""

    def __init__(self, hostname: str, key: paramiko.PKey):
        super().__init__(f"Server {hostname!r} not found in known_hosts")
        self.hostname = hostname
        self.key = key


class _RejectUnknownHostKey(paramiko.MissingHostKeyPolicy):
    """paramiko's RejectPolicy, but the refusal carries the key the server offered."""

    def missing_host_key(self, client, hostname, key):
        raise _UnknownHostKey(hostname, key)


_CLOSED = "Channel stream closed by remote device."  # netmiko's words for it


# how far into an answer the device's echo of the command is looked for
_ECHO_WINDOW = 64 * 2**10


class _ByteFaithfulChannel(SSHChannel):
    """netmiko decodes each read on its own with errors="ignore": a byte that is not UTF-8
    is dropped without a trace, and so is a UTF-8 character split between two reads.
    This channel decodes the stream incrementally with "surrogateescape": split
    characters are joined, and every other byte survives (as U+DC80..U+DCFF) for the
    caller to store as that byte and show as \\xNN (``undecodable``, ``escaped``)."""

    def __init__(self, conn, encoding: str) -> None:
        super().__init__(conn, encoding)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        #: bytes the answer being read may still bring (DeviceSession.show sets it; None: no limit)
        self.budget: int | None = None
        #: the answer being read as the device sent it (DeviceSession.show resets them): its bytes, its
        #: NUL bytes (removed from what is read), where the first of them stood and where the device's
        #: echo of the command began (bytes of an earlier prompt may come first)
        self.received = 0
        self.nuls = 0
        self.first_nul: int | None = None
        self.echo_at: int | None = None
        self._echo, self._head = b"", b""
        #: the byte before the NUL bytes that ended the last read (b"": none), and where they began in
        #: the answer: whether they joined two words is known only from the next read's first byte
        self._before_nuls, self._open_nuls_at = b"", None
        #: NUL bytes read before the echo was found (count, offset, joined): bytes before the echo are
        #: an earlier prompt's (its padding followed by the echo is no joined word), after it the answer's
        self._unplaced: list[tuple[int, int, bool]] = []

    def begin_answer(self, command: str) -> None:
        self.budget, self.received, self.nuls, self.first_nul = ANSWER_MAX_BYTES, 0, 0, None
        self.echo_at, self._echo, self._head = None, command.encode(), b""
        # NUL bytes ending what came before (after the prompt) padded its end
        self._before_nuls, self._open_nuls_at, self._unplaced = b"", None, []

    def answer_offset(self, at: int) -> int:
        """A byte offset of what was read since ``begin_answer`` as an offset in the device's answer
        (from its echo of the command; from the first byte read when no echo was seen)."""
        return at - self.echo_at if self.echo_at is not None and at >= self.echo_at else at

    def read_buffer(self) -> str:
        if self.remote_conn is not None and not self.remote_conn.recv_ready() and (
                self.remote_conn.closed or self.remote_conn.eof_received):
            # nothing buffered and nothing more to come: netmiko would read "" until the
            # read timeout and call a device that hung up "no answer"
            raise ReadException(_CLOSED)
        if self.remote_conn is None or not self.remote_conn.recv_ready():
            return super().read_buffer()
        data = self.remote_conn.recv(MAX_BUFFER)
        if not data:
            raise ReadException(_CLOSED)
        start = self.received
        if self.budget is not None:
            self.budget -= len(data)
            if self.budget < 0:
                raise ParseError(f"the answer passed {ANSWER_MAX_BYTES / 2**20:g} MiB without ending (a device paging "
                                 "or repeating without end?); nothing of it is used")
            if self.echo_at is None and len(self._head) < _ECHO_WINDOW:
                # (searched from where the new part could complete the echo, not the whole head again)
                since = max(len(self._head) - len(self._echo) + 1, 0)
                self._head += data
                if (echo := self._head.find(self._echo, since)) >= 0:
                    self.echo_at = echo
                if self.echo_at is not None or len(self._head) >= _ECHO_WINDOW:
                    self.place_nuls()
            self.received += len(data)
        return self._decoder.decode(self._without_padding(data, start))

    def _without_padding(self, data: bytes, start: int) -> bytes:
        """``data`` without its NUL bytes, which go before netmiko reads the text (its line breaks would
        count `\r\0\n`, a Telnet-style CR NUL, as two; a NUL after the prompt would hide the prompt).

        Padding is a run of NUL bytes with a blank (space, tab, line break), the start of the output
        or its end on one side. A run between two other bytes (`community\0S3cret`) stood for a byte
        lost on the way: removed, it would join two words (and a secret to its keyword, past the
        scrubber), so it fails the answer. Only an answer's NUL bytes are counted and judged
        (DeviceSession.show); the prompt's and the session set-up's text is never stored."""
        if b"\0" not in data and self._open_nuls_at is None:
            self._before_nuls = data[-1:]
            return data
        if self._open_nuls_at is not None and data[:1] != b"\0":
            self._nuls_seen(0, self._open_nuls_at, self._joins(self._before_nuls, data[:1]))
            self._open_nuls_at = None
        for run in re.finditer(rb"\0+", data):
            at = start + run.start()
            self._nuls_seen(len(run.group()), at, False)
            before = data[run.start() - 1:run.start()] if run.start() else self._before_nuls
            if run.end() == len(data):  # the next read tells
                self._before_nuls = before
                self._open_nuls_at = at if self._open_nuls_at is None or run.start() else self._open_nuls_at
                return data.replace(b"\0", b"")
            run_at = self._open_nuls_at if self._open_nuls_at is not None and not run.start() else at
            self._nuls_seen(0, run_at, self._joins(before, data[run.end():run.end() + 1]))
            self._open_nuls_at = None
        self._before_nuls = data[-1:]
        return data.replace(b"\0", b"")

    @staticmethod
    def _joins(before: bytes, after: bytes) -> bool:
        return bool(before.strip() and after.strip())

    def _nuls_seen(self, count: int, at: int, joins: bool) -> None:
        if self.budget is None:
            return
        if self.echo_at is None and len(self._head) < _ECHO_WINDOW:
            self._unplaced.append((count, at, joins))
        elif self.echo_at is None or at >= self.echo_at:
            self._answer_nuls(count, at, joins)

    def place_nuls(self) -> None:
        """Count and judge the NUL bytes read before the echo was found (or the answer ended without
        one): those before the echo were no answer's."""
        unplaced, self._unplaced = self._unplaced, []
        for count, at, joins in unplaced:
            if self.echo_at is None or at >= self.echo_at:
                self._answer_nuls(count, at, joins)

    def _answer_nuls(self, count: int, at: int, joins: bool) -> None:
        if joins:
            raise ParseError(f"the answer holds a NUL byte between two characters (byte offset "
                             f"{self.answer_offset(at)} of the device's answer): a byte lost on the way or no text "
                             "(UTF-16?), not padding; nothing of it is used")
        if count:
            self.first_nul = at if self.first_nul is None else min(self.first_nul, at)
            self.nuls += count


@lru_cache(maxsize=None)
def _netops_class(connection_class: type, strict: bool) -> type:
    """netmiko's class for the platform, reading bytes faithfully and, when ``strict``,
    refusing unknown host keys with our policy (netmiko picks paramiko's RejectPolicy)."""

    class NetopsConnection(connection_class):
        def __init__(self, *args, login_read_cap_s: float | None = None, **kwargs):
            # netmiko's session set-up waits 20 s for the prompt whatever its timeouts say
            # (read_until_pattern(read_timeout=20)); while the constructor logs in and prepares
            # the session no read waits longer than the login's own timeout. A cap, not
            # netmiko's read_timeout_override: that would also stretch the short reads a
            # platform expects to time out (ProCurve waits 1.3 s for a "Copyright" banner)
            self._read_cap_s = login_read_cap_s
            try:
                super().__init__(*args, **kwargs)
            finally:
                self._read_cap_s = None

        def read_until_pattern(self, pattern: str = "", read_timeout: float = 10.0, *args, **kwargs):
            if self._read_cap_s is not None and not 0 < read_timeout <= self._read_cap_s:
                read_timeout = self._read_cap_s  # 0 is netmiko's "for ever"
            return super().read_until_pattern(pattern, read_timeout, *args, **kwargs)

        def _build_ssh_client(self):
            client = super()._build_ssh_client()
            if strict:
                client.set_missing_host_key_policy(_RejectUnknownHostKey())
            return client

        def session_preparation(self):
            try:
                super().session_preparation()
            except Exception:
                # netmiko's clean-up after a failed set-up reads from the device once more (a
                # second timeout for one that stays silent): the session is dropped first
                _close_hard(self)
                raise

        def establish_connection(self, *args, **kwargs):
            result = super().establish_connection(*args, **kwargs)
            if type(self.channel) is SSHChannel:
                self.channel = _ByteFaithfulChannel(self.remote_conn, self.encoding)
            return result

    return NetopsConnection


def connect(**kwargs) -> Any:
    """netmiko's ``ConnectHandler``: bytes kept (``_ByteFaithfulChannel``), host keys refused
    strictly when ``ssh_strict``, no read of the login longer than ``login_read_cap_s``."""
    return _netops_class(ssh_dispatcher(kwargs["device_type"]), bool(kwargs.get("ssh_strict")))(**kwargs)


@dataclass(frozen=True)
class _Failure:
    status: AccessStatus
    message: str
    retryable: bool = False


@dataclass
class LoginStats:
    """How the login slots were used in a run: what sizing ``login_limit`` needs (README).

    ``held_s`` is the time slots were held (TCP+SSH handshake, authentication, session
    preparation), ``waited_s`` the time workers queued for one."""

    logins: int = 0
    held_s: float = 0.0
    waited_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, waited_s: float, held_s: float) -> None:
        with self._lock:
            self.logins += 1
            self.waited_s += waited_s
            self.held_s += held_s

    @property
    def mean_login_s(self) -> float:
        return self.held_s / self.logins if self.logins else 0.0


class _ConnectFailed(Exception):
    def __init__(self, failure: _Failure):
        super().__init__(failure.message)
        self.failure = failure


class SessionPool:
    """Run one task per device over SSH with bounded concurrency; see the module doc."""

    def __init__(
        self,
        workers: int = 8,
        login_limit: int = 4,
        retry: RetryPolicy = RetryPolicy(),
        connect: Callable[..., Any] = connect,
    ):
        if workers < 1 or login_limit < 1:
            raise ValueError("workers and login_limit must be at least 1")
        self.workers = workers
        self.login_limit = min(login_limit, workers)
        self.retry = retry
        self._connect = connect
        self._logins = threading.BoundedSemaphore(self.login_limit)
        self.login_stats = LoginStats()

    def run(
        self,
        targets: Iterable[DeviceTarget],
        task: Task[T],
        on_result: Callable[[DeviceResult[T]], None] | None = None,
    ) -> list[DeviceResult[T]]:
        """Results in the order of ``targets``; ``on_result`` is called as each finishes."""
        targets = list(targets)
        results: dict[str, DeviceResult[T]] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="netops-ssh") as ex:
            futures = {ex.submit(self.run_one, target, task): target for target in targets}
            for future in as_completed(futures):
                result = future.result()
                results[result.device] = result
                if on_result is not None:
                    on_result(result)
        return [results[t.name] for t in targets]

    def run_one(self, target: DeviceTarget, task: Task[T]) -> DeviceResult[T]:
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                connection = self._open(target)
                break
            except _ConnectFailed as exc:
                if exc.failure.retryable and attempts <= self.retry.retries:
                    delay = self.retry.delay(attempts)
                    log.info("%s: %s, retry %d in %.1fs", target.name, exc.failure.status, attempts, delay)
                    time.sleep(delay)
                    continue
                return self._failed(target, exc.failure, attempts, started)
        healthy = False
        try:
            value = task(DeviceSession(connection, target))
            healthy = True
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed result
            return self._failed(target, _classify(exc, target), attempts, started)
        finally:
            (_close_politely if healthy else _close_hard)(connection)
        return DeviceResult(target.name, AccessStatus.OK, value, None, attempts, time.monotonic() - started)

    def _open(self, target: DeviceTarget):
        queued = time.monotonic()
        with self._logins:
            granted = time.monotonic()
            try:
                return self._login(target)
            finally:
                self.login_stats.add(granted - queued, time.monotonic() - granted)

    def _login(self, target: DeviceTarget):
        """Connect, authenticate, enable: everything the AAA servers see of a session."""
        timeout = target.conn_timeout_s
        try:
            connection = self._connect(
                device_type=target.platform,
                host=target.host,
                port=target.port,
                username=target.username,
                password=target.password.reveal(),
                secret=(target.enable_secret or target.password).reveal(),
                conn_timeout=timeout,
                auth_timeout=timeout,
                banner_timeout=timeout,
                ssh_strict=target.known_hosts is not None,
                system_host_keys=False,
                alt_host_keys=target.known_hosts is not None,
                alt_key_file=target.known_hosts or "",
                login_read_cap_s=timeout,
            )
        except Exception as exc:  # noqa: BLE001
            raise _ConnectFailed(_classify(exc, target, connecting=True)) from None
        try:
            if not connection.check_enable_mode():
                connection.enable()
        except Exception as exc:  # noqa: BLE001
            # a platform without an enable mode raises a plain error: carry on unprivileged
            # (show commands that need it then fail as parse errors); a hang is a failure
            failure = _classify(exc, target)
            if failure.status != AccessStatus.ERROR:
                _close_hard(connection)
                raise _ConnectFailed(failure) from None
        return connection

    def _failed(self, target: DeviceTarget, failure: _Failure, attempts: int, started: float) -> DeviceResult:
        # info, not warning: the caller reports every result; a warning would reach stderr twice
        log.info("%s: %s: %s", target.name, failure.status, failure.message)
        return DeviceResult(target.name, failure.status, None, failure.message, attempts,
                            time.monotonic() - started)


# -- naming failures --------------------------------------------------------------------
def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it was raised from or during (netmiko wraps paramiko's)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _find(chain: list[BaseException], kind: type) -> Any:
    return next((e for e in chain if isinstance(e, kind)), None)


def _host_key_message(chain: list[BaseException], target: DeviceTarget) -> str | None:
    where = f"{target.host}:{target.port}"
    unknown = _find(chain, _UnknownHostKey)
    if unknown is not None:
        return (f"host key of {where} is not in known-hosts file {target.known_hosts}; the server offered "
                f"{unknown.key.get_name()} {unknown.key.fingerprint} (verify it, then add it to the file)")
    changed = _find(chain, BadHostKeyException)
    if changed is not None:
        return (f"host key of {where} CHANGED: the server offered {changed.key.get_name()} "
                f"{changed.key.fingerprint}, known-hosts file {target.known_hosts} has "
                f"{changed.expected_key.get_name()} {changed.expected_key.fingerprint} "
                f"(a replaced device or a man in the middle: find out which before updating the file)")
    if any("not found in known_hosts" in str(e) for e in chain):  # a connect function of our caller's
        return f"host key of {where} is not in known-hosts file {target.known_hosts}"
    return None


def _classify(exc: BaseException, target: DeviceTarget, connecting: bool = False) -> _Failure:
    """Name a failure: its status, one line for people, and whether a retry may help."""
    chain = _chain(exc)
    timeout_s = target.conn_timeout_s
    host_key = _host_key_message(chain, target)
    if host_key is not None:
        return _Failure(AccessStatus.HOST_KEY_REJECTED, host_key)
    if any("Authentication timeout" in str(e) for e in chain):  # netmiko calls it a refused login
        return _Failure(AccessStatus.TIMEOUT, f"{target.host}:{target.port} did not answer the login within "
                                              f"{target.conn_timeout_s:g}s (device or AAA server slow: "
                                              "see --login-limit)")
    if isinstance(exc, NetmikoAuthenticationException):
        return _Failure(AccessStatus.AUTH_FAILED, f"login refused for user {target.username!r} "
                                                  "(wrong password or user, or refused by the AAA server)")
    if isinstance(exc, ParseError):
        return _Failure(AccessStatus.PARSE_ERROR, _first_line(exc, target))
    if isinstance(exc, TextFSMError):  # its text quotes the device's line, which may hold a secret
        rule = re.search(r"Rule Line: \d+", str(exc))
        return _Failure(AccessStatus.PARSE_ERROR, "the answer does not read as the table its template expects"
                                                  + (f" (template {rule.group(0).lower()})" if rule else ""))
    if isinstance(exc, ReadTimeout) and connecting:
        return _Failure(AccessStatus.TIMEOUT, f"{target.host}:{target.port} accepted the login but showed no "
                                              f"{target.platform} prompt within {timeout_s:g}s: "
                                              "silent, or a prompt of another kind")
    if isinstance(exc, ReadTimeout):
        return _Failure(AccessStatus.TIMEOUT, f"no answer within the read timeout of {target.read_timeout_s:g}s")
    if isinstance(exc, ReadException) and _CLOSED in str(exc):
        return _Failure(AccessStatus.UNREACHABLE, f"{target.host}:{target.port} closed the session before the "
                                                  "answer was complete; nothing of it is used")
    if connecting:
        return _connect_failure(exc, chain, target, timeout_s)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return _Failure(AccessStatus.TIMEOUT, _first_line(exc, target))
    if isinstance(exc, (ConnectionError, SSHException, EOFError, OSError)):
        return _Failure(AccessStatus.UNREACHABLE, _first_line(exc, target))
    return _Failure(AccessStatus.ERROR, _first_line(exc, target))


def _connect_failure(exc, chain, target: DeviceTarget, timeout_s: float) -> _Failure:
    """netmiko turns every connect problem into NetmikoTimeoutException; its cause says which."""
    where = f"{target.host}:{target.port}"
    tried = _find(chain, NoValidConnectionsError)  # paramiko: one OSError per address tried
    chain = chain + (list(tried.errors.values()) if tried is not None else [])
    if _find(chain, ConnectionRefusedError):
        return _Failure(AccessStatus.UNREACHABLE, f"connection to {where} refused", retryable=True)
    if _find(chain, (ConnectionResetError, EOFError)):
        return _Failure(AccessStatus.UNREACHABLE, f"{where} closed the connection during the SSH handshake",
                        retryable=True)
    text = " ".join(str(e) for e in chain)
    if "DNS failure" in text or _find(chain, socket.gaierror):
        return _Failure(AccessStatus.UNREACHABLE, f"cannot resolve {target.host!r}")
    if "TCP connection" in text:
        if _find(chain, (socket.timeout, TimeoutError)):
            return _Failure(AccessStatus.UNREACHABLE, f"no answer from {where} within {timeout_s:g}s (TCP connect)")
        return _Failure(AccessStatus.UNREACHABLE, f"cannot connect to {where}", retryable=True)
    if "No existing session" in text or "protocol banner" in text or "timed out" in text.lower():
        return _Failure(AccessStatus.TIMEOUT, f"{where} accepted the connection but completed no SSH "
                                              f"handshake within {timeout_s:g}s")
    if isinstance(exc, (NetmikoTimeoutException, SSHException)):
        root = chain[-1]
        return _Failure(AccessStatus.ERROR, f"SSH negotiation with {where} failed: {_first_line(root, target)}")
    if isinstance(exc, OSError):
        return _Failure(AccessStatus.UNREACHABLE, f"cannot connect to {where}: {_first_line(exc, target)}",
                        retryable=True)
    return _Failure(AccessStatus.ERROR, _first_line(exc, target))


def _first_line(exc: BaseException, target: DeviceTarget) -> str:
    text = [line for line in escaped(str(exc)).strip().splitlines() if line.strip()]
    first = text[0] if text else type(exc).__name__
    return scrub(f"{type(exc).__name__}: {first}", target.secrets())


def _close_politely(connection) -> None:
    try:
        connection.disconnect()
    except Exception:  # noqa: BLE001
        _close_hard(connection)


def _close_hard(connection) -> None:
    """Drop the TCP/SSH transport without waiting for the device to answer."""
    for attr in ("remote_conn", "remote_conn_pre"):
        channel = getattr(connection, attr, None)
        if channel is not None:
            try:
                channel.close()
            except Exception:  # noqa: BLE001
                pass
