"""PostgreSQL on a full disk, through the real CLI: the database's tablespace sits on a tiny
tmpfs that only the server sees (it runs in a private mount namespace, ``unshare -m``), a
filler file leaves next to nothing free, and the writing commands (`inventory import`,
`inventory seed`) end in one line naming the cause and the database (exit 4), with the
database as it was (every table's rows, digested); with the filler gone, each works. A
`plan apply` of a few rows may fit into pages the tables have: all of it or nothing.

The server is the test's own (Debian's binaries, loopback and a socket in its data
directory), stopped by pid; the system cluster is never touched. (`config backup` writes
no database row: its files on a full disk are tests/ssh/test_backups_disk_full.py's.)
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support import postgres
from tests.support.procs import stop_pid
from tests.test_pg_bad_day import Server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

NETOPS = Path(sys.executable).with_name("netops")
SPACE_MB = 96
#: a filler leaves this much on the tablespace: less than any of the writes below needs
LEFT_FREE = 64 * 1024


def _private_mounts_work() -> bool:
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


@dataclass
class SmallDiskServer(Server):
    """A PostgreSQL server whose tablespace ``small`` is a tmpfs mounted in its own mount
    namespace: the server's pid names the namespace (``nsenter -t PID -m``)."""

    space: Path | None = None

    @classmethod
    def start(cls) -> SmallDiskServer:
        pg = postgres.start()  # initdb and a first start (as the postgres user)
        stop_pid(pg.proc, signal.SIGINT)
        space = Path(tempfile.mkdtemp(prefix="netops-pg-space-"))
        owner = pwd.getpwnam("postgres")
        os.chown(space, owner.pw_uid, owner.pw_gid)
        mount = f"mount -t tmpfs -o size={SPACE_MB}m,mode=0700,uid={owner.pw_uid},gid={owner.pw_gid} tmpfs {space}"
        server = [postgres._pg_bin("postgres"), "-D", str(pg.datadir), "-p", str(pg.port), "-c",
                  "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={pg.datadir}", "-c", "fsync=off"]
        # unshare and sh exec: the server keeps the pid we stop it by
        pg.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             f'{mount} && exec setpriv --reuid={owner.pw_uid} --regid={owner.pw_gid} --clear-groups "$@"', "sh",
             *server], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        srv = cls(pg, space)
        try:
            postgres._wait_ready(pg)
            srv.sql("postgres", f"CREATE TABLESPACE small LOCATION '{space}'")
        except BaseException:
            srv.stop()
            raise
        return srv

    def trusted_url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg.port}/{database}"

    def digest(self, database: str) -> dict[str, tuple[int, str]]:
        """Every table of the database: its row count and an md5 of its rows."""
        engine = self.admin(database)
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
            seen = {t: tuple(conn.execute(text(
                f'SELECT count(*), coalesce(md5(string_agg(r::text, \'|\' ORDER BY r::text)), \'\') FROM "{t}" r')).one())
                for t in tables}
        engine.dispose()
        return seen

    def in_namespace(self, script: str) -> None:
        subprocess.run(["nsenter", "-t", str(self.pg.proc.pid), "-m", sys.executable, "-c", script, str(self.space)],
                       check=True, timeout=60)

    def fill(self, left: int = LEFT_FREE) -> None:
        """Leave ``left`` bytes free on the tablespace: a filler written until the file system
        says it is full (statvfs misses tmpfs' own pages), then shortened by ``left``."""
        self.in_namespace("import os, sys, tempfile\n"
                          "fd, name = tempfile.mkstemp(dir=sys.argv[1], prefix='filler')\n"
                          "try:\n"
                          "    while True:\n"
                          "        os.write(fd, b'\\0' * 65536)\n"
                          "except OSError:\n"
                          "    pass\n"
                          f"os.truncate(fd, max(0, os.fstat(fd).st_size - {left}))\n")

    def free(self) -> None:
        self.in_namespace("import glob, os, sys\nfor filler in glob.glob(os.path.join(sys.argv[1], 'filler*')):\n"
                          "    os.remove(filler)\n")

    def stop(self) -> None:
        self.pg.stop()  # by pid; the namespace and its tmpfs go with the server
        shutil.rmtree(self.space, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    if not postgres.available():
        pytest.skip("PostgreSQL not installed (run `make test`)")
    if os.geteuid() != 0 or not _private_mounts_work():
        pytest.skip("needs root and a private mount namespace (CAP_SYS_ADMIN)")
    srv = SmallDiskServer.start()
    try:
        yield srv
    finally:
        srv.stop()


def netops(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NETOPS), "--db", url, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NETOPS_DB_LOCK_TIMEOUT": "5"})


def one_line(done: subprocess.CompletedProcess, code: int, *says: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code and len(lines) == 1 and lines[0].startswith("error: "), (done.returncode, done.stderr)
    assert all(s in lines[0] for s in says), lines[0]
    return lines[0]


def _sites(path: Path) -> Path:
    """Enough new sites (with long notes) that their import cannot fit in 64 KiB."""
    rows = [f"FULL-{i},Standort {i},school,51.5{i % 10},7.0{i % 10},hunt,{'x' * 200}" for i in range(2000)]
    path.write_text("code,name,kind,lat,lon,source,notes\n" + "\n".join(rows) + "\n")
    return path


def test_writes_on_a_full_tablespace_are_one_line_all_or_nothing_and_work_after(server, tmp_path):
    server.sql("postgres", "CREATE DATABASE netops_city TABLESPACE small", "CREATE DATABASE netops_new TABLESPACE small")
    city, new = server.trusted_url("netops_city"), server.trusted_url("netops_new")
    assert netops(city, "inventory", "seed").returncode == 0
    assert netops(new, "db", "upgrade").returncode == 0
    planned = netops(city, "plan", "connect", "kita-001")
    assert planned.returncode == 0, planned.stderr
    writes = {
        "import": (city, ["inventory", "import", str(_sites(tmp_path / "sites.csv")), "--kind", "site"]),
        "seed": (new, ["inventory", "seed"]),
    }
    before = {db: server.digest(db) for db in ("netops_city", "netops_new")}
    server.fill()
    try:
        for name, (url, args) in writes.items():
            line = one_line(netops(url, *args), 4, "127.0.0.1", "disk is full", "free space")
            assert "nothing was changed" in line and "Traceback" not in line, (name, line)
        after = {db: server.digest(db) for db in ("netops_city", "netops_new")}
        assert after == before  # all or nothing: no row of any of them
        # a plan's apply changes a handful of rows: PostgreSQL may find room for their new
        # versions in pages it has (no new block, so the full disk does not matter); then the
        # whole plan is applied, else nothing of it
        applied = netops(city, "plan", "apply", "1")
        if applied.returncode != 0:
            one_line(applied, 4, "127.0.0.1", "disk is full", "free space")
            assert server.digest("netops_city") == before["netops_city"]
            writes["plan apply"] = (city, ["plan", "apply", "1"])
        else:
            assert server.digest("netops_city")["plan"] != before["netops_city"]["plan"]
        # a new session writes its catalogue cache file (pg_internal.init) where none is: on
        # a full tablespace it cannot even start; one line too (a read, so nothing to undo)
        server.in_namespace("import glob, os, sys\n"
                            "for init in glob.glob(os.path.join(sys.argv[1], '*', '*', 'pg_internal.init')):\n"
                            "    os.remove(init)\n")
        server.fill(left=0)  # not even room for that file
        one_line(netops(city, "inventory", "stats", "--json"), 4, "127.0.0.1", "disk is full", "free space")
    finally:
        server.free()
    for name, (url, args) in writes.items():
        done = netops(url, *args)
        assert done.returncode == 0, (name, done.stderr)
    assert server.digest("netops_city")["site"][0] == before["netops_city"]["site"][0] + 2000
    assert server.digest("netops_new")["site"][0] == before["netops_city"]["site"][0]  # the same seed
