"""`netops plan` end to end through the CLI on a small stored town (SQLite)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli import app
from inventory.models import Site
from netops import db as dbmod
from netops.db import session_scope
from netops.vocabulary import ELEMENT_KINDS
from tests.planning.grid import grid_city, store_city


@pytest.fixture
def town(tmp_path):
    path = tmp_path / "town.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    streets = tmp_path / "streets.geojson"
    city = grid_city(5, 5, seed=11, sites=3, existing_share=0.5, full_share=0.2, pop_cells=((0, 0), (4, 4)))
    with session_scope(engine) as session:
        store_city(session, city, kitas=3, streets_path=streets)
    engine.dispose()
    return ["--db", str(path)], ["--streets", str(streets)]


def run(args, code=0):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return result.output


def test_connect_show_diff_apply(town, tmp_path):
    db, streets = town
    out = json.loads(run([*db, "plan", "connect", "KITA-0", *streets, "--redundant", "--json"]))
    assert out["plan_id"] == 1 and len(out["routes"]) == 2 and out["shared_trenches"] == []
    assert out["price_table"]["valid_from"] == "2024-01-01"
    assert out["total_eur"] == pytest.approx(sum(line["total_eur"] for line in out["bom"]), abs=0.05)
    assert {b["optic"] for b in out["loss_budget"]} and not out["flagged"]
    text = run([*db, "plan", "show", "1", "--geojson", str(tmp_path / "p.geojson")])
    assert "disjoint (trench, manhole, building, street): yes" in text and "Gelsenkirchen, valid from 2024-01-01" in text
    geo = json.loads((tmp_path / "p.geojson").read_text())
    assert {f["properties"]["cable"] for f in geo["features"]} == {"p1-cab-001", "p1-cab-002"}
    diff = json.loads(run([*db, "plan", "diff", "connect-redundant-KITA-0-1", "--json"]))
    assert len(diff["added"]["cable"]) == 2
    # element kinds as import and export name them, never table names (trenchsegment)
    assert set(diff["added"]) <= set(ELEMENT_KINDS) and "segment" in diff["added"]
    assert "trenchsegment" not in run([*db, "plan", "diff", "1"])
    applied = run([*db, "plan", "apply", "1"])
    assert "segment" in applied and "trenchsegment" not in applied
    assert run([*db, "plan", "list", "--format", "csv"]).splitlines()[0] == \
        "id,name,kind,state,created_at,total_cost_eur"
    plans = json.loads(run([*db, "plan", "list", "--json"]))
    assert [(p["name"], p["state"]) for p in plans] == [("connect-redundant-KITA-0-1", "applied")]
    run([*db, "plan", "apply", "1"], code=2)  # applied already


def test_new_site_from_coordinates_and_discard(town):
    db, streets = town
    out = json.loads(run([*db, "plan", "connect", "--lat", "51.5125", "--lon", "7.0925", "--site-kind", "small_cell",
                          "--name", "Small cell Markt", *streets, "--json"]))
    assert out["site"]["kind"] == "small_cell" and out["site"]["code"] == "small-cell-markt"
    removed = run([*db, "plan", "discard", str(out["plan_id"])])
    assert "1 site" in removed and "1 cable" in removed


def test_batch_reports_the_saving(town):
    db, streets = town
    out = json.loads(run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--exact",
                          "--json"]))
    assert out["plan_id"] is None and len(out["shares_eur"]) == 3
    assert out["total_eur"] <= out["independent_total_eur"]
    assert out["routing_eur"] >= out["exact_routing_eur"] - 0.01
    assert out["routing_eur"] <= out["exact_routing_eur"] * 1.02
    text = run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets])
    assert "sum of independent single-site plans" in text and "stored as plan batch-1" in text


def test_bad_input_exit_codes(town, tmp_path):
    db, streets = town
    assert "no site with code" in run([*db, "plan", "connect", "NOPE", *streets], code=2)
    run([*db, "plan", "connect", *streets], code=2)  # neither a site nor coordinates
    out = run([*db, "plan", "connect", "--lat", "51.51", "--lon", "7.09", "--code", "KITA-0", *streets], code=2)
    assert "exists already" in out
    assert "kind" in run([*db, "plan", "connect", "--lat", "51.51", "--lon", "7.09", "--site-kind", "castle",
                          *streets], code=2)
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [7, 51]}, "properties": {}}]}))
    out = run([*db, "plan", "connect", "KITA-0", "--streets", str(bad), "--dry-run"], code=2)
    assert "row 1" in out and "geometry.type" in out
    csv = tmp_path / "sites.csv"
    csv.write_text("code,lat,lon\nKITA-1,,\nX,91,7\n")
    assert "row 3" in run([*db, "plan", "batch", "--csv", str(csv), *streets, "--dry-run"], code=2)
    # a margin below the minimum is a finding: exit 1, plan still shown
    out = run([*db, "plan", "connect", "KITA-0", *streets, "--dry-run", "--min-margin", "30"], code=1)
    assert "FLAG" in out
    # an optic type the inventory does not hold is a bad name: one line, exit 2 (was a traceback, exit 1:
    # the code of a flagged margin)
    out = run([*db, "plan", "connect", "KITA-0", *streets, "--dry-run", "--optic", "NOPE-SFP"], code=2)
    assert "unknown optic 'NOPE-SFP'; known: " in out and "Traceback" not in out and len(out.splitlines()) <= 2


def test_a_batch_with_an_unreachable_row_fails_naming_it(town, tmp_path):
    """A row 400 km away is an error (exit 2, row, site and reason), not a silent note;
    nothing is stored."""
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code,name,kind,lat,lon\nKITA-0,,,,\nfar-away,Kita Hamburg,kindergarten,53.55,10.0\n"
                   "KITA-1,,,,\n")
    result = CliRunner().invoke(app, [*db, "plan", "batch", "--csv", str(csv), *streets])
    assert result.exit_code == 2, result.output
    assert "row 3: site far-away: no candidate network node within 600 m" in result.output
    assert json.loads(run([*db, "plan", "list", "--json"])) == []


def test_skip_unreachable_plans_the_rest_and_lists_each_skipped_site(town, tmp_path):
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code,name,kind,lat,lon\nKITA-0,,,,\nfar-away,Kita Hamburg,kindergarten,53.55,10.0\n"
                   "KITA-1,,,,\nfar-north,Kita Kiel,kindergarten,54.32,10.13\n")
    out = json.loads(run([*db, "plan", "batch", "--csv", str(csv), *streets, "--skip-unreachable", "--json"],
                         code=1))
    assert sorted(out["routes"]) == ["KITA-0", "KITA-1"]
    assert [(s["row"], s["site"]) for s in out["skipped"]] == [(3, "far-away"), (5, "far-north")]
    assert all("600 m" in s["reason"] for s in out["skipped"])
    stored = json.loads(run([*db, "plan", "show", str(out["plan_id"]), "--json"]))
    assert [s["site"] for s in stored["summary"]["skipped"]] == ["far-away", "far-north"]
    text = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--skip-unreachable", "--dry-run"], code=1)
    assert "skipped: 2 site(s) not planned" in text and "far-north" in text


def test_skip_bad_rows_skips_invalid_rows_too_naming_each(town, tmp_path):
    """Issue 15 item 6: invalid rows are errors (exit 2) unless the user opts in to skipping
    them; then exit 1, each skipped row named (file, row, field, value, reason) in the table,
    the JSON and the stored plan. --skip-unreachable (the old name) opts in as well."""
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code,name,kind,lat,lon\nKITA-0,,,,\nX,Kita Nordpol,kindergarten,91,7\n,no code,,,\n"
                   "NOPE,,,,\nKITA-0,,,,\nfar-away,Kita Hamburg,kindergarten,53.55,10.0\nKITA-1,,,,\n")
    out = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--dry-run"], code=2)
    assert "row 3" in out and "row 4" in out and "row 5" in out and "row 6" in out
    out = json.loads(run([*db, "plan", "batch", "--csv", str(csv), *streets, "--skip-bad-rows", "--json"], code=1))
    assert sorted(out["routes"]) == ["KITA-0", "KITA-1"]
    skipped = {s["row"]: s for s in out["skipped"]}
    assert sorted(skipped) == [3, 4, 5, 6, 7]
    assert all(s["file"] == str(csv) for s in out["skipped"])
    assert (skipped[3]["site"], skipped[3]["field"], skipped[3]["value"]) == ("X", "lat/lon/kind", "91,7")
    assert "lat" in skipped[3]["reason"]
    assert (skipped[4]["field"], skipped[4]["value"], skipped[4]["reason"]) == ("code", "", "missing")
    assert (skipped[5]["site"], skipped[5]["field"]) == ("NOPE", "code") and "no site with code" in skipped[5]["reason"]
    assert skipped[6]["reason"] == "listed twice (also row 2)"
    assert skipped[7]["field"] is None and "600 m" in skipped[7]["reason"]  # unreachable, not invalid
    stored = json.loads(run([*db, "plan", "show", str(out["plan_id"]), "--json"]))
    assert stored["summary"]["skipped"] == out["skipped"]
    text = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--skip-unreachable", "--dry-run"], code=1)
    assert "skipped: 5 site(s) not planned" in text and "lat/lon/kind" in text and "91,7" in text
    assert "listed twice" in text


def test_a_row_after_a_rejected_one_of_the_same_code_is_planned(town, tmp_path):
    """Row 2 names KITA-1 with a bad latitude and is skipped; row 3 names KITA-1 validly: it is
    the code's first accepted row (no "listed twice (also row 2)"), and KITA-1 is planned."""
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code,name,kind,lat,lon\nKITA-1,,,north,\nKITA-1,,,,\nKITA-0,,,,\n")
    out = json.loads(run([*db, "plan", "batch", "--csv", str(csv), *streets, "--skip-bad-rows", "--dry-run",
                          "--json"], code=1))
    assert sorted(out["routes"]) == ["KITA-0", "KITA-1"]
    assert [(s["row"], s["field"]) for s in out["skipped"]] == [(2, "lat/lon/kind")]


