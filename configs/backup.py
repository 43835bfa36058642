"""`netops config backup`: fetch running configs, scrub them, commit them to git.

The raw config never leaves the worker that fetched it: :func:`fetch_config` scrubs it
before returning, so nothing downstream (store, audit, logs, output) can leak a secret.
Secrets become keyed fingerprints (``configs.scrub``), so a changed secret is a changed
line, and the commit message says per device which sections changed and which secrets
(``configs.changes``).

A config holding bytes that are not UTF-8 (a Latin-1 description on an old switch) is
stored byte for byte as the device sent it (secrets scrubbed all the same), and the run
warns once per device naming the first such byte, its offset and line in the stored file;
output shows such bytes as ``\\xNN``.

Backups written before fingerprints hold ``<removed>``; the first run after the change
commits them once as a format migration (each such line takes its new marker, nothing
else changes), and only then the run's real changes, so no secret shows as changed.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable

from configs import store as store_module
from configs.changes import describe, migrate_markers
from configs.platforms import platform_of
from configs.scrub import LEGACY_MARKER, Fingerprinter, scrub_config
from configs.state import Workspace
from configs.store import Change, GitConfigStore, config_bytes, config_text
from netops.access import (PAGER, AccessStatus, DeviceResult, DeviceSession, DeviceTarget, ParseError,
                           SessionPool, escaped, undecodable)

# what devices print instead of a config when the command is wrong or not allowed
# (IOS/ProCurve/Junos, NX-OS `% Invalid command at '^' marker`, Huawei/Comware
# `Error: Unrecognized command found at '^' position`)
_NOT_A_CONFIG = re.compile(
    r"^\s*(% ?Invalid (input|command)|% ?Unknown command|Invalid input|Unknown command|"
    r"% ?Incomplete command|syntax error|unknown command|% ?Authorization failed|Error: )"
    r"|at '\^' (marker|position)",
    re.IGNORECASE | re.MULTILINE,
)
# a pager prompt in the answer: the device paged (paging was not switched off), so what
# came back is not the whole config (IOS/NX-OS, ProCurve, Huawei/Comware, Junos)
_PAGER = re.compile(PAGER)


def fetch_config(session: DeviceSession, fingerprint: Fingerprinter | None = None) -> str:
    """Pool task: the device's configuration, already scrubbed (markers keyed by
    ``fingerprint``; without it, by a key that lives as long as the process)."""
    # (an answer with more than a few NUL bytes is a ParseError of the session, a few are removed:
    # netops.access.pool._stray_nuls; git would store a NUL as a binary file, no diff, no audit)
    raw = session.show(platform_of(session.target.platform).config_command)
    if len(raw.strip().splitlines()) < 2 or _NOT_A_CONFIG.search(raw[:500]):
        # the answer is quoted in the error, which reaches output and logs: scrubbed too (a
        # one-line answer may be a config line with a secret)
        said = [line for line in raw.strip().splitlines() if line.strip(" ^")] or ["empty output"]
        first = scrub_config(said[0], session.target.secrets(), fingerprint, session.target.platform).text.strip()[:80]
        raise ParseError(f"no configuration in the answer: {first!r}")
    if _PAGER.search(raw):
        raise ParseError("the answer holds a pager prompt (--More--): paging is not switched off for this "
                         "session, so the config is incomplete; not stored")
    return scrub_config(raw, session.target.secrets(), fingerprint, session.target.platform).text


@dataclass(frozen=True)
class DeviceBackup:
    device: str
    status: AccessStatus
    change: Change | None
    error: str | None = None
    changes: tuple[str, ...] = ()  # sections touched, secrets changed
    warning: str | None = None  # stored, but worth knowing (stray NUL bytes removed, bytes that are not UTF-8)

    def as_dict(self) -> dict:
        return {"device": self.device, "status": str(self.status),
                "change": None if self.change is None else str(self.change), "error": self.error,
                "warning": self.warning, "changes": list(self.changes)}


@dataclass
class BackupReport:
    devices: list[DeviceBackup] = field(default_factory=list)
    commit: str | None = None
    message: str = ""
    migration_commit: str | None = None  # the one-off `<removed>` -> fingerprint rewrite

    def count(self, change: Change) -> int:
        return sum(1 for d in self.devices if d.change == change)

    @property
    def failed(self) -> list[DeviceBackup]:
        return [d for d in self.devices if d.status != AccessStatus.OK]

    def as_dict(self) -> dict:
        return {
            "commit": self.commit,
            "migration_commit": self.migration_commit,
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
    *,
    fingerprint: Fingerprinter,
) -> BackupReport:
    """``fingerprint`` keys the secret markers (``netops.secrets.fingerprint_key``): the
    same key on every run, or every secret shows as changed."""
    store = workspace.store()
    fetched_now = pool.run(targets, partial(_fetch_for_backup, fingerprint=fingerprint), on_result)
    removed = {r.device: r.value[1] for r in fetched_now if r.ok}
    results = sorted([replace(r, value=r.value[0]) if r.ok else r for r in fetched_now] + list(unusable),
                     key=lambda r: r.device)
    report = BackupReport()
    fetched = [r for r in results if r.ok]
    try:
        committed = store.committed_bytes([r.device for r in fetched])  # one read per device for the run
        report.migration_commit = _migrate_legacy_markers(store, fetched, committed)
        for result in results:
            change, changes = None, ()
            if result.ok:
                change = store.write(result.device, result.value, committed[result.device])
                if change == Change.CHANGED:
                    before = config_text(committed[result.device])
                    changes = tuple(escaped(item) for item in describe(before, result.value))
            warnings = [removed.get(result.device), result.ok and not_utf8_warning(result.value) or None]
            report.devices.append(DeviceBackup(result.device, result.status, change, result.error, changes,
                                               "; ".join(w for w in warnings if w) or None))
        report.message = commit_message(report, dt.datetime.now(dt.timezone.utc))
        report.commit = store.commit(report.message, [d.device for d in report.devices if d.change])
    except BaseException:  # a file that cannot be written, git failing, Ctrl-C: all or nothing, here only
        store.restore([r.device for r in fetched])
        raise
    _record(workspace, report)
    return report


def _fetch_for_backup(session: DeviceSession, fingerprint: Fingerprinter) -> tuple[str, str | None]:
    """Pool task of a backup: the scrubbed config, and what was removed from the device's answer
    before it was read (stray NUL bytes), for the run's report."""
    config = fetch_config(session, fingerprint)
    if (size := len(config_bytes(config))) > store_module.STORED_CONFIG_MAX_BYTES:
        # a marker is longer than most secrets: an answer just under the store's limit can pass it, and a
        # file the store refuses to read back would be a backup no audit or diff can use (a live audit
        # stores nothing: its fetch_config has no such limit)
        raise ParseError(f"the scrubbed config is {size:,} bytes, more than the store reads back "
                         f"({store_module.STORED_CONFIG_MAX_BYTES:,} bytes at most); not stored")
    return config, None if session.stray_nuls is None else str(session.stray_nuls)


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
    for d in report.devices:
        if d.changes:
            lines += ["", f"{d.device}:"] + [f"  {item}" for item in d.changes]
    return "\n".join(lines).rstrip() + "\n"


