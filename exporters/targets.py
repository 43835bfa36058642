"""What a target is, for /sd and /snmp alike, and which targets the exporter may poll.

A target is ``HOST[:PORT]``: an IPv4 address, a bracketed IPv6 address (``[2001:db8::1]:161``;
a bare IPv6 address means port 161) or a DNS name. Parsing is strict, because a lenient
parser is how ``+161``, ``16_100`` or a full-width digit become a port, and a 300-character
label an uncaught ``UnicodeError``: every refusal is a :class:`TargetError` with its reason
(HTTP 400).

The policy binds targets and credentials to the inventory (:class:`TargetPolicy`):

- by default only the inventory's devices are polled (the active ones: exactly what /sd
  lists), named by management address or by device name (a name is polled at the device's
  management address, never at what DNS says); a device without a management address is
  a :class:`TargetUnaddressed` (HTTP 503: down, nothing can reach it);
- a stored profile's secrets go only to the devices bound to it (``Device.snmp_profile``;
  a device without one is bound to ``public_v2``, as /sd says); a profile without secrets
  (community ``public``) may go to any inventory device;
- ``allow_any_target`` (``--allow-any-target``, for labs) also polls addresses the inventory
  does not know, but only with a profile without secrets.

Everything else is a :class:`TargetRefused` with its reason (HTTP 403).
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass

from netops.errors import NetopsError
from netops.settings import tcp_port

DEFAULT_PORT = 161
#: the profile of a device that names none (built in: community ``public``, no secret)
DEFAULT_AUTH = "public_v2"
#: one label of a host name after IDNA encoding: letters, digits, inner hyphens, and the
#: underscore device names may hold
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", re.ASCII)
_MAX_NAME = 253  # RFC 1035: 255 octets on the wire, 253 characters written


class TargetError(NetopsError):
    """A target that is not ``HOST[:PORT]`` (HTTP 400)."""


class TargetRefused(NetopsError):
    """A well-formed target the policy does not allow (HTTP 403)."""


class TargetNotPolled(NetopsError):
    """An inventory device bound to an auth profile the exporter does not hold (its secrets
    are missing: /sd labels it ``snmp_credentials="missing"``): not polled, its state unknown
    (HTTP 503, ``target not polled``)."""

    reason = "no_credentials"


class TargetUnaddressed(NetopsError):
    """An inventory device without a management address: down, nothing can poll it (HTTP 503)."""

    reason = "no_management_address"


@dataclass(frozen=True)
class Target:
    host: str  # canonical: compressed IP address or lower-case ASCII (IDNA) name
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return format_target(self.host, self.port)


def format_target(host: str, port: int | None = None) -> str:
    """``host[:port]`` with IPv6 addresses in brackets: what /sd emits and /snmp takes. A
    device name holding ``:`` (one without a management address) stays bare, ``NAME:PORT``,
    which /snmp reads back (``[NAME]:PORT`` it read as a malformed IPv6 address: 400)."""
    shown = f"[{host}]" if ":" in host and _ip(host) is not None else host
    return f"{shown}:{port}" if port else shown


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_target(text: str) -> Target:
    """``HOST[:PORT]`` -> :class:`Target`, or TargetError naming what is wrong."""
    if not text:
        raise TargetError("'target' parameter must be specified")
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or _ip(host) is None or _ip(host).version != 6:
            raise TargetError(f"target {_shown(text)}: expected [IPv6-ADDRESS] or [IPv6-ADDRESS]:PORT")
        if rest and not rest.startswith(":"):
            raise TargetError(f"target {_shown(text)}: expected ':PORT' after ']'")
        return Target(str(_ip(host)), _port(text, rest[1:]) if rest else DEFAULT_PORT)
    if text.count(":") > 1:  # a bare IPv6 address; with a port it needs brackets
        address = _ip(text)
        if address is None:
            raise TargetError(f"target {_shown(text)}: an IPv6 address with a port is written [ADDRESS]:PORT")
        return Target(str(address), DEFAULT_PORT)
    host, colon, port = text.partition(":")
    return Target(_host(text, host), _port(text, port) if colon else DEFAULT_PORT)


def _shown(text: str) -> str:
    """A target as error messages quote it: not all of a 300-character name."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _port(text: str, port: str) -> int:
    number = tcp_port(port)
    if not number:  # None, or 0: no port to send to
        raise TargetError(f"target {_shown(text)}: port {_shown(port)} is not a number from 1 to 65535")
    return number


