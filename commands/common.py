"""What every command group shares: the application context, output, error handling."""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import os
import re
import sys
import textwrap
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from difflib import get_close_matches
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup
from typer.main import get_group

from netops.errors import InputError, NetopsError
from netops.settings import Settings

if TYPE_CHECKING:  # the database code is imported by the commands that open one, Progress by bars
    from rich.progress import Progress
    from sqlalchemy.engine import Engine

console = Console()
err_console = Console(stderr=True)
#: an error line longer than this is cut (an echoed 10 MB value helps nobody)
MAX_ERROR_CHARS = 500
#: the exit code after Ctrl-C, as shells report a command that SIGINT ended (128 + 2)
INTERRUPTED = 130


@dataclass
class AppContext:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """The engine on an existing database whose schema is at head and complete. Reading
        never creates a database: a missing one is an error naming where it was looked for."""
        if self._engine is None:
            from netops import db as dbmod

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
        from netops import db as dbmod

        dbmod.prepare_location(self.settings.db_url, create=create)
        engine = self._make_engine()
        with dbmod.write_lock(engine, purpose, self.settings.db_lock_timeout):
            if create:
                dbmod.ensure_schema(engine)
            else:
                dbmod.require_head(engine)
            self._engine = engine
            yield engine

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A DBAPI connection (sqlite3, psycopg) for a command that only reads with plain SQL
        (`inventory stats`): opened without SQLAlchemy when the database is plainly at head
        (:func:`netops.dbapi.connect_checked`), otherwise the way :attr:`engine` opens it,
        which says what is wrong."""
        from netops.dbapi import connect_checked

        conn = connect_checked(self.settings.db_url, self.settings.db_lock_timeout)
        if conn is None:
            conn = self.engine.raw_connection()
        try:
            yield conn
        finally:
            conn.close()

    def check_writable(self) -> None:
        """Fail before long work (generating a city) where `writing` would fail: an existing
        database's location and schema are checked now; nothing is created yet."""
        from netops import db as dbmod

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
            from netops import db as dbmod

            dbmod.prepare_location(self.settings.db_url, create=create)
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> Engine:
        from netops import db as dbmod

        return dbmod.make_engine(self.settings.db_url, self.settings.db_lock_timeout)


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext(Settings.load())
    return root.obj


def open_session(ctx: typer.Context):
    """A session on the inventory database (checked: exists, schema at head)."""
    from netops.db import session_scope

    return session_scope(app_context(ctx).engine)


def one_line(message: object) -> str:
    """A message as one line of readable length."""
    text = " ".join(str(message).split())
    if len(text) > MAX_ERROR_CHARS:
        text = f"{text[:MAX_ERROR_CHARS]}… ({len(text) - MAX_ERROR_CHARS} more characters)"
    return text


def _error(message: object) -> None:
    # escaped: a value such as "[/red]" in a bad row must print, not break the markup
    err_console.print(f"[red]error:[/red] {escape(one_line(message))}", highlight=False, soft_wrap=True)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second broken pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a file descriptor (tests capture output in memory)


#: module -> its base class of database errors: SQLAlchemy's wrapping, and the drivers' own
#: (raised where netops reads through the driver alone, see :meth:`AppContext.reading`)
DRIVER_ERRORS = {"sqlalchemy.exc": "DBAPIError", "sqlite3": "Error", "psycopg": "Error"}


def _is_driver_error(exc: BaseException) -> bool:
    """A database driver error, told without importing a driver: an exception can only be
    one if its module was loaded to raise it."""
    return any(module in sys.modules and isinstance(exc, getattr(sys.modules[module], name))
               for module, name in DRIVER_ERRORS.items())


def _is_usage_error(exc: BaseException) -> bool:
    """A usage error from Typer's parser (a bad option or value, a missing argument, an
    unknown command), told by the interface every click exception has, since Typer keeps
    its click private (``typer._click``). The help screen of ``no_args_is_help`` travels as
    one too: it is no error (Typer tells it by name as well)."""
    return (callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int)
            and type(exc).__name__ != "NoArgsIsHelpError")


