"""The customers of the generated city: companies in the business parks and commercial
centres, and homes on a PON (FTTB/FTTH), laid on the city's street grid and trench.

Companies (``business_connection``) sit in generated buildings: in the twelve business
parks (served by the park's switch) and along Bahnhofstraße (City) and Hochstraße (Buer),
served by street cabinets with a switch, uplinked like any site. Every hospital buys an SLA
line. Every line ends on its own NTU (``premises``): patched to the serving site's switch,
or, a gold SLA line, on two fibre paths of its own to two PoPs.

Homes (``building`` with residential units) are spread over the Stadtteile by population.
Each PON area is a street cabinet on the PON: one feeder cable from the nearest PoP's OLT,
one first-stage splitter per OLT port, second-stage splitters in closures a few blocks
away, each with one street of buildings on a drop cable::

    PoP Buer                  cabinet pon-buer-1            closure cl-mh-04711
    OLT gpon0/1/3 ─feeder─▶ 1:4 (strand 3) ─port 2─distr.─▶ 1:16 ─drop strands─▶ 12 buildings
    (B+ 28 dB, C+ 32 dB)      one feeder cable per cabinet   (8x8 areas: 1:8 then 1:8)  on one street

Every splitter keeps a free port, every OLT port stays within 1:64, and every PON fits its
optics class with 3 dB to spare (B+ up to 3 km of fibre, C+ beyond), except what is
planted (``Pon.plant_weaknesses``): one full splitter with a building waiting, one
PON whose budget fails, and one feeder cable with over a thousand homes behind it.
"""

from __future__ import annotations

import ipaddress
import math
import random
from typing import Any

from inventory.models import GENERATED
from inventory.models.access import NTU_MODEL, NTU_PLATFORM, NTU_VENDOR, SPLITTER_LOSS_DB
from inventory.seed import real
from inventory.seed.city import (
    M_PER_DEG_LAT, M_PER_DEG_LON, POPS, STREET_ZONES, TRENCH_PREFERENCE, LinkBuilder, PlantBuilder, StreetGrid, _along,
    _ip, _jitter, _route_segments, _serial, _site,
)
from netops.vocabulary import DeviceRole

#: homes passed in Gelsenkirchen, spread over the Stadtteile by population
HOMES_PASSED = 11_000
TAKE_UP_RANGE = (0.38, 0.58)  # drawn per Stadtteil: share of the ONTs whose homes signed
ONT_UNITS = 24  # a block's ONT serves at most one stairwell's worth of flats
#: the two PON layouts: first-stage ratio in the cabinet, second-stage ratio in the closures
LAYOUTS = ((4, 16), (4, 16), (4, 16), (8, 8))  # mostly 1:4 then 1:16
PONS_PER_CABINET = (3, 5)
HUB_PONS = 6  # the planted feeder: one cable, six PONs
B_PLUS_REACH_M = 3_000  # fibre beyond this gets a C+ port (see GENERATED.md's budget)
FEEDER_STRANDS = (12, 24, 48)
#: the sites whose networks serve business lines (the lines' NTUs are theirs)
BUSINESS_SITE_KINDS = ("business_park", "cabinet", "hospital")
#: the NTUs' management network (in-band from the PoP; documentation addresses, never contacted)
NTU_MANAGEMENT = ipaddress.IPv4Network("10.64.0.0/16")

# businesses: companies per park (in the order of gewerbegebiete_named.csv), street cabinets
PARK_COMPANIES = (70, 55, 40, 45, 35, 60, 50, 40, 65, 45, 40, 55)
#: centre, Stadtteil, street zone (city.STREET_ZONES), cabinets, companies
CENTRES = (("city", "Altstadt", "bahnhofstrasse", 4, 150), ("buer", "Buer", "hochstrasse", 3, 110))
SERVICE_MIX = (("best_effort", 40), ("business", 56), ("sla_gold", 4))
BANDWIDTH_MBPS = {"best_effort": (100, 250, 500), "business": (100, 500, 1000), "sla_gold": (1000, 10_000)}
SURNAMES = ("Becker", "Schulte", "Krämer", "Hoffmann", "Kowalski", "Yilmaz", "Brinkmann", "Wagner", "Nowak",
            "Schmitz", "Kaya", "Wolters", "Peters", "Lange", "Özdemir", "Bergmann", "Voss", "Kuhlmann")
