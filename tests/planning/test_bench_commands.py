"""The commands the planning benchmark names in BENCHMARKS.md are commands netops takes: a
reader copies them. Each is parsed by the CLI itself (``--help`` appended: an unknown option
fails the parse, exit 2, before any work). Found by session 12's acceptance walk: the
example `netops plan batch --kind ...` named an option that does not exist (``--site-kind``)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"<!-- planning-bench:begin -->(.*?)<!-- planning-bench:end -->", re.S)
COMMAND = re.compile(r"`(netops [^`]+)`")


def commands(text: str) -> list[str]:
    (section,) = SECTION.findall(text)
    return COMMAND.findall(section)


def parses(command: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*shlex.split(command)[1:], "--help"])
    return result.exit_code, result.output


def test_the_planning_section_names_commands_netops_takes():
    found = commands((ROOT / "BENCHMARKS.md").read_text(encoding="utf-8"))
    assert len(found) >= 3
    bad = {c: out.strip().splitlines()[-1:] for c in found for code, out in [parses(c)] if code != 0}
    assert not bad, bad


def test_an_unknown_option_is_caught():
    assert parses("netops plan batch --no-such-option x")[0] == 2
    assert parses("netops plan batch --site-kind kindergarten --status planned")[0] == 0
