"""Start-up: the CLI imports only what the command it runs needs (issue 16).

`netops --help` once cost about 2 s of CPU because `import cli` pulled in netmiko, Alembic,
the city generator and the topology code. Each check runs in a fresh interpreter, since
the test process itself has imported everything long ago.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

from cli import GROUPS
from cli import app as cli_app

ROOT = Path(__file__).resolve().parents[1]

#: modules a help screen (or an unrelated command) must not load: device access, schema
#: migrations, numerics, the exporter's HTTP server, geodesy, the generator, the graphs
HEAVY = ("netmiko", "paramiko", "alembic", "scipy", "numpy", "aiohttp", "pyproj", "networkx",
         "inventory.seed", "inventory.seed.city", "topology.network", "planning.routing")

PROBE = """
import json, sys
sys.argv = ["netops", *json.loads(sys.argv[1])]
import cli
try:
    cli.app()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(args: list[str], env: dict | None = None) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=120)
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


#: the command groups' modules: each is imported only by its own commands
GROUP_MODULES = {module for module, _help in GROUPS.values()}


#: what Typer draws help with beyond Rich's tables and panels (Markdown with markdown-it and
#: Pygments, tracebacks with attrs): the root's help does without (commands.help_screen)
TYPER_HELP_EXTRAS = ("typer.rich_utils", "rich.markdown", "markdown_it", "pygments", "rich.traceback", "attr")


@pytest.mark.parametrize("args", [[], ["--help"], ["audit", "--help"], ["config", "audit", "--help"],
                                  ["plan", "connect", "--help"], ["exporter", "serve", "--help"]])
def test_help_screens_load_no_domain_code(args):
    loaded = _modules_after(args)
    assert "cli" in loaded and "commands.common" in loaded  # the probe did import the CLI
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    # the root's help lists the groups without importing one; a group's help imports that group
    assert loaded & GROUP_MODULES == ({f"commands.{args[0]}"} if args and args[0] != "--help" else set())
    # not even the database layer: a help screen opens nothing
    assert "sqlalchemy" not in loaded and "netops.db" not in loaded
    assert "pydantic" not in loaded  # parsing values does not need it (commands.common._coerce_plainly)
    if args in ([], ["--help"]):
        assert "commands.help_screen" in loaded  # the root's help screen drew itself
        assert not loaded & set(TYPER_HELP_EXTRAS), sorted(loaded & set(TYPER_HELP_EXTRAS))


@pytest.mark.parametrize("columns", [40, 80, 120, 200])
@pytest.mark.parametrize("colour", [False, True], ids=["plain", "colour"])
def test_the_roots_help_screen_is_typers(monkeypatch, columns, colour):
    """`netops --help` drawn by commands.help_screen is, character for character and
    colour for colour, the screen Typer draws (typer.rich_utils, the reference)."""
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.delenv("NO_COLOR", raising=False)
    if colour:
        monkeypatch.setenv("FORCE_COLOR", "1")
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    ours, typers = _both_screens(typer.main.get_command(cli_app))
    text = re.sub(r"\033\[[0-9;]*m", "", ours)
    assert "Usage: " in text and "--db" in text and "env var" in text and "exporter" in text
    assert (text != ours) is colour
    assert ours == typers


def test_a_help_screen_it_cannot_draw_is_left_to_typer(monkeypatch):
    """A root with what commands.help_screen does not draw (an argument, a required option, a
    default to show, a range, a deprecated command) gets Typer's screen, the same one; the
    drawable parts it does draw (short and --x/--no-x options, help paragraphs) match."""
    from commands import help_screen
    from commands.common import NetopsGroup

    monkeypatch.setenv("COLUMNS", "100")

    def root(**params):
        class Root(NetopsGroup):
            groups = {"first": ("commands.db", "The first group.\n\nMore about it, dimmed.")}

        app = typer.Typer(cls=Root, help="A root.\n\nIts second paragraph,\nin two lines.")

        def main(**kwargs):
            pass
        main.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value, annotation=annotation)
             for name, (annotation, value) in params.items()])
        app.callback()(main)
        return typer.main.get_command(app)

    drawable = root(verbose=(bool, typer.Option(False, "--verbose", "-v", help="Say more.")),
                    colour=(bool, typer.Option(None, "--colour/--no-colour", show_default=False, help="Colour.")),
                    name=(str, typer.Option(None, "--name", envvar=["A", "B"], show_envvar=True, help="A name.")))
    undrawable = [
        root(code=(str, typer.Argument(..., help="A code."))),
        root(name=(str, typer.Option(..., "--name", help="Required."))),
        root(limit=(int, typer.Option(5, "--limit", help="A default."))),
        root(limit=(int, typer.Option(None, "--limit", min=1, help="A range."))),
        root(colour=(bool, typer.Option(True, "--colour/--no-colour", help="A default."))),
    ]
    ctx = typer.Context(drawable)
    drawable.format_help(ctx, None)  # lists the groups
    assert help_screen.can_draw(drawable, ctx)
    ours, typers = _both_screens(drawable)
    assert "--no-colour" in ours and "-v" in ours and "[env var: A, B]" in ours and "dimmed" not in ours
    assert ours == typers
    for command in undrawable:
        assert not help_screen.can_draw(command, typer.Context(command)), command.params
        ours, typers = _both_screens(command)
        assert ours == typers


