"""The conventions every `netops` command keeps (issue 16): read from the command tree and
the help screens themselves, so a new command that breaks one fails here.

- every option and argument says what it is for; flags show no value type (``<bool>``)
- the same thing has the same name everywhere: ``--json`` (one help text), ``--format``,
  ``--kind`` is an element kind, ``--site-kind`` a site kind, ``--name`` a site's name and
  ``--plan-name`` a plan's, ``--fail-on`` takes the one severity scale
- every listing offers ``--format table|json|csv`` and ``--json``
- a wrong word is one line on stderr, exit 2, with "did you mean"
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import typer.main
from typer.testing import CliRunner

from cli import app
from commands.common import JSON_HELP

#: listings: rows of one shape, for people (table) and for scripts (json, csv)
LISTINGS = {"inventory list", "plan list", "audit rank", "audit diversity", "audit", "audit all",
            "audit reachability", "audit spof", "audit shared-risk", "audit capacity", "audit consistency",
            "audit cut", "config audit", "config backup", "lldp verify", "inventory stats", "inventory show",
            "inventory seed", "inventory import", "plan connect", "plan batch", "plan show", "plan diff"}
#: commands with --json that print no listing, and why; every other one must offer --format
NOT_LISTINGS = {
    "config diff": "prints a unified diff",
    "config remediate": "prints the config lines to paste, per device",
    "report": "prints where the report was written (--json adds its KPIs)",
}
#: names that said the same thing differently before: never again
RETIRED = {"--site-name", "--entity-kind"}


def _tree():
    def walk(command, path):
        yield path, command
        for name, sub in subcommands(command):
            yield from walk(sub, [*path, name])
    return list(walk(typer.main.get_command(app), []))


def subcommands(command) -> list[tuple[str, object]]:
    """(name, command) below a group, the lazily loaded groups of the root included."""
    if not hasattr(command, "list_commands"):
        return []
    ctx = typer.Context(command)
    return [(name, command.get_command(ctx, name)) for name in command.list_commands(ctx)]


COMMANDS = _tree()


def _options(command) -> dict[str, object]:
    return {opt: p for p in command.params for opt in p.opts if opt.startswith("--")}


def test_the_tree_is_complete():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"inventory list", "audit rank", "plan diff", "config audit", "lldp verify", "exporter serve"} <= names
    assert LISTINGS <= names


def test_every_option_and_argument_has_help():
    missing = [f"netops {' '.join(path)} {p.name}" for path, command in COMMANDS for p in command.params
               if not (getattr(p, "help", None) or "").strip()]
    assert not missing


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "netops")
def test_help_screens_show_no_bool_type(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout
    assert "--help" in result.stdout


def test_same_names_for_the_same_things():
    for path, command in COMMANDS:
        where = f"netops {' '.join(path)}"
        options = _options(command)
        assert not RETIRED & set(options), where
        if "--json" in options:
            assert options["--json"].help == JSON_HELP, where
        if "--kind" in options:  # an element kind wherever it appears
            assert "element kind" in options["--kind"].help.lower() \
                or "elements of this kind" in options["--kind"].help.lower(), where
        if "--site-kind" in options:
            assert "kind" in options["--site-kind"].help, where
        if "--fail-on" in options:
            fail_on = options["--fail-on"]
            assert {"critical", "warning"} <= set(re.findall(r"[a-z]+", f"{fail_on.metavar} {fail_on.help}")), where
        if "--name" in options and path[0] == "plan":
            assert "site" in options["--name"].help.lower(), where  # a plan's own name is --plan-name


def test_every_command_with_json_offers_format():
    missing = [" ".join(path) for path, command in COMMANDS if "--json" in _options(command)
               and "--format" not in _options(command) and " ".join(path) not in NOT_LISTINGS]
    assert not missing, f"add --format (format_option()) or a reason to NOT_LISTINGS: {missing}"


@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_listings_offer_every_format(listing):
    command = dict((" ".join(p), c) for p, c in COMMANDS)[listing]
    options = _options(command)
    assert {"--format", "--json"} <= set(options), listing
    assert {"table", "json", "csv"} <= set(options["--format"].type_descriptor.choices or ()) or \
        "csv" in options["--format"].help


@pytest.mark.parametrize("args, meant", [
    (["config", "backup", "--site-kind", "shcool"], "did you mean school?"),
    (["lldp", "verify", "--role", "acces_switch"], "did you mean access_switch?"),
    (["audit", "rank", "--kind", "segmnt"], "did you mean segment?"),
    (["audit", "--fail-on", "warnin"], "did you mean warning?"),
    (["config", "audit", "--fail-on", "critcal"], "did you mean critical?"),
    (["plan", "connect", "--lat", "51.5", "--lon", "7.1", "--site-kind", "kita"], "unknown site kind 'kita'"),
    (["inventory", "lst"], "Did you mean 'list'?"),
])
def test_a_wrong_word_is_one_line_with_a_suggestion(args, meant, tmp_path):
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "none.db"), *args])
    assert result.exit_code == 2, result.output
    assert meant in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "pydantic" not in result.stderr and "http" not in result.stderr


@pytest.fixture(scope="module")
def mini_city_db(tmp_path_factory) -> str:
    from netops import db as dbmod
    from tests.support.mini_city import build_mini_city

    url = f"sqlite:///{tmp_path_factory.mktemp('conventions') / 'netops.db'}"
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        build_mini_city(session)
    engine.dispose()
    return url


def test_unknown_names_get_a_suggestion(mini_city_db):
    site = json.loads(CliRunner().invoke(app, ["--db", mini_city_db, "inventory", "list", "--kind", "site",
                                               "--json"]).stdout)[0]["code"]
    result = CliRunner().invoke(app, ["--db", mini_city_db, "inventory", "show", site[:-1] + "x" + site[-1]])
    assert result.exit_code == 2 and f"did you mean {site}" in result.stderr
    result = CliRunner().invoke(app, ["--db", mini_city_db, "inventory", "list", "--kind", "sites"])
    assert result.exit_code == 2 and "did you mean site" in result.stderr


def test_listing_formats_carry_the_same_columns(mini_city_db):
    """table, json and csv of one listing: the same rows, csv and json the same columns."""
    run = lambda *a: CliRunner().invoke(app, ["--db", mini_city_db, "inventory", "list", "--kind", "site", *a])
    as_json = json.loads(run("--format", "json").stdout)
    assert as_json == json.loads(run("--json").stdout)
    rows = list(csv.DictReader(io.StringIO(run("--format", "csv").stdout)))
    assert [r["code"] for r in rows] == [r["code"] for r in as_json]
    table = run().stdout
    assert all(r["code"] in table for r in as_json)
    old_style = CliRunner().invoke(app, ["--db", mini_city_db, "inventory", "list", "site", "--json"])
    assert json.loads(old_style.stdout) == as_json  # the positional kind still works


@pytest.mark.parametrize("args", [["inventory", "stats"], ["inventory", "show", "POP-N"]])
def test_one_object_as_csv_is_field_value_rows(mini_city_db, args):
    """A command whose JSON is one object (not a list) gives CSV rows of its dotted fields."""
    run = lambda *a: CliRunner().invoke(app, ["--db", mini_city_db, *args, *a])
    assert_csv_is_the_json_fields(run("--format", "csv").stdout, json.loads(run("--format", "json").stdout))


def assert_csv_is_the_json_fields(csv_text: str, as_json: dict) -> None:
    """CSV of one object: a field,value header, then one row per leaf of the JSON, named by its
    dotted path and holding its value; every leaf is there."""
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["field", "value"] and len(rows) > 5
    fields = dict(rows[1:])
    assert len(fields) == len(rows) - 1  # no field twice
    for field, value in fields.items():
        found = as_json
        for key in field.split("."):
            found = found[int(key)] if isinstance(found, list) else found[key]
        assert value == ("" if found is None else str(found)), field
    assert len(fields) == _leaves(as_json)


def _leaves(value) -> int:
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 1


def test_no_progress_output_when_stderr_is_not_a_terminal(mini_city_db):
    """Spinners and bars are for people at a terminal: a log or a pipe gets the results alone."""
    for args in (["audit", "--json"], ["audit", "rank", "--format", "csv"]):
        result = CliRunner().invoke(app, ["--db", mini_city_db, *args])
        assert result.exit_code in (0, 1), result.output
        assert result.stderr == "", (args, result.stderr)
        assert result.stdout.strip()


def test_shell_completion_script_and_answers():
    """README: `netops --show-completion`, run from bash, prints bash's script, and the
    protocol it uses (`_NETOPS_COMPLETE=complete_bash`) completes a command name and an option."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    netops = str(Path(sys.executable).with_name("netops"))
    # Typer finds the shell from the parent process, so bash runs it as a user's shell would
    # (the second command keeps bash from exec-ing netops in its own place)
    script = subprocess.run(["bash", "-c", f"'{netops}' --show-completion; exit $?"], capture_output=True,
                            text=True, timeout=60)
    assert script.returncode == 0 and "complete -o default -F _netops_completion netops" in script.stdout

    def complete(words: str) -> list[str]:
        env = {**os.environ, "_NETOPS_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}
        return subprocess.run([netops], env=env, capture_output=True, text=True, timeout=60).stdout.split()
    assert complete("netops inv") == ["inventory"]
    assert "--format" in complete("netops inventory stats --f")
