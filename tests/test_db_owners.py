"""Two users on one SQLite file: whatever either runs, the database's owner can still write.

SQLite creates a WAL database's ``-wal`` and ``-shm`` files when they are missing and the
directory lets it, even for a read-only connection, owned by whoever opened it with the
database file's mode (0644). A reader that may write the directory but not the file then
left files its owner cannot write, and every later write of the owner failed ("attempt to
write a readonly database"). The users are root and ``nobody``: root without the
capabilities that override file modes plays an ordinary owner (as in test_db_errors), and
``nobody`` runs netops with the system Python on this checkout and its virtualenv's packages.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from netops import db as dbmod
from tests.test_db_errors import _as_nobody, _owned_by_nobody, _without_file_rights

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not SYSTEM_PYTHON.exists(),
                                reason="needs root (two users) and /usr/bin/python3 (the other user's Python)")


def netops(user: str, db: Path, *args: str) -> subprocess.CompletedProcess:
    """netops as ``owner`` (root without file-mode overrides), ``nobody``, or ``root``."""
    env = {**os.environ, "HOME": str(db.parent), "XDG_DATA_HOME": str(db.parent), "NETOPS_DB_LOCK_TIMEOUT": "5"}
    python, preexec = sys.executable, None
    if user == "nobody":
        python, preexec = str(SYSTEM_PYTHON), _as_nobody()
        env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{sysconfig.get_paths()['purelib']}"
    elif user == "owner":
        preexec = _without_file_rights()
    return subprocess.run([python, "-m", "cli", "--db", str(db), *args], capture_output=True, text=True,
                          preexec_fn=preexec, cwd=ROOT, env=env, timeout=120)


def writes(user: str, db: Path, name: str) -> subprocess.CompletedProcess:
    csv = db.parent / f"{name}.csv"
    csv.write_text(f"name,version\n{name},v2c\n")
    os.chmod(csv, 0o644)
    return netops(user, db, "inventory", "import", str(csv), "--kind", "snmp_profile")


def one_line(done: subprocess.CompletedProcess, code: int) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code and len(lines) == 1 and lines[0].startswith("error: "), (done.returncode, done.stderr)
    return lines[0]


def owners(directory: Path) -> dict[str, str]:
    return {p.name: pwd.getpwuid(p.stat().st_uid).pw_name for p in directory.iterdir() if p.name.startswith("netops")}


@pytest.fixture
def directory():
    path = Path(tempfile.mkdtemp(prefix="netops-owners-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _new_database(directory: Path) -> Path:
    path = directory / "netops.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    engine.dispose()
    os.chmod(path, 0o644)
    return path


def test_a_reader_who_may_write_the_directory_never_locks_the_owner_out(directory):
    """root's database (0644) in a directory everyone may write (0777): nobody reads it."""
    os.chmod(directory, 0o777)
    db = _new_database(directory)
    assert writes("owner", db, "first").returncode == 0
    # nobody has it open: reading would create the WAL files as nobody; refused in one line
    line = one_line(netops("nobody", db, "inventory", "stats", "--json"), 4)
    assert str(db) in line and "user root" in line and "read a copy" in line, line
    assert set(owners(directory).values()) == {"root"}, owners(directory)
    assert writes("owner", db, "second").returncode == 0
    # while the owner has it open, its WAL files are there: nobody reads, creating nothing
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1])\n"
                               "c.execute('SELECT count(*) FROM snmpprofile').fetchall()\n"
                               "print('open', flush=True); time.sleep(60)\n", str(db)],
                              stdout=subprocess.PIPE, text=True, preexec_fn=_without_file_rights())
    try:
        assert holder.stdout.readline().strip() == "open"
        read = netops("nobody", db, "inventory", "list", "--kind", "snmp_profile", "--json")
        assert read.returncode == 0 and "second" in read.stdout, read.stderr
    finally:
        holder.kill()
        holder.wait()
    assert set(owners(directory).values()) == {"root"}, owners(directory)
    done = writes("owner", db, "third")
    assert done.returncode == 0, done.stderr
    listed = netops("owner", db, "inventory", "list", "--kind", "snmp_profile", "--json").stdout
    assert all(name in listed for name in ("first", "second", "third"))


