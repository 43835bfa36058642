"""`--format table|json|csv` on `plan connect`, `batch`, `show` and `diff` (issue 16): json is
what `--json` always printed, csv carries the same fields (a plan is one object: its dotted
fields as field,value rows; a diff is a listing: one line per row added or field changed)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from cli import app
from commands.common import OutputFormat, print_object
from commands.plan import DIFF_COLUMNS, diff_rows
from tests.planning.test_cli import town  # noqa: F401  (the fixture: a small town, three planned Kitas)
from tests.test_cli_conventions import assert_csv_is_the_json_fields


def store_plan(db: list[str], streets: list[str]) -> None:
    """One stored redundant plan (id 1) in the town."""
    run(*db, "plan", "connect", "KITA-0", *streets, "--redundant", "--json")


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def formats(*args: str) -> tuple[str, dict, str]:
    """(table, json, csv) of one command; --json and --format json print the same."""
    as_json = json.loads(run(*args, "--format", "json"))
    assert json.loads(run(*args, "--json")) == as_json
    return run(*args), as_json, run(*args, "--format", "csv")


@pytest.mark.parametrize("command", [["connect", "KITA-1", "--dry-run"], ["connect", "KITA-2", "--redundant",
                                                                         "--dry-run"],
                                     ["batch", "--site-kind", "kindergarten", "--dry-run"]],
                         ids=["connect", "connect-redundant", "batch"])
def test_planning_commands_print_one_plan_in_every_format(town, command):
    db, streets = town
    table, as_json, as_csv = formats(*db, "plan", *command, *streets)
    assert_csv_is_the_json_fields(as_csv, as_json)
    assert as_json["plan_id"] is None  # --dry-run stored nothing
    assert f"{as_json['total_eur']:,.2f}" in table  # the bill of materials' total, for people
    assert "total_eur" not in table and "field,value" not in table


def test_show_prints_the_stored_plan_in_every_format(town):
    db, streets = town
    store_plan(db, streets)
    table, as_json, as_csv = formats(*db, "plan", "show", "1")
    assert_csv_is_the_json_fields(as_csv, as_json)
    assert (as_json["id"], as_json["state"]) == (1, "draft") and len(as_json["summary"]["routes"]) == 2
    assert f"plan {as_json['name']} (id 1" in table
    assert "summary.routes.1.pop" in dict(csv.reader(io.StringIO(as_csv)))  # the second route is there


def test_diff_csv_is_one_line_per_row_added_or_field_changed(town):
    db, streets = town
    store_plan(db, streets)
    table, as_json, as_csv = formats(*db, "plan", "diff", "1")
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert list(rows[0]) == DIFF_COLUMNS
    added = [(r["kind"], r["code"]) for r in rows if r["change"] == "added"]
    assert added == [(kind, code) for kind, codes in as_json["added"].items() for code in codes]
    assert len([code for code in added if code[0] == "cable"]) == 2  # two disjoint routes, two cables
    changed = [{k: r[k] for k in DIFF_COLUMNS[1:]} for r in rows if r["change"] == "changed"]
    assert changed == [{k: str(v) for k, v in c.items()} for c in as_json["changed"]]
    assert all(kind in table for kind in as_json["added"])
    assert "trenchsegment" not in as_csv  # element kinds, not table names


def test_a_plan_that_does_not_exist_is_one_line_in_every_format(town):
    db, streets = town
    store_plan(db, streets)
    for fmt in ("table", "json", "csv"):
        result = CliRunner().invoke(app, [*db, "plan", "show", "no-such-plan", "--format", fmt])
        assert result.exit_code == 2 and result.stdout == "", (fmt, result.output)
        assert len(result.stderr.strip().splitlines()) == 1
    result = CliRunner().invoke(app, [*db, "plan", "diff", "1", "--format", "xml"])
    assert result.exit_code == 2 and "xml" in result.stderr


# -- the logic without the CLI -----------------------------------------------------------------

def test_diff_rows_lists_additions_then_changes():
    added = {"cable": ["p1-cab-001", "p1-cab-002"], "segment": ["p1-ts-001"]}
    changed = [{"kind": "segment", "code": "TS-7", "field": "ducts_used", "before": 1, "after": 2},
               {"kind": "cable", "code": "C-3", "field": "strands", "before": "free", "after": "5/6 to KITA-0"}]
    assert diff_rows(added, changed) == [
        ["added", "cable", "p1-cab-001", "", "", ""],
        ["added", "cable", "p1-cab-002", "", "", ""],
        ["added", "segment", "p1-ts-001", "", "", ""],
        ["changed", "segment", "TS-7", "ducts_used", 1, 2],
        ["changed", "cable", "C-3", "strands", "free", "5/6 to KITA-0"],
    ]
    assert all(len(row) == len(DIFF_COLUMNS) for row in diff_rows(added, changed))
    assert diff_rows({}, []) == []


def test_print_object_formats(capsys):
    plan = {"name": "p", "total_eur": 12.5, "routes": [{"pop": "POP-N", "legs": []}], "notes": None}
    assert print_object(plan, OutputFormat.TABLE) is False  # the command prints its own tables
    assert capsys.readouterr().out == ""
    assert print_object(plan, OutputFormat.JSON) is True
    assert json.loads(capsys.readouterr().out) == plan
    assert print_object(plan, OutputFormat.CSV) is True
    assert capsys.readouterr().out.splitlines() == ["field,value", "name,p", "total_eur,12.5", "routes.0.pop,POP-N",
                                                    "notes,"]
