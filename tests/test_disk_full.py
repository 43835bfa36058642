"""A full disk and a read-only file system while netops writes: the database, an output
file, an output directory. Each ends in one line naming what could not be written, with
the documented exit code, and all or nothing: the database's rows, an older output file and
the directory's files are as they were.

The file systems are tiny tmpfs mounts in a private mount namespace (``unshare -m``) that a
driver process makes, fills and inspects, so nothing outside the test changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_file_hunt import base_db  # noqa: F401  (the mini city's database, module scope)

ROOT = Path(__file__).resolve().parent.parent
NETOPS = Path(sys.executable).with_name("netops")

#: runs in the new mount namespace: mount a tmpfs on DIR, put the files in, leave FREE bytes
#: free (or remount it read-only), run the command, report what is on the tmpfs afterwards
DRIVER = r"""
import hashlib, json, os, shutil, sqlite3, subprocess, sys
spec = json.loads(sys.argv[1])
d = spec["dir"]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", d], check=True)
for name, source in spec["files"].items():
    (shutil.copytree if os.path.isdir(source) else shutil.copy)(source, os.path.join(d, name))
if spec["how"] == "full":
    left = os.statvfs(d)
    with open(os.path.join(d, "filler"), "wb") as fh:
        fh.write(b"\0" * (left.f_bavail * left.f_frsize - spec["free"]))
else:
    subprocess.run(["mount", "-o", "remount,ro", d], check=True)
done = subprocess.run(spec["args"], capture_output=True, text=True, timeout=100)
if spec["how"] == "full":
    os.remove(os.path.join(d, "filler"))  # room for the look below (a reader's WAL index)
files = {}
for top, _, names in os.walk(d):
    for name in names:
        path = os.path.join(top, name)
        files[os.path.relpath(path, d)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
rows = None
if os.path.exists(os.path.join(d, "netops.db")):
    mode = "ro" if spec["how"] == "full" else "ro&immutable=1"
    conn = sqlite3.connect(f"file:{os.path.join(d, 'netops.db')}?mode={mode}", uri=True)
    rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
print(json.dumps({"rc": done.returncode, "stderr": done.stderr, "files": files, "rows": rows}))
"""


def _private_mounts_work() -> bool:
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _private_mounts_work(), reason="no private mount namespace (needs CAP_SYS_ADMIN)")


def on_small_disk(tmp_path: Path, how: str, files: dict[str, Path], args: list[str], free: int = 16384,
                  env: dict[str, str] | None = None) -> dict:
    mount = tmp_path / "disk"
    mount.mkdir(exist_ok=True)
    env = {k: v.replace("DISK", str(mount)) for k, v in (env or {}).items()}
    spec = {"dir": str(mount), "how": how, "free": free, "files": {k: str(v) for k, v in files.items()},
            "args": [a.replace("DISK", str(mount)) for a in args]}
    done = subprocess.run(["unshare", "-m", sys.executable, "-c", DRIVER, json.dumps(spec)], capture_output=True,
                          text=True, timeout=110, env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), **(env or {})})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert "Traceback" not in seen["stderr"], seen["stderr"]
    return seen


def one_line(seen: dict, code: int, *names: str) -> str:
    lines = seen["stderr"].strip().splitlines()
    assert seen["rc"] == code and len(lines) == 1 and lines[0].startswith("error: "), (seen["rc"], seen["stderr"])
    assert all(name in lines[0] for name in names), lines[0]
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture
def sites(tmp_path) -> Path:
    """Enough new sites (with long notes) that their import cannot fit in 16 KiB."""
    path = tmp_path / "sites.csv"
    rows = [f"FULL-{i},Standort {i},school,51.5{i % 10},7.0{i % 10},hunt,{'x' * 200}" for i in range(2000)]
    path.write_text("code,name,kind,lat,lon,source,notes\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_an_import_that_does_not_fit_writes_nothing(how, base_db, sites, tmp_path):
    seen = on_small_disk(tmp_path, how, {"netops.db": base_db},
                         [str(NETOPS), "--db", "DISK/netops.db", "inventory", "import", str(sites), "--kind", "site"])
    line = one_line(seen, 4, str(tmp_path / "disk" / "netops.db"))
    assert ("full" if how == "full" else "read-only") in line, line
    assert seen["rows"] == row_counts(base_db)


OUTPUTS = {
    "report": ["report", "--out", "DISK/netops-report.html"],
    "export": ["inventory", "export", "--kind", "site", "--out", "DISK/netops-report.html"],
}


@pytest.mark.parametrize("how", ["full", "read-only"])
@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_an_output_file_that_does_not_fit_leaves_the_older_one(command, how, base_db, tmp_path):
    older = tmp_path / "older.html"
    older.write_text("<html>the report of yesterday</html>\n")
    seen = on_small_disk(tmp_path, how, {"netops-report.html": older},
                         [str(NETOPS), "--db", str(base_db), *OUTPUTS[command]], free=0)
    line = one_line(seen, 2, str(tmp_path / "disk"))
    assert how == "full" or "read-only file system" in line, line
    assert seen["files"] == {"netops-report.html": sha(older)}


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_open_data_that_does_not_fit_is_all_or_nothing(how, base_db, tmp_path):
    seen = on_small_disk(tmp_path, how, {}, [str(NETOPS), "--db", str(base_db), "inventory", "export",
                                             "--open-data", "DISK/open-data"], free=8192)
    line = one_line(seen, 2, str(tmp_path / "disk"))
    assert how == "full" or "read-only file system" in line, line
    assert seen["files"] == {}
    copy = tmp_path / "whole"
    done = subprocess.run([str(NETOPS), "--db", str(base_db), "inventory", "export", "--open-data", str(copy)],
                          capture_output=True, text=True, timeout=100)
    assert done.returncode == 0 and len(list(copy.iterdir())) > 1, done.stderr
    shutil.rmtree(copy)
