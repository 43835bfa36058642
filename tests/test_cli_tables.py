"""Tables for people on narrow terminals (issue 16): an identifier is never cut, and when a
table cannot fit, each row becomes a record whose long values wrap between words."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from commands import common

SITES = ", ".join(f"hotspot-bahnhofstrasse-{i:03d}" for i in range(1, 9)) + " +91 more"


@pytest.fixture
def screen(monkeypatch):
    """What print_table writes on a terminal ``width`` columns wide."""
    def printed(width: int, *args, **kwargs) -> list[str]:
        out = io.StringIO()
        monkeypatch.setattr(common, "console", Console(file=out, width=width, color_system=None))
        common.print_table(*args, **kwargs)
        return out.getvalue().splitlines()
    return printed


def test_a_table_too_wide_becomes_records_wrapped_between_words(screen):
    rows = [["critical", "route_node:entry-pop-city", SITES, "425.4"],
            ["warning", "segment:seg-00001", "kita-015", "3"]]
    lines = screen(80, "findings", ["severity", "elements", "sites affected", "weight"], rows)
    assert lines[0] == "findings"
    assert all(len(line) <= 80 for line in lines), lines
    for identifier in ("route_node:entry-pop-city", "segment:seg-00001",
                       *(f"hotspot-bahnhofstrasse-{i:03d}" for i in range(1, 9))):
        assert any(identifier in line for line in lines), identifier  # whole, on one line
    first = lines.index("sites affected: hotspot-bahnhofstrasse-001, hotspot-bahnhofstrasse-002,")
    assert lines[first + 1] == " " * len("sites affected: ") + "hotspot-bahnhofstrasse-003, hotspot-bahnhofstrasse-004,"
    assert lines.count("") == 2  # a blank line after each record


def test_a_word_longer_than_the_line_stays_whole(screen):
    code = "x" * 70
    lines = screen(40, "", ["code", "description"], [[code, "a b c " * 30]])
    assert f"       code: {code}" in lines  # the terminal may fold it; netops does not cut it
    assert all(len(line) <= 40 for line in lines if code not in line)


def test_a_table_that_fits_stays_a_table(screen):
    lines = screen(80, "devices", ["role", "count"], [["access_switch", 211], ["olt", 5]])
    assert any("access_switch" in line and "211" in line for line in lines)
    assert not any(line.startswith("role:") for line in lines)


def test_markup_in_a_cell_takes_no_room_and_never_shows_as_text(screen):
    """A flagged margin (`[red]FLAG[/red]`) was measured with its markup, and a table printed as
    records escaped it: `2.10 [red]FLAG[/red] + 8.02` on a 50-column terminal (final review)."""
    rows = [["kita-001", "2.10 [red]FLAG[/red] + 8.02"], ["kita-002", "8.44"]]
    for width in (30, 50, 120):
        lines = screen(width, "[red]sites[/red]", ["site", "margin dB"], rows)
        text = "\n".join(lines)
        assert "[red]" not in text and "[/red]" not in text, (width, lines)
        assert "2.10 FLAG + 8.02" in text, (width, lines)
