"""Build the ``Report`` from the inventory, the topology audits and (optionally) Prometheus."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from importlib.resources import files

from sqlmodel import Session, select

from inventory.models import (
    Cable,
    CableSegment,
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
from configs.state import Workspace
from inventory.opendata import connected_site_ids
from inventory.plan_changes import changes_of
from report import prometheus
from report.audits import AuditView, audit_view
from report.customers import CustomerFigures, area_name, customer_figures
from report.model import (
    AreaView,
    CableView,
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

#: Stadtteil and Stadtbezirk outlines, Gladbeck's and Bottrop's PLZ areas and town outlines
#: (derived by ``inventory.seed.outlines``, approximate)
DISTRICT_OUTLINES = files("inventory") / "data" / "district_outlines.geojson"
#: the outlines drawn bold below the others: Stadtbezirke and towns
WHOLE_AREA_LEVELS = ("stadtbezirk", "town")

#: the site kinds whose connection the city's digital strategy tracks
KPI_KINDS = (SiteKind.SCHOOL, SiteKind.KINDERGARTEN, SiteKind.HOSPITAL, SiteKind.BUSINESS_PARK)

#: availability of a hotspot = share of scrapes in which its access point answered. An AP the
#: exporter holds no SNMP credentials for (/sd: snmp_credentials="missing") is not polled: its
#: state is unknown, neither up nor down, so it is left out here and counted on its own (as the
#: alerts and the dashboard do: docs/metrics.md). Counted by device: an AP renumbered within the
#: window has two series (two instances), and is one AP, its scrapes pooled.
POLLED_HOTSPOTS = 'up{{job="netops-devices",site_kind="hotspot",snmp_credentials!="missing"}}[{window}]'
HOTSPOT_AVAILABILITY_EXPR = (f"avg(sum by (device) (sum_over_time({POLLED_HOTSPOTS}))"
                             f" / sum by (device) (count_over_time({POLLED_HOTSPOTS})))")
#: how many hotspot APs that availability is of: those polled in the window
HOTSPOTS_IN_AVAILABILITY_EXPR = f"count(count by (device) (count_over_time({POLLED_HOTSPOTS})))"
#: hotspot APs not polled now, for want of SNMP credentials: 0 when Prometheus has hotspots and
#: none of them is so, no data (unknown) when it has none
HOTSPOTS_NOT_POLLED_EXPR = ('count(count by (device) (up{job="netops-devices",site_kind="hotspot",'
                            'snmp_credentials="missing"})) or 0 * count(up{job="netops-devices",site_kind="hotspot"})')

#: a device counts as backed up when its last successful backup is at most this old
#: (the NetopsConfigBackupTooOld alert fires beyond the same age)
BACKUP_MAX_AGE_S = 2 * 86400


def build_report(
    session: Session,
    prometheus_url: str | None = None,
    config_workspace: Workspace | None = None,
    title: str = "netops — city network report",
    now: dt.datetime | None = None,
) -> Report:
    """``config_workspace``: where ``netops config backup/audit`` leave their state
    (default: theirs, ``$NETOPS_CONFIG_DIR``); ``prometheus_url``: for hotspot availability."""
    audits = audit_view(session)
    sites = session.exec(select(Site).where(Site.status != Status.DECOMMISSIONED)).all()
    connected = connected_site_ids(session)
    site_views = _site_views(session, sites, connected, audits)
    customers = customer_figures(session)
    kpis = _kpis(session, sites, connected, audits, site_views, customers, prometheus_url,
                 config_workspace or Workspace())
    # column queries, not ORM objects: the 10x city has 20 000 segments and 60 000 hops
    segments = session.exec(
        select(TrenchSegment.id, TrenchSegment.code, TrenchSegment.geometry, TrenchSegment.ducts_used,
               TrenchSegment.ducts_total, TrenchSegment.status, TrenchSegment.plan_id)
        .where(TrenchSegment.status != Status.DECOMMISSIONED)
    ).all()
    trenches = _trenches(segments, audits)
    return Report(
        title=title,
        generated_at=(now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        kpis=kpis,
        districts=_districts(site_views, customers),
        sites=[v for v in site_views if v.lat is not None],
        trenches=trenches,
        cables=_cables(session, segments, trenches, audits),
        findings=audits.findings,
        areas=district_areas(),
        customer_areas=customers.areas,
        customer_buildings=customers.buildings,
    )


def district_areas() -> list[AreaView]:
    """The orientation layer: Stadtbezirke and towns first (drawn below), then Stadtteile and PLZ areas."""
    features = json.loads(DISTRICT_OUTLINES.read_text("utf-8"))["features"]
    areas = []
    for feature in sorted(features, key=lambda f: (f["properties"]["level"] not in WHOLE_AREA_LEVELS,
                                                   f["properties"]["name"])):
        props, geometry = feature["properties"], feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        lon, lat = props["label_at"]
        areas.append(AreaView(
            name=props["name"], level=props["level"], rings=[_latlon(polygon[0]) for polygon in polygons],
            label_at=[lat, lon], approximate=props["approximate"], label=props.get("plz", ""),
        ))
    return areas


def _site_views(session: Session, sites, connected: set[int], audits: AuditView) -> list[SiteView]:
    devices = session.exec(
        select(Device.id, Device.name, Device.site_id, Device.role, Device.platform, Device.mgmt_ip)
        .where(Device.status != Status.DECOMMISSIONED)
    ).all()
    device_by_id = {d.id: d for d in devices}
    site_by_id = {s.id: s for s in sites}
    views = {
        s.id: SiteView(
            code=s.code, name=s.name, kind=str(s.kind), status=str(s.status), lat=s.lat, lon=s.lon,
            district=area_name(s.district, s.city), connected=s.id in connected,
            redundant=s.code in audits.redundant_sites,
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
    device_of = dict(session.exec(select(Interface.id, Interface.device_id)).all())
    cable_codes = dict(session.exec(select(Cable.id, Cable.code)).all())
    hops: dict[int, list[str]] = defaultdict(list)
    for link_id, cable_id in session.exec(select(LinkHop.link_id, LinkHop.cable_id).order_by(LinkHop.link_id, LinkHop.seq)):
        hops[link_id].append(cable_codes[cable_id])
    links = session.exec(select(Link.id, Link.a_interface_id, Link.b_interface_id, Link.medium)
                         .where(Link.status != Status.DECOMMISSIONED))
    for link in links:
        ends = [device_by_id.get(device_of[i]) for i in (link.a_interface_id, link.b_interface_id)]
        if None in ends:
            continue
        for local, peer in (ends, ends[::-1]):
            if local.site_id != peer.site_id and {local.site_id, peer.site_id} <= site_by_id.keys():
                yield local.site_id, UplinkView(
                    local_device=local.name, peer_device=peer.name, peer_site=site_by_id[peer.site_id].code,
                    medium=str(link.medium), cables=hops.get(link.id, []),
                )


def _kpis(session, sites, connected, audits: AuditView, views: list[SiteView], customers: CustomerFigures,
          prometheus_url, workspace: Workspace) -> Kpis:
    notes: list[str] = []
    kpi_sites = {kind: [s for s in sites if s.kind == kind] for kind in KPI_KINDS}
    connected_share = {str(k): Share(sum(s.id in connected for s in ss), len(ss)) for k, ss in kpi_sites.items()}
    redundant = {
        str(k): Share(sum(s.code in audits.redundant_sites for s in ss if s.id in connected),
                      sum(s.id in connected for s in ss))
        for k, ss in kpi_sites.items()
    }
    hotspot_views = [v for v in views if v.kind == SiteKind.HOTSPOT and v.connected]
    fibre_fed = sum(any(u.medium == LinkMedium.FIBRE for u in v.uplinks) for v in hotspot_views)
    availability = availability_of = not_polled = prometheus_error = None
    if prometheus_url:
        try:
            availability, availability_of, not_polled = _hotspot_figures(prometheus_url)
        except prometheus.PrometheusError as exc:  # the report is still written, without these figures
            prometheus_error = str(exc)
            notes.append(f"hotspot availability unknown: {exc}")
    else:
        notes.append("hotspot availability needs --prometheus-url")
    config_state = workspace.read_state()
    backup = _backup_coverage(session, config_state.get("backup"))
    if backup is None:
        notes.append("backup coverage needs a recorded run of `netops config backup`")
    compliance = _compliance(config_state.get("audit"))
    if compliance is None:
        notes.append("compliance rate needs a recorded run of `netops config audit`")
    return Kpis(
        connected=connected_share,
        redundant=redundant,
        hotspots_fibre=fibre_fed,
        hotspots_radio=len(hotspot_views) - fibre_fed,
        hotspot_availability=availability,
        hotspots_in_availability=availability_of,
        hotspots_not_polled=not_polled,
        prometheus_error=prometheus_error,
        backup_coverage=backup,
        compliance=compliance,
        planned_connections=_planned_connections(session),
        customers=customers.city,
        lines_by_service_class=customers.lines_by_service_class,
        notes=notes,
    )


def _hotspot_figures(prometheus_url: str):
    """(availability, APs it is of, APs not polled) from Prometheus; no data is None, unknown."""
    availability = {window: prometheus.scalar_query(prometheus_url, HOTSPOT_AVAILABILITY_EXPR.format(window=window))
                    for window in ("7d", "30d")}
    # no data is unknown, not "of 0 hotspot APs"
    availability_of = {window: _count(prometheus.scalar_query(
                           prometheus_url, HOTSPOTS_IN_AVAILABILITY_EXPR.format(window=window)))
                       for window in availability}
    return availability, availability_of, _count(prometheus.scalar_query(prometheus_url, HOTSPOTS_NOT_POLLED_EXPR))


def _count(value: float | None) -> int | None:
    return None if value is None else int(value)


def _backup_coverage(session: Session, backup: dict | None, now: float | None = None) -> Share | None:
    """Active devices whose last successful config backup is recent, of all active devices
    (one without a management address or SSH profile is a gap, not an exception)."""
    if not backup:
        return None
    now = time.time() if now is None else now
    devices = session.exec(select(Device.name).where(Device.status == Status.ACTIVE)).all()
    entries = backup.get("devices", {})
    recent = sum(now - entries.get(name, {}).get("last_success", float("-inf")) <= BACKUP_MAX_AGE_S
                 for name in devices)
    return Share(recent, len(devices))


def _compliance(audit: dict | None) -> Share | None:
    """Rule checks passed at the last live audit (device × applicable rule)."""
    if not audit or not audit.get("rules"):
        return None
    rules = audit["rules"].values()
    passed = sum(r["compliant"] for r in rules)
    return Share(passed, passed + sum(r["noncompliant"] for r in rules))


def _planned_connections(session: Session) -> list[PlannedConnection]:
    """Draft plans with the sites they connect: sites the plan creates (``plan_id``) and
    existing sites it would activate (``summary["changes"]["activate_sites"]``, as
    ``planning`` records them)."""
    names = dict(session.exec(select(Site.id, Site.name)).all())
    created: dict[int, set[int]] = defaultdict(set)
    for site_id, plan_id in session.exec(select(Site.id, Site.plan_id).where(Site.plan_id.is_not(None))):
        created[plan_id].add(site_id)
    connections = []
    for plan in session.exec(select(Plan).where(Plan.state == PlanState.DRAFT).order_by(Plan.name)):
        activated = set(changes_of(plan.name, plan.summary).get("activate_sites", []))
        sites = sorted(names[i] for i in created[plan.id] | activated if i in names)
        connections.append(PlannedConnection(plan=plan.name, kind=plan.kind, sites=sites, cost_eur=plan.total_cost_eur))
    return connections


def _districts(views: list[SiteView], customers: CustomerFigures) -> list[DistrictRow]:
    by_district: dict[str, list[SiteView]] = defaultdict(list)
    for view in views:
        by_district[view.district].append(view)
    rows = []
    for district in sorted(by_district.keys() | customers.by_district.keys()):
        members = by_district.get(district, [])
        by_kind = {}
        for kind in KPI_KINDS:
            of_kind = [v for v in members if v.kind == kind]
            if of_kind:
                by_kind[str(kind)] = Share(sum(v.connected for v in of_kind), len(of_kind))
        tracked = [v for v in members if v.kind in KPI_KINDS and v.connected]
        redundant = Share(sum(v.redundant for v in tracked), len(tracked))
        hotspots = sum(v.kind == SiteKind.HOTSPOT for v in members)
        served = customers.by_district.get(district)
        if not by_kind and not hotspots and not served:
            continue  # only PoPs and cabinets: nothing the KPIs track
        rows.append(DistrictRow(district=district, by_kind=by_kind, redundant=redundant, hotspots=hotspots,
                                customers=served))
    return rows


def _latlon(geometry: list[list[float]]) -> list[list[float]]:
    return [[lat, lon] for lon, lat in geometry]  # GeoJSON order -> Leaflet order


def _cables(session: Session, segments, trenches: list[TrenchView], audits: AuditView) -> list[CableView]:
    """Each cable as the trench segments it runs through, by index into ``trenches``: the page
    draws it from their geometry instead of carrying every coordinate twice."""
    index_of_code = {t.code: i for i, t in enumerate(trenches)}
    index = {seg.id: index_of_code[seg.code] for seg in segments}
    paths: dict[int, list[int]] = defaultdict(list)
    steps = session.exec(select(CableSegment.cable_id, CableSegment.segment_id)
                         .order_by(CableSegment.cable_id, CableSegment.seq))
    for cable_id, segment_id in steps:
        if segment_id in index:
            paths[cable_id].append(index[segment_id])
    cables = session.exec(select(Cable.id, Cable.code, Cable.strands, Cable.status, Cable.plan_id)
                          .where(Cable.status != Status.DECOMMISSIONED).order_by(Cable.code))
    return [
        CableView(code=c.code, segments=paths[c.id], status=audits.cable_status.get(c.code, "ok"), strands=c.strands,
                  planned=c.status == Status.PLANNED or c.plan_id is not None)
        for c in cables
        if paths[c.id]
    ]


def _trenches(segments, audits: AuditView) -> list[TrenchView]:
    views = []
    for seg in segments:
        status = audits.segment_status.get(seg.code, "ok")
        planned = seg.status == Status.PLANNED or seg.plan_id is not None
        views.append(TrenchView(
            code=seg.code, coords=_latlon(seg.geometry), status=status,
            ducts=f"{seg.ducts_used}/{seg.ducts_total}", planned=planned, cuts=audits.segment_cuts.get(seg.code, 0),
        ))
    return sorted(views, key=lambda t: t.code)
