"""Remediation as a dry run: the config lines that would fix each device's violations,
from the rules' ``fix`` data. netops prints them for an engineer to review and apply;
it never sends configuration to a device.

Violations without a ``fix`` (values only the operator knows: NTP servers, secrets,
which community to remove) are listed as manual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from configs.audit import AuditReport
from configs.rules import Rule


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
    fixes = {r.id: r for r in rules}
    plans = []
    for device in report.devices:
        if not device.failures:
            continue
        out = DevicePlan(device.device)
        for result in device.failures:
            rule = fixes.get(result.rule_id)
            if rule is None or not rule.fix or (rule.check.blocks and not result.failing_blocks):
                out.manual_rules.append(result.rule_id)
                continue
            out.fixed_rules.append(result.rule_id)
            if rule.check.blocks:
                for header in result.failing_blocks:
                    out.lines += [header, *(f" {line}" for line in rule.fix)]
            else:
                out.lines += rule.fix
        plans.append(out)
    return plans
