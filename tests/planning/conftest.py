"""Fixtures shared by the planning tests: the seeded city, seeded once per run, each module
on its own copy."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner



@pytest.fixture(scope="session")
def _seeded_city(tmp_path_factory):
    from cli import app

    root = tmp_path_factory.mktemp("seeded-city")
    db, streets = root / "city.db", root / "streets.geojson"
    result = CliRunner().invoke(app, ["--db", str(db), "inventory", "seed", "--streets", str(streets)])
    assert result.exit_code == 0, result.output
    return db, streets


@pytest.fixture(scope="module")
def seeded_city(_seeded_city, tmp_path_factory):
    """(database file, street network file) of the seeded Gelsenkirchen city: this
    module's own copy of the database, to change at will."""
    db, streets = _seeded_city
    copy = tmp_path_factory.mktemp("city-copy") / "city.db"
    shutil.copyfile(db, copy)
    return copy, streets
