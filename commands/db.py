"""`netops db`: schema migrations."""

from __future__ import annotations

import typer

from commands.common import app_context, console
from netops.errors import NetopsError

app = typer.Typer(no_args_is_help=True)  # its help is in cli.GROUPS


def _known(revision: str) -> str:
    from netops import db as dbmod

    known = dbmod.known_revisions()
    if revision != "head" and revision not in known:
        raise NetopsError(f"unknown schema revision {revision!r}: this netops knows head, {', '.join(reversed(known))}")
    return revision


@app.command()
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head", callback=_known, help="Schema revision (head: the newest this netops knows).")) -> None:
    """Bring the database schema up to date (creates the database and schema when new)."""
    from netops import db as dbmod

    context = app_context(ctx)
    engine = context.raw_engine(create=True)
    with dbmod.write_lock(engine, "netops db upgrade", context.settings.db_lock_timeout):
        before = dbmod.check_revision(engine, empty_ok=True)
        dbmod.upgrade(engine, revision)
        if revision == "head":
            dbmod.check_tables(engine)
    console.print(f"schema: {before or 'empty'} → {dbmod.current_revision(engine)}")


@app.command()
def stamp(ctx: typer.Context, revision: str = typer.Argument("head", callback=_known, help="Schema revision (head: the newest this netops knows).")) -> None:
    """Record REVISION as the schema's without migrating (a database whose alembic_version
    was lost); for head, the tables are checked against this netops' models first."""
    from netops import db as dbmod

    context = app_context(ctx)
    engine = context.raw_engine()
    with dbmod.write_lock(engine, "netops db stamp", context.settings.db_lock_timeout):
        if revision == "head":
            dbmod.check_tables(engine)
        dbmod.stamp(engine, revision)
    console.print(f"schema recorded as {dbmod.current_revision(engine)}")


@app.command()
def current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and the one this netops needs."""
    from netops import db as dbmod

    engine = app_context(ctx).raw_engine()
    console.print(f"database: {dbmod.current_revision(engine) or 'empty'}  head: {dbmod.head_revision()}")
