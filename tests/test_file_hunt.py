"""A bad-day hunt over every file and directory a user hands netops, as an outsider runs it.

Every option, argument and environment variable that names a file or directory (from
`netops --help` walked recursively, commands/, netops/settings.py and netops/secrets.py):

  read (files)
    netops --db / NETOPS_DB_URL                   SQLite file (or a PostgreSQL URL)
    inventory import PATH...                      CSV / GeoJSON
    plan connect|batch|fixes|building|area|business --streets / NETOPS_STREETS   GeoJSON
    plan batch --csv                              CSV of sites
    plan area --polygon                           GeoJSON (Multi)Polygon
    report --alertmanager-base                    Alertmanager YAML
    config backup|audit, lldp verify --address-map   JSON {"device": "host:port"}
    config backup|audit, lldp verify --known-hosts / NETOPS_SSH_KNOWN_HOSTS   OpenSSH known_hosts
    NETOPS_SECRETS_FILE (default ~/.config/netops/secrets.toml)   TOML, mode 0600
  read (directories)
    config audit|remediate --rules / NETOPS_RULES_DIR   directory of *.yaml rule files
    config backup|diff|audit|remediate, lldp verify --store / NETOPS_CONFIG_DIR,
    exporter serve --config-store                 workspace: repo/ (git) and state.json,
                                                  which `report` reads too
  write (files)
    inventory export --out, inventory seed --streets, report --out, report --alertmanager-config,
    audit [all|reachability|spof|shared-risk|capacity|consistency|pon] --geojson, plan show --geojson,
    the secrets file (the fingerprint key is appended on the first `config backup`),
    the SQLite file and its -lock, -wal, -shm files (db upgrade, inventory seed|import, plan apply...)
  write (directories)
    inventory export --open-data, --store / NETOPS_CONFIG_DIR

Each is fed, where it applies: a missing file, a directory instead of a file, a file
instead of a directory, a path under a file, no read permission (as root: a file in
/proc that refuses even root) and no write permission (``chattr +i`` and a read-only bind
mount in a private mount namespace), an empty, truncated and bit-flipped file, NUL bytes,
UTF-16, a UTF-8 BOM, Latin-1, a 100 MB line, the wrong JSON type at the top level, deep
nesting, a FIFO, a symlink loop, /dev/null, a name with a newline or bytes that are not
UTF-8; outputs also a missing directory (created), a directory, a read-only place and a
full disk (/dev/full behind a symlink, so the device itself is never at stake). Each ends
in one line ``error: ...`` naming the file (README "Exit codes"), no traceback, the
database unchanged and output files whole or absent.

Not run here: `exporter serve --config-store` (reads the same state.json at scrape time, in
the exporter's collector); a database on PostgreSQL (a URL, no file: tests/test_pg_bad_day.py).

The inventory is tests/support/mini_city.py with a row of every kind; no device has an SSH
profile, so nothing is ever contacted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).resolve().parent.parent
NETOPS = Path(sys.executable).with_name("netops")
#: a file even root cannot open for reading (a write-only sysctl)
UNREADABLE = Path("/proc/sys/vm/compact_memory")
HUGE = 100 * 1024 * 1024


# -- the inventory and how a call is judged ------------------------------------------------------

@pytest.fixture(scope="module")
def base_db(tmp_path_factory) -> Path:
    from inventory.store import SourceRow, write
    from netops import db as dbmod
    from tests.inventory.conftest import MINI_EXTRAS
    from tests.support.mini_city import build_mini_city

    path = tmp_path_factory.mktemp("hunt") / "netops.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        build_mini_city(session)
        write(session, [(kind, [SourceRow(dict(r)) for r in rows]) for kind, rows in MINI_EXTRAS.items()])
    engine.dispose()
    with sqlite3.connect(path) as conn:  # a plain file: no -wal beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        # the mini city's price table lacks items: plans use the documented default table
        conn.execute("DELETE FROM priceitem")
        conn.execute("DELETE FROM pricetable")
    return path


@pytest.fixture
def db(base_db, tmp_path) -> Path:
    """A copy of the inventory for one test (it may write)."""
    copy = tmp_path / "db" / "netops.db"
    copy.parent.mkdir()
    shutil.copy(base_db, copy)
    return copy


def dump(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return list(conn.iterdump())


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    """Every place netops looks at by default points into the test's directory."""
    values = {"HOME": str(tmp_path / "home"), "NETOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.toml"),
              "NETOPS_CONFIG_DIR": str(tmp_path / "workspace"), "XDG_DATA_HOME": str(tmp_path / "home" / "data")}
    for name in ("NETOPS_DB_URL", "NETOPS_STREETS", "NETOPS_RULES_DIR", "NETOPS_SSH_KNOWN_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(db: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["--db", str(db), *args], env=env)


def one_error(result, code: int, *names: str) -> str:
    """The call ended in exit ``code`` with one line ``error: ...`` naming each of ``names``
    (a rejected file may have one line per problem, README: each names the file)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"traceback: {result.exception!r}\n{result.output}"
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    for line in lines:
        for name in names:
            assert " ".join(str(name).split()) in line, (name, line)
    return lines[0]


# -- the files -------------------------------------------------------------------------------------

def flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x80]) + data[middle + 1:]


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory) -> Path:
    """One line of 100 MB (written once for the module, in 1 MB blocks)."""
    path = tmp_path_factory.mktemp("huge") / "huge"
    block = b"a" * (1024 * 1024)
    with path.open("wb") as fh:
        for _ in range(HUGE // len(block)):
            fh.write(block)
        fh.write(b"\n")
    return path


def contents(valid: bytes, json_like: bool) -> dict[str, bytes]:
    """Bad versions of a valid file."""
    text = valid.decode("utf-8")
    bad = {
        "empty": b"",
        "truncated": valid[: len(valid) // 2],
        "bit-flipped": flipped(valid),
        "NUL bytes": valid[:10] + b"\x00\x00" + valid[10:],
        "UTF-16": text.encode("utf-16"),
        "Latin-1": (text + "\n").encode("utf-8").replace(b"\n", "\n\xdf".encode("latin-1"), 1),
    }
    if json_like:
        bad |= {"top-level list": b"[1, 2]", "top-level number": b"42", "top-level string": b'"x"',
                "deep nesting": b"[" * 5_000 + b"]" * 5_000}  # beyond Python's recursion limit
    return bad


def place(tmp_path: Path, name: str, how: str, huge: Path, content: bytes = b"") -> Path:
    """A path named ``name`` in ``tmp_path`` that is what ``how`` says."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "missing":
        return path
    if how == "directory":
        path.mkdir()
    elif how == "under a file":
        (tmp_path / "afile").write_text("x")
        return tmp_path / "afile" / name
    elif how == "unreadable":
        path.symlink_to(UNREADABLE)
    elif how == "symlink loop":
        path.symlink_to(path)
    elif how == "/dev/null":
        path.symlink_to("/dev/null")
    elif how == "100 MB line":
        path.symlink_to(huge)
    elif how == "newline in name":
        path = tmp_path / f"bad\nname{Path(name).suffix}"
        path.write_bytes(content)
    elif how == "non-UTF-8 name":
        path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/bad\xff" + os.fsencode(Path(name).suffix)))
        path.write_bytes(content)
    else:
        path.write_bytes(content)
    return path


NAME_CASES = ("newline in name", "non-UTF-8 name")
PATH_CASES = ["missing", "directory", "under a file", "unreadable", "symlink loop", "/dev/null", "100 MB line"]


# -- files read ----------------------------------------------------------------------------------

SITE_CSV = b"code,name,kind,lat,lon\nNEW-1,Neue Schule,school,51.52,7.08\n"
SITE_GEOJSON = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "geometry": {"type": "Point", "coordinates": [7.08, 51.52]},
    "properties": {"code": "NEW-1", "name": "Neue Schule", "kind": "school"}}]}).encode()
