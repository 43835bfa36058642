"""Not the database netops expects, through the real CLI on SQLite and PostgreSQL: a second
writer holding it while `netops db upgrade` runs, a file or database of another application.
Each ends in one line naming the database with what to do (exit 4) and the database as it
was; the helpers and the bad-day rules are those of test_db_schema_bad_day.

Found by this hunt: reading another application's SQLite file switched it to WAL mode and
advised `netops db upgrade`, which then put netops' tables in it; another application's
Alembic revision in PostgreSQL was taken for one "written by a newer netops".
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from netops import db as dbmod
from tests.conftest import _fresh_postgres_url
from tests.test_db_schema_bad_day import SITES, netops, older_database, one_line, state, url, where  # noqa: F401

pytestmark = pytest.mark.slow


HOLDERS = {
    # a writer in the middle of a transaction on the SQLite file
    "sqlite": ("import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
               "c.execute('BEGIN IMMEDIATE')\nprint('holding', flush=True); time.sleep(120)\n"),
    # a session holding a table the migration must reference (CREATE TABLE ... REFERENCES plan)
    "postgresql": ("import psycopg, sys, time\nc = psycopg.connect(sys.argv[1])\n"
                   "c.execute('LOCK TABLE plan IN ACCESS EXCLUSIVE MODE')\nprint('holding', flush=True); "
                   "time.sleep(120)\n"),
}


def test_an_upgrade_meeting_another_writer_waits_bounded_then_one_line(url, tmp_path):
    before = older_database(url, tmp_path)
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    target = str(dbmod.sqlite_file(url)) if backend == "sqlite" else url.replace("postgresql+psycopg", "postgresql")
    holder = subprocess.Popen([sys.executable, "-c", HOLDERS[backend], target], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        line = one_line(netops(url, "db", "upgrade", env={"NETOPS_DB_LOCK_TIMEOUT": "1"}), 4, where(url), "locked",
                        "NETOPS_DB_LOCK_TIMEOUT")
        if backend == "sqlite":
            assert f"pid {holder.pid}" in line
    finally:
        holder.kill()
        holder.wait()
    assert state(url) == before
    assert netops(url, "db", "upgrade").returncode == 0


# -- not a netops database ----------------------------------------------------------------------

READERS = (["inventory", "stats"], ["db", "current"], ["audit"])
WRITERS = (["db", "upgrade"], ["inventory", "import", "SITES", "--kind", "site"])


def _another_apps_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO contacts (name) VALUES ('Ada')")
    conn.close()


@pytest.mark.parametrize("case", ["another app's SQLite file", "empty file", "FIFO"])
def test_a_file_that_is_no_netops_database_is_one_line_and_unchanged(case, tmp_path):
    path = tmp_path / "netops.db"
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES)
    if case == "FIFO":
        os.mkfifo(path)
    elif case == "empty file":
        path.touch()
    else:
        _another_apps_sqlite(path)
    content = b"" if case == "FIFO" else path.read_bytes()
    # an empty file is an empty database: writers create netops' schema in it (see the README)
    commands = (["inventory", "stats"], ["audit"]) if case == "empty file" else READERS + WRITERS
    for args in commands:
        args = [str(sites) if a == "SITES" else a for a in args]
        line = one_line(netops(str(path), *args, timeout=60), 4, str(path))
        assert "netops db upgrade" not in line or case == "empty file", line
        # nothing beside it, not even the writers' lock file (removed again by the refused run)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("netops.db")) == ["netops.db"], args
        if case != "FIFO":
            assert path.read_bytes() == content, args


def test_another_apps_postgres_database_is_not_taken_for_a_newer_netops(pg_server, tmp_path):
    """Another application's Alembic-managed database: its revision is not "from a newer
    netops", and `db upgrade` must not add netops' tables to it."""
    url = _fresh_postgres_url(pg_server)
    engine = dbmod.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('ae1027a6acf')"))
        conn.execute(text("CREATE TABLE contacts (id SERIAL PRIMARY KEY, name TEXT)"))
    engine.dispose()
    before = state(url)
    for args in READERS + (["db", "upgrade"],):
        line = one_line(netops(url, *args), 4, where(url), "not a netops database", "ae1027a6acf")
        assert "newer netops" not in line
    assert state(url) == before


def test_a_lock_file_removed_by_a_failed_run_never_lets_two_writers_in(tmp_path):
    """A refused run removes the lock file it made while another writer waits on it: that
    waiter must move to the lock file at the path, or it and a third writer (creating a new
    file) would both hold "the" lock."""
    import threading

    path = tmp_path / "netops.db"
    _another_apps_sqlite(path)
    engine = dbmod.make_engine(f"sqlite:///{path}")
    first_in, second_in, second_out = threading.Event(), threading.Event(), threading.Event()
    lock = dbmod.lock_file(path)

    def second_writer():
        with dbmod.write_lock(engine, "second", timeout=10):
            second_in.set()
            second_out.wait(10)

    with pytest.raises(RuntimeError):
        with dbmod.write_lock(engine, "refused"):
            waiter = threading.Thread(target=second_writer)
            waiter.start()
            first_in.wait(0.3)  # the second writer is now waiting on this lock file
            raise RuntimeError("refused")
    try:
        assert second_in.wait(10) and lock.exists()
        with pytest.raises(Exception, match="is busy: pid .* \\(second\\)"):
            with dbmod.write_lock(engine, "third", timeout=0.3):
                pass
    finally:
        second_out.set()
        waiter.join()
    assert not lock.exists() or lock.read_text() == ""
