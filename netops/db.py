"""Database engine, sessions and schema migrations (Alembic), and the database as an
operator meets it: every location or schema problem is a :class:`DatabaseError` (exit 4)
whose advice works.

SQLite is the embedded default and runs in WAL mode with foreign keys enforced, so a
reader (the exporter) never blocks a writer (an import). PostgreSQL runs the same code.

Who may create what::

    read commands   open_database(url)             existing database, schema at head, checked
    writers         prepare_location(url, create)  the file (and its directory) may be created
                    write_lock(engine, purpose)    one writer at a time: a file lock beside the
                                                   SQLite file, an advisory lock on PostgreSQL
                    ensure_schema(engine, create)  an empty database gets the schema, under the lock

Waiting is bounded: SQLite's busy timeout and the write lock both give up after
``NETOPS_DB_LOCK_TIMEOUT`` seconds and name who holds the database if that is knowable
(the lock file's pid, ``/proc/locks`` for SQLite's own locks, ``pg_stat_activity``).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote, quote_plus

from sqlalchemy import MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError, NoSuchModuleError

from netops.dbapi import (HEAD_SCHEMA, MIGRATIONS, SQLITE_HEADER, head_revision, head_tables, known_revisions,
                          postgres_connect_args, sqlite_connect, sqlite_read_only)
from netops.errors import DatabaseError, NetopsError
from netops.secrets import MASK, Secret, scrub
from netops.settings import DB_ENV, DEFAULT_LOCK_TIMEOUT_S, LOCK_TIMEOUT_ENV

if TYPE_CHECKING:  # Alembic and SQLModel are imported where used, not by every command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlmodel import Session

BACKENDS = ("sqlite", "postgresql")
#: pg_advisory_lock key of netops writers ("net" in ASCII; classid 0 in pg_locks)
PG_LOCK_KEY = 0x6E6574
#: PostgreSQL's SQLSTATE for "could not extend file ...: No space left on device"
PG_DISK_FULL = "53100"
CREATE_HINT = "create it with `netops db upgrade` (or load data with `netops inventory seed` / `import`)"
MESSAGE_CHARS = 300


# -- engines and locations ------------------------------------------------------------


def make_engine(url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S) -> Engine:
    """An engine for a SQLite or PostgreSQL URL; other URLs are a DatabaseError."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number
        raise DatabaseError(f"{describe(url)[:100]!r} is neither a database URL nor a file path") from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise DatabaseError(f"unknown database URL scheme {parsed.drivername!r}: netops runs on a SQLite "
                            "file (a path or sqlite:///PATH) or PostgreSQL (postgresql://USER@HOST/DB)")
    try:
        if backend == "sqlite":
            path = sqlite_file(url)
            if path is not None and not parsed.query:
                # the file's name as the OS has it (not UTF-8 text, maybe); read-only where
                # netops cannot write it, so reading commands work there (see sqlite_connect)
                read_only = sqlite_read_only(path)
                engine = create_engine(url, creator=lambda: sqlite_connect(path, lock_timeout, check_same_thread=False))
                event.listen(engine, "connect", _sqlite_read_only_pragmas if read_only else _sqlite_pragmas)
                return engine
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": lock_timeout})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, connect_args=postgres_connect_args(lock_timeout))
    except NoSuchModuleError:
        raise DatabaseError(f"{describe(url)}: unknown database driver {parsed.drivername!r}: use "
                            "postgresql://USER@HOST/DB (psycopg 3)") from None
    except ImportError as exc:
        raise DatabaseError(f"{describe(url)}: the database driver {exc.name!r} is not installed: "
                            "pip install 'netops[postgres]'") from None


#: a netops database has these (any revision): only such a file is switched to WAL on opening,
#: so reading another application's file or an empty one never changes it
NETOPS_MARKS = ("alembic_version", "site")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", NETOPS_MARKS)
    if cur.fetchone()[0] == len(NETOPS_MARKS):
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_read_only_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA foreign_keys=ON")


