"""Approximate outlines for the report map's orientation layer: the Stadtteile and
Stadtbezirke of Gelsenkirchen, the PLZ areas of Gladbeck and Bottrop and the two towns.

The real data has no boundary geometry, only points: one per Gelsenkirchen Stadtteil (10
official, 8 approximated in ``city.DISTRICT_FALLBACK``) and one per PLZ area (the PLZ
centroids; Gladbeck and Bottrop have no Stadtteile in the data). The outlines are
therefore *derived*: each area is the Voronoi cell of its point (the part of its town
nearer to it than to any other of the town's points), clipped to the town's extent, taken
as the convex hull of every real point of the town (schools, hospitals, Stadtteil or PLZ
points) widened by 500 m. Where two towns' extents overlap (Gelsenkirchen and Gladbeck,
Gladbeck and Bottrop, by a fraction of a km²), the line midway between their real points
divides them. A Stadtbezirk is the union of its Stadtteile's cells, a town
the union of its PLZ areas::

        Hassel ·          each cell = points nearer to its Stadtteil point
      ________|________   than to any other; the outer edge is the
     | Scholven ·  Buer · hull of the real city points + 500 m
     |________|________|

The result is written once to ``inventory/data/district_outlines.geojson`` (run
``python -m inventory.seed.outlines``); a test checks that the file is what this module
derives. Every feature carries ``"approximate": true``; the map's legend says so.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull, Voronoi

from inventory.seed import real
from inventory.seed.city import DISTRICT_FALLBACK

OUTLINES_FILE = Path(__file__).resolve().parent.parent / "data" / "district_outlines.geojson"
HULL_MARGIN_M = 500.0
_ORIGIN = (51.55, 7.07)
_M_PER_DEG_LAT = 111_195.0
_M_PER_DEG_LON = _M_PER_DEG_LAT * math.cos(math.radians(_ORIGIN[0]))

Point = tuple[float, float]  # local metres (x east, y north)


def _to_xy(lat: float, lon: float) -> Point:
    return ((lon - _ORIGIN[1]) * _M_PER_DEG_LON, (lat - _ORIGIN[0]) * _M_PER_DEG_LAT)


def _to_lonlat(p: Point) -> list[float]:
    return [round(float(_ORIGIN[1] + p[0] / _M_PER_DEG_LON), 5), round(float(_ORIGIN[0] + p[1] / _M_PER_DEG_LAT), 5)]


#: the towns whose areas come from PLZ centroids (no Stadtteil points in the data)
PLZ_TOWNS = ("Gladbeck", "Bottrop")
HOME_TOWN = "Gelsenkirchen"


def _hull(points: list[Point], margin_m: float = HULL_MARGIN_M) -> list[Point]:
    """Convex hull of ``points``, each vertex pushed out by the margin (counter-clockwise)."""
    hull = ConvexHull(np.array(points))
    ring = [tuple(points[i]) for i in hull.vertices]  # counter-clockwise
    cx, cy = np.mean(ring, axis=0)
    widened = []
    for x, y in ring:
        d = math.hypot(x - cx, y - cy)
        widened.append((float(x + (x - cx) / d * margin_m), float(y + (y - cy) / d * margin_m)))
    return widened


def _seeds(town: str) -> dict[str, Point]:
    """The points whose cells tile the town: Stadtteile at home, PLZ areas elsewhere."""
    if town == HOME_TOWN:
        return {d.name: _to_xy(*_point(d)) for d in real.districts()}
    return {_plz_name(plz, town): _to_xy(lat, lon)
            for plz, (lat, lon, city) in sorted(real.plz_centroids().items()) if city == town}


def _plz_name(plz: str, town: str) -> str:
    return f"{plz} {town}"


def _town_points(town: str) -> list[Point]:
    points = [_to_xy(float(r["lat"]), float(r["lon"])) for r in real.schools(town) + real.hospitals(town)]
    return points + list(_seeds(town).values())


def _town_hulls() -> dict[str, list[Point]]:
    """Each town's widened hull. Where two overlap, both are cut along the line midway between
    their real points (the perpendicular bisector of the closest pair of points of the two
    unwidened hulls), which keeps every real point in its own town."""
    points = {town: _town_points(town) for town in (HOME_TOWN, *PLZ_TOWNS)}
    hulls = {town: _hull(p) for town, p in points.items()}
    towns = list(hulls)
    for i, a in enumerate(towns):
        for b in towns[i + 1:]:
            if not _crossings(hulls[a], hulls[b]):
                continue
            near_a, near_b = _closest_points(_hull(points[a], 0.0), _hull(points[b], 0.0))
            mid = ((near_a[0] + near_b[0]) / 2, (near_a[1] + near_b[1]) / 2)
            # the bisector's direction: the a->b direction turned a quarter
            line = (mid, (mid[0] - (near_b[1] - near_a[1]), mid[1] + (near_b[0] - near_a[0])))
            hulls[a], hulls[b] = _side_of(hulls[a], *line, near_a), _side_of(hulls[b], *line, near_b)
    return hulls


def _crossings(a: list[Point], b: list[Point]) -> list[Point]:
    found = []
    for p1, p2 in zip(a, a[1:] + a[:1]):
        for q1, q2 in zip(b, b[1:] + b[:1]):
            rx, ry, sx, sy = p2[0] - p1[0], p2[1] - p1[1], q2[0] - q1[0], q2[1] - q1[1]
            denom = rx * sy - ry * sx
            if denom == 0:
                continue
            t = ((q1[0] - p1[0]) * sy - (q1[1] - p1[1]) * sx) / denom
            u = ((q1[0] - p1[0]) * ry - (q1[1] - p1[1]) * rx) / denom
            if 0 <= t < 1 and 0 <= u < 1:
                found.append((p1[0] + t * rx, p1[1] + t * ry))
    return found


def _closest_points(a: list[Point], b: list[Point]) -> tuple[Point, Point]:
    """The closest pair of points of two disjoint convex rings (a vertex of one, a point on
    an edge of the other)."""
    def nearest_on(p, q1, q2):
        dx, dy = q2[0] - q1[0], q2[1] - q1[1]
        t = max(0.0, min(1.0, ((p[0] - q1[0]) * dx + (p[1] - q1[1]) * dy) / (dx * dx + dy * dy)))
        return (q1[0] + t * dx, q1[1] + t * dy)

    pairs = [(p, nearest_on(p, q1, q2)) for p in a for q1, q2 in zip(b, b[1:] + b[:1])]
    pairs += [(nearest_on(p, q1, q2), p) for p in b for q1, q2 in zip(a, a[1:] + a[:1])]
    return min(pairs, key=lambda pair: math.dist(*pair))


def _side_of(ring: list[Point], p: Point, q: Point, keep: Point) -> list[Point]:
    """``ring`` clipped to the half-plane of the line p-q that holds ``keep``."""
    if (q[0] - p[0]) * (keep[1] - p[1]) - (q[1] - p[1]) * (keep[0] - p[0]) < 0:
        p, q = q, p  # ``keep`` is right of p->q: keep the left of q->p instead
    return _clip_left_of(ring, p, q)


def _point(district: real.District) -> Point:
    return (district.lat, district.lon) if district.lat is not None else DISTRICT_FALLBACK[district.name]


def _clip(polygon: list[Point], convex: list[Point]) -> list[Point]:
    """Sutherland–Hodgman: ``polygon`` clipped to the counter-clockwise convex ring."""
    out = polygon
    for a, b in zip(convex, convex[1:] + convex[:1]):
        out = _clip_left_of(out, a, b)
    return out


def _clip_left_of(ring: list[Point], a: Point, b: Point) -> list[Point]:
    """The part of ``ring`` left of the line a->b (on it counts as left)."""
    def inside(p):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0

    def cross(p, q):
        dx, dy = q[0] - p[0], q[1] - p[1]
        ex, ey = b[0] - a[0], b[1] - a[1]
        t = ((a[0] - p[0]) * ey - (a[1] - p[1]) * ex) / (dx * ey - dy * ex)
        return (p[0] + t * dx, p[1] + t * dy)

    out = []
    for p, q in zip(ring, ring[1:] + ring[:1]):
        if inside(q):
            if not inside(p):
                out.append(cross(p, q))
            out.append(q)
        elif inside(p):
            out.append(cross(p, q))
    return out


def _cells(seeds: dict[str, Point], hull: list[Point]) -> dict[str, list[Point]]:
    points = list(seeds.values())
    far = 1e6  # four far points close every real cell
    vor = Voronoi(np.array(points + [(-far, -far), (far, -far), (far, far), (-far, far)]))
    cells = {}
    for i, name in enumerate(seeds):
        region = vor.regions[vor.point_region[i]]
        cell = [tuple(vor.vertices[v]) for v in region]
        cx, cy = points[i]
        cell.sort(key=lambda p: math.atan2(p[1] - cy, p[0] - cx))  # counter-clockwise
        cells[name] = _clip(cell, hull)
    return cells


def _union_rings(cells: list[list[list[float]]]) -> list[list[list[float]]]:
    """Outer rings of adjacent cells: the edges only one cell has, chained (neighbouring
    Voronoi cells share their edges exactly, rounded coordinates included)."""
    edges = Counter()
    for ring in cells:
        for a, b in zip(ring, ring[1:] + ring[:1]):
            edges[frozenset((tuple(a), tuple(b)))] += 1
    outer = [tuple(e) for e, n in edges.items() if n == 1 and len(e) == 2]
    nexts: dict[tuple, list[tuple]] = defaultdict(list)
    for a, b in outer:
        nexts[a].append(b)
        nexts[b].append(a)
    rings, seen = [], set()
    for start in sorted(nexts):
        if start in seen:
            continue
        ring, previous, current = [start], None, start
        seen.add(start)
        while True:
            step = next((n for n in nexts[current] if n != previous and (n not in seen or n == start)), None)
            if step is None or step == start:
                break
            ring.append(step)
            seen.add(step)
            previous, current = current, step
        rings.append([list(p) for p in ring])
    return rings


def _label_at(ring: list[list[float]]) -> list[float]:
    return [round(float(sum(p[0] for p in ring) / len(ring)), 5), round(float(sum(p[1] for p in ring) / len(ring)), 5)]


def derive() -> dict:
    """The GeoJSON FeatureCollection: one Polygon per Stadtteil and PLZ area, one (Multi)Polygon
    per Stadtbezirk and town."""
    hulls = _town_hulls()
    features = []

    def area(name: str, level: str, town: str, ring: list[list[float]], label_at: list[float], **extra):
        features.append({
            "type": "Feature",
            "properties": {"name": name, "level": level, "town": town, **extra, "approximate": True,
                           "label_at": label_at},
            "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        })

    def union(name: str, level: str, town: str, rings: list[list[list[float]]], **extra):
        joined = _union_rings(rings)
        features.append({
            "type": "Feature",
            "properties": {"name": name, "level": level, "town": town, **extra, "approximate": True,
                           "label_at": _label_at(max(joined, key=len))},
            "geometry": {"type": "MultiPolygon", "coordinates": [[r + r[:1]] for r in joined]},
        })

    cells = {name: [_to_lonlat(p) for p in cell] for name, cell in _cells(_seeds(HOME_TOWN), hulls[HOME_TOWN]).items()}
    by_borough: dict[str, list[str]] = defaultdict(list)
    for district in real.districts():
        by_borough[district.borough].append(district.name)
        area(district.name, "stadtteil", HOME_TOWN, cells[district.name], _point_lonlat(district),
             stadtbezirk=district.borough)
    for borough, names in sorted(by_borough.items()):
        union(borough, "stadtbezirk", HOME_TOWN, [cells[n] for n in names], stadtteile=names)
    for town in PLZ_TOWNS:
        seeds = _seeds(town)
        cells = {name: [_to_lonlat(p) for p in cell] for name, cell in _cells(seeds, hulls[town]).items()}
        for name, seed in seeds.items():
            area(name, "plz_area", town, cells[name], _to_lonlat(seed), plz=name.split()[0])
        union(town, "town", town, list(cells.values()), plz_areas=list(seeds))
    return {
        "type": "FeatureCollection",
        "note": "approximate outlines derived by inventory/seed/outlines.py (Voronoi cells of the "
                "Stadtteil points, and of Gladbeck's and Bottrop's PLZ centroids, clipped to the hull of "
                "each town's real points); not official boundaries",
        "features": features,
    }


def _point_lonlat(district: real.District) -> list[float]:
    lat, lon = _point(district)
    return [round(lon, 5), round(lat, 5)]


def main() -> None:
    OUTLINES_FILE.write_text(json.dumps(derive(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTLINES_FILE}")


if __name__ == "__main__":
    main()
