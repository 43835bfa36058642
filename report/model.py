"""Typed shapes of the report (NAPALM-like: plain dataclasses, JSON-ready via ``asdict``).

The same ``Report`` feeds the HTML page and ``netops report --json``, so the numbers a
planner reads on the page are the numbers a script gets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Share:
    """``part`` of ``total`` (ratio None when total is 0: "no such sites", not 0 %)."""

    part: int
    total: int

    @property
    def ratio(self) -> float | None:
        return round(self.part / self.total, 4) if self.total else None

    def as_dict(self) -> dict:
        return {"part": self.part, "total": self.total, "ratio": self.ratio}


@dataclass(frozen=True)
class PlannedConnection:
    plan: str
    kind: str
    sites: list[str]  # names of the planned sites in the plan
    cost_eur: float | None


@dataclass(frozen=True)
class CustomerCounts:
    """Who the network serves in an area: companies (by name) and their lines, homes passed
    (an active connection reaches them) and connected (they take a service)."""

    companies: int
    business_lines: int
    units_passed: int
    units_connected: int

    @property
    def take_up(self) -> Share:
        return Share(self.units_connected, self.units_passed)

    def as_dict(self) -> dict:
        return {"companies": self.companies, "business_lines": self.business_lines,
                "residential_units_passed": self.units_passed,
                "residential_units_connected": self.units_connected, "take_up": self.take_up.as_dict()}


@dataclass(frozen=True)
class CustomerArea:
    """One marker per Stadtteil on the map at city zoom (thousands of buildings would be a blot)."""

    district: str
    lat: float  # mean position of the area's customers
    lon: float
    counts: CustomerCounts


@dataclass(frozen=True)
class CustomerBuilding:
    """A building with customers, drawn when the map is zoomed in."""

    code: str
    lat: float
    lon: float
    district: str | None
    counts: CustomerCounts


@dataclass
class Kpis:
    connected: dict[str, Share]  # site kind -> connected share (schools, Kitas, clinics, business parks)
    redundant: dict[str, Share]  # site kind -> trench-disjoint redundancy among connected
    hotspots_fibre: int
    hotspots_radio: int
    hotspot_availability: dict[str, float | None] | None  # "7d"/"30d" -> mean availability 0..1
    backup_coverage: Share | None
    compliance: Share | None
    planned_connections: list[PlannedConnection]
    customers: CustomerCounts | None = None
    lines_by_service_class: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # why a KPI is missing
    #: "7d"/"30d" -> how many hotspot APs the availability is of (those polled in the window)
    hotspots_in_availability: dict[str, int | None] | None = None  # None: no data, unknown
    #: hotspot APs not polled (no SNMP credentials): out of the availability, neither up nor down;
    #: None: not asked, or Prometheus holds no hotspot now (unknown)
    hotspots_not_polled: int | None = None
    #: why Prometheus gave no figures (unreachable, an error): the report is written without
    #: them and `netops report` ends with this line and exit code 3
    prometheus_error: str | None = None

    @property
    def planned_cost_eur(self) -> float:
        return round(sum(p.cost_eur or 0.0 for p in self.planned_connections), 2)

    def as_dict(self) -> dict:
        def shares(mapping):
            return {k: v.as_dict() for k, v in mapping.items()}

        return {
            "connected": shares(self.connected),
            "trench_disjoint_redundancy": shares(self.redundant),
            "hotspots": {"fibre_fed": self.hotspots_fibre, "radio": self.hotspots_radio},
            "hotspot_availability": self.hotspot_availability,
            "hotspots_in_availability": self.hotspots_in_availability,
            "hotspots_not_polled": self.hotspots_not_polled,
            "backup_coverage": self.backup_coverage.as_dict() if self.backup_coverage else None,
            "compliance": self.compliance.as_dict() if self.compliance else None,
            "planned_connections": [asdict(p) for p in self.planned_connections],
            "planned_cost_eur": self.planned_cost_eur,
            "customers": None if self.customers is None else {
                **self.customers.as_dict(), "business_lines_by_service_class": self.lines_by_service_class},
            "notes": self.notes,
        }


@dataclass(frozen=True)
class DeviceView:
    name: str
    role: str
    platform: str
    mgmt_ip: str | None


@dataclass(frozen=True)
class UplinkView:
    local_device: str
    peer_device: str
    peer_site: str
    medium: str
    cables: list[str]


@dataclass(frozen=True)
class FindingView:
    severity: str
    kind: str
    message: str
    sites: list[str]  # site codes
    segments: list[str]  # trench segment codes
    weight: float = 0.0  # summed criticality weight of the sites (the ranking within a severity)
    by_design: bool = False  # only hotspots/small cells affected: an AP has one uplink by design


@dataclass
class SiteView:
    code: str
    name: str
    kind: str
    status: str
    lat: float
    lon: float
    district: str  # Stadtteil, else town (report.customers.area_name)
    connected: bool
    redundant: bool  # trench-disjoint redundancy (topology audits)
    planned: bool
    devices: list[DeviceView] = field(default_factory=list)
    uplinks: list[UplinkView] = field(default_factory=list)
    paths_to_core: list[list[str]] = field(default_factory=list)
    findings: list[int] = field(default_factory=list)  # indexes into Report.findings


@dataclass(frozen=True)
class TrenchView:
    code: str
    coords: list[list[float]]  # [[lat, lon], ...] as Leaflet wants them
    status: str  # see TRENCH_STATUSES
    ducts: str  # "used/total"
    planned: bool
    cuts: int = 0  # sites a cut of this trench takes down (the map draws a worse cut thicker)


@dataclass(frozen=True)
class CableView:
    code: str
    segments: list[int]  # the trench segments it runs through, in order: indexes into Report.trenches
    status: str  # spof | full | ok
    strands: int
    planned: bool


#: audit status of a trench segment or cable, worst first (an element shows its worst status);
#: "spur" is a single point of failure that cuts off only hotspots (single-homed by design)
TRENCH_STATUSES = ("spof", "shared", "full", "spur", "ok")


@dataclass(frozen=True)
class AreaView:
    """A Stadtteil, Stadtbezirk, PLZ area or town outline for orientation (derived, see ``approximate``)."""

    name: str
    level: str  # stadtteil | stadtbezirk (Gelsenkirchen) | plz_area | town (Gladbeck, Bottrop)
    rings: list[list[list[float]]]  # outer rings, each [[lat, lon], ...]
    label_at: list[float]  # [lat, lon]
    approximate: bool
    label: str = ""  # the map's short label (a PLZ area's number); empty: the name


@dataclass(frozen=True)
class DistrictRow:
    district: str
    by_kind: dict[str, Share]  # kind -> connected/total
    redundant: Share
    hotspots: int
    customers: CustomerCounts | None = None


@dataclass
class Report:
    title: str
    generated_at: str
    kpis: Kpis
    districts: list[DistrictRow]
    sites: list[SiteView]
    trenches: list[TrenchView]
    cables: list[CableView]
    findings: list[FindingView]
    areas: list[AreaView] = field(default_factory=list)
    customer_areas: list[CustomerArea] = field(default_factory=list)
    customer_buildings: list[CustomerBuilding] = field(default_factory=list)

    def summary(self) -> dict:
        """The numbers (``--json``): KPIs and district tables, not the map geometry."""
        return {
            "title": self.title,
            "generated_at": self.generated_at,
            "kpis": self.kpis.as_dict(),
            "districts": [
                {
                    "district": d.district,
                    "by_kind": {k: s.as_dict() for k, s in d.by_kind.items()},
                    "trench_disjoint_redundancy": d.redundant.as_dict(),
                    "hotspots": d.hotspots,
                    "customers": d.customers.as_dict() if d.customers else None,
                }
                for d in self.districts
            ],
            "findings_by_severity": _count(f.severity for f in self.findings),
        }


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))
