"""PostgreSQL on a bad day, through the real CLI, for reading and for writing commands.

One server of the module's own (Debian's binaries, loopback and a unix socket) that asks
for passwords over TCP (scram-sha-256), so a wrong password is a wrong password. Each case
is a URL (with the password ``PASSWORD``) and the exit code each command ends in; a failure
is one line ``error: ...`` naming the database without the password, and the password
appears nowhere (stdout, stderr, --json). Writes are all or nothing: a refused import leaves
the database as it was. A server stopped in the middle of a seed leaves no row of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cli import app
from netops import db as dbmod
from tests.support import postgres
from tests.support.procs import free_port

pytestmark = pytest.mark.postgres

PASSWORD = "S3cr3t-pw-Xq7"
NETOPS = Path(sys.executable).with_name("netops")
SITES = ("code,name,kind,lat,lon,source\nNEW-1,Neue Schule,school,51.52,7.08,test\n"
         "NEW-2,Neue Kita,kindergarten,51.53,7.09,test\n")

READ = {"stats": ["inventory", "stats", "--json"], "list": ["inventory", "list", "--kind", "site", "--json"],
        "plans": ["plan", "list", "--json"], "audit": ["audit", "--json"]}
WRITE = {"import": ["inventory", "import", "SITES"], "upgrade": ["db", "upgrade"]}


@dataclass
class Server:
    pg: postgres.PostgresServer

    def admin(self, database: str = "postgres"):
        """The superuser over the unix socket (trusted), for setting cases up."""
        return create_engine(f"postgresql+psycopg://postgres@/{database}?host={self.pg.datadir}&port={self.pg.port}",
                             isolation_level="AUTOCOMMIT")

    def url(self, database: str, user: str = "netops", password: str = PASSWORD, port: int | None = None) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{port or self.pg.port}/{database}"

    def sql(self, database: str, *statements: str) -> None:
        engine = self.admin(database)
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
        engine.dispose()

    def scalar(self, database: str, query: str):
        engine = self.admin(database)
        with engine.connect() as conn:
            value = conn.execute(text(query)).scalar()
        engine.dispose()
        return value


@pytest.fixture(scope="module")
def server():
    if not postgres.available():
        pytest.skip("PostgreSQL not installed (run `make test`)")
    pg = postgres.start()
    try:
        (pg.datadir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        os.kill(pg.proc.pid, signal.SIGHUP)  # reload: passwords from now on
        srv = Server(pg)
        srv.sql("postgres", f"CREATE ROLE netops LOGIN PASSWORD '{PASSWORD}'",
                f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'")
        _wait_for_password_auth(srv)
        yield srv
    finally:
        pg.stop()


def _wait_for_password_auth(srv: Server) -> None:
    import psycopg

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(srv.url("postgres", password="wrong")).close()
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not start asking for passwords")


def _database(srv: Server, name: str, schema: str | None = "head") -> str:
    """A database owned by netops: at head, at the revision before, or without schema."""
    srv.sql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}" OWNER netops')
    if schema is not None:
        engine = dbmod.make_engine(dbmod.make_url(srv.url(name)).set(drivername="postgresql+psycopg")
                                   .render_as_string(hide_password=False))
        dbmod.upgrade(engine, dbmod.known_revisions()[1] if schema == "older" else "head")
        engine.dispose()
    return name


# -- the cases --------------------------------------------------------------------------------------

@dataclass
class Case:
    says: str  # in the error line
    codes: dict[str, int] = field(default_factory=dict)  # command -> exit code, when not 4
    database: str = "netops_ok"


def _setup(srv: Server, name: str) -> str:
    """The URL of case ``name`` (its database prepared)."""
    if name == "malformed URL":
        return f"postgresql://netops:{PASSWORD}@127.0.0.1:notaport/netops_ok"
    if name == "unknown driver":
        return f"postgresql+nosuchdriver://netops:{PASSWORD}@127.0.0.1:{srv.pg.port}/netops_ok"
    if name == "driver not installed":
        return f"postgresql+psycopg2://netops:{PASSWORD}@127.0.0.1:{srv.pg.port}/netops_ok"
    if name == "nobody listening":
        return srv.url("netops_ok", port=free_port())
    if name == "wrong password":
        return srv.url("netops_ok", password="not-" + PASSWORD)
    if name == "missing database":
        return srv.url("no_such_db")
    if name == "missing role":
        return srv.url("netops_ok", user="ghost")
    if name == "no netops schema":
        return srv.url(_database(srv, "netops_empty", schema=None))
    if name == "schema newer":
        db = _database(srv, "netops_newer")
        srv.sql(db, "UPDATE alembic_version SET version_num = '9999'")
        return srv.url(db)
    if name == "schema older":
        return srv.url(_database(srv, "netops_older", schema="older"))
    if name == "read-only transactions":
        db = _database(srv, "netops_ro")
        srv.sql("postgres", f"ALTER DATABASE {db} SET default_transaction_read_only = on")
        return srv.url(db)
    if name == "role without write rights":
        db = _database(srv, "netops_rights")
        srv.sql(db, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
        return srv.url(db, user="reader")
    if name == "statement timeout":
        db = _database(srv, "netops_slow")
        srv.sql("postgres", f"ALTER DATABASE {db} SET statement_timeout = '300ms'")
        return srv.url(db)
    raise AssertionError(name)


CASES = {
    "malformed URL": Case("notaport"),
    "unknown driver": Case("nosuchdriver"),
    "driver not installed": Case("psycopg2"),
    "nobody listening": Case("cannot connect"),
    "wrong password": Case("password authentication failed"),
    "missing database": Case("no_such_db"),
    "missing role": Case("ghost"),
    # a new database gets its schema from the commands that load data (README)
    "no netops schema": Case("netops db upgrade", {"import": 0, "upgrade": 0}),
    "schema newer": Case("9999"),
    "schema older": Case("run `netops db upgrade`", {"upgrade": 0}),
    "read-only transactions": Case("accepts no writes", {**dict.fromkeys(READ, 0), "upgrade": 0}),
    "role without write rights": Case("lacks the rights", {**dict.fromkeys(READ, 0), "upgrade": 0}),
    "statement timeout": Case("statement_timeout"),
}
#: cases the server (or the URL) refuses before any SQL: `inventory seed` fails before its work
BEFORE_SQL = {"malformed URL", "unknown driver", "driver not installed", "nobody listening", "wrong password",
              "missing database", "missing role", "schema newer"}


def _run(url: str, args: list[str], sites: Path):
    return CliRunner().invoke(app, ["--db", url, *[str(sites) if a == "SITES" else a for a in args]],
                              env={"NETOPS_DB_LOCK_TIMEOUT": "5"})


@pytest.mark.parametrize("case", CASES)
def test_a_bad_day_is_one_line_without_the_password(case, server, tmp_path):
    spec = CASES[case]
    _database(server, "netops_ok")
    url = _setup(server, case)
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES)
    commands = {**READ, **WRITE, **({"seed": ["inventory", "seed", "--json"]} if case in BEFORE_SQL else {})}
    hold = None
    if case == "statement timeout":  # a long lock on the sites: reading them outlasts the timeout
        hold = server.admin("netops_slow").connect()
        hold.execute(text("BEGIN"))
        hold.execute(text("LOCK TABLE site IN ACCESS EXCLUSIVE MODE"))
    try:
        for name, args in commands.items():
            result = _run(url, args, sites)
            out = result.stdout + result.stderr
            assert result.exception is None or isinstance(result.exception, SystemExit), \
                f"{name}: traceback: {result.exception!r}\n{out}"
            assert PASSWORD not in out, (name, out)
            expected = spec.codes.get(name, 4)
            assert result.exit_code == expected, (name, result.exit_code, out)
            if expected:
                lines = result.stderr.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("error: "), (name, result.stderr)
                assert spec.says in lines[0], (name, lines[0])
                assert "127.0.0.1" in lines[0], (name, lines[0])  # the database, named
    finally:
        if hold is not None:
            hold.execute(text("ROLLBACK"))
            hold.close()
    db = {"no netops schema": "netops_empty", "read-only transactions": "netops_ro",
          "role without write rights": "netops_rights", "statement timeout": "netops_slow"}.get(case, "netops_ok")
    imported = spec.codes.get("import", 4) == 0
    assert server.scalar(db, "SELECT count(*) FROM site") == (2 if imported else 0)  # all or nothing


# -- the server stopped in the middle of a write ---------------------------------------------------

def test_server_stopped_during_a_seed_leaves_nothing_half_written(tmp_path):
    if not postgres.available():
        pytest.skip("PostgreSQL not installed (run `make test`)")
    pg = postgres.start()  # its own: this test stops it
    try:
        srv = Server(pg)
        srv.sql("postgres", "CREATE DATABASE netops_seed")
        url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{pg.port}/netops_seed"  # trusted: the password unused
        assert CliRunner().invoke(app, ["--db", url, "db", "upgrade"]).exit_code == 0
        seed = subprocess.Popen([str(NETOPS), "--db", url, "inventory", "seed"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        engine = srv.admin()
        deadline = time.monotonic() + 120
        with engine.connect() as conn:
            while time.monotonic() < deadline and seed.poll() is None:
                writing = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = 'netops_seed' "
                    "AND application_name LIKE 'netops pid %' AND backend_xid IS NOT NULL")).scalar()
                if writing:
                    break
                time.sleep(0.05)
        engine.dispose()
        assert seed.poll() is None, "the seed ended before it wrote"
        time.sleep(0.5)  # well into the load
        os.kill(pg.proc.pid, signal.SIGINT)  # fast shutdown: the server ends every session
        pg.proc.wait(timeout=30)
        out, err = seed.communicate(timeout=60)
        lines = err.strip().splitlines()
        assert seed.returncode == 4, (seed.returncode, err)
        assert lines and lines[-1].startswith("error: ") and "127.0.0.1" in lines[-1], err
        assert "Traceback" not in err and PASSWORD not in out + err
        postgres.restart(pg)
        assert srv.scalar("netops_seed", "SELECT count(*) FROM site") == 0  # nothing of the seed
        assert srv.scalar("netops_seed", "SELECT count(*) FROM trenchsegment") == 0
    finally:
        pg.stop()
