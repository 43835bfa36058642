"""The Gelsenkirchen network as data: real sites plus a deterministic generated plant.

Real rows (``source`` names the dataset): the 80 Gelsenkirchen schools with official
coordinates, the 6 hospitals, the Stadtteile and Stadtbezirke, the 12 named business
parks (names real, coordinates generated inside their Stadtteil). Everything else is
generated from a fixed seed and marked ``source = "generated"``:

* PoPs on a backbone ring (City, Buer, Horst, Erle, Ückendorf in Gelsenkirchen, plus
  Gladbeck and Bottrop for the ring beyond the city), public buildings, 123 Kitas spread
  over the Stadtteile by population, and 260+ FreeWiFi hotspots in contiguous zones
  (Bahnhofstraße from the Musiktheater to the station, Hochstraße in Buer, and clusters
  around public buildings), about 90 % fibre-fed and the rest radio-meshed;
* a street-like candidate network (a jittered grid of ~200 m blocks with gaps), of which
  the built trench network is the part the sites' routes use::

        school ─E═╗         E  site entry (two entry trenches when redundant)
                  ║         ═  trench segment on the primary route
           J1 ────╫──── J2  ─  trench segment on the secondary, node-disjoint route
            │     ║     │
           ...   ...   ...  → routes end at two different PoPs on the ring

* cables by chain decomposition: every maximal run of trench between branch points is one
  cable, with a splice closure at each branch point; ring cables run PoP to PoP;
* devices, interfaces, and links routed hop by hop over those cables on strand pairs.

Grown to the city's own account (issue 14): the 53 schools of Gladbeck and Bottrop on their
towns' PoPs, street cabinets in the commercial centres, and the customers (companies, homes
on a PON) of ``inventory/seed/customers.py``, about 620 km of cable in all. They draw from a
second random stream, so the rows above come out as they did before the growth.

Real networks have weaknesses, and so does this one, on purpose. The ``manifest`` lists
every planted one so that tests can check that the audits find them and nothing else:
single-homed sites, "redundant" sites whose two links share a trench, a spur feeding a
cluster, full ducts, a device without a management address, a segment whose recorded
length disagrees with its geometry; on the PON a budget that fails, a full splitter and a
feeder cable with over a thousand homes; a gold SLA line whose two paths share a manhole.
Hotspot APs have a single uplink by design.

``scale=N`` tiles N copies of the city (codes suffixed ``-tK``) joined PoP to PoP, for
benchmarks.
"""

from __future__ import annotations

import ipaddress
import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from inventory.models import GENERATED
from inventory.plant import closure_size, halves_to_splices, splice_halves
from inventory.seed import real
from netops.geo import distance_m, line_length_m

SEED = 2017  # the year the city counted 260+ hotspots
GRID_LAT0, GRID_LAT1 = 51.470, 51.625
GRID_LON0, GRID_LON1 = 6.895, 7.160
BLOCK_M = 200.0
M_PER_DEG_LAT = 111_195.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(51.55))
TILE_DLAT, TILE_DLON = 0.18, 0.30
KITAS = 123
KITAS_ACTIVE = 40  # the first wave; the rest are planned (the planners' job)
STRAND_SIZES = (12, 24, 48, 96, 144, 288)
INSTALL_YEAR_RANGE = (2008, 2024)
TRENCH_PREFERENCE = 0.25  # new routes count existing trench at this share of its length

# Approximate points (generated) for Stadtteile without an official one: a nearby PLZ
# centroid, nudged into the Stadtteil. Documented in SOURCES.md of the generated data.
DISTRICT_FALLBACK = {
    "Bulmke-Hüllen": (51.5170, 7.1150),
    "Feldmark": (51.5120, 7.0630),
    "Heßler": (51.5250, 7.0650),
    "Schalke-Nord": (51.5380, 7.0850),
    "Erle": (51.5600, 7.0830),
    "Neustadt": (51.5010, 7.0920),
    "Ückendorf": (51.4960, 7.1190),
    "Rotthausen": (51.4890, 7.0840),
}

#: the two towns beyond Gelsenkirchen on the ring, and the PoP their own network hangs on
NEIGHBOUR_POPS = {"Gladbeck": "pop-gladbeck", "Bottrop": "pop-bottrop"}

# PoPs: code, name, lat, lon, city, district (generated, plausible locations)
POPS = [
    ("pop-city", "PoP City (Hans-Sachs-Haus)", 51.5108, 7.0985, "Gelsenkirchen", "Altstadt"),
    ("pop-ueckendorf", "PoP Ückendorf (Wissenschaftspark)", 51.4986, 7.1112, "Gelsenkirchen", "Ückendorf"),
    ("pop-erle", "PoP Erle", 51.5598, 7.0845, "Gelsenkirchen", "Erle"),
    ("pop-buer", "PoP Buer (Rathaus)", 51.5776, 7.0528, "Gelsenkirchen", "Buer"),
    ("pop-horst", "PoP Horst", 51.5372, 7.0290, "Gelsenkirchen", "Horst"),
    ("pop-gladbeck", "PoP Gladbeck", 51.5705, 6.9870, "Gladbeck", None),
    ("pop-bottrop", "PoP Bottrop", 51.5236, 6.9290, "Bottrop", None),
]

# Public buildings with a FreeWiFi cluster around them (generated, approximate points).
PUBLIC_BUILDINGS = [
    ("pb-hans-sachs-haus", "Hans-Sachs-Haus (Rathaus)", 51.5107, 7.0977, "Altstadt", 8),
    ("pb-musiktheater", "Musiktheater im Revier", 51.5118, 7.0945, "Altstadt", 8),
    ("pb-vhs", "Volkshochschule (Bildungszentrum)", 51.5113, 7.0962, "Altstadt", 6),
    ("pb-zoom", "ZOOM Erlebniswelt", 51.5545, 7.1085, "Erle", 16),
    ("pb-revierpark", "Revierpark Nienhausen", 51.4968, 7.1452, "Rotthausen", 14),
    ("pb-rathaus-buer", "Rathaus Buer", 51.5781, 7.0518, "Buer", 8),
    ("pb-schloss-horst", "Schloss Horst", 51.5359, 7.0287, "Horst", 10),
    ("pb-nordsternpark", "Nordsternpark", 51.5335, 7.0410, "Horst", 16),
    ("pb-schloss-berge", "Schloss Berge", 51.5862, 7.0549, "Buer", 12),
    ("pb-heinrich-koenig-platz", "Heinrich-König-Platz", 51.5101, 7.0999, "Altstadt", 6),
    ("pb-margarethe-zingler-platz", "Margarethe-Zingler-Platz", 51.5084, 7.0968, "Altstadt", 6),
    ("pb-sport-paradies", "Sport-Paradies", 51.5226, 7.0795, "Schalke", 10),
    ("pb-stadtbibliothek-buer", "Stadtbibliothek Buer", 51.5769, 7.0564, "Buer", 6),
    ("pb-bahnhof-buer-nord", "Bahnhof Buer-Nord", 51.5847, 7.0444, "Buer", 10),
]

