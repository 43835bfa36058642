"""Which devices a run talks to, and how to reach them.

Devices come from the inventory (filtered by site, site kind, district, role, name);
``Device.platform`` is the netmiko device type, ``Device.ssh_profile`` names an
:class:`~inventory.models.SshProfile` (user, port, timeouts) whose password comes from
the secret store (section ``ssh``, key ``password``; optional ``enable_secret``).

An *address map* replaces the inventory's management address for some devices
(``{"sw-1": "127.0.0.1:2201"}``): port forwards, jump hosts, and the lab/test fleets,
which never reach a real management address.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from inventory.models import Device, Site, SshProfile, Status
from netops.access import AccessStatus, DeviceResult, DeviceTarget
from netops.errors import InputError, NotFoundError, RowProblem
from netops.secrets import SecretStore
from netops.settings import tcp_port
from netops.textfile import read_json, read_text
from configs.platforms import PLATFORMS


@dataclass(frozen=True)
class DeviceFilter:
    sites: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    status: Status = Status.ACTIVE


@dataclass(frozen=True)
class InventoryDevice:
    """A detached snapshot of a device and its site (safe to hand to worker threads)."""

    id: int
    name: str
    platform: str
    role: str
    site_code: str
    site_kind: str
    district: str | None
    mgmt_ip: str | None
    ssh_profile: str | None
    status: str


class UnknownSelector(NotFoundError):
    """A --device, --site or --district names nothing in the inventory (exit 2)."""


def check_selectors(session: Session, flt: DeviceFilter) -> None:
    """Every name a filter gives must exist in the inventory (in any status): a typo must
    not select nothing and pass as a clean run. The message suggests the closest names."""
    problems = []
    for option, wanted, column in (("--device", flt.names, Device.name), ("--site", flt.sites, Site.code),
                                   ("--district", flt.districts, Site.district)):
        if not wanted:
            continue
        known = {v for v in session.exec(select(column).distinct()).all() if v}
        problems += [f"{option} {name!r}: no such {option[2:]} in the inventory{_suggestion(name, known)}"
                     for name in wanted if name not in known]
    if problems:
        raise UnknownSelector("; ".join(problems))


def _suggestion(name: str, known: set[str]) -> str:
    by_folded = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(by_folded[c]) for c in close)}?)" if close else ""


def select_devices(session: Session, flt: DeviceFilter = DeviceFilter()) -> list[InventoryDevice]:
    """Devices the filter selects; unknown names are an error (:func:`check_selectors`)."""
    check_selectors(session, flt)
    query = select(Device, Site).join(Site, Site.id == Device.site_id).where(Device.status == flt.status)
    if flt.sites:
        query = query.where(Site.code.in_(flt.sites))
    if flt.kinds:
        query = query.where(Site.kind.in_(flt.kinds))
    if flt.districts:
        query = query.where(Site.district.in_(flt.districts))
    if flt.roles:
        query = query.where(Device.role.in_(flt.roles))
    if flt.names:
        query = query.where(Device.name.in_(flt.names))
    return [
        InventoryDevice(d.id, d.name, d.platform, str(d.role), s.code, str(s.kind), s.district,
                        d.mgmt_ip, d.ssh_profile, str(d.status))
        for d, s in session.exec(query.order_by(Device.name)).all()
    ]


@dataclass
class Targets:
    """Devices ready to connect to, and the ones that cannot even be tried (with why)."""

    ready: list[DeviceTarget] = field(default_factory=list)
    unusable: list[DeviceResult] = field(default_factory=list)
    devices: dict[str, InventoryDevice] = field(default_factory=dict)


def build_targets(
    session: Session,
    devices: list[InventoryDevice],
    secrets: SecretStore,
    address_map: dict[str, tuple[str, int]] | None = None,
    known_hosts: Path | None = None,
) -> Targets:
    """Targets for ``devices``; with ``known_hosts`` (OpenSSH format) host keys are checked
    strictly, without it any key is accepted (netmiko's default, fine for labs only)."""
    profiles = {p.name: p for p in session.exec(select(SshProfile)).all()}
    address_map = address_map or {}
    out = Targets(devices={d.name: d for d in devices})
    for device in devices:
        problem = None
        profile = profiles.get(device.ssh_profile or "")
        if device.platform not in PLATFORMS:
            problem = f"platform {device.platform!r} is not supported (supported: {', '.join(sorted(PLATFORMS))})"
        elif profile is None:
            problem = f"ssh_profile {device.ssh_profile!r} does not exist"
        elif device.name not in address_map and not device.mgmt_ip:
            problem = "no management address"
        if problem:
            out.unusable.append(DeviceResult(device.name, AccessStatus.ERROR, error=problem, attempts=0))
            continue
        host, port = address_map.get(device.name, (device.mgmt_ip, profile.port))
        out.ready.append(
            DeviceTarget(
                name=device.name,
                platform=device.platform,
                host=host,
                port=port,
                username=profile.username,
                password=secrets.require("ssh", profile.name, "password"),
                enable_secret=secrets.get("ssh", profile.name, "enable_secret"),
                conn_timeout_s=profile.conn_timeout_s,
                read_timeout_s=profile.read_timeout_s,
                known_hosts=str(known_hosts) if known_hosts else None,
            )
        )
    return out


def check_known_hosts(path: Path) -> None:
    """Refuse a known_hosts file paramiko cannot use, before any device is contacted: not
    UTF-8 text, or an entry that is no ``HOSTS KEYTYPE BASE64-KEY`` (paramiko skips such a
    line silently, and the device it was for is then refused as unknown). Markers
    (``@cert-authority``, ``@revoked``) and key types paramiko does not know are left to it."""
    from paramiko.hostkeys import HostKeyEntry, InvalidHostKey
    from paramiko.ssh_exception import SSHException

    problems = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", "@")):
            continue
        try:
            usable = len(line.split()) >= 3 and (HostKeyEntry.from_line(line, number) or True)
        except (InvalidHostKey, SSHException, ValueError, TypeError):
            usable = False
        if not usable:
            problems.append(RowProblem(str(path), number, "(entry)", line,
                                       "not a known_hosts entry (HOSTS KEYTYPE BASE64-KEY)"))
    if problems:
        raise InputError(problems)


def load_address_map(path: Path) -> dict[str, tuple[str, int]]:
    """A JSON object ``{"device": "host:port"}``; every bad entry is reported."""
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise InputError([RowProblem(str(path), 1, "-", "-", "expected a JSON object {device: 'host:port'}")])
    mapping, problems = {}, []
    for row, (name, value) in enumerate(raw.items(), start=1):
        host, _, text = str(value).rpartition(":")
        port = tcp_port(text)
        if not host or port is None or port == 0:  # 0 is no port a connection can go to
            problems.append(RowProblem(str(path), row, name, str(value), "expected host:port (a port 1-65535)"))
            continue
        mapping[name] = (host.strip("[]"), port)
    if problems:
        raise InputError(problems)
    return mapping
