"""Intended configurations for planned devices: a compliant day-one config generated
from the inventory (device, site, interfaces, planned links) and the city baseline.

Templates are Jinja2 files in ``configs/templates/<platform>.j2``, values in
``baseline.yaml`` next to them; ``netops config audit --intended`` renders them for
every planned device and audits the result with the same rules as running configs, so
a new Kita's switch is compliant before it is installed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import jinja2
import yaml
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from configs.audit import AuditReport, DeviceAudit, audit_config
from configs.rules import Rule
from configs.targets import DeviceFilter, InventoryDevice, select_devices
from inventory.models import Device, Interface, Link, Status
from netops.access import AccessStatus


@dataclass(frozen=True)
class Port:
    name: str
    peer: str | None  # "device port" at the far end of a (planned or active) link


def _templates() -> Path:
    return Path(str(resources.files("configs") / "templates"))


def load_baseline(path: Path | None = None) -> dict:
    return yaml.safe_load((path or _templates() / "baseline.yaml").read_text())


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_templates()),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )


def ports_of(session: Session, device_id: int) -> list[Port]:
    """The device's interfaces, each with its link peer (links of any status but decommissioned)."""
    mine, other = aliased(Interface), aliased(Interface)
    peer_dev = aliased(Device)
    peers: dict[int, str] = {}
    for a_is_mine in (True, False):
        near, far = (Link.a_interface_id, Link.b_interface_id) if a_is_mine else (Link.b_interface_id, Link.a_interface_id)
        query = (
            select(mine.id, peer_dev.name, other.name)
            .join(Link, near == mine.id).join(other, other.id == far).join(peer_dev, peer_dev.id == other.device_id)
            .where(mine.device_id == device_id, Link.status != Status.DECOMMISSIONED)
        )
        for iface_id, peer_name, peer_port in session.exec(query).all():
            peers[iface_id] = f"{peer_name} {peer_port}"
    interfaces = session.exec(select(Interface).where(Interface.device_id == device_id).order_by(Interface.name)).all()
    return [Port(i.name, peers.get(i.id)) for i in interfaces]


def render(device: InventoryDevice, ports: list[Port], baseline: dict) -> str:
    try:
        template = _environment().get_template(f"{device.platform}.j2")
    except jinja2.TemplateNotFound:
        raise LookupError(f"no intended-config template for platform {device.platform!r}") from None
    site = {"code": device.site_code, "kind": device.site_kind, "district": device.district}
    return template.render(device=device, site=site, ports=ports, baseline=baseline)


def audit_intended(session: Session, flt: DeviceFilter, rules: list[Rule], baseline: dict | None = None) -> AuditReport:
    """Render and audit the intended config of every planned device the filter selects."""
    baseline = baseline or load_baseline()
    planned = select_devices(session, replace(flt, status=Status.PLANNED))
    report = AuditReport()
    for device in planned:
        try:
            config = render(device, ports_of(session, device.id), baseline)
        except LookupError as exc:
            report.devices.append(DeviceAudit(device.name, device.platform, device.role, device.site_kind,
                                              AccessStatus.ERROR, error=str(exc)))
            continue
        report.devices.append(audit_config(device.name, device.platform, device.role, device.site_kind,
                                           config, rules))
    return report