# Street zones: waypoints (lat, lon); hotspots every `spacing` metres along the polyline.
STREET_ZONES = [
    # Musiktheater → Bahnhofstraße → Bahnhofsvorplatz, 2.3 km as the city states it
    ("bahnhofstrasse", "Bahnhofstraße", "Altstadt",
     [(51.5118, 7.0945), (51.5102, 7.0972), (51.5086, 7.1002), (51.5071, 7.1030),
      (51.5058, 7.1058), (51.5049, 7.1085), (51.5062, 7.1110), (51.5079, 7.1141),
      (51.5064, 7.1166), (51.5050, 7.1190), (51.5043, 7.1205)], 25.0),
    ("hochstrasse", "Hochstraße", "Buer",
     [(51.5752, 7.0508), (51.5768, 7.0522), (51.5784, 7.0537), (51.5801, 7.0549),
      (51.5818, 7.0561)], 20.0),
]

OPTICS = [
    # name, standard, wavelength, reach km, tx min dBm, rx sensitivity dBm (datasheet worst case)
    ("1000BASE-LX-10km", "1000BASE-LX", 1310, 10.0, -9.5, -20.0),
    ("1000BASE-ZX-80km", "1000BASE-ZX", 1550, 80.0, 0.0, -24.0),
    ("10GBASE-LR-10km", "10GBASE-LR", 1310, 10.0, -8.2, -14.4),
    ("10GBASE-ER-40km", "10GBASE-ER", 1550, 40.0, -4.7, -15.8),
]


@dataclass
class Dataset:
    """File rows per entity kind (see ``inventory.entities``) plus the planted weaknesses."""

    rows: dict[str, list[dict[str, Any]]]
    manifest: dict[str, Any]
    streets: list[dict[str, Any]] = field(default_factory=list)  # candidate segments, GeoJSON features

    def count(self, kind: str) -> int:
        return len(self.rows.get(kind, []))


# ---------------------------------------------------------------------------------------
# Street grid


class StreetGrid:
    """A jittered grid of junctions with ~200 m blocks and some missing blocks, as a
    sparse graph for fast shortest paths (scipy's C Dijkstra)."""

    def __init__(self, rng: random.Random):
        dlat, dlon = BLOCK_M / M_PER_DEG_LAT, BLOCK_M / M_PER_DEG_LON
        self.rows = int((GRID_LAT1 - GRID_LAT0) / dlat) + 1
        self.cols = int((GRID_LON1 - GRID_LON0) / dlon) + 1
        self.dlat, self.dlon = dlat, dlon
        n = self.rows * self.cols
        self.lat = np.empty(n)
        self.lon = np.empty(n)
        for r in range(self.rows):
            for c in range(self.cols):
                i = r * self.cols + c
                self.lat[i] = GRID_LAT0 + r * dlat + rng.uniform(-0.22, 0.22) * dlat
                self.lon[i] = GRID_LON0 + c * dlon + rng.uniform(-0.22, 0.22) * dlon
        edges: list[tuple[int, int]] = []
        for r in range(self.rows):
            for c in range(self.cols):
                i = r * self.cols + c
                if c + 1 < self.cols and rng.random() > 0.12:
                    edges.append((i, i + 1))
                if r + 1 < self.rows and rng.random() > 0.12:
                    edges.append((i, i + self.cols))
        self.edges = edges
        self.edge_index: dict[tuple[int, int], int] = {}
        self.bends: list[tuple[float, float]] = []
        for k, (a, b) in enumerate(edges):
            self.edge_index[(a, b)] = self.edge_index[(b, a)] = k
            # a slight bend in the middle, so trenches look like streets, not a ruler
            self.bends.append((rng.uniform(-0.08, 0.08) * dlat, rng.uniform(-0.08, 0.08) * dlon))
        self.lengths = np.array([line_length_m(self.edge_coords(k)) for k in range(len(edges))])
        src = [a for a, b in edges] + [b for a, b in edges]
        dst = [b for a, b in edges] + [a for a, b in edges]
        weights = np.concatenate([self.lengths, self.lengths])
        self.matrix = csr_matrix((weights, (src, dst)), shape=(n, n))
        # where each edge's weight sits in the CSR data array, to block edges cheaply
        self._slots: dict[tuple[int, int], int] = {}
        indptr, indices = self.matrix.indptr, self.matrix.indices
        for row in range(n):
            for slot in range(indptr[row], indptr[row + 1]):
                self._slots[(row, int(indices[slot]))] = slot

    def edge_coords(self, k: int) -> list[list[float]]:
        a, b = self.edges[k]
        blat, blon = self.bends[k]
        mid = [(self.lon[a] + self.lon[b]) / 2 + blon, (self.lat[a] + self.lat[b]) / 2 + blat]
        return [[round(self.lon[a], 6), round(self.lat[a], 6)], [round(mid[0], 6), round(mid[1], 6)],
                [round(self.lon[b], 6), round(self.lat[b], 6)]]

    def preferring(self, edges: set[tuple[int, int]], factor: float) -> csr_matrix:
        """The street graph with ``edges`` (e.g. those with trench already) ``factor`` times as long."""
        matrix = self.matrix.copy()
        for u, v in edges:
            for slot in (self._slots.get((u, v)), self._slots.get((v, u))):
                if slot is not None:
                    matrix.data[slot] = self.matrix.data[slot] * factor
        return matrix

    def neighbours(self, i: int) -> list[int]:
        indptr = self.matrix.indptr
        return sorted(int(j) for j in self.matrix.indices[indptr[i]:indptr[i + 1]])

    def nearest(self, lat: float, lon: float, count: int = 2) -> list[int]:
        r = int(round((lat - GRID_LAT0) / self.dlat))
        c = int(round((lon - GRID_LON0) / self.dlon))
        candidates = [
            rr * self.cols + cc
            for rr in range(max(r - 2, 0), min(r + 3, self.rows))
            for cc in range(max(c - 2, 0), min(c + 3, self.cols))
            if self.matrix.indptr[rr * self.cols + cc + 1] > self.matrix.indptr[rr * self.cols + cc]
        ]
        candidates.sort(key=lambda i: distance_m(lat, lon, self.lat[i], self.lon[i]))
        return candidates[:count]

    def shortest(self, sources: list[int], targets: set[int], blocked_nodes: set[int] = frozenset(),
                 blocked_edges: set[tuple[int, int]] = frozenset(), matrix: csr_matrix | None = None,
                 ) -> list[int] | None:
        """Node path from the nearest source to the nearest target avoiding what is blocked
        (on ``matrix``, a re-weighted copy of the street graph, if given)."""
        matrix = self.matrix if matrix is None else matrix
        data = matrix.data
        saved: list[tuple[int, float]] = []
        for u, v in blocked_edges:
            for slot in (self._slots.get((u, v)), self._slots.get((v, u))):
                if slot is not None:
                    saved.append((slot, data[slot]))
                    data[slot] = np.inf
        indptr, indices = self.matrix.indptr, self.matrix.indices
        for u in blocked_nodes:
            for slot in range(indptr[u], indptr[u + 1]):
                saved.append((slot, data[slot]))
                data[slot] = np.inf
                back = self._slots[(int(indices[slot]), u)]
                saved.append((back, data[back]))
                data[back] = np.inf
        try:
            dist, pred, src = dijkstra(matrix, indices=sources, min_only=True,
                                       return_predecessors=True)
        finally:
            for slot, value in reversed(saved):
                data[slot] = value
        best = min(targets, key=lambda t: dist[t])
        if not np.isfinite(dist[best]):
            return None
        path = [best]
        while path[-1] != src[best]:
            path.append(int(pred[path[-1]]))
        return path[::-1]