STREETS = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {},
    "geometry": {"type": "LineString", "coordinates": [[7.09, 51.56], [7.095, 51.53]]}}]}).encode()
POLYGON = json.dumps({"type": "Polygon", "coordinates": [[[7.07, 51.54], [7.09, 51.54], [7.09, 51.56],
                                                          [7.07, 51.56], [7.07, 51.54]]]}).encode()
ADDRESS_MAP = json.dumps({"gk-sch1-as1": "127.0.0.1:9"}).encode()
RULES = b"rules:\n  - id: hunt-rule\n    title: t\n    severity: info\n    platforms: [cisco_ios]\n" \
        b"    reference: test\n    check:\n      require: ['^hostname']\n"
KNOWN_HOSTS = b"sw1,127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
SECRETS = b'[snmp.city_v3]\nauth_key = "abcdefgh"\n'
STATE = b'{"backup": {}}'


class Reader:
    """A file (or a directory's file) netops reads, and the call that reads it."""

    def __init__(self, suffix: str, valid: bytes, json_like: bool, args, code: int = 2, *, env: str | None = None,
                 in_dir: str | None = None, accepts: dict[str, int] | None = None, only: tuple[str, ...] = (),
                 extra: dict[str, bytes] | None = None):
        self.suffix, self.valid, self.json_like, self.args, self.code = suffix, valid, json_like, args, code
        self.env, self.in_dir, self.accepts, self.only, self.extra = env, in_dir, accepts or {}, only, extra or {}