class NetopsGroup(TyperGroup):
    """Turns every failure a user can cause into one line on stderr and the documented exit
    code: usage errors with the command to ask for help (exit 2), netops errors as they say,
    database errors with advice (exit 4), unreadable or unwritable paths the user gave (exit 2).

    Its ``groups`` (name -> module with a Typer ``app``, help) are loaded when first used
    (click's lazy sub-commands): the help screen lists them from that table alone, and a
    command imports and builds its own group only, not every group's options."""

    groups: dict[str, tuple[str, str]] = {}
    _listing = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _require_finite_floats(self)
        _prepare_params(self)

    def list_commands(self, ctx):
        return [*self.groups, *(name for name in super().list_commands(ctx) if name not in self.groups)]

    def get_command(self, ctx, name):
        if name in self.groups and name not in self.commands:
            module, help_text = self.groups[name]
            if self._listing:  # this group's help screen: a name and a line, nothing imported
                return TyperGroup(name=name, help=help_text)
            group = get_group(importlib.import_module(module).app)
            group.help = help_text
            _require_finite_floats(group)
            _prepare_params(group)
            self.add_command(group, name)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:
            # Typer suggests from the groups loaded so far; these are not loaded yet
            close = get_close_matches(args[0], list(self.groups)) if args and _is_usage_error(exc) else []
            if close and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, close))}?"
            raise

    def format_help(self, ctx, formatter):
        from commands import help_screen

        self._listing = True
        try:
            if help_screen.can_draw(self, ctx):  # the same screen without typer.rich_utils' imports
                return help_screen.print_help(self, ctx)
            return super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def get_params(self, ctx):
        params = super().get_params(ctx)
        # with --install-completion and --show-completion, added after __init__
        _hide_flag_type(params)
        _coerce_plainly(params)
        return params

    def make_context(self, info_name, args, parent=None, **extra):
        # the root's own options are parsed here, before invoke (`netops --bogus stats`)
        with _one_line_errors(None):
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        with _one_line_errors(ctx):
            return super().invoke(ctx)


@contextmanager
def _one_line_errors(ctx: typer.Context | None) -> Iterator[None]:
    try:
        yield
    except InputError as exc:
        for problem in exc.problems[:50]:
            _error(problem)
        if len(exc.problems) > 50:
            err_console.print(f"... and {len(exc.problems) - 50} more problems")
        if exc.hint:
            err_console.print(escape(exc.hint), highlight=False)
        raise typer.Exit(exc.exit_code)
    except NetopsError as exc:
        _error(exc)
        raise typer.Exit(exc.exit_code)
    except UnicodeError as exc:
        _error(f"not UTF-8 text: {exc.reason} at byte {getattr(exc, 'start', '?')}")
        raise typer.Exit(NetopsError.exit_code)
    except BrokenPipeError:
        _quiet_stdout()  # the reader went away (`| head`): stop quietly, as Unix tools do
        raise typer.Exit(1)
    except KeyboardInterrupt:  # Ctrl-C: what was not committed yet is rolled back, nothing is half-written
        _error("interrupted")
        raise typer.Exit(INTERRUPTED) from None
    except OSError as exc:
        # a path the user named that cannot be read or written (a directory given as a
        # file, a missing directory, no permission): name it and why
        where = f"{exc.filename}: " if exc.filename is not None else ""
        _error(f"{where}{exc.strerror or exc}")
        raise typer.Exit(NetopsError.exit_code)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `netops`, `netops inventory`: the help, exit 2
            if exc.format_message():  # the help as text, when Typer draws it without Rich
                exc.show()
            raise typer.Exit(exc.exit_code)
        if _is_usage_error(exc):  # a bad option or argument: one line naming where help is, not a panel
            command = getattr(getattr(exc, "ctx", None), "command_path", None) or getattr(ctx, "command_path", "netops")
            _error(f"{exc.format_message()} (`{command} --help` lists the options)")
            raise typer.Exit(exc.exit_code)
        if not _is_driver_error(exc):
            raise
        from netops import db as dbmod

        settings = ctx.obj.settings if ctx is not None and isinstance(ctx.obj, AppContext) else Settings.load()
        error = dbmod.explain(exc, settings.db_url, settings.db_lock_timeout)
        _error(error)
        raise typer.Exit(error.exit_code)


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


def _prepare_params(command) -> None:
    """Every option and argument of a command and those below it, ``--help`` included (which
    each command makes once and keeps; asked for here with the default ``--help`` name, the
    only one netops uses): flags show no type, values are coerced plainly where they can be."""
    help_option = command.get_help_option(typer.Context(command))
    params = [*command.params, *([help_option] if help_option is not None else [])]
    _hide_flag_type(params)
    _coerce_plainly(params)
    for sub in getattr(command, "commands", {}).values():
        _prepare_params(sub)