# ---------------------------------------------------------------------------------------
# Sites


def _district_points() -> dict[str, tuple[float, float, str]]:
    points = {}
    for d in real.districts():
        lat, lon = (d.lat, d.lon) if d.lat is not None else DISTRICT_FALLBACK[d.name]
        points[d.name] = (lat, lon, d.borough)
    return points


def _district_populations() -> dict[str, int]:
    """Stadtteil populations; where a page gave none, the Stadtbezirk's remainder is split
    evenly among its Stadtteile without a figure."""
    by_borough: dict[str, list] = {}
    for d in real.districts():
        by_borough.setdefault(d.borough, []).append(d)
    result = {}
    for borough, members in by_borough.items():
        known = sum(d.population or 0 for d in members)
        unknown = [d for d in members if d.population is None]
        rest = max(real.borough_populations()[borough] - known, 0)
        for d in members:
            result[d.name] = d.population if d.population is not None else rest // len(unknown)
    return result


def _nearest_district(lat: float, lon: float, points) -> tuple[str, str]:
    name = min(points, key=lambda n: distance_m(lat, lon, points[n][0], points[n][1]))
    return name, points[name][2]


def _jitter(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    return (round(lat + rng.gauss(0, metres) / M_PER_DEG_LAT, 6),
            round(lon + rng.gauss(0, metres) / M_PER_DEG_LON, 6))


def _site(code, name, kind, lat, lon, source, *, district=None, borough=None, city="Gelsenkirchen",
          status="active", address=None, postcode=None, external_id=None, notes=None) -> dict[str, Any]:
    return {
        "code": code, "name": name, "kind": kind, "address": address, "postcode": postcode,
        "city": city, "lat": lat, "lon": lon, "district": district, "borough": borough,
        "criticality": None, "external_id": external_id, "status": status, "source": source,
        "notes": notes,
    }


def _along(points: list[tuple[float, float]], spacing: float) -> list[tuple[float, float]]:
    """Points every `spacing` metres along a polyline of (lat, lon)."""
    out, carry = [], 0.0
    for (lat1, lon1), (lat2, lon2) in zip(points, points[1:]):
        seg = distance_m(lat1, lon1, lat2, lon2)
        pos = carry
        while pos < seg:
            t = pos / seg
            out.append((lat1 + t * (lat2 - lat1), lon1 + t * (lon2 - lon1)))
            pos += spacing
        carry = pos - seg
    return out


def build_sites(rng: random.Random) -> list[dict[str, Any]]:
    points = _district_points()
    sites: list[dict[str, Any]] = []
    for code, name, lat, lon, city, district in POPS:
        borough = points[district][2] if district else None
        sites.append(_site(code, name, "core", lat, lon, GENERATED, district=district, borough=borough, city=city))
    for s in real.schools():
        lat, lon = float(s["lat"]), float(s["lon"])
        district, borough = _nearest_district(lat, lon, points)
        sites.append(_site(
            f"school-{s['schulnummer']}", s["name"], "school", lat, lon, real.SCHOOLS_SOURCE,
            district=district, borough=borough, address=s["strasse"], postcode=s["plz"],
            external_id=s["schulnummer"], status="planned" if s["schulbetrieb_code"] == "3" else "active",
        ))
    for h in real.hospitals():
        lat, lon = round(float(h["lat"]), 6), round(float(h["lon"]), 6)
        district, borough = _nearest_district(lat, lon, points)
        sites.append(_site(
            f"hospital-{h['id'].split('_')[0]}", h["site_name"], "hospital", lat, lon, real.HOSPITALS_SOURCE,
            district=district, borough=borough, address=f"{h['street']} {h['house_number']}",
            postcode=h["postcode"], external_id=h["id"],
        ))
    for i, park in enumerate(real.business_parks(), start=1):
        district = next((d for d in points if park["stadtteil"].startswith(d)), "Bismarck")
        if park["name"] == "Arena Park":  # around the Veltins-Arena
            lat, lon = 51.5546, 7.0676
        else:
            lat, lon = _jitter(rng, points[district][0], points[district][1], 450)
        sites.append(_site(
            f"bp-{i:02d}", park["name"], "business_park", lat, lon, real.BUSINESS_PARKS_SOURCE,
            district=district, borough=points[district][2],
            notes="coordinates generated inside the Stadtteil; the name and facts are real",
        ))
    for code, name, lat, lon, district, _ in PUBLIC_BUILDINGS:
        sites.append(_site(code, name, "public_building", lat, lon, GENERATED, district=district,
                           borough=points[district][2], notes="approximate location"))
    populations = _district_populations()
    total = sum(populations.values())
    quotas = {d: KITAS * p / total for d, p in populations.items()}
    counts = {d: int(q) for d, q in quotas.items()}
    for d in sorted(quotas, key=lambda d: quotas[d] - counts[d], reverse=True)[: KITAS - sum(counts.values())]:
        counts[d] += 1
    kita_no = 0
    names = ["Sonnenschein", "Regenbogen", "Pusteblume", "Arche", "Spatzennest", "Löwenzahn",
             "Sternschnuppe", "Kunterbunt", "Wirbelwind", "Schatzkiste", "Zwergenland", "Abenteuerland"]
    for district in sorted(counts):
        lat0, lon0, borough = points[district]
        for _ in range(counts[district]):
            kita_no += 1
            lat, lon = _jitter(rng, lat0, lon0, 650)
            sites.append(_site(
                f"kita-{kita_no:03d}", f"Kita {rng.choice(names)} {district} {kita_no}", "kindergarten",
                lat, lon, GENERATED, district=district, borough=borough,
                status="active" if kita_no % 3 == 0 and kita_no // 3 <= KITAS_ACTIVE else "planned",
            ))
    hotspot_no = 0
    for zone, street, district, waypoints, spacing in STREET_ZONES:
        for k, (lat, lon) in enumerate(_along(waypoints, spacing), start=1):
            hotspot_no += 1
            side = 1 if k % 2 else -1  # both sides of the street
            sites.append(_site(
                f"hotspot-{zone}-{k:03d}", f"FreeWiFi {street} {k}", "hotspot",
                round(lat + side * 9 / M_PER_DEG_LAT, 6), round(lon, 6), GENERATED,
                district=district, borough=points[district][2], address=street,
            ))
    for code, name, lat0, lon0, district, count in PUBLIC_BUILDINGS:
        for k in range(1, count + 1):
            lat, lon = _jitter(rng, lat0, lon0, 120)
            sites.append(_site(
                f"hotspot-{code[3:]}-{k:02d}", f"FreeWiFi {name} {k}", "hotspot", lat, lon, GENERATED,
                district=district, borough=points[district][2],
            ))
    return sites


def build_neighbour_sites() -> list[dict[str, Any]]:
    """The real schools of Gladbeck and Bottrop (official coordinates); no Stadtteil data
    for the two towns, so district and borough stay empty."""
    sites = []
    for town in NEIGHBOUR_POPS:
        for s in real.schools(town):
            sites.append(_site(
                f"school-{s['schulnummer']}", s["name"], "school", float(s["lat"]), float(s["lon"]),
                real.SCHOOLS_SOURCE, city=town, address=s["strasse"], postcode=s["plz"],
                external_id=s["schulnummer"], status="planned" if s["schulbetrieb_code"] == "3" else "active"))
    return sites


# ---------------------------------------------------------------------------------------
# The plant


class PlantBuilder:
    """Collects route nodes, trench segments, cables and links while routes are laid."""

    def __init__(self, grid: StreetGrid, rng: random.Random):
        self.grid, self.rng = grid, rng
        self.node_code: dict[Any, str] = {}  # grid index or ("entry", site) → code
        self.nodes: dict[str, dict[str, Any]] = {}
        self.segments: dict[str, dict[str, Any]] = {}
        self.seg_between: dict[frozenset, str] = {}
        self.adjacency: dict[str, set[str]] = {}
        self.pop_entry_at: dict[int, str] = {}  # a PoP's junction manhole → the PoP entry its trench reaches

    # nodes -------------------------------------------------------------------------
    def grid_node(self, i: int) -> str:
        code = self.node_code.get(i)
        if code is None:
            code = f"mh-{i:05d}"
            self.node_code[i] = code
            self.nodes[code] = {"code": code, "kind": "manhole", "lat": round(float(self.grid.lat[i]), 6),
                                "lon": round(float(self.grid.lon[i]), 6), "site": None,
                                "status": "active", "source": GENERATED}
        return code

    def entry_node(self, site: dict[str, Any]) -> str:
        code = f"entry-{site['code']}"
        if code not in self.nodes:
            self.nodes[code] = {"code": code, "kind": "site_entry", "lat": site["lat"], "lon": site["lon"],
                                "site": site["code"], "status": "active", "source": GENERATED}
        return code

    def pop_entries(self, pop: dict[str, Any], junctions: tuple[int, int], apart_m: float = 15.0) -> None:
        """A PoP's two building entries, each with its own entry trench to its own junction
        manhole: ``entry-<pop>`` at the building's point, ``entry-<pop>-2`` ``apart_m``
        towards the second junction (a carrier's PoP has two diverse cable entries, so no
        one entry chamber carries all its cables)."""
        first = self.entry_node(pop)
        lat, lon = float(self.grid.lat[junctions[1]]), float(self.grid.lon[junctions[1]])
        share = min(1.0, apart_m / max(distance_m(pop["lat"], pop["lon"], lat, lon), 1.0))
        second = f"entry-{pop['code']}-2"
        self.nodes[second] = {**self.nodes[first], "code": second,
                              "lat": round(pop["lat"] + (lat - pop["lat"]) * share, 6),
                              "lon": round(pop["lon"] + (lon - pop["lon"]) * share, 6)}
        for entry, junction in zip((first, second), junctions):
            self.pop_entry_at[junction] = entry
            self.drop(entry, self.grid_node(junction))

    def extra_node(self, code: str, kind: str, lat: float, lon: float) -> str:
        self.nodes[code] = {"code": code, "kind": kind, "lat": round(lat, 6), "lon": round(lon, 6),
                            "site": None, "status": "active", "source": GENERATED}
        return code

    # segments ----------------------------------------------------------------------
    def segment(self, a: str, b: str, coords=None, method=None, ducts=None) -> str:
        pair = frozenset((a, b))
        code = self.seg_between.get(pair)
        if code is not None:
            return code
        if coords is None:
            na, nb = self.nodes[a], self.nodes[b]
            coords = [[na["lon"], na["lat"]], [nb["lon"], nb["lat"]]]
        length = round(max(line_length_m(coords), 1.0) + 2.0, 1)  # + risers into the chambers
        rng = self.rng
        code = f"seg-{len(self.segments) + 1:05d}"
        self.segments[code] = {
            "code": code, "a_node": a, "b_node": b, "geometry": coords, "length_m": length,
            "laying_method": method or rng.choices(
                ["open_trench", "micro_trench", "existing_duct", "hdd", "aerial"], [55, 15, 15, 10, 5])[0],
            "ducts_total": ducts or rng.choice([2, 3, 4, 4, 6]), "ducts_used": 0,
            "year": rng.randint(*INSTALL_YEAR_RANGE), "status": "active", "source": GENERATED,
        }
        self.seg_between[pair] = code
        self.adjacency.setdefault(a, set()).add(b)
        self.adjacency.setdefault(b, set()).add(a)
        return code

    def grid_index(self) -> dict[str, int]:
        """Route node code -> street grid junction, for the nodes laid on the grid."""
        return {code: i for i, code in self.node_code.items()}

    def built_grid_edges(self) -> set[tuple[int, int]]:
        """Street grid edges (junction index pairs) with trench laid along them."""
        index = self.grid_index()
        return {(index[s["a_node"]], index[s["b_node"]]) for s in self.segments.values()
                if s["a_node"] in index and s["b_node"] in index}

    def grid_path(self, path: list[int]) -> list[str]:
        """Lay trench along a grid node path; returns the route node codes."""
        codes = [self.grid_node(i) for i in path]
        for (i, j), a, b in zip(zip(path, path[1:]), codes, codes[1:]):
            k = self.grid.edge_index[(i, j)]
            coords = self.grid.edge_coords(k)
            if coords[0] != [self.nodes[a]["lon"], self.nodes[a]["lat"]]:
                coords = coords[::-1]
            self.segment(a, b, coords)
        return codes

    def drop(self, entry: str, junction: str) -> str:
        return self.segment(entry, junction, method=self.rng.choice(["open_trench", "hdd", "micro_trench"]),
                            ducts=self.rng.choice([1, 2, 2]))


def _route_segments(builder: PlantBuilder, route: list[str]) -> list[str]:
    return [builder.seg_between[frozenset(p)] for p in zip(route, route[1:])]


def build_city(seed: int = SEED) -> Dataset:
    from inventory.seed import customers

    rng = random.Random(seed)
    sites = build_sites(rng)
    by_code = {s["code"]: s for s in sites}
    grid = StreetGrid(rng)
    plant = PlantBuilder(grid, rng)
    manifest: dict[str, Any] = {
        "single_homed": [], "shared_trench": [], "spur": {}, "full_ducts": [],
        "device_without_mgmt_ip": [], "length_mismatch": [], "radio_hotspots": [],
        "single_uplink_by_design": [], "redundant": [], "gold_protection_routes": [],
    }

    # PoPs: two building entries each, each with its own entry trench, on a backbone ring;
    # a route to a PoP ends at the entry of the junction it arrives at
    pops = [s for s in sites if s["kind"] == "core"]
    pop_junctions: dict[str, tuple[int, int]] = {}
    for pop in pops:
        j1, j2 = grid.nearest(pop["lat"], pop["lon"], 2)
        pop_junctions[pop["code"]] = (j1, j2)
        plant.pop_entries(pop, (j1, j2))
    entry_at = plant.pop_entry_at
    centre_lat = sum(p["lat"] for p in pops) / len(pops)
    centre_lon = sum(p["lon"] for p in pops) / len(pops)
    ring = sorted(pops, key=lambda p: math.atan2(p["lat"] - centre_lat, p["lon"] - centre_lon))
    used_ring_nodes: set[int] = set()
    ring_routes: list[tuple[str, str, list[str]]] = []
    for a, b in zip(ring, ring[1:] + ring[:1]):
        src, dst = pop_junctions[a["code"]][1], pop_junctions[b["code"]][0]
        all_pop_nodes = {n for pair in pop_junctions.values() for n in pair}
        path = grid.shortest([src], {dst}, blocked_nodes=used_ring_nodes - {src, dst} - all_pop_nodes)
        if path is None:
            path = grid.shortest([src], {dst})
        used_ring_nodes.update(path)
        route = [entry_at[path[0]]] + plant.grid_path(path) + [entry_at[path[-1]]]
        ring_routes.append((a["code"], b["code"], route))
    pop_targets = {n: code for code, pair in pop_junctions.items() for n in pair}

    def route_to_pop(sources: list[int], blocked_nodes=frozenset(), blocked_edges=frozenset(),
                     avoid_pop: str | None = None, same_pop_ok: bool = True,
                     only_pop: str | None = None, matrix=None) -> tuple[str, list[int]] | None:
        targets = {n for n, code in pop_targets.items()
                   if code != avoid_pop and n not in blocked_nodes and only_pop in (None, code)}
        path = grid.shortest(sources, targets, blocked_nodes, blocked_edges, matrix)
        if path is None and avoid_pop is not None and same_pop_ok:  # only one PoP reachable
            return route_to_pop(sources, blocked_nodes, blocked_edges, matrix=matrix)
        return (pop_targets[path[-1]], path) if path else None

    # which sites get which kind of connection (planted weaknesses picked by rule, not by hand)
    active = [s for s in sites if s["status"] == "active" and s["kind"] not in ("core",)]
    schools = [s for s in active if s["kind"] == "school"]
    kitas = [s for s in active if s["kind"] == "kindergarten"]
    parks = [s for s in active if s["kind"] == "business_park"]
    single_homed = {s["code"] for s in schools[5:7] + kitas[3:5] + parks[4:5]}
    shared_trench = {s["code"] for s in schools[20:22] + kitas[10:11] + parks[7:8]}
    hotspots = [s for s in active if s["kind"] == "hotspot"]
    radio = {h["code"] for k, h in enumerate(hotspots) if k % 10 == 7}  # ~10 % meshed over radio
    spur_building = "pb-schloss-berge"
    spur_cluster = {spur_building} | {h["code"] for h in hotspots if h["code"].startswith("hotspot-schloss-berge-")}
    spur_cluster -= radio
    uplinks: list[tuple[str, str, list[str]]] = []  # (site code, pop code, route node codes)

    def connect(site: dict[str, Any], uplinks: list, home_pop: str | None = None, matrix=None,
                single: bool = False) -> None:
        """Two node-disjoint routes to two PoPs (the first to ``home_pop`` if given; on
        ``matrix``, a re-weighted street graph, if given), or one if ``single``, or what the
        site's planted weakness says; appends to ``uplinks`` and the manifest."""
        code = site["code"]
        entry = plant.entry_node(site)
        j1, j2 = grid.nearest(site["lat"], site["lon"], 2)
        # the primary route keeps off the second entry's manhole, so the two stay node-disjoint
        pop1, path1 = (route_to_pop([j1], blocked_nodes={j2}, only_pop=home_pop, matrix=matrix)
                       or route_to_pop([j1], only_pop=home_pop, matrix=matrix))
        plant.drop(entry, plant.grid_node(j1))
        uplinks.append((code, pop1, [entry] + plant.grid_path(path1) + [entry_at[path1[-1]]]))
        if site["kind"] == "hotspot":
            manifest["single_uplink_by_design"].append(code)
            return
        if single or code in single_homed:
            manifest["single_homed"].append(code)
            return
        if code in shared_trench:
            # a second link to another PoP, but out through the same building entry and manhole
            second = route_to_pop([j1], blocked_edges=set(zip(path1, path1[1:])), avoid_pop=pop1)
            pop2, path2 = second
            uplinks.append((code, pop2, [entry] + plant.grid_path(path2) + [entry_at[path2[-1]]]))
            manifest["shared_trench"].append(code)
            return
        second = disjoint_route(site, pop1, path1, matrix)
        if second is None:  # no disjoint way out: stays single-homed, and the manifest says so
            manifest["single_homed"].append(code)
            return
        uplinks.append((code, *second))
        manifest["redundant"].append(code)

    def disjoint_route(site: dict[str, Any], pop1: str, path1: list[int], matrix=None) -> tuple[str, list[str]] | None:
        """A route node-disjoint from the primary ``path1`` (including the primary PoP's other
        junction manhole) to another PoP, from the nearest manhole off the primary route that
        has a way out, with its own entry trench: (PoP, route node codes), or None."""
        for j2 in [j for j in grid.nearest(site["lat"], site["lon"], 5)[1:] if j not in path1]:
            blocked = (set(path1) | set(pop_junctions[pop1])) - {j2}
            second = route_to_pop([j2], blocked_nodes=blocked, avoid_pop=pop1, same_pop_ok=False, matrix=matrix)
            if second is not None:
                pop2, path2 = second
                entry = plant.entry_node(site)
                plant.drop(entry, plant.grid_node(j2))
                return pop2, [entry] + plant.grid_path(path2) + [entry_at[path2[-1]]]
        return None

    for site in active:
        if site["code"] not in radio and site["code"] not in spur_cluster:
            connect(site, uplinks)

    # the spur: one chain of trench feeds the whole Schloss Berge cluster
    building = by_code[spur_building]
    hub = plant.extra_node("cab-schloss-berge", "cabinet", building["lat"] + 0.0004, building["lon"] - 0.0006)
    g1, g2 = grid.nearest(building["lat"], building["lon"], 2)
    mid = plant.extra_node("mh-spur-schloss-berge", "manhole",
                           (plant.nodes[hub]["lat"] + grid.lat[g1]) / 2 + 0.0002,
                           (plant.nodes[hub]["lon"] + grid.lon[g1]) / 2)
    spur_segments = [plant.segment(hub, mid, ducts=1), plant.segment(mid, plant.grid_node(g1), ducts=1)]
    pop_a, path_a = route_to_pop([g1])
    pop_b, path_b = route_to_pop([g1], blocked_edges=set(zip(path_a, path_a[1:])), avoid_pop=pop_a)
    spur_route_a = [hub, mid] + plant.grid_path(path_a) + [entry_at[path_a[-1]]]
    spur_route_b = [hub, mid] + plant.grid_path(path_b) + [entry_at[path_b[-1]]]
    for code in sorted(spur_cluster):
        entry = plant.entry_node(by_code[code])
        plant.drop(entry, hub)
        uplinks.append((code, pop_a, [entry] + spur_route_a))
        if by_code[code]["kind"] != "hotspot":
            uplinks.append((code, pop_b, [entry] + spur_route_b))
        elif code not in manifest["single_uplink_by_design"]:
            manifest["single_uplink_by_design"].append(code)
    manifest["spur"] = {"segments": spur_segments, "sites": sorted(spur_cluster), "hub": hub,
                        "junction": plant.grid_node(g1)}
    manifest["radio_hotspots"] = sorted(radio)

    # -- the city grown to its size (issue 14): the two towns' schools, the commercial
    # centres' street cabinets, the homes' PON. A random stream of its own, so that every
    # row above stays as it was (codes, routes, planted weaknesses).
    growth = plant.rng = random.Random(seed * 1_000_003 + 14)
    grown_uplinks: list[tuple[str, str, list[str]]] = []
    # the two towns' primary schools hang on one fibre each (a tree from the town's PoP)
    tree_ends = {f"school-{s['schulnummer']}" for town in NEIGHBOUR_POPS for s in real.schools(town)
                 if s["schulform"] == "Grundschule"}
    for site in build_neighbour_sites() + customers.street_cabinets(_district_points()):
        sites.append(site)
        if site["status"] == "active":  # along trench already there where it can (its ducts are laid)
            connect(site, grown_uplinks, home_pop=NEIGHBOUR_POPS.get(site["city"]),
                    matrix=grid.preferring(plant.built_grid_edges(), TRENCH_PREFERENCE),
                    single=site["code"] in tree_ends)
    by_code = {s["code"]: s for s in sites}
    pon = customers.Pon(grid, plant, {c: j for c, j in pop_junctions.items() if by_code[c]["city"] == "Gelsenkirchen"},
                        growth, manifest)
    pon.lay(_district_points(), _district_populations())

    # gold SLA lines run on two disjoint fibre paths: a business site with one route of its
    # own gets a second one for them (a random stream of its own: nothing above moves)
    site_routes: dict[str, list[tuple[str, list[str]]]] = {}
    for code, pop, route in uplinks + grown_uplinks:
        site_routes.setdefault(code, []).append((pop, route))
    plant.rng = random.Random(seed * 1_000_003 + 15)
    index = plant.grid_index()
    for site in sites:
        routes = site_routes.get(site["code"], ())
        if site["kind"] in customers.BUSINESS_SITE_KINDS and len(routes) == 1:
            pop1, route1 = routes[0]
            second = disjoint_route(site, pop1, [index[n] for n in route1 if n in index])
            if second is not None:
                manifest["gold_protection_routes"].append(site["code"])
                site_routes[site["code"]].append(second)
    link_segments = {seg for routes in site_routes.values() for _, route in routes
                     for seg in _route_segments(plant, route)} | {
        seg for _, _, route in ring_routes for seg in _route_segments(plant, route)}

    cables, cable_segments, closures, seg_cables = _cables(plant, ring_routes, link_segments, pon.closures)
    built = _devices_and_links(sites, plant, uplinks, ring_routes, radio, seg_cables, rng, manifest, grown_uplinks)
    access = customers.access_rows(sites, pon, built, site_routes, growth, manifest)
    built.size_cables(cables)
    cables.update(pon.cables)
    cable_segments.update(pon.cable_segments)

    # ducts: one per cable through a segment; a few segments planted full
    for cable_code, seg_list in cable_segments.items():
        for seg in seg_list:
            plant.segments[seg]["ducts_used"] += 1
    for seg in plant.segments.values():
        seg["ducts_total"] = max(seg["ducts_total"], seg["ducts_used"] + 1)  # a spare, unless planted full
    trench_candidates = sorted(
        (s for s in plant.segments.values() if s["a_node"].startswith("mh-") and s["b_node"].startswith("mh-")
         and s["ducts_used"] >= 1),
        key=lambda s: s["code"],
    )
    for seg in trench_candidates[50:53]:
        seg["ducts_total"] = seg["ducts_used"]
        manifest["full_ducts"].append(seg["code"])
    mismatch = trench_candidates[70]
    mismatch["length_m"] = round(mismatch["length_m"] * 1.6, 1)
    manifest["length_mismatch"].append(mismatch["code"])

    rows = {
        "snmp_profile": [
            {"name": "public_v2", "version": "v2c", "user": None, "auth_protocol": "none",
             "priv_protocol": "none", "max_repetitions": 25, "timeout_s": 5.0, "retries": 1},
            {"name": "city_v3", "version": "v3", "user": "netops", "auth_protocol": "sha256",
             "priv_protocol": "aes", "max_repetitions": 25, "timeout_s": 5.0, "retries": 1},
        ],
        "ssh_profile": [{"name": "netops_ro", "username": "netops", "port": 22,
                         "conn_timeout_s": 10.0, "read_timeout_s": 30.0}],
        "optic": [{"name": n, "standard": s, "wavelength_nm": w, "reach_km": r, "tx_min_dbm": t,
                   "rx_sensitivity_dbm": x, "source": "datasheet (typical vendor values)"}
                  for n, s, w, r, t, x in OPTICS],
        "site": sites,
        "route_node": list(plant.nodes.values()),
        "segment": list(plant.segments.values()),
        "closure": closures,
        "cable": list(cables.values()),
        "cable_segment": [{"cable": c, "seq": i, "segment": s}
                          for c, segs in cable_segments.items() for i, s in enumerate(segs)],
        "device": built.devices,
        "interface": built.interfaces,
        "link": built.links,
        "link_hop": built.hops,
        **access,
    }
    _size_closures(rows)
    built = set(plant.seg_between)
    streets = []
    for k, (a, b) in enumerate(grid.edges):
        na, nb = plant.node_code.get(a), plant.node_code.get(b)
        if na and nb and frozenset((na, nb)) in built:
            continue
        streets.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": grid.edge_coords(k)},
                        "properties": {"id": f"street-{k:05d}", "a": f"mh-{a:05d}", "b": f"mh-{b:05d}",
                                       "length_m": round(float(grid.lengths[k]), 1), "source": GENERATED}})
    for key in ("single_homed", "shared_trench", "single_uplink_by_design", "redundant"):
        manifest[key] = sorted(manifest[key])
    return Dataset(rows=rows, manifest=manifest, streets=streets)


