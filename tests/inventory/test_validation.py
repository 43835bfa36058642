"""Each validator the import path relies on fires, on SQLite and PostgreSQL alike.

Every case is a small file that changes one thing in a valid mini-city row; the import
must exit 2 naming the file, the field and the reason, and leave the database as it was.
"""

from __future__ import annotations

import csv
import json

import pytest

from tests.inventory.conftest import dump

SITE = {"code": "KITA-9", "name": "Kita Neun", "kind": "kindergarten", "lat": "51.52", "lon": "7.1",
        "status": "active", "source": "test"}
SEGMENT = {"code": "seg-x", "a_node": "M-1", "b_node": "M-2", "geometry": "[[7.075,51.545],[7.105,51.527]]",
           "length_m": "900", "laying_method": "hdd", "ducts_total": "2", "ducts_used": "0", "source": "test"}
INJECTION = "has space'; DROP TABLE site;--"


def path_rows(kind, parent, *steps):
    """Path rows seq 0, 1, ... for one cable (steps: segment codes) or link (steps: cable codes
    or (cable, strand_a, strand_b))."""
    rows = []
    for seq, step in enumerate(steps):
        if kind == "cable_segment":
            rows.append({"cable": parent, "seq": str(seq), "segment": step})
        else:
            cable, a, b = step if isinstance(step, tuple) else (step, 17 + 2 * seq, 18 + 2 * seq)
            rows.append({"link": parent, "seq": str(seq), "cable": cable, "strand_a": str(a), "strand_b": str(b)})
    return rows


CASES = {
    # name: (kind, rows, field named in the error, words of the reason)
    "site code injection": ("site", [{**SITE, "code": INJECTION}], "code", "a code is"),
    "device name with a space": ("device", [{"name": "sw 1", "site": "SCH-1", "role": "access_switch",
                                             "platform": "cisco_ios", "source": "test"}], "name", "a code is"),
    "snmp profile name": ("snmp_profile", [{"name": "v2 public", "version": "v2c"}], "name", "a code is"),
    "site kind enum": ("site", [{**SITE, "kind": "castle"}], "kind", "Input should be"),
    "device role enum": ("device", [{"name": "sw-1", "site": "SCH-1", "role": "toaster", "platform": "cisco_ios",
                                     "source": "test"}], "role", "Input should be"),
    "price Infinity": ("price_item", [{"region": "Gelsenkirchen", "valid_from": "2024-01-01", "kind": "splice",
                                       "key": "fusion", "price_eur": "Infinity"}], "price_eur", "finite"),
    "price NaN": ("price_item", [{"region": "Gelsenkirchen", "valid_from": "2024-01-01", "kind": "splice",
                                  "key": "fusion", "price_eur": "NaN"}], "price_eur", "finite"),
    "price 1e308": ("price_item", [{"region": "Gelsenkirchen", "valid_from": "2024-01-01", "kind": "splice",
                                    "key": "fusion", "price_eur": "1e308"}], "price_eur", "less than or equal"),
    "latitude out of range": ("site", [{**SITE, "lat": "151.5"}], "lat", "less than or equal"),
    "longitude NaN": ("site", [{**SITE, "lon": "nan"}], "lon", "finite"),
    "3D segment geometry": ("segment", [{**SEGMENT, "geometry": "[[7.075,51.545,40],[7.105,51.527,38]]"}],
                            "geometry", "only 2D"),
    "segment geometry outside the region": ("segment", [{**SEGMENT, "geometry": "[[0,0],[1,1]]"}],
                                            "geometry", "outside the region"),
    "geometry nested too deeply": ("segment", [{**SEGMENT, "geometry": "[" * 60_000 + "]" * 60_000}],
                                   "geometry", "nested too deeply"),
    "integer of 64 bits": ("interface", [{"device": "gk-sch1-as1", "name": "Te9/9", "kind": "fibre",
                                          "speed_mbps": str(2**63)}], "speed_mbps", "32 bits"),
    "integer of 33 bits": ("interface", [{"device": "gk-sch1-as1", "name": "Te9/9", "kind": "fibre",
                                          "speed_mbps": str(2**31)}], "speed_mbps", "32 bits"),
    "control character in a name": ("site", [{**SITE, "name": "Kita\x07Neun"}], "name", "control character"),
    "path with a gap": ("cable_segment", [{"cable": "cab-bp1-n", "seq": "0", "segment": "seg-5"},
                                          {"cable": "cab-bp1-n", "seq": "2", "segment": "seg-6"}],
                        "seq", "seq 1 is missing"),
    "path not from seq 0": ("cable_segment", [{"cable": "cab-hot1", "seq": "1", "segment": "seg-4"}],
                            "seq", "seq 0 is missing"),
    "path doubling back": ("cable_segment", path_rows("cable_segment", "cab-sch1-n", "seg-1", "seg-1", "seg-1b"),
                           "segment", "doubles back"),
    "path step not joining": ("cable_segment", path_rows("cable_segment", "cab-bp1-n", "seg-5", "seg-3"),
                              "segment", "does not join the previous step"),
    "path not starting at the a-end": ("cable_segment", path_rows("cable_segment", "cab-bp1-n", "seg-6", "seg-5"),
                                       "segment", "does not join the a-end"),
    "truncated path": ("cable_segment", path_rows("cable_segment", "cab-sch1-n", "seg-1"),
                       "segment", "not at the b-end"),
    "hop strand beyond the cable": ("link_hop", path_rows("link_hop", "lnk-backbone", ("cab-backbone", 23, 25)),
                                    "strand_b", "the cable has 24 strands"),
    "hop on a cable elsewhere": ("link_hop", path_rows("link_hop", "lnk-sch1-n", "cab-hot1"),
                                 "cable", "does not join the a-end"),
    "hop seq of 33 bits": ("link_hop", [{"link": "lnk-hot1", "seq": str(2**31), "cable": "cab-hot1",
                                         "strand_a": "9", "strand_b": "10"}], "seq", "32 bits"),
}


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("case", CASES)
def test_each_validator_fires(mini_db, mini_cli, tmp_path, case):
    kind, rows, field, reason = CASES[case]
    path = write_csv(tmp_path / "rows.csv", rows)
    before = dump(mini_db[1])
    result = mini_cli("inventory", "import", "--kind", kind, str(path))
    assert result.exit_code == 2, result.output
    assert f"rows.csv: row " in result.stderr and f"field {field!r}" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert dump(mini_db[1]) == before


