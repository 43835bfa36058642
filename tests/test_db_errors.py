"""The database as an operator meets it on a bad day: every location or schema problem is
exit 4 with one line of advice that works, and reading never creates anything."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli import app
from netops import db as dbmod
from tests.support.procs import free_port

ROOT = Path(__file__).resolve().parent.parent
NETOPS = Path(sys.executable).with_name("netops")

def netops(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def assert_one_line_error(result, code: int = 4) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def sqlite_db(tmp_path):
    """A SQLite database at head, with no rows."""
    path = tmp_path / "netops.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    engine.dispose()
    return path


def sql(path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def test_missing_directory_is_named_and_not_created(tmp_path):
    line = assert_one_line_error(netops("--db", str(tmp_path / "typo" / "netops.db"), "inventory", "stats"))
    assert "typo" in line and "does not exist" in line
    assert not (tmp_path / "typo").exists()


def test_reading_a_missing_file_creates_nothing_and_says_how_to_create(tmp_path):
    path = tmp_path / "netops.db"
    line = assert_one_line_error(netops("--db", str(path), "inventory", "stats"))
    assert "netops db upgrade" in line
    assert list(tmp_path.iterdir()) == []
    # the advice works: the database is created, then reading it succeeds
    assert netops("--db", str(path), "db", "upgrade").exit_code == 0
    assert netops("--db", str(path), "inventory", "stats", "--json").exit_code == 0


def test_default_location_is_not_created_by_reading(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "NETOPS_DB_URL": ""}
    line = assert_one_line_error(netops("plan", "list", env=env))
    assert str(tmp_path / "data") in line
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("damage", ["directory", "text", "random", "truncated"])
def test_not_a_database(tmp_path, sqlite_db, damage):
    path = tmp_path / "damaged.db"
    if damage == "directory":
        path.mkdir()
    elif damage == "text":
        path.write_text("sites: 3\n")
    elif damage == "random":
        path.write_bytes(os.urandom(8192))
    else:
        sql(sqlite_db, "CREATE TABLE filler (x)", *["INSERT INTO filler VALUES (randomblob(4000))"] * 20)
        path.write_bytes(sqlite_db.read_bytes()[:6000])
    for command in (["inventory", "stats"], ["db", "current"], ["inventory", "seed"], ["db", "upgrade"]):
        line = assert_one_line_error(netops("--db", str(path), *command))
        assert str(path) in line


@pytest.mark.parametrize("loss", ["DROP TABLE alembic_version", "DELETE FROM alembic_version"])
def test_lost_revision_advises_stamp_which_works(sqlite_db, loss):
    sql(sqlite_db, loss)
    for command in (["inventory", "stats"], ["db", "upgrade"], ["inventory", "seed"]):
        line = assert_one_line_error(netops("--db", str(sqlite_db), *command))
        assert "netops db stamp head" in line
    assert netops("--db", str(sqlite_db), "db", "stamp").exit_code == 0
    assert netops("--db", str(sqlite_db), "inventory", "stats").exit_code == 0


def test_schema_ahead_does_not_advise_upgrade(sqlite_db):
    sql(sqlite_db, "UPDATE alembic_version SET version_num = '9999'")
    for command in (["inventory", "stats"], ["db", "upgrade"], ["audit"]):
        line = assert_one_line_error(netops("--db", str(sqlite_db), *command))
        assert "9999" in line and "run `netops db upgrade`" not in line


def test_older_schema_advises_upgrade_which_works(sqlite_db):
    engine = dbmod.make_engine(f"sqlite:///{sqlite_db}")
    dbmod.downgrade(engine, dbmod.known_revisions()[1])
    engine.dispose()
    line = assert_one_line_error(netops("--db", str(sqlite_db), "inventory", "stats"))
    assert "run `netops db upgrade`" in line
    assert netops("--db", str(sqlite_db), "db", "upgrade").exit_code == 0
    assert netops("--db", str(sqlite_db), "inventory", "stats").exit_code == 0


@pytest.mark.parametrize("damage, named", [("DROP TABLE linkhop", "table linkhop"),
                                           ("ALTER TABLE site DROP COLUMN notes", "column notes")])
def test_dropped_table_or_column_is_found_on_open(sqlite_db, damage, named):
    sql(sqlite_db, damage)
    for command in (["inventory", "stats"], ["inventory", "seed"], ["db", "stamp"]):
        line = assert_one_line_error(netops("--db", str(sqlite_db), *command))
        assert named in line and "restore" in line


def test_bad_revision_argument_is_usage_error(sqlite_db):
    line = assert_one_line_error(netops("--db", str(sqlite_db), "db", "upgrade", "JUNK"), code=2)
    assert "JUNK" in line and dbmod.head_revision() in line


@pytest.mark.parametrize("url, says", [
    ("foo://somewhere/db", "unknown database URL scheme 'foo'"),
    ("mysql://u@127.0.0.1/netops", "unknown database URL scheme 'mysql'"),
])
def test_unknown_url_scheme(url, says):
    assert says in assert_one_line_error(netops("--db", url, "inventory", "stats"))


def test_postgres_with_nothing_listening():
    url = f"postgresql://netops:secret-pw@127.0.0.1:{free_port()}/netops"
    line = assert_one_line_error(netops("--db", url, "inventory", "stats"))
    assert "cannot connect" in line and "secret-pw" not in line


@pytest.mark.parametrize("value", ["abc", "nan", "-1", "inf"])
def test_lock_timeout_must_be_seconds(sqlite_db, value):
    line = assert_one_line_error(netops("--db", str(sqlite_db), "inventory", "stats",
                                        env={"NETOPS_DB_LOCK_TIMEOUT": value}))
    assert "NETOPS_DB_LOCK_TIMEOUT" in line


@pytest.mark.postgres
def test_postgres_schema_problems(pg_server):
    from tests.conftest import _fresh_postgres_url

    url = _fresh_postgres_url(pg_server)
    assert "netops db upgrade" in assert_one_line_error(netops("--db", url, "inventory", "stats"))
    assert netops("--db", url, "db", "upgrade").exit_code == 0
    engine = dbmod.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE site DROP COLUMN notes"))
    assert "column notes" in assert_one_line_error(netops("--db", url, "inventory", "stats"))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert "db stamp head" in assert_one_line_error(netops("--db", url, "audit"))
    engine.dispose()
    missing = url.rsplit("/", 1)[0] + "/no_such_database"
    assert "no_such_database" in assert_one_line_error(netops("--db", missing, "inventory", "stats"))


# -- a busy database: bounded wait, then who holds it ----------------------------------------


def test_busy_sqlite_waits_bounded_and_names_the_holder(sqlite_db, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('PRAGMA journal_mode=WAL'); c.execute('BEGIN IMMEDIATE')\n"
         "print('locked', flush=True); time.sleep(60)\n", str(sqlite_db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        csv = tmp_path / "snmp_profile.csv"
        csv.write_text("name,version\ncity_v2,v2c\n")
        result = netops("--db", str(sqlite_db), "inventory", "import", str(csv), "--kind", "snmp_profile",
                        env={"NETOPS_DB_LOCK_TIMEOUT": "0.5"})
        line = assert_one_line_error(result)
        assert "locked" in line and f"pid {holder.pid}" in line and "0.5 s" in line
    finally:
        holder.kill()
        holder.wait()
    assert netops("--db", str(sqlite_db), "inventory", "stats").exit_code == 0


@pytest.mark.parametrize("command", [["inventory", "seed"], ["plan", "apply", "1"], ["db", "upgrade"]])
def test_busy_writer_lock_names_the_holder(sqlite_db, command):
    engine = dbmod.make_engine(f"sqlite:///{sqlite_db}")
    with dbmod.write_lock(engine, "a long import"):
        result = netops("--db", str(sqlite_db), *command, env={"NETOPS_DB_LOCK_TIMEOUT": "0.2"})
    line = assert_one_line_error(result)
    assert f"pid {os.getpid()} (a long import)" in line and "NETOPS_DB_LOCK_TIMEOUT" in line


@pytest.mark.postgres
def test_busy_postgres_row_waits_bounded(pg_server, tmp_path):
    from tests.conftest import _fresh_postgres_url

    url = _fresh_postgres_url(pg_server)
    engine = dbmod.make_engine(url)
    csv = tmp_path / "snmp_profile.csv"
    csv.write_text("name,version\ncity_v2,v2c\n")
    assert netops("--db", url, "inventory", "import", str(csv)).exit_code == 0
    csv.write_text("name,version,retries\ncity_v2,v2c,3\n")
    with engine.begin() as conn:
        conn.execute(text("SELECT * FROM snmpprofile FOR UPDATE"))
        result = netops("--db", url, "inventory", "import", str(csv), env={"NETOPS_DB_LOCK_TIMEOUT": "0.5"})
    line = assert_one_line_error(result)
    assert "locked" in line and "0.5 s" in line
    engine.dispose()
    assert netops("--db", url, "inventory", "import", str(csv)).exit_code == 0


@pytest.mark.postgres
def test_busy_postgres_writer_lock_names_the_holder(pg_server):
    from tests.conftest import _fresh_postgres_url

    url = _fresh_postgres_url(pg_server)
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    with dbmod.write_lock(engine, "a long import"):
        result = netops("--db", url, "db", "upgrade", env={"NETOPS_DB_LOCK_TIMEOUT": "0.3"})
    line = assert_one_line_error(result)
    assert f"netops pid {os.getpid()}" in line
    engine.dispose()
    assert netops("--db", url, "db", "upgrade").exit_code == 0  # the lock was released


# -- a file netops may only read while its owner writes it -----------------------------------------

WRITER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA synchronous=OFF")  # no fsync: many commits while the reader reads
print("writing", flush=True)
n, end = 0, time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    n += 1
    c.execute("BEGIN IMMEDIATE")
    c.execute("UPDATE a SET n = ?, pad = randomblob(3000)", (n,))
    c.execute("UPDATE b SET n = ?, pad = randomblob(3000)", (n,))
    c.execute("COMMIT")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log emptied often: the reader finds no changes pending
"""
READER = """
import json, sqlite3, sys, time
from pathlib import Path
from netops.dbapi import sqlite_connect
torn = reads = 0
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    c = sqlite_connect(Path(sys.argv[1]), 5.0)
    c.execute("BEGIN")
    a = c.execute("SELECT n FROM a").fetchone()[0]
    time.sleep(0.002)
    b = c.execute("SELECT n FROM b").fetchone()[0]
    c.close()
    reads, torn = reads + 1, torn + (a != b)
print(json.dumps({"reads": reads, "torn": torn}))
"""


