"""Lengths on the ellipsoid: ``netops.geo`` against GeographicLib's geodesics (pyproj's
Geod), against closed-form arcs, and used by the planner for every length it makes."""

from __future__ import annotations

import math
import random

import networkx as nx
import pytest
from pyproj import Geod

from netops.geo import WGS84_A, WGS84_E2, distance_m, distances_m, line_length_m, metres_per_degree
from planning.connect import SiteSpec, plan_connection
from planning.default_prices import default_cost_model
from planning.loss_budget import STANDARD_OPTICS
from planning.network import StreetSegment, build_candidate_network

REFERENCE = Geod(ellps="WGS84")
GELSENKIRCHEN = (51.54, 7.05)


def random_pairs(count: int, seed: int = 15):
    rnd = random.Random(seed)
    lat0, lon0 = GELSENKIRCHEN
    return [(lat0 + rnd.uniform(-0.1, 0.1), lon0 + rnd.uniform(-0.15, 0.15),
             lat0 + rnd.uniform(-0.1, 0.1), lon0 + rnd.uniform(-0.15, 0.15)) for _ in range(count)]


def test_random_pairs_around_gelsenkirchen_match_the_reference():
    pairs = random_pairs(500)
    for lat1, lon1, lat2, lon2 in pairs:
        expected = REFERENCE.inv(lon1, lat1, lon2, lat2)[2]
        assert distance_m(lat1, lon1, lat2, lon2) == pytest.approx(expected, rel=1e-9)
        # a polyline through a midpoint on the geodesic is as long as the geodesic
        mid_lon, mid_lat = REFERENCE.npts(lon1, lat1, lon2, lat2, 1)[0]
        assert line_length_m([[lon1, lat1], [mid_lon, mid_lat], [lon2, lat2]]) == pytest.approx(expected, rel=1e-7)
    vectorised = distances_m(*zip(*pairs))
    assert vectorised == pytest.approx([distance_m(*p) for p in pairs], rel=1e-12)


def meridian_radius(lat: float) -> float:
    s = math.sin(math.radians(lat))
    return WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * s * s) ** 1.5


def prime_vertical_radius(lat: float) -> float:
    s = math.sin(math.radians(lat))
    return WGS84_A / math.sqrt(1 - WGS84_E2 * s * s)


@pytest.mark.parametrize("lat", [51.45, 51.5, 51.55, 51.6])
def test_north_south_and_east_west_lines_match_the_ellipsoids_radii(lat):
    """Short arcs along a meridian and a parallel: the radii of curvature give them in closed
    form (independent of the library). The old flat factor (110,540 m per degree of
    latitude) was 0.6 % short north-south; a sphere is 0.3 % off."""
    dlat = 0.01
    north_south = distance_m(lat, 7.05, lat + dlat, 7.05)
    assert north_south == pytest.approx(meridian_radius(lat + dlat / 2) * math.radians(dlat), rel=1e-6)
    assert north_south > 110_540 * dlat * 1.005  # what the issue measured: the flat factor was short
    dlon = 0.01
    east_west = distance_m(lat, 7.0, lat, 7.0 + dlon)
    assert east_west == pytest.approx(prime_vertical_radius(lat) * math.cos(math.radians(lat))
                                      * math.radians(dlon), rel=1e-6)
    per_lon, per_lat = metres_per_degree(lat)
    assert north_south == pytest.approx(per_lat * dlat, rel=1e-4)
    assert east_west == pytest.approx(per_lon * dlon, rel=1e-4)


def test_degenerate_lines():
    assert line_length_m([]) == 0.0
    assert line_length_m([[7.0, 51.5]]) == 0.0
    assert distance_m(51.5, 7.0, 51.5, 7.0) == 0.0


def test_planner_lengths_are_geodesics():
    """Street segments, new trenches beside full ones, building entries and snap links all
    carry the ellipsoid length of their geometry; routes add them up."""
    graph = nx.MultiGraph()
    graph.add_node("A", code="A", kind="manhole", lat=51.50, lon=7.00, site_id=None)
    graph.add_node("T", code="T", kind="site_entry", lat=51.52, lon=7.00, site_id=None)
    graph.add_edge("A", "T", key=1, code="T1", length_m=2226.0, laying_method="open_trench",
                   ducts_total=1, ducts_used=1, status="active")
    street = StreetSegment([[7.01, 51.5001], [7.005, 51.5003], [7.0002, 51.5]], "micro_trench", None)
    net = build_candidate_network(graph, {"T": "POP-T"}, default_cost_model(), streets=[street])
    made = {"street": 0, "snap": 0}
    for _, _, key, data in net.graph.edges(keys=True, data=True):
        if key[0] in made:
            made[key[0]] += 1
            assert data["length_m"] == pytest.approx(max(line_length_m(data["coords"]), 1.0), rel=1e-9)
    assert made == {"street": 1, "snap": 1}
    plan = plan_connection(net, SiteSpec("K", "Kita", "kindergarten", 51.4999, 7.0105), list(STANDARD_OPTICS))
    (route,) = plan.routes
    entry = route.legs[0]
    assert entry.kind == "entry"
    assert entry.length_m == pytest.approx(distance_m(51.4999, 7.0105, 51.5001, 7.01), rel=1e-9)
    assert route.length_m == pytest.approx(sum(leg.length_m for leg in route.legs))
    assert plan.loss[0].length_m == pytest.approx(route.length_m, abs=0.5)  # rounded to metres
