"""The root's help screen (`netops --help`, `netops`) drawn without ``typer.rich_utils``.

Typer draws every help screen with ``typer.rich_utils``, whose imports (Rich's Markdown with
markdown-it and Pygments, Rich's tracebacks with attrs) cost about 50 ms of CPU, a quarter
of `netops --help` (BENCHMARKS.md "Start-up"), for features the root's help never uses.
This draws the same screen, character for character and style for style, with the Rich
parts it does use; tests/test_cli_startup.py compares the two on every width and colour
setting. A screen with anything this does not draw (an argument, a required option, a
default or range to show, a panel of its own, a deprecated command, an epilogue) is left
to Typer: :func:`can_draw` says which.
"""

from __future__ import annotations

import inspect
import re
from os import getenv

from rich.align import Align
from rich.columns import Columns
from rich.console import Console, Group
from rich.highlighter import RegexHighlighter
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme
from typer.core import HAS_RICH, TyperOption

# Typer's look (typer.rich_utils' STYLE_* settings, its defaults)
THEME = {"option": "bold cyan", "switch": "bold green", "negative_option": "bold magenta",
         "negative_switch": "bold red", "types": "bold yellow", "types_sep": "dim", "usage": "yellow"}
USAGE_STYLE = "bold"
REST_OF_HELP_STYLE = "dim"
ENVVAR_STYLE = "dim yellow"
PANEL_BORDER_STYLE = "dim"
COMMAND_NAME_STYLE = "bold cyan"
#: what rich._emoji_replace looks for (its pattern, loosened to any text between colons)
EMOJI_CODE = re.compile(r":\S*?:")


class OptionHighlighter(RegexHighlighter):
    highlights = [r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])", r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
                  r"(?P<types>\<[^\>]+\>)", r"(?P<usage>Usage: )"]


class NegativeOptionHighlighter(RegexHighlighter):
    highlights = [r"(^|\W)(?P<negative_switch>\-\w+)(?![a-zA-Z0-9])",
                  r"(^|\W)(?P<negative_option>\-\-[\w\-]+)(?![a-zA-Z0-9])"]


class TypesHighlighter(RegexHighlighter):
    highlights = [r"^(?P<types_sep>(\[|<))", r"(?P<types_sep>\|)", r"(?P<types_sep>(\]|>))(\.\.\.)?$"]


highlight_options = OptionHighlighter()
highlight_negative = NegativeOptionHighlighter()
highlight_types = TypesHighlighter()


def can_draw(group, ctx) -> bool:
    """Whether :func:`print_help` draws this group's screen as Typer would: Rich markup,
    options that show a type, help and an environment variable at most, commands with help."""
    if (not HAS_RICH or group.rich_markup_mode != "rich" or group.deprecated or group.epilog or _special(group.help)
            or ctx.auto_envvar_prefix is not None):
        return False
    for param in group.get_params(ctx):
        if param.hidden:
            continue
        if (not isinstance(param, TyperOption) or param.required or getattr(param, "rich_help_panel", None)
                or _special(param.help) or _shows_default(param, ctx) or _is_ranged(param)):
            return False
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden and (
                command.deprecated or getattr(command, "rich_help_panel", None)
                or _special(command.short_help or command.help)):
            return False
    return True


def _special(text: str | None) -> bool:
    """Help text Typer treats specially: ANSI codes, \\b (keep line breaks), \\f (cut)."""
    return text is not None and any(mark in text for mark in ("\033[", "\b", "\f"))


def _shows_default(param, ctx) -> bool:
    if isinstance(param.show_default, str):
        return True
    if not (param.show_default or ctx.show_default):
        return False
    default = param.get_default(ctx, call=False)
    # a flag's False is not shown (Typer shows a flag's default only when it has an --no-x twin)
    return default is not None and not (param.is_bool_flag and not param.secondary_opts and not default)


def _is_ranged(param) -> bool:
    return param.count or param.min is not None or param.max is not None