def test_geojson_point_with_height_and_nul_text(mini_db, mini_cli, tmp_path):
    """GeoJSON carries what CSV cannot: a 3D point, a NUL escaped as \\u0000."""
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.1, 51.52, 60.0]},
         "properties": {k: v for k, v in SITE.items() if k not in ("lat", "lon")}},
    ]
    path = tmp_path / "site.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = mini_cli("inventory", "import", str(path))
    assert result.exit_code == 2 and "field 'geometry'" in result.stderr and "no height" in result.stderr
    features[0]["geometry"]["coordinates"] = [7.1, 51.52]
    features[0]["properties"]["name"] = "Kita\x00Neun"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    before = dump(mini_db[1])
    result = mini_cli("inventory", "import", str(path))
    assert result.exit_code == 2 and "field 'name'" in result.stderr and "control character" in result.stderr
    assert dump(mini_db[1]) == before


def test_a_whole_new_path_replaces_the_stored_one(mini_db, mini_cli, tmp_path):
    """A valid re-route (BP-1's southern cable through the empty seg-8 instead of seg-5 and
    seg-7) is stored whole: the check accepts real changes, not only the stored path."""
    path = write_csv(tmp_path / "cable_segment.csv", path_rows("cable_segment", "cab-bp1-s", "seg-8"))
    result = mini_cli("inventory", "import", str(path), "--json", "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cable_segment"] == {"inserted": 0, "updated": 1, "unchanged": 0}


def test_a_long_value_is_cut_in_the_message(mini_db, mini_cli, tmp_path):
    path = write_csv(tmp_path / "site.csv", [{**SITE, "code": "x" * 100_000}])
    result = mini_cli("inventory", "import", str(path))
    assert result.exit_code == 2
    assert "xxx…'" in result.stderr and len(result.stderr) < 1000


@pytest.mark.parametrize("what", ["a directory", "a missing file", "an unknown suffix", "an unknown --kind"])
def test_files_that_cannot_be_imported(mini_db, mini_cli, tmp_path, what):
    sites = write_csv(tmp_path / "site.csv", [SITE])
    args = {
        "a directory": [str(tmp_path)],
        "a missing file": [str(tmp_path / "nothing.csv")],
        "an unknown suffix": [str(sites.rename(tmp_path / "site.xlsx"))],
        "an unknown --kind": ["--kind", "sites", str(sites)],
    }[what]
    before = dump(mini_db[1])
    result = mini_cli("inventory", "import", *args)
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and str(tmp_path) in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert dump(mini_db[1]) == before
