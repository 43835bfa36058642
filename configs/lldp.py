"""`netops lldp verify`: is the network cabled the way the inventory says?

Neighbours are read over SSH and parsed with the ntc-templates TextFSM templates
(``use_textfsm``), LLDP and, where the platform has it, CDP. They are compared with the
inventory's documented links, seen from each polled device:

* **missing**: a documented link whose far end is not seen at all;
* **mispatched**: the right two devices, but on other ports (either end);
* **unexpected**: a neighbour no documented link explains (a rogue switch, a patch
  cable moved to the wrong device), whatever its name: a neighbour that sends no
  system name is reported as "unnamed", with its chassis id and port id.

Interface names are compared in their canonical long form (netutils), so ``Gi1/0/1``
equals ``GigabitEthernet1/0/1``; neighbour names are compared without a domain suffix.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import StrEnum

from netutils.interface import canonical_interface_name
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from configs.platforms import platform_of
from configs.scrub import scrub_config
from configs.state import Workspace
from configs.targets import Targets
from inventory.models import Device, Interface, Link, Status
from netops.access import AccessStatus, DeviceResult, DeviceSession, ParseError, SessionPool, escaped
from topology.findings import Severity


class MismatchKind(StrEnum):
    MISSING = "missing"
    MISPATCHED = "mispatched"
    UNEXPECTED = "unexpected"

    @property
    def severity(self) -> Severity:
        """On the audits' scale: a documented link that is not there may be a site on one
        leg (or none); a wrong port or an undocumented neighbour is wrong documentation
        or a stray cable until someone looks."""
        return Severity.CRITICAL if self is MismatchKind.MISSING else Severity.WARNING


@dataclass(frozen=True)
class Neighbour:
    local_interface: str
    remote_device: str
    remote_interface: str
    protocols: tuple[str, ...]
    chassis_id: str = ""  # kept for neighbours without a system name: all that names them

    def describe(self) -> str:
        if self.remote_device:
            return f"{self.remote_device} {self.remote_interface}"
        chassis = f"chassis id {self.chassis_id}, " if self.chassis_id else ""
        return f"unnamed ({chassis}port id {self.remote_interface or '?'})"


@dataclass(frozen=True)
class DocumentedLink:
    code: str
    local_interface: str
    remote_device: str
    remote_interface: str


@dataclass(frozen=True)
class LldpFinding:
    device: str
    kind: MismatchKind
    local_interface: str
    expected: str | None  # "device port" the inventory documents
    observed: str | None  # "device port" the device reports
    link: str | None = None

    def as_dict(self) -> dict:
        return {"device": self.device, "kind": str(self.kind), "severity": str(self.kind.severity),
                "local_interface": self.local_interface,
                "expected": self.expected, "observed": self.observed, "link": self.link}


@dataclass(frozen=True)
class DeviceLldp:
    device: str
    status: AccessStatus
    neighbours: int = 0
    findings: tuple[LldpFinding, ...] = ()
    error: str | None = None


@dataclass
class LldpReport:
    devices: list[DeviceLldp] = field(default_factory=list)

    @property
    def findings(self) -> list[LldpFinding]:
        return [f for d in self.devices for f in d.findings]

    @property
    def failed_devices(self) -> list[DeviceLldp]:
        return [d for d in self.devices if d.status != AccessStatus.OK]

    def counts(self) -> dict[str, int]:
        counts = {str(k): 0 for k in MismatchKind}
        for f in self.findings:
            counts[str(f.kind)] += 1
        return counts

    def as_dict(self) -> dict:
        return {
            "mismatches": self.counts(),
            "findings": [f.as_dict() for f in self.findings],
            "devices": [{"device": d.device, "status": str(d.status), "neighbours": d.neighbours,
                         "error": d.error} for d in self.devices],
        }


def _port(name: str) -> str:
    return canonical_interface_name(name.strip())


def _same_device(reported: str, documented: str) -> bool:
    reported, documented = reported.strip().lower(), documented.lower()
    return reported == documented or reported.startswith(documented + ".")


def collect_neighbours(session: DeviceSession) -> list[Neighbour]:
    """Pool task: LLDP (and CDP) neighbours, merged, with canonical port names."""
    merged: dict[tuple[str, str, str, str], set[str]] = {}
    for spec in platform_of(session.target.platform).neighbour_commands:
        parsed = session.show(spec.command, textfsm=True)
        if isinstance(parsed, str):
            if not parsed.strip() or "not enabled" in parsed.lower() or _NO_ENTRIES.match(parsed):
                continue  # protocol switched off, or on with no neighbours
            # quoted in output and logs: scrubbed like a config (the answer may be one)
            said = scrub_config(parsed.strip().splitlines()[0], session.target.secrets(),
                                platform=session.target.platform).text.strip()[:60]
            raise ParseError(f"{spec.command!r}: not a neighbour table: {said!r}")
        for row in parsed:
            # a byte that is not UTF-8 (a Latin-1 system name) is shown as \xNN, never dropped
            local, port = escaped(row.get("local_interface") or ""), escaped(row.get(spec.port_field) or "")
            name = escaped(row.get("neighbor_name") or "").strip()
            if not (local and (port or not name)):
                continue
            # a neighbour without a system name (a phone, a host, a switch that does not
            # say) keeps "" as its name and its chassis id: it explains no link
            key = (_port(local), name.split(".")[0] if _looks_fqdn(name) else name,
                   _port(port) if name else port.strip(), "" if name else escaped(row.get("chassis_id") or "").strip())
            merged.setdefault(key, set()).add(spec.protocol)
    return [Neighbour(l, n, p, tuple(sorted(protos)), c) for (l, n, p, c), protos in sorted(merged.items())]


# the whole answer of IOS when the protocol runs but sees nobody (the template makes no row)
_NO_ENTRIES = re.compile(r"\s*Total (cdp )?entries displayed\s*:\s*0\s*$", re.IGNORECASE)


def _looks_fqdn(name: str) -> bool:
    return name.count(".") >= 2  # "sw1.gelsen.net"; a dotted device code keeps its dots


def documented_links(session: Session, device_names: list[str]) -> dict[str, list[DocumentedLink]]:
    """Active links of each device, from that device's side."""
    a_if, b_if = aliased(Interface), aliased(Interface)
    a_dev, b_dev = aliased(Device), aliased(Device)
    query = (
        select(Link.code, a_dev.name, a_if.name, b_dev.name, b_if.name)
        .join(a_if, a_if.id == Link.a_interface_id).join(a_dev, a_dev.id == a_if.device_id)
        .join(b_if, b_if.id == Link.b_interface_id).join(b_dev, b_dev.id == b_if.device_id)
        .where(Link.status == Status.ACTIVE)
    )
    wanted = set(device_names)
    links: dict[str, list[DocumentedLink]] = {name: [] for name in device_names}
    for code, a_name, a_port, b_name, b_port in session.exec(query).all():
        if a_name in wanted:
            links[a_name].append(DocumentedLink(code, _port(a_port), b_name, _port(b_port)))
        if b_name in wanted:
            links[b_name].append(DocumentedLink(code, _port(b_port), a_name, _port(a_port)))
    return links


