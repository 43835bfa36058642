import csv
import json

import pytest
from sqlalchemy import select

from inventory.files import read_file
from inventory.models import Site
from inventory.seed import seed
from inventory.store import export_rows, write
from netops.db import session_scope
from netops.errors import InputError, NetopsError


def snapshot(engine, kind="site"):
    with session_scope(engine) as session:
        return export_rows(session, kind)


@pytest.fixture
def seeded(engine, city):
    with session_scope(engine) as session:
        seed(session, city)
    return engine


def test_csv_export_reads_back_unchanged(seeded, run_cli, tmp_path):
    out = tmp_path / "site.csv"
    assert run_cli("inventory", "export", "--kind", "site", "--format", "csv", "--out", str(out)).exit_code == 0
    before = snapshot(seeded)
    result = run_cli("inventory", "import", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["site"] == {"inserted": 0, "updated": 0, "unchanged": len(before)}
    assert snapshot(seeded) == before


@pytest.mark.parametrize("kind", ["site", "segment", "route_node"])
def test_geojson_round_trip(seeded, run_cli, tmp_path, kind):
    out = tmp_path / f"{kind}.geojson"
    assert run_cli("inventory", "export", "--kind", kind, "--format", "geojson", "--out", str(out)).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and doc["features"][0]["geometry"]["type"] in ("Point", "LineString")
    before = snapshot(seeded, kind)
    result = run_cli("inventory", "import", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[kind]["inserted"] == 0
    assert json.loads(result.stdout)[kind]["updated"] == 0
    assert snapshot(seeded, kind) == before


def test_import_csv_with_bad_row_near_the_end_changes_nothing(seeded, run_cli, tmp_path):
    out = tmp_path / "site.csv"
    run_cli("inventory", "export", "--kind", "site", "--out", str(out))
    rows = list(csv.DictReader(out.open()))
    fieldnames = list(rows[0])
    rows[0]["name"] = "Renamed school"  # a valid change that must NOT land either
    rows.append({**rows[-1], "code": "kita-new-1", "name": "Kita Neu", "kind": "kindergarten"})
    rows.append({**rows[-1], "code": "kita-new-2", "name": "Kita Neu 2", "lat": "151.5"})
    rows.append({**rows[-1], "code": "kita-new-3", "name": "Kita Neu 3"})
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    before = snapshot(seeded)
    result = run_cli("inventory", "import", str(out))
    assert result.exit_code == 2
    bad_row = len(rows)  # header is row 1, so the second-to-last data row is row len(rows)
    assert f"site.csv: row {bad_row}: field 'lat': value '151.5'" in result.stderr
    assert snapshot(seeded) == before


def test_unknown_column_and_reference_are_errors(engine, tmp_path):
    path = tmp_path / "device.csv"
    path.write_text("name,site,role,platform,source,colour\nsw-x,no-such-site,access_switch,cisco_ios,manual,red\n")
    kind, rows = read_file(path)
    assert kind == "device"
    with pytest.raises(InputError) as err:
        with session_scope(engine) as session:
            write(session, [(kind, rows)])
    messages = [str(p) for p in err.value.problems]
    assert any("field 'colour'" in m and "unknown column" in m for m in messages)
    assert any("field 'site'" in m and "no site 'no-such-site'" in m for m in messages)


def test_invalid_ip_names_row_and_field(seeded, tmp_path):
    path = tmp_path / "device.csv"
    path.write_text("name,site,role,platform,mgmt_ip,source\nsw-y,pop-city,access_switch,cisco_ios,10.0.0.300,manual\n")
    with pytest.raises(InputError) as err:
        with session_scope(seeded) as session:
            write(session, [read_file(path)])
    assert any(p.row == 2 and p.field == "mgmt_ip" and p.value == "10.0.0.300" for p in err.value.problems)


def test_duplicate_key_in_one_file_is_an_error(engine, tmp_path):
    path = tmp_path / "site.csv"
    path.write_text("code,name,kind,source\nx-1,A,school,manual\nx-1,B,school,manual\n")
    with pytest.raises(InputError, match="duplicate key"):
        with session_scope(engine) as session:
            write(session, [read_file(path)])
    with session_scope(engine) as session:
        assert session.execute(select(Site)).first() is None


def test_update_by_natural_key(seeded, tmp_path):
    path = tmp_path / "site.csv"
    with session_scope(seeded) as session:
        row = next(r for r in export_rows(session, "site") if r["code"] == "pop-city")
    row = {k: ("" if v is None else getattr(v, "value", v)) for k, v in row.items()}
    row["name"] = "PoP City (renamed)"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    with session_scope(seeded) as session:
        report = write(session, [read_file(path)])
    assert report.updated["site"] == 1 and report.inserted["site"] == 0
    with session_scope(seeded) as session:
        assert session.execute(select(Site.name).where(Site.code == "pop-city")).scalar_one() == "PoP City (renamed)"


def test_list_and_show(seeded, run_cli):
    result = run_cli("inventory", "list", "site", "-w", "kind=hospital", "--json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 6
    shown = json.loads(run_cli("inventory", "show", "pop-city-ds1", "--json").stdout)
    assert shown["kind"] == "device" and len(shown["links"]) > 10
    missing = run_cli("inventory", "show", "no-such-thing")
    assert missing.exit_code == 2 and "nothing named 'no-such-thing'" in missing.stderr
    bad = run_cli("inventory", "list", "site", "-w", "colour=red")
    assert bad.exit_code == 2 and "unknown filter field" in bad.stderr


def test_secrets_never_reach_output_or_database(seeded, run_cli, monkeypatch, tmp_path):
    secret = "s3cr3t-Community-Value"
    monkeypatch.setenv("NETOPS_SNMP_CITY_V3_AUTH_KEY", secret)
    monkeypatch.setenv("NETOPS_SSH_NETOPS_RO_PASSWORD", secret)
    outputs = [run_cli("inventory", *args).output for args in (
        ("stats", "--json"), ("list", "snmp_profile", "--json"), ("list", "ssh_profile"),
        ("show", "pop-city-cr1", "--json"), ("export", "--kind", "snmp_profile"))]
    assert all(secret not in out for out in outputs)
    assert "city_v3" in outputs[1]  # the profile is there, just not its secret
    if seeded.url.get_backend_name() == "sqlite":
        db_file = seeded.url.database
        for suffix in ("", "-wal"):
            try:
                assert secret.encode() not in open(db_file + suffix, "rb").read()
            except FileNotFoundError:
                pass


def test_one_bad_row_does_not_cascade_into_other_files(engine, tmp_path):
    """A device naming a good new site of the same import is fine, even when another site row is bad."""
    sites = tmp_path / "site.csv"
    sites.write_text("code,name,kind,source,lat,lon\nnew-1,A,school,manual,51.5,7.1\nnew-2,B,school,manual,99,7.1\n")
    devices = tmp_path / "device.csv"
    devices.write_text("name,site,role,platform,source\nnew-1-sw1,new-1,access_switch,cisco_ios,manual\n")
    with pytest.raises(InputError) as err:
        with session_scope(engine) as session:
            write(session, [read_file(sites), read_file(devices)])
    assert [(p.row, p.field) for p in err.value.problems] == [(3, "lat")]
    with session_scope(engine) as session:
        assert session.execute(select(Site)).first() is None


def test_changed_paths_replace_the_stored_ones(seeded, city):
    """A link whose hops change (strands swapped with another link) is rewritten whole;
    re-seeding a changed city works. (A path with a hop fewer no longer reaches its end and
    is refused: tests/inventory/test_validation.py.)"""
    import copy

    changed = copy.deepcopy(city)
    hops = changed.rows["link_hop"]
    by_cable: dict[str, list] = {}
    for hop in hops:
        by_cable.setdefault(hop["cable"], []).append(hop)
    a, b = next(rows for rows in by_cable.values() if len(rows) >= 2)[:2]
    a["strand_a"], a["strand_b"], b["strand_a"], b["strand_b"] = b["strand_a"], b["strand_b"], a["strand_a"], a["strand_b"]
    with session_scope(seeded) as session:
        report = seed(session, changed)
    assert report.updated["link_hop"] >= 2
    stored = snapshot(seeded, "link_hop")
    key = lambda h: (h["link"], int(h["seq"]))  # noqa: E731
    assert sorted(map(key, stored)) == sorted(map(key, changed.rows["link_hop"]))
    swapped = next(h for h in stored if key(h) == key(a))
    assert (swapped["strand_a"], swapped["strand_b"]) == (a["strand_a"], a["strand_b"])


def test_unique_value_clash_is_a_clear_error(seeded, tmp_path):
    """Two devices swapping management addresses trips the unique index: a message, no traceback."""
    with session_scope(seeded) as session:
        rows = [r for r in export_rows(session, "device") if r["mgmt_ip"]][:2]
    rows[0]["mgmt_ip"], rows[1]["mgmt_ip"] = rows[1]["mgmt_ip"], rows[0]["mgmt_ip"]
    path = tmp_path / "device.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: ("" if v is None else getattr(v, "value", v)) for k, v in r.items()} for r in rows)
    before = snapshot(seeded, "device")
    with pytest.raises(NetopsError, match="device: the database refused the change"):
        with session_scope(seeded) as session:
            write(session, [read_file(path)])
    assert snapshot(seeded, "device") == before


def test_open_data_export_from_cli(seeded, run_cli, tmp_path):
    result = run_cli("inventory", "export", "--open-data", str(tmp_path / "od"))
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "od").iterdir())
    assert "freewifi_hotspots.geojson" in written and "connected_public_buildings.csv" in written
    with session_scope(seeded) as session:
        internal = [d["mgmt_ip"] for d in export_rows(session, "device") if d["mgmt_ip"]][:20] + ["pop-city-ds1"]
    text = "".join(p.read_text() for p in (tmp_path / "od").iterdir())
    assert not [value for value in internal if value in text]