def test_root_writing_a_users_database_leaves_it_theirs(directory):
    """nobody's database in nobody's directory: root writes it (a cron job, an admin), then
    nobody writes again. The lock file root made was root's (0644): nobody's next import
    could not open it."""
    db = _new_database(directory)
    _owned_by_nobody(db, directory)
    assert writes("nobody", db, "mine").returncode == 0
    done = writes("root", db, "roots")
    assert done.returncode == 0, done.stderr
    assert set(owners(directory).values()) == {"nobody"}, owners(directory)
    done = writes("nobody", db, "mine-again")
    assert done.returncode == 0, done.stderr
    # a lock file another user made before this fix: locked read-only, the write goes on
    lock = dbmod.lock_file(db)
    os.chown(lock, 0, 0)
    done = writes("nobody", db, "past-roots-lock")
    assert done.returncode == 0, done.stderr


def test_wal_files_another_user_left_are_named_with_what_to_do(directory):
    """An older netops' reader left root-owned WAL files beside nobody's database: nobody's
    write names them and says how to get out; following the advice works."""
    db = _new_database(directory)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").write_bytes(b"")
        os.chmod(f"{db}{suffix}", 0o644)
    _owned_by_nobody(db, directory)
    line = one_line(writes("nobody", db, "blocked"), 4)
    assert "netops.db-shm" in line and "remove them" in line, line
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink()
    done = writes("nobody", db, "unblocked")
    assert done.returncode == 0, done.stderr


# -- the check and the open, with the owner closing in between ---------------------------------

#: nobody's netops, stopped right after the WAL-owner check: it lets the owner close the
#: database (SIGNALS/go) and waits until the owner has (SIGNALS/closed) before SQLite opens it
READER_PAUSED_AFTER_THE_CHECK = r"""
import runpy, sys, time
from pathlib import Path
import netops.dbapi as dbapi
signals, checked = Path(sys.argv[1]), dbapi._refuse_to_lock_the_owner_out
def check_then_let_the_owner_close(path):
    checked(path)
    (signals / "go").touch()
    deadline = time.monotonic() + 20
    while not (signals / "closed").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
dbapi._refuse_to_lock_the_owner_out = check_then_let_the_owner_close
sys.argv = ["netops", *sys.argv[2:]]
runpy.run_module("cli", run_name="__main__")
"""

#: the owner's process: has the database open (its WAL files are there) until told to close
OWNER_CLOSING_ON_SIGNAL = r"""
import sqlite3, sys, time
from pathlib import Path
signals, conn = Path(sys.argv[2]), sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM snmpprofile").fetchall()
print("open", flush=True)
while not (signals / "go").exists():
    time.sleep(0.05)
conn.close()  # the last connection: SQLite checkpoints and deletes -wal and -shm if it may
(signals / "closed").touch()
"""


def test_the_owner_closing_between_the_check_and_the_open_locks_nobody_out(directory):
    """The check saw the owner's WAL files; the owner's last connection closes before the
    reader's SQLite opens them. Unguarded, the close deleted them and the reader made new
    ones as nobody (the owner locked out). The reader holds a read lock on the database from
    before the check until SQLite's own: the owner's close cannot delete them."""
    os.chmod(directory, 0o777)
    db = _new_database(directory)
    assert writes("owner", db, "first").returncode == 0
    signals = directory / "signals"
    signals.mkdir()
    os.chmod(signals, 0o777)
    owner = subprocess.Popen([sys.executable, "-c", OWNER_CLOSING_ON_SIGNAL, str(db), str(signals)],
                             stdout=subprocess.PIPE, text=True, preexec_fn=_without_file_rights())
    try:
        assert owner.stdout.readline().strip() == "open"
        env = {**os.environ, "HOME": str(directory), "PYTHONPATH": f"{ROOT}{os.pathsep}{sysconfig.get_paths()['purelib']}"}
        read = subprocess.run([str(SYSTEM_PYTHON), "-c", READER_PAUSED_AFTER_THE_CHECK, str(signals), "--db", str(db),
                               "inventory", "list", "--kind", "snmp_profile", "--json"], capture_output=True, text=True,
                              preexec_fn=_as_nobody(), cwd=ROOT, env=env, timeout=120)
        assert (signals / "go").exists(), read.stderr
        assert owner.wait(30) == 0
    finally:
        owner.kill()
        owner.wait()
    assert (signals / "closed").exists()  # the owner did close between the check and the open
    assert read.returncode == 0 and "first" in read.stdout, read.stderr
    assert set(owners(directory).values()) == {"root"}, owners(directory)
    done = writes("owner", db, "second")
    assert done.returncode == 0, done.stderr