def test_invalid_rows_name_the_option_that_plans_the_rest(town, tmp_path):
    """As a site that cannot be reached, an invalid row beside valid ones ends with the hint;
    a file with no valid row does not (skipping would leave nothing to plan)."""
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code,name,kind,lat,lon\nKITA-0,,,,\nNOPE,,,,\n")
    out = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--dry-run"], code=2)
    assert "row 3" in out and out.splitlines()[-1] == "(--skip-bad-rows plans the rest)", out
    csv.write_text("code,name,kind,lat,lon\nNOPE,,,,\n")
    out = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--dry-run"], code=2)
    assert "row 2" in out and "--skip-bad-rows" not in out, out


def test_a_csv_with_no_valid_row_is_an_error_even_when_skipping(town, tmp_path):
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code,name,kind,lat,lon\nX,Kita Nordpol,kindergarten,91,7\nNOPE,,,,\n")
    out = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--skip-bad-rows"], code=2)
    assert "row 2" in out and "row 3" in out and "Traceback" not in out
    assert json.loads(run([*db, "plan", "list", "--json"])) == []


def test_batch_rows_that_cannot_be_planned(town, tmp_path):
    db, streets = town
    csv = tmp_path / "sites.csv"
    csv.write_text("code\nKITA-0\nKITA-1\nKITA-0\n")
    assert "row 4" in run([*db, "plan", "batch", "--csv", str(csv), *streets, "--dry-run"], code=2)
    # every row unreachable: skipping leaves nothing to plan, which is an error too
    csv.write_text("code,name,kind,lat,lon\nfar-away,Kita Hamburg,kindergarten,53.55,10.0\n")
    out = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--skip-unreachable", "--dry-run"], code=2)
    assert "no site can be planned" in out and "far-away" in out
    out = run([*db, "plan", "batch", "--csv", str(csv), *streets, "--dry-run"], code=2)  # no hint to skip
    assert "no site can be planned" in out and "far-away" in out and "--skip-bad-rows" not in out