def compare(device: str, documented: list[DocumentedLink], observed: list[Neighbour]) -> list[LldpFinding]:
    """Neighbours without a system name explain no link: on a documented port whose far
    end is missing they are named as what is seen there, anywhere else they are unexpected."""
    nameless = [n for n in observed if not n.remote_device]
    unexplained = [n for n in observed if n.remote_device]
    findings: list[LldpFinding] = []
    for link in documented:
        expected = f"{link.remote_device} {link.remote_interface}"
        exact = [n for n in unexplained if n.local_interface == link.local_interface
                 and _same_device(n.remote_device, link.remote_device)
                 and n.remote_interface == link.remote_interface]
        if exact:
            unexplained = [n for n in unexplained if n not in exact]
            continue
        # the right device, but on another port at either end
        elsewhere = [n for n in unexplained if _same_device(n.remote_device, link.remote_device)]
        if elsewhere:
            n = elsewhere[0]
            unexplained.remove(n)
            findings.append(LldpFinding(device, MismatchKind.MISPATCHED, link.local_interface, expected,
                                        f"{n.describe()} on {n.local_interface}", link.code))
        else:
            seen = [n for n in nameless if n.local_interface == link.local_interface]
            nameless = [n for n in nameless if n not in seen]
            findings.append(LldpFinding(device, MismatchKind.MISSING, link.local_interface, expected,
                                        "; ".join(n.describe() for n in seen) or None, link.code))
    for n in sorted(unexplained + nameless, key=lambda n: (n.local_interface, n.remote_device)):
        findings.append(LldpFinding(device, MismatchKind.UNEXPECTED, n.local_interface, None, n.describe()))
    return findings


def verify(
    links: dict[str, list[DocumentedLink]], targets: Targets, pool: SessionPool, on_result=None
) -> LldpReport:
    """Poll every target's neighbours and compare them with ``links`` (``documented_links``)."""
    usable = [t for t in targets.ready if platform_of(t.platform).neighbour_commands]
    # a device netops cannot ask for neighbours is not verified: said, never left out
    unverified = [DeviceResult(t.name, AccessStatus.ERROR, attempts=0,
                               error=f"no LLDP/CDP command known for platform {t.platform!r}: not verified")
                  for t in targets.ready if t not in usable]
    report = LldpReport()
    results = pool.run(usable, collect_neighbours, on_result) + list(targets.unusable) + unverified
    for result in sorted(results, key=lambda r: r.device):
        if not result.ok:
            report.devices.append(DeviceLldp(result.device, result.status, error=result.error))
            continue
        findings = compare(result.device, links.get(result.device, []), result.value)
        report.devices.append(DeviceLldp(result.device, AccessStatus.OK, len(result.value), tuple(findings)))
    return report


def record_lldp(workspace: Workspace, report: LldpReport) -> None:
    with workspace.update_state() as state:
        state["lldp"] = {
            "mismatches": report.counts(),
            "devices": len(report.devices),
            "failed_devices": len(report.failed_devices),
            "last_run": time.time(),
        }
