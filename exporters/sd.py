"""Prometheus HTTP service discovery (http_sd) from the inventory.

One target per active device, labelled with its site, site kind, district and role, and
carrying ``__param_module``/``__param_auth`` so Prometheus' usual multi-target relabelling
(``__address__`` -> ``__param_target``) ports over from snmp_exporter. A device without a
management address is a target too, named by its device name: nothing can reach it, so
/snmp answers it 503 (reason ``no_management_address``) and it is down for every consumer
of ``up``, instead of missing from them all. ``shard``/``shards`` split the city between
several Prometheus servers by a stable hash of the device name (the same idea as
Prometheus' hashmod).
"""

from __future__ import annotations

import zlib
from collections.abc import Collection

from sqlalchemy.engine import Engine
from sqlmodel import select

from exporters.targets import DEFAULT_AUTH, InventoryDevice, format_target
from inventory.models.devices import Device, DeviceRole
from inventory.models.sites import Site
from inventory.models.common import Status
from netops.db import session_scope

#: what each role is polled for by default
MODULES_BY_ROLE = {
    DeviceRole.CORE_ROUTER: "system,interfaces,optics,lldp",
    DeviceRole.DISTRIBUTION_SWITCH: "system,interfaces,optics,lldp",
    DeviceRole.ACCESS_SWITCH: "system,interfaces,optics,lldp",
    DeviceRole.FIREWALL: "system,interfaces",
    DeviceRole.WIFI_AP: "system,interfaces,wifi",
    DeviceRole.WLC: "system,interfaces,wifi",
}


def shard_of(name: str, shards: int) -> int:
    return zlib.crc32(name.encode()) % shards


def monitored_devices(engine: Engine) -> list[tuple[Device, Site]]:
    """The devices that are targets: the active ones. /sd lists them and /snmp polls only
    them (unless --allow-any-target), so the two agree."""
    with session_scope(engine) as session:
        return session.exec(
            select(Device, Site).join(Site, Site.id == Device.site_id)
            .where(Device.status == Status.ACTIVE)
            .order_by(Device.name)
        ).all()


def inventory_devices(engine: Engine) -> list[InventoryDevice]:
    """The targets with the auth profile each is bound to (what ``__param_auth`` says); the
    address is None for a device the inventory has none for."""
    return [InventoryDevice(device.name, device.mgmt_ip, device.snmp_profile or DEFAULT_AUTH)
            for device, _site in monitored_devices(engine)]


def sd_groups(engine: Engine, shard: int = 0, shards: int = 1, port: int | None = None,
              loaded_profiles: Collection[str] | None = None) -> list[dict]:
    """``loaded_profiles``: the auth profiles the exporter holds. A device bound to another
    (its secrets missing: left out with a warning) cannot be polled; it is labelled
    ``snmp_credentials="missing"``, so the rules, the dashboard and the report say "not
    polled" for it instead of "down" (its /snmp answers 503 ``target not polled`` without
    asking it, and ``up`` is 0: without the label, a secret missed in a key rotation paged
    every PoP it covers as down)."""
    if shards < 1 or not 0 <= shard < shards:
        raise ValueError(f"shard {shard} of {shards}: need 0 <= shard < shards")
    groups = []
    for device, site in monitored_devices(engine):
        if shards > 1 and shard_of(device.name, shards) != shard:
            continue
        auth = device.snmp_profile or DEFAULT_AUTH
        labels = {
            "device": device.name,
            "site": site.code,
            "site_kind": str(site.kind),
            "district": site.district or "",
            "role": str(device.role),
            "platform": device.platform,
            "__param_module": MODULES_BY_ROLE.get(DeviceRole(device.role), "system,interfaces"),
            "__param_auth": auth,
        }
        if loaded_profiles is not None and auth not in loaded_profiles:
            labels["snmp_credentials"] = "missing"
        groups.append({"targets": [format_target(device.mgmt_ip or device.name, port)], "labels": labels})
    return groups