def _cables(plant: PlantBuilder, ring_routes, link_segments: set[str], closures: dict[str, dict[str, Any]]):
    """One cable per chain of the links' trench between branch points; ring cables PoP to
    PoP. (The PON's cables are its own: see ``customers``.)"""
    adjacency: dict[str, set[str]] = {}
    for code in link_segments:
        seg = plant.segments[code]
        adjacency.setdefault(seg["a_node"], set()).add(seg["b_node"])
        adjacency.setdefault(seg["b_node"], set()).add(seg["a_node"])
    terminals = {n for n, nbrs in adjacency.items()
                 if len(nbrs) != 2 or plant.nodes[n]["kind"] in ("site_entry", "cabinet")}
    cables: dict[str, dict[str, Any]] = {}
    cable_segments: dict[str, list[str]] = {}
    seg_cables: dict[str, str] = {}  # segment → its chain cable

    def end(node: str) -> dict[str, Any]:
        site = plant.nodes[node]["site"]
        if site:
            return {"site": site, "closure": None}
        code = f"cl-{node}"
        if code not in closures:
            closures[code] = {"code": code, "node": node, "status": "active", "source": GENERATED}
        return {"site": None, "closure": code}

    def add_cable(code: str, a: str, b: str, segs: list[str]) -> None:
        ea, eb = end(a), end(b)
        length = sum(plant.segments[s]["length_m"] for s in segs)
        cables[code] = {"code": code, "strands": 0, "a_site": ea["site"], "a_closure": ea["closure"],
                        "b_site": eb["site"], "b_closure": eb["closure"],
                        "length_m": round(length * 1.02 + 15, 1),  # slack and reserve loops
                        "year": max(plant.segments[s]["year"] for s in segs),
                        "status": "active", "source": GENERATED}
        cable_segments[code] = segs

    visited: set[str] = set()
    for start in sorted(terminals):
        for first in sorted(adjacency[start]):
            seg = plant.seg_between[frozenset((start, first))]
            if seg in visited:
                continue
            chain, prev, node = [seg], start, first
            visited.add(seg)
            while node not in terminals:
                nxt = next(n for n in adjacency[node] if n != prev)
                seg = plant.seg_between[frozenset((node, nxt))]
                visited.add(seg)
                chain.append(seg)
                prev, node = node, nxt
            code = f"cab-{len(cables) + 1:05d}"
            add_cable(code, start, node, chain)
            for s in chain:
                seg_cables[s] = code
    for k, (a, b, route) in enumerate(ring_routes, start=1):
        add_cable(f"ring-{k:02d}", route[0], route[-1], _route_segments(plant, route))
        cables[f"ring-{k:02d}"]["strands"] = 144
    return cables, cable_segments, list(closures.values()), seg_cables