def _host(text: str, host: str) -> str:
    address = _ip(host)
    if address is not None:
        return str(address)
    if not host:
        raise TargetError(f"target {_shown(text)}: no host")
    try:
        name = host.rstrip(".").encode("idna").decode("ascii").lower()
        name.encode("ascii").decode("idna")  # an "xn--" label must be valid Punycode
    except UnicodeError as exc:  # a label empty or over 63 characters, or not IDNA
        raise TargetError(f"target {_shown(text)}: not a valid host name ({exc})") from None
    labels = name.split(".")
    bad = next((label for label in labels if not _LABEL.fullmatch(label)), None)
    if bad is not None:
        raise TargetError(f"target {_shown(text)}: host name label {bad[:70]!r} is not letters, digits and inner hyphens"
                          " of 1 to 63 characters")
    if len(name) > _MAX_NAME:
        raise TargetError(f"target {_shown(text)}: host name longer than {_MAX_NAME} characters")
    if labels[-1].isdigit():  # `127.1`, `10.0.0.256`: not a name, and not an address either
        raise TargetError(f"target {_shown(text)}: not an IPv4 address and not a host name")
    return name


def _unaddressed(device: InventoryDevice) -> TargetUnaddressed:
    return TargetUnaddressed(f"device {device.name} has no management address in the inventory")


@dataclass(frozen=True)
class InventoryDevice:
    name: str
    address: str | None  # canonical management address; None when the inventory has none
    profile: str  # the auth profile it is bound to


class TargetPolicy:
    """Which (target, auth profile) pairs /snmp serves; see the module docstring.

    ``load`` returns the inventory's pollable devices (``exporters.sd.inventory_devices``),
    None without an inventory; it runs at most every ``ttl_s``
    seconds (and on :meth:`refresh`, called by /-/reload), so a scrape costs a dictionary
    look-up, not a database query.
    """

    def __init__(self, load=None, *, allow_any_target: bool = False, ttl_s: float = 60.0):
        self._load = load
        self.allow_any_target = allow_any_target
        self.ttl_s = ttl_s
        self._loaded_at = -ttl_s
        #: (by management address, by lower-case name), replaced as a whole by refresh()
        self._index: tuple[dict[str, InventoryDevice], dict[str, InventoryDevice]] = ({}, {})

    def refresh(self) -> None:
        """Read the inventory's devices anew; if that fails the last list stays, and the
        next attempt waits ``ttl_s`` (a database outage must not cost every scrape a try)."""
        self._loaded_at = time.monotonic()
        devices = self._load() if self._load is not None else []
        self._index = ({d.address: d for d in devices if d.address}, {d.name.lower(): d for d in devices})

    def stale(self) -> bool:
        return self._load is not None and time.monotonic() - self._loaded_at >= self.ttl_s

    def unaddressed_target(self, text: str) -> Target | None:
        """The target of a device without a management address that ``text``, no ``HOST[:PORT]``,
        names as /sd lists it (``NAME`` or ``NAME:PORT``: device names may hold ``/`` and ``:``),
        else None. Such a device is down, or not polled, as the same device under a host name
        is, not a malformed request; nothing is ever sent to it, so the port is left at 161."""
        name, colon, port = text.rpartition(":")
        for candidate in (text, name if colon and tcp_port(port) is not None else ""):
            device = self._index[1].get(candidate.lower()) if candidate else None
            if device is not None and device.address is None:
                return Target(device.name.lower())
        return None

    def device_of(self, target: Target) -> InventoryDevice | None:
        """The inventory device a target names (by management address or name), if any."""
        by_address, by_name = self._index
        return by_address.get(target.host) or by_name.get(target.host)

    def resolve(self, target: Target, auth: str, bears_secret: bool) -> Target:
        """The target to poll (a device name becomes its management address), or
        TargetRefused saying why not, or TargetUnaddressed."""
        device = self.device_of(target)
        if device is not None:
            if device.address is None:
                raise _unaddressed(device)
            if bears_secret and auth != device.profile:
                raise TargetRefused(f"auth profile {auth!r} is not the profile of device {device.name} "
                                    f"({device.profile!r}); its secrets go only to the devices bound to it")
            return Target(device.address, target.port)
        if not self.allow_any_target:
            where = "the inventory" if self._load is not None else "an inventory (the exporter runs without one)"
            raise TargetRefused(f"target {str(target)!r} is not a device in {where}; "
                                "start the exporter with --allow-any-target to poll other hosts (labs)")
        if bears_secret:
            raise TargetRefused(f"auth profile {auth!r} holds secrets and target {str(target)!r} is not an "
                                "inventory device bound to it; --allow-any-target allows only profiles "
                                "without secrets (public_v2)")
        return target

