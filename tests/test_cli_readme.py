"""The README's terminal samples are what netops prints (issue 16): every ```text block that
starts with ``$ netops ...`` is run on the seeded city at 80 columns and compared with what
follows each command, line by line (trailing spaces aside; ``| head -N`` is honoured).

After a change to the city, the audits or a table, regenerate them with

    NETOPS_UPDATE_README=1 .venv/bin/python -m pytest tests/test_cli_readme.py
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.topology.conftest import seeded_city_db  # noqa: F401  (the seeded city, once per run)

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```text\n(\$ netops .*?)^```$", re.M | re.S)
HEAD = re.compile(r"^(?P<command>.*?)\s*\|\s*head -(?P<lines>\d+)$")
UPDATE_ENV = "NETOPS_UPDATE_README"


def samples(text: str) -> list[tuple[str, list[str]]]:
    """(command line, expected output lines) of every sample, in README order."""
    found = []
    for block in BLOCK.finditer(text):
        for part in re.split(r"^(?=\$ )", block.group(1), flags=re.M):
            if part.strip():
                command, *output = part.rstrip("\n").split("\n")
                found.append((command[2:], output))
    return found


def printed(command: str, db: str) -> list[str]:
    """What the command prints (stdout, then stderr) on a terminal 80 columns wide."""
    match = HEAD.match(command)
    argv = shlex.split(match["command"] if match else command)
    assert argv[0] == "netops", command
    result = subprocess.run([str(Path(sys.executable).with_name("netops")), *argv[1:]], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "COLUMNS": "80", "NETOPS_DB_URL": db})
    lines = [line.rstrip() for line in (result.stdout + result.stderr).splitlines()]
    return lines[:int(match["lines"])] if match else lines


def test_samples_are_found():
    commands = [command for command, _ in samples(README.read_text(encoding="utf-8"))]
    assert "netops audit --top 2" in commands and "netops inventory stats" in commands
    assert samples("```text\n$ netops a\nx\n$ netops b | head -1\ny\nz\n```\n") == [
        ("netops a", ["x"]), ("netops b | head -1", ["y", "z"])]


def test_readme_samples_are_what_netops_prints(seeded_city_db):  # noqa: F811
    text = README.read_text(encoding="utf-8")
    wrong = []
    for command, expected in samples(text):
        actual = printed(command, seeded_city_db)
        if actual != [line.rstrip() for line in expected]:
            wrong.append((command, expected, actual))
    if wrong and os.environ.get(UPDATE_ENV):
        for command, expected, actual in wrong:
            old = "\n".join([f"$ {command}", *expected]) + "\n"
            assert text.count(old) == 1, command
            text = text.replace(old, "\n".join([f"$ {command}", *actual]) + "\n")
        README.write_text(text, encoding="utf-8")
        pytest.skip(f"README samples rewritten: {', '.join(c for c, _, _ in wrong)}")
    assert not wrong, (f"README samples differ from the output (regenerate: {UPDATE_ENV}=1 pytest {__file__}):\n"
                       + "\n".join(f"$ {c}\n" + "\n".join(a) for c, _, a in wrong))
