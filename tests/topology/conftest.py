from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app
from netops import db as dbmod
from netops.db import session_scope
from topology.rows import Inventory, load_inventory


@pytest.fixture(scope="session")
def seeded_city_db(tmp_path_factory) -> str:
    """The seeded city (scale 1) in a SQLite file, seeded once per run; do not write to it."""
    path = tmp_path_factory.mktemp("city") / "city.db"
    result = CliRunner().invoke(app, ["--db", str(path), "inventory", "seed"])
    assert result.exit_code == 0, result.output
    return str(path)


@pytest.fixture
def seeded_inventory(seeded_city_db) -> Inventory:
    """The seeded city's rows, a fresh copy to change at will."""
    engine = dbmod.make_engine(f"sqlite:///{seeded_city_db}")
    with session_scope(engine) as session:
        inv = load_inventory(session, geometry=True)
    engine.dispose()
    return inv
