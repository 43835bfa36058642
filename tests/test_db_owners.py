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
