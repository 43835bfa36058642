"""Remediation as a dry run: the config lines that would fix each device's violations,
from the rules' ``fix`` data. netops prints them for an engineer to review and apply;
it never sends configuration to a device.

Violations without a ``fix`` (values only the operator knows: NTP servers, secrets,
which community to remove) are listed as manual. In a fix line, ``{vlans}`` stands for
the access VLANs a ``covers_access_vlans`` check found uncovered (the line is left out
when there are none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from configs.audit import AuditReport
from configs.rules import Rule
from netops.access import escaped


@dataclass
class DevicePlan:
    device: str
    lines: list[str] = field(default_factory=list)
    fixed_rules: list[str] = field(default_factory=list)
    manual_rules: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"device": self.device, "lines": self.lines, "fixed_rules": self.fixed_rules,
                "manual_rules": self.manual_rules}


def plan(report: AuditReport, rules: list[Rule]) -> list[DevicePlan]:
    """Per device: global fix lines first, then each failing block once with the fix
    lines of every rule that failed in it (in rule order)."""
    fixes = {r.id: r for r in rules}
    plans = []
    for device in report.devices:
        if not device.failures:
            continue
        out = DevicePlan(device.device)
        blocks: dict[str, list[str]] = {}
        for result in device.failures:
            rule = fixes.get(result.rule_id)
            if rule is None or not rule.fix or (rule.check.blocks and not result.failing_blocks):
                out.manual_rules.append(result.rule_id)
                continue
            out.fixed_rules.append(result.rule_id)
            lines = _fill_vlans(rule.fix, result.uncovered_vlans)
            if rule.check.blocks:
                for header in result.failing_blocks:
                    blocks.setdefault(header, []).extend(f" {line}" for line in lines)
            else:
                out.lines += lines
        for header, lines in blocks.items():
            out.lines += [escaped(header), *lines]  # a header's byte that is not UTF-8 as \xNN
        plans.append(out)
    return plans


def _fill_vlans(lines: list[str], vlans: tuple[int, ...]) -> list[str]:
    text = ",".join(map(str, vlans))
    return [line.replace("{vlans}", text) for line in lines if text or "{vlans}" not in line]
