"""Who the network serves, as the city would publish it: companies connected, homes passed
and connected, take-up, for the whole network and by Stadtteil.

The city's totals are ``inventory.stats.customers`` (``netops inventory stats``: one
definition, in SQL); this module adds the split by Stadtteil and the map's markers, with
the same rules: a connection counts while it is active (planned and decommissioned rows do
not); homes are *passed* when an active residential connection reaches them and *connected*
when its homes take a service; take-up is connected / passed. A company sits in a building
or at a site (a business park); its area is that building's or site's Stadtteil, or its
town where the data has no Stadtteil (Gladbeck, Bottrop). Every active connection lands in
one area (``NO_DISTRICT`` when its place is unknown), so the split adds up to the totals,
but a company with lines in two areas is a company in each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, select

from inventory.models import Building, BusinessConnection, ResidentialConnection, Site, Status, TakeUp
from inventory.stats import customers as customer_totals
from report.model import CustomerArea, CustomerBuilding, CustomerCounts

NO_DISTRICT = "(no district)"


def area_name(district: str | None, city: str | None) -> str:
    """The area the report groups a site or building under: its Stadtteil, else its town."""
    return district or city or NO_DISTRICT


@dataclass
class _Tally:
    companies: set[str] = field(default_factory=set)
    lines: int = 0
    passed: int = 0
    connected: int = 0
    places: list[tuple[float, float]] = field(default_factory=list)  # for the area's marker

    def counts(self) -> CustomerCounts:
        return CustomerCounts(companies=len(self.companies), business_lines=self.lines,
                              units_passed=self.passed, units_connected=self.connected)


@dataclass(frozen=True)
class CustomerFigures:
    city: CustomerCounts
    lines_by_service_class: dict[str, int]
    by_district: dict[str, CustomerCounts]
    areas: list[CustomerArea]  # one aggregate marker per Stadtteil (the map at city zoom)
    buildings: list[CustomerBuilding]  # every building with customers (the map zoomed in)


def customer_figures(session: Session) -> CustomerFigures:
    totals = customer_totals(session.connection())
    buildings = {b.id: b for b in session.exec(
        select(Building.id, Building.code, Building.district, Building.city, Building.lat, Building.lon)
        .where(Building.status != Status.DECOMMISSIONED))}
    sites = {s.id: s for s in session.exec(select(Site.id, Site.district, Site.city, Site.lat, Site.lon))}
    by_district: dict[str, _Tally] = defaultdict(_Tally)
    per_building: dict[int, _Tally] = defaultdict(_Tally)

    def area_of(place) -> _Tally:
        return by_district[NO_DISTRICT if place is None else area_name(place.district, place.city)]

    residential = session.exec(
        select(ResidentialConnection.building_id, ResidentialConnection.units, ResidentialConnection.take_up)
        .where(ResidentialConnection.status == Status.ACTIVE))
    for building_id, units, take_up in residential:
        connected = units if take_up == TakeUp.CONNECTED else 0
        for tally in (per_building[building_id], area_of(buildings.get(building_id))):
            tally.passed += units
            tally.connected += connected

    business = session.exec(
        select(BusinessConnection.company, BusinessConnection.building_id, BusinessConnection.site_id)
        .where(BusinessConnection.status == Status.ACTIVE))
    for company, building_id, site_id in business:
        place = buildings.get(building_id) if building_id is not None else sites.get(site_id)
        district = area_of(place)
        tallies = [district]
        if building_id is not None:
            tallies.append(per_building[building_id])
        elif place is not None and place.lat is not None:
            district.places.append((place.lat, place.lon))
        for tally in tallies:
            tally.companies.add(company)
            tally.lines += 1

    marked = []
    for building_id, tally in sorted(per_building.items(), key=lambda item: buildings[item[0]].code
                                     if item[0] in buildings else ""):
        building = buildings.get(building_id)
        if building is None:
            continue
        area_of(building).places.append((building.lat, building.lon))
        marked.append(CustomerBuilding(code=building.code, lat=building.lat, lon=building.lon,
                                       district=building.district, counts=tally.counts()))
    areas = [
        CustomerArea(district=name, lat=round(sum(p[0] for p in t.places) / len(t.places), 6),
                     lon=round(sum(p[1] for p in t.places) / len(t.places), 6), counts=t.counts())
        for name, t in sorted(by_district.items()) if t.places
    ]
    return CustomerFigures(
        city=CustomerCounts(companies=totals["companies"], business_lines=totals["business_connections"],
                            units_passed=totals["residential_units_passed"],
                            units_connected=totals["residential_units_connected"]),
        lines_by_service_class=totals["business_connections_by_service_class"],
        by_district={name: t.counts() for name, t in sorted(by_district.items())},
        areas=areas,
        buildings=marked,
    )
