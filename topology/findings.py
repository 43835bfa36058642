"""Typed audit results: findings with a severity, naming the element and the sites hit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping

from netops.vocabulary import (
    AUDIT_ELEMENT_KINDS, MASS_OUTAGE_WEIGHT, PON_TREE_BY_DESIGN_MAX_HOMES, SERVICE_CLASS_SEVERITY,
    SINGLE_HOMED_BY_DESIGN, SITE_CRITICALITY_SEVERITY, Severity, audit_of_check,
)


@dataclass(frozen=True, slots=True)
class ElementRef:
    """One inventory element: ``kind`` is trench, node, cable, closure, device, link, site,
    splitter, or (PON audit) olt_port or residential_connection."""

    kind: str
    id: int | None
    code: str


@dataclass(frozen=True, slots=True)
class Finding:
    audit: str  # reachability, spof, shared_trench, single_homed, capacity, consistency
    severity: Severity
    layer: str  # physical, cable, logical, service (logical over its trenches), inventory
    title: str
    elements: tuple[ElementRef, ...]
    sites: tuple[str, ...] = ()  # codes of the sites affected
    weight: float = 0.0  # summed criticality weight of those sites and customers
    detail: str = ""
    # customers (``topology.customers``): companies by code, homes (connected units: what a
    # failure cuts off, or what stands behind the ONTs a PON finding concerns; a passed home has
    # no service to lose), the buildings they are in and the PONs (OLT ports) they hang on
    companies: tuple[str, ...] = ()
    residential_units: int = 0
    buildings: tuple[str, ...] = ()
    pons: int = 0
    figures: tuple[tuple[str, float], ...] = ()  # measured values, e.g. ("margin_db", -1.2)

    def order(self) -> tuple:
        """Sort key: severity, weight, then names (a total order on distinct findings)."""
        return (-self.severity.rank, -self.weight, self.audit, self.title, self.layer, self.sites,
                tuple((e.kind, e.code) for e in self.elements), self.detail, self.companies, self.buildings,
                self.residential_units)

    def as_dict(self) -> dict:
        """The finding as JSON and GeoJSON carry it, in the shared vocabulary: ``audit`` is the
        audit (sub-command) that reports it, ``check`` the test within it (``shared_trench``
        in ``shared_risk``), element kinds as the inventory names them (``segment``)."""
        data = asdict(self)
        data["audit"] = audit_of_check(self.audit)
        data["check"] = self.audit
        data["severity"] = self.severity.value
        data["figures"] = dict(self.figures)
        for element in data["elements"]:
            element["kind"] = AUDIT_ELEMENT_KINDS.get(element["kind"], element["kind"])
        return data


@dataclass(frozen=True, slots=True)
class AuditReport:
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(f.severity == s for f in self.findings) for s in Severity}

    def fails(self, threshold: Severity | None) -> bool:
        """Whether any finding is at or above ``threshold`` (the ``--fail-on`` gate)."""
        return threshold is not None and any(f.severity.rank >= threshold.rank for f in self.findings)

    def at_least(self, threshold: Severity) -> "AuditReport":
        return AuditReport(tuple(f for f in self.findings if f.severity.rank >= threshold.rank))

    def sorted(self) -> list[Finding]:
        """Worst first; ties broken by names only, never by database row order, so SQLite
        and PostgreSQL give the same list."""
        return sorted(self.findings, key=Finding.order)


def homes_concentrated(homes: int, pons: int) -> bool:
    """Whether homes cut off go beyond the PON tree by design: more than
    ``PON_TREE_BY_DESIGN_MAX_HOMES`` of several PONs on one element."""
    return homes > PON_TREE_BY_DESIGN_MAX_HOMES and pons > 1


def impact_severity(site_criticalities: Iterable[str], service_classes: Iterable[str], homes: int = 0,
                    pons: int = 0, weight: float = 0.0, critical_weight: float = MASS_OUTAGE_WEIGHT) -> Severity:
    """The severity of what one failure cuts off: the one rule of spof, shared-risk, rank, cut
    and the report (README "Severity"). Critical: a mass outage (``weight`` at least
    ``critical_weight``), or a site or company that cannot wait (a critical site, a gold-SLA
    line). Otherwise the worst site (by its criticality) or company (by its service class),
    and a warning for homes concentrated beyond the PON tree by design; the homes of a PON
    tree, hotspots and best-effort lines are information."""
    if weight >= critical_weight:
        return Severity.CRITICAL
    worst = Severity.WARNING if homes_concentrated(homes, pons) else Severity.INFO
    for severity in [*(SITE_CRITICALITY_SEVERITY[c] for c in site_criticalities),
                     *(SERVICE_CLASS_SEVERITY.get(c, Severity.WARNING) for c in service_classes)]:
        if severity.rank > worst.rank:
            worst = severity
            if worst is Severity.CRITICAL:
                break
    return worst


def concerns_only_by_design(finding: Finding, kind_of: Mapping[str, str]) -> bool:
    """Whether a finding is information that concerns only what is single-homed on purpose:
    hotspots and small cells on one spur, and (a single point of failure) homes on the PON
    tree: those of one PON, or of several PONs' feeder up to ``PON_TREE_BY_DESIGN_MAX_HOMES``.
    No company, no other site, and not a mass outage (that is critical). ``kind_of``: site
    code -> kind. The CLI hides these unless ``--all``, the report's map draws them neutral."""
    homes = finding.residential_units if finding.audit == "spof" else 0
    if finding.severity is not Severity.INFO or finding.companies or homes_concentrated(homes, finding.pons) \
            or not (finding.sites or homes):
        return False
    return all(kind_of.get(code) in SINGLE_HOMED_BY_DESIGN for code in finding.sites)