def _as_nobody():
    """preexec_fn: the child runs as the user nobody (the file's owner, writing it)."""
    import pwd

    entry = pwd.getpwnam("nobody")

    def demote():
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    return demote


def _without_file_rights():
    """preexec_fn: the child is root without the capabilities that override file modes, so
    it may read but not write nobody's 0644 file and 0755 directory (running netops as
    another user would need its Python, which may live under root's home)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def drop():
        for cap in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    return drop


@pytest.fixture
def shared_dir():
    """A directory of the user nobody, which others may enter but not write; removed after."""
    import shutil
    import tempfile

    if os.geteuid() != 0 or not Path("/usr/bin/python3").exists():
        pytest.skip("needs root (a file of another user) and /usr/bin/python3 (that user's writer)")
    path = Path(tempfile.mkdtemp(prefix="netops-shared-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _owned_by_nobody(*paths: Path) -> None:
    import pwd

    entry = pwd.getpwnam("nobody")
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def test_a_reader_without_write_permission_never_sees_half_a_transaction(shared_dir):
    """Session 6 opened such a file immutable (no locks) when its WAL was empty: a reader
    then read one table before the owner's commit and the other after it."""
    path = shared_dir / "netops.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE a (n INTEGER, pad BLOB)")
        conn.execute("CREATE TABLE b (n INTEGER, pad BLOB)")
        conn.execute("INSERT INTO a VALUES (0, randomblob(3000))")
        conn.execute("INSERT INTO b VALUES (0, randomblob(3000))")
    os.chmod(path, 0o644)
    _owned_by_nobody(path, shared_dir)
    writer = subprocess.Popen(["/usr/bin/python3", "-c", WRITER, str(path), "8"], stdout=subprocess.PIPE, text=True,
                              preexec_fn=_as_nobody(), cwd="/")
    try:
        assert writer.stdout.readline().strip() == "writing"
        reader = subprocess.run([sys.executable, "-c", READER, str(path), "4"], capture_output=True, text=True,
                                preexec_fn=_without_file_rights(), cwd=ROOT, timeout=60)
    finally:
        writer.kill()
        writer.wait()
    assert reader.returncode == 0, reader.stderr
    seen = json.loads(reader.stdout)
    assert seen["reads"] > 50 and seen["torn"] == 0, seen


