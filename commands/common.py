"""What every command group shares: the application context, output, error handling."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable

import typer
from rich.console import Console
from rich.markup import escape  # messages quote user values: "[/x]" is data, not markup
from rich.table import Table
from sqlalchemy.engine import Engine
from typer.core import TyperGroup

from netops import db as dbmod
from netops.errors import ConfigError, InputError, NetopsError
from netops.settings import Settings

console = Console()
err_console = Console(stderr=True)


@dataclass
class AppContext:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """The database engine, with the schema ready: a fresh database is created on first
        use; an older schema must be upgraded explicitly (``netops db upgrade``)."""
        if self._engine is None:
            engine = dbmod.make_engine(self.settings.db_url)
            current = dbmod.current_revision(engine)
            if current is None:
                dbmod.upgrade(engine)
            elif current != dbmod.head_revision():
                raise ConfigError(
                    f"database schema is at {current}, this netops needs {dbmod.head_revision()}: "
                    "run `netops db upgrade`"
                )
            self._engine = engine
        return self._engine

    def raw_engine(self) -> Engine:
        """The engine without any schema check (for `db` commands)."""
        if self._engine is None:
            self._engine = dbmod.make_engine(self.settings.db_url)
        return self._engine


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext(Settings.load())
    return root.obj


class NetopsGroup(TyperGroup):
    """Turns netops errors into a one-line message on stderr and the documented exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems[:50]:
                err_console.print(f"[red]error:[/red] {escape(str(problem))}", highlight=False, soft_wrap=True)
            if len(exc.problems) > 50:
                err_console.print(f"... and {len(exc.problems) - 50} more problems")
            raise typer.Exit(exc.exit_code)
        except NetopsError as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def print_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
