"""Config backups on a read-only file system (the workspace on a tmpfs remounted read-only
in a private mount namespace, see tests/test_disk_full.py): one line, and the git store and
the run record are as they were. (A full disk is not here: whether a device's file is
written before `git add` fails depends on the pages left, so the test would not be
deterministic; see hunt-db2's report.)"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ssh.test_cli_and_leaks import cli_env  # noqa: F401
from tests.test_disk_full import on_small_disk, pytestmark  # noqa: F401

NETOPS = Path(sys.executable).with_name("netops")


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def test_a_backup_on_a_read_only_file_system_leaves_the_store_as_it_was(fleet, cli_env, tmp_path):
    env = {k: v for k, v in cli_env.items() if k != "ADDR"}
    first = subprocess.run([str(NETOPS), "config", "backup", "--device", "s1-sw", "--address-map", cli_env["ADDR"]],
                           capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
    assert first.returncode == 0, first.stderr
    workspace = Path(env["NETOPS_CONFIG_DIR"])
    before = tree(workspace)
    seen = on_small_disk(tmp_path, "read-only", {"ws": workspace},
                         [str(NETOPS), "config", "backup", "--device", "s1-sw", "--device", "s2-sw",
                          "--address-map", cli_env["ADDR"]], env={**env, "NETOPS_CONFIG_DIR": "DISK/ws"})
    lines = seen["stderr"].strip().splitlines()
    assert seen["rc"] == 2 and len(lines) == 1, seen["stderr"]
    assert str(tmp_path / "disk" / "ws") in lines[0] and "read-only file system" in lines[0], lines[0]
    assert {name[len("ws/"):]: digest for name, digest in seen["files"].items()} == before
