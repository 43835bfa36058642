"""A config backup whose git step fails (a full disk, a lock another git left): one line,
exit 4, and the store as it was; the next run compares the devices' answers with what is
COMMITTED, so a file a failed run left in the work tree is never taken for a version
(it was reported "unchanged" and never committed: a change nobody would ever see).

The failure is made deterministic with ``.git/index.lock`` (what git leaves when it dies
mid-write): ``git add`` refuses to run while it is there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from configs.store import file_name
from tests.ssh.test_cli_and_leaks import cli_env  # noqa: F401

NETOPS = Path(sys.executable).with_name("netops")


def backup(cli_env, *devices: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **{k: v for k, v in cli_env.items() if k != "ADDR"}}
    args = [arg for device in devices for arg in ("--device", device)]
    return subprocess.run([str(NETOPS), "config", "backup", "--json", *args, "--address-map", cli_env["ADDR"]],
                          capture_output=True, text=True, env=env, timeout=120)


def changes(proc: subprocess.CompletedProcess) -> dict[str, str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {d["device"]: d["change"] for d in json.loads(proc.stdout)["devices"]}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=hand", "-c", "user.email=hand@localhost", *args],
                          capture_output=True, text=True, check=True).stdout


def test_a_failed_commit_leaves_the_store_as_it_was_and_the_next_run_commits(fleet, cli_env):
    repo = Path(cli_env["NETOPS_CONFIG_DIR"]) / "repo"
    assert changes(backup(cli_env, "s1-sw")) == {"s1-sw": "new"}
    # an older s1-sw committed, so this run's answer is a change the failed run must take back
    s1_answer = (repo / file_name("s1-sw")).read_text()
    (repo / file_name("s1-sw")).write_text(s1_answer.replace("hostname s1-sw", "hostname s1-old"))
    git(repo, "commit", "-qam", "an older s1-sw")
    s1_before = (repo / file_name("s1-sw")).read_bytes()
    head = git(repo, "rev-parse", "HEAD")

    (repo / ".git" / "index.lock").write_text("")
    failed = backup(cli_env, "s1-sw", "pop1-dist")
    lines = failed.stderr.strip().splitlines()
    assert failed.returncode == 4 and len(lines) == 1, failed.stderr
    assert "git add failed" in lines[0] and "index.lock" in lines[0], lines[0]
    assert failed.stdout == ""
    # all or nothing: the new device's file is gone again, the changed one back as committed
    # (run_backup alone puts them back: without it both would stay as this run wrote them), no commit
    assert not (repo / file_name("pop1-dist")).exists()
    assert (repo / file_name("s1-sw")).read_bytes() == s1_before
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""

    (repo / ".git" / "index.lock").unlink()
    assert changes(backup(cli_env, "s1-sw", "pop1-dist")) == {"s1-sw": "changed", "pop1-dist": "new"}
    assert git(repo, "log", "-1", "--format=%s").startswith("backup ")
    assert "hostname pop1-dist" in git(repo, "show", f"HEAD:{file_name('pop1-dist')}")
    assert git(repo, "status", "--porcelain") == ""


def test_a_file_left_in_the_work_tree_is_a_change_until_it_is_committed(fleet, cli_env):
    repo = Path(cli_env["NETOPS_CONFIG_DIR"]) / "repo"
    assert changes(backup(cli_env, "s1-sw")) == {"s1-sw": "new"}
    assert changes(backup(cli_env, "pop1-dist")) == {"pop1-dist": "new"}
    s1, pop1 = ((repo / file_name(d)).read_text() for d in ("s1-sw", "pop1-dist"))
    # the state a failed `git add` on a full disk left: the device's answer written, never committed
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # pop1-dist never committed...
    (repo / file_name("pop1-dist")).write_text(pop1)  # ...but its file is there
    # s1-sw: an older version committed, the device's current answer only in the work tree
    (repo / file_name("s1-sw")).write_text(s1.replace("hostname s1-sw", "hostname s1-old"))
    git(repo, "commit", "-qam", "an older s1-sw")
    (repo / file_name("s1-sw")).write_text(s1)

    run = backup(cli_env, "s1-sw", "pop1-dist")
    assert changes(run) == {"s1-sw": "changed", "pop1-dist": "new"}
    assert {d["device"]: d["changes"] for d in json.loads(run.stdout)["devices"]} == {
        "s1-sw": ["hostname"], "pop1-dist": []}
    assert git(repo, "show", f"HEAD:{file_name('s1-sw')}") == s1
    assert git(repo, "show", f"HEAD:{file_name('pop1-dist')}") == pop1
    assert git(repo, "status", "--porcelain") == ""
    # and now it is a version: unchanged from here on
    assert changes(backup(cli_env, "s1-sw", "pop1-dist")) == {"s1-sw": "unchanged", "pop1-dist": "unchanged"}
