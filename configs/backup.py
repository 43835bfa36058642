"""`netops config backup`: fetch running configs, scrub them, commit them to git.

The raw config never leaves the worker that fetched it: :func:`fetch_config` scrubs it
before returning, so nothing downstream (store, audit, logs, output) can leak a secret.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from configs.platforms import platform_of
from configs.scrub import scrub_config
from configs.state import Workspace
from configs.store import Change
from netops.access import AccessStatus, DeviceResult, DeviceSession, DeviceTarget, ParseError, SessionPool

# what devices print instead of a config when the command is wrong or not allowed
_NOT_A_CONFIG = re.compile(
    r"^\s*(% ?Invalid input|% ?Unknown command|Invalid input|Unknown command|"
    r"% ?Incomplete command|syntax error|unknown command|% ?Authorization failed)",
    re.IGNORECASE | re.MULTILINE,
)


def fetch_config(session: DeviceSession) -> str:
    """Pool task: the device's configuration, already scrubbed."""
    raw = session.show(platform_of(session.target.platform).config_command)
    if len(raw.strip().splitlines()) < 2 or _NOT_A_CONFIG.search(raw[:500]):
        first = raw.strip().splitlines()[0][:80] if raw.strip() else "empty output"
        raise ParseError(f"no configuration in the answer: {first!r}")
    return scrub_config(raw, session.target.secrets()).text


@dataclass(frozen=True)
class DeviceBackup:
    device: str
    status: AccessStatus
    change: Change | None
    error: str | None = None

    def as_dict(self) -> dict:
        return {"device": self.device, "status": str(self.status),
                "change": None if self.change is None else str(self.change), "error": self.error}


@dataclass
class BackupReport:
    devices: list[DeviceBackup] = field(default_factory=list)
    commit: str | None = None
    message: str = ""

    def count(self, change: Change) -> int:
        return sum(1 for d in self.devices if d.change == change)

    @property
    def failed(self) -> list[DeviceBackup]:
        return [d for d in self.devices if d.status != AccessStatus.OK]

    def as_dict(self) -> dict:
        return {
            "commit": self.commit,
            "summary": {"new": self.count(Change.NEW), "changed": self.count(Change.CHANGED),
                        "unchanged": self.count(Change.UNCHANGED), "failed": len(self.failed)},
            "devices": [d.as_dict() for d in self.devices],
        }


def run_backup(
    targets: list[DeviceTarget],
    pool: SessionPool,
    workspace: Workspace,
    unusable: list[DeviceResult] = (),
    on_result: Callable[[DeviceResult], None] | None = None,
) -> BackupReport:
    store = workspace.store()
    results = pool.run(targets, fetch_config, on_result) + list(unusable)
    report = BackupReport()
    for result in sorted(results, key=lambda r: r.device):
        change = store.write(result.device, result.value) if result.ok else None
        report.devices.append(DeviceBackup(result.device, result.status, change, result.error))
    report.message = commit_message(report, dt.datetime.now(dt.timezone.utc))
    report.commit = store.commit(report.message, [d.device for d in report.devices if d.change])
    _record(workspace, report)
    return report


def commit_message(report: BackupReport, when: dt.datetime) -> str:
    lines = [
        f"backup {when:%Y-%m-%dT%H:%M:%SZ}: {report.count(Change.CHANGED)} changed, "
        f"{report.count(Change.NEW)} new, {report.count(Change.UNCHANGED)} unchanged, "
        f"{len(report.failed)} failed",
        "",
    ]
    for change in (Change.CHANGED, Change.NEW):
        names = [d.device for d in report.devices if d.change == change]
        if names:
            lines.append(f"{change}: {', '.join(names)}")
    if report.failed:
        lines.append("failed: " + ", ".join(f"{d.device} ({d.status})" for d in report.failed))
    return "\n".join(lines).rstrip() + "\n"


def _record(workspace: Workspace, report: BackupReport) -> None:
    now = time.time()
    with workspace.update_state() as state:
        backups = state.setdefault("backup", {}).setdefault("devices", {})
        for d in report.devices:
            entry = backups.setdefault(d.device, {})
            entry["last_attempt"] = now
            entry["status"] = str(d.status)
            if d.status == AccessStatus.OK:
                entry["last_success"] = now
        state["backup"]["last_run"] = now
