"""`make hunt-files` (tests/hunt_paths.py) keeps working: a few of its cases run here, and
its judge flags each wrong ending it promises to."""

from __future__ import annotations

import subprocess

import pytest

from tests import hunt_paths


def test_a_few_hunt_cases_run_clean_end_to_end():
    """The database cases: the installed netops on a PostgreSQL URL whose password must not
    show, and on files that are no SQLite database (a process each, as the hunt runs them)."""
    assert hunt_paths.main(["--jobs", "1", "--", "--db:PostgreSQL", "--db:truncated SQLite", "--db:/dev/zero"]) == 0


def test_every_target_and_case_has_a_label_of_its_own():
    labels = [label for label, _ in hunt_paths.cases()]
    assert len(labels) == len(set(labels)) > 500


@pytest.mark.parametrize("code, stdout, stderr, wrong", [
    (2, b"", b"Traceback (most recent call last):\nValueError: x\n", "a traceback"),
    (5, b"", b"", "exit 5"),
    (4, b"", b"cannot connect\n", "a line that is no 'error: ...'"),
    (2, b"", b"error: x" * 300 + b"\n", "a line of 2,000 characters or more"),
    (4, b"", f"error: postgresql://netops:{hunt_paths.PASSWORD}@h/x\n".encode(), "the database password"),
    # a mask ending at the password's own @: the rest of it before the host (final review)
    (4, b"", b"error: postgresql://netops:********@s3cret-pw@h/x\n", "the database password"),
])
def test_the_judge_flags_each_wrong_ending(code, stdout, stderr, wrong):
    finding = hunt_paths.judge("target:case", subprocess.CompletedProcess([], code, stdout, stderr))
    assert finding is not None and finding.startswith(f"target:case: {wrong} (exit {code})")


def test_the_judge_passes_a_documented_ending():
    assert hunt_paths.judge("t:c", subprocess.CompletedProcess([], 2, b"", b"error: x: no such file\n")) is None
    assert hunt_paths.judge("t:c", None) == f"t:c: no end after {hunt_paths.SECONDS_PER_CALL} s"
