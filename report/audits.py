"""What the report takes from the topology audits (package ``topology``).

The report does not audit anything itself: it runs ``topology``'s audits and path
diversity once and translates the answers into the report's shapes — findings, which
sites have trench-disjoint redundancy, the audit status of each trench segment, and for
the click panel each site's route to the core along its links.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from sqlmodel import Session

from netops.vocabulary import SINGLE_HOMED_BY_DESIGN  # one list for the map and `netops audit`
from report.model import TRENCH_STATUSES, FindingView
from topology.audits import path_diversity, run_audits, trench_cuts
from topology.findings import concerns_only_by_design
from topology.network import Network, audit_network

#: which findings colour a trench segment, and how
_TRENCH_STATUS_OF_AUDIT = {"spof": "spof", "shared_trench": "shared"}


@dataclass
class AuditView:
    findings: list[FindingView]
    redundant_sites: set[str]  # site codes with trench-disjoint redundancy
    paths_to_core: dict[str, list[list[str]]]  # site code -> routes, each a list of hop labels
    segment_status: dict[str, str]  # segment code -> spof|shared|full|spur (absent: ok)
    cable_status: dict[str, str]  # cable code -> spof|full|spur (absent: ok)
    segment_cuts: dict[str, int]  # segment code -> sites a cut of it takes down (absent: none)


def audit_view(session: Session) -> AuditView:
    net = audit_network(session)
    findings = run_audits(net).sorted()
    kind_of = {site.code: str(site.kind) for site in net.sites.values()}
    views = [_finding_view(f, kind_of) for f in findings]
    diversity = path_diversity(net)
    # a site is redundant when it has two link-disjoint paths and no single trench cut
    # takes it down (its paths do not share a trench)
    redundant = {d.site for d in diversity if d.logical_paths >= 2 and not d.trench_cuts}
    status = _status_of(views, findings, "trench")
    # service view: a trench whose cut takes a site down is that site's single point of
    # failure, or, if the site has two link-disjoint paths, the trench they share
    multi_path = {d.site for d in diversity if d.logical_paths >= 2}
    cuts = {}
    for trench, site_ids in trench_cuts(net).items():
        sites = {net.sites[s].code for s in site_ids}
        cuts[net.segments[trench].code] = len(sites)
        if sites <= multi_path:
            new = "shared"
        else:
            new = "spur" if _by_design(sites, kind_of) else "spof"
        _worsen(status, net.segments[trench].code, new)
    return AuditView(
        findings=views,
        redundant_sites=redundant,
        paths_to_core=_paths_to_core(net),
        segment_status=status,
        cable_status=_status_of(views, findings, "cable"),
        segment_cuts=cuts,
    )


def _by_design(site_codes, kind_of: dict[str, str]) -> bool:
    return bool(site_codes) and all(kind_of.get(code) in SINGLE_HOMED_BY_DESIGN for code in site_codes)


def _finding_view(finding, kind_of: dict[str, str]) -> FindingView:
    message = f"{finding.title}: {', '.join(e.code for e in finding.elements[:6])}"
    if len(finding.elements) > 6:
        message += f" and {len(finding.elements) - 6} more"
    if finding.detail:
        message += f" ({finding.detail})"
    return FindingView(
        severity=str(finding.severity), kind=finding.audit, message=message, sites=list(finding.sites),
        segments=[e.code for e in finding.elements if e.kind == "trench"],
        weight=finding.weight, by_design=concerns_only_by_design(finding, kind_of),
    )


def _status_of(views: list[FindingView], findings, kind: str) -> dict[str, str]:
    """Map status of the elements of one kind (trench, cable) named by the findings."""
    status: dict[str, str] = {}
    for view, finding in zip(views, findings):
        if finding.audit == "spof" and view.by_design:
            new = "spur"
        elif finding.audit in _TRENCH_STATUS_OF_AUDIT:
            new = _TRENCH_STATUS_OF_AUDIT[finding.audit]
        elif finding.audit == "capacity" and "full" in finding.title:
            new = "full"
        else:
            continue
        for element in finding.elements:
            if element.kind == kind:
                _worsen(status, element.code, new)
    return status


def _worsen(status: dict[str, str], code: str, new: str) -> None:
    """An element shows its worst status (TRENCH_STATUSES is ordered worst first)."""
    status[code] = min(status.get(code, "ok"), new, key=TRENCH_STATUSES.index)


def _paths_to_core(net: Network) -> dict[str, list[list[str]]]:
    """Per site, one route to the nearest core device through each of its uplinks.

    One multi-source shortest-path search from the core answers every device; a site's
    routes are its uplinks, each followed by the peer's route. (How many of them are
    really disjoint is ``topology.audits.path_diversity``'s answer, not this display's.)"""
    graph, sources = net.logical_graph, net.logical.sources
    if not sources:
        return {}
    to_core = nx.multi_source_dijkstra_path(nx.Graph(graph), sources)
    site_of = net.logical.site_of
    code = {site_id: site.code for site_id, site in net.sites.items()}

    def label(device) -> str:
        return f"{graph.nodes[device]['name']} ({code.get(site_of.get(device), '?')})"

    routes: dict[str, list[list[str]]] = {}
    for device, site_id in site_of.items():
        if site_id in net.core_sites:
            continue
        for peer in sorted(set(graph.neighbors(device))):
            if site_of.get(peer) == site_id or peer not in to_core:
                continue
            route = [device] + list(reversed(to_core[peer]))
            if len(set(route)) == len(route):  # the peer's route does not come back through us
                routes.setdefault(code[site_id], []).append([label(d) for d in route])
    return {site: sorted(r, key=len) for site, r in routes.items()}