def _size_closures(rows: dict[str, list[dict[str, Any]]]) -> None:
    """Each closure the smallest of ``CLOSURE_SIZES`` that holds the splices the rows put
    in it (``inventory.plant``'s count) with headroom; beyond the largest, what it needs."""
    splitter_node = {s["code"]: s["node"] for s in rows["splitter"]}
    halves = splice_halves(
        {c["code"]: [x for x in (c["a_closure"], c["b_closure"]) if x] for c in rows["cable"]},
        {c["code"]: c["node"] for c in rows["closure"]},
        [hop["cable"] for hop in rows["link_hop"]],
        [(s["feeder_cable"], s["node"]) for s in rows["splitter"] if s["feeder_cable"]]
        + [(c["drop_cable"], splitter_node[c["splitter"]]) for c in rows["residential_connection"] if c["drop_cable"]],
    )
    used = halves_to_splices(halves)
    for closure in rows["closure"]:
        closure["capacity_splices"] = closure_size(used.get(closure["code"], 0))


def _ip(index: int) -> str:
    return str(ipaddress.IPv4Address("10.0.0.0") + 16 + index)


def _serial(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))


class LinkBuilder:
    """Devices, interfaces and links as they are laid: a fibre link takes the next free
    strand pair of each cable along its route, a PoP switch the next free port."""

    def __init__(self, plant: PlantBuilder, seg_cables: dict[str, str], rng: random.Random):
        self.plant, self.seg_cables, self.rng = plant, seg_cables, rng
        self.devices: list[dict[str, Any]] = []
        self.interfaces: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.hops: list[dict[str, Any]] = []
        self.next_strand: dict[str, int] = {}
        self.pop_ports: dict[str, int] = {}
        self.platforms: dict[str, str] = {}

    def device(self, name, site, role, platform, vendor, model, serial_prefix, mgmt_ip: str | None = None):
        self.platforms[name] = platform
        self.devices.append({"name": name, "site": site, "role": role, "platform": platform, "vendor": vendor,
                             "model": model, "mgmt_ip": mgmt_ip or _ip(len(self.devices)), "snmp_profile": "city_v3",
                             "ssh_profile": "netops_ro", "serial": _serial(self.rng, serial_prefix),
                             "status": "active", "source": GENERATED})
        return name

    def iface(self, dev, name, kind, speed, optic=None, description=None):
        self.interfaces.append({"device": dev, "name": name, "kind": kind, "speed_mbps": speed,
                                "optic": optic, "description": description})
        return (dev, name)

    def link(self, code, a, b, medium, route_cables=()):
        self.links.append({"code": code, "a_device": a[0], "a_interface": a[1], "b_device": b[0],
                           "b_interface": b[1], "medium": medium, "status": "active", "source": GENERATED})
        for seq, cable in enumerate(route_cables):
            strand = self.next_strand.get(cable, 1)
            self.next_strand[cable] = strand + 2
            self.hops.append({"link": code, "seq": seq, "cable": cable, "strand_a": strand, "strand_b": strand + 1})

    def route_cables(self, route: list[str]) -> list[str]:
        """The cables a route of trench runs over, in order (a chain cable once)."""
        cables: list[str] = []
        for seg in _route_segments(self.plant, route):
            cable = self.seg_cables[seg]
            if not cables or cables[-1] != cable:
                cables.append(cable)
        return cables

    def pop_port(self, pop_code: str) -> tuple[str, str]:
        """The next free port of a PoP's distribution switch."""
        port = self.pop_ports[pop_code] = self.pop_ports.get(pop_code, 0) + 1
        return f"{pop_code}-ds1", f"Gi{1 + (port - 1) // 48}/0/{1 + (port - 1) % 48}"

    def size_cables(self, cables: dict[str, dict[str, Any]]) -> None:
        """Strands: what the links use + 25 % headroom, in standard sizes."""
        for cable_code, cable in cables.items():
            used = self.next_strand.get(cable_code, 1) - 1
            wanted = max(cable["strands"], int(used * 1.25) + 1)
            cable["strands"] = next(s for s in STRAND_SIZES if s >= wanted) if wanted <= STRAND_SIZES[-1] else wanted