def _hide_flag_type(params) -> None:
    """Help screens show no type for a flag: ``--json`` takes no value, and the ``<bool>``
    Typer prints by default says it does. An option's ``metavar`` is what help shows as its
    value (Typer's documented "custom help name"), so every flag gets an empty one."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


def _coerce_plainly(params) -> None:
    """Flags, text and choices coerced without pydantic. Typer builds a pydantic validator
    for every value it parses (kept in the parameter's ``_runtime_param``, made on first
    use), flags left unset included; importing pydantic for that costs about 0.1 s of CPU, a
    third of a quick command such as `inventory stats` (BENCHMARKS.md). A flag or text needs
    no validator and a choice one lookup, so those get :class:`PlainValue`; numbers, paths,
    dates and files keep Typer's. ``_runtime_param`` is private and Typer has no public way to
    give a parameter its own coercion, so pyproject.toml pins Typer's minor version; should
    Typer keep its validators elsewhere one day, this changes nothing but the speed
    (tests/test_cli_startup.py says)."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if (descriptor is None or getattr(param, "_runtime_param", "gone") is not None or param.nargs != 1
                or param.multiple or descriptor.parameter_info.parser is not None or descriptor.is_file
                or descriptor.is_path):
            continue
        annotation = descriptor.annotation
        if annotation is bool and getattr(param, "is_flag", False):
            param._runtime_param = PlainValue(bool, None, True)
        elif annotation is str:
            param._runtime_param = PlainValue(str, None, True)
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            param._runtime_param = PlainValue(annotation, tuple(annotation), descriptor.case_sensitive)


@dataclass(frozen=True)
class PlainValue:
    """A value as Typer's validator returns it: a flag's bool, text as it is, the member of an
    Enum ``choices`` named by its value (case folded unless ``case_sensitive``)."""

    kind: type
    choices: tuple[Enum, ...] | None
    case_sensitive: bool

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None or isinstance(value, self.kind):
            return value
        if self.kind is str:
            return str(value)
        if self.kind is bool:
            raise typer.BadParameter(f"{value!r} is a value; the flag takes none", ctx=ctx, param=param)
        fold = (lambda text: text) if self.case_sensitive else str.casefold
        for choice in self.choices or ():
            if fold(str(choice.value)) == fold(str(value)):
                return choice
        names = ", ".join(repr(str(choice.value)) for choice in self.choices or ())
        raise typer.BadParameter(f"{value!r} is not one of {names}.", ctx=ctx, param=param)


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
    if _resolved(value) == Path(value.anchor or "/"):
        raise typer.BadParameter(f"{value} is the root directory; give a directory of its own")
    _creatable_dir(value)
    return value


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop
        raise typer.BadParameter(f"{path}: a loop of symbolic links") from None


def _creatable_dir(directory: Path) -> None:
    here = _resolved(directory)
    while not here.exists():
        here = here.parent
    if not here.is_dir():
        raise typer.BadParameter(f"{here} is a file, so {directory} cannot be a directory")
    if not os.access(here, os.W_OK | os.X_OK):
        if os.statvfs(here).f_flag & os.ST_RDONLY:
            raise typer.BadParameter(f"{here} is on a read-only file system")
        raise typer.BadParameter(f"no permission to write in {here}")


def write_text(path: Path, text: str) -> None:
    """Write an output file whole or not at all (see :func:`netops.textfile.atomic_text`)."""
    from netops.textfile import write_text as write_whole

    write_whole(path, text)


def print_json(obj: Any) -> None:
    text = json.dumps(obj, indent=2, default=str, ensure_ascii=False)
    # a byte that is not UTF-8 (kept from a device as a surrogate) as the text \xNN: valid UTF-8 JSON
    text = re.sub("[\udc80-\udcff]", lambda m: f"\\\\x{ord(m.group()) - 0xDC00:02x}", text)
    sys.stdout.write(text + "\n")


# -- output for people and for pipes -------------------------------------------------------------

class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


JSON_HELP = "Print JSON on stdout (for scripts)."
FORMAT_HELP = "table for people; json or csv (the same columns) for scripts and spreadsheets."


def json_option() -> Any:
    return typer.Option(False, "--json", help=JSON_HELP)


def format_option() -> Any:
    return typer.Option(OutputFormat.TABLE, "--format", help=FORMAT_HELP, case_sensitive=False)


def chosen_format(fmt: OutputFormat, as_json: bool) -> OutputFormat:
    """``--json`` is kept as the short way to say ``--format json``."""
    return OutputFormat.JSON if as_json else OutputFormat(fmt)


def print_listing(fmt: OutputFormat, title: str, columns: list[str], rows: list[list[Any]],
                  prose: Iterable[str] = ()) -> None:
    """One listing in the chosen format, with the same columns in each: a table (see
    :func:`print_table`), a JSON array of objects, or CSV with a header row."""
    if fmt is OutputFormat.JSON:
        print_json([dict(zip(columns, row)) for row in rows])
    elif fmt is OutputFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    else:
        print_table(title, columns, rows, prose=prose)


def print_object(result: Any, fmt: OutputFormat) -> bool:
    """A command whose result is one object (not a list of rows) printed for scripts: JSON as
    it is, CSV as ``field,value`` rows of its dotted fields (:func:`flat_rows`). False for a
    table: the command prints its own for people."""
    if fmt is OutputFormat.TABLE:
        return False
    if fmt is OutputFormat.JSON:
        print_json(result)
    else:
        print_listing(fmt, "", ["field", "value"], flat_rows(result))
    return True


