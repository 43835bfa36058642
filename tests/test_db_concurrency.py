"""Two writers on one fresh database: schema creation and seeding are serialised (a file
lock beside SQLite, an advisory lock on PostgreSQL), so both succeed and nothing doubles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory.models import Site
from netops import db as dbmod
from netops.db import session_scope

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_two_seeds_on_a_fresh_database_both_succeed(db_url, tmp_path):
    env = dict(os.environ, NETOPS_DB_LOCK_TIMEOUT="600")
    seeds = [subprocess.Popen([sys.executable, "-m", "cli", "--db", db_url, "inventory", "seed", "--json"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [proc.communicate(timeout=900) for proc in seeds]
    for proc, (out, err) in zip(seeds, outputs):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    reports = [json.loads(out) for out, _ in outputs]
    inserted = sorted(report["site"]["inserted"] for report in reports)
    engine = dbmod.make_engine(db_url)
    with session_scope(engine) as session:
        sites = session.execute(select(func.count()).select_from(Site)).scalar_one()
    engine.dispose()
    # one seed wrote the city, the other found it in place
    assert inserted == [0, sites] and sites > 500
    assert sorted(report["site"]["unchanged"] for report in reports) == [0, sites]
