"""The versioned config store: a git repository with one file per device and one commit
per backup run (Oxidized's layout).

Why the ``git`` binary and not a library such as dulwich: the store is meant to be
read with the tools engineers already use (``git log -p``, ``tig``, a Gitea mirror), so
it must be exactly what git writes; ``git`` is one Debian package, already present on
every machine that runs netops, and its ``--since``/``--before`` date parsing and diff
output are what users expect. We only ever run a handful of plumbing commands, in a
hermetic environment (no user or system git config, no hooks, no signing).

The store only ever receives scrubbed text (see ``configs.scrub``). A config is stored
byte for byte as the device sent it: a byte that is not UTF-8 (a description typed on a
Latin-1 terminal) travels through netops as a surrogate (Python's "surrogateescape", see
``netops.access.undecodable``) and is written back as the same byte, as Oxidized keeps it.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import EllipsisType
from urllib.parse import quote, unquote

from configs.changes import describe
from netops.errors import ConfigError, NetopsError, NotFoundError

SUFFIX = ".cfg"
#: the largest file the store reads as a device's config (the largest real configs are a few MB); the
#: same size as netops.access.pool.ANSWER_MAX_BYTES, the most one device answer may hold
STORED_CONFIG_MAX_BYTES = 64 * 2**20


def config_bytes(text: str) -> bytes:
    """A config as stored: UTF-8, each byte that was not UTF-8 on the device as that byte."""
    return text.encode("utf-8", "surrogateescape")


def config_text(data: bytes) -> str:
    """A stored config as text; never fails (:func:`config_bytes` gives the same bytes back)."""
    return data.decode("utf-8", "surrogateescape")


class UnreadableBackup(NetopsError):
    """A device's file in the store is there but is no config netops can read (a FIFO, a
    directory, an oversize or unreadable file): that device's problem, not the run's."""


class Change(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Revision:
    commit: str
    date: str  # ISO 8601
    subject: str


@dataclass(frozen=True)
class ConfigDiff:
    device: str
    from_commit: str | None  # None: the device's first version
    to_commit: str
    diff: str
    changes: list[str]  # sections touched and secrets changed (configs.changes.describe)


def file_name(device: str) -> str:
    # device names may contain "/" and "." (inventory CODE_PATTERN): keep one flat file each
    return quote(device, safe="") + SUFFIX


class GitConfigStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    # -- plumbing -------------------------------------------------------------------
    def _git(self, *args: str, check: bool = True) -> str:
        # (a byte that is not UTF-8 is shown as \xNN: diffs and the text describe() reads)
        return self._run(args, check, {"encoding": "utf-8", "errors": "backslashreplace"}).stdout

    def _run(self, args: tuple[str, ...], check: bool, text: dict | None = None,
             stdin: bytes | None = None) -> subprocess.CompletedProcess:
        """``git args`` in the store; bytes out unless ``text`` gives the decoding."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "netops",
            "GIT_AUTHOR_EMAIL": "netops@localhost",
            "GIT_COMMITTER_NAME": "netops",
            "GIT_COMMITTER_EMAIL": "netops@localhost",
            "LC_ALL": "C",
            "TZ": "UTC",
        }
        try:
            proc = subprocess.run(
                ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false",
                 "-c", "core.quotepath=off", *args],
                cwd=self.root, env=env, capture_output=True, check=False, input=stdin, **(text or {}),
            )
        except FileNotFoundError:
            raise ConfigError("the `git` program is needed for the config store (apt-get install git)") from None
        if check and proc.returncode != 0:
            stderr = proc.stderr if text else proc.stderr.decode("utf-8", "backslashreplace")
            raise ConfigError(f"git {args[0]} failed in {self.root}: {stderr.strip()}")
        return proc

    def ensure(self) -> "GitConfigStore":
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / ".git").exists():
            self._git("init", "-q", "-b", "main")
        return self

    def _has_commits(self) -> bool:
        return bool(self._git("rev-list", "-n", "1", "--all").strip())

    # -- writing --------------------------------------------------------------------
    def write(self, device: str, text: str, committed: bytes | None | EllipsisType = ...) -> Change:
        """Put the device's config in the work tree. The change is judged against the last
        commit, not the work tree: a file a failed run left there was never a version.
        ``committed``: the device's bytes in the last commit as :meth:`committed_bytes` read
        them for the whole run (None: none); left out, read here."""
        data = config_bytes(text)
        path = self.root / file_name(device)
        # a FIFO or a device there is replaced, not read (a read would wait forever), and a
        # file of another size differs without reading it
        if not path.is_file() or path.stat().st_size != len(data) or path.read_bytes() != data:
            tmp = path.with_suffix(".tmp")
            try:
                tmp.write_bytes(data)
                tmp.replace(path)
            except OSError as exc:  # named as the user knows it (a directory there, a full disk), not as .tmp
                tmp.unlink(missing_ok=True)
                raise NetopsError(f"{path}: cannot write the backup of {device!r}: {exc.strerror}") from None
        if committed is ...:
            committed = self.committed_bytes([device])[device]
        if committed is None:
            return Change.NEW
        return Change.UNCHANGED if committed == data else Change.CHANGED

    def commit(self, message: str, devices: list[str]) -> str | None:
        """Commit the given devices' files; None when nothing changed. When git fails, the
        error goes up and the files stay as they are: putting them back is the caller's
        (:meth:`restore`), which knows every file of its run (``configs.backup.run_backup``)."""
        if not devices:
            return None
        self._git("add", "--", *(file_name(d) for d in devices))
        if not self._git("diff", "--cached", "--name-only").strip():
            return None
        self._git("commit", "-q", "-m", message)
        return self._git("rev-parse", "HEAD").strip()

    def restore(self, devices: list[str]) -> None:
        """Put the devices' files back as the last commit holds them (a new one is removed).
        Best effort: it runs while another error is on its way to the user (a full or
        read-only disk may refuse this too), and what is left is never taken for a version."""
        self._run(("reset", "-q", "--", *(file_name(d) for d in devices)), check=False)  # unstage
        try:
            committed = self.committed_bytes(devices)
        except ConfigError:  # git cannot read the last commit either: leave the files, never delete one
            return
        for device in devices:
            path = self.root / file_name(device)
            try:
                path.with_suffix(".tmp").unlink(missing_ok=True)
                if committed[device] is None:
                    path.unlink(missing_ok=True)
                elif not path.exists() or path.read_bytes() != committed[device]:
                    path.write_bytes(committed[device])
            except OSError:
                pass

    def committed_bytes(self, devices: list[str]) -> dict[str, bytes | None]:
        """Each device's file in the last commit (None: not there, or no commit yet), all read
        by one ``git cat-file --batch``: a run reads each device once, not once per question."""
        if not devices:
            return {}
        names = [file_name(d) for d in devices]
        out = self._run(("cat-file", "--batch"), check=True,
                        stdin="".join(f"HEAD:{name}\n" for name in names).encode()).stdout
        found: dict[str, bytes | None] = {}
        at = 0
        for device in devices:  # "<oid> blob <size>\n<bytes>\n" or "HEAD:<name> missing\n"
            header_end = out.index(b"\n", at)
            header = out[at:header_end].split()
            if header[-1] == b"missing":
                found[device], at = None, header_end + 1
            else:
                size = int(header[2])
                found[device], at = out[header_end + 1: header_end + 1 + size], header_end + 1 + size + 1
        return found

    # -- reading --------------------------------------------------------------------
    def devices(self) -> list[str]:
        return sorted(unquote(p.name[: -len(SUFFIX)]) for p in self.root.glob("*" + SUFFIX))

    def read(self, device: str) -> str:
        text = self.current(device)
        if text is None:
            raise NotFoundError(f"no backup of device {device!r} in {self.root}")
        return text

    def current(self, device: str) -> str | None:
        """The device's file in the work tree (what `config audit --from-store` reads)."""
        path = self.root / file_name(device)
        # what another tool (or a mistake) put there: a FIFO would make the read wait forever,
        # a 2 GB sparse file would fill the memory
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise UnreadableBackup(f"{path}: not a regular file; the store holds one config file per device")
            if info.st_size > STORED_CONFIG_MAX_BYTES:
                raise UnreadableBackup(f"{path}: {info.st_size:,} bytes, larger than any device config "
                                       f"({STORED_CONFIG_MAX_BYTES // 2**20} MiB at most)")
            return config_text(path.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as exc:  # no permission, an I/O error, a symlink loop
            raise UnreadableBackup(f"{path}: cannot read: {exc.strerror}") from None

    def history(self, device: str) -> list[Revision]:
        if not self._has_commits():
            return []
        out = self._git("log", "--format=%H%x09%cI%x09%s", "--", file_name(device))
        return [Revision(*line.split("\t", 2)) for line in out.splitlines() if line]

    def diff(self, device: str, since: str | None = None) -> ConfigDiff:
        """Changes of one device: since its version at ``since`` (any date git parses),
        or else between its last two versions."""
        history = self.history(device)
        if not history:
            raise NotFoundError(f"no backup of device {device!r} in {self.root}")
        head = history[0].commit
        if since is not None:
            base = self._git("rev-list", "-n", "1", f"--before={since}", "HEAD", "--",
                             file_name(device)).strip() or None
        else:
            base = history[1].commit if len(history) > 1 else None
        # no base: the device's first version, shown as a diff from nothing
        text = self._git("diff", "--no-color", base or self._empty_tree(), head, "--", file_name(device))
        old = self._git("show", f"{base}:{file_name(device)}") if base else None
        changes = describe(old, self._git("show", f"{head}:{file_name(device)}")) if text else []
        return ConfigDiff(device, base, head, text, changes)

    def _empty_tree(self) -> str:
        return self._git("hash-object", "-t", "tree", os.devnull).strip()