def not_utf8_warning(config: str) -> str | None:
    """What an operator should know about a config holding bytes that are not UTF-8 (one
    line, the first such byte by offset and line in the stored file), or None."""
    if (first := undecodable(config)) is None:
        return None
    offset, line, byte = first
    count = sum(1 for char in config if "\udc80" <= char <= "\udcff")
    return (f"the config holds {count} byte{'s' if count > 1 else ''} that {'are' if count > 1 else 'is'} not UTF-8 "
            f"(first 0x{byte:02x} at byte offset {offset}, line {line} of the stored file): stored byte for byte "
            f"as the device sent it, shown as \\x{byte:02x}")


def _migrate_legacy_markers(store: GitConfigStore, fetched: list[DeviceResult],
                            committed: dict[str, bytes | None]) -> str | None:
    """Commit stored configs that still hold ``<removed>`` with the new markers on their
    unchanged lines: a commit of its own, before the run's, holding no config change.
    ``committed`` is updated to what this commit holds."""
    migrated = {}
    for result in fetched:
        old = None if committed[result.device] is None else config_text(committed[result.device])
        if old is not None and LEGACY_MARKER in old:
            text = migrate_markers(old, result.value)
            if store.write(result.device, text, committed[result.device]) != Change.UNCHANGED:
                migrated[result.device] = config_bytes(text)
    message = (f"format migration: secrets in {len(migrated)} configs now show as keyed fingerprints "
               f"instead of {LEGACY_MARKER} (no configuration changed)\n\n" + "\n".join(migrated) + "\n")
    commit = store.commit(message, list(migrated))
    committed.update(migrated)
    return commit


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
