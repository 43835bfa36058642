"""`netops exporter serve` as operators run it (the CLI in a child process), on a free
loopback port, stopped by pid; and a small HTTP client that returns error pages too."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.support.procs import free_port, stop_pid, wait_for_tcp

ROOT = Path(__file__).resolve().parents[2]


def http(url: str, timeout: float = 15.0, method: str = "GET", headers: dict | None = None) -> tuple[int, str]:
    """(status, body) of a request, error statuses included."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def running_exporter(db_url: str, workdir: Path, *args: str, env: dict[str, str] | None = None):
    """The exporter on the inventory at ``db_url``; yields its base URL. Secrets come only
    from ``env`` (the user's secrets file is pointed away)."""
    port = free_port()
    environment = dict(os.environ, NETOPS_SECRETS_FILE=str(workdir / "absent.toml"),
                       NETOPS_CONFIG_DIR=str(workdir / "configs"), **(env or {}))
    log = open(workdir / f"exporter-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "--db", db_url, "exporter", "serve",
                             "--listen", f"127.0.0.1:{port}", "--log-level", "info", *args],
                            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_tcp(port, proc=proc, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_pid(proc)
        log.close()
