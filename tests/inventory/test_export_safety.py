"""Exports a spreadsheet cannot turn against its user, and that never half-happen.

CSV cells starting with ``= + - @``, tab or CR get a leading ``'`` (OWASP's advice against
CSV injection); import takes it off again, so export → import changes nothing. A bad
output place is refused before anything is written; a write that fails midway leaves the
previous file as it was and no temporary file behind.
"""

from __future__ import annotations

import csv
import errno
import os

import pytest

from inventory import files
from netops import db as dbmod
from tests.inventory.conftest import dump
from tests.support.mini_city import build_mini_city

FORMULAS = {
    "name": "=cmd|' /C calc'!A0",
    "address": "+49 209 1690",
    "notes": "@SUM(A1:A9)",
    "district": "-Nord",
    "borough": "\tBuer",
    "external_id": "'=escaped by hand",  # read as the text a spreadsheet shows: =escaped by hand
    "city": "'s-Hertogenbosch",  # a leading quote that is no escape: left alone both ways
}


@pytest.fixture
def mini(db_url):
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        build_mini_city(session)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("text", [*FORMULAS.values(), "=", "'", "''=x", "plain", "-"])
def test_escape_round_trip(text):
    escaped = files.escape_cell(text)
    assert files.unescape_cell(escaped) == text
    assert escaped[0] not in "=+-@\t\r"


def test_formulas_are_escaped_on_export_and_read_back_unchanged(mini, run_cli, tmp_path):
    out = tmp_path / "site.csv"
    assert run_cli("inventory", "export", "--kind", "site", "--out", str(out)).exit_code == 0
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    hot = next(r for r in rows if r["code"] == "HOT-1")
    hot.update(FORMULAS)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # a hand-made file holds the formulas as they are: stored as they are
    assert run_cli("inventory", "import", str(out)).exit_code == 0
    exported = tmp_path / "again.csv"
    assert run_cli("inventory", "export", "--kind", "site", "--out", str(exported)).exit_code == 0
    again = next(r for r in csv.DictReader(exported.open(newline="", encoding="utf-8")) if r["code"] == "HOT-1")
    assert again["name"] == "'=cmd|' /C calc'!A0" and again["address"] == "'+49 209 1690"
    assert again["notes"] == "'@SUM(A1:A9)" and again["district"] == "'-Nord" and again["borough"] == "'\tBuer"
    assert again["external_id"] == "'=escaped by hand" and again["city"] == "'s-Hertogenbosch"
    assert again["lat"] == "51.505"  # numbers are never quoted
    before = dump(mini)
    result = run_cli("inventory", "import", str(exported), "--json")
    assert result.exit_code == 0 and '"updated": 0' in result.stdout and '"inserted": 0' in result.stdout
    assert dump(mini) == before
    open_data = tmp_path / "od"
    assert run_cli("inventory", "export", "--open-data", str(open_data)).exit_code == 0
    published = (open_data / "freewifi_hotspots.csv").read_text(encoding="utf-8")
    assert "'=cmd|' /C calc'!A0" in published and "\n=cmd" not in published


def listing(path):
    return sorted(os.listdir(path))


@pytest.fixture
def out_dir(tmp_path):
    """A directory of its own for outputs (the SQLite database lives in tmp_path)."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


@pytest.mark.parametrize("place", ["root", "foreign files", "a file"])
def test_open_data_refuses_a_directory_that_is_not_its_own(mini, run_cli, out_dir, place):
    target = {"root": "/", "foreign files": str(out_dir), "a file": str(out_dir / "notes.txt")}[place]
    (out_dir / "notes.txt").write_text("mine\n")
    before_root, before_tmp = listing("/"), listing(out_dir)
    result = run_cli("inventory", "export", "--open-data", target)
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert listing("/") == before_root and listing(out_dir) == before_tmp
    assert (out_dir / "notes.txt").read_text() == "mine\n"


def test_open_data_rewrites_its_own_directory(mini, run_cli, tmp_path):
    target = tmp_path / "out" / "open-data"
    for _ in range(2):
        result = run_cli("inventory", "export", "--open-data", str(target))
        assert result.exit_code == 0, result.output
    assert len(listing(target)) == 4


@pytest.mark.parametrize("args, reason", [
    (["--kind", "device", "--format", "geojson"], "no geometry"),
    (["--kind", "site", "--format", "xlsx"], "--format must be"),
    (["--kind", "sites"], "unknown element kind 'sites'; did you mean site"),
])
def test_a_refused_export_leaves_the_old_file(mini, run_cli, out_dir, args, reason):
    out = out_dir / "export.out"
    out.write_text("previous export\n")
    result = run_cli("inventory", "export", *args, "--out", str(out))
    assert result.exit_code == 2 and reason in result.stderr
    assert out.read_text() == "previous export\n" and listing(out_dir) == ["export.out"]


@pytest.mark.parametrize("where", ["a directory", "under a file"])
def test_export_into_a_bad_place(mini, run_cli, out_dir, where):
    if where == "a directory":
        out, before = out_dir, []
    else:  # a file stands where the directory would be
        (out_dir / "notes").write_text("not a directory\n")
        out, before = out_dir / "notes" / "site.csv", ["notes"]
    result = run_cli("inventory", "export", "--kind", "site", "--out", str(out))
    assert result.exit_code == 2 and str(out_dir) in result.stderr
    assert listing(out_dir) == before


def test_export_creates_a_missing_directory(mini, run_cli, out_dir):
    """Like every option naming where to write (README, "Output, words and completion")."""
    out = out_dir / "missing" / "site.csv"
    assert run_cli("inventory", "export", "--kind", "site", "--out", str(out)).exit_code == 0
    assert out.read_text().startswith("code,")


def test_a_write_failing_midway_keeps_the_previous_file(mini, run_cli, out_dir, monkeypatch):
    """The disk fills up halfway through the rows: the old export stays, nothing else appears."""
    out = out_dir / "site.csv"
    assert run_cli("inventory", "export", "--kind", "site", "--out", str(out)).exit_code == 0
    previous = out.read_bytes()
    real_write_csv = files.write_csv

    def disk_full(entity, rows, handle):
        real_write_csv(entity, rows[:3], handle)
        handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "write_csv", disk_full)
    result = run_cli("inventory", "export", "--kind", "site", "--out", str(out))
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert out.read_bytes() == previous and listing(out_dir) == ["site.csv"]


def test_export_keeps_the_file_mode_people_expect(mini, run_cli, tmp_path):
    out = tmp_path / "site.csv"
    old = os.umask(0o022)
    try:
        assert run_cli("inventory", "export", "--kind", "site", "--out", str(out)).exit_code == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644  # not the 0600 of a temporary file
