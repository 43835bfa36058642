"""A throw-away PostgreSQL server (Debian's binaries) in a temporary data directory,
listening on 127.0.0.1 only, stopped by pid."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import find_binary, free_port, stop_pid, wait_for_tcp


def _pg_bin(name: str) -> str | None:
    return find_binary(name, f"/usr/lib/postgresql/*/bin/{name}")


def _demote_to(user: str):
    """initdb and postgres refuse to run as root: run them as the `postgres` user."""
    entry = pwd.getpwnam(user)

    def demote():
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return demote, entry


@dataclass
class PostgresServer:
    port: int
    datadir: Path
    proc: subprocess.Popen
    superuser: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        stop_pid(self.proc, signal.SIGINT)  # "fast" shutdown
        shutil.rmtree(self.datadir, ignore_errors=True)


def available() -> bool:
    return bool(_pg_bin("initdb") and _pg_bin("postgres"))


def start() -> PostgresServer:
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if not (initdb and postgres):
        raise RuntimeError("PostgreSQL binaries not found: run `make test` (installs Debian postgresql)")
    datadir = Path(tempfile.mkdtemp(prefix="netops-pg-"))
    preexec, owner = (None, None)
    if os.geteuid() == 0:
        preexec, owner = _demote_to("postgres")
        os.chown(datadir, owner.pw_uid, owner.pw_gid)
    subprocess.run(
        [initdb, "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True, preexec_fn=preexec,
    )
    server = PostgresServer(port=free_port(), datadir=datadir, proc=None)
    restart(server)
    return server


def restart(server: PostgresServer) -> None:
    """Run the server's postgres (again, after it was stopped: same data directory and port)
    and wait until it takes connections."""
    preexec = _demote_to("postgres")[0] if os.geteuid() == 0 else None
    server.proc = subprocess.Popen(
        [_pg_bin("postgres"), "-D", str(server.datadir), "-p", str(server.port), "-c", "listen_addresses=127.0.0.1",
         "-c", f"unix_socket_directories={server.datadir}", "-c", "fsync=off", "-c", "max_connections=100"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=preexec,
    )
    wait_for_tcp(server.port, proc=server.proc)
    _wait_ready(server)


def _wait_ready(server: PostgresServer, timeout: float = 60.0) -> None:
    """Listening is not ready yet: startup or crash recovery first ("the database system is
    starting up" refuses connections meanwhile)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(host=str(server.datadir), port=server.port, user=server.superuser,
                            dbname="postgres").close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline or server.proc.poll() is not None:
                raise
            time.sleep(0.05)