def describe(url: str) -> str:
    """The database as a message names it: a SQLite file's path, a URL without password."""
    path = sqlite_file(url)
    if path is not None:
        return _password_shapes_masked(str(path))  # (a connection string mistaken for a file name)
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not even a URL
        shown = url
    return _password_shapes_masked(shown)  # (the user part, and libpq's ?password= too)


#: a password however a library's message may carry it: in a URL's user part
#: (``scheme://user:PASSWORD@host``, up to the last @ before the host's /: a password's own @
#: not percent-encoded) or as a libpq connection option (``password=PASSWORD``)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@(?:[^@/\s]*@)*")
_OPTION_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


#: a shorter password is not masked wherever it occurs ("p" would garble every word with a p);
#: the URL and ``password=`` shapes still mask it where it stands as a password
_MIN_SCRUBBED_PASSWORD = 4


def redact_url(text: str, url: str) -> str:
    """``text`` (an error message, a child's stderr) without the database password: the URL as
    given becomes the URL without password (or the mask, when it does not parse), then the
    password itself (as given and percent-encoded, from 4 characters on) and anything shaped
    like a password (fail-safe for messages nobody foresaw: a driver echoing its connection
    string) are masked."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None
    if url:
        text = text.replace(url, parsed.render_as_string(hide_password=True) if parsed else MASK)
    password = parsed.password if parsed else None
    if password and len(password) >= _MIN_SCRUBBED_PASSWORD:
        text = scrub(text, [Secret(form) for form in sorted({password, quote(password, safe=""),
                                                             quote_plus(password)}, key=len, reverse=True)])
    return _password_shapes_masked(text)


def _password_shapes_masked(text: str) -> str:
    """``text`` with anything shaped like a password masked (fail-safe for messages nobody
    foresaw: libpq quotes a URI it cannot parse, password and all)."""
    text = _URL_PASSWORD.sub(lambda m: f"{m[1]}{MASK}@", text)
    return _OPTION_PASSWORD.sub(lambda m: f"{m[1]}{MASK}", text)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other backends and in-memory databases)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def prepare_location(url: str, *, create: bool) -> None:
    """Check a SQLite file before SQLite sees it (SQLite would create a missing file).

    ``create`` (the writers) may create the file and its directory; readers get an error
    naming the path, so a typo never reads as an empty inventory."""
    path = sqlite_file(url)
    if path is None:
        return
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        pass  # missing: created below, or named as missing
    except OSError as exc:  # a name too long, a symlink loop, a directory it may not search
        raise DatabaseError(f"{path}: {exc.strerror}: check --db / {DB_ENV}") from None
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a SQLite database file: "
                            f"give --db a file path (e.g. {path / 'netops.db'})")
    if path.exists():
        if not path.is_file():
            raise DatabaseError(f"{path} is not a regular file, so not a SQLite database")
        try:
            with path.open("rb") as fh:
                header = fh.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise DatabaseError(f"cannot read {path}: {exc.strerror}") from None
        if header and header != SQLITE_HEADER:
            raise DatabaseError(f"{path} is not a SQLite database (no SQLite header): point --db / "
                                f"{DB_ENV} at the netops database, or restore it from a backup")
        return
    if not create:
        if not path.parent.is_dir():
            raise DatabaseError(f"no database at {path} (the directory {path.parent} does not exist): "
                                f"{CREATE_HINT}, or check --db / {DB_ENV} for a typo")
        raise DatabaseError(f"no database at {path}: {CREATE_HINT}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the directory {path.parent} for the database: "
                            f"{exc.strerror}") from None


# -- one writer at a time ---------------------------------------------------------------


@contextmanager
def write_lock(engine: Engine, purpose: str, timeout: float = DEFAULT_LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the netops writer lock of this database for the block (schema creation, seed,
    import): a second writer waits up to ``timeout`` seconds, then a DatabaseError names the
    holder."""
    path = sqlite_file(str(engine.url))
    if path is not None and sqlite_read_only(path):
        raise DatabaseError(f"{path} is read-only (no permission to write it or its directory, or a read-only "
                            f"file system): commands that only read work, {purpose} writes; use a writable copy")
    if path is not None:
        with _file_lock(path, purpose, timeout):
            yield
    elif engine.dialect.name == "postgresql":
        with _advisory_lock(engine, timeout):
            yield
    else:
        yield


