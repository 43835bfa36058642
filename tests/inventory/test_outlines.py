"""The approximate district outlines of the report map (``inventory.seed.outlines``)."""

from __future__ import annotations

import json
import math

from inventory.seed import outlines, real


def _area(ring: list[list[float]]) -> float:
    """Shoelace area in squared degrees (only compared with itself)."""
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))) / 2


def test_the_shipped_file_is_what_the_module_derives():
    # regenerate with `python -m inventory.seed.outlines` after changing the data or the method
    shipped = json.loads(outlines.OUTLINES_FILE.read_text("utf-8"))
    assert shipped == json.loads(json.dumps(outlines.derive()))


def test_every_area_has_a_cell_holding_its_point_and_the_cells_tile_their_stadtbezirk_or_town():
    features = outlines.derive()["features"]
    assert all(f["properties"]["approximate"] for f in features)
    cells = {f["properties"]["name"]: f for f in features if f["properties"]["level"] in ("stadtteil", "plz_area")}
    wholes = {f["properties"]["name"]: f for f in features if f["properties"]["level"] in ("stadtbezirk", "town")}
    plz_areas = {f"{plz} {town}" for plz, (_, _, town) in real.plz_centroids().items() if town != "Gelsenkirchen"}
    assert set(cells) == {d.name for d in real.districts()} | plz_areas
    assert set(wholes) == set(real.borough_populations()) | {"Gladbeck", "Bottrop"}
    for name, cell in cells.items():
        assert _contains(cell["geometry"]["coordinates"][0], cell["properties"]["label_at"]), name
    for name, whole in wholes.items():
        rings = [polygon[0] for polygon in whole["geometry"]["coordinates"]]
        assert len(rings) == 1, name  # each Stadtbezirk and town comes out in one piece
        props = whole["properties"]
        members = [cells[n]["geometry"]["coordinates"][0] for n in props.get("stadtteile", props.get("plz_areas"))]
        # the union's outline encloses exactly the area of its cells (no gap, no overlap)
        assert abs(_area(rings[0]) - sum(_area(r) for r in members)) < 1e-6 * _area(rings[0]) + 1e-9, name


def test_every_real_school_and_hospital_lies_in_its_own_town_and_in_no_other():
    """The towns' extents overlap by a fraction of a km²: the line that divides them leaves
    every real point in its own town's outline."""
    towns = {f["properties"]["name"]: f["geometry"]["coordinates"][0][0]
             for f in outlines.derive()["features"] if f["properties"]["level"] == "town"}
    towns["Gelsenkirchen"] = _ring_of_home_town()
    for town in towns:
        for row in real.schools(town) + real.hospitals(town):
            point = [float(row["lon"]), float(row["lat"])]
            assert [t for t, ring in towns.items() if _contains(ring, point)] == [town], (town, row["name"])
    for town, ring in towns.items():  # and the towns do not overlap: each corner, ~1 m inside
        cx, cy = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
        inward = [[x + (cx - x) * 1e-4 / math.dist((x, y), (cx, cy)), y + (cy - y) * 1e-4 / math.dist((x, y), (cx, cy))]
                  for x, y in ring]  # off the shared border (1e-4 degrees toward the centre)
        assert not any(_contains(other, corner) for t, other in towns.items() if t != town
                       for corner in inward), town


def _ring_of_home_town() -> list[list[float]]:
    """Gelsenkirchen's outline: the union of its Stadtbezirke."""
    boroughs = [f["geometry"]["coordinates"][0][0] for f in outlines.derive()["features"]
                if f["properties"]["level"] == "stadtbezirk"]
    rings = outlines._union_rings([ring[:-1] for ring in boroughs])
    assert len(rings) == 1
    return rings[0] + rings[0][:1]


def _contains(ring: list[list[float]], point: list[float]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