def print_help(group, ctx) -> None:
    """Print a group's help screen the way ``typer.rich_utils.rich_format_help`` does (only
    for a group :func:`can_draw`)."""
    console = _console()
    console.print(Padding(highlight_options(group.get_usage(ctx)), 1), style=USAGE_STYLE)
    if group.help:
        console.print(Padding(Align(_help_text(group.help), pad=False), (0, 1, 1, 1)))
    # panel titles as Text: a str title is parsed as markup, which loads Rich's emoji table
    options = [param for param in group.get_params(ctx) if not param.hidden]
    if options:
        table = _panel_table(highlight=True)
        for param in options:
            table.add_row(*_option_row(param, ctx))
        console.print(Panel(table, border_style=PANEL_BORDER_STYLE, title=Text("Options"), title_align="left"))
    commands = [c for c in (group.get_command(ctx, name) for name in group.list_commands(ctx))
                if c is not None and not c.hidden]
    if commands:
        table = _panel_table(highlight=False)
        table.add_column(style=COMMAND_NAME_STYLE, no_wrap=True, width=max(len(c.name or "") for c in commands))
        table.add_column("Description", justify="left", no_wrap=False, ratio=10)
        for command in commands:
            first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
            table.add_row(Text(command.name or ""), _markup(first.strip()))
        console.print(Panel(table, border_style=PANEL_BORDER_STYLE, title=Text("Commands"), title_align="left"))


def _console() -> Console:
    """The console Typer prints help on, with the same environment settings."""
    force = True if getenv("GITHUB_ACTIONS") or getenv("FORCE_COLOR") or getenv("PY_COLORS") else None
    if getenv("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    width = getenv("TERMINAL_WIDTH")
    return Console(theme=Theme(THEME), highlighter=highlight_options, color_system="auto", force_terminal=force,
                   width=int(width) if width else None)


def _markup(text: str, style: str = "") -> Text:
    text = inspect.cleandoc(text)
    # Rich replaces :emoji-codes: from a table that costs 2-10 ms to import; none, no table
    return highlight_options(Text.from_markup(text, style=style, emoji=EMOJI_CODE.search(text) is not None))


def _help_text(help_text: str) -> Group:
    """The first paragraph as it is, the rest dimmed, single line breaks joined."""
    first, *rest = inspect.cleandoc(help_text).split("\n\n")
    parts = [_markup(first.replace("\n", " ").strip())]
    if rest:
        parts += [Text(""), _markup("\n\n".join(rest), style=REST_OF_HELP_STYLE)]
    return Group(*parts)


def _panel_table(highlight: bool) -> Table:
    return Table(highlight=highlight, show_header=False, expand=True, box=None, show_lines=False, leading=0,
                 border_style=None, row_styles=None, pad_edge=False, padding=(0, 1))


def _option_row(param, ctx) -> list:
    long = [opt for opt in param.opts if "--" in opt]
    short = [opt for opt in param.opts if "--" not in opt]
    negative_long = [opt for opt in param.secondary_opts if "--" in opt]
    negative_short = [opt for opt in param.secondary_opts if "--" not in opt]
    types = Text(param.display_type_rich(ctx=ctx) or "", style=THEME["types"], overflow="fold")
    help_parts = []
    if param.help:
        paragraphs = [p.replace("\n", " ").strip() for p in param.help.split("\n\n")]
        help_parts.append(_markup("\n".join(paragraphs).strip()))
    if param.envvar and param.show_envvar:
        envvar = param.envvar if isinstance(param.envvar, str) else ", ".join(map(str, param.envvar))
        help_parts.append(Text(f"[env var: {envvar}]", style=ENVVAR_STYLE))
    return [highlight_options(",".join(long)), highlight_options(",".join(short)),
            highlight_negative(",".join(negative_long)), highlight_negative(",".join(negative_short)),
            highlight_types(types), Columns(help_parts)]
