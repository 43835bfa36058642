"""The batch's saving compares the joint plan with every site planned alone. Planned alone,
each site may count on the same last free pairs of a cable: the independent total is then
no plan that can be built, and its saving (-333 % on the feeder town with one free pair,
review of session 12) reads as 'plan these sites one by one'. The plan says so."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from netops import db as dbmod
from tests.planning.grid import feeder_town_in

NOT_BUILDABLE = "cannot all be built"


def batch(tmp_path, pairs: int, *options: str) -> dict:
    url = f"sqlite:///{tmp_path / 'town.db'}"
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    feeder_town_in(engine, tmp_path, pairs=pairs, kitas=2, second_pop="--redundant" in options)
    engine.dispose()
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "town.db"), "plan", "batch", "--site-kind", "kindergarten",
                                      "--status", "planned", "--streets", str(tmp_path / "streets.geojson"),
                                      "--json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_single_site_plans_sharing_the_last_free_pair_are_named_not_buildable(tmp_path):
    plan = batch(tmp_path, 1, "--dry-run")
    assert plan["saving_eur"] < 0  # both Kitas alone ride CAB-1's one free pair: cheap, and impossible together
    assert any(NOT_BUILDABLE in note for note in plan["notes"]), plan["notes"]
    assert plan["independent_buildable"] is False  # the caveat as a field a script reads, not prose only


def test_single_site_plans_within_the_free_pairs_get_no_such_note(tmp_path):
    plan = batch(tmp_path, 3, "--dry-run")
    assert not any(NOT_BUILDABLE in note for note in plan["notes"]), plan["notes"]
    assert plan["independent_buildable"] is True


def test_the_stored_plan_shows_the_note_with_its_saving(tmp_path):
    plan = batch(tmp_path, 1)
    shown = CliRunner().invoke(app, ["--db", str(tmp_path / "town.db"), "plan", "show", str(plan["plan_id"])])
    assert shown.exit_code == 0, shown.output
    assert "saving" in shown.stdout and NOT_BUILDABLE in " ".join(shown.stdout.split()), shown.stdout


@pytest.mark.parametrize(("pairs", "noted"), [(1, True), (3, False)])
def test_a_redundant_batch_says_so_too(tmp_path, pairs, noted):
    """Two routes per site, each site's pair planned alone: with one free pair both Kitas'
    pairs ride it (the saving is positive, and still measured against plans that cannot be built)."""
    plan = batch(tmp_path, pairs, "--redundant", "--dry-run")
    assert any(NOT_BUILDABLE in note for note in plan["notes"]) is noted, plan["notes"]
    assert plan["independent_buildable"] is not noted
