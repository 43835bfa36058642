"""Open data: the publishable layers carry the public facts and nothing internal."""

from __future__ import annotations

import csv
import json
import re

from sqlmodel import select

from inventory.models import Cable, Device, Link, RouteNode, Site, TrenchSegment
from inventory.opendata import BUILDING_FIELDS, HOTSPOT_FIELDS, write_open_data
from netops.db import session_scope
from tests.support.mini_city import build_mini_city

IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


def _write(engine, tmp_path):
    with session_scope(engine) as session:
        build_mini_city(session)
    with session_scope(engine) as session:
        return write_open_data(session, tmp_path / "open")


def test_layers_hold_connected_public_sites_only(engine, tmp_path):
    paths = _write(engine, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == [
        "connected_public_buildings.csv", "connected_public_buildings.geojson",
        "freewifi_hotspots.csv", "freewifi_hotspots.geojson",
    ]
    hotspots = json.loads((tmp_path / "open/freewifi_hotspots.geojson").read_text("utf-8"))
    assert hotspots["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in hotspots["features"]] == [
        "FreeWiFi Heinrich-König-Platz", "FreeWiFi Neumarkt",
    ]
    first = hotspots["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [7.095, 51.505]}  # lon, lat (RFC 7946)

    with (tmp_path / "open/connected_public_buildings.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # the planned Kita and the clinic without a link are not connected; PoPs are not public buildings
    assert {(r["name"], r["category"]) for r in rows} == {
        ("Gesamtschule Berger Feld", "school"), ("Kita Regenbogen", "kita"),
        ("Gewerbepark Schalker Verein", "business_park"),
    }
    assert tuple(rows[0].keys()) == BUILDING_FIELDS


def test_nothing_internal_leaves_the_house(engine, tmp_path):
    paths = _write(engine, tmp_path)
    with session_scope(engine) as session:
        internal = set()
        internal |= {d.name for d in session.exec(select(Device))}
        internal |= {d.mgmt_ip for d in session.exec(select(Device)) if d.mgmt_ip}
        internal |= {s.code for s in session.exec(select(Site))}
        internal |= {n.code for n in session.exec(select(RouteNode))}
        internal |= {t.code for t in session.exec(select(TrenchSegment))}
        internal |= {c.code for c in session.exec(select(Cable))}
        internal |= {link.code for link in session.exec(select(Link))}
    assert len(internal) > 30
    for path in paths:
        text = path.read_text("utf-8")
        leaked = sorted(value for value in internal if re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text))
        assert leaked == [], f"{path.name} leaks {leaked}"
        assert not IPV4.search(text), f"{path.name} contains an IP address"
        columns = set(text.splitlines()[0].split(",")) if path.suffix == ".csv" else set()
        for forbidden in ("mgmt_ip", "code", "device", "trench", "cable", "plan_id", "external_id", "notes"):
            assert f'"{forbidden}"' not in text and forbidden not in columns


def test_geojson_properties_are_exactly_the_allow_list(engine, tmp_path):
    _write(engine, tmp_path)
    for stem, fields in (("freewifi_hotspots", HOTSPOT_FIELDS), ("connected_public_buildings", BUILDING_FIELDS)):
        collection = json.loads((tmp_path / f"open/{stem}.geojson").read_text("utf-8"))
        assert collection["features"]
        for feature in collection["features"]:
            assert set(feature["properties"]) == set(fields) - {"lat", "lon"}
            assert feature["geometry"]["type"] == "Point"  # never a LineString (trench route)
