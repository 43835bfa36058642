"""The shared-risk definition (topology.risk) on hand-placed trenches, in local metres."""

from __future__ import annotations

import pytest

from netops.geo import metres_per_degree
from topology.risk import DEFAULT_RULES, RiskRules, RouteView, building_keys, corridors, plant_risk_groups, shared_risks

PER_LON, PER_LAT = metres_per_degree(51.5)


def at(x: float, y: float) -> list[float]:
    return [7.0 + x / PER_LON, 51.5 + y / PER_LAT]


def lines_and_ends(lines: dict) -> tuple[dict, dict]:
    coords = {k: [at(*p) for p in points] for k, points in lines.items()}
    return coords, {k: (c[0], c[-1]) for k, c in coords.items()}


def test_parallel_trenches_are_a_corridor_and_a_crossing_is_not():
    coords, ends = lines_and_ends({
        "street": [(0, 0), (100, 0)],
        "beside": [(0, 3), (80, 3)],  # 3 m away for 80 m
        "across": [(50, -50), (50, 50)],  # a crossing at 90 degrees
        "apart": [(0, 20), (100, 20)],  # 17 m from "beside": another street
    })
    found = corridors(coords, ends)
    assert set(found) == {("street", "beside")}
    # 80 m alongside, less 15 m clearance at either end of "beside"
    assert found["street", "beside"] == pytest.approx(50, abs=3)
    assert corridors(coords, ends, RiskRules(corridor_m=0)) == {}
    assert set(corridors(coords, ends, RiskRules(corridor_m=20))) >= {("street", "beside"), ("beside", "apart")}


def test_trenches_leaving_one_manhole_are_apart_unless_they_run_together():
    coords, ends = lines_and_ends({
        "east": [(0, 0), (200, 0)],
        "north-east": [(0, 0), (200, 200)],  # 45 degrees: close only near the manhole
        "along": [(0, 0), (200, 8)],  # 2.3 degrees: within 5 m for over 100 m
    })
    assert set(corridors(coords, ends)) == {("east", "along")}


def test_groups_keep_routes_apart():
    coords, ends = lines_and_ends({"a": [(0, 0), (100, 0)], "b": [(0, 2), (100, 2)]})
    assert corridors(coords, ends, groups={"a": 1, "b": 1}) == {}
    assert set(corridors(coords, ends, groups={"a": 1, "b": 2})) == {("a", "b")}


def test_sites_a_few_metres_apart_are_one_building():
    sites = {"pop-a": (51.5, 7.0), "pop-b": (51.5 + 6 / PER_LAT, 7.0), "school": (51.5 + 30 / PER_LAT, 7.0)}
    keys = building_keys(sites)
    assert keys["pop-a"] == keys["pop-b"] != keys["school"]
    assert len(set(building_keys(sites, RiskRules(same_building_m=50)).values())) == 1


def test_plant_groups_name_corridors_and_buildings():
    nodes = {1: (51.5, 7.0, None), 2: (51.5, 7.0 + 200 / PER_LON, None),
             3: (51.5 + 3 / PER_LAT, 7.0 + 200 / PER_LON, 10), 4: (51.5 + 4 / PER_LAT, 7.0, 11),
             5: (51.5 + 5 / PER_LAT, 7.0 + 2 / PER_LON, 11)}
    trenches = {100: ([], 1, 2), 101: ([], 4, 3)}  # no geometry: straight lines between the nodes
    assert plant_risk_groups(trenches, nodes) == [("corridor", frozenset({100, 101})),
                                                   ("building", frozenset({4, 5}))]


def test_shared_risks_of_two_routes():
    coords, ends = lines_and_ends({"t1": [(0, 0), (300, 0)], "t2": [(0, 4), (300, 4)], "t3": [(0, 0), (0, 300)]})
    first = RouteView({"t1": coords["t1"]}, {"t1": ends["t1"]}, {"site": "own", "M1": None, "P1": "pop-1"})
    second = RouteView({"t2": coords["t2"], "t3": coords["t3"]}, {k: ends[k] for k in ("t2", "t3")},
                       {"site": "own", "M1": None, "P2": "pop-1"})
    risks = shared_risks(first, second, own={"own"})
    assert [(r.kind, r.elements) for r in risks] == [("node", ("M1",)), ("building", ("P1", "P2")),
                                                     ("corridor", ("t1", "t2"))]
    assert risks[-1].metres == pytest.approx(270, abs=3)
    assert shared_risks(first, first, own={"own"}, rules=DEFAULT_RULES)[0].kind == "trench"
