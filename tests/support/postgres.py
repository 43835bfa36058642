"""A throw-away PostgreSQL server (Debian's binaries) in a temporary data directory,
listening on 127.0.0.1 only, stopped by pid."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
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
    port = free_port()
    proc = subprocess.Popen(
        [postgres, "-D", str(datadir), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
         "-c", f"unix_socket_directories={datadir}", "-c", "fsync=off", "-c", "max_connections=100"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=preexec,
    )
    wait_for_tcp(port, proc=proc)
    return PostgresServer(port=port, datadir=datadir, proc=proc)
