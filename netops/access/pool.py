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
* **Retries with backoff** only where a retry can help: a refused or timed-out
  connection. An authentication failure is not retried (it would lock the account),
  and neither is a device that stopped answering after login.
* **Sessions are always closed.** A healthy session is closed politely
  (``disconnect``); a session that timed out is closed hard, because netmiko's polite
  close waits for the very device that stopped answering.
* **Read-only.** Tasks get a :class:`DeviceSession` whose only verb is ``show``: it
  refuses anything that is not a show/display command.

Secrets: the password is a :class:`~netops.secrets.Secret` until the moment netmiko
needs it; every error message is scrubbed of it before it reaches a result or a log.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Generic, Iterable, TypeVar

from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)
from paramiko.ssh_exception import BadHostKeyException, SSHException

from netops.secrets import Secret, scrub

log = logging.getLogger(__name__)

# netmiko logs everything it reads from the channel at DEBUG, running configs (and so
# their secrets) included; cap it so a user's `--debug` never writes secrets to a log.
for _noisy in ("netmiko", "paramiko"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

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


class DeviceSession:
    """What a task may do with a device: run show commands."""

    def __init__(self, connection, target: DeviceTarget):
        self._connection = connection
        self.target = target

    def show(self, command: str, *, textfsm: bool = False) -> Any:
        if not _READ_ONLY.match(command):
            raise ReadOnlyViolation(f"refusing non-show command {command!r} on {self.target.name}")
        return self._connection.send_command(
            command, read_timeout=self.target.read_timeout_s, use_textfsm=textfsm
        )


Task = Callable[[DeviceSession], T]


class _ConnectFailed(Exception):
    def __init__(self, status: AccessStatus, message: str):
        super().__init__(message)
        self.status = status


class SessionPool:
    """Run one task per device over SSH with bounded concurrency; see the module doc."""

    def __init__(
        self,
        workers: int = 8,
        login_limit: int = 4,
        retry: RetryPolicy = RetryPolicy(),
        connect: Callable[..., Any] = ConnectHandler,
    ):
        if workers < 1 or login_limit < 1:
            raise ValueError("workers and login_limit must be at least 1")
        self.workers = workers
        self.login_limit = min(login_limit, workers)
        self.retry = retry
        self._connect = connect
        self._logins = threading.BoundedSemaphore(self.login_limit)

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
                retryable = exc.status in (AccessStatus.UNREACHABLE, AccessStatus.TIMEOUT)
                if retryable and attempts <= self.retry.retries:
                    delay = self.retry.delay(attempts)
                    log.info("%s: %s, retry %d in %.1fs", target.name, exc.status, attempts, delay)
                    time.sleep(delay)
                    continue
                return self._failed(target, exc.status, exc, attempts, started)
        healthy = False
        try:
            value = task(DeviceSession(connection, target))
            healthy = True
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed result
            return self._failed(target, _status_of(exc), exc, attempts, started)
        finally:
            (_close_politely if healthy else _close_hard)(connection)
        return DeviceResult(target.name, AccessStatus.OK, value, None, attempts, time.monotonic() - started)

    def _open(self, target: DeviceTarget):
        with self._logins:
            try:
                connection = self._connect(
                    device_type=target.platform,
                    host=target.host,
                    port=target.port,
                    username=target.username,
                    password=target.password.reveal(),
                    secret=(target.enable_secret or target.password).reveal(),
                    conn_timeout=target.conn_timeout_s,
                    auth_timeout=target.conn_timeout_s,
                    banner_timeout=target.conn_timeout_s,
                    ssh_strict=target.known_hosts is not None,
                    system_host_keys=False,
                    alt_host_keys=target.known_hosts is not None,
                    alt_key_file=target.known_hosts or "",
                )
            except Exception as exc:  # noqa: BLE001
                raise _ConnectFailed(_status_of(exc, connecting=True), _message(exc, target)) from None
            try:
                if not connection.check_enable_mode():
                    connection.enable()
            except Exception as exc:  # noqa: BLE001
                # a platform without an enable mode raises a plain error: carry on unprivileged
                # (show commands that need it then fail as parse errors); a hang is a failure
                if _status_of(exc) != AccessStatus.ERROR:
                    _close_hard(connection)
                    raise _ConnectFailed(_status_of(exc), _message(exc, target)) from None
            return connection

    def _failed(self, target, status, exc, attempts, started) -> DeviceResult:
        message = str(exc) if isinstance(exc, _ConnectFailed) else _message(exc, target)
        log.warning("%s: %s: %s", target.name, status, message)
        return DeviceResult(target.name, status, None, message, attempts, time.monotonic() - started)


def _status_of(exc: BaseException, connecting: bool = False) -> AccessStatus:
    if isinstance(exc, NetmikoAuthenticationException):
        return AccessStatus.AUTH_FAILED
    if isinstance(exc, BadHostKeyException) or "known_hosts" in str(exc):
        return AccessStatus.HOST_KEY_REJECTED
    if isinstance(exc, ParseError):
        return AccessStatus.PARSE_ERROR
    if isinstance(exc, (ReadTimeout, socket.timeout, TimeoutError)):
        return AccessStatus.TIMEOUT
    if isinstance(exc, NetmikoTimeoutException):
        # netmiko says "TCP connection to device failed" when nothing accepted the
        # connection; any other connect timeout is a host that accepted and then hung
        if "TCP connection" in str(exc):
            return AccessStatus.UNREACHABLE
        return AccessStatus.TIMEOUT
    if isinstance(exc, (ConnectionError, SSHException, EOFError, OSError)):
        return AccessStatus.UNREACHABLE
    return AccessStatus.ERROR


def _message(exc: BaseException, target: DeviceTarget) -> str:
    text = str(exc).strip().splitlines()
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
