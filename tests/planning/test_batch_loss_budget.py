"""Issue 15 item 2: the splices and closures a route passes belong in its loss budget. `plan
connect` counts them (one splice per closure passed, README); a batch site riding the same
spare strands through the same closure gets no loss budget at all: no margin checked, no
optic chosen for its stored interfaces. Found by the acceptance walk of session 12."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from tests.planning.grid import feeder_town_in


def run(args: list[str], code: int = 0) -> dict:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


@pytest.fixture
def town(tmp_path):
    from netops import db as dbmod

    url = f"sqlite:///{tmp_path / 'town.db'}"
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    options, _ = feeder_town_in(engine, tmp_path, pairs=3, kitas=2)
    engine.dispose()
    return ["--db", url.removeprefix("sqlite:///"), "plan"], ["--streets", str(options.streets), "--dry-run", "--json"]


def test_a_single_plan_counts_the_closure_it_passes(town):
    db, options = town
    plan = run([*db, "connect", "KITA-0", *options])
    assert any(leg["kind"] == "strand" for leg in plan["routes"][0]["legs"])  # rides CAB-1 from CL-X
    (budget,) = plan["loss_budget"]
    assert budget["splices"] >= 1 and budget["optic"]


@pytest.mark.xfail(strict=True, reason="#15 item 2: a batch plan has no loss budget per site (session 12 finding)")
def test_a_batch_gives_each_site_its_loss_budget_with_the_closures_it_passes(town):
    db, options = town
    single = run([*db, "connect", "KITA-0", *options])["loss_budget"][0]
    batch = run([*db, "batch", "--site-kind", "kindergarten", "--status", "planned", *options])
    assert set(batch["routes"]) == {"KITA-0", "KITA-1"}
    for code, route in batch["routes"].items():
        budgets = route.get("loss_budget") or batch.get("loss_budget", {}).get(code)
        assert budgets, f"{code}: no loss budget"
        if code == "KITA-0" and route["spare_strand_m"] > 0:
            assert budgets[0]["splices"] == single["splices"]
