"""`netops config audit`: check configurations against the compliance rules.

Three sources of configurations, one evaluation:

* live, over SSH (``fetch_config`` in the session pool; scrubbed in the worker),
* the last backup in the git store (no SSH at all),
* ``--intended``: the generated config of a planned device (``configs.intended``), so a
  new Kita's switch is compliant before it is even installed.

Results are NAPALM-like plain shapes: one :class:`DeviceAudit` per device with one
:class:`RuleResult` per rule that applies to it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache, partial

from configs.backup import fetch_config
from configs.platforms import PLATFORMS
from configs.rules import Check, Rule, Severity
from configs.scrub import Fingerprinter, banner_spans
from configs.state import Workspace
from configs.store import GitConfigStore, UnreadableBackup
from configs.targets import InventoryDevice, Targets
from netops.access import AccessStatus, SessionPool, escaped
from netops.errors import NotFoundError


class Compliance(StrEnum):
    COMPLIANT = "compliant"
    NONCOMPLIANT = "noncompliant"


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    title: str
    severity: Severity
    status: Compliance
    evidence: tuple[str, ...] = ()
    failing_blocks: tuple[str, ...] = ()  # headers of the blocks that failed a block check
    uncovered_vlans: tuple[int, ...] = ()  # access VLANs a covers_access_vlans check missed

    def as_dict(self) -> dict:
        return {"rule": self.rule_id, "title": self.title, "severity": str(self.severity),
                "status": str(self.status), "evidence": list(self.evidence)}


@dataclass(frozen=True)
class DeviceAudit:
    device: str
    platform: str
    role: str | None
    site_kind: str | None
    status: AccessStatus  # could we read its config at all
    results: tuple[RuleResult, ...] = ()
    error: str | None = None

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == Compliance.NONCOMPLIANT]

    def as_dict(self) -> dict:
        return {"device": self.device, "platform": self.platform, "role": self.role,
                "site_kind": self.site_kind, "status": str(self.status), "error": self.error,
                "results": [r.as_dict() for r in self.results]}


@dataclass
class AuditReport:
    devices: list[DeviceAudit] = field(default_factory=list)

    def rule_counts(self) -> dict[str, dict]:
        """Per rule: severity, how many devices comply and how many do not."""
        counts: dict[str, dict] = {}
        for device in self.devices:
            for r in device.results:
                entry = counts.setdefault(r.rule_id, {"severity": str(r.severity), "title": r.title,
                                                      "compliant": 0, "noncompliant": 0})
                entry[str(r.status)] += 1
        return dict(sorted(counts.items()))

    @property
    def failed_devices(self) -> list[DeviceAudit]:
        return [d for d in self.devices if d.status != AccessStatus.OK]

    def worst(self) -> Severity | None:
        found = [r.severity for d in self.devices for r in d.failures]
        return max(found, key=lambda s: s.rank) if found else None

    def fails_at(self, threshold: Severity) -> bool:
        worst = self.worst()
        return worst is not None and worst.rank >= threshold.rank

    def as_dict(self) -> dict:
        return {"rules": self.rule_counts(), "devices": [d.as_dict() for d in self.devices]}


# -- evaluation -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Block:
    header: str
    children: tuple[str, ...]


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _any(pattern: str, lines) -> bool:
    rx = _regex(pattern)
    return any(rx.search(line) for line in lines)


def _blocks(config: str) -> list[_Block]:
    """Top-level statements with their (stripped) indented child lines.

    Indentation is what IOS, ProCurve and Junos set format have in common; netutils'
    parsers were tried first but reject a one-line IOS banner (``banner motd ^C..^C``).
    A banner's text is prose, not config: only its ``banner`` line is kept (a banner
    quoting ``ip ssh version 2`` must not satisfy the rule asking for it)."""
    lines = config.splitlines()
    prose = {k for start, end, _ in banner_spans(lines) for k in range(start + 1, end + 1)}
    blocks: list[tuple[str, list[str]]] = []
    for n, line in enumerate(lines):
        if n in prose or not line.strip() or line.strip() == "!":
            continue
        if line[0].isspace() and blocks:
            blocks[-1][1].append(line.strip())
        else:
            blocks.append((line.strip(), []))
    return [_Block(header, tuple(children)) for header, children in blocks]


def _check_lines(check: Check, lines: list[str], where: str = "") -> list[str]:
    """What is wrong with ``lines`` under ``check`` (empty when compliant)."""
    prefix = f"{where}: " if where else ""
    problems = [f"{prefix}missing /{p}/" for p in check.require if not _any(p, lines)]
    for pattern in check.forbid:
        rx = _regex(pattern)
        problems += [f"{prefix}forbidden: {line}" for line in lines if rx.search(line)]
    if check.count is not None:
        found = sum(1 for line in lines if _regex(check.count).search(line))
        if found < check.min_count:
            problems.append(f"{prefix}{found} lines match /{check.count}/, need {check.min_count}")
    return problems


def evaluate(rule: Rule, blocks: list[_Block]) -> RuleResult:
    check = rule.check
    every_line = [b.header for b in blocks] + [c for b in blocks for c in b.children]
    if check.satisfied_by and all(_any(p, every_line) for p in check.satisfied_by):
        return RuleResult(rule.id, rule.title, rule.severity, Compliance.COMPLIANT)
    failing_blocks: tuple[str, ...] = ()
    if check.blocks is None:
        problems = _check_lines(check, every_line) if (check.require or check.forbid or check.count) else []
    else:
        header_rx = _regex(check.blocks)
        chosen = [
            b for b in blocks
            if header_rx.search(b.header)
            and all(_any(p, b.children) for p in check.where)
            and not any(_any(p, b.children) for p in check.unless)
        ]
        failing = [(b.header, _check_lines(check, list(b.children), b.header)) for b in chosen]
        failing = [(header, found) for header, found in failing if found]
        problems = [p for _, found in failing for p in found]
        if not chosen and check.if_no_blocks == "fail":
            problems.append(f"no block matches /{check.blocks}/")
        failing_blocks = tuple(header for header, _ in failing)
    uncovered: dict[int, str] = {}
    if check.covers_access_vlans:
        uncovered = _uncovered_access_vlans(check.covers_access_vlans, blocks, every_line)
        problems += [f"access VLAN {vlan} ({header}...) not in any /{check.covers_access_vlans}/"
                     for vlan, header in uncovered.items()]
    status = Compliance.NONCOMPLIANT if problems else Compliance.COMPLIANT
    # evidence quotes config lines: a byte that is not UTF-8 in them as \xNN, for tables and JSON
    return RuleResult(rule.id, rule.title, rule.severity, status, tuple(escaped(p) for p in problems),
                      failing_blocks, tuple(uncovered))


_ACCESS_VLAN = re.compile(r"^switchport access vlan (\d+)$")


def _uncovered_access_vlans(pattern: str, blocks: list[_Block], every_line: list[str]) -> dict[int, str]:
    """Access VLANs of ports in use (IOS syntax) that no line matching ``pattern`` lists,
    each with the first port using it."""
    in_use: dict[int, str] = {}
    for b in blocks:
        if b.header.startswith("interface ") and "switchport mode access" in b.children \
                and "shutdown" not in b.children:
            vlan = next((int(m.group(1)) for c in b.children if (m := _ACCESS_VLAN.match(c))), 1)
            in_use.setdefault(vlan, b.header)
    covered: set[int] = set()
    rx = _regex(pattern)
    for line in every_line:
        if m := rx.search(line):
            covered |= _vlan_list(m.group("vlans"))
    return {vlan: header for vlan, header in sorted(in_use.items()) if vlan not in covered}


def _vlan_list(text: str) -> set[int]:
    """``10,20-22 30`` -> {10, 20, 21, 22, 30}."""
    vlans: set[int] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            vlans |= set(range(int(low), int(high or low) + 1))
    return vlans


# -- can the rules read this config at all? ------------------------------------------------
_CURLY = re.compile(r"[{}]\s*$")
_HOSTNAME = {"ios": re.compile(r"^hostname \S"), "procurve": re.compile(r'^hostname "?\S')}
_JUNOS_SET = re.compile(r"^(set|deactivate|activate|delete) \S")
_CONTEXT = re.compile(r"^\{(master|backup|primary|secondary|linecard)[^}]*\}\s*$")  # Junos prints these


def unreadable(syntax: str | None, config: str) -> str | None:
    """Why the rules written for ``syntax`` cannot read ``config`` (None: they can).

    Rules mostly ask for lines; a ``forbid`` rule, or a block rule whose blocks are not
    there, passes on a config it cannot read. So a config in another syntax (Junos
    hierarchy instead of set lines, Junos on an IOS-labelled device), one without the
    statements every such config has, or one whose banner never closes (where does
    the config resume?) is not audited at all rather than reported compliant."""
    lines = config.splitlines()
    statements = [(n, line) for n, line in enumerate(lines, start=1)
                  if line.strip() and not line.lstrip().startswith(("!", "#", ";")) and not _CONTEXT.match(line)]
    if syntax == "junos-set":
        other = next(((n, line) for n, line in statements if not _JUNOS_SET.match(line)), None)
        if other is not None or not statements:
            where = f"line {other[0]}: {other[1].strip()[:60]!r}" if other else "no statements"
            return f"not Junos set format ({where})"
        return None
    if syntax in _HOSTNAME:
        prose = {k + 1 for start, end, _ in banner_spans(lines) for k in range(start, end + 1)}
        curly = next(((n, line) for n, line in statements
                      if not line[0].isspace() and n not in prose and _CURLY.search(line)), None)
        if curly is not None:
            return f"not {syntax} syntax (line {curly[0]}: {curly[1].strip()[:60]!r})"
        if not any(_HOSTNAME[syntax].match(line) for _, line in statements):
            return f"not a whole {syntax} config: no hostname line"
        unclosed = next((start for start, _, closed in banner_spans(lines) if not closed), None)
        if unclosed is not None:
            return f"the banner at line {unclosed + 1} never closes"
    return None


def audit_device_config(device: InventoryDevice, config: str, rules: list[Rule]) -> DeviceAudit:
    """A device's whole config as it read or was stored: a config the rules cannot read
    is a parse error, never a pass (:func:`unreadable`)."""
    if not any(r.applies_to(device.platform, device.role, device.site_kind) for r in rules):
        return DeviceAudit(device.name, device.platform, device.role, device.site_kind, AccessStatus.OK,
                           error=f"nothing checked: no compliance rule applies to platform {device.platform!r}, "
                                 f"role {device.role!r}")
    known = PLATFORMS.get(device.platform)
    problem = unreadable(known.syntax if known else None, config)
    if problem:
        return DeviceAudit(device.name, device.platform, device.role, device.site_kind, AccessStatus.PARSE_ERROR,
                           error=f"config not audited: {problem}")
    return audit_config(device.name, device.platform, device.role, device.site_kind, config, rules)


def audit_config(
    device: str, platform: str, role: str | None, site_kind: str | None, config: str, rules: list[Rule]
) -> DeviceAudit:
    """Every applicable rule against one (scrubbed) configuration or part of one."""
    applicable = [r for r in rules if r.applies_to(platform, role, site_kind)]
    blocks = _blocks(config) if applicable else []
    results = tuple(evaluate(rule, blocks) for rule in applicable)
    return DeviceAudit(device, platform, role, site_kind, AccessStatus.OK, results)


def record_audit(workspace: Workspace, report: AuditReport, intended: bool = False) -> None:
    """Per-rule counts for Prometheus (intended audits are kept apart from live ones)."""
    with workspace.update_state() as state:
        state["audit_intended" if intended else "audit"] = {
            "rules": report.rule_counts(),
            "devices": len(report.devices),
            "failed_devices": len(report.failed_devices),
            "last_run": time.time(),
        }


# -- sources ----------------------------------------------------------------------------
def audit_live(targets: Targets, pool: SessionPool, rules: list[Rule], on_result=None,
               fingerprint: Fingerprinter | None = None) -> AuditReport:
    """Fetch each device's config over SSH (scrubbed in the worker) and audit it. With the
    backups' ``fingerprint``, evidence shows the same secret markers as the store."""
    task = partial(fetch_config, fingerprint=fingerprint)
    results = pool.run(targets.ready, task, on_result) + list(targets.unusable)
    report = AuditReport()
    for result in sorted(results, key=lambda r: r.device):
        device = targets.devices[result.device]
        if result.ok:
            report.devices.append(audit_device_config(device, result.value, rules))
        else:
            report.devices.append(DeviceAudit(device.name, device.platform, device.role,
                                              device.site_kind, result.status, error=result.error))
    return report


def audit_store(devices: list[InventoryDevice], store: GitConfigStore, rules: list[Rule]) -> AuditReport:
    """Audit the last backup of each device (no SSH)."""
    report = AuditReport()
    for device in devices:
        try:
            config = store.read(device.name)
        except NotFoundError as exc:  # never backed up
            report.devices.append(_unaudited(device, AccessStatus.ERROR, str(exc)))
        except UnreadableBackup as exc:
            # a file is there but is no config (a FIFO, a directory, too large, no permission): not "no
            # backup", which would hide that it exists; like a config the rules cannot read, a parse error
            report.devices.append(_unaudited(device, AccessStatus.PARSE_ERROR, f"backup not audited: {exc}"))
        else:
            report.devices.append(audit_device_config(device, config, rules))
    return report


def _unaudited(device: InventoryDevice, status: AccessStatus, error: str) -> DeviceAudit:
    return DeviceAudit(device.name, device.platform, device.role, device.site_kind, status, error=error)
