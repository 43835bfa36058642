"""Every command of the CLI, called wrong: no traceback, a documented exit code, one line.

The walk enumerates the click command tree that Typer builds from ``cli.app`` (so a new
command or option is walked without touching this file) and calls each command in-process
with bad arguments: missing arguments, unknown options and codes, numbers that are not
numbers or not finite, huge integers, paths that are directories, files of the wrong kind,
``/`` and directories that do not exist. Nothing here reaches the network: the inventory
is empty (no device to log in to) and the exporter is given an address it cannot bind.
"""

from __future__ import annotations

import shutil
import signal
import typing
from datetime import datetime
from enum import Enum
from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from cli import app
from tests.test_cli_conventions import subcommands
from netops import db as dbmod

EXIT_CODES = {0, 1, 2, 3, 4}  # README: ok, findings, bad input, devices failed, configuration
# a guard against a call that hangs, not a speed test: a valid odd value (`inventory seed
# --seed -1`) seeds the whole city, 10 s of CPU and 30 s of wall time on a loaded machine
SECONDS_PER_CALL = 180
UNKNOWN = "no-such-thing-xyz"
#: extra arguments that keep a call that parses from doing long or outward work
BASE_ARGS = {("exporter", "serve"): ["--listen", "256.256.256.256:9"]}


class Hung(Exception):
    pass


def commands(command, path=()):
    """(path, click command) for every invocable command, groups with a callback included."""
    below = sorted(subcommands(command))
    if path and (getattr(command, "callback", None) is not None or not below):
        yield path, command
    for name, sub in below:
        yield from commands(sub, (*path, name))


def element_type(annotation):
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation


def bad_values(annotation, files: dict[str, Path]) -> list[tuple[str, bool]]:
    """(value, must fail) pairs for a parameter of this type."""
    kind = element_type(annotation)
    if kind is float:
        return [("nan", True), ("inf", True), ("-inf", True), ("abc", True), ("-1", False), ("1e400", True)]
    if kind is int:
        return [("abc", True), ("1.5", True), ("nan", True), ("-1", False), ("9" * 30, False)]
    if kind is Path:
        return [("/", True), (str(files["missing"]), False), (str(files["dir"]), False),
                (str(files["text"]), False), (str(files["binary"]), False)]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [(UNKNOWN, True), ("", True)]
    if kind is datetime:
        return [(UNKNOWN, True), ("2026-13-45", True)]
    if kind is bool:
        return []
    return [(UNKNOWN, False), ("", False), ("'; DROP TABLE site;--", False), ("x" * 20_000, False)]


def calls(path, command, files):
    """(argv, must fail) for one command."""
    base = BASE_ARGS.get(path, [])
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    required = [UNKNOWN for p in arguments if p.required]
    yield [*path, *base, "--no-such-option"], True
    if required:
        yield [*path, *base], True
    for param in command.params:
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", str)
        if getattr(param, "is_flag", False) or param.name == "help":
            continue
        for value, must_fail in bad_values(annotation, files):
            if param.param_type_name == "argument":
                others = [UNKNOWN for p in arguments if p.required and p is not param]
                yield [*path, *base, *others, "--", value] if value.startswith("-") else \
                    [*path, *base, *others, value], must_fail
            else:
                yield [*path, *base, *required, f"{param.opts[0]}={value}"], must_fail


def reset(files: dict[str, Path]) -> None:
    """The same wrong files before every call (an output option may have written them)."""
    shutil.rmtree(files["missing"].parent.parent, ignore_errors=True)
    shutil.rmtree(files["dir"], ignore_errors=True)
    files["dir"].mkdir()
    files["text"].write_text("this is not what any command expects\n")
    files["binary"].write_bytes(b"\xff\xfe\x00\x81 not utf-8 \xc3\x28")


@pytest.fixture
def world(tmp_path, monkeypatch):
    """An empty inventory, throw-away home and config directories, files of the wrong kind."""
    db = tmp_path / "netops.db"
    engine = dbmod.make_engine(f"sqlite:///{db}")
    dbmod.upgrade(engine)
    engine.dispose()
    files = {"missing": tmp_path / "missing" / "dir" / "f", "dir": tmp_path / "a-directory",
             "text": tmp_path / "notes.txt", "binary": tmp_path / "blob.bin"}
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in ("NETOPS_DB_URL", "NETOPS_STREETS", "NETOPS_RULES_DIR", "NETOPS_SSH_KNOWN_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "NETOPS_CONFIG_DIR": str(tmp_path / "ws"),
           "NETOPS_SECRETS_FILE": str(tmp_path / "secrets.toml")}
    return db, files, env


def _alarm(_signum, _frame):
    raise Hung()