def _devices_and_links(sites, plant, uplinks, ring_routes, radio, seg_cables, rng, manifest,
                       grown_uplinks) -> LinkBuilder:
    built = LinkBuilder(plant, seg_cables, rng)
    device, iface, link = built.device, built.iface, built.link

    for pop in (s for s in sites if s["kind"] == "core"):
        cr = device(f"{pop['code']}-cr1", pop["code"], "core_router", "juniper_junos", "Juniper", "MX204", "JN")
        ds = device(f"{pop['code']}-ds1", pop["code"], "distribution_switch", "cisco_ios", "Cisco",
                    "C9500-48Y4C", "FOC")
        link(f"{pop['code']}-core-dist", iface(cr, "xe-0/0/0", "fibre", 10000, "10GBASE-LR-10km"),
             iface(ds, "Te1/1/1", "fibre", 10000, "10GBASE-LR-10km"), "fibre")
        if pop["code"] == "pop-city":
            wlc = device("pop-city-wlc1", pop["code"], "wlc", "aruba_os", "Aruba", "7210", "CN")
            link("pop-city-wlc", iface(wlc, "0/0/0", "fibre", 10000, "10GBASE-LR-10km"),
                 iface(ds, "Te1/1/2", "fibre", 10000, "10GBASE-LR-10km"), "fibre")
    for k, (a, b, _route) in enumerate(ring_routes, start=1):
        link(f"ring-{a}-{b}", iface(f"{a}-cr1", "xe-0/0/1", "fibre", 10000, "10GBASE-ER-40km", f"ring to {b}"),
             iface(f"{b}-cr1", "xe-0/0/2", "fibre", 10000, "10GBASE-ER-40km", f"ring to {a}"),
             "fibre", [f"ring-{k:02d}"])

    by_code = {s["code"]: s for s in sites}
    site_device: dict[str, str] = {}
    uplink_no: dict[str, int] = {}

    def uplink(site_code: str, pop_code: str, route: list[str]) -> None:
        site = by_code[site_code]
        if site_code not in site_device:
            if site["kind"] == "hotspot":
                site_device[site_code] = device(f"{site_code}-ap1", site_code, "wifi_ap", "aruba_os", "Aruba",
                                                "AP-575", "CN")
            else:
                hp = site["kind"] in ("school", "kindergarten") and rng.random() < 0.2
                site_device[site_code] = device(
                    f"{site_code}-sw1", site_code, "access_switch", "hp_procurve" if hp else "cisco_ios",
                    "HPE Aruba" if hp else "Cisco", "2930F-24G-4SFP" if hp else "C9200-24P",
                    "CN" if hp else "FOC")
        dev = site_device[site_code]
        n = uplink_no[site_code] = uplink_no.get(site_code, 0) + 1
        platform = built.platforms[dev]
        local = {"aruba_os": f"eth{n - 1}", "hp_procurve": f"{24 + n}"}.get(platform, f"Gi1/1/{n}")
        pop_switch, remote = built.pop_port(pop_code)
        link(f"{site_code}-up{n}",
             iface(dev, local, "fibre", 1000, "1000BASE-LX-10km", f"uplink {n} to {pop_code}"),
             iface(pop_switch, remote, "fibre", 1000, "1000BASE-LX-10km", f"{site_code} uplink {n}"),
             "fibre", built.route_cables(route))

    for up in uplinks:
        uplink(*up)

    # meshed hotspots: a radio link to the nearest fibre-fed AP
    fed = [s for s in sites if s["code"] in site_device and s["kind"] == "hotspot"]
    for code in sorted(radio):
        site = by_code[code]
        peer = min(fed, key=lambda s: distance_m(site["lat"], site["lon"], s["lat"], s["lon"]))
        ap = device(f"{code}-ap1", code, "wifi_ap", "aruba_os", "Aruba", "AP-575", "CN")
        mesh_no = uplink_no[peer["code"]] = uplink_no.get(peer["code"], 0) + 1
        link(f"{code}-mesh", iface(ap, "radio0", "radio", 866, description=f"mesh to {peer['code']}"),
             iface(site_device[peer["code"]], f"radio{mesh_no - 1}", "radio", 866,
                   description=f"mesh to {code}"), "radio")
    for up in grown_uplinks:  # after the first city's, whose addresses and serials stay as they were
        uplink(*up)

    no_ip = next(d for d in built.devices if d["site"].startswith("school-") and d["role"] == "access_switch")
    no_ip["mgmt_ip"] = None
    manifest["device_without_mgmt_ip"].append(no_ip["name"])
    return built


