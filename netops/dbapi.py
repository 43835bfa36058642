"""The database through its driver alone (sqlite3, psycopg), for commands that only count
(`netops inventory stats`): importing SQLAlchemy costs about 0.3 s of CPU, more than such a
command's work. Also what netops knows about its schema without SQLAlchemy or Alembic (the
revisions, the head's tables), which :mod:`netops.db` uses as well.

:func:`connect_checked` opens a database only when it is plainly healthy: a SQLite file (or
a PostgreSQL database) at the head revision with every table and column of the head. Anything
else, or a URL it does not read (a SQLite URL with options, another driver), returns None:
the caller then opens it the full way (:mod:`netops.db`), which either says in one line what
is wrong or, for an unusual URL, opens it. So the checks and their messages live in one place.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sqlite3
import struct
import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

MIGRATIONS = Path(__file__).with_name("migrations")
#: the tables and columns of the models at the head revision (see :func:`head_tables`)
HEAD_SCHEMA = MIGRATIONS / "head_schema.json"
SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql+psycopg://", "postgresql://")


# -- the schema this netops knows -----------------------------------------------------------

#: ``revision = "0002"`` / ``down_revision = "0001"`` (or None) in a migration script
_REVISION_LINE = re.compile(r"""^(revision|down_revision)\b[^=\n]*=\s*(?:["']([^"']+)["']|None)\s*$""", re.M)


@lru_cache(maxsize=1)
def known_revisions() -> list[str]:
    """The schema revisions this netops knows, newest first. Read from the scripts' two
    header lines while the history is one straight line (it is): every command opening a
    database asks, and importing Alembic costs about half a second of CPU. Anything else
    (branches, a header written differently) is left to Alembic; tests keep both equal."""
    parent: dict[str, str | None] = {}
    for script in sorted((MIGRATIONS / "versions").glob("*.py")):
        header = dict((name, value or None) for name, value in _REVISION_LINE.findall(script.read_text()))
        if "revision" not in header or "down_revision" not in header:
            return _alembic_revisions()
        parent[header["revision"]] = header["down_revision"]
    heads = set(parent) - set(parent.values())
    chain = []
    while len(heads) == 1 and heads.issubset(parent):
        revision = heads.pop()
        chain.append(revision)
        heads = {parent[revision]} - {None}
    return chain if len(chain) == len(parent) and not heads else _alembic_revisions()


def _alembic_revisions() -> list[str]:
    from netops.db import _alembic_revisions as by_alembic  # imports Alembic: the unusual path only

    return by_alembic()


def head_revision() -> str:
    return known_revisions()[0]


@lru_cache(maxsize=1)
def head_tables() -> dict[str, list[str]]:
    """The tables and columns a database at the head revision has, for the check every
    command makes on opening one. Read from ``head_schema.json`` (written by
    :func:`netops.db.write_head_schema`, kept equal to the models by a test): importing the
    models costs about half a second of CPU, more than a command like `inventory stats`
    itself. A file describing another revision is ignored, so a forgotten update is slow,
    not wrong."""
    try:
        recorded = json.loads(HEAD_SCHEMA.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    if recorded.get("revision") == head_revision():
        return recorded["tables"]
    from netops.db import model_tables

    return model_tables()


# -- connections --------------------------------------------------------------------------


def postgres_connect_args(lock_timeout: float) -> dict[str, Any]:
    """psycopg's connection options of every netops connection: application_name lets a
    waiting netops name the process that holds a lock; lock_timeout bounds every wait for a
    row or table lock like SQLite's busy timeout."""
    return {"connect_timeout": 10, "application_name": f"netops pid {os.getpid()}",
            "options": f"-c lock_timeout={int(lock_timeout * 1000)}"}


def connect_checked(url: str, lock_timeout: float):
    """A DBAPI connection on the database at ``url`` when it is healthy (see the module's
    docstring), else None. A driver error (locked, refused) is raised as the driver's."""
    conn = _connect(url, lock_timeout)
    if conn is None:
        return None
    try:
        healthy = _is_at_head(conn)
    except BaseException:
        conn.close()
        raise
    if not healthy:
        conn.close()
        return None
    return conn


