"""The shared-risk definition (topology.risk) on hand-placed trenches, in local metres."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from netops.geo import metres_per_degree
from topology.risk import (
    DEFAULT_RULES, SAMPLE_M, RiskRules, RouteView, building_keys, corridors, plant_risk_groups, shared_risks,
)

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


def corridors_by_definition(lines: dict, ends: dict, rules: RiskRules = DEFAULT_RULES, groups: dict | None = None
                            ) -> dict:
    """The corridor rule read off its docstring: every sample of every trench against every
    sample of every other (a KD-tree only to list the sample pairs within ``corridor_m``),
    no spatial index on the trenches: the reference for the one in ``corridors``."""
    keys = list(lines)
    lat0 = float(np.mean([p[1] for k in keys for p in lines[k]]))
    per_lon, per_lat = metres_per_degree(lat0)

    def metres(point) -> np.ndarray:
        return np.array([point[0] * per_lon, point[1] * per_lat])

    points, owner, weight = [], [], {}
    for n, key in enumerate(keys):  # the first vertex, then each segment's points at k / steps of the way
        vertices = [metres(p) for p in lines[key]]
        samples, total = [vertices[0]], 0.0
        for a, b in zip(vertices, vertices[1:]):
            length = float(np.hypot(*(b - a)))
            total += length
            steps = max(1, math.ceil(length / SAMPLE_M))
            samples += [a + (k / steps) * (b - a) for k in range(1, steps + 1)]
        points += samples
        owner += [n] * len(samples)
        weight[n] = total / max(len(samples) - 1, 1)
    near: dict[tuple[int, int], set[int]] = {}  # (lower, higher trench) -> samples of the lower near the higher
    for i, j in cKDTree(np.array(points)).query_pairs(rules.corridor_m):
        a, b = owner[i], owner[j]
        if a != b and (groups is None or groups[keys[a]] != groups[keys[b]]):
            near.setdefault((min(a, b), max(a, b)), set()).add(i if a < b else j)
    found = {}
    for (a, b), samples in sorted(near.items()):
        corners = [metres(p) for p in (*ends[keys[a]], *ends[keys[b]])]
        counted = [i for i in sorted(samples) if min(np.hypot(*(points[i] - c)) for c in corners) > rules.clearance_m]
        length = 0.0
        for _ in counted:
            length += weight[a]
        if counted and length >= rules.min_corridor_m:
            found[keys[a], keys[b]] = round(length, 1)
    return found


@st.composite
def street_plans(draw):
    """A few trenches in a 300 m square: some leaving shared manholes, some nearly parallel
    a few metres apart, bends near an end, and end nodes a little off the geometry's first vertex."""
    corners = [(draw(st.floats(0, 300)), draw(st.floats(0, 300))) for _ in range(draw(st.integers(2, 5)))]
    lines = {}
    for n in range(draw(st.integers(2, 7))):
        start = draw(st.sampled_from(corners))
        if draw(st.booleans()):  # alongside an earlier trench, offset a few metres
            base = draw(st.sampled_from(list(lines.values()))) if lines else [start, (start[0] + 150, start[1])]
            dx, dy = draw(st.floats(-8, 8)), draw(st.floats(-8, 8))
            points = [(x + dx, y + dy) for x, y in base]
        else:  # a short first leg (a trench bending near its end node), then anywhere
            leg, angle = draw(st.floats(3, 20)), draw(st.floats(0, 2 * math.pi))
            points = [start, (start[0] + leg * math.cos(angle), start[1] + leg * math.sin(angle))]
            points += [(draw(st.floats(-50, 350)), draw(st.floats(-50, 350))) for _ in range(draw(st.integers(0, 2)))]
        lines[f"t{n}"] = points
    coords = {k: [at(*p) for p in points] for k, points in lines.items()}
    offset = draw(st.floats(0, 6))  # end nodes off the geometry's ends
    ends = {k: (at(points[0][0] + offset, points[0][1]), at(*points[-1])) for k, points in lines.items()}
    rules = RiskRules(corridor_m=draw(st.sampled_from([3.0, 5.0, 12.0])), min_corridor_m=draw(st.sampled_from([0.0, 20.0])),
                      clearance_m=draw(st.sampled_from([0.0, 4.0, 15.0, 40.0])))
    groups = {k: draw(st.integers(0, 2)) for k in lines} if draw(st.booleans()) else None
    return coords, ends, rules, groups


@given(street_plans())
@settings(max_examples=300)
def test_corridors_are_the_definition(plan):
    """The spatial index finds exactly the pairs and metres that comparing every sample of
    every pair of trenches finds (also with end nodes off the geometry, and with groups)."""
    coords, ends, rules, groups = plan
    assert corridors(coords, ends, rules, groups=groups) == corridors_by_definition(coords, ends, rules, groups)


def test_a_corridor_where_one_trench_bends_away_near_its_end():
    """A sample beyond the clearance counts when the other trench's nearest sample lies
    inside that trench's own end area (the spatial index must still look there)."""
    coords, ends = lines_and_ends({"street": [(0, 0), (200, 0)], "bend": [(100, 10), (91, 3), (91, 40)]})
    rules = RiskRules(min_corridor_m=0)
    assert set(corridors(coords, ends, rules)) == {("street", "bend")}
    assert corridors(coords, ends, rules) == corridors_by_definition(coords, ends, rules)
    # the same with the geometry starting 6 m short of its end node (the near part is then
    # 7 m along the line from where the geometry starts, 13 m from the node)
    coords, ends = lines_and_ends({"street": [(0, 0), (200, 0)], "bend": [(95, 9), (91, 3), (91, 40)]})
    ends["bend"] = (at(95 + 4 / 52 ** 0.5 * 6, 9 + 6 / 52 ** 0.5 * 6), ends["bend"][1])
    assert set(corridors(coords, ends, rules)) == {("street", "bend")}
    assert corridors(coords, ends, rules) == corridors_by_definition(coords, ends, rules)