READERS = {
    "inventory import (CSV)": Reader(".csv", SITE_CSV, False, lambda p, t: ["inventory", "import", p]),
    "inventory import (GeoJSON)": Reader(".geojson", SITE_GEOJSON, True, lambda p, t: ["inventory", "import", p]),
    "plan connect --streets": Reader(".geojson", STREETS, True,
                                     lambda p, t: ["plan", "connect", "KITA-2", "--dry-run", "--streets", p]),
    "plan batch --csv": Reader(".csv", b"code\nKITA-2\n", False,
                               lambda p, t: ["plan", "batch", "--csv", p, "--dry-run"]),
    "plan area --polygon": Reader(".geojson", POLYGON, True, lambda p, t: ["plan", "area", "--polygon", p, "--dry-run"]),
    "report --alertmanager-base": Reader(
        ".yml", (ROOT / "deploy/alertmanager/alertmanager.yml").read_bytes(), True,
        lambda p, t: ["report", "--out", str(t / "r.html"), "--alertmanager-config", str(t / "am.yml"),
                      "--alertmanager-base", p]),
    "config audit --address-map": Reader(".json", ADDRESS_MAP, True,
                                         lambda p, t: ["config", "audit", "--device", "gk-sch1-as1", "--address-map", p]),
    "config audit --known-hosts": Reader(
        ".known_hosts", KNOWN_HOSTS, False, lambda p, t: ["config", "audit", "--device", "gk-sch1-as1", "--known-hosts", p],
        accepts={"/dev/null": 3, "empty": 3},  # no host known: every device refused (exit 3), none contacted here
        extra={"entry without key": b"sw1 ssh-ed25519\n", "key not base64": b"sw1 ssh-ed25519 AAAA!!!!\n"}),
    "config audit --rules DIR": Reader(".yaml", RULES, True, lambda p, t: ["config", "audit", "--from-store", "--rules", p],
                                       in_dir="rules"),
    # the same reader as --rules: the directory's cases and one bad file
    "NETOPS_RULES_DIR": Reader(".yaml", RULES, True, lambda p, t: ["config", "audit", "--from-store"],
                               env="NETOPS_RULES_DIR", in_dir="rules", only=(*PATH_CASES, "a file", "truncated")),
    "NETOPS_SECRETS_FILE": Reader(".toml", SECRETS, False, lambda p, t: ["config", "backup", "--device", "gk-sch1-as1"],
                                  code=4, env="NETOPS_SECRETS_FILE", accepts={"empty": 3, "missing": 3}),
    "state.json in NETOPS_CONFIG_DIR": Reader(".json", STATE, True, lambda p, t: ["report", "--json", "--out",
                                                                                   str(t / "r.html")],
                                              env="NETOPS_CONFIG_DIR", in_dir="state.json",
                                              # `report` reads the state when there is one
                                              accepts={case: 0 for case in ("missing", "directory", "a file",
                                                                            "under a file", "unreadable",
                                                                            "symlink loop", "/dev/null",
                                                                            "newline in name", "non-UTF-8 name")},
                                              extra={"backup not an object": b'{"backup": 5}',
                                                     "devices not objects": b'{"backup": {"devices": {"sw": 1}}}',
                                                     "audit rules a list": b'{"audit": {"rules": []}}'}),
}
CONTENT_CASES = ["empty", "truncated", "bit-flipped", "NUL bytes", "UTF-16", "Latin-1", "top-level list",
                 "top-level number", "top-level string", "deep nesting", "FIFO", "newline in name", "non-UTF-8 name"]


