"""What every command group shares: the application context, output, error handling."""

from __future__ import annotations

import json
import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from typer._click.exceptions import ClickException  # typer vendors click
from typer.core import TyperGroup

from netops import db as dbmod
from netops.errors import InputError, NetopsError
from netops.settings import Settings

console = Console()
err_console = Console(stderr=True)
#: an error line longer than this is cut (an echoed 10 MB value helps nobody)
MAX_ERROR_CHARS = 500


@dataclass
class AppContext:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """The engine on an existing database whose schema is at head and complete. Reading
        never creates a database: a missing one is an error naming where it was looked for."""
        if self._engine is None:
            dbmod.prepare_location(self.settings.db_url, create=False)
            engine = self._make_engine()
            dbmod.require_head(engine)
            self._engine = engine
        return self._engine

    @contextmanager
    def writing(self, purpose: str, create: bool = True) -> Iterator[Engine]:
        """The engine for a command that changes inventory others also change (seed, import,
        plan apply): holds the writer lock for the whole block, so two such commands on one
        database run one after the other instead of racing; ``create`` makes the database and
        its schema when new (the loaders), otherwise it must exist."""
        dbmod.prepare_location(self.settings.db_url, create=create)
        engine = self._make_engine()
        with dbmod.write_lock(engine, purpose, self.settings.db_lock_timeout):
            if create:
                dbmod.ensure_schema(engine)
            else:
                dbmod.require_head(engine)
            self._engine = engine
            yield engine

    def check_writable(self) -> None:
        """Fail before long work (generating a city) where `writing` would fail: an existing
        database's location and schema are checked now; nothing is created yet."""
        path = dbmod.sqlite_file(self.settings.db_url)
        if path is not None and not path.exists():
            return  # a new file: `writing` creates it
        dbmod.prepare_location(self.settings.db_url, create=True)
        engine = self._make_engine()
        try:
            if dbmod.check_revision(engine, empty_ok=True) is not None:
                dbmod.require_head(engine)
        finally:
            engine.dispose()

    def raw_engine(self, create: bool = False) -> Engine:
        """The engine without any schema check (for `db` commands)."""
        if self._engine is None:
            dbmod.prepare_location(self.settings.db_url, create=create)
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> Engine:
        return dbmod.make_engine(self.settings.db_url, self.settings.db_lock_timeout)


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext(Settings.load())
    return root.obj


def one_line(message: object) -> str:
    """A message as one line of readable length."""
    text = " ".join(str(message).split())
    if len(text) > MAX_ERROR_CHARS:
        text = f"{text[:MAX_ERROR_CHARS]}… ({len(text) - MAX_ERROR_CHARS} more characters)"
    return text


def _error(message: object) -> None:
    # escaped: a value such as "[/red]" in a bad row must print, not break the markup
    err_console.print(f"[red]error:[/red] {escape(one_line(message))}", highlight=False, soft_wrap=True)


class NetopsGroup(TyperGroup):
    """Turns every failure a user can cause into one line on stderr and the documented exit
    code: netops errors as they say, database errors with advice (exit 4), unreadable or
    unwritable paths the user gave (exit 2)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _require_finite_floats(self)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems[:50]:
                _error(problem)
            if len(exc.problems) > 50:
                err_console.print(f"... and {len(exc.problems) - 50} more problems")
            raise typer.Exit(exc.exit_code)
        except NetopsError as exc:
            _error(exc)
            raise typer.Exit(exc.exit_code)
        except ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `netops audit cut` alone prints help
                raise
            # a sub-command's bad option as one line, like every other error (not a panel)
            where = getattr(getattr(exc, "ctx", None), "command_path", None) or ctx.command_path
            _error(f"{where}: {exc.format_message()} (see {where} --help)")
            raise typer.Exit(exc.exit_code)
        except DBAPIError as exc:
            settings = ctx.obj.settings if isinstance(ctx.obj, AppContext) else Settings.load()
            error = dbmod.explain(exc, settings.db_url, settings.db_lock_timeout)
            _error(error)
            raise typer.Exit(error.exit_code)
        except UnicodeError as exc:
            _error(f"not UTF-8 text: {exc.reason} at byte {getattr(exc, 'start', '?')}")
            raise typer.Exit(NetopsError.exit_code)
        except OSError as exc:
            # a path the user named that cannot be read or written (a directory given as a
            # file, a missing directory, no permission): name it and why
            where = f"{exc.filename}: " if exc.filename is not None else ""
            _error(f"{where}{exc.strerror or exc}")
            raise typer.Exit(NetopsError.exit_code)


def _require_finite_floats(command) -> None:
    """Every float option and argument of the CLI refuses nan and ±inf: a NaN weight or an
    infinite timeout is a typo, never a setting (Python's float() accepts both)."""
    for param in command.params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and descriptor.annotation is float and not getattr(param, "_finite", False):
            param.callback = _finite(param.callback)
            param._finite = True
    for sub in getattr(command, "commands", {}).values():
        _require_finite_floats(sub)


def _finite(callback):
    def check(ctx, param, value):
        for number in value if isinstance(value, (list, tuple)) else [value]:
            if number is not None and not math.isfinite(number):
                raise typer.BadParameter(f"{number} is not a finite number")
        return callback(ctx, param, value) if callback is not None else value
    return check


def output_file(value: Path | None) -> Path | None:
    """Callback of an option naming a file to write: checked before any work is done. The
    file's directory is created when missing (like `report --out out/x.html`), so what is
    refused is a directory as the file, a file in the way of the directory, no permission."""
    if value is None:
        return None
    if value.is_dir():
        raise typer.BadParameter(f"{value} is a directory; give a file name")
    _creatable_dir(value.parent)
    if value.exists() and not os.access(value, os.W_OK):
        raise typer.BadParameter(f"{value}: no permission to write it")
    return value


def output_dir(value: Path | None) -> Path | None:
    """Callback of an option naming a directory to write files into (created when missing)."""
    if value is None:
        return None
    if value.exists() and not value.is_dir():
        raise typer.BadParameter(f"{value} is not a directory")
    if value.resolve() == Path(value.anchor or "/"):
        raise typer.BadParameter(f"{value} is the root directory; give a directory of its own")
    _creatable_dir(value)
    return value


def _creatable_dir(directory: Path) -> None:
    here = directory.resolve()
    while not here.exists():
        here = here.parent
    if not here.is_dir():
        raise typer.BadParameter(f"{here} is a file, so {directory} cannot be a directory")
    if not os.access(here, os.W_OK | os.X_OK):
        raise typer.BadParameter(f"no permission to write in {here}")


def write_text(path: Path, text: str) -> None:
    """Write an output file, creating its directory (see :func:`output_file`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def print_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
