"""Build the ``Report`` from the inventory, the topology audits and (optionally) Prometheus."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, select

from inventory.models import (
    Cable,
    Device,
    Interface,
    Link,
    LinkHop,
    LinkMedium,
    Plan,
    PlanState,
    Site,
    SiteKind,
    Status,
    TrenchSegment,
)
from inventory.opendata import connected_site_ids
from report import prometheus
from report.audits import AuditView, audit_view
from report.model import (
    DeviceView,
    DistrictRow,
    Kpis,
    PlannedConnection,
    Report,
    Share,
    SiteView,
    TrenchView,
    UplinkView,
)

#: the site kinds whose connection the city's digital strategy tracks
KPI_KINDS = (SiteKind.SCHOOL, SiteKind.KINDERGARTEN, SiteKind.HOSPITAL, SiteKind.BUSINESS_PARK)

#: availability of a hotspot = share of scrapes in which its access point answered
HOTSPOT_AVAILABILITY_EXPR = 'avg(avg_over_time(up{{job="netops-devices",site_kind="hotspot"}}[{window}]))'


def build_report(
    session: Session,
    prometheus_url: str | None = None,
    title: str = "netops — city network report",
    now: dt.datetime | None = None,
) -> Report:
    audits = audit_view(session)
    sites = session.exec(select(Site).where(Site.status != Status.DECOMMISSIONED)).all()
    connected = connected_site_ids(session)
    site_views = _site_views(session, sites, connected, audits)
    kpis = _kpis(session, sites, connected, audits, site_views, prometheus_url)
    return Report(
        title=title,
        generated_at=(now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        kpis=kpis,
        districts=_districts(site_views, audits),
        sites=[v for v in site_views if v.lat is not None],
        trenches=_trenches(session, audits),
        findings=audits.findings,
        audits_available=audits.available,
    )


def _site_views(session: Session, sites, connected: set[int], audits: AuditView) -> list[SiteView]:
    devices = session.exec(select(Device).where(Device.status != Status.DECOMMISSIONED)).all()
    device_by_id = {d.id: d for d in devices}
    site_by_id = {s.id: s for s in sites}
    views = {
        s.id: SiteView(
            code=s.code, name=s.name, kind=str(s.kind), status=str(s.status), lat=s.lat, lon=s.lon,
            district=s.district, connected=s.id in connected,
            redundant=None if audits.redundant_sites is None else s.code in audits.redundant_sites,
            planned=s.status == Status.PLANNED or s.plan_id is not None,
            paths_to_core=audits.paths_to_core.get(s.code, []),
        )
        for s in sites
    }
    for device in sorted(devices, key=lambda d: d.name):
        if device.site_id in views:
            views[device.site_id].devices.append(
                DeviceView(name=device.name, role=str(device.role), platform=device.platform, mgmt_ip=device.mgmt_ip)
            )
    for site_id, uplink in _uplinks(session, device_by_id, site_by_id):
        views[site_id].uplinks.append(uplink)
    codes = {v.code: v for v in views.values()}
    for index, finding in enumerate(audits.findings):
        for code in finding.sites:
            if code in codes:
                codes[code].findings.append(index)
    return sorted(views.values(), key=lambda v: (v.kind, v.name))


def _uplinks(session: Session, device_by_id, site_by_id):
    """Each inter-site link seen from both ends, as (site id, UplinkView)."""
    interfaces = {i.id: i for i in session.exec(select(Interface))}
    cable_codes = {c.id: c.code for c in session.exec(select(Cable))}
    hops: dict[int, list[str]] = defaultdict(list)
    for hop in session.exec(select(LinkHop).order_by(LinkHop.link_id, LinkHop.seq)):
        hops[hop.link_id].append(cable_codes[hop.cable_id])
    for link in session.exec(select(Link).where(Link.status != Status.DECOMMISSIONED)):
        ends = [device_by_id.get(interfaces[i].device_id) for i in (link.a_interface_id, link.b_interface_id)]
        if None in ends:
            continue
        for local, peer in (ends, ends[::-1]):
            if local.site_id != peer.site_id and {local.site_id, peer.site_id} <= site_by_id.keys():
                yield local.site_id, UplinkView(
                    local_device=local.name, peer_device=peer.name, peer_site=site_by_id[peer.site_id].code,
                    medium=str(link.medium), cables=hops.get(link.id, []),
                )


def _kpis(session, sites, connected, audits: AuditView, views: list[SiteView], prometheus_url) -> Kpis:
    notes: list[str] = []
    kpi_sites = {kind: [s for s in sites if s.kind == kind] for kind in KPI_KINDS}
    connected_share = {str(k): Share(sum(s.id in connected for s in ss), len(ss)) for k, ss in kpi_sites.items()}
    if audits.redundant_sites is None:
        redundant = None
        notes.append("trench-disjoint redundancy needs the topology audits (package `topology`)")
    else:
        redundant = {
            str(k): Share(sum(s.code in audits.redundant_sites for s in ss if s.id in connected),
                          sum(s.id in connected for s in ss))
            for k, ss in kpi_sites.items()
        }
    hotspot_views = [v for v in views if v.kind == SiteKind.HOTSPOT and v.connected]
    fibre_fed = sum(any(u.medium == LinkMedium.FIBRE for u in v.uplinks) for v in hotspot_views)
    availability = None
    if prometheus_url:
        availability = {
            window: prometheus.scalar_query(prometheus_url, HOTSPOT_AVAILABILITY_EXPR.format(window=window))
            for window in ("7d", "30d")
        }
    else:
        notes.append("hotspot availability needs --prometheus-url")
    return Kpis(
        connected=connected_share,
        redundant=redundant,
        hotspots_fibre=fibre_fed,
        hotspots_radio=len(hotspot_views) - fibre_fed,
        hotspot_availability=availability,
        backup_coverage=None,
        compliance=None,
        planned_connections=_planned_connections(session),
        notes=notes,
    )


def _planned_connections(session: Session) -> list[PlannedConnection]:
    planned_sites: dict[int, list[str]] = defaultdict(list)
    for site in session.exec(select(Site).where(Site.plan_id.is_not(None))):
        planned_sites[site.plan_id].append(site.name)
    return [
        PlannedConnection(plan=p.name, kind=p.kind, sites=sorted(planned_sites.get(p.id, [])), cost_eur=p.total_cost_eur)
        for p in session.exec(select(Plan).where(Plan.state == PlanState.DRAFT).order_by(Plan.name))
    ]


def _districts(views: list[SiteView], audits: AuditView) -> list[DistrictRow]:
    by_district: dict[str, list[SiteView]] = defaultdict(list)
    for view in views:
        by_district[view.district or "(no district)"].append(view)
    rows = []
    for district, members in sorted(by_district.items()):
        by_kind = {}
        for kind in KPI_KINDS:
            of_kind = [v for v in members if v.kind == kind]
            if of_kind:
                by_kind[str(kind)] = Share(sum(v.connected for v in of_kind), len(of_kind))
        tracked = [v for v in members if v.kind in KPI_KINDS and v.connected]
        redundant = None if audits.redundant_sites is None else Share(sum(bool(v.redundant) for v in tracked), len(tracked))
        hotspots = sum(v.kind == SiteKind.HOTSPOT for v in members)
        rows.append(DistrictRow(district=district, by_kind=by_kind, redundant=redundant, hotspots=hotspots))
    return rows


def _trenches(session: Session, audits: AuditView) -> list[TrenchView]:
    views = []
    for seg in session.exec(select(TrenchSegment).where(TrenchSegment.status != Status.DECOMMISSIONED)):
        status = audits.segment_status.get(seg.code) or ("full" if seg.ducts_used >= seg.ducts_total else "ok")
        planned = seg.status == Status.PLANNED or seg.plan_id is not None
        views.append(TrenchView(
            code=seg.code, coords=[[lat, lon] for lon, lat in seg.geometry], status=status,
            ducts=f"{seg.ducts_used}/{seg.ducts_total}", planned=planned,
        ))
    return sorted(views, key=lambda t: t.code)