def reader_cases():
    for name, reader in READERS.items():
        cases = PATH_CASES + ["a file"] * (reader.in_dir is not None) + [c for c in CONTENT_CASES if reader.json_like or not c.startswith(("top-level", "deep"))]
        for case in cases:
            if reader.only and case not in reader.only:
                continue
            yield pytest.param(name, case, id=f"{name}: {case}")
        for case in reader.extra:
            yield pytest.param(name, case, id=f"{name}: {case}")


def _feed_fifo(path: Path, data: bytes) -> threading.Thread:
    os.mkfifo(path)

    def feed():
        # netops may refuse a FIFO without reading it to the end (a secrets file must be a regular one)
        with contextlib.suppress(BrokenPipeError), open(path, "wb") as fh:
            fh.write(data)
    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("name, case", list(reader_cases()))
def test_a_bad_file_read_is_one_line(name, case, db, env, tmp_path, huge_file):
    reader = READERS[name]
    bad = contents(reader.valid, reader.json_like) | reader.extra
    base = f"x{reader.suffix}" if reader.in_dir != "state.json" else "state.json"
    feeder = None
    if reader.in_dir is not None and case not in [*PATH_CASES, "a file"]:  # the directory is fine, its file is bad
        folder = tmp_path / "in" / "dir"
        folder.mkdir(parents=True)
        target = place(folder, base, case if case in NAME_CASES else "file", huge_file, bad.get(case, bad["truncated"]))
        named = folder
    elif reader.in_dir is not None:
        folder = place(tmp_path / "in", "dir", case, huge_file)
        target = named = folder
        if case == "100 MB line":  # a directory holding the huge file
            folder.unlink()
            folder.mkdir()
            target = folder / base
            target.symlink_to(huge_file)
    else:
        how = "file" if case in bad else case
        if case == "FIFO":
            target = tmp_path / "in" / f"fifo{reader.suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            feeder = _feed_fifo(target, bad["truncated"])
        else:
            target = place(tmp_path / "in", base, how, huge_file, bad.get(case, bad["truncated"]))
        named = target
    if reader.env == "NETOPS_SECRETS_FILE" and target.exists() and target.is_file() and not target.is_symlink():
        target.chmod(0o600)
    before = dump(db)
    args = reader.args(os.fsdecode(named), tmp_path)
    environ = dict(env)
    if reader.env:
        environ[reader.env] = os.fsdecode(named)
    result = run(db, *args, env=environ)
    if feeder is not None:  # a reader that refused the FIFO unopened leaves the feeder waiting: end it
        os.close(os.open(target, os.O_RDONLY | os.O_NONBLOCK))
        feeder.join(5)
    expected = reader.accepts.get(case, reader.code)
    if expected == reader.code:
        one_error(result, expected, "" if case == "non-UTF-8 name" else " ".join(os.fsdecode(named).split()))
    else:
        assert result.exit_code == expected, result.output
    assert dump(db) == before


# -- files written ---------------------------------------------------------------------------------

OUTPUTS = {
    "inventory export --out": (".csv", lambda p: ["inventory", "export", "--kind", "site", "--out", p], 0),
    "report --out": (".html", lambda p: ["report", "--out", p], 0),
    "report --alertmanager-config": (".yml", lambda p: ["report", "--out", str(Path(p).parent.parent / "r.html"),
                                                        "--alertmanager-config", p], 0),
    "audit spof --geojson": (".geojson", lambda p: ["audit", "spof", "--geojson", p], 0),
    "plan show --geojson": (".geojson", lambda p: ["plan", "show", "kita-2", "--json", "--geojson", p], 0),
    "inventory seed --streets": (".geojson", lambda p: ["inventory", "seed", "--json", "--streets", p], 0),
}
#: outputs of a command that loads a database: run on a new one, which a failed output never creates
LOADS_A_DB = {"inventory seed --streets"}
OUTPUT_CASES = ["missing directory", "directory", "under a file", "read-only directory", "read-only file",
                "/dev/full", "symlink loop", "newline in name", "non-UTF-8 name"]