def invoke(runner, db, argv, env):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CALL)
    try:
        return runner.invoke(app, ["--db", str(db), *argv], env=env)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def problem(result, must_fail: bool) -> str | None:
    """What is wrong with how a misused command ended, or None."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"raised {type(result.exception).__name__}: {str(result.exception)[:200]}"
    if "Traceback" in result.output:
        return "printed a traceback"
    if result.exit_code not in EXIT_CODES:
        return f"exit code {result.exit_code}"
    if must_fail and result.exit_code == 0:
        return "accepted an invalid value"
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    if result.exit_code >= 2 and not (errors and all(e.startswith(("error: ", "... and")) for e in errors)):
        return f"not one 'error:' line per problem: {result.stderr[:300]!r}"
    if any(len(line) > 1_000 for line in errors):
        return "error line longer than 1000 characters (a value echoed in full)"
    return None


def test_every_command_walked_has_calls():
    walked = [" ".join(path) for path, _ in commands(typer.main.get_command(app))]
    assert len(walked) >= 30
    assert {"inventory seed", "audit", "report", "config diff", "db upgrade", "exporter serve"} <= set(walked)


def test_every_command_misused(world, monkeypatch):
    db, files, env = world
    runner = CliRunner()
    root = typer.main.get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: root)  # build the tree once, not per call
    found = []
    count = 0
    for path, command in commands(root):
        for argv, must_fail in calls(path, command, files):
            count += 1
            reset(files)
            try:
                result = invoke(runner, db, argv, env)
            except Hung:
                found.append(f"netops {' '.join(argv)[:160]}: still running after {SECONDS_PER_CALL} s")
                continue
            why = problem(result, must_fail)
            if why:
                found.append(f"netops {' '.join(argv)[:160]}: {why}")
    assert count > 400
    assert not found, f"{len(found)} of {count} misuse calls:\n" + "\n".join(found)


@pytest.mark.parametrize("argv, says", [
    (["report", "--out", "/"], "is a directory"),
    (["inventory", "seed", "--streets", "/"], "is a directory"),
    (["audit", "--critical-weight", "nan"], "--critical-weight"),
    (["audit", "--weight", "hospital=nan"], "KIND=NUMBER"),
    (["audit", "spof", "--geojson", "{text}/f.geojson"], "is a file"),
    (["config", "diff", "x", "--store", "{text}"], "is not a directory"),
    (["inventory", "export", "--open-data", "/"], "root directory"),
    (["exporter", "serve", "--cache-ttl", "inf", "--listen", "256.256.256.256:9"], "not a finite number"),
])
def test_misuse_named_in_the_issue(world, argv, says):
    db, files, env = world
    reset(files)
    argv = [a.replace("{text}", str(files["text"])) for a in argv]
    result = invoke(CliRunner(), db, argv, env)
    assert result.exit_code == 2, result.output
    unboxed = " ".join(result.stderr.translate(str.maketrans("", "", "│╭╮╰╯─")).split())  # click's error box
    assert says in unboxed and "Traceback" not in result.output


def test_output_directories_are_created_like_report_out(world):
    db, files, env = world
    reset(files)
    result = invoke(CliRunner(), db, ["audit", "--json", "--geojson", str(files["missing"])], env)
    assert result.exit_code == 0, result.output
    assert files["missing"].is_file()


@pytest.mark.parametrize("argv, output", [
    (["audit", "--json", "--geojson", "{out}/findings.geojson"], "findings.geojson"),
    (["inventory", "export", "--kind", "site", "--out", "{out}/sites.csv"], "sites.csv"),
    (["inventory", "export", "--open-data", "{out}/open"], "open/freewifi_hotspots.csv"),
    (["report", "--json", "--out", "{out}/r.html", "--alertmanager-config", "{out}/am/am.yml",
      "--alertmanager-base", str(Path(__file__).parents[1] / "deploy/alertmanager/alertmanager.yml")], "am/am.yml"),
])
def test_every_output_option_creates_its_missing_directory(world, argv, output):
    """One rule for every option naming where to write: a missing directory is created (as
    `report --out out/x.html` always did); what cannot become one is exit 2 naming it."""
    db, files, env = world
    reset(files)
    out = files["missing"].parent
    result = invoke(CliRunner(), db, [a.replace("{out}", str(out)) for a in argv], env)
    assert result.exit_code == 0, result.output
    assert (out / output).is_file()
    blocked = [a.replace("{out}", str(files["text"])) for a in argv]  # a file where a directory must be
    result = invoke(CliRunner(), db, blocked, env)
    assert result.exit_code == 2 and str(files["text"]) in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("argv, says", [
    (["--bogus", "inventory", "stats"], "No such option: --bogus"),
    (["--dbb", "x.db", "inventory", "stats"], "--db"),  # click's suggestion of the option meant
])
def test_a_wrong_root_option_is_one_line(argv, says):
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], result.stderr
    assert "╭" not in result.output


def test_a_dry_run_import_creates_no_database(tmp_path):
    csv_file = tmp_path / "snmp_profile.csv"
    csv_file.write_text("name,version\ncity_v2,v2c\n")
    db = tmp_path / "new" / "netops.db"
    result = CliRunner().invoke(app, ["--db", str(db), "inventory", "import", str(csv_file), "--dry-run"])
    assert result.exit_code == 4 and "no database at" in result.stderr, result.output
    assert not db.parent.exists()
    db.parent.mkdir()
    result = CliRunner().invoke(app, ["--db", str(db), "inventory", "import", str(csv_file), "--dry-run"])
    assert result.exit_code == 4 and not db.exists(), result.output
    assert list(db.parent.iterdir()) == []  # not even the writers' lock file