TRADES = ("Logistik", "Metallbau", "Steuerberatung", "Elektrotechnik", "Druckerei", "Software", "Zahnarztpraxis",
          "Immobilien", "Spedition", "Ingenieurbüro", "Apotheke", "Optik", "Versicherungen", "Bäckerei",
          "Kanzlei", "Sanitär", "Werbeagentur", "Physiotherapie")
LEGAL = ("GmbH", "GmbH & Co. KG", "KG", "e.K.", "AG")


def _slug(name: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", " ": "-"})
    return name.lower().translate(table)


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return round(lat + north_m / M_PER_DEG_LAT, 6), round(lon + east_m / M_PER_DEG_LON, 6)


def _building(code, address, district, lat, lon, *, residential=0, business=0) -> dict[str, Any]:
    return {"code": code, "name": None, "address": address, "postcode": None, "city": "Gelsenkirchen",
            "district": district, "lat": lat, "lon": lon, "residential_units": residential,
            "business_units": business, "status": "active", "source": GENERATED}


# -- commercial centres: street cabinets with a switch -----------------------------------------

def _zone(name: str):
    return next(z for z in STREET_ZONES if z[0] == name)


def street_cabinets(points) -> list[dict[str, Any]]:
    """Street cabinets (sites of kind cabinet) spaced along the centres' shopping streets."""
    sites = []
    for centre, district, zone_name, count, _ in CENTRES:
        _, street, _, waypoints, _ = _zone(zone_name)
        along = _along(waypoints, 10.0)
        for k in range(1, count + 1):
            lat, lon = along[(2 * k - 1) * len(along) // (2 * count)]
            lat, lon = _offset(lat, lon, -14, 0)  # the other side of the street from the hotspots
            sites.append(_site(f"cabinet-{centre}-{k}", f"Straßenschrank {street} {k}", "cabinet", lat, lon,
                               GENERATED, district=district, borough=points[district][2], address=street,
                               notes="street cabinet with an access switch for the companies around it"))
    return sites


def _company(rng: random.Random, taken: set[str]) -> str:
    """A company name no other generated company has: 866 draws from 1,620 names collide
    about 200 times, and two lines of one name count as one company. A taken name gets a
    partner's surname (chosen without drawing, so the random stream stays as it was)."""
    surname, trade, legal = rng.choice(SURNAMES), rng.choice(TRADES), rng.choice(LEGAL)
    name, k = f"{surname} {trade} {legal}", 0
    partners = [p for p in SURNAMES if p != surname]
    while name in taken:
        name = f"{surname} & {partners[k % len(partners)]}{f' {k // len(partners) + 1}' if k >= len(partners) else ''}" \
               f" {trade} {legal}"
        k += 1
    taken.add(name)
    return name


def _service(rng: random.Random) -> tuple[str, int]:
    service = rng.choices([s for s, _ in SERVICE_MIX], [w for _, w in SERVICE_MIX])[0]
    return service, rng.choice(BANDWIDTH_MBPS[service])


def ntu_name(connection_code: str) -> str:
    return f"ntu-{connection_code}"


def business_rows(sites, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Buildings with companies and their connections: hospitals, parks, commercial centres.
    Each connection ends on its NTU (``premises``); ``serving_site`` (not a column) names
    the site whose network serves it."""
    buildings: list[dict[str, Any]] = []
    connections: list[dict[str, Any]] = []
    names: set[str] = set()

    def connect(company, site_code, service, bandwidth, *, building=None, at_site=None):
        code = f"bc-{len(connections) + 1:04d}"
        connections.append({
            "code": code, "company": company, "building": building, "site": at_site, "service_class": service,
            "access": "p2p_fibre" if service == "sla_gold" else "ethernet_service",  # gold: fibres of its own
            "bandwidth_mbps": bandwidth, "link": None, "device": ntu_name(code), "status": "active",
            "source": GENERATED, "serving_site": site_code})

    for site in (s for s in sites if s["kind"] == "hospital"):
        connect(site["name"], site["code"], "sla_gold", 10_000, at_site=site["code"])

    def fill(site, district, street, companies, place):
        placed = 0
        while placed < companies:
            here = min(rng.choice((1, 1, 1, 2, 2, 3, 4)), companies - placed)
            code = f"bldg-{site['code']}-{len(buildings) + 1:04d}"
            lat, lon = place()
            buildings.append(_building(code, f"{street} {len(buildings) % 97 + 1}", district, lat, lon,
                                       business=here + rng.choice((0, 0, 1))))
            for _ in range(here):
                connect(_company(rng, names), site["code"], *_service(rng), building=code)
            placed += here

    parks = [s for s in sites if s["kind"] == "business_park"]
    for park, companies in zip(parks, PARK_COMPANIES):
        fill(park, park["district"], park["name"], companies,
             lambda park=park: _jitter(rng, park["lat"], park["lon"], 220))
    for centre, district, zone_name, count, companies in CENTRES:
        _, street, _, waypoints, _ = _zone(zone_name)
        frontage = _along(waypoints, 12.0)
        cabinets = [s for s in sites if s["code"].startswith(f"cabinet-{centre}-")]
        for k, cabinet in enumerate(cabinets):
            stretch = frontage[k * len(frontage) // count:(k + 1) * len(frontage) // count]

            def place(stretch=stretch):
                lat, lon = rng.choice(stretch)
                return _offset(lat, lon, rng.choice((-1, 1)) * rng.uniform(15, 40), rng.uniform(-6, 6))

            fill(cabinet, district, street, companies // count + (k < companies % count), place)
    return buildings, connections


# -- homes: the PON ------------------------------------------------------------------------------

class Pon:
    """Lays the PON's trench and cables on the city's plant and collects its rows."""

    def __init__(self, grid: StreetGrid, plant: PlantBuilder, pop_junctions: dict[str, tuple[int, int]],
                 rng: random.Random, manifest: dict[str, Any]):
        self.grid, self.plant, self.rng, self.manifest = grid, plant, rng, manifest
        self.pop_of_junction = {j: pop for pop, pair in pop_junctions.items() for j in pair}
        self.matrix = grid.preferring(plant.built_grid_edges(), TRENCH_PREFERENCE)  # existing ducts first
        self.closures: dict[str, dict[str, Any]] = {}
        self.cables: dict[str, dict[str, Any]] = {}
        self.cable_segments: dict[str, list[str]] = {}
        self.buildings: list[dict[str, Any]] = []
        self.olt_ports: list[dict[str, Any]] = []  # {"pop", "port", "optics_class"}
        self.splitters: list[dict[str, Any]] = []
        self.onts: list[dict[str, Any]] = []
        self.drop_streets: set[frozenset] = set()
        self.fibre_m: dict[str, float] = {}  # splitter -> feeder fibre from the OLT to it

    # plant ----------------------------------------------------------------------------------
    def closure(self, node: str) -> str:
        code = f"cl-{node}"
        self.closures.setdefault(code, {"code": code, "node": node,  # sized in ``city._size_closures``
                                        "status": "active", "source": GENERATED})
        return code

    def cable(self, code: str, route: list[str], strands: int, a_site: str | None = None) -> str:
        plant = self.plant
        segments = _route_segments(plant, route)
        length = sum(plant.segments[s]["length_m"] for s in segments)
        self.cables[code] = {
            "code": code, "strands": strands, "a_site": a_site, "a_closure": None if a_site else self.closure(route[0]),
            "b_site": None, "b_closure": self.closure(route[-1]), "length_m": round(length * 1.02 + 15, 1),
            "year": max(plant.segments[s]["year"] for s in segments), "status": "active", "source": GENERATED}
        self.cable_segments[code] = segments
        return code

    def lay(self, points, populations) -> None:
        total = sum(populations.values())
        quotas = {d: HOMES_PASSED * p / total for d, p in populations.items()}
        homes = {d: int(q) for d, q in quotas.items()}
        for d in sorted(quotas, key=lambda d: quotas[d] - homes[d], reverse=True)[: HOMES_PASSED - sum(homes.values())]:
            homes[d] += 1
        hub_district = max(populations, key=populations.get)
        for district in sorted(homes):
            self.district(district, points[district][:2], homes[district], hub=district == hub_district)
        self.plant_weaknesses()

    def district(self, district: str, centre: tuple[float, float], homes: int, hub: bool) -> None:
        rng = self.rng
        take_up = rng.uniform(*TAKE_UP_RANGE)
        passed, cabinet_no = 0, 0
        while passed < homes:
            cabinet_no += 1
            spread = 250 if cabinet_no == 1 else 700
            lat, lon = _jitter(rng, *centre, spread)
            pons = HUB_PONS if hub and cabinet_no == 1 else rng.randint(*PONS_PER_CABINET)
            passed += self.cabinet(f"pon-{_slug(district)}-{cabinet_no}", district, lat, lon, pons,
                                   homes - passed, take_up)

    def cabinet(self, code: str, district: str, lat: float, lon: float, pons: int, homes: int, take_up: float) -> int:
        grid, plant, rng = self.grid, self.plant, self.rng
        (junction,) = grid.nearest(lat, lon, 1)
        node = plant.extra_node(code, "cabinet", grid.lat[junction] + 0.00018, grid.lon[junction] + 0.00022)
        plant.segment(node, plant.grid_node(junction), ducts=2)
        to_pop = grid.shortest([junction], set(self.pop_of_junction), matrix=self.matrix)
        pop = self.pop_of_junction[to_pop[-1]]
        feeder = self.cable(f"fdr-{code}", [plant.pop_entry_at[to_pop[-1]]] + plant.grid_path(to_pop[::-1]) + [node],
                            next(s for s in FEEDER_STRANDS if s >= pons + 4), a_site=pop)
        passed = 0
        for k in range(1, pons + 1):
            if passed >= homes:  # the Stadtteil's homes are passed: no PON without homes
                break
            first_ratio, second_ratio = rng.choice(LAYOUTS)
            port = sum(1 for p in self.olt_ports if p["pop"] == pop)
            first = f"spl-{code}-{k}"
            self.olt_ports.append({"pop": pop, "port": port, "optics_class": "b_plus", "splitter": first})
            self.splitters.append({"code": first, "ratio": first_ratio, "node": node, "olt_device": f"{pop}-olt1",
                                   "olt_interface": f"gpon0/1/{port}", "parent": None, "parent_port": None,
                                   "feeder_cable": feeder, "feeder_strand": k, "status": "active",
                                   "source": GENERATED})
            self.fibre_m[first] = self.cables[feeder]["length_m"]
            for first_port in range(1, first_ratio):  # one port stays free
                if passed >= homes:
                    return passed
                passed += self.street(f"{code}-{k}-{first_port}", first, first_port, second_ratio, node, junction,
                                      district, take_up)
        return passed

    def street(self, code: str, parent: str, parent_port: int, ratio: int, cabinet: str, junction: int,
               district: str, take_up: float) -> int:
        """A second-stage splitter a few blocks from the cabinet and one street of buildings."""
        grid, plant, rng = self.grid, self.plant, self.rng
        here, end = junction, None
        for _ in range(20):
            for _ in range(rng.randint(1, 2)):
                here = rng.choice(grid.neighbours(here))
            ends = [n for n in grid.neighbours(here) if frozenset((here, n)) not in self.drop_streets]
            if ends:
                end = rng.choice(ends)
                break
        if end is None:
            return 0
        self.drop_streets.add(frozenset((here, end)))
        path = grid.shortest([junction], {here}, matrix=self.matrix)
        distribution = self.cable(f"dst-{code}", [cabinet] + plant.grid_path(path), 12)
        node = plant.node_code[here]
        drop = self.cable(f"drp-{code}", plant.grid_path([here, end]), 24 if ratio > 8 else 12)
        self.splitters.append({"code": f"spl-{code}", "ratio": ratio, "node": node, "olt_device": None,
                               "olt_interface": None, "parent": parent, "parent_port": parent_port,
                               "feeder_cable": distribution, "feeder_strand": 1, "status": "active",
                               "source": GENERATED})
        self.fibre_m[f"spl-{code}"] = self.fibre_m[parent] + self.cables[distribution]["length_m"]
        street = self.grid.edge_coords(self.grid.edge_index[(here, end)])
        ports = rng.randint(ratio // 2, ratio - 1)  # one port stays free
        passed, port = 0, 0
        while port < ports:
            units = self.units()
            onts = min(math.ceil(units / ONT_UNITS), ports - port)
            units = min(units, onts * ONT_UNITS)
            building = self.building(district, street, units)
            for share in _shares(units, onts):
                port += 1
                self.onts.append({"code": f"ont-{len(self.onts) + 1:05d}", "building": building,
                                  "splitter": f"spl-{code}", "splitter_port": port, "units": share,
                                  "take_up": "connected" if rng.random() < take_up else "passed",
                                  "drop_cable": drop, "drop_strand": port, "status": "active",
                                  "source": GENERATED})
            passed += units
        return passed

    def units(self) -> int:
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice((1, 1, 2))  # houses: FTTH, one ONT
        if r < 0.85:
            return self.rng.randint(4, 12)
        return self.rng.randint(16, 48)  # blocks: FTTB, an ONT per stairwell

    def building(self, district: str, street: list[list[float]], units: int) -> str:
        rng = self.rng
        t = rng.uniform(0.1, 0.9)
        (lon1, lat1), (lon2, lat2) = street[0], street[-1]
        lat, lon = lat1 + t * (lat2 - lat1), lon1 + t * (lon2 - lon1)
        dx, dy = (lon2 - lon1) * M_PER_DEG_LON, (lat2 - lat1) * M_PER_DEG_LAT
        norm = math.hypot(dx, dy) or 1.0
        side = rng.choice((-1, 1)) * rng.uniform(12, 25)  # either side of the street
        lat, lon = _offset(lat, lon, side * dx / norm, -side * dy / norm)
        code = f"bldg-{_slug(district)}-{len(self.buildings) + 1:05d}"
        self.buildings.append(_building(code, f"{district}, Straße {len(self.buildings) % 60 + 1}", district, lat, lon,
                                        residential=units))
        return code

    # planted weaknesses ---------------------------------------------------------------------------
    def fibre_of(self, ont: dict[str, Any]) -> float:
        return self.fibre_m[ont["splitter"]] + self.cables[ont["drop_cable"]]["length_m"]

    def plant_weaknesses(self) -> None:
        by_code = {s["code"]: s for s in self.splitters}
        port_of = {p["splitter"]: p for p in self.olt_ports}
        reach: dict[str, float] = {}  # first-stage splitter -> its longest fibre
        onts_of: dict[str, list[dict]] = {}
        for ont in self.onts:
            first = by_code[ont["splitter"]]["parent"]
            reach[first] = max(reach.get(first, 0.0), self.fibre_of(ont))
            onts_of.setdefault(ont["splitter"], []).append(ont)
        for first, metres in reach.items():
            port_of[first]["optics_class"] = "c_plus" if metres > B_PLUS_REACH_M else "b_plus"

        # a PON whose budget fails: an 8x8 B+ PON 2-3 km out, one closure's 1:8 swapped for a 1:32
        candidates = sorted(
            (s for s in self.splitters if s["parent"] and s["ratio"] == 8 and s["code"] in onts_of
             and port_of[s["parent"]]["optics_class"] == "b_plus"),
            key=lambda s: (-min(self.fibre_of(o) for o in onts_of[s["code"]]), s["code"]))
        swapped = candidates[0]
        swapped["ratio"] = 32
        first = by_code[swapped["parent"]]
        self.manifest["pon_budget_fails"] = {
            "olt_device": first["olt_device"], "olt_interface": first["olt_interface"], "optics_class": "b_plus",
            "splitters": [first["code"], swapped["code"]],
            "splitter_loss_db": round(SPLITTER_LOSS_DB[first["ratio"]] + SPLITTER_LOSS_DB[32], 1),
            "fibre_m": {o["code"]: round(self.fibre_of(o), 1) for o in onts_of[swapped["code"]]},
            "onts": sorted(o["code"] for o in onts_of[swapped["code"]]),
        }

        # an overbooked splitter: every port taken, and a building on its street still waiting
        full = max((s for s in self.splitters if s["parent"] and s["code"] in onts_of and s["ratio"] == 16),
                   key=lambda s: (len(onts_of[s["code"]]), s["code"]))
        last = onts_of[full["code"]][-1]
        district = next(b["district"] for b in self.buildings if b["code"] == last["building"])
        street = self.grid.edge_coords(self.grid.edge_index[self._street_of(last["drop_cable"])])
        for port in range(last["splitter_port"] + 1, full["ratio"] + 1):
            self.onts.append({**last, "code": f"ont-{len(self.onts) + 1:05d}", "units": 6, "splitter_port": port,
                              "building": self.building(district, street, 6), "drop_strand": port,
                              "take_up": "connected"})
        waiting = self.building(district, street, 10)
        self.manifest["full_splitters"] = [full["code"]]
        self.manifest["waiting_buildings"] = [waiting]

        # the feeder cable with the most homes behind it (the hub cabinet's six PONs)
        units: dict[str, int] = {}
        for ont in self.onts:
            first = by_code[ont["splitter"]]["parent"]
            cable = by_code[first]["feeder_cable"]
            units[cable] = units.get(cable, 0) + ont["units"]
        hub = max(units, key=units.get)
        self.manifest["feeder_hub"] = {"cable": hub, "homes_passed": units[hub],
                                       "olt_ports": sum(1 for s in self.splitters if s["feeder_cable"] == hub)}

    def _street_of(self, drop_cable: str) -> tuple[int, int]:
        index = self.plant.grid_index()
        seg = self.plant.segments[self.cable_segments[drop_cable][0]]
        return index[seg["a_node"]], index[seg["b_node"]]


def _shares(units: int, parts: int) -> list[int]:
    return [units // parts + (i < units % parts) for i in range(parts)]


# -- the premises: an NTU per business line -------------------------------------------------------

def premises(connections: list[dict], built: LinkBuilder, site_routes: dict[str, list[tuple[str, list[str]]]],
             manifest: dict[str, Any]) -> None:
    """An NTU (network termination unit, the carrier's device at the customer's premises)
    per business line, as ``built`` devices and links. An Ethernet service: the NTU patched
    to a port of the serving site's switch (the site's own wiring to the company's building
    is not modelled). A gold SLA line: two fibre links of its own, NTU to a PoP
    distribution switch each, on spare strand pairs of the cables along the serving site's
    two routes (its two uplinks, or its uplink and the protection route ``build_city`` lays
    where the site has one route), so one cut takes down at most one of them. Where the
    site's two routes share a trench or manhole (a planted ``shared_trench`` site), its gold
    lines share it too: the manifest's ``gold_shared_protection``."""
    switch_ports: dict[str, int] = {}
    manifest["gold_shared_protection"] = {}
    for number, line in enumerate(connections):
        site, code = line.pop("serving_site"), line["code"]
        gold = line["service_class"] == "sla_gold"
        ntu = built.device(line["device"], site, DeviceRole.NTU.value, NTU_PLATFORM, NTU_VENDOR, NTU_MODEL, "FOC",
                           mgmt_ip=str(NTU_MANAGEMENT[number + 1]))
        speed = max(line["bandwidth_mbps"], 1000)
        if not gold:
            port = switch_ports[site] = switch_ports.get(site, 0) + 1
            built.link(f"{code}-patch", built.iface(ntu, "Gi1/1", "fibre", speed, description=f"to {site}-sw1"),
                       built.iface(f"{site}-sw1", f"Gi{2 + (port - 1) // 48}/0/{1 + (port - 1) % 48}", "fibre",
                                   speed, description=f"{code} {line['company']}"), "fibre")
            continue
        optic = "10GBASE-ER-40km" if speed > 1000 else "1000BASE-LX-10km"
        routes = site_routes[site][:2]
        for (pop, route), side in zip(routes, "ab"):
            pop_switch, port = built.pop_port(pop)
            built.link(f"{code}-{side}",
                       built.iface(ntu, f"Te1/{1 + (side == 'b')}", "fibre", speed, optic, f"path {side} to {pop}"),
                       built.iface(pop_switch, port, "fibre", speed, optic, f"{code} path {side}"),
                       "fibre", built.route_cables(route))
        if len(routes) == 2:
            shared = _shared(built.plant, *(route for _, route in routes))
            if shared["segments"] or shared["nodes"]:
                manifest["gold_shared_protection"][code] = {"site": site, **shared}


def _shared(plant, first: list[str], second: list[str]) -> dict[str, list[str]]:
    """Trench segments and route nodes two routes from one site entry share (beyond the entry)."""
    return {"segments": sorted(set(_route_segments(plant, first)) & set(_route_segments(plant, second))),
            "nodes": sorted(set(first[1:]) & set(second[1:]))}


# -- the rows ----------------------------------------------------------------------------------

def access_rows(sites, pon: Pon, built: LinkBuilder, site_routes, rng: random.Random,
                manifest: dict[str, Any]) -> dict[str, list[dict]]:
    """OLTs at the PoPs (device, ports, uplink to the distribution switch), the customer
    rows, and an NTU per business line. Appends to ``built``'s devices, interfaces and links."""
    devices, interfaces, links = built.devices, built.interfaces, built.links
    names = {p[0]: p[1] for p in POPS}
    for pop in sorted({p["pop"] for p in pon.olt_ports}, key=list(names).index):
        olt = f"{pop}-olt1"
        devices.append({"name": olt, "site": pop, "role": "olt", "platform": "huawei_olt", "vendor": "Huawei",
                        "model": "MA5800-X7", "mgmt_ip": _ip(len(devices)), "snmp_profile": "city_v3",
                        "ssh_profile": "netops_ro", "serial": _serial(rng, "HW"), "status": "active",
                        "source": GENERATED})
        interfaces.append({"device": olt, "name": "xge0/9/0", "kind": "fibre", "speed_mbps": 10000,
                           "optic": "10GBASE-LR-10km", "description": f"uplink to {pop}-ds1"})
        interfaces.append({"device": f"{pop}-ds1", "name": "Te1/1/4", "kind": "fibre", "speed_mbps": 10000,
                           "optic": "10GBASE-LR-10km", "description": f"{olt}"})
        links.append({"code": f"{pop}-olt-dist", "a_device": olt, "a_interface": "xge0/9/0",
                      "b_device": f"{pop}-ds1", "b_interface": "Te1/1/4", "medium": "fibre", "status": "active",
                      "source": GENERATED})
    olt_ports = []
    for port in pon.olt_ports:
        olt, name = f"{port['pop']}-olt1", f"gpon0/1/{port['port']}"
        interfaces.append({"device": olt, "name": name, "kind": "fibre", "speed_mbps": 2500, "optic": None,
                           "description": f"PON {port['optics_class'].replace('_plus', '+').upper()}"})
        olt_ports.append({"device": olt, "interface": name, "optics_class": port["optics_class"],
                          "status": "active", "source": GENERATED})
    business_buildings, business = business_rows(sites, rng)
    built.rng = rng  # the NTUs' serials after everything else's
    premises(business, built, site_routes, manifest)
    return {"building": business_buildings + pon.buildings, "business_connection": business,
            "olt_port": olt_ports, "splitter": pon.splitters, "residential_connection": pon.onts}