def _both_screens(command) -> tuple[str, str]:
    """A root's help screen as it prints, and as Typer draws it."""
    from commands import help_screen

    def screen() -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            command.format_help(typer.Context(command, info_name="netops"), None)
        return out.getvalue()

    ours = screen()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(help_screen, "can_draw", lambda group, ctx: False)
        return ours, screen()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_reading_the_inventory_needs_neither_alembic_nor_the_generator(request, tmp_path, backend):
    """`inventory stats` opens the database, checks its schema revision and tables and counts
    through the driver alone: no Alembic, not even SQLAlchemy or the models."""
    import os

    from netops import db as dbmod
    from tests.conftest import _fresh_postgres_url

    url = (f"sqlite:///{tmp_path / 'netops.db'}" if backend == "sqlite"
           else _fresh_postgres_url(request.getfixturevalue("pg_server")))
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    engine.dispose()
    env = {**os.environ, "NETOPS_DB_URL": url}
    loaded = _modules_after(["inventory", "stats", "--json"], env)
    assert "inventory.stats" in loaded  # the command did run
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert loaded & GROUP_MODULES == {"commands.inventory"}
    not_needed = {"sqlalchemy", "netops.db", "sqlmodel", "inventory.models", "inventory.entities", "pydantic"}
    assert not loaded & not_needed, sorted(loaded & not_needed)


def test_recorded_head_schema_is_the_models():
    """Opening a database checks its tables against head_schema.json instead of importing the
    models; after a model change and its migration, `python -c "from netops import db;
    db.write_head_schema()"` records the new head."""
    import json

    from netops import db as dbmod

    recorded = json.loads(dbmod.HEAD_SCHEMA.read_text())
    assert recorded["revision"] == dbmod.head_revision(), "head_schema.json describes an older revision"
    assert recorded["tables"] == dbmod.model_tables(), "head_schema.json differs from the models"


def test_revisions_read_from_the_scripts_are_alembics():
    """The Alembic-free reading of the migration scripts agrees with Alembic itself."""
    from netops import db as dbmod

    assert dbmod.known_revisions() == dbmod._alembic_revisions()
    assert dbmod.head_revision() == dbmod._script().get_current_head()


def test_plain_values_agree_with_typers_own_validators():
    """Every flag, text and choice of the CLI is coerced without pydantic (commands.common.
    PlainValue, for start-up speed), to what Typer's own validator returns, and refuses what
    it refuses."""
    import typer
    import typer.main
    from typer._coercion import build_runtime_param  # the reference, as the exporter's BER is fuzzed against pysnmp

    from cli import app
    from commands.common import PlainValue
    from tests.test_cli_conventions import subcommands

    def walk(command):
        yield from command.params
        for _name, sub in subcommands(command):
            yield from walk(sub)

    plain = [p for p in walk(typer.main.get_command(app)) if isinstance(getattr(p, "_runtime_param", None), PlainValue)]
    assert {"db_url", "fmt", "as_json"} <= {p.name for p in plain}
    checked = 0
    for param in plain:
        ours, typers = param._runtime_param, build_runtime_param(param.type_descriptor)
        words = [w for c in ours.choices or () for w in (c.value, c.value.upper(), c)] + ["x", "", "Ünïcode ✓"]
        for value in [None, *(words if ours.kind is not bool else [True, False])]:
            try:
                expected = typers.coerce(value, param=param, ctx=typer.Context(typer.main.get_command(app)))
            except typer.BadParameter:
                with pytest.raises(typer.BadParameter):
                    ours.coerce(value, param, None)
                continue
            assert ours.coerce(value, param, None) == expected and type(ours.coerce(value, param, None)) is \
                type(expected), (param.name, value)
            checked += 1
    assert checked > 100