def flat_rows(value: Any, path: str = "") -> list[list[Any]]:
    """A nested result (dicts and lists) as ``[field, value]`` rows, the field its dotted
    path (``sites_by_kind.school``, ``devices.0.name``): the CSV of a command whose JSON is
    one object rather than a list of rows."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return [[path, getattr(value, "value", value)]]
    return [row for key, item in items for row in flat_rows(item, f"{path}.{key}" if path else str(key))]


def print_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]], prose: Iterable[str] = ()) -> None:
    """A table whose identifiers (codes, device names, addresses, numbers) are never wrapped or
    cut: only the ``prose`` columns wrap, between words. When even so the table is wider than
    the terminal, each row is printed as a record (one "column: value" line per field)."""
    columns, prose = list(columns), set(prose)
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    shown = [[_shown(cell) for cell in row] for row in cells]  # a cell's markup (`[red]FLAG[/red]`) takes no room
    widths = _column_widths(columns, shown, prose, console.width)
    if widths is None:
        _print_records(title, columns, shown)
        return
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for column, width in zip(columns, widths):
        table.add_column(column, no_wrap=column not in prose, overflow="fold", width=width)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _shown(cell: str) -> str:
    """The text a cell shows: its Rich markup taken out (a cell that is no valid markup as it is)."""
    try:
        return Text.from_markup(cell).plain
    except MarkupError:
        return cell


def _column_widths(columns: list[str], cells: list[list[str]], prose: set[str], room: int) -> list | None:
    """Widths that keep every identifier whole within ``room`` characters: identifier columns
    at their widest cell, prose columns at least their longest word, sharing what is left by
    how much they have to say. None when even that does not fit."""
    texts = [[column, *(row[i] for row in cells)] for i, column in enumerate(columns)]
    natural = [max(cell_len(t) for t in column_texts) for column_texts in texts]
    shortest = [max((cell_len(w) for t in column_texts for w in t.split()), default=1) if c in prose else n
                for c, column_texts, n in zip(columns, texts, natural)]
    room -= 3 * len(columns) + 1  # one space either side of a cell, a rule between columns
    if sum(natural) <= room:
        return [None] * len(columns)  # everything fits as it is
    if sum(shortest) > room:
        return None
    spare, wants = room - sum(shortest), [n - s for n, s in zip(natural, shortest)]
    return [None if c not in prose else s + spare * want // max(sum(wants), 1)
            for c, s, want in zip(columns, shortest, wants)]


def _print_records(title: str, columns: list[str], cells: list[list[str]]) -> None:
    """Each row as "column: value" lines; a long value wraps between words under itself
    (a word longer than the line stays whole: the terminal may fold it, netops does not)."""
    if title:
        console.print(f"[bold]{escape(_shown(title))}[/bold]", highlight=False)
    width = max(len(c) for c in columns)
    indent = " " * (width + 2)
    for row in cells:
        for column, value in zip(columns, row):
            if value:
                lines = textwrap.wrap(value, max(console.width - len(indent), 20), break_long_words=False,
                                      break_on_hyphens=False) or [value]
                console.print(f"{column:>{width}}: {escape(lines[0])}", highlight=False, soft_wrap=True)
                for line in lines[1:]:
                    console.print(f"{indent}{escape(line)}", highlight=False, soft_wrap=True)
        console.print()


def working(message: str):
    """A spinner on stderr while something takes seconds; nothing when stderr is not a
    terminal (a log file, a pipe, cron), so only the results reach those."""
    return err_console.status(message) if err_console.is_terminal else nullcontext()


def progress_bar(*columns) -> Progress:
    """A progress bar on stderr, shown only when stderr is a terminal (see :func:`working`)."""
    from rich.progress import Progress

    return Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal)


def severity_option(value: str | None):
    """Typer callback of every ``--fail-on``: critical, warning or info (high, medium, low
    accepted as the config rules' old words), with "did you mean" for a typo."""
    from netops.vocabulary import parse_severity

    if value is None:
        return None
    try:
        return parse_severity(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def choice_option(what: str, known: Iterable[str], aliases: dict[str, str] | None = None):
    """A Typer callback accepting one of ``known`` words (or an alias for one), refusing
    anything else in one line with "did you mean" instead of a validation dump."""
    from netops.vocabulary import unknown

    words, aliases = list(known), aliases or {}

    def check(value):
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [check(v) for v in value]
        folded = str(value).strip().lower()
        folded = aliases.get(folded, folded)
        if folded not in words:
            raise typer.BadParameter(unknown(what, value, words))
        return folded
    return check
