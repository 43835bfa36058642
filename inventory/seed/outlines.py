"""Approximate Stadtteil and Stadtbezirk outlines for the report map's orientation layer.

The real data has no district geometry, only one point per Stadtteil (10 official, 8
approximated in ``city.DISTRICT_FALLBACK``). The outlines are therefore *derived*: each
Stadtteil is the Voronoi cell of its point (the area nearer to it than to any other
Stadtteil point), clipped to the city's extent, taken as the convex hull of every real
Gelsenkirchen point (schools, hospitals, Stadtteil points) widened by 500 m. A
Stadtbezirk is the union of its Stadtteile's cells::

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
    return [round(_ORIGIN[1] + p[0] / _M_PER_DEG_LON, 5), round(_ORIGIN[0] + p[1] / _M_PER_DEG_LAT, 5)]


def _city_hull() -> list[Point]:
    """Convex hull of the real Gelsenkirchen points, each vertex pushed out by the margin."""
    points = [_to_xy(float(r["lat"]), float(r["lon"])) for r in real.schools() + real.hospitals()]
    points += [_to_xy(*_point(d)) for d in real.districts()]
    hull = ConvexHull(np.array(points))
    ring = [tuple(points[i]) for i in hull.vertices]  # counter-clockwise
    cx, cy = np.mean(ring, axis=0)
    widened = []
    for x, y in ring:
        d = math.hypot(x - cx, y - cy)
        widened.append((x + (x - cx) / d * HULL_MARGIN_M, y + (y - cy) / d * HULL_MARGIN_M))
    return widened


def _point(district: real.District) -> Point:
    return (district.lat, district.lon) if district.lat is not None else DISTRICT_FALLBACK[district.name]


def _clip(polygon: list[Point], convex: list[Point]) -> list[Point]:
    """Sutherland–Hodgman: ``polygon`` clipped to the counter-clockwise convex ring."""
    def inside(p, a, b):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0

    def cross(p, q, a, b):
        dx, dy = q[0] - p[0], q[1] - p[1]
        ex, ey = b[0] - a[0], b[1] - a[1]
        t = ((a[0] - p[0]) * ey - (a[1] - p[1]) * ex) / (dx * ey - dy * ex)
        return (p[0] + t * dx, p[1] + t * dy)

    out = polygon
    for a, b in zip(convex, convex[1:] + convex[:1]):
        ring, out = out, []
        for p, q in zip(ring, ring[1:] + ring[:1]):
            if inside(q, a, b):
                if not inside(p, a, b):
                    out.append(cross(p, q, a, b))
                out.append(q)
            elif inside(p, a, b):
                out.append(cross(p, q, a, b))
    return out


def _cells() -> dict[str, list[Point]]:
    districts = real.districts()
    points = [_to_xy(*_point(d)) for d in districts]
    far = 1e6  # four far points close every real cell
    vor = Voronoi(np.array(points + [(-far, -far), (far, -far), (far, far), (-far, far)]))
    hull = _city_hull()
    cells = {}
    for i, district in enumerate(districts):
        region = vor.regions[vor.point_region[i]]
        cell = [tuple(vor.vertices[v]) for v in region]
        cx, cy = points[i]
        cell.sort(key=lambda p: math.atan2(p[1] - cy, p[0] - cx))  # counter-clockwise
        cells[district.name] = _clip(cell, hull)
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
    return [round(sum(p[0] for p in ring) / len(ring), 5), round(sum(p[1] for p in ring) / len(ring), 5)]


def derive() -> dict:
    """The GeoJSON FeatureCollection: one Polygon per Stadtteil, one (Multi)Polygon per Stadtbezirk."""
    cells = {name: [_to_lonlat(p) for p in cell] for name, cell in _cells().items()}
    features = []
    by_borough: dict[str, list[str]] = defaultdict(list)
    for district in real.districts():
        by_borough[district.borough].append(district.name)
        ring = cells[district.name]
        features.append({
            "type": "Feature",
            "properties": {"name": district.name, "level": "stadtteil", "stadtbezirk": district.borough,
                           "approximate": True, "label_at": _point_lonlat(district)},
            "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        })
    for borough, names in sorted(by_borough.items()):
        rings = _union_rings([cells[n] for n in names])
        largest = max(rings, key=len)
        features.append({
            "type": "Feature",
            "properties": {"name": borough, "level": "stadtbezirk", "stadtteile": names,
                           "approximate": True, "label_at": _label_at(largest)},
            "geometry": {"type": "MultiPolygon", "coordinates": [[r + r[:1]] for r in rings]},
        })
    return {
        "type": "FeatureCollection",
        "note": "approximate outlines derived by inventory/seed/outlines.py (Voronoi cells of the "
                "Stadtteil points clipped to the hull of the real city points); not official boundaries",
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
