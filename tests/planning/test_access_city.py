"""Planning for customers on the seeded Gelsenkirchen city, through the CLI: the planted
waiting building beside the full splitter, new buildings in Buer, an area plan for a small
Stadtteil with the cost per home passed."""

from __future__ import annotations

import json
import math

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli import app
from inventory.models import Building, RouteNode, Splitter
from inventory.seed import generate
from netops import db as dbmod
from netops.db import session_scope

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city(seeded_city):
    db, streets = seeded_city
    engine = dbmod.make_engine(f"sqlite:///{db}")
    with session_scope(engine) as session:  # new homes: two in Buer, four in Resser Mark (all passed so far)
        for district, count in (("Buer", 2), ("Resser Mark", 4)):
            near = session.exec(select(Building).where(Building.district == district,
                                                       Building.residential_units > 0).order_by(Building.code)).all()
            for k in range(count):
                base = near[3 * k]
                session.add(Building(code=f"new-{district[:4].lower()}-{k}", address=f"{district}, Neubau {k + 1}",
                                     district=district, lat=base.lat + 0.0002, lon=base.lon + 0.0002,
                                     residential_units=6 + 4 * k, status="planned", source="test"))
    engine.dispose()
    return ["--db", str(db)], ["--streets", str(streets)], generate().manifest


def run(args, code=0):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return result


def test_the_waiting_building_is_not_put_on_the_full_splitter(city):
    db, streets, manifest = city
    (full,) = manifest["full_splitters"]
    (waiting,) = manifest["waiting_buildings"]
    out = json.loads(run([*db, "plan", "building", waiting, *streets, "--dry-run", "--json"]).stdout)
    (c,) = out["connections"]
    assert c["building"] == waiting and c["homes"] == 10 and c["splitter"] != full
    assert c["loss_budget"]["margin_db"] >= 3.0 and out["total_eur"] == pytest.approx(c["cost_eur"], abs=0.01)
    # the answer README gives: a new splitter in the full one's closure, on its parent's free port,
    # over a spare strand of the distribution cable, within GPON's 1:64
    engine = dbmod.make_engine(f"sqlite:///{db[1]}")
    with session_scope(engine) as session:
        full_row = session.exec(select(Splitter).where(Splitter.code == full)).one()
        parent = session.get(Splitter, full_row.parent_id)
        node = session.get(RouteNode, full_row.node_id).code
    engine.dispose()
    (new,) = out["splitters"]
    assert c["new_splitter"] and (new["node"], new["fed_from"], new["closure"]) == (node, parent.code, "existing")
    assert c["fed_from"]["over"].startswith("spare strand")
    ratios = [int(r.split(":")[1]) for r in c["loss_budget"]["splitters"].split(" + ")]
    assert ratios[-1] == c["splitter_ratio"] and math.prod(ratios) <= 64


def test_new_buildings_in_buer_take_different_ports(city):
    db, streets, _ = city
    first = json.loads(run([*db, "plan", "building", "new-buer-0", *streets, "--json"]).stdout)
    second = json.loads(run([*db, "plan", "building", "new-buer-1", *streets, "--json"]).stdout)
    (a,), (b,) = first["connections"], second["connections"]
    assert a["district"] == b["district"] == "Buer"
    assert not (a["splitter"] == b["splitter"] and set(a["ports"]) & set(b["ports"]))
    assert min(a["loss_budget"]["margin_db"], b["loss_budget"]["margin_db"]) >= 3.0
    again = run([*db, "plan", "building", "new-buer-0", *streets, "--dry-run"], code=2)
    assert "passed already" in again.stderr
    engine = dbmod.make_engine(f"sqlite:///{db[1]}")
    with session_scope(engine) as session:
        planned = session.exec(select(Splitter.code).where(Splitter.plan_id.is_not(None))).all()
    engine.dispose()
    assert len(planned) == first["new_splitters"] + second["new_splitters"]


def test_area_plan_for_a_small_stadtteil(city):
    db, streets, _ = city
    out = json.loads(run([*db, "plan", "area", "--stadtteil", "Resser Mark", *streets, "--dry-run", "--json"]).stdout)
    assert out["buildings"] == 4 and out["homes_passed"] == sum(6 + 4 * k for k in range(4))
    assert out["cost_per_home_eur"] == pytest.approx(out["total_eur"] / out["homes_passed"], abs=0.01)
    assert out["total_eur"] == pytest.approx(sum(c["cost_eur"] for c in out["connections"]), abs=0.05)
    assert all(c["loss_budget"]["margin_db"] >= 3.0 for c in out["connections"])
    empty = run([*db, "plan", "area", "--stadtteil", "Schalke-Nord", *streets, "--dry-run"], code=2)
    assert "no building with homes not yet passed" in empty.stderr
