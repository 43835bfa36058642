"""The outsider's file hunt: every call that reads or writes a path a user gives, against
paths and contents tests/test_file_hunt.py does not feed, run as the installed `netops`
(a process each, as an operator runs it; not part of `make test`: `make hunt-files`).

    python -m tests.hunt_paths [--jobs N] [FILTER ...]

A FILTER keeps the cases whose ``target:case`` label holds it. Each case ends as README's
"Exit codes" says or is reported: a traceback, an undocumented exit code, a call that hangs
(90 s), an exit 2 or 4 whose stderr is not lines ``error: ...``, a line of 2,000 characters
or more, or a password of the database URL on any line. Exit 1 when anything is reported.

Paths: a name or a path too long for the file system, /dev/zero and /dev/urandom (endless),
/dev/full, a Unix socket, an empty string, ``-``, ``/`` and ``.``, a file named with a
trailing slash, /proc/self/mem (EIO on read), /proc/self/environ, a dangling symlink, a
symlink loop, a directory, a missing file, mode 000. Contents (from a valid sample): UTF-16
with and without a BOM, UTF-32, a UTF-8 BOM, Latin-1, random bytes (with and without NUL),
CRLF, CR, empty, blank lines, truncated, a 30 MB line, a lone surrogate, deep nesting.
Databases: random bytes, text, an empty file, a truncated SQLite file, a PostgreSQL URL
on a loopback port nobody listens on, its password holding an @. Config stores: a file, repo/ a file or a damaged git
directory, a .git file pointing nowhere, state.json a directory or random bytes, a device's
config a directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from tests.support.procs import free_port

ROOT = Path(__file__).resolve().parent.parent
NETOPS = str(Path(sys.executable).with_name("netops"))
EXIT_CODES = frozenset({0, 1, 2, 3, 4})
SECONDS_PER_CALL = 90
#: with an @ (percent-encoded in the URL): the part after it is what a mask ending at the first @ left
PASSWORD = "Hunt@s3cret-pw"

PATH_CASES = ["name too long", "path too long", "/dev/zero", "/dev/urandom", "/dev/full", "socket", "empty string",
              "-", "/", ".", "trailing slash", "/proc/self/mem", "/proc/self/environ", "dangling symlink",
              "symlink loop", "directory", "missing", "mode 000"]
DB_CASES = ["random bytes", "text", "empty file", "truncated SQLite", "PostgreSQL, nobody listening"]
STORE_CASES = ["a file", "repo a file", "damaged .git", ".git file pointing nowhere", "state.json a directory",
               "state.json random bytes", "a device's config a directory"]


def damaged_contents(valid: bytes) -> dict[str, bytes]:
    """What a user may hand netops instead of ``valid``."""
    text = valid.decode("utf-8")
    return {
        "UTF-16 with BOM": text.encode("utf-16"), "UTF-16 without BOM": text.encode("utf-16-le"),
        "UTF-32": text.encode("utf-32"), "UTF-8 BOM": b"\xef\xbb\xbf" + valid,
        "Latin-1": text.replace("e", "\xe9").encode("latin-1") + b"\xe9",
        "random bytes": os.urandom(3000).replace(b"\x00", b"\x01"), "random bytes with NUL": os.urandom(3000),
        "CRLF": valid.replace(b"\n", b"\r\n"), "CR": valid.replace(b"\n", b"\r"), "empty": b"",
        "blank lines": b"  \n\n", "truncated": valid[: len(valid) // 2], "30 MB line": b"a" * 30_000_000,
        "30 MB line after the sample": valid + b"x" * 30_000_000 + b"\n", "BOM only": b"\xef\xbb\xbf",
        "lone surrogate": valid + b"\xed\xa0\x80", "deep nesting": b"[" * 100_000,
    }


@dataclass
class Target:
    """A call that takes a path: ``args(path)``, or the path in ``env``; ``sample`` a valid file."""

    args: Callable[[str], list[str]]
    sample: bytes | None = None
    suffix: str = ""
    env: str | None = None


def _samples() -> dict[str, bytes]:
    from tests.test_file_hunt import ADDRESS_MAP, KNOWN_HOSTS, POLYGON, RULES, SECRETS, SITE_CSV, SITE_GEOJSON, STREETS
    return {"site.csv": SITE_CSV, "site.geojson": SITE_GEOJSON, "streets": STREETS, "polygon": POLYGON,
            "sites": b"code\nKITA-2\n", "address map": ADDRESS_MAP, "known hosts": KNOWN_HOSTS, "secrets": SECRETS,
            "rules": RULES, "alertmanager": (ROOT / "deploy/alertmanager/alertmanager.yml").read_bytes()}


def targets() -> tuple[dict[str, Target], dict[str, Target], dict[str, Target]]:
    """(files read, directories read or written, files written)."""
    s = _samples()
    device = ["--device", "gk-sch1-as1"]
    files = {
        "inventory import (CSV)": Target(lambda p: ["inventory", "import", p], s["site.csv"], ".csv"),
        "inventory import (GeoJSON)": Target(lambda p: ["inventory", "import", p], s["site.geojson"], ".geojson"),
        "inventory import --kind": Target(lambda p: ["inventory", "import", "--kind", "site", p], s["site.csv"], ".csv"),
        "plan connect --streets": Target(lambda p: ["plan", "connect", "KITA-2", "--dry-run", "--streets", p],
                                         s["streets"], ".geojson"),
        "NETOPS_STREETS": Target(lambda p: ["plan", "connect", "KITA-2", "--dry-run"], s["streets"], ".geojson",
                                 env="NETOPS_STREETS"),
        "plan batch --csv": Target(lambda p: ["plan", "batch", "--csv", p, "--dry-run"], s["sites"], ".csv"),
        "plan area --polygon": Target(lambda p: ["plan", "area", "--polygon", p, "--dry-run"], s["polygon"], ".geojson"),
        "report --alertmanager-base": Target(lambda p: ["report", "--out", "{tmp}/r.html", "--alertmanager-config",
                                                        "{tmp}/am.yml", "--alertmanager-base", p],
                                             s["alertmanager"], ".yml"),
        "config audit --address-map": Target(lambda p: ["config", "audit", *device, "--address-map", p],
                                             s["address map"], ".json"),
        "config audit --known-hosts": Target(lambda p: ["config", "audit", *device, "--known-hosts", p],
                                             s["known hosts"], ".known_hosts"),
        "NETOPS_SSH_KNOWN_HOSTS": Target(lambda p: ["config", "audit", *device], s["known hosts"], ".known_hosts",
                                         env="NETOPS_SSH_KNOWN_HOSTS"),
        "NETOPS_SECRETS_FILE": Target(lambda p: ["config", "backup", *device], s["secrets"], ".toml",
                                      env="NETOPS_SECRETS_FILE"),
        "--db": Target(lambda p: ["--db", p, "inventory", "stats"], suffix=".db"),
        "NETOPS_DB_URL": Target(lambda p: ["inventory", "stats"], suffix=".db", env="NETOPS_DB_URL"),
    }
    directories = {
        "config audit --rules": Target(lambda p: ["config", "audit", "--from-store", "--rules", p], s["rules"]),
        "config diff --store": Target(lambda p: ["config", "diff", "--store", p]),
        "config audit --from-store --store": Target(lambda p: ["config", "audit", "--from-store", "--store", p]),
        "config remediate --store": Target(lambda p: ["config", "remediate", "--store", p]),
        "NETOPS_CONFIG_DIR (report)": Target(lambda p: ["report", "--out", "{tmp}/r.html"], env="NETOPS_CONFIG_DIR"),
        "inventory export --open-data": Target(lambda p: ["inventory", "export", "--open-data", p]),
    }
    outputs = {
        "report --out": Target(lambda p: ["report", "--out", p]),
        "report --alertmanager-config": Target(lambda p: ["report", "--out", "{tmp}/r.html",
                                                          "--alertmanager-config", p]),
        "inventory export --out": Target(lambda p: ["inventory", "export", "--kind", "site", "--out", p]),
        "audit spof --geojson": Target(lambda p: ["audit", "spof", "--geojson", p]),
        "audit all --geojson": Target(lambda p: ["audit", "all", "--geojson", p]),
    }
    return files, directories, outputs


def place(tmp: Path, case: str, content: bytes | None, suffix: str, keep: list) -> str:
    """A path in ``tmp`` that is what ``case`` says (``content`` where a file is written)."""
    if case in ("/dev/zero", "/dev/urandom", "/dev/full", "/", "/proc/self/mem", "/proc/self/environ", "-", "."):
        return case
    if case == "empty string":
        return ""
    path = tmp / f"in{suffix}"
    if case == "name too long":
        path = tmp / ("n" * 300 + suffix)
    elif case == "path too long":
        path = tmp.joinpath(*["d" * 200] * 25)
    elif case == "socket":
        keep.append(socket.socket(socket.AF_UNIX))
        keep[-1].bind(str(path))
    elif case == "trailing slash":
        path.write_bytes(content or b"x")
        return f"{path}/"
    elif case == "dangling symlink":
        path.symlink_to(tmp / "nowhere")
    elif case == "symlink loop":
        path.symlink_to(path)
    elif case == "directory":
        path.mkdir()
    elif case == "mode 000":
        path.write_bytes(content or b"x")
        path.chmod(0)
    elif case != "missing":
        path.write_bytes(content or b"")
    return str(path)


def place_database(tmp: Path, case: str, base: Path) -> str:
    if case == "PostgreSQL, nobody listening":  # a free loopback port: refused before any login
        return f"postgresql://netops:{quote(PASSWORD, safe='')}@127.0.0.1:{free_port()}/netops"
    path = tmp / "x.db"
    path.write_bytes({"random bytes": os.urandom(5000), "text": b"hello\n" * 100, "empty file": b"",
                      "truncated SQLite": base.read_bytes()[:50_000]}[case])
    return str(path)


def place_store(tmp: Path, case: str) -> str:
    store = tmp / "store"
    store.mkdir()
    if case == "a file":
        store.rmdir()
        store.write_text("x")
    elif case == "repo a file":
        (store / "repo").write_bytes(os.urandom(100))
    elif case == "damaged .git":
        (store / "repo" / ".git").mkdir(parents=True)
        (store / "repo" / ".git" / "HEAD").write_bytes(os.urandom(50))
    elif case == ".git file pointing nowhere":
        (store / "repo").mkdir()
        (store / "repo" / ".git").write_text("gitdir: /nowhere\n")
    elif case == "state.json a directory":
        (store / "state.json").mkdir()
    elif case == "state.json random bytes":
        (store / "state.json").write_bytes(os.urandom(500))
    elif case == "a device's config a directory":
        (store / "repo" / "gk-sch1-as1.cfg").mkdir(parents=True)
    return str(store)


def judge(label: str, result: subprocess.CompletedProcess | None) -> str | None:
    """What is wrong with how the call ended, or None."""
    if result is None:
        return f"{label}: no end after {SECONDS_PER_CALL} s"
    out, err = (stream.decode("utf-8", "replace") for stream in (result.stdout, result.stderr))
    lines = err.strip().splitlines()
    wrong = ("a traceback" if "Traceback" in out + err else
             f"exit {result.returncode}" if result.returncode not in EXIT_CODES else
             "a line that is no 'error: ...'" if result.returncode in (2, 4) and not (
                 lines and all(line.startswith("error: ") for line in lines)) else
             "a line of 2,000 characters or more" if any(len(line) >= 2_000 for line in lines) else
             "the database password" if PASSWORD.partition("@")[2] in out + err else None)
    if wrong is None:
        return None
    return f"{label}: {wrong} (exit {result.returncode})\n    " + "\n    ".join(lines[-3:])[:1_500]


def run_case(label: str, base: Path, build: Callable[[Path, list], tuple[list[str], str | None, str]]) -> str | None:
    tmp = Path(tempfile.mkdtemp(prefix="netops-hunt-"))
    keep: list = []
    try:
        (tmp / "home").mkdir()
        shutil.copy(base, tmp / "netops.db")
        env = {k: v for k, v in os.environ.items()
               if k not in ("NETOPS_STREETS", "NETOPS_RULES_DIR", "NETOPS_SSH_KNOWN_HOSTS")}
        env |= {"HOME": str(tmp / "home"), "NETOPS_SECRETS_FILE": str(tmp / "home" / "secrets.toml"),
                "NETOPS_CONFIG_DIR": str(tmp / "workspace"), "XDG_DATA_HOME": str(tmp / "home" / "data"),
                "NETOPS_DB_URL": str(tmp / "netops.db"), "COLUMNS": "200"}
        args, env_name, path = build(tmp, keep)
        if env_name:
            env[env_name] = path
        args = [arg.replace("{tmp}", str(tmp)) for arg in args]
        try:
            result = subprocess.run([NETOPS, *args], env=env, cwd=tmp, capture_output=True, stdin=subprocess.DEVNULL,
                                    timeout=SECONDS_PER_CALL)
        except subprocess.TimeoutExpired:
            result = None
        return judge(label, result)
    finally:
        for each in keep:
            each.close()
        shutil.rmtree(tmp, ignore_errors=True)


def cases():
    """(label, build) for every case: build(tmp, keep) -> (args, environment variable, path)."""
    files, directories, outputs = targets()
    for name, target in files.items():
        variants = DB_CASES if target.sample is None else list(damaged_contents(target.sample))
        for case in [*PATH_CASES, *variants]:
            def build(tmp, keep, target=target, case=case):
                if case in DB_CASES:
                    path = place_database(tmp, case, tmp / "netops.db")
                elif case in PATH_CASES:
                    path = place(tmp, case, target.sample, target.suffix, keep)
                else:
                    path = place(tmp, "a file", damaged_contents(target.sample)[case], target.suffix, keep)
                if target.env == "NETOPS_SECRETS_FILE" and case not in PATH_CASES:
                    os.chmod(path, 0o600)  # (a mode other than 0600 is refused before the content is read)
                return target.args(path), target.env, path
            yield f"{name}:{case}", build
    for name, target in directories.items():
        for case in [*PATH_CASES, *STORE_CASES]:
            def build(tmp, keep, target=target, case=case):
                path = place(tmp, case, None, "", keep) if case in PATH_CASES else place_store(tmp, case)
                return target.args(path), target.env, path
            yield f"{name}:{case}", build
    for name, target in outputs.items():
        for case in PATH_CASES:
            def build(tmp, keep, target=target, case=case):
                path = place(tmp, case, None, ".out", keep)
                return target.args(path), target.env, path
            yield f"{name}:{case}", build


def mini_city(directory: Path) -> Path:
    """tests/support/mini_city.py with a row of every kind, as a SQLite file."""
    from tests.test_file_hunt import base_db
    path = base_db.__wrapped__(_Factory(directory))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


class _Factory:
    """What base_db asks of pytest's tmp_path_factory."""

    def __init__(self, directory: Path):
        self.directory = directory

    def mktemp(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir()
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="calls at once (default 2)")
    parser.add_argument("filters", nargs="*", help="run only cases whose 'target:case' label holds one of these")
    options = parser.parse_args(argv)
    chosen = [(label, build) for label, build in cases()
              if not options.filters or any(f in label for f in options.filters)]
    with tempfile.TemporaryDirectory(prefix="netops-hunt-base-") as directory:
        base = mini_city(Path(directory))
        with ThreadPoolExecutor(options.jobs) as pool:
            findings = [f for f in pool.map(lambda case: run_case(case[0], base, case[1]), chosen) if f]
    for finding in findings:
        print(finding)
    print(f"{len(chosen)} cases, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
