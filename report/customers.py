"""Who the network serves, as the city would publish it: companies connected, homes passed
and connected, take-up, for the whole network and by Stadtteil.

Counts follow ``netops inventory stats``: a connection counts while it is active (planned
and decommissioned rows do not); homes are *passed* when an active residential connection
reaches them and *connected* when its homes take a service; take-up is connected / passed.
A company sits in a building or at a site (a business park); its Stadtteil is that
building's or site's. Companies are counted by name (one company with two lines is one
company connected, two lines).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, select

from inventory.models import Building, BusinessConnection, ResidentialConnection, Site, Status, TakeUp
from report.model import CustomerArea, CustomerBuilding, CustomerCounts

NO_DISTRICT = "(no district)"


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
    buildings = {b.id: b for b in session.exec(
        select(Building.id, Building.code, Building.district, Building.lat, Building.lon)
        .where(Building.status != Status.DECOMMISSIONED))}
    sites = {s.id: s for s in session.exec(select(Site.id, Site.district, Site.lat, Site.lon))}
    city, by_district = _Tally(), defaultdict(_Tally)
    per_building: dict[int, _Tally] = defaultdict(_Tally)
    by_class: dict[str, int] = defaultdict(int)

    residential = session.exec(
        select(ResidentialConnection.building_id, ResidentialConnection.units, ResidentialConnection.take_up)
        .where(ResidentialConnection.status == Status.ACTIVE))
    for building_id, units, take_up in residential:
        building = buildings.get(building_id)
        connected = units if take_up == TakeUp.CONNECTED else 0
        tallies = [city, per_building[building_id]]
        if building is not None:
            tallies.append(by_district[building.district or NO_DISTRICT])
        for tally in tallies:
            tally.passed += units
            tally.connected += connected

    business = session.exec(
        select(BusinessConnection.company, BusinessConnection.building_id, BusinessConnection.site_id,
               BusinessConnection.service_class)
        .where(BusinessConnection.status == Status.ACTIVE))
    for company, building_id, site_id, service_class in business:
        by_class[str(service_class)] += 1
        place = buildings.get(building_id) if building_id is not None else sites.get(site_id)
        tallies = [city]
        if building_id is not None:
            tallies.append(per_building[building_id])
        if place is not None:
            district = by_district[place.district or NO_DISTRICT]
            tallies.append(district)
            if building_id is None and place.lat is not None:
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
        by_district[building.district or NO_DISTRICT].places.append((building.lat, building.lon))
        counts = tally.counts()
        marked.append(CustomerBuilding(code=building.code, lat=building.lat, lon=building.lon,
                                       district=building.district, counts=counts))
    areas = [
        CustomerArea(district=name, lat=round(sum(p[0] for p in t.places) / len(t.places), 6),
                     lon=round(sum(p[1] for p in t.places) / len(t.places), 6), counts=t.counts())
        for name, t in sorted(by_district.items()) if t.places
    ]
    return CustomerFigures(
        city=city.counts(),
        lines_by_service_class=dict(sorted(by_class.items())),
        by_district={name: t.counts() for name, t in sorted(by_district.items())},
        areas=areas,
        buildings=marked,
    )