# ---------------------------------------------------------------------------------------
# Scaling for benchmarks

_REF_FIELDS = {
    "site": ("code",), "route_node": ("code", "site"), "segment": ("code", "a_node", "b_node"),
    "closure": ("code", "node"), "cable": ("code", "a_site", "a_closure", "b_site", "b_closure"),
    "cable_segment": ("cable", "segment"), "device": ("name", "site"), "interface": ("device",),
    "link": ("code", "a_device", "b_device"), "link_hop": ("link", "cable"),
    "building": ("code",), "business_connection": ("code", "building", "site", "link", "device"),
    "olt_port": ("device",), "splitter": ("code", "node", "olt_device", "parent", "feeder_cable"),
    "residential_connection": ("code", "building", "splitter", "drop_cable"),
}


def _tile_offset(k: int) -> tuple[float, float]:
    row, col = divmod(k, 10)
    return row * TILE_DLAT, col * TILE_DLON


def _tile_point(lat: float, lon: float, k: int) -> tuple[float, float]:
    dlat, dlon = _tile_offset(k)
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _tile(dataset: Dataset, k: int) -> dict[str, list[dict[str, Any]]]:
    dlat, dlon = _tile_offset(k)
    suffix = f"-t{k}"
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, fields in _REF_FIELDS.items():
        copied = []
        for r in dataset.rows[kind]:
            c = dict(r)
            for f in fields:
                if c.get(f) is not None:
                    c[f] = f"{c[f]}{suffix}"
            if "lat" in c and c["lat"] is not None:
                c["lat"], c["lon"] = round(c["lat"] + dlat, 6), round(c["lon"] + dlon, 6)
            if kind == "site":
                c["name"] = f"{c['name']} (tile {k})"
            if kind == "segment":
                c["geometry"] = [[round(x + dlon, 6), round(y + dlat, 6)] for x, y in c["geometry"]]
            copied.append(c)
        out[kind] = copied
    return out


