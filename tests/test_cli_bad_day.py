"""Session 4's new CLI surfaces on a bad day: `plan area --polygon` (and the plan commands'
`--streets`) fed every kind of wrong file, mistyped codes and words in `plan building|
business|area|connect|show`, Ctrl-C in the middle of a change. Each is one line on stderr,
the documented exit code (README "Exit codes"), no traceback, and nothing half-written.

The town is tests/planning/test_access.py's hand-made PON town (four buildings in
"Testdorf" near 51.51 N, 7.09 E), built once for the module on SQLite.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli import app
from inventory.models import Plan
from netops import db as dbmod
from netops.db import session_scope
from tests.planning.test_access import _node, _town, building

#: a square of ~140 x 220 m around the town's manhole MH-2-2 (building B-C), lon/lat
NEAR_B_C = (7.0924, 51.5124)


@pytest.fixture(scope="module")
def town_db(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("bad-day")
    url = f"sqlite:///{tmp / 'netops.db'}"
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        _town(session, tmp)
        for code, near, units in (("B-C", "MH-2-2", 12), ("B-B", "MH-2-6", 6), ("B-F", "MH-1-5", 4)):
            building(session, _node(session, near), code, units)
        near = _node(session, "MH-2-2")
        assert abs(near.lon - NEAR_B_C[0]) < 0.001 and abs(near.lat - NEAR_B_C[1]) < 0.001, (near.lon, near.lat)
    engine.dispose()
    return url


def _copy(url: str, tmp_path) -> str:
    """The town's database copied, for a test that writes to it."""
    import shutil

    copy = tmp_path / "copy.db"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    return f"sqlite:///{copy}"


def _run(url: str, *args: str):
    return CliRunner().invoke(app, ["--db", url, *args])


def _one_line(result, exit_code: int) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _square(lon: float, lat: float, half: float = 0.001) -> list[list[float]]:
    return [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half],
            [lon - half, lat - half]]


def _polygon(ring: list) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


LON, LAT = NEAR_B_C
BAD_POLYGONS = {
    "NaN": ('{"type": "Polygon", "coordinates": [[[NaN, 51.5], [7.1, 51.5], [7.1, 51.51], [NaN, 51.5]]]}',
            "NaN is not a number JSON allows"),
    "nested deep": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "no coordinates": (json.dumps({"type": "Polygon"}), "it has no 'coordinates'"),
    "crosses itself": (json.dumps(_polygon([[LON, LAT], [LON + 0.01, LAT + 0.01], [LON + 0.01, LAT],
                                            [LON, LAT + 0.01], [LON, LAT]])), "Self-intersection"),
    "projected CRS": (json.dumps({"type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:25832"}},
                                  "coordinates": [_square(364000, 5710000, 1000)]}),
                      "not longitude and latitude in degrees (the file names EPSG:25832)"),
    "latitude first": (json.dumps(_polygon([[y, x] for x, y in _square(LON, LAT)])),
                       "with longitude and latitude swapped it would hold 1: GeoJSON gives longitude first"),
    "elsewhere": (json.dumps(_polygon(_square(13.4, 52.5))), "buildings with homes lies inside the polygon"),
    "not JSON": ("hello", "Expecting value"),
    "a point": (json.dumps({"type": "Point", "coordinates": [LON, LAT]}), "no Polygon or MultiPolygon"),
    "features not objects": (json.dumps({"type": "FeatureCollection", "features": [1]}), "no Polygon or MultiPolygon"),
    "features not a list": (json.dumps({"type": "FeatureCollection", "features": 5}), "no Polygon or MultiPolygon"),
}


@pytest.mark.parametrize("name", list(BAD_POLYGONS))
def test_a_bad_polygon_file_is_one_line_exit_2(town_db, tmp_path, name):
    text, says = BAD_POLYGONS[name]
    path = tmp_path / "area.geojson"
    path.write_text(text)
    line = _one_line(_run(town_db, "plan", "area", "--polygon", str(path), "--dry-run"), 2)
    assert says in line and "area.geojson" in line
    if name == "elsewhere":
        assert "swapped" not in line


