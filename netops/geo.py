"""Distances on the WGS84 ellipsoid's mean sphere: good to ~0.5 % at city scale."""

from __future__ import annotations

import math
from typing import Sequence

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def line_length_m(coords: Sequence[Sequence[float]]) -> float:
    """Length of a GeoJSON LineString ([[lon, lat], ...]) in metres."""
    return sum(
        haversine_m(a[1], a[0], b[1], b[0]) for a, b in zip(coords, coords[1:])
    )