# -- a team's database: group-writable in a setgid directory -------------------------------------

TEAM_GID, ALICE, BOB = 61000, 61001, 61002  # ids without /etc/passwd entries: nothing on the system changes


def as_member(uid: int):
    def demote():
        os.setgroups([TEAM_GID])
        os.setgid(TEAM_GID)
        os.setuid(uid)
    return demote


def member_runs(uid: int, db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(db.parent), "XDG_DATA_HOME": str(db.parent), "NETOPS_DB_LOCK_TIMEOUT": "5",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{sysconfig.get_paths()['purelib']}"}
    return subprocess.run([str(SYSTEM_PYTHON), "-m", "cli", "--db", str(db), *args], capture_output=True, text=True,
                          preexec_fn=as_member(uid), cwd=ROOT, env=env, timeout=120)


def member_imports(uid: int, db: Path, name: str) -> subprocess.CompletedProcess:
    csv = db.parent.parent / f"{name}.csv"
    csv.write_text(f"name,version\n{name},v2c\n")
    os.chmod(csv, 0o644)
    return member_runs(uid, db, "inventory", "import", str(csv), "--kind", "snmp_profile")


@pytest.fixture
def team_db(directory) -> Path:
    """Where alice's team keeps its database: a setgid directory of the team's group (2775)."""
    os.chmod(directory, 0o755)
    team = directory / "team"
    team.mkdir()
    os.chown(team, ALICE, TEAM_GID)
    os.chmod(team, 0o2775)
    return team / "netops.db"


def test_a_team_shares_a_group_writable_database(team_db):
    """README's setting for a team: a setgid directory of the team's group and a database file
    the group may write. Every member's netops then makes the WAL files with the group and the
    file's mode (0664): whoever opened them first, the others still write."""
    db = team_db
    done = member_runs(ALICE, db, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    os.chmod(db, 0o664)  # alice: chmod g+w netops.db (or create it with umask 002)
    assert member_imports(BOB, db, "bobs").returncode == 0
    holder = subprocess.Popen([str(SYSTEM_PYTHON), "-c", "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1])\n"
                               "c.execute('SELECT count(*) FROM snmpprofile').fetchall()\n"
                               "print('open', flush=True); time.sleep(60)\n", str(db)],
                              stdout=subprocess.PIPE, text=True, preexec_fn=as_member(BOB))
    try:
        assert holder.stdout.readline().strip() == "open"
        for suffix in ("-wal", "-shm"):  # bob's, the team's, group-writable
            made = Path(f"{db}{suffix}").stat()
            assert (made.st_uid, made.st_gid, made.st_mode & 0o777) == (BOB, TEAM_GID, 0o664), suffix
        done = member_imports(ALICE, db, "alices")
        assert done.returncode == 0, done.stderr
    finally:
        holder.kill()
        holder.wait()
    listed = member_runs(BOB, db, "inventory", "list", "--kind", "snmp_profile", "--json")
    assert listed.returncode == 0 and "bobs" in listed.stdout and "alices" in listed.stdout, listed.stderr


def test_a_team_member_who_may_only_read_is_told_how_to_share(team_db):
    """The database file not group-writable: a member's read would make WAL files the owner
    cannot write; refused in one line pointing at the team setting."""
    db = team_db
    assert member_runs(ALICE, db, "db", "upgrade").returncode == 0
    os.chmod(db, 0o644)
    line = one_line(member_runs(BOB, db, "inventory", "stats"), 4)
    assert "uid 61001" in line and "shared by a team" in line, line
    assert sorted(p.name for p in db.parent.iterdir()) == ["netops.db", "netops.db-lock"]  # alice's, no WAL files