def test_the_right_polygon_plans_the_building_inside(town_db, tmp_path):
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": _polygon(_square(LON, LAT))}))
    result = _run(town_db, "plan", "area", "--polygon", str(path), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert [c["building"] for c in json.loads(result.stdout)["connections"]] == ["B-C"]


@pytest.mark.parametrize("text, says", [
    ("[" * 100_000 + "]" * 100_000, "not readable as GeoJSON: nested too deeply"),
    (json.dumps({"type": "FeatureCollection", "features": [1]}), "row 1: field 'geometry.type'"),
    (json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": 5, "geometry": {
        "type": "LineString", "coordinates": [["a", "b"], ["c", "d"]]}}]}), "expected >= 2 [lon, lat] positions"),
], ids=["nested deep", "feature not an object", "coordinates not numbers"])
def test_a_bad_streets_file_is_one_line_exit_2(town_db, tmp_path, text, says):
    path = tmp_path / "streets.geojson"
    path.write_text(text)
    line = _one_line(_run(town_db, "plan", "connect", "--lat", str(LAT), "--lon", str(LON), "--name", "Neu",
                          "--streets", str(path), "--dry-run"), 2)
    assert says in line and "streets.geojson" in line


@pytest.mark.parametrize("args, says", [
    (["plan", "building", "B-CC"], "no building with code 'B-CC'; did you mean B-C?"),
    (["plan", "business", "B-BB", "--company", "X"], "no building with code 'B-BB'; did you mean B-B?"),
    (["plan", "connect", "POP-00"], "no site with code 'POP-00'; did you mean POP-0 or POP-1?"),
    (["plan", "area", "--stadtteil", "Testdrof"], "no Stadtteil 'Testdrof' in the inventory's buildings; did you "
                                                  "mean Testdorf?"),
    (["plan", "area", "--stadtteil", "Atlantis"], "(known e.g.: Testdorf"),
    (["plan", "building", "B-C", "--take-up", "pased"], "did you mean passed?"),
    (["plan", "business", "B-C", "--company", "X", "--service-class", "sla-gold"], "did you mean sla_gold?"),
    (["plan", "business", "B-C", "--company", " "], "--company is empty"),
])
def test_a_wrong_code_or_word_is_one_line_with_a_suggestion(town_db, args, says):
    assert says in _one_line(_run(town_db, *args, "--dry-run"), 2)


def test_a_mistyped_plan_name_gets_a_suggestion(town_db, tmp_path):
    url = _copy(town_db, tmp_path)
    assert _run(url, "plan", "building", "B-C", "--plan-name", "b-c-first").exit_code == 0
    assert "no plan 'b-c-frist'; did you mean b-c-first?" in _one_line(_run(url, "plan", "show", "b-c-frist"), 2)


def test_ctrl_c_while_storing_a_plan_is_one_line_exit_130_and_stores_nothing(town_db, tmp_path, monkeypatch):
    """Ctrl-C after the plan's rows are written but before they are committed: one line, the
    shell's 130, and no plan in the database."""
    from planning import access

    town_db = _copy(town_db, tmp_path)

    store = access.AccessPlanner.store

    def store_then_ctrl_c(self, *args, **kwargs):
        store(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(access.AccessPlanner, "store", store_then_ctrl_c)
    assert _one_line(_run(town_db, "plan", "building", "B-F"), 130) == "error: interrupted"
    engine = dbmod.make_engine(town_db)
    with session_scope(engine) as session:
        assert session.exec(select(Plan)).all() == []
    engine.dispose()


def test_an_output_file_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """Ctrl-C (or a full disk) while an output file is written leaves the one that was there."""
    import os

    from commands.common import write_text

    out = tmp_path / "findings.geojson"
    write_text(out, "complete old file")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text(out, "half a new fi")
    assert out.read_text() == "complete old file"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.geojson"]


def test_an_output_that_is_no_regular_file_is_written_through(tmp_path):
    """`--out /dev/stdout`, a FIFO or a symlink: written through, never replaced by a file."""
    import os
    import threading

    from commands.common import write_text

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_text(fifo, "through the pipe")
    reader.join(10)
    assert got == ["through the pipe"] and fifo.is_fifo()
    target, link = tmp_path / "report.html", tmp_path / "latest.html"
    target.write_text("old")
    link.symlink_to(target)
    write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