def test_a_site_without_coordinates_is_not_dropped_silently(town):
    db, streets = town
    engine = dbmod.make_engine(f"sqlite:///{db[1]}")
    with session_scope(engine) as session:
        kita = session.exec(select(Site).where(Site.code == "KITA-2")).one()
        kita.lat = kita.lon = None
        session.add(kita)
    engine.dispose()
    out = run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run"], code=2)
    assert "site KITA-2: site has no coordinates" in out
    out = json.loads(run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--json",
                          "--skip-unreachable"], code=1))
    assert out["skipped"] == [{"site": "KITA-2", "reason": "site has no coordinates to plan from", "row": None,
                               "file": None, "field": None, "value": None}]
    assert sorted(out["routes"]) == ["KITA-0", "KITA-1"]


def test_batch_states_its_lower_bound_and_proven_gap(town):
    db, streets = town
    out = json.loads(run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--exact", "--json"]))
    assert out["bound_method"] == "LP relaxation"
    assert out["lower_bound_eur"] <= out["exact_routing_eur"] + 0.01 <= out["routing_eur"] + 0.02
    assert out["proven_gap_pct"] == pytest.approx(
        100 * (out["routing_eur"] - out["lower_bound_eur"]) / out["lower_bound_eur"], abs=0.01)
    text = run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run"])
    assert "% above the optimum" in text and "lower bound" in text


def test_thorough_batch_is_never_dearer_and_says_what_it_did(town):
    db, streets = town
    batch = [*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--json"]
    plain = json.loads(run(batch))
    thorough = json.loads(run([*batch, "--thorough"]))
    assert "thorough" not in plain
    assert thorough["routing_eur"] <= plain["routing_eur"]
    assert thorough["total_eur"] <= plain["total_eur"]
    search = thorough["thorough"]
    assert search["neighbourhoods"] == 3 and search["skipped_too_large"] == 0
    assert search["routing_before_eur"] == plain["routing_eur"]
    assert search["routing_saving_eur"] == round(plain["routing_eur"] - thorough["routing_eur"], 2)
    assert search["sites_moved"] == len(search["moved"])
    assert json.loads(run([*batch, "--thorough"])) == thorough  # same input, same plan
    text = run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--thorough"])
    assert "neighbourhood search: " in text and "sites moved" in text
    assert "does not apply with --redundant" in run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets,
                                          "--dry-run", "--thorough", "--redundant"], code=2)


