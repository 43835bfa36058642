"""`netops db`: schema migrations."""

from __future__ import annotations

import typer

from commands.common import app_context, console
from netops import db as dbmod

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Bring the database schema up to date (creates it on an empty database)."""
    engine = app_context(ctx).raw_engine()
    before = dbmod.current_revision(engine)
    dbmod.upgrade(engine, revision)
    console.print(f"schema: {before or 'empty'} → {dbmod.current_revision(engine)}")


@app.command()
def current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and the one this netops needs."""
    engine = app_context(ctx).raw_engine()
    console.print(f"database: {dbmod.current_revision(engine) or 'empty'}  head: {dbmod.head_revision()}")
