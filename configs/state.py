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


#: what netops' own runs record in state.json: run -> its tables of one object per device or rule
STATE_SHAPE = {"backup": ("devices",), "audit": ("rules",), "audit_intended": ("rules",), "lldp": ()}


def _shape_problems(state: Any) -> Iterator[tuple[str, Any, str]]:
    """(field, value, what it should be) where state.json is not what the runs write."""
    if not isinstance(state, dict):
        yield "(file)", state, "a JSON object"
        return
    for run, tables in STATE_SHAPE.items():
        section = state.get(run, {})
        if not isinstance(section, dict):
            yield run, section, "an object"
            continue
        for table in tables:
            rows = section.get(table, {})
            if not isinstance(rows, dict) or not all(isinstance(row, dict) for row in rows.values()):
                yield f"{run}.{table}", rows, "an object of objects"


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