def test_wal_file_without_index_nor_a_way_to_make_one_is_one_line(shared_dir):
    """Another user's WAL file in a directory netops may not write, its index gone (nobody
    has it open): reading it immutable would be unsafe (its owner may start writing), so
    that is said in one line; on a file nobody can change (chattr +i) it is read."""
    path = shared_dir / "netops.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    engine.dispose()
    os.chmod(path, 0o644)
    _owned_by_nobody(path, shared_dir)
    assert not Path(f"{path}-shm").exists()
    env = {**os.environ, "HOME": str(shared_dir), "XDG_DATA_HOME": str(shared_dir)}
    for args in (["inventory", "stats"], ["inventory", "list", "--kind", "site"]):
        done = subprocess.run([str(NETOPS), "--db", str(path), *args], capture_output=True, text=True,
                              preexec_fn=_without_file_rights(), env=env, timeout=60)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 4 and len(lines) == 1, (args, done.returncode, done.stderr)
        assert lines[0].startswith("error: ") and str(path) in lines[0] and "read a copy" in lines[0], lines[0]
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        done = subprocess.run([str(NETOPS), "--db", str(path), "inventory", "stats", "--json"], capture_output=True,
                              text=True, preexec_fn=_without_file_rights(), env=env, timeout=60)
        assert done.returncode == 0, done.stderr
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_changes_waiting_in_the_wal_of_a_read_only_mount_are_one_line(tmp_path):
    """A WAL file copied with its write-ahead log but not its index, on a read-only mount: an
    immutable open would show it without those changes, so that is said in one line."""
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind -o ro / / 2>/dev/null"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here (unshare -m needs CAP_SYS_ADMIN)")
    source, copy = tmp_path / "source.db", tmp_path / "ro" / "netops.db"
    copy.parent.mkdir()
    engine = dbmod.make_engine(f"sqlite:///{source}")
    dbmod.upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE waiting (x)")
    conn.commit()
    for suffix in ("", "-wal"):
        Path(f"{copy}{suffix}").write_bytes(Path(f"{source}{suffix}").read_bytes())
    conn.close()
    done = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{copy.parent}' '{copy.parent}' && "
                           f"exec '{NETOPS}' --db '{copy}' inventory stats"], capture_output=True, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 4 and len(lines) == 1, (done.returncode, done.stderr)
    assert str(copy) in lines[0] and "write-ahead log holds changes" in lines[0], lines[0]