@pytest.fixture
def immutable():
    """``chattr +i`` paths (even root cannot write them), undone after the test."""
    marked: list[Path] = []

    def mark(path: Path) -> Path:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not supported here")
        marked.append(path)
        return path
    yield mark
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def output_place(tmp_path: Path, suffix: str, case: str, immutable) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    path = out / f"result{suffix}"
    if case == "missing directory":
        return out / "new" / "deeper" / f"result{suffix}"
    if case == "directory":
        path.mkdir()
    elif case == "under a file":
        (out / "afile").write_text("x")
        return out / "afile" / f"result{suffix}"
    elif case == "read-only directory":
        immutable(out)
    elif case == "read-only file":
        path.write_text("the previous file\n")
        immutable(path)
    elif case == "/dev/full":
        path.symlink_to("/dev/full")
    elif case == "symlink loop":
        path.symlink_to(path)
    elif case == "newline in name":
        return out / f"new\nline{suffix}"
    elif case == "non-UTF-8 name":
        return Path(os.fsdecode(os.fsencode(out) + b"/bad\xff" + suffix.encode()))
    return path


#: these print the file's name on stdout, which CliRunner holds to strict UTF-8 (a real stdout
#: escapes such bytes: `netops report --out $'bad\xff.html'` prints the name and exits 0)
STRICT_STDOUT = {"report --out", "report --alertmanager-config", "audit spof --geojson"}


@pytest.mark.parametrize("name, case", [pytest.param(n, c, id=f"{n}: {c}") for n in OUTPUTS for c in OUTPUT_CASES
                                        if not (c == "non-UTF-8 name" and n in STRICT_STDOUT)])
def test_an_output_is_whole_or_one_line(name, case, db, env, tmp_path, immutable):
    suffix, args, ok = OUTPUTS[name]
    path = output_place(tmp_path, suffix, case, immutable)
    if name in LOADS_A_DB:
        db = tmp_path / "new" / "netops.db"
    before = dump(db) if db.exists() else None
    result = run(db, *args(str(path)), env=env)
    if case in ("missing directory", *NAME_CASES):
        assert result.exit_code == ok, result.output
        assert path.is_file() and path.stat().st_size > 0
    else:
        named = {"under a file": path.parent, "read-only directory": path.parent}.get(case, path)
        one_error(result, 2, named)
        if case == "read-only file":
            assert path.read_text() == "the previous file\n"
        if case == "/dev/full":
            assert path.is_symlink() and os.readlink(path) == "/dev/full"
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".") and "tmp" in p.name]  # no temporary left
    if name not in LOADS_A_DB:
        assert dump(db) == before
    else:
        assert db.exists() == (result.exit_code == 0)


# -- a read-only database ---------------------------------------------------------------------------

READING = [["inventory", "stats", "--json"], ["inventory", "list", "--kind", "site", "--json"],
           ["plan", "list", "--json"]]
WRITING = [["db", "upgrade"], ["plan", "discard", "kita-2"], ["inventory", "import", "IMPORT"]]


def _read_only_mount_works() -> bool:
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind -o ro / / 2>/dev/null"], capture_output=True)
    return probe.returncode == 0


def _in_read_only_mount(directory: Path, args: list[str], env: dict[str, str]):
    """`netops ARGS` in a child process with a private mount namespace in which ``directory``
    is a read-only bind mount of itself: a read-only file system."""
    quoted = " ".join(f"'{a}'" for a in [str(NETOPS), *args])
    done = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{directory}' '{directory}' && exec {quoted}"],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("how", ["read-only mount", "chattr +i file", "chattr +i directory"])
def test_reading_commands_work_on_a_read_only_database(how, db, env, tmp_path, immutable):
    """Session 5's review: on a read-only file system even reading commands exited 4 (SQLite's
    WAL wants its -shm file). Reading works there now; writing is one line naming the file."""
    if how == "read-only mount" and not _read_only_mount_works():
        pytest.skip("no private mount namespace here (unshare -m needs CAP_SYS_ADMIN)")
    wanted = {}
    for args in READING:
        result = run(db, *args, env=env)
        wanted[tuple(args)] = (result.exit_code, result.stdout)
    before = dump(db)
    (tmp_path / "site.csv").write_bytes(SITE_CSV)
    if how == "read-only mount":
        def call(args):
            return _in_read_only_mount(db.parent, ["--db", str(db), *args], env)
    else:
        immutable(db if how == "chattr +i file" else db.parent)

        def call(args):
            result = run(db, *args, env=env)
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            return result.exit_code, result.stdout, result.stderr
    for args in READING:
        code, stdout, stderr = call(args)
        assert (code, stdout) == wanted[tuple(args)], (args, stderr)
    for args in WRITING:
        code, stdout, stderr = call([str(tmp_path / "site.csv") if a == "IMPORT" else a for a in args])
        lines = stderr.strip().splitlines()
        assert code == 4 and len(lines) == 1 and lines[0].startswith("error: "), (args, code, stdout, stderr)
        assert str(db) in lines[0] and "read-only" in lines[0], lines[0]
    assert dump(db) == before


