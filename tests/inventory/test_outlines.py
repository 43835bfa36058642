"""The approximate district outlines of the report map (``inventory.seed.outlines``)."""

from __future__ import annotations

import json

from inventory.seed import outlines, real


def _area(ring: list[list[float]]) -> float:
    """Shoelace area in squared degrees (only compared with itself)."""
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))) / 2


def test_the_shipped_file_is_what_the_module_derives():
    # regenerate with `python -m inventory.seed.outlines` after changing the data or the method
    shipped = json.loads(outlines.OUTLINES_FILE.read_text("utf-8"))
    assert shipped == json.loads(json.dumps(outlines.derive()))


def test_every_stadtteil_has_a_cell_holding_its_point_and_the_cells_tile_their_stadtbezirk():
    features = outlines.derive()["features"]
    cells = {f["properties"]["name"]: f for f in features if f["properties"]["level"] == "stadtteil"}
    boroughs = {f["properties"]["name"]: f for f in features if f["properties"]["level"] == "stadtbezirk"}
    assert set(cells) == {d.name for d in real.districts()}
    assert set(boroughs) == set(real.borough_populations())
    assert all(f["properties"]["approximate"] for f in features)
    for district in real.districts():
        ring = cells[district.name]["geometry"]["coordinates"][0]
        assert _contains(ring, cells[district.name]["properties"]["label_at"]), district.name
    for name, borough in boroughs.items():
        rings = [polygon[0] for polygon in borough["geometry"]["coordinates"]]
        assert len(rings) == 1, name  # each Stadtbezirk comes out in one piece
        members = [cells[n]["geometry"]["coordinates"][0] for n in borough["properties"]["stadtteile"]]
        # the union's outline encloses exactly the area of its cells (no gap, no overlap)
        assert abs(_area(rings[0]) - sum(_area(r) for r in members)) < 1e-6 * _area(rings[0]) + 1e-9, name


def _contains(ring: list[list[float]], point: list[float]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
