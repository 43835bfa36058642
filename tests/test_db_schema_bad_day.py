"""The schema on a bad day, through the real CLI on SQLite and PostgreSQL: a database of an
older netops, an upgrade killed midway or interrupted (Ctrl-C); test_db_foreign has a
second writer and databases of other applications. Each ends in one line naming the
database with what to do (exit 4), the database as it was before the failed command, and
no password in any output.

Found by this hunt: on SQLite, Python's driver ran CREATE TABLE outside the migration's
transaction, so `netops db upgrade` killed midway left a table of the next revision under
the old revision number and every later upgrade failed ("table seedrow already exists").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from netops import db as dbmod
from tests.conftest import _fresh_postgres_url

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Pw-9hunt-db2"
OLDER = "0001"
#: the real CLI, paused before its Nth SQL statement (PAUSE_AT) so the test can kill it by pid there
PAUSING_CLI = """
import os, runpy, sys, time
from sqlalchemy import event
from sqlalchemy.engine import Engine
at, seen = int(os.environ["PAUSE_AT"]), [0]
@event.listens_for(Engine, "before_cursor_execute")
def pause(*_):
    seen[0] += 1
    if seen[0] == at:
        print("paused", flush=True)
        time.sleep(120)
sys.argv = ["netops", *sys.argv[1:]]
runpy.run_module("cli", run_name="__main__")
"""
SITES = "code,name,kind,lat,lon,source\nOLD-1,Alte Schule,school,51.52,7.08,test\nOLD-2,Alte Kita,kindergarten,51.53,7.09,test\n"

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    """A fresh database; PostgreSQL's URL carries a password (the test server trusts loopback,
    so it is ignored there, but every output is searched for it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'netops.db'}"
    fresh = _fresh_postgres_url(request.getfixturevalue("pg_server"))
    scheme, rest = fresh.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user.split(':')[0]}:{PASSWORD}@{host}"


def netops(url: str, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "cli", "--db", url, *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)
    assert PASSWORD not in done.stdout + done.stderr and "Traceback" not in done.stderr, done.stderr
    return done


def one_line(done: subprocess.CompletedProcess, code: int, *names: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code and len(lines) == 1 and lines[0].startswith("error: "), (done.returncode,
                                                                                         done.stderr)
    assert all(name in lines[0] for name in names), lines[0]
    return lines[0]


def where(url: str) -> str:
    return dbmod.describe(url)


def state(url: str) -> dict:
    """Every table's columns and rows, and the recorded revision: the database as it is."""
    engine = dbmod.make_engine(url)
    try:
        with engine.connect() as conn:
            found = {}
            for table in sorted(inspect(conn).get_table_names()):
                columns = sorted(c["name"] for c in inspect(conn).get_columns(table))
                rows = sorted(map(repr, conn.execute(text(f'SELECT * FROM "{table}"'))))
                found[table] = (columns, rows)
        return found
    finally:
        engine.dispose()


def older_database(url: str, tmp_path: Path) -> dict:
    """A database an older netops left: schema at OLDER, with sites in it."""
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES)
    assert netops(url, "inventory", "import", str(sites), "--kind", "site").returncode == 0
    engine = dbmod.make_engine(url)
    dbmod.downgrade(engine, OLDER)
    engine.dispose()
    before = state(url)
    assert before["alembic_version"][1] == [repr((OLDER,))] and len(before["site"][1]) == 2
    return before


def test_an_older_database_is_refused_by_readers_and_upgraded_with_its_data(url, tmp_path):
    before = older_database(url, tmp_path)
    for args in (["inventory", "stats"], ["plan", "list"]):
        one_line(netops(url, *args), 4, where(url), "run `netops db upgrade`")
    assert state(url) == before
    done = netops(url, "db", "upgrade")
    assert done.returncode == 0 and f"{OLDER} → {dbmod.head_revision()}" in done.stdout, done.stderr
    after = state(url)
    assert after["site"] == before["site"] and after["alembic_version"][1] == [repr((dbmod.head_revision(),))]
    assert netops(url, "inventory", "stats", "--json").returncode == 0


def test_an_upgrade_killed_anywhere_leaves_the_older_database(url, tmp_path):
    """Kill `netops db upgrade` (by pid, SIGKILL) before every sixth SQL statement it sends,
    until it has committed: each time before that the database is exactly as before."""
    before = older_database(url, tmp_path)
    at, kills = 1, 0
    while state(url) == before:
        proc = subprocess.Popen([sys.executable, "-c", PAUSING_CLI, "--db", url, "db", "upgrade"], cwd=ROOT,
                                env={**os.environ, "PAUSE_AT": str(at)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        first = proc.stdout.readline().strip()
        if first != "paused":
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0 and "→" in first + out, (at, first, out, err)
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        kills, at = kills + 1, at + 6
    after = state(url)  # killed after its commit (checking the tables) or done: the whole upgrade
    assert after["alembic_version"][1] == [repr((dbmod.head_revision(),))], f"killed before statement {at - 6}"
    assert set(dbmod.head_tables()) <= set(after) and after["site"] == before["site"]
    assert kills >= 5  # the kills reached into the migrations, not only the checks before them
    assert netops(url, "inventory", "stats", "--json").returncode == 0


def test_ctrl_c_during_an_upgrade_is_one_line_and_changes_nothing(url, tmp_path):
    before = older_database(url, tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", PAUSING_CLI, "--db", url, "db", "upgrade"], cwd=ROOT,
                            env={**os.environ, "PAUSE_AT": "20"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "paused"
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1 and "Traceback" not in err, (proc.returncode, err)
    assert PASSWORD not in out + err
    assert state(url) == before