# -- the database file -----------------------------------------------------------------------------

DB_CASES = ["missing", "directory", "under a file", "unreadable", "symlink loop", "/dev/null", "100 MB line",
            "FIFO", "empty", "truncated", "NUL bytes", "text", "JSON", "newline in name", "non-UTF-8 name"]


@pytest.mark.parametrize("args", [["inventory", "stats"], ["inventory", "list", "--kind", "site"]],
                         ids=["stats (driver)", "list (SQLAlchemy)"])
@pytest.mark.parametrize("case", DB_CASES)
def test_a_bad_database_path_is_one_line_exit_4(case, args, base_db, env, tmp_path, huge_file):
    valid = base_db.read_bytes()
    content = {"empty": b"", "truncated": valid[: len(valid) // 3], "NUL bytes": b"\x00" * 4096,
               "text": b"sites: 3\n", "JSON": b'{"sites": []}', "newline in name": valid[:4096],
               "non-UTF-8 name": valid[:4096]}
    if case == "FIFO":
        path = tmp_path / "netops.db"
        os.mkfifo(path)
    else:
        path = place(tmp_path / "in", "netops.db", case if case in PATH_CASES or case in NAME_CASES else "file",
                     huge_file, content.get(case, b""))
    result = run(path, *args, env=env)
    # the file is named as it resolves (one file, one lock file, however it is reached)
    named = {"non-UTF-8 name": "", "under a file": path.parent, "unreadable": UNREADABLE, "/dev/null": "/dev/null",
             "100 MB line": huge_file}.get(case, path)
    one_error(result, 4, named)
    if case == "missing":
        assert not path.exists()  # a reading command never creates a database


# -- directories and files written: open data, the config workspace, the secrets file, a new database --

DIR_CASES = ["missing", "a file", "under a file", "read-only directory", "symlink loop"]
DIR_OUTPUTS = {  # name -> (argv for the directory, exit code when it works)
    "inventory export --open-data": (lambda p: ["inventory", "export", "--open-data", p], 0),
    # exit 3: the devices have no backup yet
    "config audit --store": (lambda p: ["config", "audit", "--from-store", "--store", p], 3),
}


def dir_place(tmp_path: Path, case: str, immutable) -> Path:
    path = tmp_path / "out" / "dir"
    path.parent.mkdir()
    if case == "missing":
        return path / "deeper"
    if case == "a file":
        path.write_text("x")
    elif case == "under a file":
        path.write_text("x")
        return path / "deeper"
    elif case == "read-only directory":
        path.mkdir()
        immutable(path)
    elif case == "symlink loop":
        path.symlink_to(path)
    return path


@pytest.mark.parametrize("name, case", [pytest.param(n, c, id=f"{n}: {c}") for n in DIR_OUTPUTS for c in DIR_CASES])
def test_an_output_directory_is_made_or_one_line(name, case, db, env, tmp_path, immutable):
    args, ok = DIR_OUTPUTS[name]
    path = dir_place(tmp_path, case, immutable)
    before = dump(db)
    result = run(db, *args(str(path)), env=env)
    if case == "missing":
        assert result.exit_code == ok, result.output
        assert path.is_dir() and any(path.iterdir())
    else:
        one_error(result, 2, path.parent if case == "under a file" else path)
    assert dump(db) == before


@pytest.mark.parametrize("case", ["missing directory", "directory", "under a file", "read-only directory",
                                  "/dev/full", "symlink loop"])
def test_the_fingerprint_key_is_written_whole_or_one_line(case, db, env, tmp_path, immutable):
    """The first `config backup` appends the fingerprint key to the secrets file."""
    path = output_place(tmp_path, ".toml", case, immutable)
    result = run(db, "config", "backup", "--device", "gk-sch1-as1", env={**env, "NETOPS_SECRETS_FILE": str(path)})
    if case == "missing directory":
        assert result.exit_code == 3, result.output  # the device has no SSH profile: it failed, the key is kept
        assert "[config.fingerprint]" in path.read_text() and path.stat().st_mode & 0o777 == 0o600
    else:
        one_error(result, 4, path.parent if case == "under a file" else path)
        if case == "/dev/full":
            assert path.is_symlink()


@pytest.mark.parametrize("case", ["missing directory", "directory", "under a file", "read-only directory"])
def test_a_new_database_is_made_or_one_line(case, env, tmp_path, immutable):
    path = output_place(tmp_path, ".db", case, immutable)
    result = run(path, "db", "upgrade", env=env)
    if case == "missing directory":
        assert result.exit_code == 0, result.output
        assert dump(path)
    else:
        one_error(result, 4, path.parent if case in ("under a file", "read-only directory") else path)
        assert not path.is_file()


# -- plans stored by an older netops (or by hand) ------------------------------------------------------

#: summaries a plan row may hold: older netops versions stored fewer fields, fixtures and hand
#: edits fewer still, and a JSON column takes any JSON value
STORED_SUMMARIES = {
    "empty": {},
    "one old field": {"trench_m": 310},
    "JSON null": None,
    "a list": [1, 2],
    "site a string": {"site": "KITA-2", "routes": [], "bom": [], "total_eur": 1.0},
    "changes lacking fields": {"changes": {"strands": [{"cable": "c-1"}], "ducts": {"x": "y"}}},
    "changes a list": {"changes": [1]},
}
STORED_KINDS = ["connect", "connect-redundant", "batch", "access-building", "fix"]


def _stored_calls(streets: Path):
    """(argv, exit codes it may end in): 0 shown, 4 one line naming the plan."""
    for kind in STORED_KINDS:
        for fmt in ([], ["--json"], ["--format", "csv"]):
            yield ["plan", "show", f"hand-{kind}", *fmt], {0}
    yield ["plan", "list"], {0}
    yield ["plan", "list", "--json"], {0}
    yield ["plan", "diff", "hand-connect"], {0, 4}
    # reads the strands and splices every plan took
    # (exit 2: the mini city's KITA-2 reaches no PoP over these streets, found after reading them)
    yield ["plan", "connect", "KITA-2", "--dry-run", "--streets", str(streets)], {2, 4}
    yield ["report", "--json", "--out", str(streets.with_name("report.html"))], {0, 4}  # the sites plans activate
    yield ["plan", "apply", "hand-connect"], {0, 4}
    yield ["plan", "discard", "hand-batch"], {0}


@pytest.mark.parametrize("summary", STORED_SUMMARIES)
def test_a_plan_stored_by_an_older_netops_never_tracebacks(summary, db, env, tmp_path):
    """What an older netops or a hand stored is shown as far as it goes (a note names what
    is missing), or refused in one line naming the plan; never a traceback, the database
    unchanged on refusal."""
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO plan (name, kind, state, created_at, total_cost_eur, summary) "
                         "VALUES (?, ?, 'draft', '2024-01-02 03:04:05', NULL, ?)",
                         [(f"hand-{kind}", kind, json.dumps(STORED_SUMMARIES[summary])) for kind in STORED_KINDS])
    (tmp_path / "streets.geojson").write_bytes(STREETS)
    for args, codes in _stored_calls(tmp_path / "streets.geojson"):
        before = dump(db)
        result = run(db, *args, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            f"{args}: traceback: {result.exception!r}\n{result.output}"
        assert result.exit_code in codes, (args, result.exit_code, result.output)
        if result.exit_code:
            one_error(result, result.exit_code, "plan 'hand-" if result.exit_code == 4 else "")
            assert dump(db) == before
        elif args[1] == "show" and len(args) == 3:
            assert f"plan {args[2]}" in result.stdout
            if summary == "one old field":  # what it has, and a note on what it lacks
                assert "trench_m" in result.stdout and "310" in result.stdout, result.stdout
                assert "no field" in result.stderr, result.stderr
