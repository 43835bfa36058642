"""The small state that runs leave behind for Prometheus: when each device was last
backed up, per-rule compliance counts, LLDP mismatch counts.

A JSON file next to the git store, replaced atomically under a file lock, so the
exporter (a separate process) always reads a whole file and two runs never lose each
other's sections. The collector in ``configs.metrics`` computes ages at scrape time.

The format is a contract (``configs.metrics`` and ``report.collect`` read it)::

    {"backup": {"devices": {"<device>": {"last_success": <unix s>, "last_attempt": <unix s>,
                                         "status": "ok|auth_failed|timeout|..."}},
                "last_run": <unix s>},
     "audit" | "audit_intended": {"rules": {"<rule id>": {"severity": "high", "title": "...",
                                                        "compliant": N, "noncompliant": N}},
                                  "devices": N, "failed_devices": N, "last_run": <unix s>},
     "lldp": {"mismatches": {"missing": N, "mispatched": N, "unexpected": N},
              "devices": N, "failed_devices": N, "last_run": <unix s>}}
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import platformdirs

from configs.store import GitConfigStore
from netops.settings import WORKSPACE_ENV
from netops.textfile import file_problem, read_json


def default_workspace() -> Path:
    raw = os.environ.get(WORKSPACE_ENV)
    return Path(raw).expanduser() if raw else platformdirs.user_data_path("netops") / "configs"


NUMBER, TEXT, COUNT = "a number", "text", "a count (a whole number, 0 or more)"
#: the fields of a rule's row in an audit's record
_RULE_ROW = {"severity": TEXT, "title": TEXT, "compliant": COUNT, "noncompliant": COUNT}
#: what netops' own runs record in state.json: run -> its tables, each of one object per
#: device or rule (field -> kind) or of numbers (``lldp.mismatches``)
STATE_SHAPE: dict[str, dict[str, dict[str, str] | str]] = {
    "backup": {"devices": {"last_success": NUMBER, "last_attempt": NUMBER, "status": TEXT}},
    "audit": {"rules": _RULE_ROW},
    "audit_intended": {"rules": _RULE_ROW},
    "lldp": {"mismatches": COUNT},
}
#: numbers of a run's record itself (backup's ``devices`` is its table, the others' a count)
RUN_NUMBERS = {"last_run": NUMBER, "devices": COUNT, "failed_devices": COUNT}
#: fields the readers (report, the exporter's collector) cannot do without; others may be
#: missing, in a record an older netops wrote
REQUIRED = {"severity", "compliant", "noncompliant"}


def _is(kind: str, value: Any) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return number and (kind == NUMBER or (value >= 0 and value == int(value)))


def _shape_problems(state: Any) -> Iterator[tuple[str, Any, str]]:
    """(field, value, what it should be) where state.json is not what the runs write: every
    value its readers use is checked here, so that a damaged record is one line naming the
    field (session 10's hunt: ``"compliant": null`` ended `netops report` in a TypeError)."""
    if not isinstance(state, dict):
        yield "(file)", state, "a JSON object"
        return
    for run, tables in STATE_SHAPE.items():
        section = state.get(run, {})
        if not isinstance(section, dict):
            yield run, section, "an object"
            continue
        for name, kind in RUN_NUMBERS.items():
            if name in section and name not in tables and not _is(kind, section[name]):
                yield f"{run}.{name}", section[name], kind
        counts = [section.get(name) for name in ("devices", "failed_devices") if name not in tables]
        if len(counts) == 2 and all(_is(COUNT, n) for n in counts) and counts[1] > counts[0]:
            # the gauges would count devices - failed_devices < 0 devices checked
            yield f"{run}.failed_devices", counts[1], f"at most {run}.devices ({counts[0]})"
        for table, row_shape in tables.items():
            rows = section.get(table, {})
            if not isinstance(rows, dict):
                yield f"{run}.{table}", rows, "an object"
                continue
            for key, row in rows.items():
                yield from _row_problems(f"{run}.{table}.{key}", row, row_shape)


def _row_problems(where: str, row: Any, shape: dict[str, str] | str) -> Iterator[tuple[str, Any, str]]:
    if isinstance(shape, str):
        if not _is(shape, row):
            yield where, row, shape
        return
    if not isinstance(row, dict):
        yield where, row, "an object"
        return
    for name, kind in shape.items():
        if name not in row:
            if name in REQUIRED:
                yield f"{where}.{name}", None, f"{kind} (it is missing)"
        elif not _is(kind, row[name]):
            yield f"{where}.{name}", row[name], kind


class Workspace:
    """``<root>/repo`` (the git store) and ``<root>/state.json``."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else default_workspace()
        self.state_path = self.root / "state.json"
        self._lock_path = self.root / ".state.lock"

    def store(self) -> GitConfigStore:
        return GitConfigStore(self.root / "repo").ensure()

    def read_state(self) -> dict[str, Any]:
        if not self.state_path.exists() and not self.state_path.is_symlink():
            return {}  # no run recorded yet
        state = read_json(self.state_path)
        for field, value, wanted in _shape_problems(state):
            raise file_problem(self.state_path, 1, json.dumps(value)[:80], f"expected {wanted} (the record of `netops "
                               "config` runs); move the file away to start a new record", field=field)
        return state

    @contextmanager
    def update_state(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write the state under an exclusive lock."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.read_state()
            yield state
            tmp = self.state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
            tmp.replace(self.state_path)