def generate(scale: int = 1, seed: int = SEED) -> Dataset:
    """The city (scale 1), or ``scale`` tiles of it joined PoP City to PoP City."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    base = build_city(seed)
    if scale == 1:
        return base
    rows = {k: list(v) for k, v in base.rows.items()}
    entry = next(n for n in base.rows["route_node"] if n["code"] == "entry-pop-city")
    for k in range(1, scale):
        for kind, tile_rows in _tile(base, k).items():
            rows[kind].extend(tile_rows)
        # join each tile to its west neighbour, or the tile above at the start of a row
        j = k - 10 if k % 10 == 0 else k - 1
        prev = "" if j == 0 else f"-t{j}"
        a, b = f"entry-pop-city{prev}", f"entry-pop-city-t{k}"
        lat_a, lon_a = _tile_point(entry["lat"], entry["lon"], j)
        lat_b, lon_b = _tile_point(entry["lat"], entry["lon"], k)
        coords = [[lon_a, lat_a], [lon_b, lat_b]]
        port = "xe-0/1/1" if k % 10 == 0 else "xe-0/1/0"  # south or east of tile j
        seg = f"seg-tile-{k}"
        rows["segment"].append({"code": seg, "a_node": a, "b_node": b, "geometry": coords,
                                "length_m": round(line_length_m(coords), 1), "laying_method": "existing_duct",
                                "ducts_total": 2, "ducts_used": 1, "year": 2020, "status": "active",
                                "source": GENERATED})
        cable = f"cab-tile-{k}"
        rows["cable"].append({"code": cable, "strands": 48, "a_site": f"pop-city{prev}", "a_closure": None,
                              "b_site": f"pop-city-t{k}", "b_closure": None,
                              "length_m": round(line_length_m(coords) * 1.02 + 15, 1), "year": 2020,
                              "status": "active", "source": GENERATED})
        rows["cable_segment"].append({"cable": cable, "seq": 0, "segment": seg})
        rows["interface"] += [
            {"device": f"pop-city-cr1{prev}", "name": port, "kind": "fibre", "speed_mbps": 10000,
             "optic": "10GBASE-ER-40km", "description": f"to tile {k}"},
            {"device": f"pop-city-cr1-t{k}", "name": "xe-0/0/8", "kind": "fibre", "speed_mbps": 10000,
             "optic": "10GBASE-ER-40km", "description": f"to tile {j}"},
        ]
        rows["link"].append({"code": f"tile-{k}", "a_device": f"pop-city-cr1{prev}",
                             "a_interface": port,
                             "b_device": f"pop-city-cr1-t{k}", "b_interface": "xe-0/0/8", "medium": "fibre",
                             "status": "active", "source": GENERATED})
        rows["link_hop"].append({"link": f"tile-{k}", "seq": 0, "cable": cable, "strand_a": 1, "strand_b": 2})
    for i, d in enumerate(rows["device"]):
        if d["mgmt_ip"] is not None:
            d["mgmt_ip"] = _ip(i)
    return Dataset(rows=rows, manifest=base.manifest, streets=base.streets)