def lock_file(path: Path) -> Path:
    return path.with_name(path.name + "-lock")


@contextmanager
def _file_lock(path: Path, purpose: str, timeout: float) -> Iterator[None]:
    """The writer lock beside the SQLite file. A lock file this run created is removed again
    when the run fails (another application's file refused, bad input): netops leaves nothing
    where it was refused. Removing it is safe because every locker checks, once it holds the
    lock, that the file it locked is still the one at the path (else it locks the new one)."""
    lock_path = lock_file(path)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd, created = _open_lock_file(lock_path, path)
        except OSError as exc:
            raise DatabaseError(f"cannot create the lock file {lock_path}: {exc.strerror}") from None
        try:
            _take_lock(fd, path, deadline, timeout)
        except BaseException:
            os.close(fd)
            raise
        if _still_at(fd, lock_path):
            break
        os.close(fd)  # removed (or replaced) by the run that held it: lock the file there now
    try:
        writable = _holder_note(fd, f"pid {os.getpid()} ({purpose})")
        try:
            yield
        except BaseException:
            if created:
                with suppress(OSError):
                    os.unlink(lock_path)
            raise
        finally:
            if writable:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _take_lock(fd: int, path: Path, deadline: float, timeout: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another netops"
                raise DatabaseError(f"{path} is busy: {holder} is writing to it; gave up after "
                                    f"{timeout:g} s (raise {LOCK_TIMEOUT_ENV} to wait longer)") from None
            time.sleep(0.05)


def _still_at(fd: int, lock_path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(lock_path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _open_lock_file(lock_path: Path, path: Path) -> tuple[int, bool]:
    """The lock file and whether this call created it, created with the database's owner
    (root's would lock a user out of their own database); another user's lock file is locked
    read-only (flock needs no write)."""
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileExistsError:
            pass
        try:
            try:
                return os.open(lock_path, os.O_RDWR), False
            except PermissionError:
                return os.open(lock_path, os.O_RDONLY), False
        except FileNotFoundError:  # removed in between by a failed run: create it
            continue
    if os.geteuid() == 0 and path.exists():
        owner = path.stat()
        os.fchown(fd, owner.st_uid, owner.st_gid)
    return fd, True


def _holder_note(fd: int, note: str) -> bool:
    """Write who holds the lock into the lock file, where that is allowed."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)
    except OSError:  # a lock file of another user, opened read-only
        return False
    return True


@contextmanager
def _advisory_lock(engine: Engine, timeout: float) -> Iterator[None]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT set_config('lock_timeout', :ms, false)"), {"ms": f"{int(timeout * 1000)}ms"})
        try:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            holder = conn.execute(text(
                "SELECT a.application_name, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key"),
                {"key": PG_LOCK_KEY}).first()
            who = f"{holder[0] or 'a client'} (server pid {holder[1]})" if holder else "another netops"
            raise DatabaseError(f"{describe(str(engine.url))} is busy: {who} is writing to it; gave up after "
                                f"{timeout:g} s (raise {LOCK_TIMEOUT_ENV} to wait longer)") from None
        try:
            yield
        finally:
            conn.execute(text("RESET lock_timeout"))
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})


def sqlite_lock_holders(path: Path) -> list[str]:
    """Processes holding a write lock on a SQLite file, its WAL index or its netops lock file,
    read from ``/proc/locks`` (Linux); empty when that cannot be told."""
    inodes = {}
    for candidate in (path, Path(f"{path}-shm"), Path(f"{path}-wal"), lock_file(path)):
        try:
            inodes[candidate.stat().st_ino] = candidate
        except OSError:
            continue
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    pids: list[int] = []
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->":  # "->" marks a waiter, not a holder
            continue
        _, _, _, mode, pid, device = fields[:6]
        if mode != "WRITE" or int(device.rsplit(":", 1)[-1]) not in inodes:
            continue
        if int(pid) != os.getpid() and int(pid) not in pids:
            pids.append(int(pid))
    return [_process(pid) for pid in pids]


def _process(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        line = " ".join(" ".join(a.decode("utf-8", "replace") for a in argv).split())
    except OSError:
        line = ""
    return f"pid {pid}" + (f" ({line[:80]})" if line else "")


# -- schema -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def model_metadata() -> MetaData:
    """Every table netops' models declare (importing the models registers them)."""
    import inventory.models  # noqa: F401

    return inventory.models.metadata


def model_tables() -> dict[str, list[str]]:
    """Table name -> column names, as the models declare them (in dependency order)."""
    return {table.name: [c.name for c in table.columns] for table in model_metadata().sorted_tables}


def write_head_schema() -> None:
    """Record the models' tables for :func:`netops.dbapi.head_tables` (after adding a migration)."""
    tables = ",\n".join(f" {json.dumps(name)}: {json.dumps(columns)}" for name, columns in model_tables().items())
    HEAD_SCHEMA.write_text(f'{{"revision": {json.dumps(head_revision())}, "tables": {{\n{tables}\n}}}}\n',
                           encoding="utf-8")


def _alembic_revisions() -> list[str]:
    return [rev.revision for rev in _script().walk_revisions()]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic), on the given engine, all or nothing.
    Callers that may race (two processes on a fresh database) hold :func:`write_lock`."""
    _alembic_command(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _alembic_command(engine, "downgrade", revision)


def stamp(engine: Engine, revision: str) -> None:
    """Record ``revision`` as the schema's without running migrations."""
    _alembic_command(engine, "stamp", revision)


def _alembic_command(engine: Engine, name: str, revision: str) -> None:
    from alembic import command

    cfg = _alembic_config()
    with _one_transaction(engine) as conn:
        cfg.attributes["connection"] = conn
        getattr(command, name)(cfg, revision)


@contextmanager
def _one_transaction(engine: Engine) -> Iterator:
    """A connection whose whole block is one database transaction, DDL included. Python's
    sqlite3 opens a transaction only before INSERT/UPDATE/DELETE and runs CREATE/DROP
    outside one: an upgrade killed midway left a table of the next revision under the old
    revision number, and `db upgrade` then failed on it for good ("table ... already
    exists"). On SQLite the driver is told to leave transactions to us and the block
    starts with BEGIN IMMEDIATE (the write lock up front, waited for like any write)."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            with conn.begin():
                yield conn
            return
        driver = conn.connection.driver_connection
        legacy, driver.isolation_level = driver.isolation_level, None
        try:
            with conn.begin():
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")  # a new database: see _sqlite_pragmas
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
        finally:
            driver.isolation_level = legacy  # the pooled connection goes back as it came


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        current = _stored_revision(conn)
        tables = set(inspect(conn).get_table_names())
    _refuse_foreign(engine, current, tables)
    return current


def _refuse_foreign(engine: Engine, current: str | None, tables: set[str]) -> None:
    """A DatabaseError for another application's database: netops' advice (`db upgrade`,
    "a newer netops") would be wrong there, and an upgrade would put netops' tables in it.
    A PostgreSQL schema may hold other tables beside netops' (PostGIS' spatial_ref_sys), a
    SQLite file of netops holds only its own."""
    if tables & set(head_tables()):
        return
    where = describe(str(engine.url))
    if current is not None and current not in known_revisions():
        raise DatabaseError(f"{where} is not a netops database: it has none of netops' tables and its "
                            f"alembic_version says {current!r}, another application's schema: point --db / "
                            f"{DB_ENV} at the netops database")
    others = sorted(tables - {"alembic_version"})
    if current is None and others and engine.dialect.name == "sqlite":
        raise DatabaseError(f"{where} is not a netops database: it holds another application's tables "
                            f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}) and none of netops': "
                            f"point --db / {DB_ENV} at the netops database (or give a new file to create one)")


def _stored_revision(conn) -> str | None:
    """The revision recorded in ``alembic_version`` (what Alembic's MigrationContext reads),
    read with plain SQL so that opening a database does not import Alembic."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def check_revision(engine: Engine, *, empty_ok: bool = False) -> str | None:
    """The schema revision, if netops can work with it; otherwise a DatabaseError whose
    advice works (``db upgrade`` only where it can succeed)."""
    where = describe(str(engine.url))
    with engine.connect() as conn:
        current = _stored_revision(conn)
        tables = set(inspect(conn).get_table_names())
    _refuse_foreign(engine, current, tables)
    if current is None:
        ours = sorted(tables & set(head_tables()))
        if ours:
            raise DatabaseError(
                f"{where} has netops tables ({', '.join(ours[:3])}...) but no schema revision "
                "(table alembic_version missing or empty): if it was made by this netops, "
                "`netops db stamp head` records the revision (it checks the tables first); "
                "otherwise restore a backup")
        if not empty_ok:
            raise DatabaseError(f"{where} has no netops schema yet: {CREATE_HINT}")
        return None
    if current not in known_revisions():
        raise DatabaseError(
            f"{where} has schema revision {current!r}, which this netops does not know (a newer netops "
            f"wrote it; this one knows up to {head_revision()}): use that netops, or restore a backup "
            "made with this one; `netops db upgrade` cannot go back")
    return current


def require_head(engine: Engine) -> None:
    """A readable database at the head revision whose tables match the models."""
    current = check_revision(engine)
    if current != head_revision():
        raise DatabaseError(f"{describe(str(engine.url))}: schema revision {current}, this netops needs "
                            f"{head_revision()}: run `netops db upgrade` (back the database up first)")
    check_tables(engine)


def ensure_schema(engine: Engine) -> None:
    """Create the schema on an empty database (hold :func:`write_lock`), then require head."""
    if check_revision(engine, empty_ok=True) is None:
        upgrade(engine)
    require_head(engine)


def check_tables(engine: Engine) -> None:
    """Every table and column the models declare exists (one catalogue read, no data read):
    a dropped table or column is found on open, not halfway through a command."""
    found = inspect(engine).get_multi_columns()
    have = {table: {c["name"] for c in columns} for (_, table), columns in found.items()}
    for table, columns in head_tables().items():
        missing = [c for c in columns if c not in have.get(table, ())]
        if table not in have or missing:
            what = f"table {table}" if table not in have else f"column {', '.join(missing)} of table {table}"
            raise DatabaseError(
                f"{describe(str(engine.url))} is damaged: {what} is missing although the schema "
                f"revision says {head_revision()}: restore it from a backup (or start a new database "
                "with `netops db upgrade` on another --db and re-import)")


# -- errors from the driver ---------------------------------------------------------------


def explain(exc: DBAPIError, url: str, timeout: float = DEFAULT_LOCK_TIMEOUT_S) -> NetopsError:
    """A driver error as one line with advice: DatabaseError (exit 4), or a NetopsError
    (exit 2) when the database refused the data given."""
    where = describe(url)
    detail = redact_url(" ".join(str(getattr(exc, "orig", exc) or exc).split()), url)
    if len(detail) > MESSAGE_CHARS:
        detail = detail[:MESSAGE_CHARS] + "…"
    low = detail.lower()
    if isinstance(exc, (IntegrityError, DataError)):
        return NetopsError(f"the database refused the data: {detail}")
    if "database is locked" in low or "database table is locked" in low or "lock timeout" in low:
        path = sqlite_file(url)
        holders = sqlite_lock_holders(path) if path else []
        by = f" by {', '.join(holders)}" if holders else ""
        return DatabaseError(f"{where} is locked{by}: gave up after {timeout:g} s; try again when that is "
                             f"done (or raise {LOCK_TIMEOUT_ENV})")
    if "not a database" in low or "malformed" in low:
        return DatabaseError(f"{where} is damaged ({detail}): restore it from a backup")
    if "no such table" in low or "no such column" in low or "undefined" in low or (
            "does not exist" in low and ("relation" in low or "column" in low)):
        return DatabaseError(f"{where} does not match this netops' schema ({detail}): restore it from a "
                             "backup, or run `netops db current` to see its revision")
    if "read-only transaction" in low:  # PostgreSQL: a standby, or default_transaction_read_only
        return DatabaseError(f"{where} accepts no writes ({detail}): a standby or a database set read-only; "
                             "write to the primary, or ask its administrator")
    if "permission denied" in low:
        return DatabaseError(f"{where}: {detail}: the role lacks the rights for this command; use a role that "
                             "has them (GRANT), or ask the database's administrator")
    path = sqlite_file(url)
    if "disk is full" in low or ("disk i/o error" in low and path is not None and _nearly_full(path.parent)):
        return DatabaseError(f"{where}: the disk is full ({detail}): the change was rolled back; free space "
                             f"{'on ' + str(path.parent) + ' ' if path else ''}and run it again")
    if getattr(getattr(exc, "orig", exc), "sqlstate", None) == PG_DISK_FULL or "could not write init file" in low:
        # the second: a new session on a full tablespace, before any SQL (its cache file)
        return DatabaseError(f"{where}: the disk is full on the database server ({detail}): nothing was changed "
                             "(the change was rolled back); free space there (its data directory or tablespace) "
                             "and run it again")
    foreign = _foreign_wal_files(path) if path is not None and "readonly" in low else []
    if foreign:
        names = " and ".join(f"{p.name} (owner uid {p.stat().st_uid})" for p in foreign)
        return DatabaseError(f"cannot write {where}: its WAL files {names} are not writable by this user (left by "
                             f"a reader that may not write the database): when no netops has it open and "
                             f"{path.name}-wal is empty, remove them, then try again")
    if "unable to open database file" in low or "readonly" in low or "read-only" in low:
        return DatabaseError(f"cannot write or open {where} ({detail}): check the path and its permissions")
    if 'database "' in low and "does not exist" in low:
        return DatabaseError(f"{where}: {detail}: create the database (createdb), then `netops db upgrade`")
    if "statement timeout" in low:
        return DatabaseError(f"{where}: a statement ran longer than the server allows (statement_timeout; "
                             f"{detail}): try again when the database is less busy, or ask its administrator")
    if "connect" in low or "refused" in low or "timeout" in low or "could not translate host" in low:
        return DatabaseError(f"cannot connect to {where}: {detail}")
    return DatabaseError(f"{where}: {detail}")


def _nearly_full(directory: Path) -> bool:
    """Less than 1 MiB free where the database is: SQLite reports a full disk met while
    growing its WAL index (``-shm``) as a plain I/O error."""
    try:
        free = os.statvfs(directory)
    except OSError:
        return False
    return free.f_bavail * free.f_frsize < 2**20


def _foreign_wal_files(path: Path) -> list[Path]:
    """The database's ``-wal``/``-shm`` files this process may not write although it may
    write the database itself: SQLite then opens them read-only and refuses every write."""
    if not os.access(path, os.W_OK):
        return []
    return [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists() and not os.access(p, os.W_OK)]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back everything on any error."""
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
