"""Typed audit results: findings with a severity, naming the element and the sites hit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from typing import Mapping

from netops.vocabulary import (
    AUDIT_ELEMENT_KINDS, PON_TREE_BY_DESIGN_MAX_HOMES, SINGLE_HOMED_BY_DESIGN, Severity, audit_of_check,
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
    # customers (``topology.customers``): companies by code, homes (what a failure cuts off
    # counts connected units; a PON finding the units of the ONTs it concerns), the buildings
    # they are in and the PONs (OLT ports) they hang on
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


def concerns_only_by_design(finding: Finding, kind_of: Mapping[str, str]) -> bool:
    """Whether a finding concerns only what is single-homed on purpose: hotspots and small
    cells on one spur, and (a single point of failure) homes on the PON tree: those of one
    PON, or of several PONs' feeder up to ``PON_TREE_BY_DESIGN_MAX_HOMES``. No company, no
    other site. ``kind_of``: site code -> kind."""
    homes = finding.residential_units if finding.audit == "spof" else 0
    concentrated = homes > PON_TREE_BY_DESIGN_MAX_HOMES and finding.pons > 1
    if finding.companies or concentrated or not (finding.sites or homes):
        return False
    return all(kind_of.get(code) in SINGLE_HOMED_BY_DESIGN for code in finding.sites)