def _connect(url: str, lock_timeout: float):
    if url.startswith(SQLITE_PREFIX) and not {"?", "%"} & set(url):  # no options, nothing quoted
        path = Path(url[len(SQLITE_PREFIX):])
        try:
            usable = path.name not in ("", ":memory:") and path.is_file() and _is_sqlite_file(path)
        except OSError:  # a name too long...: the engine's way says what is wrong with it
            usable = False
        if not usable:
            return None
        return sqlite_connect(path, lock_timeout)
    prefix = next((p for p in POSTGRES_PREFIXES if url.startswith(p)), None)
    if prefix is None or "?" in url:
        return None
    import psycopg

    return psycopg.connect("postgresql://" + url[len(prefix):], **postgres_connect_args(lock_timeout))


def sqlite_read_only(path: Path) -> bool:
    """True when netops cannot write an existing SQLite file: no permission, ``chattr +i``,
    a read-only mount, or a directory it cannot create the WAL index (``-shm``) in."""
    return path.exists() and (not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK))


def sqlite_connect(path: Path, lock_timeout: float, **options):
    """A sqlite3 connection on an existing file; read-only when netops cannot write it
    (:func:`sqlite_read_only`), so reading commands work on a read-only copy or mount.

    A read-only connection takes SQLite's locks like any reader, so a writer (another user
    allowed to write the file) never shows it half a transaction. A file in WAL mode needs
    its index (``-shm``) for that, which a reader creates only where it may write: where
    none is there and none can be made, the file is opened immutable (no locks) only when
    nobody can change it either (a read-only file system, ``chattr +i``) and nothing waits
    in its write-ahead log; otherwise reading it would not be safe, and a DatabaseError says so."""
    if not sqlite_read_only(path):
        return sqlite3.connect(path, timeout=lock_timeout, **options)
    uri = f"file:{quote(os.fsencode(path))}?mode=ro"
    at_risk = _could_make_wal_files_for_another(path)
    guard = _hold_wal_files(path, lock_timeout) if at_risk else None
    try:
        if at_risk:
            _refuse_to_lock_the_owner_out(path)
        conn = sqlite3.connect(uri, uri=True, timeout=lock_timeout, factory=_GuardedConnection, **options)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError as exc:
            conn.close()
            if getattr(exc, "sqlite_errorname", "") not in ("SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN"):
                raise
        else:
            if guard is not None:  # SQLite holds its own read lock now, for as long as the connection is open
                fcntl.fcntl(guard, fcntl.F_OFD_SETLK, _shared_range(fcntl.F_UNLCK))
                conn.guard, guard = guard, None
            return conn
    finally:
        if guard is not None:
            os.close(guard)
    wal = Path(f"{path}-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    if nobody_writes(path) and not pending:
        return sqlite3.connect(uri + "&immutable=1", uri=True, timeout=lock_timeout, **options)
    from netops.errors import DatabaseError

    why = ("its write-ahead log holds changes, which only a reader with that index sees" if pending
           else "others may write the file meanwhile")
    raise DatabaseError(f"{path} cannot be read safely: it is in WAL mode and netops may not create its index "
                        f"({path.name}-shm) in {path.parent}, and {why}: let netops write that directory, or "
                        "read a copy")


class _GuardedConnection(sqlite3.Connection):
    """A connection that may carry the descriptor of :func:`_hold_wal_files`, closed only after
    the connection: closing any descriptor of a file drops every POSIX lock the process holds
    on it, SQLite's read lock included."""

    guard: int | None = None

    def close(self) -> None:
        super().close()
        guard, self.guard = self.guard, None
        if guard is not None:
            os.close(guard)

    def __del__(self) -> None:  # never closed: SQLite's locks go with the connection anyway
        guard, self.guard = self.guard, None
        if guard is not None:
            os.close(guard)


#: SQLite's lock bytes on a database file (os_unix.c): every open WAL connection holds a read
#: lock on the SHARED range, and whoever closes the last one takes the whole range (EXCLUSIVE)
#: to checkpoint and delete the -wal and -shm files
_SHARED_FIRST, _SHARED_SIZE = 0x40000002, 510


def _shared_range(kind: int) -> bytes:
    # struct flock (LP64 Linux); l_pid 0 as open file description locks require
    return struct.pack("hhqqi4x", kind, os.SEEK_SET, _SHARED_FIRST, _SHARED_SIZE, 0)


def _hold_wal_files(path: Path, lock_timeout: float) -> int | None:
    """A descriptor of ``path`` holding a read lock on its SHARED range, as an open connection
    does: while it is held nobody can delete the WAL files (nor switch the journal mode), so
    what :func:`_refuse_to_lock_the_owner_out` sees stays true until SQLite has opened them.
    An open file description lock (F_OFD_SETLK): releasing it leaves SQLite's locks alone.
    None where the file system or kernel has no such locks (the check then runs unguarded)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _shared_range(fcntl.F_RDLCK))
            return fd
        except (BlockingIOError, PermissionError):  # a process closing the last connection, briefly
            if time.monotonic() >= deadline:
                os.close(fd)
                raise sqlite3.OperationalError("database is locked") from None
            time.sleep(0.02)
        except OSError:
            os.close(fd)
            return None


def _could_make_wal_files_for_another(path: Path) -> bool:
    """Reading ``path`` could create its WAL files (``-wal``, ``-shm``) owned by us although
    the file is another user's: SQLite makes them when they are missing and the directory
    lets it, even for a read-only connection, with the database file's mode. Root's are
    given to the file's owner by SQLite itself; a user's own file is no risk."""
    euid = os.geteuid()
    return euid != 0 and path.stat().st_uid != euid and os.access(path.parent, os.W_OK | os.X_OK)


def _refuse_to_lock_the_owner_out(path: Path) -> None:
    """A DatabaseError when reading ``path`` (see :func:`_could_make_wal_files_for_another`)
    would create its WAL files: their owner would be the reader, and the database's owner
    could no longer write it. Files already there (its owner has it open, and
    :func:`_hold_wal_files` keeps them), a file not in WAL mode, or one nobody can write are
    no risk."""
    if not _is_wal_file(path) or all(Path(f"{path}{s}").exists() for s in ("-wal", "-shm")) or nobody_writes(path):
        return
    from netops.errors import DatabaseError

    owner, euid = path.stat().st_uid, os.geteuid()
    raise DatabaseError(f"{path} belongs to {_user(owner)} and netops may not write it: reading it now would "
                        f"create its WAL files ({path.name}-wal, {path.name}-shm) owned by {_user(euid)}, which "
                        f"locks {_user(owner)} out of writing it: run netops as {_user(owner)}, read a copy, or "
                        "share it as README's 'A database shared by a team' says")


def _user(uid: int) -> str:
    import pwd

    try:
        return f"user {pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"uid {uid}"


def _is_wal_file(path: Path) -> bool:
    """The header's read/write format versions say WAL (bytes 18 and 19 are 2)."""
    try:
        with path.open("rb") as fh:
            return fh.read(20)[18:20] == b"\x02\x02"
    except OSError:
        return False


#: ioctl reading a file's attributes (``lsattr``), and the ``chattr +i`` bit among them
_FS_IOC_GETFLAGS, _FS_IMMUTABLE_FL = 0x80086601, 0x10


def nobody_writes(path: Path) -> bool:
    """True when no process can change ``path`` or create files beside it: a read-only
    file system, or ``chattr +i`` on the file or its directory. (Missing write permission
    is not enough: it may be another user's file, written as we read it.)"""
    for each in (path, path.parent):
        try:
            if os.statvfs(each).f_flag & os.ST_RDONLY:
                return True
            fd = os.open(each, os.O_RDONLY | os.O_NONBLOCK)
            try:
                flags = struct.unpack("l", fcntl.ioctl(fd, _FS_IOC_GETFLAGS, b"\0" * 8))[0]
            finally:
                os.close(fd)
        except OSError:
            continue
        if flags & _FS_IMMUTABLE_FL:
            return True
    return False


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def _is_at_head(conn) -> bool:
    columns = catalogue(conn)
    if "alembic_version" not in columns:
        return False
    if [row[0] for row in rows(conn, "SELECT version_num FROM alembic_version")] != [head_revision()]:
        return False
    return all(set(wanted) <= columns.get(table, set()) for table, wanted in head_tables().items())


def catalogue(conn) -> dict[str, set[str]]:
    """Table -> column names of the database (SQLite's schema, PostgreSQL's current schema)."""
    if _is_sqlite(conn):
        query = ("SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p "
                 "WHERE m.type = 'table'")
    else:
        query = ("SELECT table_name, column_name FROM information_schema.columns "
                 "WHERE table_schema = current_schema()")
    found: dict[str, set[str]] = {}
    for table, column in rows(conn, query):
        found.setdefault(table, set()).add(column)
    return found


def rows(conn, query: str) -> list[tuple]:
    """Every row of a query without parameters (the one SQL both drivers take as it is)."""
    cursor = conn.cursor()
    try:
        cursor.execute(query)
        return cursor.fetchall()
    finally:
        cursor.close()


def _is_sqlite(conn) -> bool:
    driver = getattr(conn, "driver_connection", conn)  # SQLAlchemy's pooled connection: the driver's inside
    return isinstance(driver, sqlite3.Connection)