@pytest.mark.parametrize("url", [
    # libpq quotes the URI it cannot parse, password and all (the driver's message went out whole)
    "postgresql+psycopg://netops:Pw-s3cret-91@[::1/netops",
    "postgresql://netops:Pw-s3cret-91%21@[::1/netops",
    # libpq takes the password as a query parameter too; describe() showed it
    f"postgresql://netops@127.0.0.1:{free_port()}/netops?password=Pw-s3cret-91",
    "postgresql://netops@[::1/netops?sslmode=require&password=Pw-s3cret-91",
    f"postgresql://netops@127.0.0.1:{free_port()}/netops?sslpassword=Pw-s3cret-91&password=Pw-s3cret-91",
])
def test_a_database_url_s_password_is_in_no_message(url):
    """The password is in no line, wherever the URL holds it and whatever part of it is wrong
    (nobody listens on the free port: the connection is refused before any login)."""
    result = netops("--db", url, "inventory", "stats")
    line = assert_one_line_error(result)
    assert "s3cret" not in result.output and "***" in line, line


@pytest.mark.parametrize("command", [("inventory", "stats"), ("db", "upgrade")])
def test_an_at_in_the_password_not_percent_encoded_is_refused_without_echoing_it(command):
    """SQLAlchemy and libpq end the password at its first @ and take the rest for the host:
    the line named the host "s3cret-91@127.0.0.1", the rest of the password (final review)."""
    result = netops("--db", f"postgresql://netops:Pw@s3cret-91@127.0.0.1:{free_port()}/netops", *command)
    line = assert_one_line_error(result)
    assert "percent-encode @ in the password as %40" in line and "s3cret" not in result.output, line


def test_a_password_shape_is_masked_up_to_the_last_at_before_the_host():
    """A message nobody foresaw quoting a URL whose password holds an @: the mask ended at the
    first @, and the rest of the password stood before the host."""
    message = "invalid dsn: 'postgresql://netops:Pw@s3cret-91@db.example:5432/netops?x=a@b'"
    shown = dbmod.redact_url(message, "sqlite:///elsewhere.db")
    assert "s3cret" not in shown and f"netops:{dbmod.MASK}@db.example:5432/netops?x=a@b" in shown, shown


@pytest.mark.parametrize("command", [("inventory", "stats"), ("db", "upgrade")])
@pytest.mark.parametrize("value", ["host=db.example password=Pw-s3cret-91 dbname=netops",
                                   "dbname=netops user=netops password='Pw s3cret-91'"])
def test_a_libpq_connection_string_is_refused_and_creates_nothing(tmp_path, monkeypatch, command, value):
    """Read as a SQLite file's name: the line echoed the password, and `db upgrade` created a
    file whose name held it (final review)."""
    monkeypatch.chdir(tmp_path)
    result = netops("--db", value, *command)
    line = assert_one_line_error(result)
    assert "libpq connection string" in line and "PGPASSWORD" in line and "s3cret" not in result.output, line
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_file_named_with_a_password_shape_is_described_masked():
    assert "s3cret" not in dbmod.describe("sqlite:////srv/netops password=Pw-s3cret-91.db")


def test_a_short_password_is_masked_in_the_url_and_not_in_every_word():
    """A one-letter password scrubbed wherever it stood made "O********erationalError" of the
    driver's class name (final review); where it stands as a password it is still masked."""
    url = "postgresql+psycopg://netops:p@127.0.0.1/netops"
    shown = dbmod.redact_url(f"psycopg.OperationalError: cannot connect to {url}: password=p rejected", url)
    assert shown == (f"psycopg.OperationalError: cannot connect to postgresql+psycopg://netops:{dbmod.MASK}"
                     f"@127.0.0.1/netops: password={dbmod.MASK} rejected"), shown
