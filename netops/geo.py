"""Lengths on the WGS84 ellipsoid: the one place every length in netops is made.

The seed's trench lengths, the audits' length check and the planner's routes, bills of
materials and loss budgets all measure with ``distance_m`` / ``line_length_m``: geodesics
on the ellipsoid (pyproj's ``Geod``, Karney's algorithm, exact to nanometres). A sphere is
0.3–0.6 % off at 51.5° N depending on direction, a flat degree-to-metre factor worse.

``metres_per_degree`` is the local scale for neighbour searches (KD-trees on metres):
good to ~0.1 % within 10 km of ``lat0``, so it picks candidates; lengths come from here.
pyproj loads on first use, so importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

WGS84_A = 6_378_137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


@lru_cache(maxsize=1)
def _geod():
    from pyproj import Geod  # lazy: PROJ costs ~0.2 s to load

    return Geod(ellps="WGS84")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance between two points (degrees) in metres."""
    return float(_geod().inv(lon1, lat1, lon2, lat2)[2])


def distances_m(lats1, lons1, lats2, lons2):
    """Element-wise geodesic distances of arrays of point pairs (a numpy array)."""
    import numpy as np

    return np.asarray(_geod().inv(np.asarray(lons1, dtype=float), np.asarray(lats1, dtype=float),
                                  np.asarray(lons2, dtype=float), np.asarray(lats2, dtype=float))[2])


def line_length_m(coords: Sequence[Sequence[float]]) -> float:
    """Length of a GeoJSON LineString ([[lon, lat], ...]) in metres."""
    if len(coords) < 2:
        return 0.0
    return float(_geod().line_length([p[0] for p in coords], [p[1] for p in coords]))


def metres_per_degree(lat0: float) -> tuple[float, float]:
    """(metres per degree of longitude, of latitude) on the ellipsoid at latitude ``lat0``:
    the prime-vertical and meridian radii of curvature."""
    s = math.sin(math.radians(lat0))
    w = math.sqrt(1 - WGS84_E2 * s * s)
    meridian = WGS84_A * (1 - WGS84_E2) / w**3
    prime_vertical = WGS84_A / w
    return (math.radians(1) * prime_vertical * math.cos(math.radians(lat0)), math.radians(1) * meridian)
