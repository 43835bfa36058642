"""The planner on the seeded Gelsenkirchen city, through the CLI: a Kita plan with route,
BOM, cost and loss budget; a redundant one with two trench-disjoint routes; a joint plan
for every planned Kita with its saving over independent plans."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("plan-city")
    db, streets = root / "city.db", root / "streets.geojson"
    result = CliRunner().invoke(app, ["--db", str(db), "inventory", "seed", "--streets", str(streets)])
    assert result.exit_code == 0, result.output
    return ["--db", str(db)], ["--streets", str(streets)]


def run(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_single_kita_plan(city):
    db, streets = city
    out = run([*db, "plan", "connect", "kita-001", *streets, "--dry-run", "--json"])
    (route,) = out["routes"]
    assert route["pop"].startswith("pop-") and route["length_m"] > 0
    assert out["total_eur"] > 0 and {line["item"] for line in out["bom"]} >= {"building entry", "cable 12F"}
    (budget,) = out["loss_budget"]
    assert budget["loss_1310_db"] > budget["loss_1550_db"] > 0 and budget["margin_db"] > 0


def test_redundant_kita_plan_is_trench_disjoint(city):
    db, streets = city
    out = run([*db, "plan", "connect", "kita-001", *streets, "--redundant", "--dry-run", "--json"])
    first, second = out["routes"]
    assert out["shared_trenches"] == []
    assert first["pop"] != second["pop"]
    trenches = [{leg["trench_id"] or tuple(leg["from"] + leg["to"]) for leg in r["legs"] if leg["kind"] != "own_entry"}
                for r in out["routes"]]
    assert not trenches[0] & trenches[1]


def test_batch_for_every_planned_kita(city):
    db, streets = city
    out = run([*db, "plan", "batch", "--kind", "kindergarten", "--status", "planned", *streets, "--dry-run",
               "--json"])
    assert out["unreachable"] == [] and len(out["routes"]) == 83
    assert 0 < out["total_eur"] < out["independent_total_eur"] and out["saving_eur"] > 0
    assert [step["sites_connected"] for step in out["order"]] == list(range(1, 84))