def test_thorough_batch_skips_a_neighbourhood_too_large_and_says_so(town, monkeypatch):
    from planning import lns

    db, streets = town
    batch = [*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--json"]
    plain = json.loads(run(batch))
    monkeypatch.setattr(lns, "MAX_VARIABLES", 10)  # every neighbourhood has more columns
    out = json.loads(run([*batch, "--thorough"]))
    assert out["thorough"]["skipped_too_large"] == 3 and out["thorough"]["solved"] == 0
    assert out["notes"] == ["3 of 3 neighbourhoods skipped: over 10 variables"]
    assert out["routing_eur"] == plain["routing_eur"] and out["routes"] == plain["routes"]


def test_an_optic_of_a_lower_line_rate_is_said_not_silent(town):
    """The inventory holds a 10 G optic of short reach and a 1 G long-reach one: where the
    10 G optic's margin is below the minimum, the plan takes the 1 G one (a Kita runs at 1 G)
    and says so: the budget's `rate_lowered_from` and a note, in plan connect and plan fixes."""
    from inventory.models import OpticType

    db, streets = town
    engine = dbmod.make_engine(f"sqlite:///{db[1]}")
    with session_scope(engine) as session:
        for name, standard, nm, reach, tx, rx in (("lr-10g", "10GBASE-LR", 1310, 10.0, -8.2, -14.4),
                                                  ("zx-1g", "1000BASE-ZX", 1550, 70.0, 0.0, -23.0)):
            session.add(OpticType(name=name, standard=standard, wavelength_nm=nm, reach_km=reach,
                                  tx_min_dbm=tx, rx_sensitivity_dbm=rx, source="test"))
    engine.dispose()
    out = json.loads(run([*db, "plan", "connect", "KITA-0", *streets, "--dry-run", "--json", "--min-margin", "6.5"]))
    (budget,) = out["loss_budget"]
    assert (budget["optic"], budget["optic_rate_mbps"], budget["rate_lowered_from"]) == ("zx-1g", 1000, "lr-10g")
    assert any("zx-1g (1,000 Mbit/s) instead of lr-10g" in note for note in out["notes"]), out["notes"]
    text = run([*db, "plan", "connect", "KITA-0", *streets, "--dry-run", "--min-margin", "6.5"])
    assert "instead of lr-10g" in " ".join(text.split())
    # the default minimum: the 10 G optic keeps it, nothing lowered, nothing said
    out = json.loads(run([*db, "plan", "connect", "KITA-0", *streets, "--dry-run", "--json"]))
    assert (out["loss_budget"][0]["optic"], out["loss_budget"][0]["rate_lowered_from"]) == ("lr-10g", None)
    assert not any("instead of" in note for note in out["notes"])
    batch = json.loads(run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--json",
                            "--min-margin", "6.5"]))
    assert {b["rate_lowered_from"] for s in batch["loss_budget"].values() for b in s} == {"lr-10g"}
    text = run([*db, "plan", "batch", "--site-kind", "kindergarten", *streets, "--dry-run", "--min-margin", "6.5"])
    assert "route(s) on a longer-reach optic of a lower line rate" in " ".join(text.split())
